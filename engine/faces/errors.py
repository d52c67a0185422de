"""Errors of the faces layer; the transport turns them into HTTP answers."""
from __future__ import annotations

from engine.errors import Invalid, NotFound, PhotoIndexError


class FaceError(PhotoIndexError):
    """Base class: every face/person error a client can cause or needs to see."""


class FaceNotFound(FaceError, NotFound):
    pass


class PersonNotFound(FaceError, NotFound):
    pass


class SuggestionNotFound(FaceError, NotFound):
    pass


class NoFaceFound(FaceError, Invalid):
    """A picture given to search by has no face (or not the one asked for)."""


class InvalidRequest(FaceError, Invalid):
    pass
