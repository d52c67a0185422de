"""Is photo b a copy of photo a, and why: the signals of one pair and the rule that fuses them.

`compare` measures a pair from the two signatures (and the few facts a file carries: size,
format, capture time, camera) and returns `Evidence` in the direction a -> b:
- pHash: Hamming distance of b's 256-bit hash to the nearest of a's 8 rotations/mirrors (bits);
- pixels: correlation of the two 32x32 grey copies, a turned the same way (Pearson r);
- crop: best correlation of one copy with a window of the other (70-99 % of each side, the
  window's shape from the two aspect ratios), searched only when the hash does not match;
- colour: mean chroma difference of a 3x3 grid (0-255 levels);
- EXIF: same capture time and camera (supports), or different capture times (contradicts);
- embedding: image-text cosine similarity, when both have one and the caller passes it.

`decide` applies `Thresholds` (calibrated on measured distances of copies and unrelated
photos: docs/duplicates.md) and returns a `Decision` naming the signals that matched. Both
are pure: plain data in, plain data out.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from engine.i18n import N_, join
from engine.library.signatures import FLAT_DETAIL, HASH_BITS, TRANSFORMS, Signature, turn_thumb

INVERSE_TRANSFORM = (0, 1, 6, 3, 4, 5, 2, 7)
"""The transform undoing each of `TRANSFORMS` (90° one way is 270° the other; mirrors undo themselves)."""


@dataclass(frozen=True)
class Thresholds:
    """The fused rule. Defaults are the calibration in docs/duplicates.md; all distances inclusive."""

    hash_bits: int = 56
    """pHash alone: at most this many of 256 bits apart (nearest of 8 orientations)."""
    hash_bits_with_pixels: int = 80
    """pHash up to here counts when the grey copies, turned alike, also agree (`pixels`, `structure`)."""
    pixels: float = 0.90
    structure: float = 0.70
    crop: float = 0.80
    """Grey correlation of a crop with its best window of the other photo ..."""
    crop_supported: float = 0.75
    """... or this when the capture time and camera are the same, or the image embeddings agree;"""
    crop_structure: float = 0.70
    """... and the edges there correlate at least this well."""
    crop_min_side: float = 0.75
    colour: float = 10.0
    """Mean chroma difference above which a pair is not a copy, whatever its pHash and grey copies say (a colour
    edit is not one we look for; the same layout in other colours is another picture). Copies measure ≤ 3.4."""
    detail: float = FLAT_DETAIL
    """Grey-level spread below which a picture is nearly flat: only a near-identical one matches it."""
    flat_difference: float = 4.0
    flat_colour: float = 4.0
    """Nearly flat pictures match only when their grey copies and colours are this close."""
    different_shot_hash_bits: int = 24
    """Capture times > 2 s apart: only a re-encode-level pHash still counts."""
    embedding: float = 0.95
    """Image-text cosine that loosens the crop rule (method `all`) or alone decides (method `clip`)."""

    def with_hash_limit(self, bits: int | None) -> "Thresholds":
        """A caller's own pHash limit: below the calibrated one it narrows both hash rules, above
        it widens them up to what is stored (`STORE`)."""
        if bits is None:
            return self
        bits = max(0, min(int(bits), STORE.hash_bits))
        with_pixels = bits if bits < self.hash_bits else min(max(bits, self.hash_bits_with_pixels),
                                                               STORE.hash_bits_with_pixels)
        return replace(self, hash_bits=bits, hash_bits_with_pixels=with_pixels)


DEFAULT = Thresholds()
STORE = Thresholds(hash_bits=80, hash_bits_with_pixels=96, pixels=0.80, structure=0.5, crop=0.75,
                   crop_supported=0.70, crop_structure=0.5, colour=40.0, different_shot_hash_bits=80)
"""The loosest rule a caller may ask for: pairs passing it are kept, with their evidence."""


@dataclass(frozen=True)
class PhotoFacts:
    """What matching and the keeper rule read about a photo besides its signature."""

    id: int
    path: str
    format: str
    size: int
    width: int | None
    height: int | None
    taken_at: datetime | None = None
    camera: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    content_hash: str | None = None
    jpeg_quality: int | None = None

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)

    @property
    def aspect(self) -> float | None:
        return self.width / self.height if self.width and self.height else None

    @property
    def has_gps(self) -> bool:
        return self.latitude is not None


@dataclass(frozen=True)
class Evidence:
    """Measurements of one pair, in the direction a -> b ("b is a's copy, `transform`ed")."""

    hash_bits: int
    transform: int
    pixels: float
    structure: float
    """Edge (Laplacian) correlation of the two grey copies, turned alike."""
    difference: float
    """Mean absolute difference of the two grey copies, turned alike (levels of 255)."""
    colour: float
    brightness: float
    """Mean grey of b over a's (1.2 = b is 20 % brighter)."""
    scale: float | None = None
    """b's long side over a's, turned alike (0.5 = half size); None without sizes."""
    crop: float | None = None
    crop_structure: float | None = None
    crop_size: tuple[float, float] | None = None
    """Sides of the cropped picture as fractions of the other's (width, height)."""
    cropped: str | None = None
    """"a" or "b": which one is the crop."""
    identical: bool = False
    exif: str | None = None
    """"same" (capture time and camera), "different" (capture times apart) or None (not both known)."""
    low_detail: bool = False
    embedding: float | None = None

    def reversed(self) -> "Evidence":
        """The same evidence read b -> a."""
        return replace(self, transform=INVERSE_TRANSFORM[self.transform],
                       brightness=1.0 / self.brightness if self.brightness else self.brightness,
                       scale=1.0 / self.scale if self.scale else self.scale,
                       cropped={"a": "b", "b": "a"}.get(self.cropped or ""))

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None and v is not False}
        for k in ("pixels", "structure", "difference", "colour", "brightness", "scale", "crop", "crop_structure", "embedding"):
            if k in out:
                out[k] = round(float(out[k]), 4)
        if "crop_size" in out:
            out["crop_size"] = [round(float(v), 3) for v in out["crop_size"]]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Evidence":
        data = dict(data)
        if data.get("crop_size") is not None:
            data["crop_size"] = tuple(data["crop_size"])
        return cls(**data)


@dataclass(frozen=True)
class Signal:
    """One measurement as shown to the user: what, how much, in which unit, and the limit it met."""

    name: str
    value: float | str
    unit: str
    limit: str | None = None
    matched: bool = False


@dataclass(frozen=True)
class Decision:
    match: bool
    rule: str | None
    """Which rule decided: identical, phash, phash+pixels, crop, flat, embedding; None when no match."""
    signals: list[Signal] = field(default_factory=list)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float32).ravel() - a.mean()
    b = b.astype(np.float32).ravel() - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 1e-6 else 0.0


def _same_moment(a: datetime, b: datetime) -> bool | None:
    """True when the stamps are one moment (also across a whole-quarter-hour zone shift), False
    when they are > 2 s apart, None in between."""
    a_, b_ = a.replace(tzinfo=None), b.replace(tzinfo=None)
    gap = abs((a_ - b_).total_seconds())
    quarter = 15 * 60
    gap = min(gap, abs(gap - round(gap / quarter) * quarter)) if gap < 15 * 3600 else gap
    precise = a.microsecond and b.microsecond
    if gap <= (0.01 if precise else 1.0):
        return True
    return False if gap > 2.0 else None


def exif_relation(a: PhotoFacts, b: PhotoFacts) -> str | None:
    if a.taken_at is None or b.taken_at is None:
        return None
    same = _same_moment(a.taken_at, b.taken_at)
    if same is True and (a.camera == b.camera or a.camera is None or b.camera is None):
        return "same"
    if same is False:
        return "different"
    return None


def _edges(picture: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.Laplacian(cv2.GaussianBlur(picture.astype(np.float32), (3, 3), 0.7), cv2.CV_32F)


def structure(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the two pictures' edges (Laplacian): what similar-looking photos do not share."""
    return _ncc(_edges(a), _edges(b))


@dataclass(frozen=True)
class CropFit:
    score: float
    """Grey correlation of the small picture with its best window of the big one."""
    structure: float
    """Edge correlation at that window."""
    size: tuple[float, float]
    """The window's sides as fractions of the big picture's."""


COARSE_HOPELESS = 0.55
"""A coarse window fitting worse than this is not refined: a pixel more or less moves a true crop's correlation
by a few hundredths, far from the loosest crop limit (`STORE.crop_supported`, 0.70)."""


def _crop_search(big: np.ndarray, small: np.ndarray, big_aspect: float | None, small_aspect: float | None,
                 min_side: float) -> CropFit | None:
    """The window of `big` that `small` (whole, resized) fits best; its shape follows from the
    two aspect ratios (±1 pixel of the 32x32 grid), its sides are `min_side` to 100 %. Every other
    width first, then every size around the best two."""
    import cv2

    side = big.shape[0]
    big32 = big.astype(np.float32)
    small32 = small.astype(np.float32)
    ratio = (big_aspect / small_aspect) if big_aspect and small_aspect else 1.0
    if float(small32.std()) < 1e-3:
        return None
    tried: dict[tuple[int, int], tuple[float, int, int]] = {}

    def fit(w: int, h: int) -> float:
        if not (min_side * side <= h <= side) or not (min_side * side <= w <= side) or (w >= side and h >= side):
            return -1.0
        if (w, h) not in tried:
            template = cv2.resize(small32, (w, h), interpolation=cv2.INTER_AREA)
            _, score, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(big32, template, cv2.TM_CCOEFF_NORMED))
            tried[(w, h)] = (float(score), x, y)
        return tried[(w, h)][0]

    widths = range(int(np.ceil(min_side * side)), side + 1)
    for w in widths[::2]:  # coarse: every other width, the height the aspect ratios give
        fit(w, round(w * ratio))
    if not tried:
        return None
    best_two = sorted(tried.items(), key=lambda kv: -kv[1][0])[:2]
    for (w0, _), (score, _, _) in best_two:  # fine: around the best two, unless no width came near
        if score < COARSE_HOPELESS:
            continue
        for w in (w0 - 1, w0, w0 + 1):
            for h in (round(w * ratio) - 1, round(w * ratio), round(w * ratio) + 1):
                fit(w, h)
    (w, h), (score, x, y) = max(tried.items(), key=lambda kv: kv[1][0])
    template = cv2.resize(small32, (w, h), interpolation=cv2.INTER_AREA)
    return CropFit(score, structure(big32[y:y + h, x:x + w], template), (round(w / side, 3), round(h / side, 3)))


def compare(a: Signature, b: Signature, fa: PhotoFacts, fb: PhotoFacts, *, embedding: float | None = None,
            search_crop: bool | None = None, thresholds: Thresholds = STORE) -> Evidence:
    """Measure the pair. The crop search runs when asked, or (None) when the pHash alone would not match it."""
    distances = (a.hashes != b.hashes[0]).sum(axis=1)
    transform = int(np.argmin(distances))
    bits = int(distances[transform])
    turned = turn_thumb(a.thumb, transform)
    colour_a = np.stack([turn_thumb(a.colour[..., i].astype(np.float32), transform) for i in range(2)], axis=-1)
    mean_a = float(a.thumb.mean())
    scale = None
    if fa.width and fa.height and fb.width and fb.height:
        scale = max(fb.width, fb.height) / max(fa.width, fa.height)
    ev = Evidence(bits, transform, _ncc(turned, b.thumb), structure(turned, b.thumb),
                  float(np.abs(turned.astype(np.float32) - b.thumb).mean()), float(np.abs(colour_a - b.colour).mean()), float(b.thumb.mean()) / mean_a if mean_a > 0.5 else 1.0,
                  scale, identical=bool(fa.content_hash and fa.content_hash == fb.content_hash),
                  exif=exif_relation(fa, fb), low_detail=min(a.detail, b.detail) < thresholds.detail,
                  embedding=embedding)
    if search_crop is None:
        search_crop = bits > DEFAULT.hash_bits and not ev.low_detail
    if search_crop:
        fits = [(fit, which) for fit, which in (
            (_crop_search(a.thumb, b.thumb, fa.aspect, fb.aspect, thresholds.crop_min_side), "b"),
            (_crop_search(b.thumb, a.thumb, fb.aspect, fa.aspect, thresholds.crop_min_side), "a")) if fit is not None]
        if fits:
            fit, which = max(fits, key=lambda f: f[0].score)
            mean_chroma = np.abs(a.colour.mean(axis=(0, 1)) - b.colour.mean(axis=(0, 1)))
            ev = replace(ev, crop=fit.score, crop_structure=fit.structure, crop_size=fit.size, cropped=which,
                         colour=float(mean_chroma.mean()))
    return ev


def decide(ev: Evidence, t: Thresholds = DEFAULT, *, use_embedding: bool = True) -> Decision:
    """The fused rule: the first that holds of identical bytes, nearly flat pictures, pHash,
    pHash with pixels, crop. Capture times apart narrow it to a re-encode-level pHash; the same
    capture time and camera (or agreeing embeddings) loosen the crop's grey correlation."""
    pixels_ok = ev.pixels >= t.pixels and ev.structure >= t.structure and ev.hash_bits <= t.hash_bits_with_pixels
    signals = [Signal("pHash", ev.hash_bits, N_("bits of {bits} apart, nearest of 8 orientations", bits=HASH_BITS),
                      f"≤ {t.hash_bits}", ev.hash_bits <= t.hash_bits),
               Signal(N_("pixels"), round(ev.pixels, 3),
                      N_("correlation of 32×32 grey copies (edges {edges})", edges=format(ev.structure, ".3f")),
                      f"≥ {t.pixels}, edges ≥ {t.structure}, pHash ≤ {t.hash_bits_with_pixels}", pixels_ok),
               Signal(N_("colour"), round(ev.colour, 1), N_("mean chroma difference, levels of 255"), f"≤ {t.colour}",
                      ev.colour <= t.colour)]
    supported = ev.exif == "same" or (use_embedding and ev.embedding is not None and ev.embedding >= t.embedding)
    crop_limit = t.crop_supported if supported else t.crop
    crop_ok = (ev.crop is not None and ev.crop >= crop_limit and (ev.crop_structure or 0.0) >= t.crop_structure)
    if ev.crop is not None:
        edges = format(ev.crop_structure or 0, ".3f")
        signals.append(Signal(N_("crop"), round(ev.crop, 3), N_("correlation with a window of the other (edges {edges})",
                                                                edges=edges),
                              f"≥ {crop_limit}, edges ≥ {t.crop_structure}", crop_ok))
    if ev.exif is not None:
        signals.append(Signal("EXIF", N_("same capture time and camera") if ev.exif == "same"
                              else N_("capture times apart"), "", None, ev.exif == "same"))
    if ev.embedding is not None and use_embedding:
        signals.append(Signal(N_("embedding"), round(ev.embedding, 4), N_("image-text cosine similarity"), f"≥ {t.embedding}",
                              ev.embedding >= t.embedding))
    if ev.identical:
        return Decision(True, "identical", [Signal(N_("bytes"), N_("identical"), N_("content hash"), None, True),
                                            *signals])
    if ev.low_detail:
        flat = ev.difference <= t.flat_difference and ev.colour <= t.flat_colour
        return Decision(flat, "flat" if flat else None,
                        [Signal(N_("detail"), N_("nearly flat picture"), "", f"grey spread < {t.detail}", flat),
                         Signal(N_("difference"), round(ev.difference, 1), N_("mean grey difference, levels of 255"),
                                f"≤ {t.flat_difference}", ev.difference <= t.flat_difference), *signals])
    if ev.colour > t.colour:  # the same layout in other colours: the pHash and grey copies cannot tell
        return Decision(False, None, signals)
    if ev.exif == "different":
        ok = ev.hash_bits <= min(t.different_shot_hash_bits, t.hash_bits)
        return Decision(ok, "phash" if ok else None, signals)
    if ev.hash_bits <= t.hash_bits:
        return Decision(True, "phash", signals)
    if pixels_ok:
        return Decision(True, "phash+pixels", signals)
    if crop_ok:
        return Decision(True, "crop", signals)
    return Decision(False, None, signals)


def describe(ev: Evidence, fa: PhotoFacts, fb: PhotoFacts) -> str:
    """What b is, relative to a, in a few words: "rotated 90°, re-saved as PNG", "cropped to 86 % × 90 %"."""
    if ev.identical:
        return N_("identical file")
    parts: list[str] = []
    if ev.transform:
        parts.append(TRANSFORMS[ev.transform])
    if ev.crop_size:
        width, height = round(ev.crop_size[0] * 100), round(ev.crop_size[1] * 100)
    if ev.cropped == "b" and ev.crop_size:
        parts.append(N_("cropped to {width} % × {height} %", width=width, height=height))
    elif ev.cropped == "a" and ev.crop_size:
        parts.append(N_("uncropped (the other is {width} % × {height} % of it)", width=width, height=height))
    elif ev.scale is not None and abs(ev.scale - 1.0) > 0.02:
        parts.append(N_("resized to {percent} %", percent=round(ev.scale * 100)))
    if fa.format.lower() != fb.format.lower():
        parts.append(N_("re-saved as {format}", format=fb.format.upper()))
    if ev.brightness > 1.06:
        parts.append(N_("brighter (+{percent} %)", percent=round((ev.brightness - 1) * 100)))
    elif ev.brightness < 0.94:
        parts.append(N_("darker (−{percent} %)", percent=round((1 - ev.brightness) * 100)))
    if not parts:
        if fa.jpeg_quality and fb.jpeg_quality and fa.jpeg_quality != fb.jpeg_quality:
            parts.append(N_("re-encoded (JPEG quality {quality} → {other})", quality=fa.jpeg_quality,
                            other=fb.jpeg_quality))
        else:
            parts.append(N_("re-encoded"))
    return join(", ", parts)

