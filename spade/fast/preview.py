"""Stroke previews: after a stroke, recompute each layer only near the stroke and reuse the last exact frame.

The idea of SIGE (Li et al., NeurIPS 2022), on spade.fast. An exact update after a stroke cannot be much
cheaper than a frame (the coarse grids spread any change over the whole image, docs/performance.md), but
most of that spread is small. So a preview, at every residual block:

- takes the pixels whose label changed at the block's resolution (the nearest-sampled map its SPADEs see),
- grows them by the block's reach (`PreviewConfig.reach` output pixels, scaled to the block's grid),
- recomputes the block there in one of the ways `StepMode` names: at those pixels (its two 3x3
  convolutions as one matrix product each over the gathered 3x3 neighbourhoods, the SPADEs' affine made
  at the pixels from the 3x3 windows around them), densely over the box around them, or densely over the
  whole grid, whichever the cost model says is cheapest; it reads its input from the previous block's
  preview and keeps the previous frame's activations everywhere else. The blocks on the coarsest grid (up
  to 8x8, `whole_upto`) are recomputed at every pixel, since a change moves them everywhere. The matrix
  products run in bfloat16 where the CPU is much faster at it (`PreviewConfig.bfloat16`), and the wide
  kernels in int8 where that is faster still (`PreviewConfig.int8`).

The result is not exact: outside those pixels it keeps the old activations, which the stroke would have
moved a little through the coarse layers. Successive previews can each start from the last (`advance=True`,
as the app does during a stroke), so that each costs what the pointer moved since the last render.

A preview is not to cost more than the exact frame it stands in for. Its plan is estimated from what this
process has measured (`RunningCosts`): the exact frames' times, and per kind and width of block step how long
such steps took against their multiply-add estimate. A plan over `exact_at` of the exact frame's time is made
light (its coarse blocks kept), and if that is still over, the exact frame is rendered instead; a preview that
overruns its estimate part-way chooses its remaining blocks' ways again (`PreviewStats` counts each). Memory:
the activations of one frame, a working copy of them, and the kernels of the recomputed convolutions in the
layout the matrix products take (`cache_bytes`, `cache_bytes_estimate`).

    preview = StrokePreview(fast_generator)
    image = preview.exact(classes, z)            # an exact frame; its activations are kept
    image, exact = preview.preview(classes2, z)  # a preview (exact=False), or the exact frame (exact=True)
"""
from __future__ import annotations

import functools
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Enum

import torch
import torch.nn.functional as F

from .generator import LEAK, FastBlock, FastGenerator, LabelCache, Level, trunk
from .patterns import Patterns, build_patterns, build_windows
from .spade_layer import TapCache
from ..model import GeneratorConfig

# Block outputs are stored as (h, w, C) views of channels_last tensors; "image" is the tanh output (h, w, 3).
IMAGE = "image"

NEWEST = 0.5       # the weight of the newest measure in the running costs (exponentially weighted)
MIN_FACTOR = 1e-3  # a kind of step measured at no time (a coarse clock) counts as this
FORGET = 0.85      # each exact frame rendered instead of a preview moves the running costs this far back
                   # towards the static estimate, so that a load that has gone stops ruling out previews


@dataclass(frozen=True)
class PreviewConfig:
    """How a preview chooses what to recompute.

    reach:           how far around a changed label pixel a block is recomputed, in output pixels (scaled to
                     each block's grid and rounded; a block's own reach is 4 pixels of its grid).
    min_reach:       at least this many pixels of a block's grid, except on the first (coarsest) grid, where a
                     pixel is a whole patch of the output.
    keep_upto:       blocks on grids of at most this many pixels whose input did not change (only their SPADEs'
                     labels) keep the previous activations (0: none). Once the trunk's input changes (the first
                     layer of a generator without VAE reads the label map), every later block is recomputed.
    whole_upto:      blocks on grids of at most this many pixels (and not kept) are recomputed at every pixel
                     of their grid, not near the change only: on the coarsest grid a changed label moves the
                     whole block, and a product over all its pixels streams the same weights as one over a few.
    sparse_overhead: the static estimate's cost of a multiply-add of a block recomputed at a set of pixels
                     against one of the dense block (the gathers, the per-pixel SPADE work) with float32
                     products, and `sparse_overhead_bf16` with bfloat16 ones; where the running costs have
                     measured a kind of step, they correct it. 0 never runs a block densely.
    exact_at:        share of the exact frame's time above which (estimated) a preview is made light, and the
                     exact frame is rendered instead where the light one is still above it.
    replan_over:     a preview whose blocks so far took this many times their estimate (and more than
                     `replan_min_share` of the exact frame over it) chooses its remaining blocks' ways again
                     with what it measured.
    light_over_ms:   in a chain of previews (advance=True, a stroke in progress), a preview whose full plan holds
                     more multiply-adds than the exact frame does in this many milliseconds (its share of the
                     frame's multiply-adds times the exact frames' running time, `StrokePreview.exact_ms`) is
                     made light: the blocks on grids of at most `light_keep_upto` pixels keep their activations,
                     changed or not, and only the finer blocks are recomputed near the change. This caps what a
                     fast stroke's previews cost (each costs what the pointer moved while the last one ran);
                     the exact frame once the pointer rests has everything. 0 makes every chained preview
                     light; infinity, none.
    bfloat16:        run the preview's matrix products (the convolutions at pixel sets) in bfloat16, with
                     float32 accumulation, where this CPU does them at least twice as fast (AMX, AVX512-BF16).
    int8:            run the kernels with at least `int8_from` input channels in int8 (a scale per output
                     channel; the gathered inputs quantised per product, fbgemm's dynamic int8 product), where
                     this CPU does that at least 1.5x as fast as the preview's other products (bfloat16 or
                     float32; `_int8_is_faster`). At a few pixels the wide blocks are bound by reading their
                     weights, which int8 cuts to a quarter of float32.
    threads:         CPU threads a preview's sparse blocks run on (0: torch's setting; None: measured once per
                     process, `_sparse_threads`); the blocks at least `wide_channels` wide and the blocks run
                     densely keep torch's setting. Whether a second thread helps a pixel set's gathers and
                     small products depends on the CPU.
    box:             allow a block to be recomputed densely over the box around its pixel sets (the exact
                     frame's own kernels on a crop, 2 pixels wider), where the cost model says that is cheaper
                     than at the sets: the narrow fine blocks, where a pixel set's gathers and SPADE lookups cost
                     more than the box's extra pixels.
    """

    reach: int = 12
    min_reach: int = 1
    keep_upto: int = 16 * 16
    whole_upto: int = 8 * 8
    sparse_overhead: float = 2.2
    sparse_overhead_bf16: float = 1.0
    exact_at: float = 0.75
    replan_over: float = 1.5
    replan_min_share: float = 0.05
    light_over_ms: float = 50.0
    light_keep_upto: int = 32 * 32
    bfloat16: bool = True
    threads: int | None = None
    wide_channels: int = 1024
    int8: bool = True
    int8_from: int = 512
    box: bool = True


class StepMode(Enum):
    """What a preview does with one residual block."""

    KEPT = "kept"      # keeps the activations it starts from (unchanged, or kept by keep_upto or a light preview)
    SETS = "sets"      # recomputed at the pixel sets near the change
    WHOLE = "whole"    # recomputed at every pixel of its grid by the pixel-set path (PreviewConfig.whole_upto)
    BOX = "box"        # recomputed densely over the box around its pixel sets (PreviewConfig.box)
    DENSE = "dense"    # recomputed densely, as the exact frame does

    @property
    def cost_kind(self) -> StepMode:
        """The kind of step whose running cost this one's is measured with (the pixel-set path for WHOLE)."""
        return StepMode.SETS if self is StepMode.WHOLE else self


class PreviewKind(Enum):
    """What `StrokePreview.preview` rendered."""

    FULL = "full"      # every block the change reaches recomputed near it
    LIGHT = "light"    # the coarse blocks kept (PreviewConfig.light_over_ms, or a full one would cost too much)
    EXACT = "exact"    # the exact frame, since a preview would cost about as much or more (the estimate)


@dataclass
class PreviewStats:
    """How often each happened since this StrokePreview was made (`StrokePreview.stats`)."""

    full: int = 0       # full previews
    light: int = 0      # light previews, by the budget or because the full one would cost too much
    exact: int = 0      # exact frames rendered instead of a preview because a preview would cost too much
    replans: int = 0    # previews that overran their estimate part-way and chose their remaining blocks again

    def as_dict(self) -> dict[str, int]:
        return {"full": self.full, "light": self.light, "exact": self.exact, "replans": self.replans}


@dataclass
class RunningCosts:
    """What this process has measured, which a preview's plan is estimated from.

    exact_ms:  the exact frames' time (see `exact_measured`).
    factors:   per kind of step (SETS, BOX, DENSE) and block width (whether at least
               `PreviewConfig.wide_channels` wide: those run on torch's threads, the others on the sparse blocks'
               own), how long such steps took against their static estimate (multiply-adds,
               `PreviewConfig.sparse_overhead` included) at the exact frame's rate (exact_ms over the frame's
               multiply-adds); 1 until measured. A machine's uniform speed or
               load moves the exact frames and the steps alike and so cancels; what a factor holds is how
               much more (or less) a kind of step suffers than the exact frame does.
    overhead:  a preview's time outside its blocks (the plan, copies, the output layer) as a share of exact_ms.
    """

    exact_ms: float | None = None
    factors: dict[tuple[StepMode, bool], float] = field(default_factory=lambda: {
        (kind, wide): 1.0 for kind in (StepMode.SETS, StepMode.BOX, StepMode.DENSE) for wide in (False, True)})
    overhead: float = 0.0

    def exact_measured(self, ms: float) -> None:
        """An exact frame's time: a faster one than the running time replaces it (a first frame, which builds
        the model's tables, or a load that has gone), a slower one moves it by NEWEST. So the exact frame is
        estimated on the low side, and previews are weighed against it on the safe side."""
        if self.exact_ms is None or ms < self.exact_ms:
            self.exact_ms = ms
        else:
            self.exact_ms = NEWEST * ms + (1 - NEWEST) * self.exact_ms

    def factor(self, mode: StepMode, wide: bool) -> float:
        """The factor of a step of this mode on a block of this width (0 for KEPT, which costs nothing)."""
        return self.factors.get((mode.cost_kind, wide), 0.0)

    def learn(self, measured: dict[tuple[StepMode, bool], float], overhead: float) -> None:
        """A preview's measured factors per kind of step and its overhead share, into the running ones."""
        for kind, value in measured.items():
            self.factors[kind] = NEWEST * max(value, MIN_FACTOR) + (1 - NEWEST) * self.factors[kind]
        self.overhead = NEWEST * overhead + (1 - NEWEST) * self.overhead

    def forget(self) -> None:
        """Move the step factors and the overhead back towards the static estimate (FORGET; the factors in
        log terms)."""
        for kind, value in self.factors.items():
            self.factors[kind] = math.exp(FORGET * math.log(value))
        self.overhead *= FORGET


@dataclass(frozen=True)
class StepReport:
    """One block of the last preview: what it did, at how many pixels, its estimate and its time."""

    name: str
    mode: StepMode
    pixels: int
    estimated_ms: float
    ms: float


@dataclass(frozen=True)
class PreviewReport:
    """The last call of `StrokePreview.preview` that could preview: what it rendered, against what estimate."""

    kind: PreviewKind
    estimated_ms: float            # the plan it rendered (for EXACT: the cheapest preview's)
    exact_ms: float                # the exact frame's running time it was weighed against
    ms: float                      # what it took, start to end
    steps: tuple[StepReport, ...]  # per block (none for EXACT)


@contextmanager
def _cpu_threads(count: int, device: torch.device) -> Iterator[None]:
    """Run the enclosed work on `count` torch threads on the CPU (0, or another device: as it is)."""
    before = torch.get_num_threads()
    if count <= 0 or device.type != "cpu" or count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    """(1, C, h, w) channels_last -> its (h, w, C) view."""
    return x.permute(0, 2, 3, 1)[0]


def _nchw(x: torch.Tensor) -> torch.Tensor:
    """(n, h, w, C) -> the (n, C, h, w) channels_last view convolutions take."""
    return x.permute(0, 3, 1, 2)


class _PixelSets:
    """The pixels one block recomputes on its grid and the two rings its 3x3 convolutions read.

    rings[0]: the changed pixels grown by `reach`, the recomputed ones; rings[1]: those grown by one more
    pixel (where conv_1 reads and conv_0 writes); rings[2]: by two (where conv_0 reads). Each is a list of
    flat indices into the (h, w) grid. The work is done in the box around the changed pixels, `reach` + 2
    wider (`box`: top, bottom, left, right, clamped to the grid), so its cost follows the stroke's size.
    """

    def __init__(self, changed: torch.Tensor, reach: int):
        self.size = h, w = changed.shape
        self.reach = reach
        rows, cols = changed.any(1).nonzero()[:, 0], changed.any(0).nonzero()[:, 0]
        m = reach + 2
        self.box = top, bottom, left, right = (max(0, int(rows[0]) - m), min(h, int(rows[-1]) + 1 + m),
                                               max(0, int(cols[0]) - m), min(w, int(cols[-1]) + 1 + m))
        mask = changed[top:bottom, left:right][None, None].float()
        self._local: list[torch.Tensor] = []
        self._taps: dict[tuple[int, int], torch.Tensor] = {}
        for grow in (reach, 1, 1):
            if grow == 1:
                mask = F.max_pool2d(mask, 3, 1, 1)
            elif grow:  # separable: two 1-D windows instead of one square
                mask = F.max_pool2d(F.max_pool2d(mask, (1, 2 * grow + 1), 1, (0, grow)), (2 * grow + 1, 1), 1,
                                    (grow, 0))
            self._local.append(mask.reshape(-1).nonzero()[:, 0])
        width = right - left
        self.rings = [(ring // width + top) * w + ring % width + left for ring in self._local]

    def share(self, ring: int) -> float:
        return self.rings[ring].numel() / (self.size[0] * self.size[1])

    def taps(self, out_ring: int, in_ring: int) -> torch.Tensor:
        """(n_out, 9): for each pixel of rings[out_ring], the rows of its 3x3 neighbours among the values at
        rings[in_ring] (conv weight order); n_in, one past the last row, for a neighbour outside the image
        (every neighbour inside the image of a pixel of ring k is in ring k + 1, and in the box)."""
        key = (out_ring, in_ring)
        if key in self._taps:
            return self._taps[key]
        top, bottom, left, right = self.box
        w = right - left
        src, dst = self._local[in_ring], self._local[out_ring]
        pos = torch.full(((bottom - top + 2) * (w + 2),), src.numel(), dtype=torch.int64, device=src.device)
        pos[_padded_flat(src, w)] = torch.arange(src.numel(), device=src.device)
        offsets = torch.tensor([dy * (w + 2) + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)], device=src.device)
        self._taps[key] = pos[_padded_flat(dst, w)[:, None] + offsets]
        return self._taps[key]

    def in_box(self, ring: int, margin: int) -> torch.Tensor:
        """The pixels of a ring as flat indices into the box grown by `margin` (clamped to the grid)."""
        h, w = self.size
        top, bottom, left, right = self.box
        dy, dx = top - max(0, top - margin), left - max(0, left - margin)
        width = right - left
        grown = min(w, right + margin) - max(0, left - margin)
        local = self._local[ring]
        return (local // width + dy) * grown + local % width + dx


@dataclass
class _Step:
    """One block of a preview: what it does (`mode`), the static estimate of each way it may take (`options`,
    in multiply-adds with the sparse overhead, as `units`), and what the exact frame spends on it
    (`dense_cost`, Winograd counted). `sets` is None for a KEPT step."""

    name: str
    upsampled: bool
    wide: bool            # at least PreviewConfig.wide_channels wide (run on torch's threads)
    level: Level
    sets: _PixelSets | None
    mode: StepMode
    units: float
    dense_cost: float
    options: dict[StepMode, float]

    @property
    def pixels(self) -> int:
        """The pixels of its grid it recomputes."""
        if self.mode in (StepMode.SETS, StepMode.WHOLE):
            return self.sets.rings[0].numel()
        if self.mode is StepMode.BOX:
            top, bottom, left, right = self.sets.box
            return (bottom - top) * (right - left)
        return self.level.classes.numel() if self.mode is StepMode.DENSE else 0

    def chosen(self, costs: RunningCosts) -> _Step:
        """This step taking the way its options estimate cheapest with these running costs (ties: dense, then
        the pixel sets, then the box)."""
        mode = min(self.options, key=lambda m: self.options[m] * costs.factor(m, self.wide))
        return replace(self, mode=mode, units=self.options[mode])

    def kept(self) -> _Step:
        return replace(self, sets=None, mode=StepMode.KEPT, units=0.0, options={StepMode.KEPT: 0.0})


def _share(steps: list[_Step]) -> float:
    """What a preview of these steps costs as a share of the exact frame by the static estimate (multiply-adds)."""
    return sum(s.units for s in steps) / sum(s.dense_cost for s in steps)


@dataclass
class _Frame:
    """What previews start from (the last exact frame, or the last preview made with advance=True), and
    the working copy a preview overwrites pixel by pixel."""

    classes: torch.Tensor
    z: torch.Tensor | None
    labels: LabelCache                                  # the FastGenerator label cache of that frame
    kept: dict[str, torch.Tensor]                       # name -> (h, w, C), the activations previews start from
    work: dict[str, torch.Tensor]                       # name -> (h, w, C), the last preview's activations
    dirty: dict[str, torch.Tensor | None]               # flat pixel indices the last preview overwrote (None: all)


def cache_bytes_estimate(config: GeneratorConfig, height: int, width: int) -> int:
    """What a StrokePreview keeps for an (height, width) frame of a generator of this architecture, on the
    safe side: the float32 activations of every block and the image, twice (the kept ones and the working
    copy), and its kernels in the preview's layout (at most float32, as large as the trunk's weights)."""
    h, w = height // config.downscale, width // config.downscale
    activations, kernels = 3 * height * width, 0
    for block in trunk(config):
        if block.upsampled:
            h, w = 2 * h, 2 * w
        activations += block.fout * h * w
        middle = min(block.fin, block.fout)
        kernels += 9 * (block.fin * middle + middle * block.fout)
        kernels += block.fin * block.fout if block.fin != block.fout else 0
    return 4 * (2 * activations + kernels)


def _measured_factors(steps: list[_Step], reports: list[StepReport],
                      rate: float) -> dict[tuple[StepMode, bool], float]:
    """Per kind and width of step that ran, its measured time over its static estimate at `rate` ms per unit."""
    ms: dict[tuple[StepMode, bool], float] = {}
    units: dict[tuple[StepMode, bool], float] = {}
    for step, report in zip(steps, reports):
        if step.mode is not StepMode.KEPT and step.units > 0:
            kind = (step.mode.cost_kind, step.wide)
            ms[kind] = ms.get(kind, 0.0) + report.ms
            units[kind] = units.get(kind, 0.0) + step.units
    return {kind: ms[kind] / (units[kind] * rate) for kind in ms}


def _block_macs(block: FastBlock, pixels: int, conv_0_pixels: int, winograd: bool = False) -> float:
    """Multiply-adds of a residual block with conv_1 and the shortcut at `pixels` output pixels and conv_0 at
    `conv_0_pixels`; with winograd=True, a convolution that runs by Winograd on this grid counts as its
    measured speed-up fewer (`Conv3x3.speedup_at`)."""
    macs = 0.0
    for conv, n in ((block.conv_0, conv_0_pixels), (block.conv_1, pixels)):
        gain = conv.speedup_at(n) if winograd else 1.0
        macs += n * conv.weight.numel() / gain
    if block.learned_shortcut:
        macs += pixels * block.conv_s[0].numel()
    return macs


def _padded_flat(flat: torch.Tensor, w: int) -> torch.Tensor:
    """Flat indices of an (h, w) grid as flat indices of the same pixels in the (h + 2, w + 2) padded grid."""
    return (flat // w + 1) * (w + 2) + flat % w + 1


def _conv_rows(values: torch.Tensor, taps: torch.Tensor, weight: torch.Tensor,
               bias: torch.Tensor | None) -> torch.Tensor:
    """A 3x3 convolution at a set of pixels: values (n_in, C) are its input at the pixels `taps` points to,
    weight (9 C, C_out) is the kernel in tap-major order (`_tap_major`); zero padding outside the image.
    The product runs in the kernel's dtype (bfloat16 for `PreviewConfig.bfloat16`), the result is in values'."""
    padded = values.new_empty((values.shape[0] + 1, values.shape[1]), dtype=weight.dtype)
    padded[:-1].copy_(values)
    padded[-1].zero_()
    rows = padded.index_select(0, taps.reshape(-1)).view(taps.shape[0], -1)
    return _product(rows, weight, bias, values.dtype)


@dataclass(frozen=True)
class _Int8Kernel:
    """A kernel in the `_tap_major` layout as int8 with a scale per output channel, packed for fbgemm's
    dynamic int8 product (which takes float32 rows and quantises them per product)."""

    packed: object
    nbytes: int
    dtype: torch.dtype = torch.float32

    @classmethod
    def of(cls, weight: torch.Tensor) -> _Int8Kernel:
        """(K, C_out) float kernel -> its int8 form."""
        w = weight.T.float().contiguous()
        scale = (w.abs().amax(1) / 127.0).clamp_min(1e-12).double()
        with warnings.catch_warnings():   # torch marks its eager quantised tensors as deprecated
            warnings.simplefilter("ignore")
            q = torch.quantize_per_channel(w, scale, torch.zeros(len(w), dtype=torch.long), 0, torch.qint8)
            packed = torch.ops.quantized.linear_prepack(q, None)
        return cls(packed, w.numel() + 8 * len(w))

    def times(self, rows: torch.Tensor) -> torch.Tensor:
        """rows (n, K) float32 @ this kernel -> (n, C_out) float32."""
        return torch.ops.quantized.linear_dynamic(rows, self.packed, True)  # 7-bit inputs: no overflow on x86


def _product(rows: torch.Tensor, weight: torch.Tensor | _Int8Kernel, bias: torch.Tensor | None,
             dtype: torch.dtype) -> torch.Tensor:
    """rows @ weight + bias in dtype, the product in weight's dtype (rows already in it)."""
    if isinstance(weight, _Int8Kernel):
        out = weight.times(rows).to(dtype)
        return out.add_(bias) if bias is not None else out
    if weight.dtype == dtype:
        return torch.addmm(bias, rows, weight) if bias is not None else rows @ weight
    out = (rows @ weight).to(dtype)
    return out.add_(bias) if bias is not None else out


def _tap_major(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, C_in, 3, 3) -> (9 C_in, C_out), rows ordered by tap then input channel."""
    return weight.permute(2, 3, 1, 0).reshape(-1, weight.shape[0]).contiguous()


def _best_time(run, repeat: int = 5) -> float:
    """The shortest of `repeat` timed calls of run(), after one untimed call."""
    run()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


@functools.cache
def _bfloat16_is_faster(device: torch.device) -> bool:
    """Whether this device multiplies bfloat16 matrices at least twice as fast as float32 ones (CPUs with AMX
    or AVX512-BF16; measured once per process, on a product of the size previews run)."""
    if device.type != "cpu":
        return False
    a, b = torch.randn(512, 2304, device=device), torch.randn(2304, 256, device=device)
    times = {}
    for dtype in (torch.float32, torch.bfloat16):
        x, y = a.to(dtype), b.to(dtype)
        times[dtype] = _best_time(lambda: x @ y, repeat=3)
    return times[torch.bfloat16] * 2 < times[torch.float32]


@functools.cache
def _sparse_threads(device: torch.device, dtype: torch.dtype, threads: int) -> int:
    """The threads a preview's sparse blocks run on here (`PreviewConfig.threads` None): 1 unless torch's
    `threads` do a pixel set's convolution (the gather of 3x3 neighbourhoods of 4096 pixels of 64 channels and
    its product, in the preview's product dtype) at least 15% faster. Measured once per process, the two
    counts taking turns; one thread only when three such measures, 50 ms apart, agree (on a shared machine
    another process can stall one core through a whole measure)."""
    if device.type != "cpu" or threads <= 1:
        return 0
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(4096, 64, generator=generator)
    taps = torch.randint(0, 4097, (4096, 9), generator=generator)
    weight = torch.randn(9 * 64, 64, generator=generator).to(dtype)
    for attempt in range(3):
        time.sleep(0.05 * bool(attempt))
        times = {1: float("inf"), threads: float("inf")}
        for _ in range(4):
            for count in times:
                with _cpu_threads(count, device):
                    times[count] = min(times[count], _best_time(lambda: _conv_rows(values, taps, weight, None), 2))
        if times[threads] < 0.85 * times[1]:
            return 0
    return 1


@functools.cache
def _int8_is_faster(device: torch.device, dtype: torch.dtype) -> bool:
    """Whether this device runs a wide kernel at a few pixels at least 1.5x as fast in int8 (`_Int8Kernel`) as
    in `dtype`, the preview's product dtype; False where torch lacks the quantised CPU product. Measured once
    per process, on one thread (where the two differ most reliably)."""
    if device.type != "cpu":
        return False
    rows, weight = torch.randn(32, 4608), torch.randn(4608, 1024) / 68.0
    float_rows, float_weight = rows.to(dtype), weight.to(dtype)
    try:
        kernel = _Int8Kernel.of(weight)
        with _cpu_threads(1, device):
            times = [_best_time(product) for product in (lambda: float_rows @ float_weight,
                                                         lambda: kernel.times(rows))]
    except (RuntimeError, AttributeError, NotImplementedError):
        return False
    return times[1] * 1.5 < times[0]


class StrokePreview:
    """Previews of label edits from the activations of the last exact frame of a FastGenerator.

    `clock` (seconds, default time.perf_counter) times the exact frames and the previews' blocks, which the
    running costs learn from; `stats` counts the kinds of preview rendered, `last` reports the last preview.
    """

    def __init__(self, fast: FastGenerator, config: PreviewConfig = PreviewConfig(),
                 clock: Callable[[], float] = time.perf_counter):
        self.fast = fast
        self.config = config
        self.costs = RunningCosts()
        self.stats = PreviewStats()
        self.last: PreviewReport | None = None
        self._clock = clock
        self._frame: _Frame | None = None
        self._taps: dict[int, TapCache] = {}  # per SPADE: products of the windows previews met
        self._weights: dict[int, torch.Tensor | _Int8Kernel] = {}  # per conv kernel: its `_tap_major` layout

    @property
    def exact_ms(self) -> float | None:
        """The exact frames' running time (what `light_over_ms` and the fallback to the exact frame weigh by)."""
        return self.costs.exact_ms

    @property
    def cache_bytes(self) -> int:
        """Memory held for previews: the kept activations, the working copy and the re-laid-out kernels."""
        f = self._frame
        if f is None:
            return 0
        tensors = list(f.kept.values()) + list(f.work.values())
        kernels = sum(w.nbytes if isinstance(w, _Int8Kernel) else w.numel() * w.element_size()
                      for w in self._weights.values())
        return sum(t.numel() * t.element_size() for t in tensors) + kernels

    def _now_ms(self) -> float:
        if self.fast.device.type == "cuda":
            torch.cuda.synchronize(self.fast.device)
        return self._clock() * 1000.0

    # -- the exact frame ------------------------------------------------------------------------------------
    def exact(self, classes: torch.Tensor, z: torch.Tensor | None = None, edges: torch.Tensor | None = None,
              stop: threading.Event | None = None) -> torch.Tensor:
        """The exact frame (as FastGenerator, `stop` included), keeping its activations for later previews; a
        cancelled frame leaves the previews' starting point as it was."""
        record: dict[str, torch.Tensor] = {}
        start = self._now_ms()
        out = self.fast(classes, z, edges, record=record, stop=stop)
        self.costs.exact_measured(self._now_ms() - start)
        fast = self.fast
        if fast.config.param_free_norm != "batch":
            self._frame = None  # InstanceNorm statistics are global: previews render exact frames
            return out
        kept = {name: _nhwc(record[name]) for name, _ in fast.plan()}
        kept[IMAGE] = _nhwc(out.to(fast.dtype).contiguous(memory_format=torch.channels_last))
        z_kept = z.detach().to(fast.device).clone() if z is not None else None
        work = self._working_copy(kept)
        clean = {k: torch.empty(0, dtype=torch.int64) for k in kept}
        self._frame = _Frame(fast.checked_classes(classes, edges).clone(), z_kept, fast.last_labels, kept, work,
                             clean)
        return out

    def _working_copy(self, kept: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A copy of the kept activations for previews to overwrite, in the last frame's working copy where it
        has the same shapes (no fresh memory to fault in at every exact frame)."""
        old = self._frame.work if self._frame is not None else {}
        work = {}
        with torch.inference_mode():
            for name, value in kept.items():
                buffer = old.get(name)
                if buffer is None or buffer.shape != value.shape or buffer.dtype != value.dtype:
                    buffer = torch.empty_like(value)
                work[name] = buffer.copy_(value)
        return work

    # -- previews -------------------------------------------------------------------------------------------
    def preview(self, classes: torch.Tensor, z: torch.Tensor | None = None, edges: torch.Tensor | None = None,
                advance: bool = False) -> tuple[torch.Tensor, bool]:
        """(image (1, 3, H, W), exact): a preview of classes after the last exact frame, or the exact frame
        itself (exact=True) when there is none to start from, the style or size changed, or a preview would
        cost more than `exact_at` of the exact frame by the running estimate (a light preview first where
        that one would not).

        advance=True makes this preview the starting point of the next one, so that successive previews
        during a stroke each recompute only what changed since the last (their cost follows the pointer's
        movement between two renders, not the stroke so far); the next exact frame ends the chain.
        """
        self._probe()
        start = self._now_ms()
        fast, frame, config, costs = self.fast, self._frame, self.config, self.costs
        ids = fast.checked_classes(classes, edges)
        if frame is None or frame.classes.shape != ids.shape or not self._same_style(frame, z):
            return self.exact(classes, z, edges), True
        out, exact_ms = None, costs.exact_ms
        with fast.holding(ids) as cache:
            steps = self._plan(frame, cache)
            kind = PreviewKind.FULL
            if advance and _share(steps) * exact_ms >= config.light_over_ms:
                steps, kind = self._light(steps), PreviewKind.LIGHT
            estimate = self._estimate(steps)
            if estimate > config.exact_at and kind is PreviewKind.FULL:
                steps, kind = self._light(steps), PreviewKind.LIGHT
                estimate = self._estimate(steps)
            if estimate <= config.exact_at:
                out, reports = self._sparse(frame, ids, z, cache, steps)
        if out is None:
            self.stats.exact += 1
            costs.forget()
            image = self.exact(classes, z, edges)
            self.last = PreviewReport(PreviewKind.EXACT, estimate * exact_ms, exact_ms, self._now_ms() - start, ())
            return image, True
        ms = self._now_ms() - start
        self._learn(steps, reports, ms)
        self.last = PreviewReport(kind, estimate * exact_ms, exact_ms, ms, tuple(reports))
        if kind is PreviewKind.FULL:
            self.stats.full += 1
        else:
            self.stats.light += 1
        if advance:
            # the preview's activations become the kept ones; the other copy differs from them exactly
            # where this preview wrote (frame.dirty), which the next preview restores first
            frame.kept, frame.work = frame.work, frame.kept
            frame.classes, frame.labels = ids.clone(), fast.last_labels
        return out, False

    def cost_share(self, classes: torch.Tensor, edges: torch.Tensor | None = None) -> float | None:
        """What a full preview of classes would cost as a share of the exact frame's time (the running
        estimate `preview` decides by), or None when there is no frame to start from."""
        fast, frame = self.fast, self._frame
        ids = fast.checked_classes(classes, edges)
        if frame is None or frame.classes.shape != ids.shape:
            return None
        with fast.holding(ids) as cache:
            return self._estimate(self._plan(frame, cache))

    @staticmethod
    def _same_style(frame: _Frame, z: torch.Tensor | None) -> bool:
        if frame.z is None or z is None:
            return frame.z is None and z is None
        return frame.z.shape == z.shape and torch.equal(frame.z, z.to(frame.z.device, frame.z.dtype))

    def _restore(self, frame: _Frame, name: str) -> torch.Tensor:
        """The working copy of `name`, with what the last preview wrote put back to the exact frame's."""
        work, kept, dirty = frame.work[name], frame.kept[name], frame.dirty[name]
        if dirty is None:
            work.copy_(kept)
        elif dirty.numel():
            c = work.shape[-1]
            work.view(-1, c).index_copy_(0, dirty, kept.reshape(-1, c).index_select(0, dirty))
        frame.dirty[name] = torch.empty(0, dtype=torch.int64)
        return work

    def _reach(self, size: tuple[int, int], coarsest: bool) -> int:
        """How far around a changed label pixel a block on a grid of this size is recomputed, in its pixels."""
        r = round(self.config.reach * size[0] / self._frame.classes.shape[0])
        return min(r if coarsest else max(self.config.min_reach, r), max(size))

    # -- the plan and its estimate --------------------------------------------------------------------------
    def _plan(self, frame: _Frame, cache: LabelCache) -> list[_Step]:
        """What each block of a full preview of the label map in `cache` would do: the ways it may take with
        their static estimates, and the one the running costs make cheapest."""
        fast, steps, config = self.fast, [], self.config
        size = tuple(frame.kept[fast.plan()[0][0]].shape[:2])  # the first block is not upsampled
        # a VAE generator's first layer reads the style only; otherwise it reads the label map on this grid
        input_changed = not fast.config.use_vae and bool(
            (fast.level(cache, size).classes != frame.labels.levels[size].classes).any())
        for name, upsampled in fast.plan():
            if upsampled:
                size = (size[0] * 2, size[1] * 2)
            block = fast.blocks[name]
            wide = block.conv_1.weight.shape[1] >= config.wide_channels
            level = fast.level(cache, size)
            pixels = size[0] * size[1]
            dense_cost = _block_macs(block, pixels, pixels, winograd=True)
            changed = level.classes != frame.labels.levels[size].classes
            if not changed.any() or (not input_changed and pixels <= config.keep_upto):
                steps.append(_Step(name, upsampled, wide, level, None, StepMode.KEPT, 0.0, dense_cost,
                                   {StepMode.KEPT: 0.0}))
                continue
            input_changed = True
            whole = pixels <= config.whole_upto
            sets = _PixelSets(torch.ones_like(changed) if whole else changed, self._reach(size, name == "head_0"))
            sparse_cost = self._overhead() * _block_macs(block, sets.rings[0].numel(), sets.rings[1].numel())
            if whole:
                options = {StepMode.WHOLE: sparse_cost}
            else:
                options = {StepMode.DENSE: dense_cost, StepMode.SETS: sparse_cost}
                if self._may_box(block):
                    top, bottom, left, right = sets.box
                    box_pixels = (bottom - top) * (right - left)
                    options[StepMode.BOX] = _block_macs(block, box_pixels, box_pixels, winograd=True)
            steps.append(_Step(name, upsampled, wide, level, sets, StepMode.DENSE, dense_cost, dense_cost,
                               options).chosen(self.costs))
        return steps

    def _light(self, steps: list[_Step]) -> list[_Step]:
        """The light form of a plan: the blocks up to `light_keep_upto` pixels keep their activations."""
        return [s.kept() if s.level.classes.numel() <= self.config.light_keep_upto else s for s in steps]

    def _ms_per_unit(self, steps: list[_Step]) -> float:
        """The exact frame's time per multiply-add of its blocks (Winograd counted), from the running costs."""
        return self.costs.exact_ms / sum(s.dense_cost for s in steps)

    def _estimate(self, steps: list[_Step]) -> float:
        """What a preview of these steps would take as a share of the exact frame, by the running costs."""
        costs = self.costs
        units = sum(s.units * costs.factor(s.mode, s.wide) for s in steps)
        return units / sum(s.dense_cost for s in steps) + costs.overhead

    def _learn(self, steps: list[_Step], reports: list[StepReport], ms: float) -> None:
        """A preview's measured times into the running costs (nothing where the clock measured no time)."""
        if self.costs.exact_ms <= 0 or ms <= 0:
            return
        self.costs.learn(_measured_factors(steps, reports, self._ms_per_unit(steps)),
                         max(0.0, ms - sum(r.ms for r in reports)) / self.costs.exact_ms)

    def _overhead(self) -> float:
        """The static estimate of a multiply-add at a set of pixels against a dense one
        (`PreviewConfig.sparse_overhead`)."""
        if self._bfloat16():
            return self.config.sparse_overhead_bf16
        return self.config.sparse_overhead

    def _may_box(self, block: FastBlock) -> bool:
        """Whether a block may run over its box (`PreviewConfig.box`): not one whose kernels run in int8 at the
        pixel sets, which the static estimate counts at the float32 overhead but which run several times
        faster there."""
        return self.config.box and not (block.conv_0.weight.shape[1] >= self.config.int8_from and self._int8())

    def _probe(self) -> None:
        """Measure, once per process, what this CPU does fastest (before a preview's clock starts: the
        probes are no part of what a preview costs)."""
        self._bfloat16()
        self._int8()
        self._threads()

    def _bfloat16(self) -> bool:
        """Whether the preview's matrix products run in bfloat16 (`PreviewConfig.bfloat16`)."""
        return self.config.bfloat16 and self.fast.dtype == torch.float32 and _bfloat16_is_faster(self.fast.device)

    def _threads(self) -> int:
        """The threads the sparse blocks run on (`PreviewConfig.threads`)."""
        if self.config.threads is not None:
            return self.config.threads
        dtype = torch.bfloat16 if self._bfloat16() else torch.float32
        return _sparse_threads(self.fast.device, dtype, torch.get_num_threads())

    def _int8(self) -> bool:
        """Whether the wide kernels run in int8 (`PreviewConfig.int8`)."""
        dtype = torch.bfloat16 if self._bfloat16() else torch.float32
        return self.config.int8 and self.fast.dtype == torch.float32 and _int8_is_faster(self.fast.device, dtype)

    # -- running a plan -------------------------------------------------------------------------------------
    def _sparse(self, frame: _Frame, classes: torch.Tensor, z: torch.Tensor | None, cache: LabelCache,
                steps: list[_Step]) -> tuple[torch.Tensor, list[StepReport]]:
        """Run the plan (its steps may change on the way, see `_replan`); the image and each block's report."""
        fast, c, config = self.fast, self.fast.config, self.config
        h, w = classes.shape
        first = fast.first_features(cache, z, (h // c.downscale, w // c.downscale))
        src = _nhwc(first)
        rate, costs = self._ms_per_unit(steps), self.costs
        reports: list[StepReport] = []
        replanned = False
        for i in range(len(steps)):
            step = steps[i]
            work = self._restore(frame, step.name)
            threads = 0 if step.wide or step.mode in (StepMode.DENSE, StepMode.BOX) else self._threads()
            start = self._now_ms()
            with _cpu_threads(threads, fast.device):
                self._step(frame, step, src, cache, work)
            reports.append(StepReport(step.name, step.mode, step.pixels,
                                      step.units * costs.factor(step.mode, step.wide) * rate, self._now_ms() - start))
            src = work
            if not replanned and i + 1 < len(steps) and self._overran(reports):
                # the blocks so far took much longer than estimated: choose the rest again with what they took
                measured = RunningCosts(costs.exact_ms, {**costs.factors,
                                                         **_measured_factors(steps, reports, rate)})
                steps[i + 1:] = [s.chosen(measured) for s in steps[i + 1:]]
                replanned = True
                self.stats.replans += 1
        image = self._restore(frame, IMAGE)
        changed = classes != frame.classes
        if changed.any():
            self._output_layer(frame, changed, src, image, steps[-1])
        fast.finish_frame()
        return _nchw(image[None]).float().contiguous(), reports

    def _overran(self, reports: list[StepReport]) -> bool:
        """Whether the blocks so far overran their estimate by `replan_over`, and by at least
        `replan_min_share` of the exact frame (a small block's noise is no reason to re-plan)."""
        spent, expected = sum(r.ms for r in reports), sum(r.estimated_ms for r in reports)
        return (self.costs.exact_ms > 0 and spent > self.config.replan_over * expected
                and spent - expected > self.config.replan_min_share * self.costs.exact_ms)

    def _output_layer(self, frame: _Frame, changed: torch.Tensor, src: torch.Tensor, image: torch.Tensor,
                      last_step: _Step) -> None:
        """The output convolution near the changed pixels, into `image`."""
        fast, (h, w) = self.fast, changed.shape
        with _cpu_threads(self._threads(), fast.device):
            last, reach = last_step.sets, self._reach((h, w), False)
            same = (last is not None and last_step.mode is not StepMode.WHOLE and last.size == (h, w)
                    and last.reach == reach)
            sets = last if same else _PixelSets(changed, reach)  # the last block's, on a grid of the output's size
            x = F.leaky_relu(_rows(src, sets.rings[1]), LEAK)
            rgb = torch.tanh_(_conv_rows(x, sets.taps(0, 1), self._weight(fast.conv_img[0]), fast.conv_img[1]))
            image.view(-1, 3).index_copy_(0, sets.rings[0], rgb)
            frame.dirty[IMAGE] = sets.rings[0]

    def _step(self, frame: _Frame, step: _Step, src: torch.Tensor, cache: LabelCache, work: torch.Tensor) -> None:
        """One block of a preview, in its mode, into `work`."""
        fast, factor = self.fast, 2 if step.upsampled else 1
        if step.mode is StepMode.DENSE:
            x = _nchw(src[None])
            work.copy_(_nhwc(fast.run_block(step.name, fast.upsample(x) if step.upsampled else x, cache)))
            frame.dirty[step.name] = None
        elif step.mode is StepMode.BOX:
            frame.dirty[step.name] = self._block_in_box(fast.blocks[step.name], step.sets, src, factor, step.level,
                                                        work)
        elif step.mode in (StepMode.SETS, StepMode.WHOLE):
            frame.dirty[step.name] = self._block_at(fast.blocks[step.name], step.sets, src, factor, step.level,
                                                    work)


    def _weight(self, weight: torch.Tensor) -> torch.Tensor:
        """A conv kernel in the layout `_conv_rows` takes (made once per kernel, kept)."""
        key = id(weight)
        if key not in self._weights:
            if weight.shape[1] >= self.config.int8_from and self._int8():
                self._weights[key] = _Int8Kernel.of(_tap_major(weight))
            else:
                self._weights[key] = _tap_major(weight).to(torch.bfloat16 if self._bfloat16() else weight.dtype)
        return self._weights[key]

    def _windows(self, level: Level, sets: _PixelSets) -> list[Patterns]:
        """The SPADE windows at the pixels of each ring, one per pixel in the ring's order (rho_parts: the ids
        of the nine 3x3 windows around it), so that a SPADE's tables are its affine at those pixels. Only the
        3x3 windows are numbered, from the labels of the box around the rings, 2 pixels wider (a window's
        reach), so the rest of the grid needs no window numbering; at a few pixels, a sum of nine rows per
        pixel costs less than numbering the 5x5 windows too and gathering one row per window."""
        h, w = sets.size
        top, bottom, left, right = sets.box
        top, left, bottom, right = max(0, top - 2), max(0, left - 2), min(h, bottom + 2), min(w, right + 2)
        pi, pi_classes = build_windows(level.classes[top:bottom, left:right].contiguous(), self.fast.label_nc)
        width = right - left
        offsets = torch.tensor([dy * (width + 2) + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)], device=pi.device)
        flat = pi.reshape(-1)
        rings = []
        for ring in range(3):
            parts = flat[_padded_flat(sets.in_box(ring, 2), width)[:, None] + offsets]
            rings.append(Patterns(torch.arange(len(parts), device=pi.device), pi_classes, parts, self.fast.label_nc))
        return rings

    def _block_in_box(self, block: FastBlock, sets: _PixelSets, src: torch.Tensor, factor: int, level: Level,
                      work: torch.Tensor) -> torch.Tensor:
        """One residual block computed densely over sets.box (the recomputed pixels' box, 2 pixels wider: what
        its two 3x3 convolutions read) by the exact frame's own kernels; writes the box less those 2 pixels
        (where the crop's zero padding reaches; none at the grid's edges, where that padding is the model's)
        into work and returns their indices. The SPADE windows come from the labels 2 pixels wider again."""
        fast, (h, w) = self.fast, sets.size
        top, bottom, left, right = sets.box
        lt, ll = max(0, top - 2), max(0, left - 2)
        labels = level.classes[lt:min(h, bottom + 2), ll:min(w, right + 2)].contiguous()
        patterns = build_patterns(labels, fast.label_nc)
        rho = patterns.rho[top - lt:bottom - lt, left - ll:right - ll].contiguous()
        if factor == 2:   # the nearest 2x upsample of the coarser crop that covers the box
            ct, cl = top // 2, left // 2
            x = F.interpolate(_nchw(src[ct:(bottom + 1) // 2, cl:(right + 1) // 2][None]), scale_factor=2,
                              mode="nearest")[:, :, top - 2 * ct:bottom - 2 * ct, left - 2 * cl:right - 2 * cl]
        else:
            x = _nchw(src[top:bottom, left:right][None])
        x = x.contiguous(memory_format=torch.channels_last)
        tables = {id(s): s.tables(patterns, fast.dtype, self._taps.setdefault(id(s), TapCache()))
                  for s in block.spades()}
        out = _nhwc(block(x, rho, tables))
        rows = torch.arange(top + 2 if top else 0, bottom - 2 if bottom < h else h, device=work.device)
        cols = torch.arange(left + 2 if left else 0, right - 2 if right < w else w, device=work.device)
        work[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] = out[rows[0] - top:rows[-1] + 1 - top,
                                                                cols[0] - left:cols[-1] + 1 - left]
        return (rows[:, None] * w + cols).reshape(-1)

    def _block_at(self, block: FastBlock, sets: _PixelSets, src: torch.Tensor, factor: int, level: Level,
                  work: torch.Tensor) -> torch.Tensor:
        """One residual block at the pixels of sets.rings[0]; writes them into work and returns their indices."""
        fast = self.fast
        windows = self._windows(level, sets)

        def modulate(spade, x: torch.Tensor, ring: int, slope: float | None) -> torch.Tensor:
            affine = spade.affine(windows[ring], self._taps.setdefault(id(spade), TapCache())).to(x.dtype)
            out = torch.addcmul(affine[:, spade.norm_nc:], x, affine[:, :spade.norm_nc])
            return F.leaky_relu_(out, slope) if slope is not None else out

        w = sets.size[1]
        x = _rows(src, sets.rings[2], factor, w)
        dx = modulate(block.norm_0, x, 2, LEAK)
        dx = _conv_rows(dx, sets.taps(1, 2), self._weight(block.conv_0.weight), block.conv_0.bias)
        dx = modulate(block.norm_1, dx, 1, LEAK)
        dx = _conv_rows(dx, sets.taps(0, 1), self._weight(block.conv_1.weight), block.conv_1.bias)
        x = _rows(src, sets.rings[0], factor, w)
        if block.learned_shortcut:
            weight = self._weight(block.conv_s[0])
            x = _product(modulate(block.norm_s, x, 0, None).to(weight.dtype), weight, None, x.dtype)
        work.view(-1, work.shape[-1]).index_copy_(0, sets.rings[0], dx.add_(x))
        return sets.rings[0]


def _rows(src: torch.Tensor, flat: torch.Tensor, factor: int = 1, width: int | None = None) -> torch.Tensor:
    """(n, C): src (hs, ws, C) at the flat pixel indices of a grid `factor` times finer and `width` wide
    (the nearest 2x upsample of the input is never built)."""
    if factor != 1:
        flat = (flat // width // factor) * src.shape[1] + flat % width // factor
    return src.reshape(-1, src.shape[-1]).index_select(0, flat)
