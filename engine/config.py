"""One settings class for the whole product, read from the environment and `.env`.

Names follow the original project (`DATABASE_URL`, `PHOTOS_DIR`, `CLIP_MODEL`, ...). Every
path has a default under `DATA_DIR` so a fresh clone runs with no `.env` at all.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engine.models.registry import DEFAULT_MODEL

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_PHOTOS_DIR = PACKAGE_DIR / "sample"


class Settings(BaseSettings):
    # An empty value (`DASK_DECODE_WORKERS=`, `TRASH_DIR=` in a copied .env.example) means the default.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True,
                                      populate_by_name=True)

    data_dir: Path = Field(Path("data"), description="Root for the embedded database, caches and models.")
    database_url: str | None = Field(None, description="External PostgreSQL 15+ with pgvector; empty = embedded server.")
    photos_dir: Path = Field(SAMPLE_PHOTOS_DIR, description="The photo library root.")
    trash_dir: Path | None = None
    thumb_cache_dir: Path | None = None
    models_dir: Path | None = Field(None, description="Folder holding model folders; default DATA_DIR/models.")
    model_paths: dict[str, Path] = Field(default_factory=dict, description='Per-model folders, e.g. {"SigLIP": "/m/siglip"}.')
    models_file: Path | None = Field(None, description="Image-text model entries added to the built-in ones "
                                     "([[models]] tables, docs/models.md); default DATA_DIR/models.toml, read when it exists.")
    model_registry: Annotated[str | list[Any] | dict[str, Any] | None, NoDecode] = Field(
        None, description='More model entries as JSON, e.g. [{"name": "SigLIP2-B", "hf_id": "google/siglip2-base-patch16-256", '
                          '"loader": "siglip", "dim": 768, "multilingual": true}]; they win over MODELS_FILE\'s.')

    clip_model: str = Field(DEFAULT_MODEL, description="The image-text model new photos are indexed with and "
                            "search uses once the library is indexed with it.")
    clip_device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    clip_runtime: str = Field("auto", description="auto | torch | onnx | onnx-int8 | onnx-int8-static; onnx ones run on the CPU.")
    clip_batch_size: int = Field(32, validation_alias=AliasChoices("clip_batch_size", "batch_size_clip"),
                                 description="Photos per image-text model batch (the original's BATCH_SIZE_CLIP works too).")

    dask_scheduler_address: str | None = Field(None, description="Use a running Dask cluster instead of a LocalCluster.")
    dask_decode_workers: int | None = Field(None, description="Local decode worker processes; default = CPU count.")
    dask_decode_memory_limit: str = Field("auto", description='Per decode worker, e.g. "2GB"; a file that needs more restarts its worker and is flagged.')
    decode_batch_size: int = 16
    decode_timeout_s: float = 120.0
    max_image_pixels: int = 200_000_000
    offline_max_share: float = Field(0.25, ge=0, description="A scan that would take more than this share of the "
                                     "library (and more than 10 photos) offline at once stops and changes nothing.")
    offline_grace_days: float = Field(0, ge=0, description="Photos offline (file gone) for longer than this are "
                                      "removed from the index; 0 = never, only on request (CLI, REST, Admin).")
    upload_max_pixels: int = Field(40_000_000, description="Pictures to search by (uploads, the bot): most pixels "
                                   "decoded; JPEG and HEIC decode smaller, so any size of those passes.")
    upload_decode_concurrency: int = Field(2, ge=1, description="Pictures to search by decoded at once; more wait.")

    face_model: str = Field("buffalo_l", description="InsightFace model pack name (buffalo_l, buffalo_s, ...).")
    face_model_dir: Path | None = Field(None, description="A folder holding the pack's ONNX files; overrides FACE_MODEL.")
    face_model_download: bool = Field(True, description="Download FACE_MODEL when it is nowhere on disk (tried at most once a day).")
    face_model_url: str = Field(
        "https://github.com/deepinsight/insightface/releases/download/model-zoo/{name}.zip",
        description="Where face packs are downloaded from; {name} is the pack.")
    face_device: str = Field("auto", description="auto | cpu | cuda | cuda:N (onnxruntime execution provider)")
    face_det_size: int = Field(640, description="Detector input side; HD mode uses face_det_size_hd.")
    face_det_size_hd: int = 1280
    face_det_threshold: float = 0.5
    face_min_size: int = Field(20, description="Smaller faces (short side, original pixels) are dropped.")
    face_batch_size: int = Field(16, validation_alias=AliasChoices("face_batch_size", "batch_size_face"),
                                 description="Photos per face-model batch (BATCH_SIZE_FACE works too).")
    face_assign_threshold: float = Field(0.5, description="Default cosine similarity for auto-assigning faces.")
    face_cluster_similarity: float = Field(0.5, description="Faces at least this similar may share a suggested person.")
    face_cluster_min_faces: int = Field(2, description="Faces (from this many different photos) a suggested person needs.")
    duplicate_review_size: int = Field(12, description="A duplicate group larger than this is flagged for review, never auto-deleted.")

    interface_language: str = Field("auto", description="auto | en | ru: the language of the dashboard, the bot and "
                                    "the CLI; auto follows the browser, Telegram's language or the system locale.")

    host: str = "127.0.0.1"
    port: int = 8000
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "::1"],
        description="Host names the server answers to (comma-separated), besides HOST and IP addresses; "
                    "a guard against DNS rebinding. Add the name you open it by, e.g. photos.home.lan.")
    index_on_start: bool = True
    api_token: str | None = Field(None, description="Required (Bearer / X-API-Token) for data and images. Empty with a HOST off loopback: `photoindex serve` makes one in DATA_DIR/api_token.")
    thumb_memory_cache_mb: int = Field(128, description="Memory LRU of rendered thumbnails, in front of THUMB_CACHE_DIR.")
    map_tiles_url: str = Field(
        "https://tile.openstreetmap.org/{Z}/{X}/{Y}.png",
        description="The map's tile URL template, fetched by the browser; empty = no tiles (the points draw on a blank map).")
    map_tiles_attribution: str = "© OpenStreetMap contributors"
    queue_empty_command: list[str] | None = Field(None, description='argv run when the job queue empties and the flag is on, e.g. ["systemctl", "poweroff"].')

    telegram_bot_token: str | None = None
    telegram_allowed_users: str | None = None
    telegram_allowed_chats: str | None = Field(None, description="Group chat ids the bot answers in; empty = private chats only.")
    gemini_api_key: str | None = None
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = Field(None, description="Override the Gemini API endpoint (a proxy, a test server).")
    gemini_timeout_s: float = Field(20.0, description="Past this the assistant answers with the offline parser.")
    translate_api_key: str | None = Field(None, description="Google Cloud Translation API key; empty = queries are never translated.")
    translate_base_url: str | None = Field(None, description="Override the Translation API endpoint.")
    translate_timeout_s: float = Field(3.0, description="Past this the original query is used.")
    rrf_k: float = Field(60.0, gt=0, description="Reciprocal Rank Fusion constant for multi-model search.")
    rrf_weights: dict[str, float] = Field(default_factory=dict, description='Per-model RRF weights, e.g. {"SigLIP": 2}; default 1.')

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [v.strip() for v in text.split(",") if v.strip()]
        return value

    @field_validator("database_url", "dask_scheduler_address", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def resolved_models_file(self) -> Path:
        return self.models_file or self.data_dir / "models.toml"

    @property
    def resolved_trash_dir(self) -> Path:
        return self.trash_dir or self.data_dir / "trash"

    @property
    def resolved_thumb_cache_dir(self) -> Path:
        return self.thumb_cache_dir or self.data_dir / "thumbs"

    @property
    def embedded_db_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def api_token_file(self) -> Path:
        """Where `serve` keeps the token it generated for a server reachable from the network."""
        return self.data_dir / "api_token"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
