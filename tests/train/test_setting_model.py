"""The forward model of a generator's settings (train/setting_model.py) and the statistics it predicts."""
from __future__ import annotations

import numpy as np
import torch

from train.setting_model import SettingBank, fit_setting_model, setting_stats


def test_setting_stats_are_the_mean_colours_of_sky_and_ground():
    labels = np.full((4, 4), 10)
    labels[:2] = 3
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[:2] = (255, 255, 255)
    stats = setting_stats(rgb, labels)
    assert np.allclose(stats, [100, 0, 0, 0, 0, 0], atol=0.01)
    assert setting_stats(rgb, np.full((4, 4), 3)) is None  # all sky: no ground to read


def test_the_fit_reports_how_well_it_predicts_renders_it_did_not_see(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 8)).astype(np.float32)
    fractions = rng.dirichlet(np.ones(3), 600).astype(np.float32)
    stats = np.tanh(z[:, :6]) * 20 + 50 + 10 * fractions[:, :1]
    bank = SettingBank(z, fractions, stats.astype(np.float32))
    bank.save(tmp_path / "bank.npz")
    model, r2 = fit_setting_model(SettingBank.load(tmp_path / "bank.npz"), steps=1500)
    assert min(r2.values()) > 0.9, r2
    _, r2_noise = fit_setting_model(SettingBank(z, fractions, rng.normal(size=stats.shape).astype(np.float32)),
                                    steps=300)
    assert max(r2_noise.values()) < 0.3, r2_noise  # nothing to learn: the held-out figure says so
    with torch.no_grad():
        assert model(torch.from_numpy(z[:2]), torch.from_numpy(fractions[:2])).shape == (2, 6)
