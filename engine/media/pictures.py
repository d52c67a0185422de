"""Pictures from outside the library (an upload to search by, a face to look for): decoded at the
model's input size, under a pixel cap of their own, a few at a time.

A 560 KB PNG can hold 16000x12000 pixels (a decompression bomb): decoded at full size and converted
it costs gigabytes, and several at once take the server down. Here a JPEG or HEIC is decoded
DCT-scaled or from its thumbnail (any size passes), other formats only up to UPLOAD_MAX_PIXELS
decoded pixels and are then shrunk before their colour conversion, and the decodes run on a pool of
UPLOAD_DECODE_CONCURRENCY threads; the others wait their turn. A pool of its own, not a limit on
the server's many worker threads, because each thread that decodes keeps a malloc arena that holds
on to its last picture's memory: ten uploads decoded two at a time by ten threads cost ten arenas.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from engine.media.decode import DEFAULT_MAX_PIXELS, load_image


class PictureDecoder:
    def __init__(self, max_pixels: int = 40_000_000, concurrency: int = 2,
                 header_max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.max_pixels = max_pixels
        self.header_max_pixels = header_max_pixels
        self._pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="picture-decode")

    def decode(self, data: bytes, fmt: str, min_side: int) -> Image.Image:
        """An oriented RGB image whose short side is about `min_side` (at least that, when the picture has it)."""
        return self._pool.submit(load_image, data, fmt, min_side=min_side, max_pixels=self.header_max_pixels,
                                 decoded_cap=self.max_pixels).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
