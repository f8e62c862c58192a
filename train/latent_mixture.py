"""Where the latents of a render bank (train/setting_model.py) or a style atlas (train/style_atlas.py) come from.

A mixture of the style encoder's readings of procedural scenes (relit, some with a new sky) and of real photos
(relit, cropped, some with camera faults), prior draws N(0, s^2 I) of random scale, and extrapolations between
latents already drawn; the two users weigh the parts differently.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .photo_augment import camera_faults, new_sky, relight, square_crop
from .photo_styles import SKY

RELIGHT_SHARE = 0.8   # how many of the pictures read are relit first


@dataclass(frozen=True)
class LatentMixture:
    """Cumulative shares of one draw u in [0, 1): u < scenes reads a procedural scene, u < photos a real photo
    (with no photos, scenes take their share), u < priors draws from the prior; the rest extrapolates."""

    scenes: float
    photos: float
    priors: float
    new_sky: float                       # share of the scenes given a new sky
    prior_scale: tuple[float, float]     # the prior draw's scale, uniform in this range
    extrapolation: tuple[float, float]   # t of a + t (b - a), uniform in this range
    crop: int                            # side of the square crops of photos
    faults: bool                         # photos also get camera faults (blur, noise, JPEG, vignetting)

    def draw(self, rng: np.random.Generator, gen: torch.Generator, read: Callable[[np.ndarray], torch.Tensor],
             scenes: Sequence, photos: Sequence[np.ndarray], drawn: Sequence[torch.Tensor],
             z_dim: int) -> tuple[torch.Tensor, np.ndarray | None]:
        """One latent, and the picture it was read from when that is an unchanged procedural scene (a
        picture of the generator's own world) else None. `read` turns a float picture into a latent."""
        u = rng.random()
        if u < self.scenes or (u < self.photos and not photos):
            scene = scenes[int(rng.integers(len(scenes)))]
            image = scene.image.astype(np.float32) / 255
            resky = rng.random() < self.new_sky
            if resky:
                image = new_sky(image, scene.labels == SKY, rng)
            relit = rng.random() < RELIGHT_SHARE
            if relit:
                image = relight(image, rng)
            return read(image), None if resky or relit else image
        if u < self.photos:
            image = photos[int(rng.integers(len(photos)))]
            image = square_crop(relight(image, rng) if rng.random() < RELIGHT_SHARE else image, self.crop, rng)
            return read(camera_faults(image, rng) if self.faults else image), None
        if u < self.priors or len(drawn) < 2:
            return torch.randn(z_dim, generator=gen) * float(rng.uniform(*self.prior_scale)), None
        a, b = (drawn[int(i)] for i in rng.integers(len(drawn), size=2))
        return a + float(rng.uniform(*self.extrapolation)) * (b - a) + 0.1 * torch.randn(z_dim, generator=gen), None
