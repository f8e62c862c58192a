"""Tests of the procedural landscape generator (train/procedural)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from train.procedural import (
    OUTDOOR_CLASSES, SETTINGS, Scene, generate_scene, render_image,
)
from train.procedural.classes import (
    EARTH, GRASS, LAKE, MOUNTAIN, SAND, SEA, SKY, TREE, WATER_CLASSES, class_table,
)

ROOT = Path(__file__).resolve().parents[1]
SIZE = 96


@pytest.fixture(scope="module")
def day_scenes() -> list[Scene]:
    return [generate_scene(s, SIZE, "day") for s in range(24)]


def _mean(scenes: list[Scene], cls: int) -> np.ndarray:
    px = [s.image[s.labels == cls] for s in scenes]
    px = np.concatenate([p for p in px if len(p)]).astype(np.float64)
    return px.mean(axis=0)


def test_public_constants() -> None:
    assert SETTINGS == ("day", "golden_hour", "sunset", "dusk", "overcast", "snow")
    table = class_table()
    names = {table[c][0] for c in OUTDOOR_CLASSES}
    assert {"sky", "tree", "grass", "mountain", "sea", "lake", "river", "sand"} <= names
    assert len(set(OUTDOOR_CLASSES)) == len(OUTDOOR_CLASSES)


def test_scene_types_and_shapes() -> None:
    s = generate_scene(3, (80, 112), "sunset")
    assert isinstance(s, Scene) and s.seed == 3 and s.setting == "sunset"
    assert s.image.shape == (80, 112, 3) and s.image.dtype == np.uint8
    assert s.labels.shape == (80, 112) and s.labels.dtype == np.uint8
    assert generate_scene(3, SIZE).setting in SETTINGS


def test_deterministic() -> None:
    a, b = generate_scene(11, SIZE), generate_scene(11, SIZE)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.labels, b.labels)
    assert a.setting == b.setting
    c = generate_scene(12, SIZE)
    assert not np.array_equal(a.labels, c.labels)
    assert not np.array_equal(a.image, c.image)


def test_unknown_setting_rejected() -> None:
    with pytest.raises(ValueError):
        generate_scene(0, 32, "midnight")


def test_labels_only_outdoor_and_all_classes_appear() -> None:
    seen: set[int] = set()
    for seed in range(200):
        labels = generate_scene(seed, 64, "day").labels
        values = set(np.unique(labels).tolist())
        assert values <= set(OUTDOOR_CLASSES), values - set(OUTDOOR_CLASSES)
        assert SKY in values
        seen |= values
    assert seen == set(OUTDOOR_CLASSES), set(OUTDOOR_CLASSES) - seen


def test_day_colours_match_classes(day_scenes: list[Scene]) -> None:
    sky, grass, tree = (_mean(day_scenes, c) for c in (SKY, GRASS, TREE))
    assert sky[2] > sky[0] + 30, sky  # blue sky
    assert sky.sum() > grass.sum() + 100
    assert grass[1] > grass[0] and grass[1] > grass[2], grass  # green grass
    assert tree[1] > tree[2] and tree.sum() < grass.sum(), tree  # darker foliage
    water = np.concatenate([s.image[np.isin(s.labels, WATER_CLASSES)] for s in day_scenes])
    assert water[:, 2].mean() > water[:, 0].mean(), "water reflects a blue sky"
    sand = _mean(day_scenes, SAND)
    assert sand[0] > sand[2] + 20, sand  # warm sand
    mountain = _mean(day_scenes, MOUNTAIN)
    assert abs(mountain[0] - mountain[2]) < 60  # greyish rock


def test_boundaries_do_not_bleed(day_scenes: list[Scene]) -> None:
    """Pixels on a class boundary look like their own class, not their neighbour."""
    worse = 0
    total = 0
    for s in day_scenes:
        lab, img = s.labels, s.image.astype(np.float64)
        for cls in (SKY, GRASS, TREE, LAKE, SEA, EARTH):
            m = lab == cls
            if m.sum() < 200:
                continue
            edge = np.zeros_like(m)
            edge[1:] |= m[1:] & (lab[:-1] != cls)
            edge[:-1] |= m[:-1] & (lab[1:] != cls)
            inner = m & ~edge
            if edge.sum() < 10 or inner.sum() < 50:
                continue
            other = ~m
            d_own = np.abs(img[edge].mean(0) - img[inner].mean(0)).sum()
            d_other = np.abs(img[edge].mean(0) - img[other].mean(0)).sum()
            total += 1
            worse += d_own > d_other
    assert total > 20 and worse <= total * 0.1, (worse, total)


def test_settings_change_the_image() -> None:
    scenes = {st: generate_scene(21, SIZE, st) for st in SETTINGS}
    labels = scenes["day"].labels
    for st, s in scenes.items():
        assert np.array_equal(s.labels, labels), "layout must not depend on the setting"
    images = [s.image.astype(np.int32) for s in scenes.values()]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert np.abs(images[i] - images[j]).mean() > 4, (SETTINGS[i], SETTINGS[j])
    mean = {st: s.image.astype(np.float64).mean() for st, s in scenes.items()}
    assert mean["dusk"] < mean["day"] - 25
    sat = {st: np.ptp(s.image.astype(np.float64), axis=2).mean() for st, s in scenes.items()}
    assert sat["overcast"] < sat["day"]
    sky = {st: s.image[labels == SKY].astype(np.float64).mean(0) for st, s in scenes.items()}
    warmth = {st: c[0] - c[2] for st, c in sky.items()}
    assert warmth["sunset"] > warmth["day"] + 30 and warmth["golden_hour"] > warmth["day"] + 30


def test_snow_whitens_ground() -> None:
    day, snow = generate_scene(2, SIZE, "day"), generate_scene(2, SIZE, "snow")
    ground = np.isin(day.labels, (GRASS, EARTH))
    assert ground.sum() > 100
    assert snow.image[ground].mean() > day.image[ground].mean() + 50


def test_render_image_hand_painted_layout() -> None:
    labels = np.full((64, 96), SKY, np.uint8)
    labels[30:, :] = GRASS
    labels[20:30, 10:60] = MOUNTAIN
    labels[40:50, 30:70] = LAKE
    a = render_image(labels, "golden_hour", 7)
    assert a.shape == (64, 96, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_image(labels, "golden_hour", 7))
    assert not np.array_equal(a, render_image(labels, "golden_hour", 8))
    labels[0, 0] = 150  # classes the generator never makes still render
    assert render_image(labels, "day", 0).shape == (64, 96, 3)


def test_dataset_wrapper() -> None:
    torch = pytest.importorskip("torch")
    from train.procedural import ProceduralDataset

    ds = ProceduralDataset(5, size=64, base_seed=100)
    assert len(ds) == 5
    item = ds[2]
    assert item["path"] == "procedural/102"
    img, lab = item["image"], item["label"]
    assert img.shape == (3, 64, 64) and img.dtype == torch.float32
    assert lab.shape == (64, 64) and lab.dtype == torch.int64
    assert img.min() >= -1.0 and img.max() <= 1.0
    assert set(lab.unique().tolist()) <= set(OUTDOOR_CLASSES)
    scene = generate_scene(102, 64)
    assert torch.equal(lab, torch.from_numpy(scene.labels.astype(np.int64)))
    assert torch.allclose(img, torch.from_numpy(scene.image).permute(2, 0, 1).float() / 127.5 - 1)
    with pytest.raises(IndexError):
        ds[5]


def test_setting_weights_change_the_mix() -> None:
    only_snow = {name: 0.0 for name in SETTINGS} | {"snow": 1.0}
    assert {generate_scene(s, 32, weights=only_snow).setting for s in range(10)} == {"snow"}
    default = [generate_scene(s, 32).setting for s in range(200)]
    more_snow = [generate_scene(s, 32, weights={"snow": 0.5}).setting for s in range(200)]
    assert more_snow.count("snow") > 2 * default.count("snow") > 0
    assert [generate_scene(s, 32, weights={"snow": 0.5}).setting for s in range(20)] == more_snow[:20]
    with pytest.raises(ValueError, match="unknown setting"):
        generate_scene(0, 32, weights={"rain": 1.0})


def test_dataset_setting_weights() -> None:
    pytest.importorskip("torch")
    from train.procedural import ProceduralDataset

    night = ProceduralDataset(3, size=32, setting_weights={n: 0.0 for n in SETTINGS} | {"dusk": 1.0})
    for i in range(3):
        expected = generate_scene(i, 32, "dusk").image.astype(np.float32) / 127.5 - 1
        assert np.allclose(night[i]["image"].permute(1, 2, 0).numpy(), expected, atol=1e-6)


def _make_assets_module():
    spec = importlib.util.spec_from_file_location("make_assets", ROOT / "scripts" / "make_assets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_style_assets() -> None:
    files = sorted((ROOT / "assets" / "styles").glob("*.png"))
    assert 6 <= len(files) <= 12
    for st in SETTINGS:
        assert any(f.name.startswith(st) for f in files), st
    for f in files:
        with Image.open(f) as im:
            assert im.size == (256, 256) and im.mode in ("RGB", "P")
    mod = _make_assets_module()
    assert set(mod.STYLES) == {f.name for f in files}
    name, (seed, setting) = sorted(mod.STYLES.items())[0]
    expected = generate_scene(seed, 256, setting).image
    with Image.open(ROOT / "assets" / "styles" / name) as im:
        stored = np.asarray(im.convert("RGB"), np.float64)
    assert np.abs(stored - expected).mean() < 3.0, "assets are stale: run scripts/make_assets.py"


def test_example_sketches() -> None:
    files = sorted((ROOT / "assets" / "examples").glob("*.png"))
    assert 6 <= len(files) <= 8
    known = set(OUTDOOR_CLASSES)
    for f in files:
        with Image.open(f) as im:
            assert im.mode == "L" and im.size == (256, 256)
            values = set(np.unique(np.asarray(im)).tolist())
        assert values <= known and SKY in values and len(values) >= 4, (f.name, values)
    total = sum(f.stat().st_size for f in files)
    total += sum(f.stat().st_size for f in (ROOT / "assets" / "styles").glob("*.png"))
    assert total < 1_000_000
