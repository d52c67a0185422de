"""A fake slippy-map tile server (`GET /{z}/{x}/{y}.png`) on 127.0.0.1: pale tiles with a grid."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from fastapi import FastAPI, Response
from PIL import Image, ImageDraw


@dataclass
class FakeTiles:
    requests: list[tuple[int, int, int]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/{z}/{x}/{y}.png")
        def tile(z: int, x: int, y: int) -> Response:
            self.requests.append((z, x, y))
            image = Image.new("RGB", (256, 256), (226, 236, 240) if (x + y) % 2 else (232, 240, 230))
            draw = ImageDraw.Draw(image)
            draw.rectangle((0, 0, 255, 255), outline=(200, 210, 215))
            draw.text((8, 8), f"{z}/{x}/{y}", fill=(150, 160, 170))
            out = io.BytesIO()
            image.save(out, "PNG")
            # as tile.openstreetmap.org does: the map library loads tiles as CORS images
            return Response(out.getvalue(), media_type="image/png", headers={"Access-Control-Allow-Origin": "*"})

        return app
