"""Stroke previews: after a stroke, recompute each layer only near the stroke and reuse the last exact frame.

The idea of SIGE (Li et al., NeurIPS 2022), on spade.fast. An exact update after a stroke cannot be much
cheaper than a frame (the coarse grids spread any change over the whole image, docs/performance.md), but
most of that spread is small. So a preview, at every residual block:

- takes the pixels whose label changed at the block's resolution (the nearest-sampled map its SPADEs see),
- grows them by the block's reach (`PreviewConfig.reach` output pixels, scaled to the block's grid),
- recomputes the block only at those pixels: its two 3x3 convolutions as one matrix product each over the
  gathered 3x3 neighbourhoods (im2col at a set of pixels: no tiles, no halos computed twice), conv_0 on the
  set grown by one pixel, the SPADEs' affine made at the set's pixels from the 3x3 windows around them;
  it reads its input from the previous block's preview and keeps the previous frame's activations
  everywhere else. A block whose set covers most of its grid runs densely instead, and a narrow one densely
  over the box around its set (`PreviewConfig.box`); the blocks on the coarsest grid (up to 8x8,
  `whole_upto`) are recomputed at every pixel, since a change moves them everywhere and their cost is
  streaming the weights, whatever the pixel count. The matrix products run in bfloat16 where the CPU is
  much faster at it (`PreviewConfig.bfloat16`), and the wide kernels in int8 where that is faster still
  (`PreviewConfig.int8`).

The result is not exact: outside those pixels it keeps the old activations, which the stroke would have
moved a little through the coarse layers. A large change (or a new style, size or model state) renders the
exact frame instead. Successive previews can each start from the last (`advance=True`, as the app does
during a stroke), so that each costs what the pointer moved since the last render. Memory: the activations
of one frame, a working copy of them, and the kernels of the recomputed convolutions in the layout the
matrix products take (`cache_bytes`).

    preview = StrokePreview(fast_generator)
    image = preview.exact(classes, z)            # an exact frame; its activations are kept
    image, exact = preview.preview(classes2, z)  # a preview (exact=False), or the exact frame (exact=True)
"""
from __future__ import annotations

import functools
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .generator import LEAK, FastBlock, FastGenerator, _Level
from .patterns import Patterns, build_patterns, build_windows
from .spade_layer import TapCache

# Block outputs are stored as (h, w, C) views of channels_last tensors; "image" is the tanh output (h, w, 3).
IMAGE = "image"


@dataclass(frozen=True)
class PreviewConfig:
    """How a preview chooses what to recompute.

    reach:           how far around a changed label pixel a block is recomputed, in output pixels (scaled to
                     each block's grid and rounded; a block's own reach is 4 pixels of its grid).
    min_reach:       at least this many pixels of a block's grid, except on the first (coarsest) grid, where a
                     pixel is a whole patch of the output.
    keep_upto:       blocks on grids of at most this many pixels whose input did not change (only their SPADEs'
                     labels) keep the previous activations (0: none). A small stroke moves those little
                     (measured on the bundled model: 1.7% and 2.3% of their RMS at 8x8 and 16x16); once the
                     trunk's input changes (the first layer of a generator without VAE reads the label map),
                     every later block is recomputed (on the full model the 8x8 block moves by 8%).
    whole_upto:      blocks on grids of at most this many pixels (and not kept) are recomputed at every pixel
                     of their grid, not near the change only: on the coarsest grid a changed label moves the
                     whole block (its 3x3 convolutions reach across it), and with bfloat16 products this costs
                     little more than a few pixels (the products stream the same weights).
    sparse_overhead: what a multiply-add of a block recomputed at a set of pixels costs against one of the
                     dense block (the gathers, the per-pixel SPADE work; measured 1.6-2.8 on this CPU) with
                     float32 products, and `sparse_overhead_bf16` with bfloat16 ones (measured 0.5-1.2). A
                     block runs densely when that is cheaper; 0 never runs a block densely.
    exact_at:        share of the exact frame's cost above which a preview renders the exact frame instead.
    light_over_ms:   in a chain of previews (advance=True, a stroke in progress), a preview whose full plan holds
                     more multiply-adds than the exact frame does in this many milliseconds (its share of the
                     frame's multiply-adds times the last exact frame's measured time, `StrokePreview.exact_ms`)
                     is made light instead: the blocks on grids of at most `light_keep_upto` pixels keep their
                     activations, changed or not, and only the finer blocks are recomputed near the change. So
                     the rule follows this machine and its load: where exact frames are fast, previews stay
                     full. (A preview does fewer multiply-adds per second than a frame, 2-3x fewer in the app on
                     a 2-core CPU, so a full preview at the limit takes longer than this.) This keeps a fast
                     stroke's previews cheap, which a full preview is not once the pointer has moved far since
                     the last render (the more a render costs, the more the pointer moves before the next: on a
                     slow CPU full previews then grow into exact frames). A light preview is less faithful
                     (about 2.2 dB on a 2% stroke of the full model: the coarse layers do not see the stroke);
                     the exact frame once the pointer rests has everything. 0 makes every chained preview
                     light; infinity, none.
    bfloat16:        run the preview's matrix products (the convolutions at pixel sets) in bfloat16, with
                     float32 accumulation, where this CPU does them at least twice as fast (AMX, AVX512-BF16):
                     5-7x faster here, costing under 0.1 dB.
    int8:            run the kernels with at least `int8_from` input channels in int8 (a scale per output
                     channel; the gathered inputs quantised per product, fbgemm's dynamic int8 product), where
                     this CPU does that at least 1.5x as fast as the preview's other products (bfloat16 or
                     float32; `_int8_is_faster`). At a few pixels the 512- and 1024-channel blocks are bound
                     by reading their weights, which int8 cuts to a quarter (of float32): on a Xeon without
                     fast bfloat16 (AVX-512 VNNI) the full model's 1024-channel blocks went from 24-35 to
                     7-10 ms at one thread, costing 0.1 dB; on an AMD EPYC with AVX512-BF16, int8 products
                     are 1.7-3.6x faster than bfloat16 ones there, and the full model's 2% preview went from
                     80 to 51 ms at 2 threads.
    threads:         CPU threads a preview's sparse blocks run on (0: torch's setting; None: measured once per
                     process, `_sparse_threads`); the blocks at least `wide_channels` wide and the blocks run
                     densely keep torch's setting. Whether a second thread helps a pixel set's gathers and
                     products depends on the CPU: with AMX bfloat16 products they are small and lose to the
                     hand-offs (a 2% preview of the bundled model took 33 ms on 2 threads and 21 on one), while
                     on a CPU without fast bfloat16 the float32 products dominate and two cores do them faster
                     (a Xeon with AVX-512 VNNI: one thread made the full model's 2% preview 22% slower, median
                     of 21 paired runs; the bundled one's 2%).
    box:             recompute a block densely over the box around its pixel sets (the exact frame's own
                     kernels on a crop, 2 pixels wider), not at the sets, where that is cheaper by the estimate
                     (the box's multiply-adds, Winograd counted, against the sets' with `sparse_overhead`): the
                     narrow fine blocks, where a pixel set's gathers and SPADE lookups cost more than the
                     box's extra pixels. It is also a little more exact (it recomputes the whole box).
    """

    reach: int = 12
    min_reach: int = 1
    keep_upto: int = 16 * 16
    whole_upto: int = 8 * 8
    sparse_overhead: float = 2.2
    sparse_overhead_bf16: float = 1.0
    exact_at: float = 0.75
    light_over_ms: float = 50.0
    light_keep_upto: int = 32 * 32
    bfloat16: bool = True
    threads: int | None = None
    wide_channels: int = 1024
    int8: bool = True
    int8_from: int = 512
    box: bool = True


def _share(steps: list[_Step]) -> float:
    """What a preview of these steps costs as a share of the exact frame (estimated in multiply-adds)."""
    return sum(s.cost for s in steps) / sum(s.dense_cost for s in steps)


@dataclass
class _Frame:
    """What previews start from (the last exact frame, or the last preview made with advance=True), and
    the working copy a preview overwrites pixel by pixel."""

    classes: torch.Tensor
    z: torch.Tensor | None
    labels: object                                     # the FastGenerator label cache of that frame
    kept: dict[str, torch.Tensor]                       # name -> (h, w, C), the activations previews start from
    work: dict[str, torch.Tensor]                       # name -> (h, w, C), the last preview's activations
    dirty: dict[str, torch.Tensor | None]               # flat pixel indices the last preview overwrote (None: all)


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
    """One block of a preview: kept (sets None), dense, or recomputed at sets.rings[0]; costs in multiply-adds
    (`cost` what the preview spends on it, `dense_cost` what the exact frame does)."""

    name: str
    upsampled: bool
    level: _Level
    sets: _PixelSets | None
    dense: bool
    cost: float
    dense_cost: float
    whole: bool = False      # sets cover the whole grid (PreviewConfig.whole_upto), not the change's reach
    box: bool = False        # recomputed densely over sets.box, not at the pixel sets (PreviewConfig.box)


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
    or AVX512-BF16; measured once, on a product of the size previews run: about 10 ms)."""
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
    its product, in the preview's product dtype) at least 15% faster. Measured once, in about 60 ms, the two
    counts taking turns; one thread only when three such measures, 50 ms apart, agree (on a shared 2-core
    machine the other core stalled through one measure in one start in six, picking one thread where two
    made the bundled model's previews 15% faster)."""
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
    in `dtype`, the preview's product dtype; False where torch lacks the quantised CPU product. Measured once,
    on one thread (where the two differ most reliably), in about 0.2 s: against float32, 4-5x on a Xeon with
    VNNI; against bfloat16, 2.4x on an AMD EPYC with AVX512-BF16, and slower on a CPU with AMX."""
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
    """Previews of label edits from the activations of the last exact frame of a FastGenerator."""

    def __init__(self, fast: FastGenerator, config: PreviewConfig = PreviewConfig()):
        self.fast = fast
        self.config = config
        self._frame: _Frame | None = None
        self._taps: dict[int, TapCache] = {}  # per SPADE: products of the windows previews met
        self._weights: dict[int, torch.Tensor | _Int8Kernel] = {}  # per conv kernel: its `_tap_major` layout
        self.exact_ms: float | None = None  # the last exact frame's time, what `light_over_ms` is weighed by

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

    # -- the exact frame ------------------------------------------------------------------------------------
    def exact(self, classes: torch.Tensor, z: torch.Tensor | None = None, edges: torch.Tensor | None = None,
              stop: threading.Event | None = None) -> torch.Tensor:
        """The exact frame (as FastGenerator, `stop` included), keeping its activations for later previews; a
        cancelled frame leaves the previews' starting point as it was."""
        record: dict[str, torch.Tensor] = {}
        start = time.perf_counter()
        out = self.fast(classes, z, edges, record=record, stop=stop)
        self.exact_ms = (time.perf_counter() - start) * 1000.0
        fast = self.fast
        if fast.config.param_free_norm != "batch":
            self._frame = None  # InstanceNorm statistics are global: previews render exact frames
            return out
        kept = {name: _nhwc(record[name]) for name, _ in fast.plan()}
        kept[IMAGE] = _nhwc(out.to(fast.dtype).contiguous(memory_format=torch.channels_last))
        z_kept = z.detach().to(fast.device).clone() if z is not None else None
        work = {k: v.clone() for k, v in kept.items()}
        clean = {k: torch.empty(0, dtype=torch.int64) for k in kept}
        self._frame = _Frame(fast.checked_classes(classes, edges).clone(), z_kept, fast._labels, kept, work,
                             clean)
        return out

    # -- previews -------------------------------------------------------------------------------------------
    def preview(self, classes: torch.Tensor, z: torch.Tensor | None = None, edges: torch.Tensor | None = None,
                advance: bool = False) -> tuple[torch.Tensor, bool]:
        """(image (1, 3, H, W), exact): a preview of classes after the last exact frame, or the exact frame
        itself (exact=True) when there is none to start from, the style or size changed, or the preview would
        cost more than `exact_at` of the exact frame (`plan`).

        advance=True makes this preview the starting point of the next one, so that successive previews
        during a stroke each recompute only what changed since the last (their cost follows the pointer's
        movement between two renders, not the stroke so far); the next exact frame ends the chain.
        """
        fast, frame = self.fast, self._frame
        ids = fast.checked_classes(classes, edges)
        if frame is None or frame.classes.shape != ids.shape or not self._same_style(frame, z):
            return self.exact(classes, z, edges), True
        config = self.config
        with fast._lock, torch.inference_mode():
            cache = fast._label_cache(ids)
            steps = self._plan(frame, cache)
            if advance and _share(steps) * (self.exact_ms or 0.0) > config.light_over_ms:
                steps = [_Step(s.name, s.upsampled, s.level, None, False, 0.0, s.dense_cost)
                         if s.level.classes.numel() <= config.light_keep_upto else s for s in steps]
            out = self._sparse(frame, ids, z, cache, steps) if _share(steps) <= config.exact_at else None
        if out is None:
            return self.exact(classes, z, edges), True
        if advance:
            # the preview's activations become the kept ones; the other copy differs from them exactly
            # where this preview wrote (frame.dirty), which the next preview restores first
            frame.kept, frame.work = frame.work, frame.kept
            frame.classes, frame.labels = ids.clone(), fast._labels
        return out, False

    def cost_share(self, classes: torch.Tensor, edges: torch.Tensor | None = None) -> float | None:
        """What a preview of classes would cost as a share of the exact frame (the estimate `preview`
        decides by), or None when there is no frame to start from."""
        fast, frame = self.fast, self._frame
        ids = fast.checked_classes(classes, edges)
        if frame is None or frame.classes.shape != ids.shape:
            return None
        with fast._lock, torch.inference_mode():
            return _share(self._plan(frame, fast._label_cache(ids)))

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

    def _plan(self, frame: _Frame, cache) -> list[_Step]:
        """What each block of a preview of the label map in `cache` would do, and its estimated cost."""
        fast, steps, config = self.fast, [], self.config
        size = tuple(frame.kept[fast.plan()[0][0]].shape[:2])  # the first block is not upsampled
        # a VAE generator's first layer reads the style only; otherwise it reads the label map on this grid
        input_changed = not fast.config.use_vae and bool(
            (fast._level(cache, size).classes != frame.labels.levels[size].classes).any())
        for name, upsampled in fast.plan():
            if upsampled:
                size = (size[0] * 2, size[1] * 2)
            block = fast.blocks[name]
            level = fast._level(cache, size)
            pixels = size[0] * size[1]
            dense_cost = _block_macs(block, pixels, pixels, winograd=True)
            changed = level.classes != frame.labels.levels[size].classes
            if not changed.any() or (not input_changed and pixels <= config.keep_upto):
                steps.append(_Step(name, upsampled, level, None, False, 0.0, dense_cost))
                continue
            input_changed = True
            whole = pixels <= config.whole_upto
            sets = _PixelSets(torch.ones_like(changed) if whole else changed, self._reach(size, name == "head_0"))
            sparse_cost = self._overhead() * _block_macs(block, sets.rings[0].numel(), sets.rings[1].numel())
            top, bottom, left, right = sets.box
            box_pixels = (bottom - top) * (right - left)
            box_cost = (_block_macs(block, box_pixels, box_pixels, winograd=True) if self._may_box(block)
                        else float("inf"))
            dense = min(sparse_cost, box_cost) >= dense_cost and not whole
            box = box_cost < sparse_cost and not dense and not whole
            steps.append(_Step(name, upsampled, level, sets, dense, min(sparse_cost, box_cost, dense_cost),
                               dense_cost, whole, box))
        return steps

    def _overhead(self) -> float:
        """The cost of a multiply-add at a set of pixels against a dense one (`PreviewConfig.sparse_overhead`)."""
        if self._bfloat16():
            return self.config.sparse_overhead_bf16
        return self.config.sparse_overhead

    def _may_box(self, block: FastBlock) -> bool:
        """Whether a block may run over its box (`PreviewConfig.box`): not one whose kernels run in int8 at the
        pixel sets, which the estimate counts at the float32 overhead but which run several times faster
        (the full model's 1024-channel blocks: measured slower over their boxes)."""
        return self.config.box and not (block.conv_0.weight.shape[1] >= self.config.int8_from and self._int8())

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

    def _sparse(self, frame: _Frame, classes: torch.Tensor, z: torch.Tensor | None, cache,
                steps: list[_Step]) -> torch.Tensor:
        fast, c = self.fast, self.fast.config
        h, w = classes.shape
        first = fast._first_features(cache, z, (h // c.downscale, w // c.downscale))
        src = _nhwc(first)
        for step in steps:
            work = self._restore(frame, step.name)
            wide = fast.blocks[step.name].conv_1.weight.shape[1] >= self.config.wide_channels
            with _cpu_threads(0 if wide or step.dense or step.box else self._threads(), fast.device):
                self._step(frame, step, src, cache, work)
            src = work
        image = self._restore(frame, IMAGE)
        changed = classes != frame.classes
        if changed.any():
            self._output_layer(frame, changed, src, image, steps[-1])
        fast._previous = None
        return _nchw(image[None]).float().contiguous()

    def _output_layer(self, frame: _Frame, changed: torch.Tensor, src: torch.Tensor, image: torch.Tensor,
                      last_step: _Step) -> None:
        """The output convolution near the changed pixels, into `image`."""
        fast, (h, w) = self.fast, changed.shape
        with _cpu_threads(self._threads(), fast.device):
            last, reach = last_step.sets, self._reach((h, w), False)
            same = last is not None and last.size == (h, w) and last.reach == reach and not last_step.whole
            sets = last if same else _PixelSets(changed, reach)  # the last block's, on a grid of the output's size
            x = F.leaky_relu(_rows(src, sets.rings[1]), LEAK)
            rgb = torch.tanh_(_conv_rows(x, sets.taps(0, 1), self._weight(fast.conv_img[0]), fast.conv_img[1]))
            image.view(-1, 3).index_copy_(0, sets.rings[0], rgb)
            frame.dirty[IMAGE] = sets.rings[0]

    def _step(self, frame: _Frame, step: _Step, src: torch.Tensor, cache, work: torch.Tensor) -> None:
        """One block of a preview, densely or at its pixel sets, into `work`."""
        fast = self.fast
        if step.dense:
            x = _nchw(src[None])
            work.copy_(_nhwc(fast._block(step.name, fast._up(x) if step.upsampled else x, cache)))
            frame.dirty[step.name] = None
        elif step.box:
            frame.dirty[step.name] = self._block_in_box(fast.blocks[step.name], step.sets, src,
                                                        2 if step.upsampled else 1, step.level, work)
        elif step.sets is not None:
            frame.dirty[step.name] = self._block_at(fast.blocks[step.name], step.sets, src,
                                                    2 if step.upsampled else 1, step.level, work)

    def _weight(self, weight: torch.Tensor) -> torch.Tensor:
        """A conv kernel in the layout `_conv_rows` takes (made once per kernel, kept)."""
        key = id(weight)
        if key not in self._weights:
            if weight.shape[1] >= self.config.int8_from and self._int8():
                self._weights[key] = _Int8Kernel.of(_tap_major(weight))
            else:
                self._weights[key] = _tap_major(weight).to(torch.bfloat16 if self._bfloat16() else weight.dtype)
        return self._weights[key]

    def _windows(self, level: _Level, sets: _PixelSets) -> list[Patterns]:
        """The SPADE windows at the pixels of each ring, one per pixel in the ring's order (rho_parts: the ids
        of the nine 3x3 windows around it), so that a SPADE's tables are its affine at those pixels. Only the
        3x3 windows are numbered, from the labels of the box around the rings, 2 pixels wider (a window's
        reach), so the rest of the grid needs no window numbering. Numbering the 5x5 windows too (fewer
        rows in the tables, each then gathered per pixel) made 2% previews 10% slower on the bundled model
        and 4% on the full one (medians of paired runs)."""
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

    def _block_in_box(self, block: FastBlock, sets: _PixelSets, src: torch.Tensor, factor: int, level: _Level,
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

    def _block_at(self, block: FastBlock, sets: _PixelSets, src: torch.Tensor, factor: int, level: _Level,
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
