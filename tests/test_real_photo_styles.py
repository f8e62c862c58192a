"""The bundled model under real photographs dropped as styles: the photo's setting carries into the render.

The photos come from Debian packages (train/real_photos.py: wallpapers, and for snow a panel of one of
Stellarium's photographed landscapes), installed here with apt-get; the tests are skipped, with the reason,
where apt-get or the packages are unavailable. The model never trained on them. One example sketch (sky over a
meadow with trees) is rendered under each photo.
"""
from __future__ import annotations

import numpy as np
import pytest

from spade import load_model, read_mask, resize_labels
from spade.paths import EXAMPLES_DIR
from train import real_photos
from train.photo_styles import srgb_to_lab

SKY, GRASS = 3, 10
USED = ["evening_glow", "picos_de_europa", "cold_ripple", "darkest_hour"]


def render_under(names: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    problem = real_photos.install(names)
    if problem:
        pytest.skip(f"real photographs unavailable: {problem}")
    renderer = load_model(None, "cpu")
    labels = resize_labels(read_mask(EXAMPLES_DIR / "meadow_trees.png", renderer.label_set),
                           *renderer.default_size)
    return labels, {name: renderer.render(labels, renderer.encode_style(real_photos.load(name)))
                    for name in names}


@pytest.fixture(scope="module")
def renders():
    return render_under(USED)


def region_lab(render: np.ndarray, labels: np.ndarray, cls: int) -> np.ndarray:
    return srgb_to_lab(render[labels == cls]).mean(0)


def test_a_sunset_photo_gives_a_warmer_sky_than_a_clear_day(renders):
    labels, r = renders
    sunset, day = region_lab(r["evening_glow"], labels, SKY), region_lab(r["picos_de_europa"], labels, SKY)
    assert sunset[1] + sunset[2] > day[1] + day[2] + 10, (sunset, day)  # a* + b*: toward red and yellow


def test_a_fog_photo_gives_a_greyer_sky(renders):
    labels, r = renders
    fog, day = region_lab(r["cold_ripple"], labels, SKY), region_lab(r["picos_de_europa"], labels, SKY)
    assert np.hypot(*fog[1:]) + 8 < np.hypot(*day[1:]), (fog, day)


def test_a_blue_hour_photo_gives_a_darker_scene(renders):
    # the renders keep at least three quarters of how much darker the blue-hour photo is than the day photo
    # (mean lightness; the photos differ by about 12 L)
    _, r = renders
    dark, day = (srgb_to_lab(r[n]).reshape(-1, 3).mean(0)[0] for n in ("darkest_hour", "picos_de_europa"))
    photo_dark, photo_day = (srgb_to_lab(np.asarray(real_photos.load(n).convert("RGB").resize((256, 256))))
                             .reshape(-1, 3).mean(0)[0] for n in ("darkest_hour", "picos_de_europa"))
    assert photo_dark + 8 < photo_day, (photo_dark, photo_day)
    assert dark + 0.75 * (photo_day - photo_dark) < day, (dark, day, photo_dark, photo_day)


def test_a_bright_day_photo_gives_green_grass(renders):
    labels, r = renders
    grass = region_lab(r["picos_de_europa"], labels, GRASS)
    assert grass[1] < -8 and grass[2] > 8, grass  # green: negative a*, positive b*


def test_a_snowy_photo_gives_white_ground(renders):
    labels, r = renders
    _, snowy = render_under(["hurricane_ridge"])   # its own package (Stellarium's data, large): installed apart
    snow, day = (srgb_to_lab(x[labels == GRASS]).mean(0) for x in (snowy["hurricane_ridge"], r["picos_de_europa"]))
    assert snow[0] > 80 and np.hypot(*snow[1:]) < 12 and snow[0] > day[0] + 30, (snow, day)  # light and grey
