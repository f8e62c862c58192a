"""A photo's tone (spade/tone.py): the grade that carries what the style atlas's render misses of a photo's
sky colour and exposure, and how a Style keeps it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from spade import SpadeRenderer, Style, ade20k
from spade.colour import lab_to_srgb, srgb_to_lab
from spade.labels import cityscapes, cocostuff
from spade.tone import SKY_MIN_A, TONE_LIMIT, Tone

SKY, GRASS = 3, 10


def sky_over_grass(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    labels = np.full((size, size), SKY, np.uint8)
    labels[size // 2:] = GRASS
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[: size // 2] = (120, 150, 190)
    rgb[size // 2:] = (60, 120, 40)
    return labels, rgb


def median_lab(rgb: np.ndarray, where: np.ndarray) -> np.ndarray:
    return np.median(srgb_to_lab(rgb[where]), axis=0)


def test_the_sky_takes_the_sky_offset_and_the_ground_keeps_its_hue():
    labels, rgb = sky_over_grass()
    graded = Tone(sky=(12.0, 6.0, -8.0), ground_l=-10.0).apply(rgb, labels, ade20k().sky_ids)
    sky, grass = np.zeros_like(labels, bool), np.zeros_like(labels, bool)
    sky[:20], grass[44:] = True, True          # away from the feathered seam
    assert np.allclose(median_lab(graded, sky) - median_lab(rgb, sky), (12, 6, -8), atol=0.8)
    assert np.allclose(median_lab(graded, grass) - median_lab(rgb, grass), (-10, 0, 0), atol=0.8)


def test_a_grade_past_srgb_keeps_the_sky_blue_and_as_light_as_asked():
    labels, rgb = sky_over_grass()
    rgb[: labels.shape[0] // 2] = (90, 150, 245)
    sky = np.zeros_like(labels, bool)
    sky[:20] = True
    before = median_lab(rgb, sky)
    after = median_lab(Tone(sky=(20.0, 0.0, 0.0)).apply(rgb, labels, ade20k().sky_ids), sky)
    assert after[0] == pytest.approx(before[0] + 20, abs=1.0)
    hue = np.degrees(np.arctan2(after[2], after[1]) - np.arctan2(before[2], before[1]))
    assert abs(hue) < 5 and after[2] < -20, (before, after)   # still blue, not cyan or grey


def test_no_tone_changes_nothing():
    labels, rgb = sky_over_grass()
    assert np.array_equal(Tone().apply(rgb, labels, ade20k().sky_ids), rgb)


def look(sky: tuple[float, float, float], ground: tuple[float, float, float], highlight: float = 40.0) -> np.ndarray:
    """A style atlas look (LOOK): sky and ground colours, spreads, the ground's shadows and highlights."""
    return np.array([*sky, *ground, 10.0, 5.0, 5.0, 5.0, highlight])


def test_a_tone_measures_the_photo_against_the_render_within_limits():
    render = look((60.0, 0.0, -20.0), (45.0, -10.0, 20.0))
    tone = Tone.between(look((95.0, 30.0, -22.0), (40.0, 0.0, 0.0)), render)
    assert tone.sky_match == 1.0 and tone.sky == pytest.approx((95.0, 30.0, -22.0))
    assert tone.ground_l == pytest.approx(-5.0)
    assert tone.ground_ab == (0.0, 0.0) and tone.low_light == 0.0    # a daylight ground keeps its colours


def test_the_sky_takes_the_photos_colour_over_any_sketch_within_limits():
    labels, rgb = sky_over_grass()
    sky = np.zeros_like(labels, bool)
    sky[:20] = True
    tone = Tone.between(look((70.0, 8.0, -25.0), (40.0, 0.0, 0.0)), look((60.0, 0.0, -20.0), (40.0, 0.0, 0.0)))
    for colour in ((120, 150, 190), (150, 160, 170), (90, 120, 200)):   # the skies one latent paints
        rgb[: labels.shape[0] // 2] = colour
        graded = median_lab(tone.apply(rgb, labels, ade20k().sky_ids), sky)
        assert graded == pytest.approx((70.0, 8.0, -25.0), abs=1.0), (colour, graded)
    far = Tone.between(look((20.0, 0.0, -20.0), (40.0, 0.0, 0.0)), look((60.0, 0.0, -20.0), (40.0, 0.0, 0.0)))
    rgb[: labels.shape[0] // 2] = (120, 150, 190)
    before = median_lab(rgb, sky)
    assert median_lab(far.apply(rgb, labels, ade20k().sky_ids), sky)[0] == pytest.approx(before[0] - TONE_LIMIT[0],
                                                                                           abs=1.0)
    # a photo whose top is foliage does not turn the sky green
    foliage = Tone.between(look((35.0, -30.0, 25.0), (40.0, 0.0, 0.0)), look((60.0, 0.0, -20.0), (40.0, 0.0, 0.0)))
    assert median_lab(foliage.apply(rgb, labels, ade20k().sky_ids), sky)[1] == pytest.approx(SKY_MIN_A, abs=1.0)


def test_a_low_light_photo_sets_the_grounds_lightness_and_colour_whatever_the_sketch():
    labels, rgb = sky_over_grass()
    grass = np.zeros_like(labels, bool)
    grass[44:] = True
    # the atlas's nearest render was as dark as the photo, but this sketch's grass is much lighter
    tone = Tone.between(look((50.0, 0.0, -30.0), (15.0, 3.0, -22.0)), look((50.0, 0.0, -30.0), (16.0, 0.0, 0.0)))
    assert tone.low_light == 1.0 and tone.ground_ab == pytest.approx((3.0, -22.0))
    graded = median_lab(tone.apply(rgb, labels, ade20k().sky_ids), grass)
    before = median_lab(rgb, grass)
    assert before[0] > 40 and graded[0] == pytest.approx(15.0, abs=1.5)
    assert graded[2] - before[2] < -15, (before, graded)    # toward the photo's blue light
    # a dusky ground takes part of it: between daylight and full low light
    dusk = Tone.between(look((50.0, 0.0, -30.0), (27.5, 3.0, -22.0)), look((50.0, 0.0, -30.0), (30.0, 0.0, 0.0)))
    assert dusk.low_light == pytest.approx(0.5) and dusk.ground_ab == pytest.approx((1.5, -11.0))
    # a snowy forest: a dark median, but bright highlights
    snow = Tone.between(look((60.0, 0.0, -10.0), (15.0, 0.0, -5.0), highlight=85.0),
                        look((60.0, 0.0, -10.0), (25.0, 0.0, 0.0)))
    assert snow.low_light == 0.0 and snow.ground_ab == (0.0, 0.0)
    # a picture the atlas holds as it is (a preset) gets no grade, however dark
    preset = look((20.0, 5.0, -5.0), (10.0, 0.0, 0.0))
    assert Tone.between(preset, preset.copy()).is_identity


def test_a_style_stores_and_blends_its_tone():
    z = torch.arange(8, dtype=torch.float32)[None]
    style = Style(z, "image:x.jpg", tone=Tone(sky_match=1.0, sky=(50.0, -1.0, 2.0), ground_l=-3.0))
    back = Style.from_vector(style.vector(), style.source)
    assert torch.equal(back.z, z) and back.tone == style.tone
    assert Style.from_vector(Style(z, "seed:1", 1).vector(), "seed:1", 1).tone is None
    half = SpadeRenderer.blend(style, Style(torch.zeros(1, 8), "seed:2", 2), 0.5)
    assert half.tone == Tone(sky_match=0.5, sky=(25.0, -0.5, 1.0), ground_l=-1.5)


def test_every_bundled_label_set_knows_its_sky():
    for labels in (ade20k(), cocostuff(), cityscapes()):
        names = [labels.names[i] for i in labels.sky_ids]
        assert names and all("sky" in n or n == "clouds" for n in names) and "skyscraper" not in names


def test_lab_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (500, 3))
    assert np.abs(lab_to_srgb(srgb_to_lab(rgb)) - rgb).max() < 1e-6
