"""Which copy of a duplicate group to keep, and why: a pure ranking of plain facts.

Best first by, in order:
1. the copy a user chose (`chosen`);
2. most pixels;
3. least compression: a lossless file (PNG, BMP, TIFF, camera RAW) before a lossy one; lossy
   ones by bytes per pixel, weighted by how much more a format packs into a byte (HEIC/AVIF 2x,
   WebP 1.4x JPEG), in steps of ~19 % (log2 quarters) so that near-equal copies fall through to
   the next rules. The JPEG quality estimated from the quantisation tables is what the reasons show;
4. richer EXIF: capture time, GPS, camera (a re-save often drops them);
5. original format over a derived one: camera RAW > HEIC > JPEG > the rest;
6. an original-looking name (no "copy", "(1)", "edited", "small", "export" ...), then a shorter path;
7. the lower id.
A group's keeper is also one that matches every other member (`grouping`), so the rule only
chooses among copies that are directly comparable with all the rest.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.i18n import N_, join
from engine.library.matching import PhotoFacts
import math

from engine.media.formats import RAW_FORMATS

_FORMAT_RANK = {"heif": 3, "heic": 3, "avif": 3, "jpeg": 2, "jpg": 2}
_LOSSLESS = {"png", "bmp", "tif", "tiff", "gif", *RAW_FORMATS}
_PACKING = {"heic": 2.0, "heif": 2.0, "avif": 2.0, "webp": 1.4}
_FORMAT_LABEL = {"heif": "HEIC", "jpeg": "JPEG", "jpg": "JPEG"}
_COPY_MARKERS = re.compile(
    r"(\bcopy\b|копия|\(\d+\)|[-_ ]\d+x\d+\b|\b(edit(ed)?|small|thumb(nail)?|export(ed)?|resized|scaled|web|"
    r"whatsapp|telegram|screenshot)\b)", re.IGNORECASE)

# The IJG (libjpeg) luminance table that quality 50 uses; other qualities scale it.
_IJG_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)


def jpeg_quality(quantization: Mapping[int, Sequence[int]] | None) -> int | None:
    """Estimated IJG quality (1-100) of a JPEG from its luminance table (Pillow's `quantization`).

    libjpeg scales the standard table by S = 5000/q (q < 50) or 200 - 2q; the mean ratio of the
    file's table to the standard one recovers S, whatever the coefficient order."""
    if not quantization or 0 not in quantization or len(quantization[0]) != 64:
        return None
    scale = 100.0 * sum(quantization[0]) / sum(_IJG_LUMINANCE)
    if scale <= 0:
        return None
    quality = (200.0 - scale) / 2.0 if scale <= 100.0 else 5000.0 / scale
    return max(1, min(100, round(quality)))


def _format_rank(fmt: str) -> int:
    fmt = fmt.lower()
    return 4 if fmt in RAW_FORMATS else _FORMAT_RANK.get(fmt, 1)


def _exif_score(p: PhotoFacts) -> int:
    return (p.taken_at is not None) + (p.latitude is not None) + (p.camera is not None)


def _lossless(p: PhotoFacts) -> bool:
    return p.format.lower() in _LOSSLESS


def _density(p: PhotoFacts) -> float:
    """JPEG-equivalent bytes per pixel."""
    return p.size * _PACKING.get(p.format.lower(), 1.0) / p.pixels if p.pixels else 0.0


def _fidelity(p: PhotoFacts) -> tuple[bool, int]:
    """Higher = less compressed: lossless first, then density in log2 quarters."""
    density = _density(p)
    return _lossless(p), math.floor(4 * math.log2(density)) if density > 0 else -10**6


def _copy_like(p: PhotoFacts) -> bool:
    return bool(_COPY_MARKERS.search(p.path.rsplit("/", 1)[-1]))


def rank_key(p: PhotoFacts, chosen: bool = False) -> tuple:
    lossless, density = _fidelity(p)
    return (not chosen, -p.pixels, not lossless, -density, -_exif_score(p), -_format_rank(p.format),
            _copy_like(p), len(p.path), p.id)


def best_first(photos: Sequence[PhotoFacts], chosen: set[int] | frozenset[int] = frozenset()) -> list[PhotoFacts]:
    return sorted(photos, key=lambda p: rank_key(p, p.id in chosen))


def _label(fmt: str) -> str:
    return _FORMAT_LABEL.get(fmt.lower(), fmt.upper())


def why_kept(keeper: PhotoFacts, other: PhotoFacts, chosen: bool = False) -> str:
    """The first rule that puts `keeper` before `other`, in words."""
    if chosen:
        return N_("chosen by you")
    if keeper.pixels != other.pixels:
        size, other_size = f"{keeper.width}×{keeper.height}", f"{other.width}×{other.height}"
        return N_("more pixels ({size} vs {other})", size=size, other=other_size)
    if _lossless(keeper) != _lossless(other):
        return N_("lossless ({format} over {other})", format=_label(keeper.format), other=_label(other.format))
    if _fidelity(keeper) != _fidelity(other):
        if keeper.jpeg_quality is not None and other.jpeg_quality is not None:
            return N_("less compressed (JPEG quality {quality} vs {other})", quality=keeper.jpeg_quality,
                      other=other.jpeg_quality)
        return N_("less compressed ({density} vs {other} bytes per pixel)", density=format(_density(keeper), ".2f"),
                  other=format(_density(other), ".2f"))
    if _exif_score(keeper) != _exif_score(other):
        has = [name for name, value in ((N_("capture time"), keeper.taken_at), ("GPS", keeper.latitude),
                                        (N_("camera"), keeper.camera)) if value is not None]
        return N_("richer EXIF ({what})", what=join(", ", has))
    if _format_rank(keeper.format) != _format_rank(other.format):
        return N_("original format ({format} over {other})", format=_label(keeper.format), other=_label(other.format))
    if _copy_like(keeper) != _copy_like(other):
        return N_("original name")
    if len(keeper.path) != len(other.path):
        return N_("shorter path")
    return N_("lower id")


@dataclass(frozen=True)
class KeeperChoice:
    keeper: PhotoFacts
    ranked: list[PhotoFacts]
    """Keeper first."""
    reasons: list[str]
    """Why the keeper goes before the others (distinct, in rule order)."""
    chosen: bool


def choose(photos: Sequence[PhotoFacts], chosen: set[int] | frozenset[int] = frozenset(),
           eligible: set[int] | None = None) -> KeeperChoice:
    """The keeper: a chosen photo, else the best-ranked of `eligible` (default: all); the others follow in rank order."""
    ranked = best_first(photos, chosen)
    picked = [p for p in ranked if p.id in chosen]
    keeper = picked[0] if picked else next(p for p in ranked if eligible is None or p.id in eligible)
    ranked = [keeper, *(p for p in ranked if p.id != keeper.id)]
    reasons = list(dict.fromkeys(why_kept(keeper, other, bool(picked)) for other in ranked[1:]
                                 if rank_key(keeper) < rank_key(other) or picked))
    if not picked and any(rank_key(other) < rank_key(keeper) for other in ranked[1:]):
        reasons.append(N_("the best copy that matches every other one"))
    return KeeperChoice(keeper, ranked, reasons, bool(picked))
