"""Pictures from outside the library (an upload to search by, a face to look for): decoded at the
model's input size, under a pixel cap of their own, a few at a time.

A 560 KB PNG can hold 16000x12000 pixels (a decompression bomb): decoded at full size and converted
it costs gigabytes, and several at once take the server down. Here a JPEG or HEIC is decoded
DCT-scaled or from its thumbnail (any size passes), other formats only up to UPLOAD_MAX_PIXELS
decoded pixels and are then shrunk before their colour conversion, and at most
UPLOAD_DECODE_CONCURRENCY decodes run at once; the others wait their turn.
"""
from __future__ import annotations

import threading

from PIL import Image

from engine.media.decode import DEFAULT_MAX_PIXELS, load_image


class PictureDecoder:
    def __init__(self, max_pixels: int = 40_000_000, concurrency: int = 2,
                 header_max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.max_pixels = max_pixels
        self.header_max_pixels = header_max_pixels
        self._slots = threading.BoundedSemaphore(max(1, concurrency))

    def decode(self, data: bytes, fmt: str, min_side: int) -> Image.Image:
        """An oriented RGB image whose short side is about `min_side` (at least that, when the picture has it)."""
        with self._slots:
            return load_image(data, fmt, min_side=min_side, max_pixels=self.header_max_pixels,
                              decoded_cap=self.max_pixels)
