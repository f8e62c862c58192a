"""The bundled model (assets/model), as a user meets it: it loads, renders every example sketch recognisably,
styles change the setting, and its streaks and texture stay within bounds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spade import load_model, read_mask, resize_labels
from spade.paths import DEFAULT_MODEL_DIR, EXAMPLES_DIR, STYLES_DIR
from train.procedural import OUTDOOR_CLASSES

ROOT = Path(__file__).resolve().parent.parent
SKY, TREE, GRASS, LAKE = 3, 5, 10, 129


@pytest.fixture(scope="module")
def renderer():
    return load_model(None, "cpu")


def example(renderer, name: str) -> np.ndarray:
    return resize_labels(read_mask(EXAMPLES_DIR / name), *renderer.default_size)


def mean_rgb(photo: np.ndarray, labels: np.ndarray, cls: int) -> np.ndarray:
    """Mean colour of a class, away from its borders (the pixels whose 5x5 neighbourhood is all that class)."""
    inside = labels == cls
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            inside &= np.roll(labels, (dy, dx), axis=(0, 1)) == cls
    assert inside.sum() > 20, f"class {cls} too small in the test sketch"
    return photo[inside].astype(np.float64).mean(0)


def test_bundled_model_describes_itself(renderer):
    assert DEFAULT_MODEL_DIR.joinpath("config.json").is_file()
    assert renderer.has_encoder and renderer.uses_style
    known = set(np.flatnonzero(renderer.trained_classes).tolist())
    assert known == set(OUTDOOR_CLASSES)
    assert renderer.default_size == (256, 256)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES_DIR.glob("*.png")))
def test_every_example_renders(renderer, name):
    labels = example(renderer, name)
    photo = renderer.render(labels, renderer.encode_style(STYLES_DIR / "day_lake.png"))
    assert photo.shape == (*renderer.default_size, 3)
    assert photo.std() > 20  # a picture, not a flat colour


def test_regions_are_recognisable_by_day(renderer):
    labels = example(renderer, "lake_mountains.png")
    photo = renderer.render(labels, renderer.encode_style(STYLES_DIR / "day_lake.png"))
    sky, lake = mean_rgb(photo, labels, SKY), mean_rgb(photo, labels, LAKE)
    r, g, b = sky
    assert b > r + 20 and sky.mean() > 110, f"day sky should be bright and blue, got {sky}"
    forest = example(renderer, "meadow_trees.png")
    photo = renderer.render(forest, renderer.encode_style(STYLES_DIR / "day_lake.png"))
    r, g, b = mean_rgb(photo, forest, GRASS)
    assert g > r and g > b, f"grass should be green, got {(r, g, b)}"
    assert lake[2] > lake[0], f"lake water should be blue-ish, got {lake}"


def test_style_changes_the_setting(renderer):
    labels = example(renderer, "lake_mountains.png")
    day = renderer.render(labels, renderer.encode_style(STYLES_DIR / "day_lake.png"))
    sunset = renderer.render(labels, renderer.encode_style(STYLES_DIR / "sunset_lake.png"))
    assert np.abs(day.astype(int) - sunset.astype(int)).mean() > 10
    day_sky, sunset_sky = mean_rgb(day, labels, SKY), mean_rgb(sunset, labels, SKY)
    assert sunset_sky[0] - sunset_sky[2] > day_sky[0] - day_sky[2] + 30, (day_sky, sunset_sky)


def test_a_preset_reads_back_as_its_own_latent_with_no_grade(renderer):
    """Presets are procedural renders the atlas holds: their look is met exactly, so no tone is added."""
    for path in sorted(STYLES_DIR.glob("*.png")):
        assert renderer.encode_style(path).tone is None, path.name


def test_snow_covers_the_ground(renderer):
    labels = example(renderer, "meadow_trees.png")
    day = renderer.render(labels, renderer.encode_style(STYLES_DIR / "day_lake.png"))
    snow = renderer.render(labels, renderer.encode_style(STYLES_DIR / "snow_forest.png"))
    day_grass, snow_grass = mean_rgb(day, labels, GRASS), mean_rgb(snow, labels, GRASS)
    assert snow_grass.min() > 170 and snow_grass.min() > day_grass.max() + 60, (day_grass, snow_grass)


def test_a_sketch_it_never_saw_is_recognisable(renderer):
    """A hand-built layout (a sine ridge, straight shores, a round tree), unlike any procedural training scene."""
    from tests.conftest import landscape
    labels = landscape(*renderer.default_size)
    photo = renderer.render(labels, renderer.encode_style(STYLES_DIR / "day_lake.png"))
    sky, water, grass = (mean_rgb(photo, labels, c) for c in (SKY, 22, GRASS))
    assert sky[2] > sky[0] + 40 and sky.mean() > 110, f"sky should be bright and blue, got {sky}"
    assert water[2] > water[0], f"water should be blue-ish, got {water}"
    assert grass[1] > grass[0] and grass[1] > grass[2], f"grass should be green, got {grass}"
    assert sky.mean() > water.mean() > 0


@pytest.fixture(scope="module")
def measured(renderer) -> list[dict]:
    """train.quality's rows for the shipped model: every example sketch under four presets, per large region."""
    from train.quality import model_streaks
    return model_streaks(renderer)


def test_large_regions_are_less_streaked(measured):
    """Vertical lines through trees, water, rock and fields (see train.quality). Over the example sketches under
    four presets, the procedural photos score 0.007 on average (worst region 0.13); the stage-3 model scored 0.17
    (0.43) and stage 4 0.088 (0.45, a field at sunset). The shipped model must stay below both of stage 4's."""
    from train.quality import summary
    s = summary(measured)
    assert s["regions"] > 50
    assert s["vertical_mean"] < 0.07 and s["vertical_max"] < 0.35, s


def test_grass_and_trees_keep_their_texture(measured):
    """Painting flat, blurred regions is no cure for streaks. Under the day preset the fine detail (RMS, grey
    levels) of grass and trees must stay above 60% of what procedural day photos have. Stage 5 scored grass 12.9
    and trees 5.0 against the photos' 13.5 and 5.1; a stage-6 attempt with a new discriminator, 1000 iterations
    in, had blurred them to 1.4 and 0.8."""
    from train.procedural.scene import generate_scene
    from train.quality import detail_rms
    for cls, name in ((GRASS, "grass"), (TREE, "tree")):
        model = np.mean([r["detail"] for r in measured if r["class"] == name and r["style"] == "day_lake"])
        scenes = (generate_scene(seed, 256, "day") for seed in range(8))
        data = np.nanmean([detail_rms(sc.image, sc.labels == cls) for sc in scenes])
        assert model > 0.6 * data, (name, model, data)


def test_the_benchmark_times_a_photo_becoming_a_style():
    from spade.bench import photo_style_case

    case = photo_style_case(None, 2, min)
    assert case["size"] == [1080, 1920] and case["style_ms"] > 0 and case["read_by"] == "style atlas"
    assert case["tone_ms"] > 0 and case["tone_first_ms"] > 0   # the test photo has a tone
