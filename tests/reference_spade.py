"""An independent, functional re-statement of the reference SPADE forward, for tests only.

It works on a raw official-layout state dict (spectral-norm triples or the legacy layout, BatchNorm
running stats) following the documented semantics step by step, without spade.model, so that a
wiring mistake in the library cannot hide behind the same mistake here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def sn_weight(state: dict, prefix: str) -> torch.Tensor:
    """Eval-mode spectral norm: W = weight_orig / (u . (W_mat @ v)); legacy files carry W as `weight`."""
    if prefix + ".weight_orig" not in state:
        return state[prefix + ".weight"]
    if prefix + ".weight_v" not in state:
        return state[prefix + ".weight"]
    w, u, v = state[prefix + ".weight_orig"], state[prefix + ".weight_u"], state[prefix + ".weight_v"]
    sigma = torch.dot(u, torch.mv(w.reshape(w.shape[0], -1), v))
    return w / sigma


def spade_norm(state: dict, p: str, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    if p + ".param_free_norm.running_mean" in state:
        normalized = F.batch_norm(x, state[p + ".param_free_norm.running_mean"],
                                  state[p + ".param_free_norm.running_var"], training=False, eps=1e-5)
    else:
        normalized = F.instance_norm(x, eps=1e-5)
    seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
    actv = F.relu(F.conv2d(seg, state[p + ".mlp_shared.0.weight"], state[p + ".mlp_shared.0.bias"], padding=1))
    gamma = F.conv2d(actv, state[p + ".mlp_gamma.weight"], state[p + ".mlp_gamma.bias"], padding=1)
    beta = F.conv2d(actv, state[p + ".mlp_beta.weight"], state[p + ".mlp_beta.bias"], padding=1)
    return normalized * (1 + gamma) + beta


def resblock(state: dict, p: str, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    if p + ".conv_s.weight_orig" in state or p + ".conv_s.weight" in state:
        x_s = F.conv2d(spade_norm(state, p + ".norm_s", x, seg), sn_weight(state, p + ".conv_s"))
    else:
        x_s = x
    dx = F.conv2d(F.leaky_relu(spade_norm(state, p + ".norm_0", x, seg), 0.2), sn_weight(state, p + ".conv_0"),
                  state[p + ".conv_0.bias"], padding=1)
    dx = F.conv2d(F.leaky_relu(spade_norm(state, p + ".norm_1", dx, seg), 0.2), sn_weight(state, p + ".conv_1"),
                  state[p + ".conv_1.bias"], padding=1)
    return x_s + dx


def generator_forward(state: dict, seg: torch.Tensor, z: torch.Tensor | None, ngf: int, upsampling: str = "normal",
                      crop_size: int = 256, aspect_ratio: float = 1.0) -> torch.Tensor:
    n_up = {"normal": 5, "more": 6, "most": 7}[upsampling]
    sw = crop_size // 2 ** n_up
    sh = round(sw / aspect_ratio)
    if state["fc.weight"].dim() == 2:
        x = F.linear(z, state["fc.weight"], state["fc.bias"]).view(-1, 16 * ngf, sh, sw)
    else:
        x = F.conv2d(F.interpolate(seg, size=(sh, sw)), state["fc.weight"], state["fc.bias"], padding=1)
    up = lambda t: F.interpolate(t, scale_factor=2)  # noqa: E731
    x = resblock(state, "head_0", x, seg)
    x = up(x)
    x = resblock(state, "G_middle_0", x, seg)
    if upsampling in ("more", "most"):
        x = up(x)
    x = resblock(state, "G_middle_1", x, seg)
    for name in ("up_0", "up_1", "up_2", "up_3") + (("up_4",) if upsampling == "most" else ()):
        x = resblock(state, name, up(x), seg)
    x = F.conv2d(F.leaky_relu(x, 0.2), state["conv_img.weight"], state["conv_img.bias"], padding=1)
    return torch.tanh(x)


def encoder_forward(state: dict, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if image.shape[2:] != (256, 256):
        image = F.interpolate(image, size=(256, 256), mode="bilinear")
    x = image
    n = 1
    while f"layer{n}.0.weight_orig" in state or f"layer{n}.0.weight" in state:
        if n > 1:
            x = F.leaky_relu(x, 0.2)
        x = F.instance_norm(F.conv2d(x, sn_weight(state, f"layer{n}.0"), stride=2, padding=1))
        n += 1
    x = F.leaky_relu(x, 0.2).flatten(1)
    return (F.linear(x, state["fc_mu.weight"], state["fc_mu.bias"]),
            F.linear(x, state["fc_var.weight"], state["fc_var.bias"]))


def get_edges(t: torch.Tensor) -> torch.Tensor:
    """The reference's instance edges of a (B, 1, H, W) instance map: pairs of unequal 4-neighbours."""
    edge = torch.zeros(t.shape, dtype=torch.bool)
    edge[:, :, :, 1:] |= t[:, :, :, 1:] != t[:, :, :, :-1]
    edge[:, :, :, :-1] |= t[:, :, :, 1:] != t[:, :, :, :-1]
    edge[:, :, 1:, :] |= t[:, :, 1:, :] != t[:, :, :-1, :]
    edge[:, :, :-1, :] |= t[:, :, 1:, :] != t[:, :, :-1, :]
    return edge.float()


def input_semantics(label_values, instance, label_nc: int, dontcare: bool) -> torch.Tensor:
    """The reference's generator input for a COCO-Stuff / Cityscapes label PNG (values as stored): 255 ->
    label_nc when there is a don't-care channel, one-hot over label_nc (+1), then the edges of `instance`."""
    label = torch.as_tensor(label_values, dtype=torch.int64).clone()[None, None]
    if dontcare:
        label[label == 255] = label_nc
    nc = label_nc + 1 if dontcare else label_nc
    onehot = torch.zeros(1, nc, *label.shape[2:]).scatter_(1, label, 1.0)
    if instance is None:
        return onehot
    return torch.cat([onehot, get_edges(torch.as_tensor(instance, dtype=torch.int64)[None, None])], dim=1)
