"""Stroke previews: after a stroke, recompute each layer only near the stroke and reuse the last exact frame.

The idea of SIGE (Li et al., NeurIPS 2022), on spade.fast. An exact update after a stroke cannot be much
cheaper than a frame (the coarse grids spread any change over the whole image, docs/performance.md), but
most of that spread is small. So a preview, at every residual block:

- takes the pixels whose label changed at the block's resolution (the nearest-sampled map its SPADEs see),
- dilates them by the block's reach (`PreviewConfig.reach` output pixels, scaled to the block's grid) and
  gathers them into tiles,
- recomputes the block only on those tiles (each with a 2-pixel halo, zero outside the image, as the
  convolutions' padding), reading its input from the previous block's preview, and keeps the last exact
  frame's activations everywhere else. A block whose tiles cover most of its grid runs densely instead;
  the blocks on the coarsest grids (up to 16x16) keep the exact frame's activations: there a small stroke
  covers the whole grid, and recomputing them would cost about a fifth of a frame.

The result is not exact: outside the tiles it keeps the old activations, which the stroke would have moved
a little through the coarse layers. A large change (or a new style, size or model state) renders the exact
frame instead. Memory: the activations of one exact frame, and a working copy of them (`cache_bytes`).

    preview = StrokePreview(fast_generator)
    image = preview.exact(classes, z)            # an exact frame; its activations are kept
    image, exact = preview.preview(classes2, z)  # a preview (exact=False), or the exact frame (exact=True)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .fast import LEAK, FastBlock, FastGenerator, _Level
from .fast_patterns import Patterns
from .fast_spade import TapCache

# Block outputs are stored as (h, w, C) views of channels_last tensors; "image" is the tanh output (h, w, 3).
IMAGE = "image"


@dataclass(frozen=True)
class PreviewConfig:
    """How a preview chooses what to recompute.

    reach:       how far around a changed label pixel a block is recomputed, in output pixels (scaled to
                 each block's grid, at least `min_reach` pixels of it: a block's own reach is 4).
    tile:        side of the recomputed tiles on grids of 128 pixels a side and more; `coarse_tile` below.
    keep_upto:   blocks on grids of at most this many pixels keep the exact frame's activations (the
                 4x4 to 16x16 grids: dense there, they would cost about a fifth of a frame).
    dense_above: share of a grid's tiles above which a block runs densely instead.
    exact_above: share of changed label pixels above which the preview is the exact frame.
    """

    reach: int = 12
    min_reach: int = 2
    tile: int = 8
    coarse_tile: int = 4
    keep_upto: int = 16 * 16
    dense_above: float = 0.5
    exact_above: float = 0.2


@dataclass
class _Frame:
    """What the last exact frame computed, and the working copy a preview overwrites tile by tile."""

    classes: torch.Tensor
    z: torch.Tensor | None
    labels: object                                     # the FastGenerator label cache of that frame
    first: torch.Tensor                                 # (1, C, h, w) first-layer features
    kept: dict[str, torch.Tensor]                       # name -> (h, w, C), the exact activations
    work: dict[str, torch.Tensor]                       # name -> (h, w, C), the last preview's activations
    dirty: dict[str, torch.Tensor | None]               # flat pixel indices the last preview overwrote (None: all)


def _nhwc(x: torch.Tensor) -> torch.Tensor:
    """(1, C, h, w) channels_last -> its (h, w, C) view."""
    return x.permute(0, 2, 3, 1)[0]


def _nchw(x: torch.Tensor) -> torch.Tensor:
    """(n, h, w, C) -> the (n, C, h, w) channels_last view convolutions take."""
    return x.permute(0, 3, 1, 2)


class _Tiles:
    """Active tiles of one grid: output pixel coordinates and the halo'd patch coordinates to read."""

    def __init__(self, tiles: torch.Tensor, tile: int, size: tuple[int, int], halo: int):
        h, w = size
        self.count = tiles.shape[0]
        offsets = torch.arange(-halo, tile + halo, device=tiles.device)
        ys = tiles[:, 0, None] * tile + offsets                        # (n, tile + 2 halo)
        xs = tiles[:, 1, None] * tile + offsets
        self.valid = ((ys >= 0) & (ys < h))[:, :, None] & ((xs >= 0) & (xs < w))[:, None, :]
        self.ys, self.xs = ys.clamp(0, h - 1), xs.clamp(0, w - 1)
        inner = slice(halo, halo + tile)
        oy, ox = ys[:, inner], xs[:, inner]
        out_valid = (oy < h)[:, :, None] & (ox < w)[:, None, :]
        self.all_inside = bool(out_valid.all())
        self.out_valid = out_valid.reshape(-1)
        self.out_flat = (oy.clamp(max=h - 1)[:, :, None] * w + ox.clamp(max=w - 1)[:, None, :]).reshape(-1)
        self.halo = halo

    def gather(self, src: torch.Tensor, factor: int = 1) -> torch.Tensor:
        """(n, t + 2 halo, t + 2 halo, C) patches of src (hs, ws, C) read at coordinates // factor (the
        nearest 2x upsample of the input is never built)."""
        return src[(self.ys // factor)[:, :, None], (self.xs // factor)[:, None, :]]

    def crop(self, patches: torch.Tensor, border: int) -> torch.Tensor:
        """patches without `border` pixels on each side (a view)."""
        return patches[:, border:patches.shape[1] - border, border:patches.shape[2] - border]

    def zero_outside(self, patches: torch.Tensor) -> torch.Tensor:
        """patches (n, p, p, C) with the pixels outside the image zeroed (the convolutions' zero padding)."""
        border = (self.valid.shape[1] - patches.shape[1]) // 2
        return patches.mul_(self.crop(self.valid, border)[..., None].to(patches.dtype))

    def scatter(self, dst: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Write (n, t, t, C) values into dst (h, w, C) at the tiles' pixels; returns the flat indices."""
        flat, rows = self.out_flat, values.reshape(-1, values.shape[-1])
        if not self.all_inside:
            flat, rows = flat[self.out_valid], rows[self.out_valid]
        dst.view(-1, dst.shape[-1]).index_copy_(0, flat, rows)
        return flat


class StrokePreview:
    """Previews of label edits from the activations of the last exact frame of a FastGenerator."""

    def __init__(self, fast: FastGenerator, config: PreviewConfig = PreviewConfig()):
        self.fast = fast
        self.config = config
        self._frame: _Frame | None = None
        self._taps: dict[int, TapCache] = {}  # per SPADE: products of the windows previews met

    @property
    def cache_bytes(self) -> int:
        """Memory held for previews: the exact frame's activations and the working copy."""
        f = self._frame
        if f is None:
            return 0
        tensors = list(f.kept.values()) + list(f.work.values())
        return sum(t.numel() * t.element_size() for t in tensors)

    # -- the exact frame ------------------------------------------------------------------------------------
    def exact(self, classes: torch.Tensor, z: torch.Tensor | None = None,
              edges: torch.Tensor | None = None) -> torch.Tensor:
        """The exact frame (as FastGenerator), keeping its activations for later previews."""
        record: dict[str, torch.Tensor] = {}
        out = self.fast(classes, z, edges, record=record)
        fast = self.fast
        if fast.config.param_free_norm != "batch":
            self._frame = None  # InstanceNorm statistics are global: previews render exact frames
            return out
        kept = {name: _nhwc(record[name]) for name, _ in fast.plan()}
        kept[IMAGE] = _nhwc(out.to(fast.dtype).contiguous(memory_format=torch.channels_last))
        z_kept = z.detach().to(fast.device).clone() if z is not None else None
        work = {k: v.clone() for k, v in kept.items()}
        clean = {k: torch.empty(0, dtype=torch.int64) for k in kept}
        self._frame = _Frame(fast.checked_classes(classes, edges).clone(), z_kept, fast._labels, record["first"],
                             kept, work, clean)
        return out

    # -- previews -------------------------------------------------------------------------------------------
    def preview(self, classes: torch.Tensor, z: torch.Tensor | None = None,
                edges: torch.Tensor | None = None) -> tuple[torch.Tensor, bool]:
        """(image (1, 3, H, W), exact): a preview of classes after the last exact frame, or the exact frame
        itself (exact=True) when there is none to start from, the style or size changed, or the change is
        larger than `exact_above` of the pixels."""
        fast, frame = self.fast, self._frame
        ids = fast.checked_classes(classes, edges)
        if frame is None or frame.classes.shape != ids.shape or not self._same_style(frame, z):
            return self.exact(classes, z, edges), True
        if (ids != frame.classes).float().mean().item() > self.config.exact_above:
            return self.exact(classes, z, edges), True
        with fast._lock, torch.inference_mode():
            out = self._sparse(frame, ids, z)
        return out, False

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

    def _tile(self, size: tuple[int, int]) -> int:
        return self.config.tile if min(size) >= 128 else self.config.coarse_tile

    def _active_tiles(self, changed: torch.Tensor) -> tuple[torch.Tensor, float]:
        """(n, 2) tile coordinates within `reach` of a changed pixel, and their share of the grid's tiles."""
        h, w = changed.shape
        t = self._tile((h, w))
        r = max(self.config.min_reach, -(-self.config.reach * h // self._frame.classes.shape[0]))
        r = min(r, max(h, w))  # farther reaches the whole grid already
        padded = F.pad(changed[None, None].float(), (r, r + t, r, r + t))
        tiles = F.max_pool2d(padded, t + 2 * r, stride=t)[0, 0, :-(-h // t), :-(-w // t)] > 0
        return tiles.nonzero(), tiles.float().mean().item()

    def _sparse(self, frame: _Frame, classes: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
        fast, c = self.fast, self.fast.config
        h, w = classes.shape
        cache = fast._label_cache(classes)
        first = fast._first_features(cache, z, (h // c.downscale, w // c.downscale))
        src, first_changed = _nhwc(first), not torch.equal(first, frame.first)
        for name, upsampled in fast.plan():
            factor = 2 if upsampled else 1
            size = (src.shape[0] * factor, src.shape[1] * factor)
            work = self._restore(frame, name)
            level = fast._level(cache, size)
            changed = level.classes != frame.labels.levels[size].classes
            if (not changed.any() and not first_changed) or size[0] * size[1] <= self.config.keep_upto:
                src, first_changed = work, False
                continue
            tiles, share = self._active_tiles(changed)
            if first_changed or share > self.config.dense_above:
                x = _nchw(src[None])
                out = _nhwc(fast._block(name, fast._up(x) if upsampled else x, cache))
                work.copy_(out)
                frame.dirty[name] = None
            else:
                region = _Tiles(tiles, self._tile(size), size, halo=2)
                frame.dirty[name] = self._block_tiles(fast.blocks[name], region, src, factor, level, work)
            first_changed = False
            src = work
        image = self._restore(frame, IMAGE)
        changed = classes != frame.classes
        if changed.any():
            region = _Tiles(self._active_tiles(changed)[0], self._tile((h, w)), (h, w), halo=1)
            patches = region.zero_outside(F.leaky_relu(region.gather(src), LEAK))
            rgb = torch.tanh_(F.conv2d(_nchw(patches), *fast.conv_img)).permute(0, 2, 3, 1)
            frame.dirty[IMAGE] = region.scatter(image, rgb)
        fast._previous = None
        return _nchw(image[None]).float().contiguous()

    @staticmethod
    def _local_patterns(patterns: Patterns, region: _Tiles) -> Patterns:
        """The windows the tiles' patches use, renumbered: the SPADE tables are then made for these only
        (a small share of a frame's windows), and rho is the (n, p, p) patch of local window ids."""
        used, rho = torch.unique(region.gather(patterns.rho[..., None])[..., 0], return_inverse=True)
        parts = patterns.rho_parts[used]
        pi_used, pi_local = torch.unique(parts, return_inverse=True)   # the outside marker sorts last
        inside = pi_used[pi_used < patterns.num_inside]
        return Patterns(rho, patterns.pi_classes[inside], pi_local.reshape(parts.shape), patterns.pad)

    def _block_tiles(self, block: FastBlock, region: _Tiles, src: torch.Tensor, factor: int, level: _Level,
                     work: torch.Tensor) -> torch.Tensor:
        """One residual block on the active tiles; writes them into work and returns their flat indices."""
        fast = self.fast
        x = region.gather(src, factor)                                   # (n, t + 4, t + 4, C)
        local = self._local_patterns(fast._patterns(level), region)
        rho = local.rho

        def modulate(spade, patches: torch.Tensor, border: int, slope: float | None) -> torch.Tensor:
            n, p, q, ch = patches.shape
            flat = _nchw(patches.reshape(1, n * p, q, ch))
            windows = region.crop(rho, border).reshape(n * p, q)
            taps = self._taps.setdefault(id(spade), TapCache())
            out = spade.apply(flat, windows, spade.tables(local, fast.dtype, taps), slope)
            return out.permute(0, 2, 3, 1).reshape(n, p, q, ch)

        dx = region.zero_outside(modulate(block.norm_0, x, 0, LEAK))
        dx = F.conv2d(_nchw(dx), block.conv_0.weight, block.conv_0.bias).permute(0, 2, 3, 1)
        dx = region.zero_outside(modulate(block.norm_1, dx.contiguous(), 1, LEAK))
        dx = F.conv2d(_nchw(dx), block.conv_1.weight, block.conv_1.bias).permute(0, 2, 3, 1)
        centre = region.crop(x, 2).contiguous()
        if block.learned_shortcut:
            shortcut = modulate(block.norm_s, centre, 2, None)
            weight = block.conv_s[0]
            shortcut = shortcut @ weight.reshape(weight.shape[0], -1).t()
        else:
            shortcut = centre
        return region.scatter(work, dx + shortcut)
