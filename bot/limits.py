"""Telegram's limits, which a reply must keep to or it is refused as a whole."""
from __future__ import annotations

MAX_MESSAGE = 4096
MAX_CAPTION = 1024
"""Characters of a message and of a photo's caption, counted in UTF-16 code units."""
MAX_DOWNLOAD = 20 * 1024 * 1024
"""The largest file a bot may fetch with getFile."""
MAX_UPLOAD = 50 * 1024 * 1024
"""The largest file a bot may send."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """`text`, cut to `limit` UTF-16 code units with an ellipsis when it is longer."""
    if utf16_len(text) <= limit:
        return text
    out, used = [], 1  # room for the ellipsis
    for ch in text:
        size = utf16_len(ch)
        if used + size > limit:
            break
        out.append(ch)
        used += size
    return "".join(out) + "…"
