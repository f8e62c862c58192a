"""SPADE: semantic image synthesis with spatially-adaptive normalization (Park et al. 2019).

The whole network family in one file, named as in the paper:
- SPADE: param-free normalisation, then a per-pixel scale and shift predicted from the label map.
- SPADEResBlock: two SPADE-conv steps plus a (learned when widths differ) shortcut.
- SPADEGenerator: label map (and optionally a style latent z) to an RGB image in [-1, 1].
- ConvEncoder: image to the mean and log-variance of the style posterior (the VAE of the paper), optionally
  also reading the image's colour statistics (see EncoderConfig.colour_bands).
- NLayerDiscriminator / MultiscaleDiscriminator: PatchGAN critics on (one-hot, image) pairs.

Tensor names match the reference implementation so its checkpoints load directly (see spade/official.py).
Spectral normalisation is optional per config: training uses it, inference folds it into plain weights.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

UPSAMPLING_LAYERS = {"normal": 5, "more": 6, "most": 7}


@dataclass
class GeneratorConfig:
    semantic_nc: int = 151          # one-hot channels fed to the network
    ngf: int = 64                   # base width; the trunk is 16*ngf wide
    num_upsampling_layers: str = "normal"  # normal | more | most
    use_vae: bool = False           # True: the first layer is a Linear on the style latent z
    z_dim: int = 256
    crop_size: int = 256            # VAE models render exactly crop_size x crop_size/aspect_ratio
    aspect_ratio: float = 1.0
    spade_hidden: int = 128         # width of SPADE's shared MLP
    param_free_norm: str = "batch"  # batch | instance
    spectral: bool = True           # spectral norm on the residual blocks' convolutions

    def __post_init__(self) -> None:
        if self.num_upsampling_layers not in UPSAMPLING_LAYERS:
            raise ValueError(f"num_upsampling_layers must be one of {sorted(UPSAMPLING_LAYERS)}")
        if self.param_free_norm not in ("batch", "instance"):
            raise ValueError("param_free_norm must be 'batch' or 'instance'")

    @property
    def downscale(self) -> int:
        """Ratio between the output size and the latent grid."""
        return 2 ** UPSAMPLING_LAYERS[self.num_upsampling_layers]

    def latent_size(self) -> tuple[int, int]:
        """(sh, sw) of the VAE latent grid, as the reference computes it from crop_size."""
        sw = self.crop_size // self.downscale
        return round(sw / self.aspect_ratio), sw

    def output_size(self) -> tuple[int, int]:
        sh, sw = self.latent_size()
        return sh * self.downscale, sw * self.downscale

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EncoderConfig:
    ndf: int = 64       # the reference uses ngf here
    z_dim: int = 256
    input_size: int = 256  # images are resized to this square; log2(input_size/4) stride-2 layers
    spectral: bool = True
    # 0: the paper's encoder. N > 0: the mean and spread of each colour channel in N horizontal bands (sky at
    # the top, ground at the bottom) feed the posterior too. The paper's first InstanceNorm divides out every
    # feature's mean and scale, so on its own the encoder sees a photo's exposure, contrast and colour cast
    # only faintly (through the image's borders), and they are what set its time of day and weather.
    colour_bands: int = 0
    colour_width: int = 128

    @property
    def num_layers(self) -> int:
        n = int(round(math.log2(self.input_size / 4)))
        if 4 * 2 ** n != self.input_size:
            raise ValueError("encoder input_size must be 4 times a power of two")
        return n

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DiscriminatorConfig:
    input_nc: int = 154            # one-hot channels + 3 image channels
    ndf: int = 64
    n_layers: int = 4
    num_discriminators: int = 2
    spectral: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def _maybe_sn(module: nn.Module, enabled: bool) -> nn.Module:
    return spectral_norm(module) if enabled else module


class SPADE(nn.Module):
    """out = norm(x) * (1 + gamma(seg)) + beta(seg), with gamma and beta predicted per pixel."""

    def __init__(self, norm_nc: int, label_nc: int, hidden: int = 128, param_free_norm: str = "batch"):
        super().__init__()
        if param_free_norm == "batch":
            self.param_free_norm = nn.BatchNorm2d(norm_nc, affine=False)
        else:
            self.param_free_norm = nn.InstanceNorm2d(norm_nc, affine=False)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, 3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, 3, padding=1)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free_norm(x)
        segmap = F.interpolate(segmap, size=x.shape[2:], mode="nearest")
        actv = self.mlp_shared(segmap)
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)


class SPADEResBlock(nn.Module):
    def __init__(self, fin: int, fout: int, config: GeneratorConfig):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        sn = config.spectral
        self.conv_0 = _maybe_sn(nn.Conv2d(fin, fmiddle, 3, padding=1), sn)
        self.conv_1 = _maybe_sn(nn.Conv2d(fmiddle, fout, 3, padding=1), sn)
        spade = lambda nc: SPADE(nc, config.semantic_nc, config.spade_hidden, config.param_free_norm)  # noqa: E731
        self.norm_0 = spade(fin)
        self.norm_1 = spade(fmiddle)
        if self.learned_shortcut:
            self.conv_s = _maybe_sn(nn.Conv2d(fin, fout, 1, bias=False), sn)
            self.norm_s = spade(fin)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return x_s + dx


class SPADEGenerator(nn.Module):
    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = c = config
        nf = c.ngf
        if c.use_vae:
            sh, sw = c.latent_size()
            self.fc = nn.Linear(c.z_dim, 16 * nf * sh * sw)
        else:
            self.fc = nn.Conv2d(c.semantic_nc, 16 * nf, 3, padding=1)
        self.head_0 = SPADEResBlock(16 * nf, 16 * nf, c)
        self.G_middle_0 = SPADEResBlock(16 * nf, 16 * nf, c)
        self.G_middle_1 = SPADEResBlock(16 * nf, 16 * nf, c)
        self.up_0 = SPADEResBlock(16 * nf, 8 * nf, c)
        self.up_1 = SPADEResBlock(8 * nf, 4 * nf, c)
        self.up_2 = SPADEResBlock(4 * nf, 2 * nf, c)
        self.up_3 = SPADEResBlock(2 * nf, nf, c)
        final_nc = nf
        if c.num_upsampling_layers == "most":
            self.up_4 = SPADEResBlock(nf, nf // 2, c)
            final_nc = nf // 2
        self.conv_img = nn.Conv2d(final_nc, 3, 3, padding=1)

    def check_size(self, height: int, width: int) -> str | None:
        """None when (height, width) can be rendered, else a sentence saying which sizes can."""
        c = self.config
        if c.use_vae:
            if (height, width) != c.output_size():
                h, w = c.output_size()
                return f"this model renders exactly {w}x{h} (width x height); got {width}x{height}"
        elif height % c.downscale or width % c.downscale or height == 0 or width == 0:
            return (f"this model renders sizes that are multiples of {c.downscale}; "
                    f"got {width}x{height}")
        return None

    def initial_features(self, seg: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        c = self.config
        if c.use_vae:
            sh, sw = c.latent_size()
            if z is None:
                z = torch.randn(seg.shape[0], c.z_dim, device=seg.device, dtype=seg.dtype)
            return self.fc(z).view(-1, 16 * c.ngf, sh, sw)
        h, w = seg.shape[2] // c.downscale, seg.shape[3] // c.downscale
        return self.fc(F.interpolate(seg, size=(h, w), mode="nearest"))

    def forward(self, seg: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """seg: one-hot (B, semantic_nc, H, W); z: (B, z_dim) style latent for VAE models."""
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        x = self.initial_features(seg, z)
        x = self.head_0(x, seg)
        x = self.G_middle_0(up(x), seg)
        if self.config.num_upsampling_layers in ("more", "most"):
            x = up(x)
        x = self.G_middle_1(x, seg)
        x = self.up_0(up(x), seg)
        x = self.up_1(up(x), seg)
        x = self.up_2(up(x), seg)
        x = self.up_3(up(x), seg)
        if self.config.num_upsampling_layers == "most":
            x = self.up_4(up(x), seg)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))


class ConvEncoder(nn.Module):
    """Image -> (mu, logvar) of the style posterior. Inputs are resized to input_size (bilinear)."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = c = config
        widths = [3] + [c.ndf * min(2 ** i, 8) for i in range(c.num_layers)]
        for i in range(c.num_layers):
            conv = nn.Conv2d(widths[i], widths[i + 1], 3, stride=2, padding=1, bias=False)
            layer = nn.Sequential(_maybe_sn(conv, c.spectral), nn.InstanceNorm2d(widths[i + 1], affine=False))
            self.add_module(f"layer{i + 1}", layer)
        features = widths[-1] * 4 * 4
        if c.colour_bands:
            self.colour = nn.Sequential(nn.Linear(6 * c.colour_bands, c.colour_width), nn.LeakyReLU(0.2),
                                        nn.Linear(c.colour_width, c.colour_width), nn.LeakyReLU(0.2))
            features += c.colour_width
        self.fc_mu = nn.Linear(features, c.z_dim)
        self.fc_var = nn.Linear(features, c.z_dim)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.config.input_size
        if image.shape[2:] != (s, s):
            image = F.interpolate(image, size=(s, s), mode="bilinear")
        x = image
        for i in range(self.config.num_layers):
            if i:
                x = F.leaky_relu(x, 0.2)
            x = getattr(self, f"layer{i + 1}")(x)
        x = F.leaky_relu(x, 0.2).flatten(1)
        if self.config.colour_bands:
            x = torch.cat([x, self.colour(colour_statistics(image, self.config.colour_bands))], 1)
        return self.fc_mu(x), self.fc_var(x)


def colour_statistics(image: torch.Tensor, bands: int) -> torch.Tensor:
    """(N, 3, H, W) -> (N, 6 * bands): per horizontal band (top first), each channel's mean and standard
    deviation."""
    rows = torch.tensor_split(image, bands, dim=2)
    mean = torch.stack([r.mean((2, 3)) for r in rows], 1)
    std = torch.stack([r.std((2, 3), correction=0) for r in rows], 1)
    return torch.cat([mean, std], 2).flatten(1)


class NLayerDiscriminator(nn.Module):
    """PatchGAN critic; returns every intermediate feature map (the last one is the score map)."""

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        c = config
        nf = c.ndf
        sequence = [[nn.Conv2d(c.input_nc, nf, 4, stride=2, padding=2), nn.LeakyReLU(0.2)]]
        for n in range(1, c.n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == c.n_layers - 1 else 2
            conv = _maybe_sn(nn.Conv2d(nf_prev, nf, 4, stride=stride, padding=2, bias=False), c.spectral)
            sequence.append([nn.Sequential(conv, nn.InstanceNorm2d(nf, affine=False)), nn.LeakyReLU(0.2)])
        sequence.append([nn.Conv2d(nf, 1, 4, stride=1, padding=2)])
        for n, layers in enumerate(sequence):
            self.add_module(f"model{n}", nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for submodel in self.children():
            x = submodel(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    """num_discriminators critics, each on the input downsampled 2x more than the previous one."""

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        for i in range(config.num_discriminators):
            self.add_module(f"discriminator_{i}", NLayerDiscriminator(config))

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        results = []
        for d in self.children():
            results.append(d(x))
            x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
        return results
