"""Benchmark: the straightforward module forward against spade.fast, on the same weights and label map.

    gauguin bench [--model PATH] [--mask PNG] [--device D] [--dtype T] [--threads N] [--size S]
                  [--repeat N] [--stat median|min] [--json] [--out FILE]

Cases, in order: the given model (default: the bundled one) on the given mask (default: an example landscape
sketch), then a full-size ADE20K generator (official architecture, ngf 64, random weights) on the same mask,
then brush strokes over about 2% and 10% of the pixels on each (the fast path's caches hold the unedited
frame), then a new style on the same mask (VAE models), and for a model that reads style photos, style_ms: the
time from a 1920x1080 JPEG photo on disk to its style (decode, the style atlas's reading or the encoder's),
which a dropped photo costs before its first frame, and where the photo has a tone (spade/tone.py), tone_ms:
what grading adds to each frame at the model's size (tone_first_ms: the first frame, which also builds the
grade's colour tables). --dtype float16 (CUDA or MPS) runs every fast path, previews included, in float16
against the float32 module forward, so max_abs_diff says what half precision costs; each case then also times
the module forward in float16 (reference_float16_ms; reference_float16_diff: its max |diff| against the
float32 one).

Times are medians (or minima, --stat min) over --repeat runs after a warm-up, all the paths' runs interleaved
so that they see the same load on a shared machine. peak_mem_mb: on CUDA the allocator's peak during one fast
frame; on the CPU the growth of the process's resident memory during one fast frame (sampled every
millisecond, after handing freed heap pages back to the system), caches it fills included. Frame cases report
gmacs_per_s: the dense convolutions a frame runs (trunk, first layer, output layer; counted as direct
convolutions, though Winograd does those on small grids with fewer multiplies) per second of a fast frame,
beside peak_gmacs_per_s, the best of a large float32 matrix product measured in the same run.

Stroke cases also report changed_pixels, the share of output pixels that the edit moves by more than 1e-3 (the
exactness bar) in the reference output, which any exact update has to recompute, and the stroke previews
(spade/fast/preview.py) after the unedited frame: exact_ms, the exact frame as the app renders it once
previews are on (keeping what previews start from); preview_ms, a preview; preview_psnr_db against the exact
frame (null where the preview rendered the exact frame instead, preview_exact); preview_plans, what the timed
previews did (full, light, exact: the exact frame instead, replans: re-planned part-way; StrokePreview.stats);
preview_cache_mb, what previews keep; preview_light_ms, preview_light_psnr_db, preview_light_exact and
preview_light_plans: the same for the light preview a fast stroke gets (PreviewConfig.light_over_ms), chained.

--json prints, and --out writes, one JSON record: the command, the date (UTC), the machine (CPU, torch's
threads, OMP_WAIT_POLICY, versions, the load average at the end; the GPU on CUDA) and the cases.
"""
from __future__ import annotations

import argparse
import copy
import ctypes
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .atomic import atomic_write
from .checkpoint import ModelBundle, ade20k_label_to_channel, build_generator
from .device import cpu_name, pick_device
from .errors import GauguinError
from .fast import FastGenerator, PreviewConfig, StrokePreview
from .fast.preview import PreviewStats
from .fast.generator import trunk
from .sample_sketches import ROCK, brush_stroke
from .inference import SpadeRenderer, load_bundle
from .labels import ade20k, read_mask, resize_labels
from .model import GeneratorConfig, SPADEGenerator
from .paths import EXAMPLES_DIR
from .testing import random_weights_
from .usage import EXIT_BAD_INPUT, UsageParser

DEFAULT_MASK = EXAMPLES_DIR / "lake_mountains.png"


@dataclass
class Model:
    name: str
    generator: SPADEGenerator
    label_to_channel: list[int]


def given_model(path: str | None) -> Model:
    """The model at path (None: the bundled one)."""
    bundle: ModelBundle = load_bundle(path)
    return Model(bundle.name, build_generator(bundle), bundle.label_to_channel)


def full_model() -> Model:
    g = random_weights_(SPADEGenerator(GeneratorConfig(spectral=False)), 2)
    return Model("ADE20K full (ngf 64, random)", g, ade20k_label_to_channel())


def read_labels(path: str | None, size: int) -> tuple[np.ndarray, str]:
    """The mask at path (None: the example sketch) resized to size x size, and its file name."""
    mask_path = Path(path) if path is not None else DEFAULT_MASK
    labels = read_mask(mask_path, ade20k())
    return resize_labels(labels, size, size), mask_path.name


def timed_ms(fn: Callable[[], object], sync: Callable[[], None]) -> float:
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return (time.perf_counter() - start) * 1000.0


class PeakMemory:
    """Peak extra memory (MB) while the block runs: CUDA allocator peak, else sampled resident memory."""

    def __init__(self, device: torch.device):
        self.device = device
        self.peak_mb = 0.0

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            return self
        _release_free_memory()
        self._base = self._peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self._peak = max(self._peak, _rss_bytes())

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_mb = (torch.cuda.max_memory_allocated(self.device) - self._base) / 2 ** 20
            return
        self._stop.set()
        self._thread.join()
        self.peak_mb = (max(self._peak, _rss_bytes()) - self._base) / 2 ** 20


def _release_free_memory() -> None:
    """Hand freed heap pages back to the system (glibc), so resident memory growth shows new allocations."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def dense_macs(config: GeneratorConfig, height: int, width: int) -> int:
    """Multiply-accumulates of the convolutions and linear layer a fast frame runs densely (SPADE's own
    convolutions excluded: the fast path evaluates them per distinct window), as direct convolutions."""
    c, nf = config, config.ngf
    scale = c.downscale
    h, w = height // scale, width // scale
    macs = c.z_dim * 16 * nf * h * w if c.use_vae else c.semantic_nc * 16 * nf * 9 * h * w
    blocks = trunk(c)
    for block in blocks:
        if block.upsampled:
            h, w = 2 * h, 2 * w
        fin, fout = block.fin, block.fout
        mid = min(fin, fout)
        macs += (fin * mid + mid * fout) * 9 * h * w + (fin * fout * h * w if fin != fout else 0)
    return macs + blocks[-1].fout * 3 * 9 * h * w


def peak_gmacs_per_s(device: torch.device, n: int = 2048, repeat: int = 5) -> float:
    """The best rate of an n x n by n x n float32 matrix product on this device (the machine's own peak)."""
    a, b = (torch.randn(n, n, device=device) for _ in range(2))
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    torch.mm(a, b)
    best = min(timed_ms(lambda: torch.mm(a, b), sync) for _ in range(repeat))
    return n ** 3 / best / 1e6


def _rounded(db: float) -> float | None:
    """A PSNR for the record: None where the two images are the same (an exact frame shown for a preview)."""
    return None if math.isinf(db) else round(db, 1)


def psnr_db(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR of a against b, both in [-1, 1] (peak-to-peak 2)."""
    mse = ((a.float() - b.float()) ** 2).mean().item()
    return float("inf") if mse == 0 else 10 * np.log10(4 / mse)


DTYPES = {"float32": torch.float32, "float16": torch.float16}

# An output pixel counts as changed by an edit when a channel moves by more than the exactness bar.
CHANGED_ABOVE = 1e-3


def run_case(name: str, model: Model, labels: np.ndarray, z: torch.Tensor | None, device: torch.device,
             repeat: int, before: np.ndarray | None = None, z_before: torch.Tensor | None = None,
             dtype: torch.dtype = torch.float32, stat: Callable[[list[float]], float] = statistics.median,
             peak: float | None = None) -> dict:
    """One case. With `before` or `z_before`, the fast path first renders that frame (untimed), so its
    caches hold the previous frame as in the app; otherwise its caches are cleared before each frame.
    `peak`: the machine's GMAC/s, reported beside a frame's."""
    g = model.generator.to(device)
    lut = torch.as_tensor(np.asarray(model.label_to_channel), device=device)
    classes = lut[torch.as_tensor(labels.astype(np.int64), device=device)]
    previous = lut[torch.as_tensor(before.astype(np.int64), device=device)] if before is not None else classes
    seg = F.one_hot(classes, g.config.semantic_nc).permute(2, 0, 1)[None].float()
    z = z.to(device) if z is not None else None
    z_previous = z_before.to(device) if z_before is not None else z
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    fast = FastGenerator(g, device, dtype)
    # at a lower precision, the module forward in that dtype too: what a GPU user of the plain model would get
    low = copy.deepcopy(g).to(dtype) if dtype != torch.float32 else None
    seg_low, z_low = (seg.to(dtype), z.to(dtype) if z is not None else None) if low is not None else (None, None)
    preview = StrokePreview(fast) if before is not None else None
    light = StrokePreview(fast, PreviewConfig(light_over_ms=0.0)) if before is not None else None
    if preview is not None:
        prepare = lambda: preview.exact(previous, z_previous)  # noqa: E731
        prepare_light = lambda: light.exact(previous, z_previous)  # noqa: E731
    elif z_before is not None:
        prepare = lambda: fast(previous, z_previous)  # noqa: E731
    else:
        prepare = fast.clear_cache
    with torch.inference_mode():
        ref = g(seg, z)
        prepare()
        exact = fast(classes, z).float()
        diff = (exact - ref.float()).abs().max().item()
        low_diff = (low(seg_low, z_low).float() - ref.float()).abs().max().item() if low is not None else None
        if preview is not None:   # untimed: the first preview of a process measures what this CPU does fastest
            prepare()
            preview.preview(classes, z)
            prepare_light()
            light.preview(classes, z, advance=True)
            preview.stats, light.stats = PreviewStats(), PreviewStats()
        reference_times, fast_times, exact_times, preview_times, light_times, low_times = [], [], [], [], [], []
        for i in range(repeat):  # interleaved, so that all see the same load on a shared machine
            if i < max(1, (repeat + 1) // 2):
                reference_times.append(timed_ms(lambda: g(seg, z), sync))
                if low is not None:
                    low_times.append(timed_ms(lambda: low(seg_low, z_low), sync))
            prepare()
            fast_times.append(timed_ms(lambda: fast(classes, z), sync))
            if preview is not None:
                prepare()
                exact_times.append(timed_ms(lambda: preview.exact(classes, z), sync))
                prepare()
                preview_times.append(timed_ms(lambda: preview.preview(classes, z), sync))
                prepare_light()
                light_times.append(timed_ms(lambda: light.preview(classes, z, advance=True), sync))
        if preview is not None:
            plans, light_plans = preview.stats.as_dict(), light.stats.as_dict()
            prepare()
            shown, was_exact = preview.preview(classes, z)
            preview_psnr = psnr_db(shown, exact)
            prepare_light()
            shown, light_exact = light.preview(classes, z, advance=True)
            light_psnr = psnr_db(shown, exact)
        prepare()
        with PeakMemory(device) as mem:
            fast(classes, z)
        changed = None
        if before is not None:  # how far the edit reaches: an exact update must recompute these output pixels
            seg_before = F.one_hot(previous, g.config.semantic_nc).permute(2, 0, 1)[None].float()
            reach = (g(seg_before, z).float() - ref.float()).abs().amax(1) > CHANGED_ABOVE
            changed = round(reach.float().mean().item(), 3)
    reference_ms, fast_ms = stat(reference_times), stat(fast_times)
    g.cpu()
    case = {"name": name, "size": list(ref.shape[-2:]), "reference_ms": round(reference_ms, 1),
            "fast_ms": round(fast_ms, 1), "speedup": round(reference_ms / fast_ms, 2),
            "max_abs_diff": float(f"{diff:.3g}"), "peak_mem_mb": round(mem.peak_mb, 1)}
    if changed is not None:
        case["changed_pixels"] = changed
    if low is not None:
        name_low = str(dtype).removeprefix("torch.")
        case[f"reference_{name_low}_ms"] = round(stat(low_times), 1)
        case[f"reference_{name_low}_diff"] = float(f"{low_diff:.3g}")
    if preview is not None:
        case.update(exact_ms=round(stat(exact_times), 1), preview_ms=round(stat(preview_times), 1),
                    preview_psnr_db=_rounded(preview_psnr), preview_exact=was_exact, preview_plans=plans,
                    preview_cache_mb=round(preview.cache_bytes / 2 ** 20, 1),
                    preview_light_ms=round(stat(light_times), 1), preview_light_psnr_db=_rounded(light_psnr),
                    preview_light_exact=light_exact, preview_light_plans=light_plans)
    if before is None and z_before is None:
        macs = dense_macs(g.config, *ref.shape[-2:])
        case["gmacs_per_s"] = round(macs / fast_ms / 1e6, 1)
        if peak is not None:
            case["peak_gmacs_per_s"] = round(peak, 1)
    return case


def run(args: argparse.Namespace) -> list[dict]:
    device = pick_device(args.device)
    dtype = DTYPES[args.dtype]
    if dtype != torch.float32 and device.type == "cpu":
        raise GauguinError(f"--dtype {args.dtype} needs a GPU (--device cuda or mps); the CPU paths run float32")
    if args.threads:
        torch.set_num_threads(args.threads)
    labels, mask_name = read_labels(args.mask, args.size)
    stroke = brush_stroke(labels, ROCK, 0.02)
    wide_stroke = brush_stroke(labels, ROCK, 0.10)
    given, full = given_model(args.model), full_model()
    given_labels, given_stroke = labels, stroke
    if given.generator.config.use_vae and given.generator.config.output_size() != labels.shape:
        h, w = given.generator.config.output_size()  # a VAE model renders exactly its training size
        given_labels = resize_labels(labels, h, w)
        given_stroke = brush_stroke(given_labels, ROCK, 0.02)
        given_wide = brush_stroke(given_labels, ROCK, 0.10)
    else:
        given_wide = wide_stroke
    z_dim = given.generator.config.z_dim
    z = torch.randn(1, z_dim, generator=torch.Generator().manual_seed(0))
    z_new = torch.randn(1, z_dim, generator=torch.Generator().manual_seed(1))
    z_given = z if given.generator.config.use_vae else None
    print(f"# mask: {mask_name} {labels.shape[1]}x{labels.shape[0]}; stroke edits "
          f"{(stroke != labels).mean() * 100:.1f}% of the pixels; device {device} ({args.dtype}), "
          f"{torch.get_num_threads()} threads; {cpu_name()}; {args.stat} of "
          f"{args.repeat} runs",
          file=sys.stderr)
    cases = []
    peak = peak_gmacs_per_s(device)

    def add(case: dict) -> None:
        cases.append(case)
        reach = (f", changes {case['changed_pixels']:.0%} of the output pixels by more than {CHANGED_ABOVE:g}"
                 if "changed_pixels" in case else "")
        if "preview_ms" in case:
            reach += (f"; exact frame with previews on {case['exact_ms']} ms; preview {case['preview_ms']} ms "
                      f"({_ratio(case, 'preview_ms')}, {case['preview_plans']}), PSNR {case['preview_psnr_db']} dB; "
                      f"light preview {case['preview_light_ms']} ms ({_ratio(case, 'preview_light_ms')}, "
                      f"{case['preview_light_plans']}), {case['preview_light_psnr_db']} dB")
        if "reference_float16_ms" in case:
            reach += (f"; module forward in float16 {case['reference_float16_ms']} ms, max |diff| "
                      f"{case['reference_float16_diff']}")
        if "peak_gmacs_per_s" in case:
            reach += f"; {case['gmacs_per_s']} GMAC/s (peak {case['peak_gmacs_per_s']})"
        print(f"# {case['name']}: reference {case['reference_ms']} ms, fast {case['fast_ms']} ms "
              f"({case['speedup']}x), max |diff| {case['max_abs_diff']}{reach}", file=sys.stderr)

    stat = min if args.stat == "min" else statistics.median
    common = dict(device=device, repeat=args.repeat, dtype=dtype, stat=stat)
    add(run_case(f"{given.name}: frame", given, given_labels, z_given, peak=peak, **common))
    add(run_case(f"{full.name}: frame", full, labels, None, peak=peak, **common))
    add(run_case(f"{given.name}: 2% stroke", given, given_stroke, z_given, before=given_labels, **common))
    add(run_case(f"{full.name}: 2% stroke", full, stroke, None, before=labels, **common))
    add(run_case(f"{given.name}: 10% stroke", given, given_wide, z_given, before=given_labels, **common))
    add(run_case(f"{full.name}: 10% stroke", full, wide_stroke, None, before=labels, **common))
    if z_given is not None:
        add(run_case(f"{given.name}: new style", given, given_labels, z_new, z_before=z, **common))
    photo = photo_style_case(args.model, args.repeat, stat)
    if photo is not None:
        cases.append(photo)
        print(f"# {photo['name']} ({photo['read_by']}): {photo['style_ms']} ms from a 1920x1080 JPEG",
              file=sys.stderr)
    return cases


def photo_style_case(path: str | None, repeat: int, stat: Callable[[list[float]], float]) -> dict | None:
    """How long a 1920x1080 JPEG photo takes to become a style (None: the model reads no style photos)."""
    renderer = SpadeRenderer.load(path, "cpu")
    if not (renderer.uses_style and renderer.has_encoder):
        return None
    rng = np.random.default_rng(0)
    sky = np.linspace([90, 140, 220], [200, 170, 120], 540)[:, None, :].repeat(1920, 1)
    ground = np.linspace([60, 110, 40], [30, 60, 20], 540)[:, None, :].repeat(1920, 1)
    photo = np.clip(np.concatenate([sky, ground]) + rng.normal(0, 12, (1080, 1920, 3)), 0, 255).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "photo.jpg"
        Image.fromarray(photo).save(file, quality=90)
        style = renderer.encode_style(file)
        times = [timed_ms(lambda: renderer.encode_style(file), lambda: None) for _ in range(repeat)]
    case = {"name": f"{renderer.name}: style from a photo", "size": [1080, 1920], "style_ms": round(stat(times), 1),
            "read_by": "style atlas" if renderer.atlas is not None else "style encoder"}
    if style.tone is not None:
        h, w = renderer.default_size
        labels = np.full((h, w), 10, np.int64)
        labels[: h // 2] = renderer.label_set.sky_ids[0]
        rgb = renderer.render(labels, replace(style, tone=None))

        def grade() -> np.ndarray:
            return style.tone.apply(rgb, labels, renderer.label_set.sky_ids)
        case["tone_first_ms"] = round(timed_ms(grade, lambda: None), 1)
        case["tone_ms"] = round(stat([timed_ms(grade, lambda: None) for _ in range(repeat)]), 1)
    return case


def _ratio(case: dict, key: str) -> str:
    """How many times faster than the exact frame (with previews on) a stroke case's preview was."""
    return f"{case['exact_ms'] / max(case[key], 1e-3):.2f}x"


def print_table(cases: list[dict]) -> None:
    header = (f"{'case':<48} {'size':>9} {'ref ms':>8} {'fast ms':>8} {'speedup':>7} {'max|diff|':>9} "
              f"{'mem MB':>7} {'GMAC/s':>7}")
    print(header)
    for c in cases:
        if "style_ms" in c:
            continue
        size = "x".join(str(v) for v in c["size"][::-1])
        rate = f"{c['gmacs_per_s']:>7.1f}" if "gmacs_per_s" in c else ""
        print(f"{c['name']:<48} {size:>9} {c['reference_ms']:>8.1f} {c['fast_ms']:>8.1f} {c['speedup']:>7.2f} "
              f"{c['max_abs_diff']:>9.2g} {c['peak_mem_mb']:>7.1f} {rate}")
    peaks = {c["peak_gmacs_per_s"] for c in cases if "peak_gmacs_per_s" in c}
    if peaks:
        print(f"peak (float32 matrix product, this run): {max(peaks):.1f} GMAC/s")
    strokes = [c for c in cases if "preview_ms" in c]
    if strokes:
        print(f"\n{'stroke case':<48} {'exact ms':>8} {'preview':>17} {'PSNR dB':>7} {'light':>17} {'PSNR dB':>7}  "
              f"plans (full/light/exact/re-plans)")
        for c in strokes:
            plans = "/".join(str(v) for v in c["preview_plans"].values())
            light_plans = "/".join(str(v) for v in c["preview_light_plans"].values())
            db, light_db = (f"{v:.1f}" if v is not None else "exact"
                            for v in (c["preview_psnr_db"], c["preview_light_psnr_db"]))
            print(f"{c['name']:<48} {c['exact_ms']:>8.1f} {c['preview_ms']:>8.1f} ({_ratio(c, 'preview_ms'):>6}) "
                  f"{db:>7} {c['preview_light_ms']:>8.1f} ({_ratio(c, 'preview_light_ms'):>6}) {light_db:>7}  "
                  f"{plans}, {light_plans}")
    for c in cases:
        if "style_ms" in c:
            tone = (f"; its tone adds {c['tone_ms']:.1f} ms to each frame ({c['tone_first_ms']:.1f} ms the first)"
                    if "tone_ms" in c else "")
            print(f"{c['name']} ({c['read_by']}, 1920x1080 JPEG): {c['style_ms']:.1f} ms{tone}")


def _load_average() -> list[float] | None:
    """The system's load average over 1, 5 and 15 minutes (at the end of the run), where the system says."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def record(cases: list[dict], command: str, device: str) -> dict:
    """What a run measured, with the command and the machine, as the JSON `--json` and `--out` write."""
    machine = {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
               "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "torch": torch.__version__,
               "python": platform.python_version(), "load_average": _load_average()}
    if device.startswith("cuda") and torch.cuda.is_available():
        machine["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return {"command": command,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine, "cases": cases}


def main(argv: list[str] | None = None, prog: str = "gauguin bench") -> int:
    parser = UsageParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model folder or file (default: the bundled model)")
    parser.add_argument("--mask", help=f"label map PNG (default: {DEFAULT_MASK.name} from the examples)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (default: cpu)")
    parser.add_argument("--dtype", choices=tuple(DTYPES), default="float32",
                        help="the fast paths' dtype; float16 on CUDA or MPS only (default: float32)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--size", type=int, default=256, help="square side the mask is resized to (default 256)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timed fast runs per case (reference: half as many), interleaved (default 5)")
    parser.add_argument("--stat", choices=("median", "min"), default="median",
                        help="statistic reported over the runs; min suits a busy shared machine")
    parser.add_argument("--json", action="store_true",
                        help="print the record as JSON on stdout: the command, date, machine and cases")
    parser.add_argument("--out", help="also write that JSON record to this file")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    for option in ("size", "repeat"):
        if getattr(args, option) <= 0:
            parser.error(f"--{option} must be positive, not {getattr(args, option)}")
    if args.out and not Path(args.out).parent.is_dir():
        parser.error(f"--out {args.out}: folder {Path(args.out).parent} does not exist")
    try:
        cases = run(args)
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    text = json.dumps(record(cases, " ".join([prog, *argv]), args.device), indent=1)
    if args.out:
        try:
            atomic_write(args.out, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
        except OSError as e:
            print(f"error: --out {args.out}: {e.strerror or e}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if args.json:
        print(text)
    else:
        print_table(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
