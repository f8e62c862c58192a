"""Photo-style correction: the style encoder's latent moved so that the render takes a photo's setting.

The bundled model's ConvEncoder has only seen procedural renders; a real photograph lands outside what it knows
and its latent renders the wrong time of day. What a setting is made of is simple, though: the colours of the
image's top (sky), its middle and its bottom (ground), and their spread. `setting_features` measures them
(CIELAB means of four horizontal bands, and the whole image's CIELAB spread). A linear forward model, fitted on
the generator's own renders under many latents (scripts/fit_photo_styles.py), predicts these features of the
render from a latent: f(z) = A z + b. Given a photo with features f and the encoder's latent z0, the corrected
latent is the one closest to z0 whose predicted render features match the photo's (ridge-regularised least
squares, closed form):

    z = z0 + M (f - (A z0 + b)),   M = (A^T A + lambda I)^-1 A^T

For a procedural photo (a preset) the encoder's latent already renders its features, so z stays near z0; for a
real photo the latent moves along the few directions that set the render's sky, light and ground colours.
"""
from __future__ import annotations

import torch
import torch.nn as nn

BANDS = ((0.0, 0.2), (0.2, 0.5), (0.5, 0.8), (0.8, 1.0))  # fractions of the image height, top to bottom
NUM_FEATURES = 3 * len(BANDS) + 3

_RGB_TO_XYZ = torch.tensor([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                            [0.0193339, 0.1191920, 0.9503041]])
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])


def to_lab(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [-1, 1] -> (B, 3, H, W) CIELAB (D65)."""
    c = ((image.float() + 1.0) / 2.0).clamp(0.0, 1.0)
    c = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum("ij,bjhw->bihw", _RGB_TO_XYZ.to(c.device), c) / _WHITE.to(c.device)[None, :, None, None]
    eps = (6 / 29) ** 3
    f = torch.where(xyz > eps, xyz.clamp_min(eps) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def setting_features(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) in [-1, 1] -> (B, NUM_FEATURES): CIELAB mean of each band of BANDS, then the CIELAB std."""
    lab = to_lab(image)
    h = lab.shape[2]
    means = [lab[:, :, round(top * h):max(round(top * h) + 1, round(bottom * h))].mean((2, 3))
             for top, bottom in BANDS]
    return torch.cat(means + [lab.flatten(2).std(2)], 1)


class PhotoStyleCorrection(nn.Module):
    """z0 -> z0 + M (f(image) - (A z0 + b)), on standardised features. Fitted, never trained (buffers)."""

    def __init__(self, z_dim: int):
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(NUM_FEATURES))
        self.register_buffer("feature_scale", torch.ones(NUM_FEATURES))
        self.register_buffer("forward_weight", torch.zeros(NUM_FEATURES, z_dim))  # A
        self.register_buffer("forward_bias", torch.zeros(NUM_FEATURES))            # b
        self.register_buffer("gain", torch.zeros(z_dim, NUM_FEATURES))             # M

    def standardised_features(self, image: torch.Tensor) -> torch.Tensor:
        return (setting_features(image) - self.feature_mean) / self.feature_scale

    def forward(self, image: torch.Tensor, z0: torch.Tensor) -> torch.Tensor:
        predicted = z0 @ self.forward_weight.T + self.forward_bias
        return z0 + (self.standardised_features(image) - predicted) @ self.gain.T

    @torch.no_grad()
    def fit(self, z: torch.Tensor, features: torch.Tensor, ridge: float, prior: float) -> float:
        """Fit the forward model on (latent, render features) pairs and set the gain; returns the fit's R^2.

        `ridge` regularises the forward model's fit, `prior` (lambda above) how far a latent may move.
        """
        self.feature_mean.copy_(features.mean(0))
        self.feature_scale.copy_(features.std(0).clamp_min(1e-3))
        fs = (features - self.feature_mean) / self.feature_scale
        zc = z - z.mean(0)
        eye = torch.eye(z.shape[1], dtype=z.dtype)
        weight = torch.linalg.solve(zc.T @ zc + ridge * eye, zc.T @ (fs - fs.mean(0))).T
        self.forward_weight.copy_(weight)
        self.forward_bias.copy_(fs.mean(0) - z.mean(0) @ weight.T)
        self.gain.copy_(torch.linalg.solve(weight.T @ weight + prior * eye, weight.T))
        residual = fs - (z @ weight.T + self.forward_bias)
        return float(1.0 - residual.pow(2).mean() / fs.var(0).mean())
