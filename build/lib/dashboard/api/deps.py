"""FastAPI dependencies: the engine instance the server opened at start."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from engine.app import PhotoIndex


def get_engine(request: Request) -> PhotoIndex:
    return request.app.state.engine


Engine = Annotated[PhotoIndex, Depends(get_engine)]
