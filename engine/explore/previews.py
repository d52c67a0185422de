"""Small previews for notebook outputs: thumbnails as data URIs and an escaped HTML strip of them."""
from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable

from PIL import Image


def data_uri(jpeg: bytes, max_side: int = 96, quality: int = 70) -> str:
    """A JPEG rendition shrunk to `max_side` px, as a `data:` URI (a few kB, so outputs stay small)."""
    with Image.open(io.BytesIO(jpeg)) as image:
        image = image.convert("RGB")
        image.thumbnail((max_side, max_side))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def strip(items: Iterable[tuple[str | None, str]], height: int = 96) -> str:
    """HTML for a row of (data URI, caption) figures; captions are escaped (they carry file names).
    A missing picture (None) shows its caption alone."""
    figures = []
    for uri, caption in items:
        picture = f'<img src="{uri}" style="height:{height}px">' if uri else ""
        figures.append(f'<figure style="display:inline-block;margin:4px;text-align:center;vertical-align:top">'
                       f'{picture}<figcaption style="font-size:11px;max-width:{2 * height}px">'
                       f"{html.escape(caption).replace(chr(10), '<br>')}</figcaption></figure>")
    return "<div>" + "".join(figures) + "</div>"
