"""Generate the bundled sample library (engine/sample/): synthetic, photo-like scenes.

Deterministic (fixed seeds, numpy + Pillow only) so re-running rewrites identical files.
Some files carry EXIF (date taken, camera, GPS in different cities), one is stored rotated
with EXIF orientation 6, and a few live in the `trips/` subfolder.

    python scripts/make_sample_library.py [--out engine/sample]
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageDraw, ImageFilter, TiffImagePlugin

OUT = Path(__file__).resolve().parents[1] / "engine" / "sample"
W, H = 1024, 768

Array = np.ndarray


def vertical_gradient(height: int, width: int, stops: list[tuple[float, tuple[int, int, int]]]) -> Array:
    ys = np.linspace(0.0, 1.0, height)
    positions = [p for p, _ in stops]
    channels = [np.interp(ys, positions, [c[i] for _, c in stops]) for i in range(3)]
    column = np.stack(channels, axis=-1)
    return np.repeat(column[:, None, :], width, axis=1).astype(np.float32)


def smooth_noise(rng: np.random.Generator, height: int, width: int, scale: int) -> Array:
    """Value noise in [0, 1] with features about `scale` px wide."""
    small = rng.random((height // scale + 2, width // scale + 2)).astype(np.float32)
    image = Image.fromarray((small * 255).astype(np.uint8), "L").resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(scale / 3)), np.float32) / 255.0


def fractal_ridge(rng: np.random.Generator, width: int, base: float, roughness: float) -> Array:
    points = np.array([base, base], np.float32)
    amplitude = roughness
    while len(points) < width:
        mids = (points[:-1] + points[1:]) / 2 + rng.normal(0, amplitude, len(points) - 1)
        merged = np.empty(len(points) * 2 - 1, np.float32)
        merged[0::2], merged[1::2] = points, mids
        points, amplitude = merged, amplitude * 0.55
    return np.interp(np.linspace(0, len(points) - 1, width), np.arange(len(points)), points)


def grain(rng: np.random.Generator, img: Array, amount: float = 3.0) -> Array:
    return img + rng.normal(0, amount, img.shape).astype(np.float32)


def to_image(img: Array) -> Image.Image:
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def sunset_sea(rng: np.random.Generator) -> Image.Image:
    horizon = int(H * 0.58)
    sky = vertical_gradient(horizon, W, [(0, (70, 40, 110)), (0.55, (230, 110, 70)), (1, (255, 190, 90))])
    sea = vertical_gradient(H - horizon, W, [(0, (150, 80, 70)), (1, (25, 30, 60))])
    img = np.concatenate([sky, sea], axis=0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    sun_x, sun_y, radius = W * 0.55, horizon - 40, 55
    dist = np.hypot(xx - sun_x, yy - sun_y)
    glow = np.exp(-dist / 160.0)[..., None] * np.array([90, 60, 10], np.float32)
    img[:horizon] += glow[:horizon]
    img[dist < radius] = (255, 225, 150)
    waves = smooth_noise(rng, H - horizon, W, 6)
    path = np.exp(-((xx[horizon:] - sun_x) / (60 + (yy[horizon:] - horizon) * 0.6)) ** 2)
    img[horizon:] += (path * (waves > 0.55))[..., None] * np.array([160, 110, 50], np.float32)
    img[horizon:] += (waves[..., None] - 0.5) * 30
    return to_image(grain(rng, img))


def green_forest(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (170, 200, 150)), (0.5, (60, 100, 50)), (1, (30, 50, 25))])
    canvas = to_image(img)
    draw = ImageDraw.Draw(canvas)
    for layer, (shade, count) in enumerate([((70, 110, 60), 18), ((40, 85, 40), 16), ((20, 60, 25), 12)]):
        for _ in range(count):
            x = int(rng.integers(-40, W + 40))
            base = int(H * (0.62 + 0.12 * layer + rng.random() * 0.05))
            tree_h = int(260 + 160 * layer + rng.integers(0, 120))
            half = int(tree_h * 0.22)
            draw.rectangle([x - 6 - 3 * layer, base - 40, x + 6 + 3 * layer, base + 30], fill=(60, 40, 25))
            for tier in range(4):
                top = base - tree_h + tier * tree_h // 5
                width = half * (tier + 2) // 4
                color = tuple(int(c + rng.integers(-8, 9)) for c in shade)
                draw.polygon([(x, top), (x - width, top + tree_h // 3), (x + width, top + tree_h // 3)], fill=color)
    out = np.asarray(canvas, np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    rays = np.clip(np.sin((xx - yy * 0.45) / 38.0), 0, 1) ** 8 * np.clip(1 - yy / H, 0, 1)
    out += rays[..., None] * np.array([60, 60, 30], np.float32)
    out += (smooth_noise(rng, H, W, 4)[..., None] - 0.5) * 40
    return to_image(grain(rng, out)).filter(ImageFilter.GaussianBlur(0.6))


def snowy_mountain(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (60, 110, 190)), (0.6, (170, 205, 235)), (1, (235, 240, 250))])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    for base, rough, color, snow in [(0.42, 90, (120, 125, 140), 0.12), (0.55, 60, (80, 90, 105), 0.08)]:
        ridge = fractal_ridge(rng, W, H * base, rough)
        mask = yy >= ridge[None, :]
        shade = (smooth_noise(rng, H, W, 12) - 0.5) * 50
        rock = np.array(color, np.float32) + shade[..., None]
        snow_line = ridge[None, :] + H * snow + smooth_noise(rng, H, W, 20) * 40
        snowy = mask & (yy < snow_line)
        img[mask] = rock[mask]
        img[snowy] = (np.array([238, 242, 250], np.float32) + shade[..., None] * 0.3)[snowy]
    ground = yy > H * 0.82
    img[ground] = (np.array([240, 244, 250], np.float32) + (smooth_noise(rng, H, W, 8)[..., None] - 0.5) * 20)[ground]
    return to_image(grain(rng, img, 2.0))


def red_car(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (150, 180, 210)), (0.55, (200, 205, 210)), (0.56, (90, 90, 95)), (1, (60, 60, 65))])
    canvas = to_image(img)
    draw = ImageDraw.Draw(canvas)
    for i in range(7):
        x0 = i * 150 - 20
        top = int(120 + rng.integers(0, 140))
        shade = int(rng.integers(150, 210))
        draw.rectangle([x0, top, x0 + 140, int(H * 0.56)], fill=(shade, shade - 10, shade - 25))
        for wy in range(top + 20, int(H * 0.52), 36):
            for wx in range(x0 + 15, x0 + 130, 30):
                draw.rectangle([wx, wy, wx + 14, wy + 20], fill=(90, 110, 140))
    for x in range(0, W, 120):
        draw.rectangle([x, int(H * 0.8), x + 60, int(H * 0.81)], fill=(230, 230, 220))
    body = [(220, 560), (260, 470), (380, 460), (450, 380), (650, 375), (740, 455), (830, 470), (860, 560)]
    draw.polygon(body, fill=(200, 20, 25))
    draw.polygon([(470, 392), (560, 388), (560, 455), (420, 460)], fill=(120, 160, 200))
    draw.polygon([(575, 388), (640, 388), (710, 455), (575, 455)], fill=(120, 160, 200))
    for cx in (340, 740):
        draw.ellipse([cx - 55, 505, cx + 55, 615], fill=(20, 20, 20))
        draw.ellipse([cx - 25, 535, cx + 25, 585], fill=(170, 170, 175))
    draw.rectangle([835, 490, 858, 510], fill=(255, 230, 150))
    out = np.asarray(canvas.filter(ImageFilter.GaussianBlur(1.2)), np.float32)
    return to_image(grain(rng, out))


def blue_sky_clouds(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (40, 100, 200)), (1, (150, 200, 245))])
    clouds = smooth_noise(rng, H, W, 80) * 0.6 + smooth_noise(rng, H, W, 25) * 0.3 + smooth_noise(rng, H, W, 8) * 0.1
    cover = np.clip((clouds - 0.5) * 4.0, 0, 1)[..., None]
    shade = np.clip(1.0 - (smooth_noise(rng, H, W, 30)[..., None] - 0.5) * 0.4, 0.75, 1.1)
    img = img * (1 - cover) + np.array([250, 250, 252], np.float32) * shade * cover
    return to_image(grain(rng, img, 1.5))


def night_city(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (5, 8, 25)), (0.7, (25, 30, 70)), (1, (10, 10, 20))])
    canvas = to_image(img)
    draw = ImageDraw.Draw(canvas)
    x = -10
    while x < W:
        width = int(rng.integers(60, 140))
        top = int(rng.integers(180, 480))
        draw.rectangle([x, top, x + width, H], fill=(15, 15, 25))
        for wy in range(top + 12, H - 20, 22):
            for wx in range(x + 8, x + width - 8, 16):
                if rng.random() < 0.45:
                    warm = int(rng.integers(170, 256))
                    draw.rectangle([wx, wy, wx + 7, wy + 11], fill=(warm, int(warm * 0.85), int(warm * 0.45)))
        x += width + int(rng.integers(4, 20))
    out = np.asarray(canvas, np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    for _ in range(40):
        cx, cy = rng.uniform(0, W), rng.uniform(H * 0.75, H)
        color = np.array(rng.choice([(255, 180, 60), (255, 60, 60), (80, 160, 255), (255, 255, 200)]), np.float32)
        out += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rng.uniform(6, 18) ** 2))[..., None] * color * 0.9
    stars = rng.random((H, W)) > 0.9992
    out[stars & (yy < H * 0.4)] = 230
    return to_image(grain(rng, out, 2.0))


def beach_palms(rng: np.random.Generator) -> Image.Image:
    horizon = int(H * 0.5)
    img = vertical_gradient(H, W, [(0, (70, 150, 230)), (0.5, (180, 220, 245)), (0.5, (20, 140, 170)), (0.66, (60, 190, 190)), (0.67, (235, 215, 165)), (1, (215, 190, 140))])
    img[horizon:] += (smooth_noise(rng, H - horizon, W, 5)[..., None] - 0.5) * 25
    canvas = to_image(img)
    draw = ImageDraw.Draw(canvas)
    for base_x, lean in ((180, 0.35), (820, -0.25)):
        points = [(base_x + lean * t * 3, H - 60 - t * 4.2) for t in range(0, 110)]
        draw.line(points, fill=(110, 80, 45), width=22)
        tip = points[-1]
        for angle in np.linspace(0, 2 * np.pi, 9, endpoint=False):
            end = (tip[0] + np.cos(angle) * 170, tip[1] + np.sin(angle) * 70 + 40)
            mid = ((tip[0] + end[0]) / 2, min(tip[1], end[1]) - 25)
            draw.line([tip, mid, end], fill=(35, 110, 40), width=16, joint="curve")
    return to_image(grain(rng, np.asarray(canvas.filter(ImageFilter.GaussianBlur(0.8)), np.float32)))


def flower_field(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (150, 195, 240)), (0.35, (200, 225, 240)), (0.36, (90, 150, 60)), (1, (40, 110, 30))])
    canvas = to_image(img)
    draw = ImageDraw.Draw(canvas)
    for _ in range(900):
        y = float(rng.uniform(H * 0.37, H))
        depth = (y - H * 0.37) / (H * 0.63)
        r = 2 + depth * 9
        x = float(rng.uniform(0, W))
        color = [(220, 30, 40), (250, 210, 40), (245, 245, 245), (200, 60, 160)][int(rng.integers(0, 4))]
        draw.ellipse([x - r, y - r, x + r, y + r], fill=color)
    return canvas.filter(ImageFilter.GaussianBlur(0.7))


def autumn_lake(rng: np.random.Generator) -> Image.Image:
    shore = int(H * 0.52)
    sky = to_image(vertical_gradient(shore, W, [(0, (110, 155, 215)), (1, (200, 215, 230))]))
    draw = ImageDraw.Draw(sky)
    draw.polygon([(0, 200), (300, 120), (650, 170), (1024, 110), (1024, shore), (0, shore)], fill=(120, 130, 150))
    palette = [(205, 85, 25), (235, 160, 35), (170, 45, 25), (225, 120, 30), (95, 115, 45)]
    for row in range(5):
        for _ in range(70):
            x = float(rng.uniform(-30, W + 30))
            y = shore - 150 + row * 30 + float(rng.uniform(-20, 20))
            rx, ry = float(rng.uniform(18, 40)), float(rng.uniform(30, 60))
            base = palette[int(rng.integers(0, len(palette)))]
            color = tuple(int(np.clip(c + rng.integers(-20, 21), 0, 255)) for c in base)
            draw.ellipse([x - rx, y - ry, x + rx, y + ry], fill=color)
    draw.rectangle([0, shore - 12, W, shore], fill=(70, 55, 40))
    top = np.asarray(sky.filter(ImageFilter.GaussianBlur(1.0)), np.float32)
    rows = H - shore
    reflection = top[::-1][:rows] * 0.72 + np.array([8, 22, 40], np.float32)
    offsets = (np.sin(np.arange(rows)[:, None] / 2.5 + smooth_noise(rng, rows, W, 12) * 8) * 4).astype(int)
    cols = np.clip(np.arange(W)[None, :] + offsets, 0, W - 1)
    reflection = reflection[np.arange(rows)[:, None], cols]
    return to_image(grain(rng, np.concatenate([top, reflection], axis=0)))


def fireworks(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (2, 2, 12)), (1, (15, 12, 35))])
    canvas = to_image(img)
    draw = ImageDraw.Draw(canvas)
    for _ in range(7):
        cx, cy = float(rng.uniform(120, W - 120)), float(rng.uniform(100, H * 0.6))
        color = [(255, 80, 80), (80, 200, 255), (255, 220, 80), (160, 255, 120), (255, 120, 255)][int(rng.integers(0, 5))]
        radius = float(rng.uniform(80, 170))
        for angle in np.linspace(0, 2 * np.pi, 48, endpoint=False):
            length = radius * float(rng.uniform(0.7, 1.0))
            end = (cx + np.cos(angle) * length, cy + np.sin(angle) * length)
            draw.line([(cx, cy), end], fill=color, width=2)
            draw.ellipse([end[0] - 3, end[1] - 3, end[0] + 3, end[1] + 3], fill=(255, 255, 230))
    glow = canvas.filter(ImageFilter.GaussianBlur(6))
    return Image.blend(canvas, glow, 0.35).point(lambda v: min(255, int(v * 1.3)))


def desert_dunes(rng: np.random.Generator) -> Image.Image:
    img = vertical_gradient(H, W, [(0, (90, 150, 215)), (0.4, (225, 215, 200)), (0.41, (225, 160, 90)), (1, (190, 110, 50))])
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    for k, (amp, period, base) in enumerate([(40, 380, 0.45), (60, 520, 0.6), (80, 700, 0.78)]):
        crest = H * base + amp * np.sin(xx[0] / period * 2 * np.pi + k * 1.7)
        below = yy >= crest[None, :]
        lit = (np.sin(xx / period * 2 * np.pi + k * 1.7 + np.pi / 2) > 0)
        tone = np.where(lit, 1.08, 0.82)[..., None]
        color = np.array([230 - 15 * k, 165 - 15 * k, 90 - 10 * k], np.float32) * tone
        img[below] = color[below]
    sand = yy > H * 0.41
    img[sand] += (np.sin(xx / 9.0 + yy / 5.0)[..., None] * 4)[sand]
    return to_image(grain(rng, img, 2.5))


def lighthouse_portrait(rng: np.random.Generator) -> Image.Image:
    width, height = 768, 1024
    img = vertical_gradient(height, width, [(0, (120, 170, 225)), (0.55, (200, 225, 240)), (0.56, (40, 90, 140)), (1, (20, 60, 100))])
    canvas = to_image(img)
    draw = ImageDraw.Draw(canvas)
    draw.polygon([(0, 640), (250, 560), (520, 600), (768, 520), (768, 1024), (0, 1024)], fill=(90, 80, 60))
    draw.polygon([(0, 700), (300, 640), (768, 660), (768, 1024), (0, 1024)], fill=(70, 120, 50))
    x0, x1, top, base = 330, 440, 220, 600
    for i, y in enumerate(range(top, base, 48)):
        inset = (y - top) * 0.06
        draw.polygon([(x0 + 20 - inset, y), (x1 - 20 + inset, y), (x1 - 20 + inset + 3, y + 48), (x0 + 20 - inset - 3, y + 48)], fill=(200, 30, 30) if i % 2 == 0 else (240, 240, 235))
    draw.rectangle([x0 + 10, top - 70, x1 - 10, top], fill=(40, 40, 45))
    draw.rectangle([x0 + 22, top - 60, x1 - 22, top - 10], fill=(255, 240, 170))
    draw.polygon([(x0, top - 70), (x1, top - 70), ((x0 + x1) / 2, top - 120)], fill=(180, 30, 30))
    out = np.asarray(canvas.filter(ImageFilter.GaussianBlur(0.8)), np.float32)
    return to_image(grain(rng, out))


@dataclass(frozen=True)
class Sample:
    name: str
    draw: Callable[[np.random.Generator], Image.Image]
    taken_at: datetime | None = None
    camera: tuple[str, str] | None = None
    gps: tuple[float, float] | None = None
    orientation: int | None = None


SAMPLES = [
    Sample("2023-07-14_sunset_sea.jpg", sunset_sea, datetime(2023, 7, 14, 21, 2, 11), ("Canon", "Canon EOS 6D"), (43.6950, 7.2650)),
    Sample("2022-09-03_green_forest.jpg", green_forest, datetime(2022, 9, 3, 11, 40, 0), ("FUJIFILM", "X-T3")),
    Sample("2021-02-11_snowy_mountain.jpg", snowy_mountain, datetime(2021, 2, 11, 10, 5, 30), ("SONY", "ILCE-7M3"), (46.0207, 7.7491)),
    Sample("2023-05-20_red_car.jpg", red_car, datetime(2023, 5, 20, 15, 12, 45), ("Apple", "iPhone 13"), (55.7558, 37.6173)),
    Sample("2022-06-01_blue_sky_clouds.jpg", blue_sky_clouds, datetime(2022, 6, 1, 13, 0, 0)),
    Sample("2023-12-24_night_city.jpg", night_city, datetime(2023, 12, 24, 22, 18, 3), ("Google", "Pixel 7"), (35.6762, 139.6503)),
    Sample("2020-08-15_beach_palms.jpg", beach_palms, datetime(2020, 8, 15, 16, 45, 10), ("samsung", "SM-G991B"), (-22.9711, -43.1822)),
    Sample("2024-04-10_flower_field.png", flower_field),
    Sample("2021-10-05_autumn_lake.jpg", autumn_lake, datetime(2021, 10, 5, 9, 30, 0), ("NIKON CORPORATION", "NIKON D750")),
    Sample("2022-12-31_fireworks.png", fireworks),
    Sample("trips/2019-07-22_desert_dunes.jpg", desert_dunes, datetime(2019, 7, 22, 18, 10, 0), ("Canon", "Canon EOS R6"), (31.0994, -4.0118)),
    Sample("trips/2024-01-15_lighthouse_portrait.jpg", lighthouse_portrait, datetime(2024, 1, 15, 12, 0, 0), ("Apple", "iPhone 15 Pro"), (-34.3568, 18.4740), orientation=6),
]


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees, rest = int(value), (abs(value) - int(value)) * 60
    minutes, seconds = int(rest), (rest - int(rest)) * 60
    frac = Fraction(round(seconds * 10000), 10000)
    return (
        TiffImagePlugin.IFDRational(degrees, 1),
        TiffImagePlugin.IFDRational(minutes, 1),
        TiffImagePlugin.IFDRational(frac.numerator, frac.denominator),
    )


def build_exif(sample: Sample) -> Image.Exif | None:
    if not (sample.taken_at or sample.camera or sample.gps or sample.orientation):
        return None
    exif = Image.Exif()
    if sample.camera:
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = sample.camera
    if sample.orientation:
        exif[ExifTags.Base.Orientation] = sample.orientation
    exif[ExifTags.Base.Software] = "photoindex sample generator"
    if sample.taken_at:
        stamp = sample.taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[ExifTags.Base.DateTime] = stamp
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = stamp
    if sample.gps:
        lat, lon = sample.gps
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        gps[ExifTags.GPS.GPSLatitudeRef] = "S" if lat < 0 else "N"
        gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "W" if lon < 0 else "E"
        gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    return exif


def write_sample(sample: Sample, out: Path, seed: int) -> Path:
    image = sample.draw(np.random.default_rng(seed))
    if sample.orientation == 6:
        image = image.transpose(Image.Transpose.ROTATE_90)
    path = out / sample.name
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = build_exif(sample)
    if path.suffix == ".png":
        image.save(path, "PNG", optimize=True, **({"exif": exif.tobytes()} if exif else {}))
    else:
        image.save(path, "JPEG", quality=85, optimize=True, **({"exif": exif.tobytes()} if exif else {}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    total = 0
    for seed, sample in enumerate(SAMPLES, start=1):
        path = write_sample(sample, args.out, seed)
        total += path.stat().st_size
        print(f"{path.relative_to(args.out)}  {path.stat().st_size // 1024} KiB")
    print(f"{len(SAMPLES)} files, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
