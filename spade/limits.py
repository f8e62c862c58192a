"""Caps that keep a small crafted file from making Gauguin allocate until the machine runs out (no Qt).

- Architectures are checked against the tensors a checkpoint holds before any module is built for real:
  the module is first built on PyTorch's `meta` device (no memory) and its tensor shapes compared.
- Tensors whose storage is smaller than their shape (stride-0 expansions in a .pth) are refused.
- Members of a zip document are read with a cap on their decompressed size.
- A render's memory is estimated from the architecture and the canvas size and refused when it cannot fit.
"""
from __future__ import annotations

import dataclasses
import os
import zipfile
from typing import Callable

import torch

from .errors import CheckpointError, SizeError
from .fast.generator import memory_estimate
from .fast.preview import cache_bytes_estimate

MAX_CANVAS_SIDE = 8192          # documents and masks larger than this in either side are refused
MAX_CANVAS_PIXELS = 8192 * 8192


def check_config_types(config: object, what: str) -> None:
    """Every field of a config dataclass holds the type its default has (JSON can say anything)."""
    for f in dataclasses.fields(config):  # type: ignore[arg-type]
        value, default = getattr(config, f.name), f.default
        kind = type(default)
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise CheckpointError(f"{what}: {f.name} must be {kind.__name__}, not {value!r}")
        if kind in (int, float) and f.name != "aspect_ratio" and not (
                (value >= 0 if default == 0 else value > 0) and value < 1e6):  # a field whose default is 0 may be 0
            raise CheckpointError(f"{what}: {f.name} {value!r} is out of range")
    if getattr(config, "aspect_ratio", 1.0) <= 0 or getattr(config, "aspect_ratio", 1.0) > 1e3:
        raise CheckpointError(f"{what}: aspect_ratio {config.aspect_ratio!r} is out of range")  # type: ignore


def check_tensor_storage(state: dict[str, torch.Tensor], what: str) -> None:
    """Refuse tensors that claim more elements than their file stores (expanded, stride-0 tensors)."""
    for key, t in state.items():
        needed = t.numel() * t.element_size()
        stored = t.untyped_storage().nbytes()
        if needed > stored:
            raise CheckpointError(f"{what}: tensor {key} claims {list(t.shape)} but stores only {stored} bytes "
                                  f"(a crafted or damaged file)")


def check_finite(state: dict[str, torch.Tensor], what: str) -> None:
    """Refuse NaN or infinite weights (they render a black photo without any error)."""
    for key, t in state.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{what}: tensor {key} holds NaN or infinite values (a damaged model)")


def check_state_shapes(expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor], what: str) -> None:
    """The first missing, mis-shaped or unexpected tensor, named in one line."""
    for k, v in expected.items():
        if k not in state:
            raise CheckpointError(f"{what}: tensor {k} is missing from the checkpoint (model expects "
                                  f"{list(v.shape)})")
        if tuple(state[k].shape) != tuple(v.shape):
            raise CheckpointError(f"{what}: tensor {k} has shape {list(state[k].shape)} in the checkpoint, "
                                  f"the model expects {list(v.shape)}")
    extra = sorted(set(state) - set(expected))
    if extra:
        raise CheckpointError(f"{what}: unexpected tensor {extra[0]} {list(state[extra[0]].shape)} "
                              f"({len(extra)} unexpected in all)")


def check_architecture(build: Callable[[], torch.nn.Module], state: dict[str, torch.Tensor], what: str) -> None:
    """Build the module on the meta device (shapes only, no memory) and compare it with the tensors."""
    try:
        with torch.device("meta"):
            module = build()
    except (ValueError, TypeError, RuntimeError, OverflowError) as e:
        raise CheckpointError(f"{what}: invalid architecture ({e})") from None
    check_state_shapes(module.state_dict(), state, what)


def read_member(z: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """A zip member's bytes, refusing one that expands past `cap` (the declared size can lie)."""
    info = z.getinfo(name)
    if info.file_size > cap:
        raise ValueError(f"{name} expands to {info.file_size} bytes, over the {cap}-byte limit")
    with z.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise ValueError(f"{name} expands past the {cap}-byte limit")
    return data


def check_canvas_size(height: int, width: int, what: str) -> None:
    if height > MAX_CANVAS_SIDE or width > MAX_CANVAS_SIDE or height * width > MAX_CANVAS_PIXELS:
        raise SizeError(f"{what} is {width}x{height}; Gauguin handles up to {MAX_CANVAS_SIDE}x{MAX_CANVAS_SIDE}")


def render_bytes(config, height: int, width: int, fast: bool = False, previews: bool = False) -> int:
    """An estimate, on the safe side, of the memory a render needs. The module forward: the full-resolution
    float32 activations of the last SPADE blocks (features, SPADE's hidden layer, gamma/beta) and the label
    channels (measured peaks at 1024x1024, ngf 8 and 16: 460 and 610 bytes a pixel; this says 680 and 940).
    The fast path (fast=True): its own estimate (spade.fast.generator.memory_estimate), and with previews on,
    what previews keep besides (spade.fast.preview.cache_bytes_estimate)."""
    if fast:
        return memory_estimate(config, height, width) + (cache_bytes_estimate(config, height, width) if previews
                                                         else 0)
    per_pixel = 4 * (config.semantic_nc // 2 + 2 * config.spade_hidden + 4 * config.ngf + 32)
    return per_pixel * height * width


def available_bytes() -> int:
    """Memory this machine can still give (MemAvailable on Linux; the physical memory elsewhere)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def check_render_memory(config, height: int, width: int, device: torch.device, fast: bool = False,
                        previews: bool = False) -> None:
    """Refuse a render that cannot fit in memory, before the allocator fails halfway (`render_bytes`)."""
    need = render_bytes(config, height, width, fast, previews)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
    else:
        free = available_bytes()
    if need > free * 0.8:
        raise SizeError(f"rendering {width}x{height} with this model needs about {need / 2**30:.1f} GiB; "
                        f"{free / 2**30:.1f} GiB is free: use a smaller canvas")
