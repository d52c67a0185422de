"""The error vocabulary of the engine: one base class and the few kinds a caller acts on.

Every error a user can cause or needs to see derives from `PhotoIndexError` through one kind;
its message is one sentence that names what to do. The REST layer maps kinds to HTTP statuses
in one place, and the CLI and the dashboard catch the base class only.
"""
from __future__ import annotations


class PhotoIndexError(Exception):
    """Base class; `str(exc)` is the sentence shown to the user."""


class NotFound(PhotoIndexError, LookupError):
    """A photo, person, album, face or file that does not exist (HTTP 404)."""


class Conflict(PhotoIndexError):
    """The request clashes with the current state (HTTP 409)."""


class Invalid(PhotoIndexError, ValueError):
    """The request itself is wrong (HTTP 422)."""


class UnknownName(Invalid):
    """The request names a model, stage or method the product does not have (HTTP 400)."""


class Unavailable(PhotoIndexError, RuntimeError):
    """Something the request needs is missing or down: a model, the database, the library (HTTP 503)."""


class Forbidden(PhotoIndexError, PermissionError):
    """The request would reach outside what may be touched (HTTP 403)."""
