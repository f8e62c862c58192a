"""spade.fast computes the same picture as the module forward (max |diff| 1e-3 on [-1, 1], float32)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spade import SpadeRenderer
from spade.testing import random_weights_
from spade.checkpoint import ModelBundle, ade20k_label_to_channel
from spade.fast import FastGenerator
from spade.fast.patterns import build_patterns
from spade.fast.spade_layer import TapCache
from spade.sample_sketches import brush_stroke, painted_landscape
from spade.fast.winograd import Conv3x3, winograd_conv3x3, winograd_weight
from spade.labels import ade20k
from spade.model import GeneratorConfig, SPADEGenerator

TOL = 1e-3
NC = 151


pytestmark = pytest.mark.usefixtures("one_thread")


def random_generator(seed: int = 0, **overrides) -> SPADEGenerator:
    """A tiny generator whose every tensor, BatchNorm statistics included, is random and well scaled."""
    cfg = dict(ngf=4, spade_hidden=8, crop_size=64, spectral=False)
    cfg.update(overrides)
    torch.manual_seed(seed)
    return random_weights_(SPADEGenerator(GeneratorConfig(**cfg)), seed, bias_scale=0.3)


def reference(g: SPADEGenerator, classes: torch.Tensor, z: torch.Tensor | None) -> torch.Tensor:
    seg = F.one_hot(classes, g.config.semantic_nc).permute(2, 0, 1)[None].float()
    with torch.inference_mode():
        return g(seg, z)


def channels(labels: np.ndarray) -> torch.Tensor:
    """ADE20K ids -> channels (v -> v-1, 0 -> 150), as the renderer maps them."""
    return torch.as_tensor(np.asarray(ade20k_label_to_channel())[labels.astype(np.int64)])


def label_maps(h: int, w: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random, painted, degenerate: per-pixel noise, blocks, one class, single pixels at borders and corners."""
    g = torch.Generator().manual_seed(seed)
    blocks = torch.randint(0, NC, (h // 8 + 1, w // 8 + 1), generator=g)
    blocks = blocks.repeat_interleave(8, 0).repeat_interleave(8, 1)
    singles = torch.full((h, w), 4)
    for y, x in [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (0, w // 2), (h // 2, 0), (h // 2, w // 3),
                 (1, 1), (h - 2, w - 3)]:
        singles[y, x] = (y * 7 + x) % NC
    return {
        "noise": torch.randint(0, NC, (h, w), generator=g),
        "blocks": blocks[:h, :w].contiguous(),
        "painted": channels(painted_landscape(h, w, seed)),
        "one_class": torch.full((h, w), 149),
        "singles": singles,
    }


CONFIGS = [dict(param_free_norm=n, use_vae=v, num_upsampling_layers=u)
           for n, v, u in itertools.product(["batch", "instance"], [False, True], ["normal", "more", "most"])]


def size_for(cfg: dict) -> tuple[int, int]:
    """Small sizes each architecture accepts, with at least two pixels on the first grid (InstanceNorm)."""
    return {"normal": (64, 96), "more": (64, 128), "most": (128, 256)}[cfg["num_upsampling_layers"]]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_fast_matches_reference_on_every_kind_of_map(cfg):
    h, w = size_for(cfg)
    g = random_generator(1, crop_size=w, aspect_ratio=w / h, **cfg)
    fast = FastGenerator(g)
    z = torch.randn(1, g.config.z_dim, generator=torch.Generator().manual_seed(2)) if cfg["use_vae"] else None
    for name, classes in label_maps(h, w).items():
        ref = reference(g, classes, z)
        out = fast(classes, z)
        assert out.shape == ref.shape
        assert (out - ref).abs().max().item() < TOL, name


def test_the_patterns_number_5x5_windows_exactly():
    g = torch.Generator().manual_seed(0)
    for classes in [torch.randint(0, 3, (9, 11), generator=g), torch.randint(0, 151, (6, 5), generator=g),
                    torch.zeros(4, 4, dtype=torch.int64), torch.zeros(1, 1, dtype=torch.int64)]:
        h, w = classes.shape
        p = build_patterns(classes, NC)
        padded = F.pad(classes, (2, 2, 2, 2), value=NC)
        windows = padded.unfold(0, 5, 1).unfold(1, 5, 1).reshape(h * w, 25)
        rho = p.rho.reshape(-1)
        same_window = (windows[:, None] == windows[None]).all(-1)
        assert torch.equal(same_window, rho[:, None] == rho[None])
        # each 5x5 id is the 3x3 grid of its 3x3 windows, and those hold the classes they claim
        outside = torch.full((1, 9), NC)
        pi_windows = torch.cat([p.pi_classes, outside])[p.rho_parts[rho]]  # (h*w, 9 windows, 9 taps)
        for t, (dy, dx) in enumerate(itertools.product(range(3), range(3))):
            expect = padded.unfold(0, 3, 1).unfold(1, 3, 1)[dy:dy + h, dx:dx + w].reshape(h * w, 9)
            centre_outside = expect[:, 4] == NC
            assert torch.equal(pi_windows[~centre_outside, t], expect[~centre_outside])
            assert (pi_windows[centre_outside, t] == NC).all()


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_caches_between_frames_stay_exact(norm):
    g = random_generator(3, use_vae=True, param_free_norm=norm, ngf=8, spade_hidden=16)
    fast = FastGenerator(g)
    painted = painted_landscape(64, 64, 4)
    frames = [painted, painted, brush_stroke(painted, 35, 0.02, 1), brush_stroke(painted, 5, 0.05, 2), painted]
    zs = [torch.randn(1, 256, generator=torch.Generator().manual_seed(s)) for s in (0, 1, 1, 1, 0)]
    for labels, z in zip(frames, zs):
        classes = channels(labels)
        assert (fast(classes, z) - reference(g, classes, z)).abs().max().item() < TOL


def test_caches_follow_size_changes_of_non_vae_models():
    g = random_generator(4, ngf=8, spade_hidden=16)
    fast = FastGenerator(g)
    for h, w in [(64, 64), (32, 96), (64, 64)]:
        classes = channels(painted_landscape(h, w, 1))
        assert (fast(classes) - reference(g, classes, None)).abs().max().item() < TOL


def test_a_training_mode_generator_is_refused():
    with pytest.raises(ValueError):
        FastGenerator(random_generator(0).train())


def test_the_renderer_takes_the_fast_path_by_default_and_can_still_run_the_reference():
    g = random_generator(5, use_vae=True)
    bundle = ModelBundle(g.config, g.state_dict(), ade20k(), ade20k_label_to_channel(), name="tiny")
    renderer = SpadeRenderer(bundle, "cpu")
    labels = painted_landscape(64, 64, 2)
    style = renderer.random_style(7)
    fast = renderer.render_tensor(labels, style)
    ref = renderer.render_tensor(labels, style, reference=True)
    assert renderer._fast_generator is not None
    assert (fast - ref).abs().max().item() < TOL
    plain = SpadeRenderer(bundle, "cpu", fast=False)
    assert torch.equal(plain.render_tensor(labels, style), ref)
    assert plain._fast_generator is None


def test_the_renderer_takes_the_fast_path_on_the_cpu_only_unless_told():
    g = random_generator(5)
    bundle = ModelBundle(g.config, g.state_dict(), ade20k(), ade20k_label_to_channel(), name="tiny")
    assert SpadeRenderer(bundle, "cpu").fast
    assert not SpadeRenderer(bundle, torch.device("meta")).fast  # stands in for cuda and mps: no GPU here
    assert SpadeRenderer(bundle, torch.device("meta"), fast=True).fast


def test_bench_at_half_precision_also_times_the_module_forward_in_it():
    from spade.bench import Model, run_case

    g = random_generator(11)
    model = Model("tiny", g, ade20k_label_to_channel())
    case = run_case("frame", model, painted_landscape(32, 32, 1), None, torch.device("cpu"), 1, dtype=torch.float16)
    assert case["reference_float16_ms"] > 0 and 0 < case["reference_float16_diff"] < 0.1
    assert 0 < case["max_abs_diff"] < 0.1


@pytest.mark.parametrize("tile, bar", [(2, 1e-5), (4, 1e-4)])
@pytest.mark.parametrize("h,w", [(8, 8), (5, 7), (1, 1), (2, 3), (12, 9), (16, 16)])
def test_winograd_conv_matches_the_direct_conv(h, w, tile, bar):
    g = torch.Generator().manual_seed(h * 10 + w)
    conv = torch.nn.Conv2d(32, 24, 3, padding=1)
    x = torch.randn(1, 32, h, w, generator=g).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        expect = conv(x)
        got = winograd_conv3x3(x, winograd_weight(conv.weight, tile), conv.bias)
    assert got.shape == expect.shape and got.is_contiguous(memory_format=torch.channels_last)
    assert (got - expect).abs().max().item() < bar


def test_wide_convolutions_pick_their_winograd_tile_by_grid():
    conv = Conv3x3(torch.nn.Conv2d(256, 256, 3, padding=1), torch.device("cpu"), torch.float32)
    narrow = Conv3x3(torch.nn.Conv2d(256, 128, 3, padding=1), torch.device("cpu"), torch.float32)
    assert [conv.tile_at(s * s) for s in (8, 16, 32, 64, 128)] == [2, 2, 4, 4, 0]
    assert narrow.tile_at(32 * 32) == 0
    x = torch.randn(1, 256, 32, 32, generator=torch.Generator().manual_seed(0))
    x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        assert (conv(x) - F.conv2d(x, conv.weight, conv.bias, padding=1)).abs().max().item() < 1e-4


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("vae", [False, True])
def test_fast_path_with_winograd_everywhere_matches_reference(monkeypatch, vae, tile):
    monkeypatch.setattr("spade.fast.winograd.WINOGRAD_MIN_CHANNELS", 1)
    monkeypatch.setattr("spade.fast.winograd.F2_MAX_PIXELS", 1 << 30 if tile == 2 else 0)
    monkeypatch.setattr("spade.fast.winograd.F4_MAX_PIXELS", 1 << 30)
    g = random_generator(6, use_vae=vae, crop_size=96, aspect_ratio=1.5)
    fast = FastGenerator(g)
    assert fast.blocks["up_3"].conv_1.tile_at(64 * 96) == tile
    z = torch.randn(1, 256, generator=torch.Generator().manual_seed(3)) if vae else None
    for name, classes in label_maps(64, 96).items():
        assert (fast(classes, z) - reference(g, classes, z)).abs().max().item() < TOL, name


def test_a_stroke_keeps_the_coarse_levels_it_does_not_touch():
    g = random_generator(7, ngf=8, spade_hidden=16)
    fast = FastGenerator(g)
    labels = painted_landscape(64, 64, 5)
    fast(channels(labels))
    coarse = fast.last_labels.levels[(2, 2)]
    edited = labels.copy()
    edited[40:43, 17:20] = 35                     # misses every pixel the 2x2 and 4x4 grids sample
    classes = channels(edited)
    out = fast(classes)
    assert fast.last_labels.levels[(2, 2)] is coarse
    assert fast.last_labels.levels[(64, 64)] is not coarse
    assert (out - reference(g, classes, None)).abs().max().item() < TOL


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_reduced_precision_runs_and_stays_close(dtype):
    """The float16 path is meant for CUDA; on the CPU it at least exercises every dtype conversion."""
    g = random_generator(8, use_vae=True, crop_size=96, aspect_ratio=1.5)
    z = torch.randn(1, 256, generator=torch.Generator().manual_seed(4))
    classes = label_maps(64, 96)["painted"]
    out = FastGenerator(g, dtype=dtype)(classes, z)
    assert out.dtype == torch.float32
    assert (out - reference(g, classes, z)).abs().max().item() < 0.3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_float32_is_exact_and_float16_is_close():
    g = random_generator(9, use_vae=True, crop_size=96, aspect_ratio=1.5)
    z = torch.randn(1, 256, generator=torch.Generator().manual_seed(5))
    classes = label_maps(64, 96)["painted"]
    ref = reference(g, classes, z)
    exact = FastGenerator(g.cuda(), "cuda")(classes, z.cuda()).cpu()
    half = FastGenerator(g, "cuda", torch.float16)(classes, z.cuda()).cpu()
    assert (exact - ref).abs().max().item() < TOL
    assert (half - ref).abs().max().item() < 0.1


def test_the_tap_cache_computes_each_window_once_and_forgets_when_too_full():
    calls = []

    def rows_of(windows: torch.Tensor) -> torch.Tensor:
        return windows.float().sum(1, keepdim=True).repeat(1, 3)

    def compute(windows: torch.Tensor, out: torch.Tensor) -> None:
        calls.append(windows.shape[0])
        out.copy_(rows_of(windows))

    cache = TapCache()
    first = torch.tensor([[1] * 9, [2] * 9, [3] * 9])
    index = cache.lookup(first, 3, compute)
    assert calls == [3] and 0 not in index.tolist()
    assert torch.equal(cache.rows[index], rows_of(first))
    index = cache.lookup(torch.tensor([[3] * 9, [4] * 9]), 3, compute)
    assert calls == [3, 1]
    assert cache.rows[index][:, 0].tolist() == [27.0, 36.0]
    assert cache.rows[0].abs().sum() == 0
    many = torch.arange(200 * 9).reshape(200, 9)
    cache.lookup(many, 3, compute)
    cache.lookup(first[:1], 3, compute)                  # 204 known windows > 2 x 64: start afresh
    assert len(cache.keys) == 1


def test_bench_cases_report_the_documented_fields():
    from spade.bench import Model, run_case

    g = random_generator(10, use_vae=True)
    model = Model("tiny", g, ade20k_label_to_channel())
    labels = painted_landscape(64, 64, 3)
    z = torch.randn(1, 256, generator=torch.Generator().manual_seed(6))
    cases = [run_case("frame", model, labels, z, torch.device("cpu"), 2, peak=50.0),
             run_case("stroke", model, brush_stroke(labels, 35), z, torch.device("cpu"), 2, before=labels),
             run_case("style", model, labels, -z, torch.device("cpu"), 2, z_before=z, stat=min)]
    fields = {"name", "size", "reference_ms", "fast_ms", "speedup", "max_abs_diff", "peak_mem_mb"}
    frame = {"gmacs_per_s", "peak_gmacs_per_s"}
    stroke = {"changed_pixels", "exact_ms", "preview_ms", "preview_psnr_db", "preview_exact", "preview_plans",
              "preview_cache_mb", "preview_light_ms", "preview_light_psnr_db", "preview_light_exact",
              "preview_light_plans"}
    assert [set(case) - fields for case in cases] == [frame, stroke, set()]
    for case in cases:
        assert case["size"] == [64, 64] and case["max_abs_diff"] < TOL and case["fast_ms"] > 0
    assert 0 < cases[0]["gmacs_per_s"] and cases[0]["peak_gmacs_per_s"] == 50.0
    assert 0 < cases[1]["changed_pixels"] <= 1
    # on a model this small a preview costs about what an exact frame does, so the running costs may render
    # the exact frame instead (its PSNR is then null)
    assert cases[1]["preview_ms"] > 0
    assert cases[1]["preview_psnr_db"] is None if cases[1]["preview_exact"] else cases[1]["preview_psnr_db"] > 30
    assert cases[1]["preview_cache_mb"] > 0
    assert cases[1]["preview_light_ms"] > 0
    light = cases[1]["preview_light_psnr_db"]
    assert light is None if cases[1]["preview_light_exact"] else 20 < light < 100
    assert cases[1]["exact_ms"] > 0
    for key in ("preview_plans", "preview_light_plans"):   # what the 2 timed previews did, each counted once
        plans = cases[1][key]
        assert set(plans) == {"full", "light", "exact", "replans"} and plans["full"] + plans["light"] + plans[
            "exact"] == 2, plans
    unchanged = run_case("no-op stroke", model, labels, z, torch.device("cpu"), 1, before=labels)
    assert unchanged["changed_pixels"] == 0


def test_bench_writes_its_record_as_json(tmp_path, monkeypatch, capsys):
    import json

    from spade import bench

    case = {"name": "tiny: frame", "size": [64, 64], "reference_ms": 2.0, "fast_ms": 1.0, "speedup": 2.0,
            "max_abs_diff": 1e-6, "peak_mem_mb": 1.0}
    monkeypatch.setattr(bench, "run", lambda args: [case])   # the cases themselves: test above
    out = tmp_path / "run.json"
    assert bench.main(["--threads", "1", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["cases"] == [case] and written["command"] == f"gauguin bench --threads 1 --out {out}"
    assert written["machine"]["cpu"] and written["machine"]["cpu_count"] >= 1 and written["date"]
    assert "tiny: frame" in capsys.readouterr().out            # the table still goes to the terminal
    assert bench.main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cases"] == [case]
    with pytest.raises(SystemExit) as e:
        bench.main(["--out", str(tmp_path / "missing" / "run.json")])
    assert e.value.code == 2 and "does not exist" in capsys.readouterr().err


def test_the_dense_work_count_matches_the_generator_convolutions():
    from spade.bench import dense_macs

    for cfg in [dict(), dict(use_vae=True, num_upsampling_layers="more"), dict(num_upsampling_layers="most")]:
        g = random_generator(0, crop_size=128, **cfg)
        h, w = (128, 128)
        macs = []

        def count(module, inputs, output):
            if isinstance(module, torch.nn.Conv2d):
                k = module.weight[0].numel()
                macs.append(output.numel() * k)
            elif isinstance(module, torch.nn.Linear):
                macs.append(module.weight.numel())

        trunk = [m for n, m in g.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
                 and "mlp_" not in n]
        hooks = [m.register_forward_hook(count) for m in trunk]
        z = torch.randn(1, 256) if g.config.use_vae else None
        reference(g, torch.zeros(h, w, dtype=torch.int64), z)
        for hook in hooks:
            hook.remove()
        assert dense_macs(g.config, h, w) == sum(macs)


def test_channel_ids_out_of_range_are_refused():
    fast = FastGenerator(random_generator(0))
    with pytest.raises(ValueError):
        fast(torch.full((64, 64), NC))
    with pytest.raises(ValueError):
        fast(torch.full((64, 64), -1))
