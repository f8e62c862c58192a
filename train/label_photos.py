"""Coarse semantic labels for real photographs: superpixels, merged into numbered regions, one class per region.

A person labels a photo in three steps:

1. `segment` cuts the photo into superpixels (a seeded SLIC in CIELAB), merges adjacent ones of similar colour
   into a few numbered regions (Ward's criterion on their mean colour), and writes WORK/NAME_regions.png: the
   photo beside the same photo with every region outlined and numbered.
2. The person looks at it and writes the photo's entry in train/real_labels/regions.json: the segmentation's
   parameters (more regions where one region spans two classes) and the class of every region, by name (the 17
   landscape classes of the bundled model, or any other ADE20K class: building, boat, person...).
3. `apply` segments the photo again with those parameters, gives each region its class and writes the label
   map NAME.png (an index PNG of ADE20K ids, the photo's size) and WORK/NAME_check.png, the photo beside its
   coloured labels, to be looked at.

The label PNGs are the labels: training and the measures read them, never the regions. The regions only
regenerate them, and an entry records the SHA-256 of the photo's pixels it was made on, so `apply --check` can
tell whether it would write exactly the labels kept (the photos come from the same Debian files, but their
decoding and shrinking belong to the installed Pillow).

    python -m train.label_photos segment PHOTOS_DIR [NAME ...] --work WORK [--regions N] [--superpixels N]
    python -m train.label_photos apply PHOTOS_DIR [NAME ...] --work WORK [--check]
    python -m train.label_photos shares PHOTOS_DIR        # class shares of the folder's photos' label maps

PHOTOS_DIR holds NAME.png as `python -m train.real_photos SET DIR` writes them (long side 512).
"""
from __future__ import annotations

import hashlib
import heapq
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from spade.colour import srgb_to_lab
from spade.errors import GauguinError
from spade.labels import LabelSet, ade20k, read_mask, write_index_png

LABELS_DIR = Path(__file__).with_name("real_labels")
REGIONS_FILE = "regions.json"
OUTLINE = (255, 230, 0)


@dataclass(frozen=True)
class Segmentation:
    """How a photo is cut into regions; recorded with its labels so the regions come back the same."""

    superpixels: int = 400
    compactness: float = 10.0
    regions: int = 16
    seed: int = 0


def _shift(a: np.ndarray, dy: int, dx: int, fill) -> np.ndarray:
    """`a` moved by (dy, dx), the uncovered border filled with `fill`."""
    out = np.full_like(a, fill)
    h, w = a.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = a[max(-dy, 0):h - max(dy, 0),
                                                                   max(-dx, 0):w - max(dx, 0)]
    return out


NEIGHBOURS = ((1, 0), (-1, 0), (0, 1), (0, -1))


def connected_components(labels: np.ndarray) -> np.ndarray:
    """Ids 0..n-1 of the 4-connected components of equal labels."""
    labels = labels.astype(np.int64)
    h, w = labels.shape
    comp = np.arange(h * w, dtype=np.int64).reshape(h, w)
    big = h * w
    while True:
        low = comp
        for dy, dx in NEIGHBOURS:
            same = _shift(labels, dy, dx, -1) == labels
            low = np.minimum(low, np.where(same, _shift(comp, dy, dx, big), big))
        low = low.ravel()[low.ravel()].reshape(h, w)  # pointer jumping: follow each root to its own root
        if np.array_equal(low, comp):
            break
        comp = low
    return np.unique(comp, return_inverse=True)[1].reshape(h, w)


def _absorb_small(parts: np.ndarray, min_size: int) -> np.ndarray:
    """Parts smaller than `min_size` pixels taken over by a neighbouring part, then renumbered 0..n-1."""
    while True:
        sizes = np.bincount(parts.ravel())
        small = sizes[parts] < min_size
        if not small.any():
            return np.unique(parts, return_inverse=True)[1].reshape(parts.shape)
        before = parts
        for dy, dx in NEIGHBOURS:
            other = _shift(parts, dy, dx, -1)
            take = small & (other >= 0) & (sizes[np.maximum(other, 0)] >= min_size)
            parts = np.where(take, other, parts)
            small &= ~take
        if np.array_equal(before, parts):  # only small parts left (a tiny image): keep the largest
            parts = np.where(sizes[parts] < min_size, int(np.argmax(sizes)), parts)


def slic(lab: np.ndarray, count: int, compactness: float, seed: int, iterations: int = 10) -> np.ndarray:
    """SLIC superpixels (Achanta et al. 2012) of a CIELAB image: ids 0..n-1, each superpixel connected.

    Centres start on a grid of about `count` cells, jittered by the seed; each pixel joins the nearest of the
    centres of its own and the 8 neighbouring cells, by colour distance plus `compactness` times the spatial
    distance in grid steps."""
    h, w = lab.shape[:2]
    step = float(np.sqrt(h * w / count))
    gy, gx = max(1, round(h / step)), max(1, round(w / step))
    rng = np.random.default_rng(seed)
    cy = ((np.arange(gy) + 0.5 + rng.uniform(-0.25, 0.25, gy)) * h / gy)
    cx = ((np.arange(gx) + 0.5 + rng.uniform(-0.25, 0.25, gx)) * w / gx)
    yy, xx = np.mgrid[0:h, 0:w]
    iy, ix = (yy * gy // h).ravel(), (xx * gx // w).ravel()
    colour = np.asfortranarray(lab.reshape(-1, 3), np.float32)  # column-major: one channel is contiguous
    place = np.asfortranarray(np.stack([yy.ravel(), xx.ravel()], 1), np.float32)
    candidates = []  # for each of the 9 neighbouring cells: its centre's index per pixel, and where it exists
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            ky, kx = iy + dy, ix + dx
            valid = (ky >= 0) & (ky < gy) & (kx >= 0) & (kx < gx)
            candidates.append((np.where(valid, ky * gx + kx, 0), valid))
    centre_place = np.stack([np.repeat(cy, gx), np.tile(cx, gy)], 1).astype(np.float32)
    at = np.clip(centre_place[:, 0].astype(int), 0, h - 1) * w + np.clip(centre_place[:, 1].astype(int), 0, w - 1)
    centre_colour = colour[at]
    weight = np.float32((compactness / step) ** 2)
    for _ in range(iterations):
        best = np.full(h * w, np.inf, np.float32)
        owner = np.zeros(h * w, np.int64)
        for k, valid in candidates:
            d = sum((colour[:, j] - centre_colour[k, j]) ** 2 for j in range(3)) \
                + weight * sum((place[:, j] - centre_place[k, j]) ** 2 for j in range(2))
            better = valid & (d < best)
            best[better], owner[better] = d[better], k[better]
        sizes = np.bincount(owner, minlength=gy * gx)
        keep = sizes > 0
        for target, values in ((centre_colour, colour), (centre_place, place)):
            sums = np.stack([np.bincount(owner, values[:, j], gy * gx) for j in range(values.shape[1])], 1)
            target[keep] = sums[keep] / sizes[keep, None]
    parts = connected_components(owner.reshape(h, w))
    return _absorb_small(parts, max(1, int(h * w / count / 4)))


def merge_regions(lab: np.ndarray, parts: np.ndarray, count: int) -> np.ndarray:
    """Adjacent parts merged pairwise, cheapest first by Ward's criterion on mean CIELAB colour, until `count`
    remain; returns region ids 1..n numbered in reading order of their labels' anchors."""
    n = int(parts.max()) + 1
    sizes = np.bincount(parts.ravel(), minlength=n).astype(np.float64)
    sums = np.stack([np.bincount(parts.ravel(), lab[..., j].ravel(), n) for j in range(3)], 1)
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for a, b in ((parts[:-1], parts[1:]), (parts[:, :-1], parts[:, 1:])):
        differ = a != b
        for p, q in set(zip(a[differ].tolist(), b[differ].tolist())):
            neighbours[p].add(q)
            neighbours[q].add(p)

    def cost(p: int, q: int) -> float:
        d = sums[p] / sizes[p] - sums[q] / sizes[q]
        return float(sizes[p] * sizes[q] / (sizes[p] + sizes[q]) * (d @ d))

    version = [0] * n
    heap = [(cost(p, q), p, q, 0, 0) for p in range(n) for q in neighbours[p] if p < q]
    heapq.heapify(heap)
    root = list(range(n))
    alive = n
    while alive > count and heap:
        _, p, q, vp, vq = heapq.heappop(heap)
        if root[p] != p or root[q] != q or version[p] != vp or version[q] != vq:
            continue
        root[q] = p
        sizes[p] += sizes[q]
        sums[p] += sums[q]
        neighbours[p] = (neighbours[p] | neighbours[q]) - {p, q}
        for r in neighbours[q]:
            neighbours[r].discard(q)
            if r != p:
                neighbours[r].add(p)
        version[p] += 1
        alive -= 1
        for r in neighbours[p]:
            a, b = (p, r) if p < r else (r, p)
            heapq.heappush(heap, (cost(a, b), a, b, version[a], version[b]))

    def find(p: int) -> int:
        while root[p] != p:
            p = root[p]
        return p

    merged = np.array([find(p) for p in range(n)])[parts]
    merged = np.unique(merged, return_inverse=True)[1].reshape(parts.shape)
    anchors = region_anchors(merged)
    order = sorted(range(len(anchors)), key=lambda r: (anchors[r][0] // 32, anchors[r][1]))
    renumber = np.empty(len(anchors), np.int64)
    renumber[order] = np.arange(1, len(anchors) + 1)
    return renumber[merged]


def region_anchors(regions: np.ndarray) -> list[tuple[int, int]]:
    """For each region id 0..n-1 (or 1..n, then index r-1), the (y, x) of a pixel deepest inside it: where a
    number drawn on it sits best."""
    ids = np.unique(regions)
    depth = np.zeros(regions.shape, np.int64)
    inside = np.ones(regions.shape, bool)
    for dy, dx in NEIGHBOURS:
        inside &= _shift(regions, dy, dx, -1) == regions
    level = 1
    depth[:] = 1
    while inside.any():
        level += 1
        depth[inside] = level
        shrunk = inside.copy()
        for dy, dx in NEIGHBOURS:
            shrunk &= _shift(inside, dy, dx, False)
        inside = shrunk
    flat_r, flat_d = regions.ravel(), depth.ravel()
    order = np.lexsort((-flat_d, flat_r))  # by region, deepest first
    first = order[np.searchsorted(flat_r[order], ids)]
    w = regions.shape[1]
    return [(int(i // w), int(i % w)) for i in first]


def photo_digest(rgb: np.ndarray) -> str:
    """SHA-256 of a photo's pixels (its shape and RGB bytes), independent of how its file was compressed."""
    rgb = np.ascontiguousarray(rgb, np.uint8)
    return hashlib.sha256(f"{rgb.shape}".encode() + rgb.tobytes()).hexdigest()


def segment(rgb: np.ndarray, seg: Segmentation) -> np.ndarray:
    """Region ids 1..n of a photo (H, W, 3) uint8."""
    lab = srgb_to_lab(rgb)
    return merge_regions(lab, slic(lab, seg.superpixels, seg.compactness, seg.seed), seg.regions)


def _borders(ids: np.ndarray) -> np.ndarray:
    """Pixels whose right or lower neighbour lies in another region."""
    border = np.zeros(ids.shape, bool)
    border[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    border[:-1] |= ids[:-1] != ids[1:]
    return border


def _name_parts(image: Image.Image, ids: np.ndarray, names: dict[int, str], scale: int) -> None:
    """Write names[v] at the deepest pixel of each part of `ids` whose value v has a name."""
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=11 * scale)
    for value, (y, x) in zip(np.unique(ids), region_anchors(ids)):
        if int(value) in names:
            draw.text((x * scale, y * scale), names[int(value)], fill="white", font=font, anchor="mm",
                      stroke_width=2, stroke_fill="black")


def overlay(rgb: np.ndarray, regions: np.ndarray, scale: int = 2) -> Image.Image:
    """The photo beside the photo with each region outlined and numbered, `scale` times larger."""
    h, w = regions.shape
    big = np.repeat(np.repeat(regions, scale, 0), scale, 1)
    photo = np.asarray(Image.fromarray(rgb).resize((w * scale, h * scale), Image.Resampling.BICUBIC)).copy()
    marked = photo.copy()
    marked[_borders(big)] = OUTLINE
    marked_image = Image.fromarray(marked)
    _name_parts(marked_image, regions, {int(r): str(r) for r in np.unique(regions)}, scale)
    out = Image.new("RGB", (2 * w * scale + 8, h * scale), "white")
    out.paste(Image.fromarray(photo), (0, 0))
    out.paste(marked_image, (w * scale + 8, 0))
    return out


def check_sheet(rgb: np.ndarray, labels: np.ndarray, label_set: LabelSet, scale: int = 2) -> Image.Image:
    """The photo beside its labels in their palette colours, each labelled part named."""
    h, w = labels.shape
    photo = Image.fromarray(rgb).resize((w * scale, h * scale), Image.Resampling.BICUBIC)
    colours = Image.fromarray(label_set.colorize(np.repeat(np.repeat(labels, scale, 0), scale, 1)))
    parts = connected_components(labels)
    sizes = np.bincount(parts.ravel())
    named = np.where(sizes[parts] >= max(64, h * w // 200), parts, -1)  # name only the parts large enough
    first = dict(zip(*np.unique(parts.ravel(), return_index=True)))
    _name_parts(colours, named, {int(p): label_set.names[labels.ravel()[i]] for p, i in first.items()}, scale)
    out = Image.new("RGB", (2 * w * scale + 8, h * scale), "white")
    out.paste(photo, (0, 0))
    out.paste(colours, (w * scale + 8, 0))
    return out


def read_regions(folder: Path = LABELS_DIR) -> dict[str, dict]:
    """name -> entry of the folder's regions.json ({} where there is none)."""
    path = folder / REGIONS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def entry_segmentation(entry: dict) -> Segmentation:
    return Segmentation(**entry["segmentation"])


def class_ids(entry: dict, label_set: LabelSet, name: str) -> dict[int, int]:
    """region number -> class id of an entry; every region must have a class."""
    table = {}
    for region, cls in entry["classes"].items():
        try:
            table[int(region)] = 0 if cls == "other" else label_set.id_of(cls)
        except KeyError:
            raise ValueError(f"{name}: region {region} has class {cls!r}, not an {label_set.name} class") from None
    return table


def label_map(regions: np.ndarray, classes: dict[int, int], name: str) -> np.ndarray:
    """The label map (uint8 class ids) of a photo's regions."""
    missing = sorted(set(np.unique(regions).tolist()) - set(classes))
    if missing:
        raise ValueError(f"{name}: regions {', '.join(map(str, missing))} have no class")
    lut = np.zeros(int(regions.max()) + 1, np.uint8)
    for region, cls in classes.items():
        if region < len(lut):
            lut[region] = cls
    return lut[regions]


def class_shares(names: list[str], folder: Path = LABELS_DIR, label_set: LabelSet | None = None) -> dict[str, float]:
    """Class name -> its share of all the pixels of the named label maps, largest first."""
    label_set = label_set or ade20k()
    counts = np.zeros(len(label_set), np.int64)
    for name in names:
        counts += np.bincount(read_mask(folder / f"{name}.png", label_set).ravel(), minlength=len(label_set))
    order = np.argsort(-counts, kind="stable")
    return {label_set.names[i]: float(counts[i] / counts.sum()) for i in order if counts[i]}


def _read_photo(folder: Path, name: str) -> np.ndarray:
    path = folder / f"{name}.png"
    if not path.is_file():
        raise ValueError(f"no photo {path} (write the set with python -m train.real_photos SET {folder})")
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _names(folder: Path, names: list[str]) -> list[str]:
    return names or sorted(p.stem for p in folder.glob("*.png"))


def main(argv: list[str] | None = None, prog: str = "python -m train.label_photos") -> int:
    from spade.usage import EXIT_BAD_INPUT, UsageParser

    p = UsageParser(prog=prog, description="Label real photographs coarsely, region by region.")
    sub = p.add_subparsers(dest="command", required=True)
    seg = sub.add_parser("segment", help="write each photo's numbered regions to look at")
    app = sub.add_parser("apply", help="write the label maps of regions.json's entries")
    for s in (seg, app):
        s.add_argument("photos", help="folder of NAME.png photos (python -m train.real_photos writes one)")
        s.add_argument("names", nargs="*", help="the photos to do (default: every photo of the folder)")
        s.add_argument("--work", required=True, help="folder for the overlays and check sheets")
        s.add_argument("--labels", default=str(LABELS_DIR), help="folder of regions.json and the label maps")
    seg.add_argument("--regions", type=int, help="regions to merge into (default: the entry's, else 16)")
    seg.add_argument("--superpixels", type=int, help="superpixels (default: the entry's, else 400)")
    shares = sub.add_parser("shares", help="the class shares of the label maps of a folder's photos")
    shares.add_argument("photos", help="folder of NAME.png photos (python -m train.real_photos writes one)")
    shares.add_argument("--labels", default=str(LABELS_DIR), help="folder of the label maps")
    app.add_argument("--check", action="store_true",
                     help="write nothing; say whether the label maps kept are exactly what the entries give")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    photos, labels_dir = Path(args.photos), Path(args.labels)
    label_set = ade20k()
    if args.command == "shares":
        try:
            names = [n for n in _names(photos, []) if (labels_dir / f"{n}.png").is_file()]
            table = class_shares(names, labels_dir, label_set)
        except GauguinError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"{len(names)} label maps: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in table.items()))
        return 0
    entries, work = read_regions(labels_dir), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    differ = []
    try:
        for name in _names(photos, args.names):
            rgb = _read_photo(photos, name)
            entry = entries.get(name)
            if args.command == "segment":
                base = entry_segmentation(entry) if entry else Segmentation()
                seg_cfg = Segmentation(args.superpixels or base.superpixels, base.compactness,
                                       args.regions or base.regions, base.seed)
                regions = segment(rgb, seg_cfg)
                overlay(rgb, regions).save(work / f"{name}_regions.png")
                template = {"photo_sha256": photo_digest(rgb), "size": [rgb.shape[1], rgb.shape[0]],
                            "segmentation": asdict(seg_cfg),
                            "classes": {str(r): "" for r in range(1, int(regions.max()) + 1)}}
                (work / f"{name}.json").write_text(json.dumps(template, indent=1) + "\n")
                print(f"{name}: {regions.max()} regions -> {work / (name + '_regions.png')}, entry to fill in "
                      f"{work / (name + '.json')}")
                continue
            if entry is None:
                raise ValueError(f"{name}: no entry in {labels_dir / REGIONS_FILE}")
            if entry["photo_sha256"] != photo_digest(rgb):
                raise ValueError(f"{name}: the photo's pixels differ from those it was labelled on "
                                 f"(SHA-256 {entry['photo_sha256'][:12]}...); segment it again and look")
            labels = label_map(segment(rgb, entry_segmentation(entry)), class_ids(entry, label_set, name), name)
            target = labels_dir / f"{name}.png"
            if args.check:
                kept = read_mask(target, label_set) if target.is_file() else None
                if kept is None or not np.array_equal(kept, labels):
                    differ.append(name)
                continue
            write_index_png(target, labels, label_set)
            check_sheet(rgb, labels, label_set).save(work / f"{name}_check.png")
            print(f"{name}: {target} ({labels.shape[1]}x{labels.shape[0]}), check sheet {work / (name + '_check.png')}")
    except (ValueError, OSError, KeyError, GauguinError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "apply" and args.check:
        if differ:
            print(f"error: {len(differ)} label maps differ from their entries: {', '.join(differ)}", file=sys.stderr)
            return 1
        print("every label map is exactly what its entry gives")
    return 0


if __name__ == "__main__":
    sys.exit(main())
