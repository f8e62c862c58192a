"""VGG19 (Simonyan & Zisserman 2014) up to relu5_1, for the perceptual loss of Park et al. 2019.

The layers are laid out exactly like torchvision's `vgg19().features` so that its state dict
(`features.0.weight`, ..., as in vgg19-dcbb9e9d.pth) loads by name; the weights are always a file the user
gives (read with weights_only=True or from safetensors): nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from spade.official import read_state_dict

from .errors import TrainError

# torchvision's "E" configuration; "M" is a 2x2 max-pool.
VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")
# indices in `features` after which relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 are taken
TAPS = (1, 6, 11, 20, 29)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg19_features(up_to: int = TAPS[-1]) -> nn.Sequential:
    """torchvision-compatible `features` truncated after index `up_to`."""
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG19_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=False)]
            channels = int(item)
    return nn.Sequential(*layers[: up_to + 1])


def read_vgg_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The `features.*` tensors of a torchvision vgg19 state dict (.pth/.pt or .safetensors)."""
    path = Path(path)
    if not path.is_file():
        raise TrainError(f"--vgg_weights {path}: file not found")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            raise TrainError(f"--vgg_weights {path}: not a safetensors file ({e})") from None
    else:
        try:
            state = read_state_dict(path)
        except Exception as e:  # CheckpointError and friends: all mean "not a usable weight file"
            raise TrainError(f"--vgg_weights {e}") from None
    features = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")}
    return features or state


class VGG19(nn.Module):
    """Frozen VGG19 returning the five relu*_1 activations of an image in [-1, 1]."""

    def __init__(self, state: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.features = vgg19_features()
        if state is not None:
            expected = self.features.state_dict()
            missing = [k for k in expected if k not in state]
            if missing:
                raise TrainError(f"--vgg_weights: not VGG19 weights in torchvision's layout (no features.{missing[0]})")
            for k, v in expected.items():
                if tuple(state[k].shape) != tuple(v.shape):
                    raise TrainError(f"--vgg_weights: features.{k} has shape {list(state[k].shape)}, VGG19 has "
                                     f"{list(v.shape)}")
            self.features.load_state_dict({k: state[k].float() for k in expected})
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_file(cls, path: str | Path) -> "VGG19":
        return cls(read_vgg_weights(path))

    def train(self, mode: bool = True) -> "VGG19":
        return super().train(False)  # always frozen: no mode switch by the trainer

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        # torchvision's weights expect ImageNet-normalised [0, 1] input (the reference fed [-1, 1] directly)
        x = ((image + 1) / 2 - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in TAPS:
                out.append(x)
        return out
