"""The objectives of Park et al. 2019: hinge GAN loss, discriminator feature matching, VGG perceptual loss
and the KL divergence of the style encoder, plus an optional L1 reconstruction term (not in the paper).

Discriminator outputs are lists (one per scale) of lists of feature maps whose last entry is the score map.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .vgg import VGG19

VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


def hinge_d_loss(predictions: list[list[torch.Tensor]], real: bool) -> torch.Tensor:
    """Discriminator hinge loss, averaged over the scales: mean(relu(1 -+ D(x)))."""
    sign = -1.0 if real else 1.0
    losses = [F.relu(1.0 + sign * scale[-1].float()).mean() for scale in predictions]
    return torch.stack(losses).mean()


def hinge_g_loss(predictions: list[list[torch.Tensor]]) -> torch.Tensor:
    """Generator side of the hinge loss: -mean(D(G(s))), averaged over the scales."""
    return torch.stack([-scale[-1].float().mean() for scale in predictions]).mean()


def feature_matching_loss(fake: list[list[torch.Tensor]], real: list[list[torch.Tensor]]) -> torch.Tensor:
    """L1 between the discriminator's intermediate features of fake and real, averaged over the scales."""
    total = fake[0][0].new_zeros((), dtype=torch.float32)
    for fake_scale, real_scale in zip(fake, real):
        for f, r in zip(fake_scale[:-1], real_scale[:-1]):
            total = total + F.l1_loss(f.float(), r.detach().float())
    return total / len(fake)


def kld_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)), summed as in the reference implementation."""
    mu, logvar = mu.float(), logvar.float()
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


class VGGLoss(nn.Module):
    """Weighted L1 between VGG19 relu*_1 activations of the generated and the real photo."""

    def __init__(self, vgg: VGG19):
        super().__init__()
        self.vgg = vgg

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        fake_f, real_f = self.vgg(fake), self.vgg(real)
        loss = fake.new_zeros((), dtype=torch.float32)
        for w, f, r in zip(VGG_LAYER_WEIGHTS, fake_f, real_f):
            loss = loss + w * F.l1_loss(f.float(), r.detach().float())
        return loss
