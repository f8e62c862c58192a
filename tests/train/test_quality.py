"""The streak measure (train.quality): it tells streaked texture from isotropic texture, and its CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from spade.checkpoint import save_checkpoint
from tests.conftest import make_encoder, make_generator
from train.quality import detail_rms, main, streak_coherence


def noise(seed: int = 0, size: int = 96) -> np.ndarray:
    return np.random.default_rng(seed).normal(128, 20, (size, size, 3))


def vertical_lines(seed: int = 0, size: int = 96) -> np.ndarray:
    """Each column one random grey, with a little pixel noise: the streaks a model paints into a tree."""
    rng = np.random.default_rng(seed)
    columns = rng.normal(128, 20, (1, size, 1))
    return np.broadcast_to(columns, (size, size, 3)) + rng.normal(0, 4, (size, size, 3))


def test_isotropic_texture_has_no_streaks():
    everywhere = np.ones((96, 96), bool)
    assert abs(streak_coherence(noise(), everywhere, axis=0)) < 0.05
    assert abs(streak_coherence(noise(), everywhere, axis=1)) < 0.05


def test_vertical_lines_are_vertical_streaks():
    everywhere = np.ones((96, 96), bool)
    assert streak_coherence(vertical_lines(), everywhere, axis=0) > 0.8
    assert abs(streak_coherence(vertical_lines(), everywhere, axis=1)) < 0.2
    turned = vertical_lines().transpose(1, 0, 2)
    assert streak_coherence(turned, everywhere, axis=1) > 0.8


def test_only_the_region_counts():
    """Lines outside the mask, isotropic texture inside: no streaks; the region's border is left out."""
    image = vertical_lines()
    inside = np.zeros((96, 96), bool)
    inside[:, 48:] = True
    image[:, 48:] = noise()[:, 48:]
    assert abs(streak_coherence(image, inside)) < 0.1


def test_a_region_too_small_gives_nan():
    small = np.zeros((96, 96), bool)
    small[10:30, 10:30] = True
    assert math.isnan(streak_coherence(noise(), small))


def test_sky_grain_tells_grain_from_a_smooth_gradient():
    everywhere = np.ones((96, 96), bool)
    gradient = np.broadcast_to(np.linspace(60, 200, 96)[:, None, None], (96, 96, 3))
    assert detail_rms(gradient, everywhere) < 0.5
    assert detail_rms(noise(), everywhere) > 10  # 20 grey levels of pixel noise, less what a 7x7 mean keeps
    small = np.zeros((96, 96), bool)
    small[:20, :20] = True
    assert math.isnan(detail_rms(noise(), small))


@pytest.fixture
def tiny_256_model(tmp_path):
    """Random weights at the bundled model's size, so the example sketches have regions large enough to measure."""
    path = tmp_path / "tiny_256"
    save_checkpoint(path, make_generator(use_vae=True, crop_size=256), make_encoder(),
                    trained_classes=[0, 3, 5, 10, 17, 22, 129], training={"note": "random test weights"})
    return path


def test_cli_reports_model_and_data(tiny_256_model, capsys):
    assert main(["--model", str(tiny_256_model), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["sketch"] for r in report["model"]} >= {"lake_mountains", "forest_river"}
    assert {"sketch", "style", "class", "vertical", "horizontal", "detail"} <= set(report["data"][0])
    assert all(r["detail"] > 1 for r in report["data"])  # procedural photos are textured everywhere
    assert max(r["vertical"] for r in report["data"]) < 0.2  # procedural photos have no vertical streaks
    assert set(report["sky_grain"]["model"]) == {"day_lake", "sunset_lake", "overcast_river", "snow_forest"}
    assert set(report["sky_grain"]["procedural data"]) >= {"day", "overcast", "snow"}


def test_cli_summary(tiny_256_model, capsys):
    assert main(["--model", str(tiny_256_model)]) == 0
    out = capsys.readouterr().out
    assert "model" in out and "procedural data" in out and "most streaked:" in out
    assert "texture, model: " in out and "texture, procedural data: " in out
    assert "sky grain, model: day_lake" in out and "sky grain, procedural data: day" in out


def test_cli_names_a_missing_model(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "no_such_model")]) == 2
    assert "error: " in capsys.readouterr().err


def test_cli_refuses_a_zero_lag(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--lag", "0"])
    assert stop.value.code == 2 and "--lag must be at least 1" in capsys.readouterr().err


def test_cli_says_when_a_model_is_too_small_to_measure(tiny_vae_model, capsys):
    assert main(["--model", str(tiny_vae_model)]) == 2
    assert "no region of the example sketches" in capsys.readouterr().err
