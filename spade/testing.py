"""Random, well-scaled weights for models without a checkpoint: the tests' seeded models and the benchmark's
full-size ADE20K generator (the fast path's cost depends on the architecture and the label map, not on the
weights)."""
from __future__ import annotations

from typing import TypeVar

import torch

M = TypeVar("M", bound=torch.nn.Module)


def random_weights_(module: M, seed: int, bias_scale: float = 0.1) -> M:
    """Random, well-scaled weights and BatchNorm statistics (fresh BatchNorm has mean 0, var 1); spectral-norm
    vectors u and v get random unit vectors. Returns the module in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict(keep_vars=True).items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=gen) * 1.5 + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                t.copy_(torch.randn(t.shape, generator=gen) * bias_scale)
            elif name.endswith("_u") or name.endswith("_v"):
                v = torch.randn(t.shape, generator=gen)
                t.copy_(v / v.norm())
            else:
                fan_in = t[0].numel() if t.dim() > 1 else 1
                t.copy_(torch.randn(t.shape, generator=gen) / fan_in ** 0.5)
    return module.eval()
