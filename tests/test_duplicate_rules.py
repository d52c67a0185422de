"""The duplicate finder's pure parts, without a database: signatures, the search vectors and
index, the measurements and the fused rule, grouping without chains, the keeper rule."""
from __future__ import annotations

import io
from datetime import datetime

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageEnhance

from engine.library import candidates as cand
from engine.library import grouping, keeper, signatures
from engine.library.matching import DEFAULT, STORE, Evidence, PhotoFacts, compare, decide, describe

TURNS = [None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE,
         Image.Transpose.ROTATE_180, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_90,
         Image.Transpose.TRANSVERSE]
"""PIL's operation for each of `signatures.TRANSFORMS` (PIL's ROTATE_270 turns 90° clockwise)."""


def photo(seed: int, size: tuple[int, int] = (480, 360), detail: int = 24) -> Image.Image:
    """A photo-like picture: a smooth random layout plus finer texture; seeds are different photos."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), "RGB").resize(size, Image.Resampling.BICUBIC)
    fine = Image.fromarray(rng.integers(0, 256, (size[1] // 12, size[0] // 12, 3), dtype=np.uint8), "RGB").resize(
        size, Image.Resampling.BICUBIC)
    return Image.blend(coarse, fine, detail / 100)


def jpeg(image: Image.Image, quality: int = 90) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def facts(i: int, image: Image.Image, fmt: str = "jpg", size: int = 100_000, **extra) -> PhotoFacts:
    return PhotoFacts(i, f"p{i}.{fmt}", fmt, size, image.width, image.height, **extra)


def measure(a: Image.Image, b: Image.Image, **extra) -> Evidence:
    return compare(signatures.compute(a), signatures.compute(b), facts(1, a), facts(2, b), **extra)


def test_signature_is_imagehash_phash_and_turns_without_pixels() -> None:
    image = photo(1)
    sig = signatures.compute(image)
    assert sig.phash == "".join("1" if b else "0" for b in imagehash.phash(image, hash_size=16).hash.flatten())
    again = signatures.decode(signatures.encode(sig))
    assert again is not None and again.phash == sig.phash and np.array_equal(again.thumb, sig.thumb)
    assert signatures.decode(b"\x63" + signatures.encode(sig)[1:]) is None  # another version: compute again
    hashes = signatures.all_hashes(sig.coefficients)
    for k, op in enumerate(TURNS):
        turned = signatures.compute(image.transpose(op) if op is not None else image)
        assert (hashes[k] != signatures.hash_bits(turned.coefficients)).sum() <= 4, signatures.TRANSFORMS[k]
        assert np.abs(signatures.turn_thumb(sig.thumb, k).astype(int) - turned.thumb).max() <= 2


@pytest.mark.parametrize("k", range(1, 8))
def test_a_turned_copy_says_how_it_was_turned(k: int) -> None:
    original = photo(2)
    ev = measure(original, jpeg(original.transpose(TURNS[k])))
    d = decide(ev)
    assert d.match and d.rule == "phash" and ev.transform == k
    assert describe(ev, facts(1, original), facts(2, original)) == signatures.TRANSFORMS[k]
    back = ev.reversed()
    assert signatures.TRANSFORMS[back.transform] == {2: "rotated 270°", 6: "rotated 90°"}.get(k, signatures.TRANSFORMS[k])


def test_edits_match_and_unrelated_photos_do_not() -> None:
    original = photo(3)
    edits = {
        "re-encoded": jpeg(original, 40),
        "half": original.resize((240, 180), Image.Resampling.LANCZOS),
        "brighter": ImageEnhance.Brightness(original).enhance(1.2),
        "darker": ImageEnhance.Brightness(original).enhance(0.8),
        "cropped": original.crop((30, 10, 30 + 408, 10 + 306)),
    }
    for name, copy in edits.items():
        ev = measure(original, jpeg(copy), search_crop=name == "cropped")
        assert decide(ev).match, (name, ev)
    cropped = measure(original, jpeg(edits["cropped"]), search_crop=True)
    assert decide(cropped).rule == "crop" and cropped.cropped == "b"
    assert abs(cropped.crop_size[0] - 0.85) < 0.05 and abs(cropped.crop_size[1] - 0.85) < 0.05
    assert describe(cropped, facts(1, original), facts(2, edits["cropped"])).startswith("cropped to 8")
    assert describe(measure(original, edits["brighter"]), facts(1, original), facts(2, original)) in (
        "brighter (+19 %)", "brighter (+20 %)")  # +20 %, a little clipped
    for seed in range(10, 16):
        ev = measure(original, photo(seed), search_crop=True)
        assert not decide(ev, STORE).match, (seed, ev)
        assert ev.hash_bits > DEFAULT.hash_bits_with_pixels


def test_capture_times_and_flat_pictures() -> None:
    original = photo(4)
    copy = jpeg(original.crop((20, 20, 440, 335)))
    base = dict(search_crop=True)
    a = signatures.compute(original)
    b = signatures.compute(copy)
    when = datetime(2021, 5, 1, 12, 0, 0)
    same = compare(a, b, facts(1, original, taken_at=when, camera="X"), facts(2, copy, taken_at=when, camera="X"), **base)
    assert same.exif == "same" and decide(same).match
    zone = compare(a, b, facts(1, original, taken_at=when), facts(2, copy, taken_at=when.replace(hour=15)), **base)
    assert zone.exif == "same"  # three hours apart to the second: the same moment in another time zone
    later = compare(a, b, facts(1, original, taken_at=when), facts(2, copy, taken_at=when.replace(second=40)), **base)
    assert later.exif == "different" and not decide(later).match  # another shot, however similar
    twin = compare(a, signatures.compute(jpeg(original, 80)), facts(1, original, taken_at=when),
                   facts(2, original, taken_at=when.replace(second=40)))
    assert decide(twin).match  # a re-encode-level hash still counts

    grey = Image.new("RGB", (300, 200), (120, 120, 120))
    dark = Image.new("RGB", (300, 200), (20, 20, 20))
    flat = measure(grey, jpeg(grey))
    assert flat.low_detail and decide(flat).rule == "flat"
    assert not decide(measure(grey, dark)).match


@pytest.mark.parametrize(("first", "second"), [((30, 110, 200), (20, 160, 160)), ((130, 50, 170), (40, 200, 90)),
                                               ((30, 110, 200), (130, 50, 170))])
def test_the_same_layout_in_other_colours_is_not_a_copy(first: tuple[int, int, int], second: tuple[int, int, int]) -> None:
    def picture(colour: tuple[int, int, int]) -> Image.Image:
        image = Image.new("RGB", (640, 480), colour)
        image.paste((220, 30, 30), (40, 40, 200, 160))
        return image

    a, b = picture(first), picture(second)
    ev = measure(a, b)
    assert ev.colour > DEFAULT.colour
    assert not decide(ev, DEFAULT).match and not decide(ev, STORE).match
    assert decide(measure(a, jpeg(a, 60)), DEFAULT).match, "its own re-encoded copy still matches"


def test_thresholds_a_caller_may_narrow_or_widen() -> None:
    narrow = DEFAULT.with_hash_limit(0)
    assert narrow.hash_bits == 0 and narrow.hash_bits_with_pixels == 0
    wide = DEFAULT.with_hash_limit(200)
    assert wide.hash_bits == STORE.hash_bits  # never beyond what was stored
    assert DEFAULT.with_hash_limit(None) is DEFAULT


def test_search_index_finds_turned_copies_and_crops_among_many() -> None:
    rng = np.random.default_rng(0)
    others = [photo(100 + i, (160, 120)) for i in range(300)]
    original = photo(7)
    copies = {"turned": jpeg(original.transpose(Image.Transpose.ROTATE_90)),
              "cropped": jpeg(original.crop((20, 15, 20 + 408, 15 + 300)))}
    pictures = [original, *copies.values(), *others]
    thumbs = np.stack([signatures.compute(p).thumb for p in pictures])
    ids = np.arange(len(pictures))
    full = cand.full_vectors(thumbs)
    exact = cand.VectorIndex(full, ids, cell_size=10_000)
    cells = cand.VectorIndex(full, ids, cell_size=20)
    assert len(exact.centroids) == 1 and len(cells.centroids) > 10
    for index in (exact, cells):
        turned = index.search(cand.turned_vectors(thumbs[:1])[0], top_k=3, min_similarity=0.85,
                              exclude=np.zeros(8, np.int64))
        assert 1 in set(turned.ids.tolist())
        windows = index.search(cand.window_vectors(thumbs[:1])[0], top_k=2, min_similarity=0.7,
                               exclude=np.zeros(9, np.int64))
        assert 2 in set(windows.ids.tolist())
    assert rng is not None


def test_groups_never_chain_and_big_ones_wait_for_review() -> None:
    rank = {i: i for i in range(100)}.__getitem__
    # 1 is the original; 2 and 3 are crops of different corners (they do not match each other);
    # 4 matches only 3: a chain 1-3-4 that must not put 4 with 1
    groups = grouping.group_pairs([(1, 2), (1, 3), (3, 4)], rank)
    assert [sorted(g.members) for g in groups] == [[1, 2, 3]]
    (g,) = groups
    assert g.anchor == 1 and g.keepable == {1} and g.linked == {4} and g.needs_review
    groups = grouping.group_pairs([(1, 2), (1, 3), (3, 4), (4, 5)], rank)
    assert [sorted(g.members) for g in groups] == [[1, 2, 3], [4, 5]]
    assert all(g.needs_review for g in groups)  # 3 links the two groups: a person should look
    star = grouping.group_pairs([(0, i) for i in range(1, 20)], rank, review_size=12)
    assert len(star) == 1 and len(star[0].members) == 20 and "more than 12" in star[0].review[0]
    clean = grouping.group_pairs([(1, 2), (1, 3), (2, 3)], rank)
    assert not clean[0].needs_review and clean[0].keepable == {1, 2, 3}
    assert grouping.group_pairs([(7, 8)], rank, flat_pairs={(7, 8)})[0].review


def test_keeper_rule_and_reasons() -> None:
    def p(i: int, w: int, h: int, fmt: str = "jpg", size: int = 2_000_000, q: int | None = 90, path: str | None = None,
          **extra) -> PhotoFacts:
        return PhotoFacts(i, path or f"dir/photo{i}.{fmt}", fmt, size, w, h, jpeg_quality=q, **extra)

    original = p(1, 4000, 3000, size=3_000_000, q=92, taken_at=datetime(2020, 1, 1))
    q40 = p(2, 4000, 3000, size=900_000, q=40, taken_at=datetime(2019, 1, 1))  # an older, worse copy
    half = p(3, 2000, 1500, size=700_000)
    png = p(4, 4000, 3000, "png", 20_000_000, None)
    same_no_exif = p(5, 4000, 3000, size=3_000_000, q=92)
    copy_named = p(6, 4000, 3000, size=3_000_000, q=92, taken_at=datetime(2020, 1, 1), path="dir/photo1 copy.jpg")
    ranked = keeper.best_first([q40, half, original, same_no_exif, copy_named])
    assert [x.id for x in ranked] == [1, 6, 5, 2, 3]
    assert keeper.why_kept(original, q40) == "less compressed (JPEG quality 92 vs 40)"
    assert keeper.why_kept(original, half).startswith("more pixels (4000×3000")
    assert keeper.why_kept(original, same_no_exif) == "richer EXIF (capture time)"
    assert keeper.why_kept(original, copy_named) == "original name"
    assert keeper.best_first([original, png])[0].id == 4  # a lossless file holds at least as much
    choice = keeper.choose([original, q40, half], {2})
    assert choice.keeper.id == 2 and choice.chosen and choice.reasons == ["chosen by you"]
    only = keeper.choose([original, q40, half], eligible={2, 3})
    assert only.keeper.id == 2 and "the best copy that matches every other one" in only.reasons


def test_jpeg_quality_estimate() -> None:
    image = photo(5)
    for quality in (40, 75, 92):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        estimate = keeper.jpeg_quality(Image.open(io.BytesIO(buffer.getvalue())).quantization)
        assert estimate is not None and abs(estimate - quality) <= 2, (quality, estimate)
    assert keeper.jpeg_quality(None) is None
