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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .patterns import Patterns, build_patterns
from .spade_layer import FastSpade, TapCache, expand_edge_channel
from .winograd import Conv3x3, winograd_tile
from ..model import GeneratorConfig, SPADEGenerator, SPADEResBlock

LEAK = 0.2


@dataclass(frozen=True)
class TrunkBlock:
    """One residual block of a SPADE generator: its name, channels in and out, and whether its input is the
    previous block's output upsampled 2x."""

    name: str
    fin: int
    fout: int
    upsampled: bool


def trunk(config: GeneratorConfig) -> list[TrunkBlock]:
    """The generator's residual blocks in order (as spade/model.py's SPADEGenerator builds and runs them)."""
    nf, more = config.ngf, config.num_upsampling_layers in ("more", "most")
    blocks = [TrunkBlock("head_0", 16 * nf, 16 * nf, False), TrunkBlock("G_middle_0", 16 * nf, 16 * nf, True),
              TrunkBlock("G_middle_1", 16 * nf, 16 * nf, more)]
    blocks += [TrunkBlock(f"up_{i}", 2 ** (4 - i) * nf, 2 ** (3 - i) * nf, True) for i in range(4)]
    if config.num_upsampling_layers == "most":
        blocks.append(TrunkBlock("up_4", nf, nf // 2, True))
    return blocks


def memory_estimate(config: GeneratorConfig, height: int, width: int) -> int:
    """What the fast path allocates for an (height, width) frame, in bytes, on the safe side for painted label
    maps: the Winograd weights of the convolutions that use them at this size, the largest block's working
    activations (float32: its input, upsampled, and what its SPADEs and convolutions make of it), and the
    label caches (a window id per pixel and level, for this map and the last). A map of label noise, a
    distinct window at nearly every pixel, needs far more: its SPADE tables grow with the pixels."""
    h, w = height // config.downscale, width // config.downscale
    weights, working = 0, 0
    for block in trunk(config):
        if block.upsampled:
            h, w = 2 * h, 2 * w
        middle = min(block.fin, block.fout)
        for cin, cout in ((block.fin, middle), (middle, block.fout)):
            weights += {0: 0, 2: 16, 4: 36}[winograd_tile(cin, cout, h * w)] * cin * cout
        working = max(working, h * w * (6 * block.fin + 3 * block.fout))
    labels = 2 * 8 * height * width * 4 // 3
    return 4 * (weights + working) + labels


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
class Level:
    """What one label map gives at one resolution: its nearest-sampled classes, its windows, the SPADE tables
    and (without VAE) the first layer."""

    classes: torch.Tensor
    patterns: Patterns | None = None
    tables: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    first: torch.Tensor | None = None


@dataclass
class LabelCache:
    """Everything derived from one label map (on this generator), per resolution."""

    classes: torch.Tensor
    levels: dict[tuple[int, int], Level] = field(default_factory=dict)


class FastGenerator:
    """Inference-only, exact re-arrangement of an eval-mode SPADEGenerator.

    gen = FastGenerator(generator)          # reads the weights once; the generator must be in eval mode
    out = gen(classes, z)                   # classes: (H, W) int64 channel ids; -> (1, 3, H, W) float32

    With edge_channel=True the generator's last input channel is an instance-edge map (COCO-Stuff,
    Cityscapes): pass it as gen(classes, z, edges) with edges a (H, W) bool map; the pair is folded into
    one id per pixel (see spade.fast.spade_layer.expand_edge_channel), so this stays exact.

    Successive calls reuse what did not change: the same label map with a new style skips all label work;
    the same style skips the VAE first layer. dtype=torch.float16 (CUDA) trades exactness for speed.

    Work on the cached activations (spade/fast/preview.py) goes through `holding`, `level`, `first_features`,
    `run_block`, `upsample` and `finish_frame`, the same steps a frame takes.
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
        self.blocks = {b.name: FastBlock(getattr(generator, b.name), self.device, dtype, edge_channel)
                       for b in trunk(c)}
        self.conv_img = _conv_weight(generator.conv_img, self.device, dtype)
        self._labels: LabelCache | None = None
        self._previous: LabelCache | None = None
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

    def _label_cache(self, classes: torch.Tensor) -> LabelCache:
        cache = self._labels
        if cache is None or cache.classes.shape != classes.shape or not torch.equal(cache.classes, classes):
            self._previous = cache
            cache = self._labels = LabelCache(classes.clone())
        return cache

    @property
    def last_labels(self) -> LabelCache | None:
        """The label cache of the last label map a frame (or `holding`) was given."""
        return self._labels

    @contextmanager
    def holding(self, classes: torch.Tensor) -> Iterator[LabelCache]:
        """This generator held for work on the label map `classes` (ids from `checked_classes`): its lock
        and inference mode, yielding that map's label cache (the last one's when the map is the same)."""
        with self._lock, torch.inference_mode():
            yield self._label_cache(classes)

    def finish_frame(self) -> None:
        """The label map's levels are all made: forget the previous map's (kept until then so that a level
        the new map leaves unchanged is taken over, not built again)."""
        self._previous = None

    def level(self, cache: LabelCache, size: tuple[int, int]) -> Level:
        """The level of this size; taken over from the previous label map when it is the same there
        (a small stroke often leaves the coarse grids, which sample every 16th or 32nd pixel, unchanged)."""
        level = cache.levels.get(size)
        if level is None:
            small = cache.classes
            if tuple(small.shape) != size:
                small = F.interpolate(small[None, None].float(), size=size, mode="nearest")[0, 0].long()
            old = self._previous.levels.get(size) if self._previous is not None else None
            level = old if old is not None and torch.equal(old.classes, small) else Level(small)
            cache.levels[size] = level
        return level

    def _patterns(self, level: Level) -> Patterns:
        if level.patterns is None:
            level.patterns = build_patterns(level.classes, self.label_nc)
        return level.patterns

    def _tables(self, level: Level, spade: FastSpade) -> tuple[torch.Tensor, torch.Tensor]:
        key = id(spade)
        if key not in level.tables:
            level.tables[key] = spade.tables(self._patterns(level), self.dtype)
        return level.tables[key]

    # -- forward --------------------------------------------------------------------------------------------
    def first_features(self, cache: LabelCache, z: torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor:
        """The first layer's output (1, 16 ngf, h, w) channels_last on the first grid `size`: from the style
        z (VAE, kept while z is the same) or from the label map (kept with its level)."""
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
        level = self.level(cache, size)
        if level.first is None:
            onehot = F.one_hot(level.classes, self.label_nc).permute(2, 0, 1)[None].to(self.dtype)
            level.first = F.conv2d(onehot.contiguous(memory_format=torch.channels_last), *self.fc, padding=1)
        return level.first

    def run_block(self, name: str, x: torch.Tensor, cache: LabelCache) -> torch.Tensor:
        """The residual block `name` on its input x (1, C, h, w) channels_last, at every pixel."""
        block = self.blocks[name]
        level = self.level(cache, tuple(x.shape[2:]))
        tables = {id(s): self._tables(level, s) for s in block.spades()}
        return block(x, self._patterns(level).rho, tables)

    @staticmethod
    def upsample(x: torch.Tensor) -> torch.Tensor:
        """The nearest 2x upsample between blocks."""
        return F.interpolate(x, scale_factor=2, mode="nearest")

    def plan(self) -> list[tuple[str, bool]]:
        """The residual blocks in order, each with whether its input is the previous output upsampled 2x."""
        return [(block.name, block.upsampled) for block in trunk(self.config)]

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
        with self.holding(classes) as cache:
            x = self.first_features(cache, z, (h // c.downscale, w // c.downscale))
            if record is not None:
                record["first"] = x
            for name, upsampled in self.plan():
                if stop is not None and stop.is_set():
                    raise RenderCancelled(f"frame given up before {name}")
                x = self.run_block(name, self.upsample(x) if upsampled else x, cache)
                if record is not None:
                    record[name] = x
            out = torch.tanh_(F.conv2d(F.leaky_relu(x, LEAK), *self.conv_img, padding=1))
            self.finish_frame()
        return out.float().contiguous()
