"""A forward model of a frozen generator's settings: which sky and ground colours a style latent renders.

Training a style encoder through the generator itself costs a generator forward and backward pass per style (about
a second at 256 px on a 2-core CPU), too slow to learn from thousands of photos. Instead, a bank of latents (the
encoder's latents of domain-randomised photos, prior draws and extrapolations between them) is rendered once with
the exact fast path, each on a random procedural layout, and a small MLP learns the render's setting statistics
from (latent, layout class fractions): the mean CIELAB colour of the sky and of everything else. The encoder then
trains through that MLP in milliseconds a step (train/photo_encoder.py), and the result is checked with the real
generator (python -m train.quality --style-photos).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from spade import SpadeRenderer
from spade.colour import srgb_to_lab
from spade.inference import Style

from .latent_mixture import LatentMixture
from .photo_styles import SKY

logger = logging.getLogger(__name__)

BANK_MIXTURE = LatentMixture(scenes=0.5, photos=0.6, priors=0.75, new_sky=0.5, prior_scale=(0.2, 1.2),
                             extrapolation=(-0.6, 1.6), crop=128, faults=False)
STATS = ("sky L", "sky a", "sky b", "ground L", "ground a", "ground b")


def setting_stats(rgb: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """(6,) mean CIELAB of the sky and of the rest of an (H, W, 3) image; None without both."""
    lab, sky = srgb_to_lab(rgb), labels == SKY
    if not sky.any() or sky.all():
        return None
    return np.concatenate([lab[sky].mean(0), lab[~sky].mean(0)])


def class_fractions(labels: np.ndarray, label_to_channel: Sequence[int], channels: int) -> np.ndarray:
    """The share of each generator input channel in a label map."""
    lut = np.asarray(label_to_channel)
    return np.bincount(lut[labels.ravel()], minlength=channels)[:channels] / labels.size


@dataclass
class SettingBank:
    """Latents (N, z_dim), layout class fractions (N, C) and the setting statistics (N, 6) of their renders."""

    z: np.ndarray
    fractions: np.ndarray
    stats: np.ndarray

    def save(self, path: str | Path) -> None:
        np.savez(path, z=self.z, fractions=self.fractions, stats=self.stats)

    def extended(self, other: SettingBank) -> SettingBank:
        return SettingBank(*(np.concatenate([a, b]) for a, b in
                             ((self.z, other.z), (self.fractions, other.fractions), (self.stats, other.stats))))

    @classmethod
    def load(cls, path: str | Path) -> SettingBank:
        with np.load(path) as d:
            return cls(d["z"], d["fractions"], d["stats"])


def render_bank(renderer: SpadeRenderer, scenes: list, photos: list[np.ndarray], count: int, seed: int,
                log: Callable[[str], None] = logger.info) -> SettingBank:
    """Render `count` latents, each on a random layout of `scenes`: half are the encoder's latents of
    relit procedural photos (some with new skies), a tenth of relit real `photos`, the rest prior draws of
    random scale and extrapolations between latents already drawn."""
    rng = np.random.default_rng(seed)
    z_dim = renderer.bundle.generator_config.z_dim
    channels = renderer.bundle.generator_config.semantic_nc
    gen = torch.Generator().manual_seed(seed)
    zs, fractions, stats = [], [], []

    def encode(image: np.ndarray) -> torch.Tensor:
        return renderer.encode_style(Image.fromarray(np.uint8(image * 255 + 0.5)), atlas=False).z[0]

    while len(zs) < count:
        z, _ = BANK_MIXTURE.draw(rng, gen, encode, scenes, photos, zs, z_dim)
        labels = scenes[int(rng.integers(len(scenes)))].labels
        s = setting_stats(renderer.render(labels, Style(z[None].float(), "bank")), labels)
        if s is None:
            continue
        zs.append(z.float())
        fractions.append(class_fractions(labels, renderer.bundle.label_to_channel, channels))
        stats.append(s)
        if len(zs) % 250 == 0:
            log(f"bank: {len(zs)}/{count} renders")
    return SettingBank(torch.stack(zs).numpy(), np.asarray(fractions, np.float32), np.asarray(stats, np.float32))


class SettingModel(nn.Module):
    """(latent, layout class fractions) -> the render's setting statistics (STATS), in CIELAB units."""

    def __init__(self, z_dim: int, channels: int, width: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim + channels, width), nn.LeakyReLU(0.2),
                                 nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, len(STATS)))
        self.register_buffer("mean", torch.zeros(len(STATS)))
        self.register_buffer("scale", torch.ones(len(STATS)))

    def forward(self, z: torch.Tensor, fractions: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, 4.0 * fractions], 1)) * self.scale + self.mean


def fit_setting_model(bank: SettingBank, steps: int = 4000, seed: int = 0,
                      held_out: float = 0.1) -> tuple[SettingModel, dict[str, float]]:
    """Fit on all but `held_out` of the bank; returns the model and its R^2 per statistic on the rest."""
    g = torch.Generator().manual_seed(seed)
    z, f, y = (torch.from_numpy(a).float() for a in (bank.z, bank.fractions, bank.stats))
    order = torch.randperm(len(z), generator=g)
    test, train = order[: max(1, int(len(z) * held_out))], order[max(1, int(len(z) * held_out)):]
    torch.manual_seed(seed)
    model = SettingModel(z.shape[1], f.shape[1])
    model.mean.copy_(y[train].mean(0))
    model.scale.copy_(y[train].std(0).clamp(min=1e-3))
    opt = torch.optim.Adam(model.net.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(steps):
        b = train[torch.randint(len(train), (128,), generator=g)]
        loss = (((model(z[b], f[b]) - y[b]) / model.scale) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        error = ((model(z[test], f[test]) - y[test]) ** 2).mean(0)
        r2 = 1.0 - error / y[test].var(0).clamp(min=1e-6)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval(), {name: round(float(v), 3) for name, v in zip(STATS, r2)}
