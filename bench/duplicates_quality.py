"""Duplicate finding quality on a labelled set made from ../shared/testdata, through the engine.

Each source photo (distinct pictures, similar-looking ones on purpose: the same people, the same
waterfall in landscape and portrait, a pug and its depth map) goes into a fresh library as it is;
most get four edited copies (re-encoded at q40, half size, PNG / WebP / HEIC re-saves, 20 %
brighter or darker, rotated 90/180/270°, mirrored, cropped to 80-95 % of each side at a random
place), half of the copies keeping the source's EXIF; every fifth source stays alone. The engine
then scans, hashes and compares (`Library.index_phash`) and groups (`Library.duplicates`), and
the groups are scored as pairs: precision, recall and F1 overall and per edit (pairs involving a
copy of that kind), beside two peers run in the same process on the same files: plain 64-bit
pHash (imagehash) and pHash over the four rotations, each joined into groups (connected
components) at its best threshold chosen with the answers (an oracle, so an upper bound).

    .venv/bin/python bench/duplicates_quality.py
    .venv/bin/python bench/duplicates_quality.py --calibration   # + the distance tables of docs/duplicates.md
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH_ROOT, CpuMeter, command, machine, revision, stop_embedded  # noqa: E402

from engine.config import Settings  # noqa: E402
from engine.media.decode import load_image  # noqa: E402
from engine.media.formats import format_of  # noqa: E402

TESTDATA = Path(os.environ.get("PHOTOINDEX_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "testdata"))
SOURCES = [
    "exif_orientation/Landscape_1.jpg", "exif_orientation/Portrait_1.jpg",
    "faces_face_recognition/examples/alex-lacamoire.png", "faces_face_recognition/examples/biden.jpg",
    "faces_face_recognition/examples/knn_examples/test/alex_lacamoire1.jpg",
    "faces_face_recognition/examples/knn_examples/test/johnsnow_test1.jpg",
    "faces_face_recognition/examples/knn_examples/test/kit_with_rose.jpg",
    "faces_face_recognition/examples/knn_examples/test/obama1.jpg",
    "faces_face_recognition/examples/knn_examples/test/obama_and_biden.jpg",
    "faces_face_recognition/examples/knn_examples/train/alex_lacamoire/img1.jpg",
    "faces_face_recognition/examples/knn_examples/train/biden/biden2.jpg",
    "faces_face_recognition/examples/knn_examples/train/kit_harington/john1.jpeg",
    "faces_face_recognition/examples/knn_examples/train/kit_harington/john2.jpeg",
    "faces_face_recognition/examples/knn_examples/train/rose_leslie/img1.jpg",
    "faces_face_recognition/examples/knn_examples/train/rose_leslie/img2.jpg",
    "faces_face_recognition/examples/lin-manuel-miranda.png", "faces_face_recognition/examples/obama.jpg",
    "faces_face_recognition/examples/obama2.jpg", "faces_face_recognition/examples/obama_small.jpg",
    "faces_face_recognition/examples/two_people.jpg", "faces_face_recognition/tests/test_images/obama3.jpg",
    "heic_samples/tests/images/heif_other/cat.hif", "heic_samples/tests/images/heif_other/empty_icc.heic",
    "heic_samples/tests/images/heif_other/invalid_id.heic", "heic_samples/tests/images/heif_other/nokia/alpha.heic",
    "heic_samples/tests/images/heif_other/nokia/bird_burst.heic", "heic_samples/tests/images/heif_other/pug.heic",
    "heic_samples/tests/images/heif_other/spatial_photo.heic", "heic_samples/tests/images/heif_special/aux_YCbCr.heic",
    "heic_samples/tests/images/heif_special/xiaomi.heic", "heic_samples/tests/images/heif_other/arrow.heic",
    "heic_samples/tests/images/non_heif/pug_depth.png",
    "immich_assets/albums/nature/cyclamen_persicum.jpg", "immich_assets/albums/nature/el_torcal_rocks.jpg",
    "immich_assets/albums/nature/notocactus_minimus.jpg", "immich_assets/albums/nature/orychophragmus_violaceus.jpg",
    "immich_assets/albums/nature/polemonium_reptans.jpg", "immich_assets/albums/nature/prairie_falcon.jpg",
    "immich_assets/albums/nature/silver_fir.jpg", "immich_assets/albums/nature/tanners_ridge.jpg",
    "immich_assets/albums/nature/wood_anemones.jpg", "immich_assets/albums/text/book-beside-flowers.jpg",
    "immich_assets/albums/text/craft-beer.jpg", "immich_assets/albums/text/handwritten-notes.jpg",
    "immich_assets/albums/text/japanese-shop.jpg", "immich_assets/formats/heic/IMG_2682.heic",
    "immich_assets/formats/motionphoto/samsung-one-ui-6.heic", "immich_assets/formats/webp/denali.webp",
    "immich_assets/formats/png/density_plot.png", "immich_assets/metadata/faces/portrait.jpg",
    "immich_assets/metadata/gps-position/empty_gps.jpg", "immich_assets/metadata/gps-position/thompson-springs.jpg",
    "immich_assets/metadata/rating/mongolels.jpg",
]
EDITS = ["q40", "half", "png", "webp", "heic", "brighter", "darker", "rot90", "rot180", "rot270", "mirror", "crop"]
COPIES = 4
EDIT_SIDE = 2000
"""Copies are made from the source decoded to at most this long side."""


def _exif_for(source: Image.Image, keep: bool) -> bytes | None:
    if not keep:
        return None
    exif = source.getexif()
    if not exif:
        return None
    exif[0x0112] = 1  # the copy's pixels are already upright
    return exif.tobytes()


def _edit(image: Image.Image, kind: str, rng: random.Random) -> tuple[Image.Image, str, dict]:
    jpeg = ("JPEG", {"quality": 90})
    if kind == "q40":
        return image, "JPEG", {"quality": 40}
    if kind == "half":
        return image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.LANCZOS), "JPEG", {"quality": 85}
    if kind == "png":
        return image, "PNG", {}
    if kind == "webp":
        return image, "WEBP", {"quality": 80}
    if kind == "heic":
        return image, "HEIF", {"quality": 80}
    if kind in ("brighter", "darker"):
        return ImageEnhance.Brightness(image).enhance(1.2 if kind == "brighter" else 0.8), *jpeg
    turns = {"rot90": Image.Transpose.ROTATE_270, "rot180": Image.Transpose.ROTATE_180,
             "rot270": Image.Transpose.ROTATE_90, "mirror": Image.Transpose.FLIP_LEFT_RIGHT}
    if kind in turns:
        return image.transpose(turns[kind]), *jpeg
    fx, fy = rng.uniform(0.80, 0.95), rng.uniform(0.80, 0.95)
    w, h = round(image.width * fx), round(image.height * fy)
    x, y = rng.randint(0, image.width - w), rng.randint(0, image.height - h)
    return image.crop((x, y, x + w, y + h)), *jpeg


def build_set(root: Path, testdata: Path, seed: int = 13) -> dict[str, tuple[str, str]]:
    """The labelled library: relative path -> (source name, edit kind or "original")."""
    labels_file = root / "labels.json"
    if labels_file.is_file():
        return {k: tuple(v) for k, v in json.loads(labels_file.read_text()).items()}
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = random.Random(seed)
    labels: dict[str, tuple[str, str]] = {}
    cycle = itertools.cycle(EDITS)
    for i, rel in enumerate(SOURCES):
        src = testdata / rel
        if not src.is_file() or format_of(src) is None:
            continue
        name = f"s{i:02d}"
        original = f"{name}/{src.stem}{src.suffix.lower()}"
        (root / name).mkdir()
        shutil.copyfile(src, root / original)
        labels[original] = (name, "original")
        if i % 5 == 4:
            continue  # a photo without copies
        raw = Image.open(src)
        image = load_image(src, format_of(src), max_pixels=200_000_000)
        image.thumbnail((EDIT_SIDE, EDIT_SIDE), Image.Resampling.LANCZOS)
        for j in range(COPIES):
            kind = next(cycle)
            edited, fmt, options = _edit(image, kind, rng)
            exif = _exif_for(raw, keep=j % 2 == 0)
            if exif:
                options = {**options, "exif": exif}
            ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic"}[fmt]
            rel_copy = f"{name}/copy{j}_{kind}.{ext}"
            edited.save(root / rel_copy, fmt, **options)
            labels[rel_copy] = (name, kind)
    if not labels:
        raise SystemExit(f"no source photos under {testdata}: set PHOTOINDEX_TESTDATA or --testdata")
    labels_file.write_text(json.dumps(labels, indent=1))
    return labels


def pairs_of(groups: list[set[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for g in groups for p in itertools.combinations(sorted(g), 2)}


def score(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float, int, int]:
    hit = len(predicted & truth)
    precision = hit / len(predicted) if predicted else 1.0
    recall = hit / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, len(predicted), len(truth)


def per_edit(predicted: set[tuple[str, str]], truth: set[tuple[str, str]], labels: dict) -> dict[str, tuple]:
    out = {}
    for kind in EDITS:
        involves = lambda pair: any(labels[p][1] == kind for p in pair)  # noqa: E731
        out[kind] = score({p for p in predicted if involves(p)}, {p for p in truth if involves(p)})
    return out


def components(names: list[str], close: np.ndarray) -> list[set[str]]:
    parent = list(range(len(names)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(*np.nonzero(np.triu(close, 1))):
        parent[find(i)] = find(j)
    groups: dict[int, set[str]] = defaultdict(set)
    for i, n in enumerate(names):
        groups[find(i)].add(n)
    return [g for g in groups.values() if len(g) > 1]


def peers(root: Path, labels: dict, truth: set) -> list[tuple[str, int, tuple]]:
    """imagehash.phash 64-bit, plain and over 4 rotations, grouped at their best threshold (oracle)."""
    import imagehash

    names = sorted(labels)
    plain, turned = [], []
    for n in names:
        image = load_image(root / n, format_of(n), min_side=256)
        hashes = [imagehash.phash(image.rotate(90 * k, expand=True)).hash.flatten() for k in range(4)]
        plain.append(hashes[0])
        turned.append(hashes)
    plain_a = np.array(plain)
    d_plain = (plain_a[:, None, :] != plain_a[None, :, :]).sum(-1)
    turned_a = np.array(turned)  # n, 4, 64
    d_turned = np.min([(plain_a[:, None, :] != turned_a[None, :, k, :]).sum(-1) for k in range(4)], axis=0)
    d_turned = np.minimum(d_turned, d_turned.T)
    out = []
    for label, d in (("imagehash pHash 64-bit", d_plain), ("imagehash pHash 64-bit over 4 rotations", d_turned)):
        best = max(((t, score(pairs_of(components(names, d <= t)), truth)) for t in range(0, 33)),
                   key=lambda x: x[1][2])
        out.append((label, *best))
    return out


def calibration(root: Path, labels: dict) -> str:
    """Distances of every original-copy pair by edit, and of every original against every file of
    other sources (unrelated), for each signal the rule reads."""
    from engine.library.matching import PhotoFacts, compare
    from engine.library.signatures import compute

    sig, facts = {}, {}
    for i, n in enumerate(sorted(labels)):
        with Image.open(root / n) as header:
            width, height = header.size
        image = load_image(root / n, format_of(n), min_side=256)
        sig[n] = compute(image)
        if image.width > image.height != (width > height):
            width, height = height, width
        facts[n] = PhotoFacts(i, n, format_of(n), (root / n).stat().st_size, width, height)
    originals = {labels[n][0]: n for n in labels if labels[n][1] == "original"}
    rows = defaultdict(list)
    for n, (source, kind) in labels.items():
        if kind != "original":
            o = originals[source]
            rows[kind].append(compare(sig[o], sig[n], facts[o], facts[n], search_crop=True))
    for o in originals.values():
        for n in labels:
            if labels[n][0] != labels[o][0]:
                rows["unrelated"].append(compare(sig[o], sig[n], facts[o], facts[n], search_crop=True))
    lines = ["| pairs | n | pHash bits (max; unrelated: min, 0.1 %, 1 %, median) | pixels r (min) | edges r (min) |"
             " crop r (min) | crop edges r (min) | colour Δ (max) |",
             "|---|---|---|---|---|---|---|---|"]
    for kind, evs in rows.items():
        h = np.array([e.hash_bits for e in evs])
        p = np.array([e.pixels for e in evs])
        s = np.array([e.structure for e in evs])
        c = np.array([e.crop if e.crop is not None else -1 for e in evs])
        cs = np.array([e.crop_structure if e.crop_structure is not None else -1 for e in evs])
        col = np.array([e.colour for e in evs])
        if kind == "unrelated":
            lines.append(f"| unrelated | {len(evs)} | min {h.min()}, {np.percentile(h, .1):.0f}, {np.percentile(h, 1):.0f},"
                         f" {np.median(h):.0f} | max {p.max():.3f} | max {s.max():.3f} | max {c.max():.3f}"
                         f" (99.9 % {np.percentile(c, 99.9):.3f}) | max {cs.max():.3f} (99.9 % {np.percentile(cs, 99.9):.3f})"
                         f" | min {col.min():.1f} |")
        else:
            crop = f"{c.min():.3f} | {cs.min():.3f}" if kind == "crop" else "– | –"
            lines.append(f"| {kind} | {len(evs)} | {h.max()} | {p.min():.3f} | {s.min():.3f} | {crop} | {col.max():.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--testdata", type=Path, default=TESTDATA)
    parser.add_argument("--work", type=Path, default=BENCH_ROOT / "duplicates")
    parser.add_argument("--calibration", action="store_true", help="also print the distance tables")
    parser.add_argument("--fresh", action="store_true", help="rebuild the labelled set")
    args = parser.parse_args()

    from engine.app import PhotoIndex
    from engine.db.database import open_database
    from engine.indexing.scan import scan_library

    if args.fresh:
        shutil.rmtree(args.work, ignore_errors=True)
    root = args.work / "library"
    labels = build_set(root, args.testdata)
    by_source: dict[str, set[str]] = defaultdict(set)
    for n, (source, _) in labels.items():
        by_source[source].add(n)
    truth = pairs_of([g for g in by_source.values() if len(g) > 1])
    in_groups = sum(len(g) for g in by_source.values() if len(g) > 1)
    data = args.work / "data"
    shutil.rmtree(data, ignore_errors=True)
    settings = Settings(_env_file=None, data_dir=data, photos_dir=root, index_on_start=False, clip_model="SigLIP",
                        models_dir=data / "no-models")
    engine = PhotoIndex(settings, open_database(settings))
    try:
        scan_library(engine.db, root)
        with CpuMeter(settings.embedded_db_dir) as hashing:
            engine.indexer.run([], scan=False)
            hashed = engine.library.hash_photos()
        with CpuMeter(settings.embedded_db_dir) as comparing:
            compared = engine.library.compare_duplicates()
        with CpuMeter(settings.embedded_db_dir) as grouping:
            report = engine.library.duplicates("all", compare=False)
        with engine.db.connection() as conn:
            paths = {r["id"]: r["path"] for r in conn.execute("SELECT id, path FROM photos")}
    finally:
        engine.close()
        stop_embedded(settings)
    groups = [{paths[p.id] for p in g.photos} for g in report.groups]
    predicted = pairs_of(groups)
    overall = score(predicted, truth)
    edits = per_edit(predicted, truth, labels)
    peer_rows = peers(root, labels, truth)

    print(f"# {command()}")
    print(f"# engine {revision()}; {machine()}")
    print(f"# set: {len(labels)} files, {in_groups} in {sum(len(g) > 1 for g in by_source.values())} groups,"
          f" {sum(len(g) == 1 for g in by_source.values())} singletons; {len(truth)} true pairs;"
          f" no image-text weights")
    print(f"# engine: hashed {hashed.hashed} ({hashed.failed} failed) in {hashing.seconds:.1f} s; compared "
          f"{compared.compared} ({compared.candidates} candidate pairs, {compared.pairs} kept) in {comparing.seconds:.1f} s;"
          f" grouped in {grouping.seconds:.2f} s; {report.total_groups} groups, {report.review_groups} flagged for review;"
          f" other load {max(hashing.other_cores, comparing.other_cores):.2f} cores")
    print()
    print("| pairs involving | precision | recall | F1 | predicted pairs | true pairs |")
    print("|---|---|---|---|---|---|")
    for kind, (p, r, f, n_pred, n_true) in edits.items():
        print(f"| {kind} | {p:.3f} | {r:.3f} | {f:.3f} | {n_pred} | {n_true} |")
    p, r, f, n_pred, n_true = overall
    print(f"| **all (engine, method all)** | **{p:.3f}** | **{r:.3f}** | **{f:.3f}** | {n_pred} | {n_true} |")
    for label, threshold, (p, r, f, n_pred, n_true) in peer_rows:
        print(f"| peer: {label}, best threshold {threshold} bits | {p:.3f} | {r:.3f} | {f:.3f} | {n_pred} | {n_true} |")
    missed = sorted(truth - predicted)
    wrong = sorted(predicted - truth)
    if missed:
        print(f"\nmissed ({len(missed)}):", ", ".join(f"{a} ~ {b}" for a, b in missed[:20]))
    if wrong:
        print(f"wrong ({len(wrong)}):", ", ".join(f"{a} ~ {b}" for a, b in wrong[:20]))
    if args.calibration:
        print()
        print(calibration(root, labels))


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"\n# {time.time() - t0:.0f} s in all")
