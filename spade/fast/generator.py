"""Fast exact SPADE inference: the same function as SPADEGenerator.forward, computed for a label map.

Where the time goes in the straightforward forward (ADE20K, ngf 64, 256x256: about 181 GMACs) and what
this module does about it:
- SPADE's mlp_shared / gamma / beta convolutions (about three quarters of the work) depend on the label
  map only through each pixel's 5x5 window of classes; they are evaluated once per distinct window
  (spade/fast/patterns.py, spade/fast/spade_layer.py) and applied as a per-pixel affine with eval BatchNorm
  folded in. Their cost drops from per-pixel convolutions to a few small matrix products.
- What depends on the label map only (windows and their affine tables, the non-VAE first layer) is kept
  between frames, per resolution, so a frame with only a new style recomputes only the trunk, and after
  a stroke only the resolutions whose (nearest-downsampled) map changed redo their label work; what
  depends on the style only (the VAE first layer) is kept when only the labels change.
- The trunk (the residual blocks' conv_0 / conv_1 / conv_s) runs in channels_last, which oneDNN prefers;
  its wide 3x3 convolutions use Winograd F(2x2, 3x3) on grids up to 16x16 and F(4x4, 3x3) on 32x32 and
  64x64 (spade/fast/winograd.py).

The trunk cannot be updated sparsely after a stroke and stay exact: the 3x3 convolutions on the coarse
grids (8x8 and 16x16 at 256x256) give every output pixel a receptive field covering the whole image
(see docs/performance.md).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .patterns import Patterns, build_patterns
from .spade_layer import FastSpade, TapCache, expand_edge_channel
from .winograd import Conv3x3
from ..model import SPADEGenerator, SPADEResBlock

LEAK = 0.2


class RenderCancelled(Exception):
    """A frame given up between two blocks because its `stop` event was set (a newer render supersedes it)."""


def _conv_weight(conv: torch.nn.Conv2d, device: torch.device,
                 dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The module's own tensors (no copy on the same device and dtype)."""
    w = conv.weight.detach().to(device, dtype)
    b = conv.bias.detach().to(device, dtype) if conv.bias is not None else None
    return w, b


def _conv1x1(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """A bias-free 1x1 conv on a channels_last tensor as one matrix product (the conv kernel is slower)."""
    n, c, h, w = x.shape
    flat = x.permute(0, 2, 3, 1).reshape(n * h * w, c)
    return torch.mm(flat, weight.reshape(weight.shape[0], c).t()).view(n, h, w, -1).permute(0, 3, 1, 2)


class FastBlock:
    """A SPADEResBlock with its convolutions in channels_last (or Winograd) and its SPADEs as FastSpade."""

    def __init__(self, block: SPADEResBlock, device: torch.device, dtype: torch.dtype, edge_channel: bool = False):
        self.conv_0 = Conv3x3(block.conv_0, device, dtype)
        self.conv_1 = Conv3x3(block.conv_1, device, dtype)
        self.norm_0 = FastSpade(block.norm_0, device, edge_channel)
        self.norm_1 = FastSpade(block.norm_1, device, edge_channel)
        self.learned_shortcut = block.learned_shortcut
        if self.learned_shortcut:
            self.conv_s = _conv_weight(block.conv_s, device, dtype)
            self.norm_s = FastSpade(block.norm_s, device, edge_channel)

    def spades(self) -> list[FastSpade]:
        return [self.norm_0, self.norm_1] + ([self.norm_s] if self.learned_shortcut else [])

    def __call__(self, x: torch.Tensor, rho: torch.Tensor, tables: dict[int, tuple]) -> torch.Tensor:
        if self.learned_shortcut:
            x_s = _conv1x1(self.norm_s.apply(x, rho, tables[id(self.norm_s)]), self.conv_s[0])
        else:
            x_s = x
        dx = self.conv_0(self.norm_0.apply(x, rho, tables[id(self.norm_0)], LEAK))
        dx = self.conv_1(self.norm_1.apply(dx, rho, tables[id(self.norm_1)], LEAK))
        return dx.add_(x_s)


@dataclass
class _Level:
    """What one label map gives at one resolution: its windows, the SPADE tables, the first layer."""

    classes: torch.Tensor
    patterns: Patterns | None = None
    tables: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    first: torch.Tensor | None = None


@dataclass
class _LabelCache:
    """Everything derived from one label map (on this generator), per resolution."""

    classes: torch.Tensor
    levels: dict[tuple[int, int], _Level] = field(default_factory=dict)


class FastGenerator:
    """Inference-only, exact re-arrangement of an eval-mode SPADEGenerator.

    gen = FastGenerator(generator)          # reads the weights once; the generator must be in eval mode
    out = gen(classes, z)                   # classes: (H, W) int64 channel ids; -> (1, 3, H, W) float32

    With edge_channel=True the generator's last input channel is an instance-edge map (COCO-Stuff,
    Cityscapes): pass it as gen(classes, z, edges) with edges a (H, W) bool map; the pair is folded into
    one id per pixel (see spade.fast.spade_layer.expand_edge_channel), so this stays exact.

    Successive calls reuse what did not change: the same label map with a new style skips all label work;
    the same style skips the VAE first layer. dtype=torch.float16 (CUDA) trades exactness for speed.
    """

    def __init__(self, generator: SPADEGenerator, device: torch.device | str | None = None,
                 dtype: torch.dtype = torch.float32, edge_channel: bool = False):
        if generator.training:
            raise ValueError("FastGenerator needs an eval-mode generator (call .eval())")
        self.config = c = generator.config
        self.device = torch.device(device) if device is not None else next(generator.parameters()).device
        self.dtype = dtype
        self.edge_channel = edge_channel
        self.class_nc = c.semantic_nc - 1 if edge_channel else c.semantic_nc  # channels a class id can name
        self.label_nc = 2 * self.class_nc if edge_channel else c.semantic_nc   # ids the windows are made of
        if c.use_vae:
            self.fc = (generator.fc.weight.detach().to(self.device, dtype),
                       generator.fc.bias.detach().to(self.device, dtype))
        else:
            self.fc = _conv_weight(generator.fc, self.device, dtype)
            if edge_channel:
                self.fc = (expand_edge_channel(self.fc[0]), self.fc[1])
        names = ["head_0", "G_middle_0", "G_middle_1", "up_0", "up_1", "up_2", "up_3"]
        if c.num_upsampling_layers == "most":
            names.append("up_4")
        self.blocks = {n: FastBlock(getattr(generator, n), self.device, dtype, edge_channel) for n in names}
        self.conv_img = _conv_weight(generator.conv_img, self.device, dtype)
        self._labels: _LabelCache | None = None
        self._previous: _LabelCache | None = None
        self._style: tuple[torch.Tensor, torch.Tensor] | None = None
        self._lock = threading.Lock()  # the caches are per instance; one frame at a time

    # -- caches ---------------------------------------------------------------------------------------------
    def clear_cache(self) -> None:
        """Forget everything kept from earlier frames (the next frame costs what a first frame costs)."""
        self._labels = self._previous = None
        self._style = None
        for block in self.blocks.values():
            for spade in block.spades():
                spade.taps = TapCache()

    def _label_cache(self, classes: torch.Tensor) -> _LabelCache:
        cache = self._labels
        if cache is None or cache.classes.shape != classes.shape or not torch.equal(cache.classes, classes):
            self._previous = cache
            cache = self._labels = _LabelCache(classes.clone())
        return cache

    def _level(self, cache: _LabelCache, size: tuple[int, int]) -> _Level:
        """The level of this size; taken over from the previous label map when it is the same there
        (a small stroke often leaves the coarse grids, which sample every 16th or 32nd pixel, unchanged)."""
        level = cache.levels.get(size)
        if level is None:
            small = cache.classes
            if tuple(small.shape) != size:
                small = F.interpolate(small[None, None].float(), size=size, mode="nearest")[0, 0].long()
            old = self._previous.levels.get(size) if self._previous is not None else None
            level = old if old is not None and torch.equal(old.classes, small) else _Level(small)
            cache.levels[size] = level
        return level

    def _patterns(self, level: _Level) -> Patterns:
        if level.patterns is None:
            level.patterns = build_patterns(level.classes, self.label_nc)
        return level.patterns

    def _tables(self, level: _Level, spade: FastSpade) -> tuple[torch.Tensor, torch.Tensor]:
        key = id(spade)
        if key not in level.tables:
            level.tables[key] = spade.tables(self._patterns(level), self.dtype)
        return level.tables[key]

    # -- forward --------------------------------------------------------------------------------------------
    def _first_features(self, cache: _LabelCache, z: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor:
        c = self.config
        if c.use_vae:
            if z is None:
                raise ValueError("this is a VAE generator: pass a style latent z of shape (1, z_dim)")
            z = z.to(self.device, self.dtype)
            if self._style is None or self._style[0].shape != z.shape or not torch.equal(self._style[0], z):
                sh, sw = c.latent_size()
                x = F.linear(z, *self.fc).view(1, 16 * c.ngf, sh, sw)
                self._style = (z.clone(), x.contiguous(memory_format=torch.channels_last))
            return self._style[1]
        level = self._level(cache, size)
        if level.first is None:
            onehot = F.one_hot(level.classes, self.label_nc).permute(2, 0, 1)[None].to(self.dtype)
            level.first = F.conv2d(onehot.contiguous(memory_format=torch.channels_last), *self.fc, padding=1)
        return level.first

    def _block(self, name: str, x: torch.Tensor, cache: _LabelCache) -> torch.Tensor:
        block = self.blocks[name]
        level = self._level(cache, tuple(x.shape[2:]))
        tables = {id(s): self._tables(level, s) for s in block.spades()}
        return block(x, self._patterns(level).rho, tables)

    @staticmethod
    def _up(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest")

    def plan(self) -> list[tuple[str, bool]]:
        """The residual blocks in order, each with whether its input is the previous output upsampled 2x."""
        more = self.config.num_upsampling_layers in ("more", "most")
        steps = [("head_0", False), ("G_middle_0", True), ("G_middle_1", more)]
        steps += [(name, True) for name in ("up_0", "up_1", "up_2", "up_3")]
        if self.config.num_upsampling_layers == "most":
            steps.append(("up_4", True))
        return steps

    def checked_classes(self, classes: torch.Tensor, edges: torch.Tensor | None = None) -> torch.Tensor:
        """The ids the windows are made of (int64 on this device; edges folded in), after checking the shape
        and range of classes and edges (ValueError otherwise)."""
        if classes.dim() != 2:
            raise ValueError(f"classes must be (H, W); got {tuple(classes.shape)}")
        c = self.config
        classes = classes.to(self.device, torch.int64)
        h, w = classes.shape
        if not c.use_vae and (h % c.downscale or w % c.downscale):
            raise ValueError(f"height and width must be multiples of {c.downscale}; got {w}x{h}")
        if classes.numel() and (int(classes.min()) < 0 or int(classes.max()) >= self.class_nc):
            raise ValueError(f"channel ids must lie in 0..{self.class_nc - 1}")
        if self.edge_channel:
            if edges is None or tuple(edges.shape) != (h, w):
                raise ValueError("this generator has an instance-edge channel: pass edges of the label map's shape")
            classes = classes + self.class_nc * edges.to(self.device, torch.int64)
        return classes

    def __call__(self, classes: torch.Tensor, z: torch.Tensor | None = None, edges: torch.Tensor | None = None,
                 record: dict[str, torch.Tensor] | None = None, stop: threading.Event | None = None) -> torch.Tensor:
        """classes: (H, W) int64 channel ids in [0, semantic_nc); z: (1, z_dim) for VAE models;
        edges: (H, W) bool instance edges, required when the generator has an edge channel.

        With `record` (a dict), the first layer's features ("first") and every block's output (by name) are
        stored in it, as the (1, C, h, w) channels_last tensors the frame computed (spade/fast/preview.py).
        With `stop`, the frame raises RenderCancelled before the next block once the event is set (what it
        computed so far stays valid for later frames).
        """
        c = self.config
        classes = self.checked_classes(classes, edges)
        h, w = classes.shape
        with self._lock, torch.inference_mode():
            cache = self._label_cache(classes)
            x = self._first_features(cache, z, (h // c.downscale, w // c.downscale))
            if record is not None:
                record["first"] = x
            for name, upsampled in self.plan():
                if stop is not None and stop.is_set():
                    raise RenderCancelled(f"frame given up before {name}")
                x = self._block(name, self._up(x) if upsampled else x, cache)
                if record is not None:
                    record[name] = x
            out = torch.tanh_(F.conv2d(F.leaky_relu(x, LEAK), *self.conv_img, padding=1))
            self._previous = None
        return out.float().contiguous()
