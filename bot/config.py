"""The bot's settings (environment / .env): it needs only the REST API, never the engine."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BotSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    telegram_bot_token: str = Field("", description="From @BotFather.")
    telegram_allowed_users: str = Field("", description="Comma-separated Telegram user ids; nobody else is answered.")
    telegram_allowed_chats: str = Field("", description="Comma-separated group chat ids the bot answers in; "
                                                        "empty = private chats only.")
    telegram_base_url: str | None = Field(None, description="Bot API server (default Telegram's); e.g. a local one.")
    photoindex_api_url: str = Field("http://127.0.0.1:8000", description="The photo search REST API.")
    photoindex_api_token: str | None = Field(None, description="API_TOKEN of the server, when it has one.")
    photoindex_api_token_file: Path | None = Field(
        None, description="A file holding the token instead (the server's DATA_DIR/api_token, e.g. in docker compose).")
    bot_top_k: int = Field(6, ge=1, le=10, description="Photos per page (then a \"more\" button).")
    bot_multi_model: bool = Field(False, description="Fuse every indexed model for text search.")
    bot_translate: bool | None = Field(
        None, description="Translate queries to English; empty = the server decides (on when it has TRANSLATE_API_KEY).")
    bot_near_km: float = Field(5.0, gt=0, le=20_000, description="A location finds the photos taken this close to it.")
    bot_concurrent_updates: int = Field(64, ge=1, le=1024, description="Updates handled at once, one chat's in "
                                                                     "order: a slow search holds up no other chat.")
    bot_flood_retries: int = Field(5, ge=0, le=50, description="Sends retried after Telegram's 429 'retry after'.")
    interface_language: str = Field("auto", description="auto | en | ru: auto answers in each user's Telegram "
                                                        "language (Russian or English).")
    api_timeout_s: float = 60.0

    @property
    def api_token(self) -> str | None:
        if self.photoindex_api_token:
            return self.photoindex_api_token
        if self.photoindex_api_token_file and self.photoindex_api_token_file.is_file():
            return self.photoindex_api_token_file.read_text(encoding="utf-8").strip() or None
        return None

    @property
    def allowed_ids(self) -> set[int]:
        return _ids(self.telegram_allowed_users)

    @property
    def allowed_chat_ids(self) -> set[int]:
        return _ids(self.telegram_allowed_chats)


def _ids(text: str) -> set[int]:
    return {int(x) for x in text.replace(";", ",").split(",") if x.strip().lstrip("-").isdigit()}
