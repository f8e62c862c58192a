"""Stroke previews (spade.fast.preview): exact where every pixel is recomputed, old frame where the stroke cannot
reach, close to the exact frame near the stroke, and the exact frame itself when a preview would cost about as
much."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spade import SpadeRenderer
from spade.checkpoint import ModelBundle, ade20k_label_to_channel
from spade.fast import FastGenerator, PreviewConfig, StrokePreview
from spade.errors import SizeError
from spade.fast.preview import PreviewKind, RunningCosts, StepMode, cache_bytes_estimate
from spade.limits import render_bytes
from spade.sample_sketches import ROCK, brush_stroke, painted_landscape
from spade.labels import ade20k
from tests.test_fast import TOL, channels, random_generator, reference

# A clock that never moves: nothing is measured, so the static estimate plans every preview (the same plan on
# any machine and load); the tests of the running costs give the previews a clock of their own.
STILL = lambda: 0.0  # noqa: E731
EVERY_PIXEL = PreviewConfig(reach=10 ** 4, keep_upto=0, sparse_overhead=0.0, exact_at=float("inf"),
                            bfloat16=False, int8=False)  # every pixel, sparse, in float32


pytestmark = pytest.mark.usefixtures("one_thread")


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * torch.log10(4 / ((a - b) ** 2).mean()).item()


@pytest.mark.parametrize("vae, upsampling, size", [(False, "normal", (64, 96)), (True, "more", (64, 64)),
                                                    (False, "most", (128, 256))])
def test_recomputing_every_tile_gives_the_exact_frame(vae, upsampling, size):
    h, w = size
    g = random_generator(1, crop_size=w, aspect_ratio=w / h, use_vae=vae, num_upsampling_layers=upsampling)
    z = torch.randn(1, 256, generator=torch.Generator().manual_seed(3)) if vae else None
    before = painted_landscape(h, w, 0)
    after = brush_stroke(before, ROCK, 0.03)
    preview = StrokePreview(FastGenerator(g), EVERY_PIXEL, STILL)
    preview.exact(channels(before), z)
    for _ in range(2):  # the second starts from the working copy the first overwrote
        out, exact = preview.preview(channels(after), z)
        assert not exact
        assert (out - reference(g, channels(after), z)).abs().max().item() < TOL


def test_previews_on_any_thread_count_match_and_leave_torch_threads_as_they_were():
    g = random_generator(4, crop_size=64)
    before = painted_landscape(64, 64, 5)
    after = brush_stroke(before, ROCK, 0.03)
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        outs = []
        for threads in (1, 0, None):  # None: the count measured for this machine
            preview = StrokePreview(FastGenerator(g), PreviewConfig(**{**EVERY_PIXEL.__dict__, "threads": threads,
                                                                        "wide_channels": 64}), STILL)
            preview.exact(channels(before))
            out, exact = preview.preview(channels(after))
            assert not exact and torch.get_num_threads() == 2
            outs.append(out)
        assert (outs[0] - reference(g, channels(after), None)).abs().max().item() < TOL
        assert all((outs[0] - out).abs().max().item() < TOL for out in outs[1:])
    finally:
        torch.set_num_threads(saved)


def test_every_pixel_in_bfloat16_stays_close_to_the_exact_frame():
    g = random_generator(9, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 2)
    after = brush_stroke(before, ROCK, 0.03)
    config = PreviewConfig(reach=10 ** 4, keep_upto=0, sparse_overhead=0.0, sparse_overhead_bf16=0.0,
                           exact_at=float("inf"), bfloat16=True)
    preview = StrokePreview(FastGenerator(g), config, STILL)
    preview.exact(channels(before))
    out, exact = preview.preview(channels(after))
    assert not exact and psnr(out, reference(g, channels(after), None)) > 45


def test_kernels_in_int8_stay_close_to_the_exact_frame_and_take_less_memory(monkeypatch):
    from spade.fast import preview as preview_module
    try:
        preview_module._Int8Kernel.of(torch.randn(16, 8))
    except (RuntimeError, AttributeError, NotImplementedError) as e:
        pytest.skip(f"this torch has no quantised CPU matrix product: {e}")
    monkeypatch.setattr(preview_module, "_int8_is_faster", lambda device, dtype: True)  # whatever this CPU's speed
    g = random_generator(9, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 2)
    after = brush_stroke(before, ROCK, 0.03)
    outs, memory = [], []
    for int8 in (False, True):
        preview = StrokePreview(FastGenerator(g), PreviewConfig(**{**EVERY_PIXEL.__dict__, "int8": int8,
                                                                   "int8_from": 1}), STILL)
        preview.exact(channels(before))
        out, exact = preview.preview(channels(after))
        assert not exact
        outs.append(out)
        memory.append(preview.cache_bytes)
    exact_frame = reference(g, channels(after), None)
    assert (outs[0] - exact_frame).abs().max().item() < TOL
    assert 32 < psnr(outs[1], exact_frame) < 80, psnr(outs[1], exact_frame)   # close, and int8 did run
    assert memory[1] < memory[0]


@pytest.mark.parametrize("where", ["middle", "corner"])
def test_a_block_recomputed_over_its_box_is_exact_there_given_its_input(where):
    # the crop's offsets, the upsample's alignment, the labels' margin and the grid's edges: each block run
    # over its box from the exact input matches the exact frame at every pixel it writes
    g = random_generator(6, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 4)
    after = brush_stroke(before, ROCK, 0.02) if where == "middle" else before.copy()
    if where == "corner":
        after[-20:, -13:] = ROCK
    fast = FastGenerator(g)
    record: dict[str, torch.Tensor] = {}
    fast(channels(after), record=record)
    preview = StrokePreview(fast, PreviewConfig(keep_upto=0, sparse_overhead=100.0, bfloat16=False, int8=False),
                            STILL)
    preview.exact(channels(before))
    with fast.holding(fast.checked_classes(channels(after))) as cache:
        steps = preview._plan(preview._frame, cache)
        boxes = [s for s in steps if s.mode is StepMode.BOX]
        assert [s.name for s in boxes] == ["up_0", "up_1", "up_2", "up_3"]
        names = ["first"] + [s.name for s in steps]
        for step in boxes:
            src = record[names[names.index(step.name) - 1]].permute(0, 2, 3, 1)[0]
            exact = record[step.name].permute(0, 2, 3, 1)[0]
            work = preview._frame.kept[step.name].clone()
            written = preview._block_in_box(fast.blocks[step.name], step.sets, src, 2, step.level, work)
            c = work.shape[-1]
            assert set(step.sets.rings[0].tolist()) <= set(written.tolist())
            diff = work.reshape(-1, c)[written] - exact.reshape(-1, c)[written]
            assert diff.abs().max().item() < 1e-4


def test_the_preview_keeps_the_old_frame_out_of_reach_and_is_close_near_the_stroke():
    g = random_generator(2, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 1)
    after = brush_stroke(before, ROCK, 0.02)
    preview = StrokePreview(FastGenerator(g), clock=STILL)
    old = preview.exact(channels(before))
    out, exact = preview.preview(channels(after))
    new = reference(g, channels(after), None)
    assert not exact
    changed = torch.as_tensor(after != before)[None, None].float()
    reach = preview.config.reach       # the photo is recomputed only this close to a changed label
    far = F.max_pool2d(changed, 2 * reach + 1, 1, reach)[0, 0] == 0
    assert far.float().mean() > 0.5
    assert torch.equal(out[..., far], old[..., far])
    assert psnr(out, new) > 38 > psnr(old, new)
    stroke = changed[0, 0] > 0  # where the photo changes most, the preview follows the exact frame
    assert (out - new)[..., stroke].abs().mean() < 0.6 * (old - new)[..., stroke].abs().mean()


def test_successive_previews_start_from_the_last_one():
    g = random_generator(7, ngf=8, spade_hidden=16, crop_size=128)
    frames = painted_landscape(128, 128, 5)
    segments = [frames]
    for i in range(3):                    # a stroke painted in three parts, one render after each
        step = segments[-1].copy()
        step[80:90, 20 + 25 * i:45 + 25 * i] = ROCK
        segments.append(step)
    chained = StrokePreview(FastGenerator(g), EVERY_PIXEL, STILL)   # recomputing every pixel: each step exact
    chained.exact(channels(frames))
    for labels in segments[1:]:
        out, exact = chained.preview(channels(labels), advance=True)
        assert not exact and (out - reference(g, channels(labels), None)).abs().max().item() < TOL

    preview = StrokePreview(FastGenerator(g), clock=STILL)
    preview.exact(channels(frames))
    last = preview.preview(channels(segments[1]), advance=True)[0]
    out = preview.preview(channels(segments[2]), advance=True)[0]
    new = torch.as_tensor(segments[2] != segments[1])[None, None].float()
    reach = preview.config.reach
    far = F.max_pool2d(new, 2 * reach + 1, 1, reach)[0, 0] == 0
    assert torch.equal(out[..., far], last[..., far])    # only the newest part of the stroke was recomputed
    new = reference(g, channels(segments[2]), None)
    assert psnr(out, new) > psnr(last, new) + 3           # and it follows the exact frame there
    exact = preview.exact(channels(segments[3]))          # the exact frame ends the chain
    assert (exact - reference(g, channels(segments[3]), None)).abs().max().item() < TOL


def test_a_fast_strokes_previews_are_light_and_the_exact_frame_then_has_everything():
    g = random_generator(7, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 3)
    after = brush_stroke(before, ROCK, 0.04)
    new = reference(g, channels(after), None)
    outs = {}
    for name, light_over_ms in (("full", float("inf")), ("light", 0.0)):
        preview = StrokePreview(FastGenerator(g), PreviewConfig(light_over_ms=light_over_ms, bfloat16=False,
                                                                int8=False), STILL)
        if name == "light":   # only a chain of previews (a stroke in progress) is made light
            preview.exact(channels(before))
            assert torch.equal(preview.preview(channels(after))[0], outs["full"])
        old = preview.exact(channels(before))
        outs[name], exact = preview.preview(channels(after), advance=True)
        assert not exact
    assert (preview.exact(channels(after)) - new).abs().max().item() < TOL
    assert not torch.equal(outs["light"], outs["full"])
    assert psnr(outs["full"], new) > psnr(outs["light"], new) > psnr(old, new)
    stroke = torch.as_tensor(after != before)   # where the photo changes most, the light preview follows too
    errors = {name: (out - new)[..., stroke].abs().mean().item() for name, out in (*outs.items(), ("old", old))}
    assert errors["full"] < errors["light"] < 0.9 * errors["old"], errors


class FakeClock:
    """A clock that moves by `tick_ms` at each reading (so each block of a preview takes one tick)."""

    def __init__(self, tick_ms: float):
        self.tick_ms, self.now = tick_ms, 0.0

    def __call__(self) -> float:
        self.now += self.tick_ms / 1000
        return self.now


class TimedFast(FastGenerator):
    """A FastGenerator whose exact frames take `frame_ms` more on a FakeClock."""

    def __init__(self, generator, clock: FakeClock, frame_ms: float):
        super().__init__(generator)
        self.clock, self.frame_ms = clock, frame_ms

    def __call__(self, *args, **kwargs):
        self.clock.now += self.frame_ms / 1000
        return super().__call__(*args, **kwargs)


def test_a_chained_preview_is_light_when_its_share_of_the_exact_frames_time_is_over_the_budget():
    g = random_generator(7, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 3)
    after = brush_stroke(before, ROCK, 0.04)
    reference_outs = {}
    for name, light_over_ms in (("full", float("inf")), ("light", 0.0)):
        preview = StrokePreview(FastGenerator(g), PreviewConfig(light_over_ms=light_over_ms, bfloat16=False,
                                                                int8=False), STILL)
        preview.exact(channels(before))
        reference_outs[name] = preview.preview(channels(after), advance=True)[0]
    share = None
    for exact_ms, expected in ((1e-3, "full"), (1e9, "light")):   # a fast machine's exact frames, a slow one's
        clock = FakeClock(0.0)                                     # previews take no time on it
        preview = StrokePreview(TimedFast(g, clock, exact_ms), PreviewConfig(light_over_ms=100.0, bfloat16=False,
                                                                             int8=False), clock)
        preview.exact(channels(before))
        assert preview.exact_ms == pytest.approx(exact_ms)   # measured at each exact frame
        share = preview.cost_share(channels(after))
        out, exact = preview.preview(channels(after), advance=True)
        assert not exact and torch.equal(out, reference_outs[expected]), (exact_ms, expected)
        assert preview.last.kind is PreviewKind(expected)
    assert 0 < share < 1


NO_BUDGET = PreviewConfig(light_over_ms=float("inf"), bfloat16=False, int8=False)  # light only when too costly


def chain_of_previews(preview: StrokePreview, g, start: np.ndarray, count: int) -> list[bool]:
    """Paint a stroke in `count` parts, a chained preview after each; whether each came back exact."""
    labels = start.copy()
    exact = []
    for i in range(count):
        labels[60:68, 10 + 3 * i:16 + 3 * i] = ROCK
        out, was_exact = preview.preview(channels(labels), advance=True)
        if was_exact:   # the exact frame it rendered instead is the exact frame
            assert (out - reference(g, channels(labels), None)).abs().max().item() < TOL
        exact.append(was_exact)
    return exact


def test_previews_measured_slower_than_exact_frames_fall_back_to_the_exact_frame_until_they_are_cheap_again():
    g = random_generator(7, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 3)
    clock = FakeClock(10.0)        # each block of a preview takes 10 ms, an exact frame 10 ms in all: previews
    fast = TimedFast(g, clock, 0.0)  # of 7 blocks cost several exact frames
    preview = StrokePreview(fast, NO_BUDGET, clock)
    preview.exact(channels(before))
    exact = chain_of_previews(preview, g, before, 6)
    assert exact[0] is False                       # the first follows the static estimate, and is measured
    assert preview.stats.replans == 1              # overran part-way: its remaining blocks were chosen again
    assert exact[1:] == [True] * 5                 # then the running costs say a preview costs more
    assert preview.stats.exact == 5 and preview.stats.full == 1 and preview.stats.light == 0
    assert preview.last.kind is PreviewKind.EXACT and preview.last.estimated_ms > preview.exact_ms

    clock.tick_ms, fast.frame_ms = 0.01, 1000.0    # the load has gone: exact frames cost 1 s, blocks 0.01 ms
    exact = chain_of_previews(preview, g, painted_landscape(128, 128, 4), 30)
    back = exact.index(False)                      # the step costs drift back to the static estimate ...
    assert 0 < back < 20 and not any(exact[back:])  # ... previews return and stay, measured cheap
    assert preview.stats.full > 1


def test_previews_measured_cheap_stay_previews():
    g = random_generator(7, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 3)
    clock = FakeClock(0.01)
    preview = StrokePreview(TimedFast(g, clock, 200.0), NO_BUDGET, clock)
    preview.exact(channels(before))
    assert chain_of_previews(preview, g, before, 8) == [False] * 8
    assert preview.stats.as_dict() == {"full": 8, "light": 0, "exact": 0, "replans": 0}
    assert preview.last.kind is PreviewKind.FULL and preview.last.ms < preview.exact_ms
    assert [r.name for r in preview.last.steps] == [name for name, _ in preview.fast.plan()]


def test_a_preview_too_costly_in_full_is_light_when_that_is_cheap_enough():
    g = random_generator(7, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 3)
    preview = StrokePreview(FastGenerator(g), PreviewConfig(bfloat16=False, int8=False), STILL)
    preview.exact(channels(before))
    after = brush_stroke(before, ROCK, 0.04)
    full = preview.cost_share(channels(after))
    # measured: every kind of block step costs 0.9 / full times its static estimate against the exact frame
    preview.costs = RunningCosts(100.0, dict.fromkeys(RunningCosts().factors, 0.9 / full))
    assert preview.cost_share(channels(after)) == pytest.approx(0.9)   # over exact_at
    out, exact = preview.preview(channels(after), advance=True)
    assert not exact and preview.last.kind is PreviewKind.LIGHT and preview.stats.light == 1
    assert [r.mode is StepMode.KEPT for r in preview.last.steps] == [True] * 5 + [False] * 2  # up to 32x32 kept
    preview.exact(channels(before))
    out, exact = preview.preview(channels(after))        # not chained: light all the same
    assert not exact and preview.last.kind is PreviewKind.LIGHT and preview.stats.light == 2


def test_an_unchanged_sketch_previews_as_the_exact_frame():
    g = random_generator(3, use_vae=True)
    z = torch.randn(1, 256, generator=torch.Generator().manual_seed(0))
    classes = channels(painted_landscape(64, 64, 2))
    preview = StrokePreview(FastGenerator(g), clock=STILL)
    frame = preview.exact(classes, z)
    out, exact = preview.preview(classes, z)
    assert not exact and torch.equal(out, frame)


def test_a_change_that_costs_as_much_as_the_exact_frame_new_styles_and_instance_norm_render_the_exact_frame():
    g = random_generator(4, use_vae=True)
    z0, z1 = (torch.randn(1, 256, generator=torch.Generator().manual_seed(s)) for s in (0, 1))
    before = painted_landscape(64, 64, 3)
    # light_keep_upto=0: a light preview keeps no more than a full one, so this change is too costly for both
    preview = StrokePreview(FastGenerator(g), PreviewConfig(keep_upto=0, light_keep_upto=0), STILL)
    preview.exact(channels(before), z0)
    big = before.copy()
    big[:, :32] = ROCK                                  # half the canvas: every block's reach covers its grid
    assert preview.cost_share(channels(big)) >= preview.config.exact_at
    out, exact = preview.preview(channels(big), z0)
    assert exact and (out - reference(g, channels(big), z0)).abs().max().item() < TOL
    out, exact = preview.preview(channels(big), z1)
    assert exact and (out - reference(g, channels(big), z1)).abs().max().item() < TOL

    instance = StrokePreview(FastGenerator(random_generator(5, param_free_norm="instance")), clock=STILL)
    instance.exact(channels(before))
    small = brush_stroke(before, ROCK, 0.02)
    assert instance.preview(channels(small))[1]


def test_a_large_change_is_previewed_when_that_is_cheaper_than_the_exact_frame():
    g = random_generator(8, ngf=8, spade_hidden=16, crop_size=256)
    before = painted_landscape(256, 256, 6)
    after = before.copy()
    after[200:] = ROCK                                  # over a fifth of the canvas, in one band
    assert (after != before).mean() > 0.2
    preview = StrokePreview(FastGenerator(g), PreviewConfig(keep_upto=0), STILL)
    old = preview.exact(channels(before))
    assert preview.cost_share(channels(after)) < preview.config.exact_at
    out, exact = preview.preview(channels(after))
    new = reference(g, channels(after), None)
    assert not exact
    band = torch.as_tensor(after != before)
    assert psnr(out, new) > psnr(old, new) + 3
    assert (out - new)[..., band].abs().mean() < 0.5 * (old - new)[..., band].abs().mean()


def tiny_renderer() -> SpadeRenderer:
    g = random_generator(6, use_vae=True)
    return SpadeRenderer(ModelBundle(g.config, g.state_dict(), ade20k(), ade20k_label_to_channel(), name="tiny"),
                         "cpu")


def test_the_renderer_previews_after_an_exact_render_and_counts_what_it_keeps():
    renderer = tiny_renderer()
    style = renderer.random_style(1)
    before = painted_landscape(64, 64, 4)
    after = brush_stroke(before, ROCK, 0.02)
    first, exact = renderer.render_preview(before, style)
    assert exact                                   # nothing to start from yet
    assert np.array_equal(first, renderer.render(before, style))
    image, exact = renderer.render_preview(after, style)
    assert not exact and image.shape == (64, 64, 3) and image.dtype == np.uint8
    # it keeps every block's activations and the image twice (the frame and a working copy), and kernels
    record: dict[str, torch.Tensor] = {}
    FastGenerator(renderer.generator)(renderer.channels(before), style.z, record=record)
    activations = 4 * (sum(t.numel() for name, t in record.items() if name != "first") + 3 * 64 * 64)
    assert 2 * activations < renderer.preview_cache_bytes <= cache_bytes_estimate(renderer.generator.config, 64, 64)


def test_a_render_does_no_preview_work_until_a_preview_is_asked_for(tiny_model, mask_png, tmp_path, monkeypatch):
    import spade.inference
    from spade.cli import render_command

    made = []
    real = spade.inference.StrokePreview
    monkeypatch.setattr(spade.inference, "StrokePreview", lambda *a, **k: made.append(a) or real(*a, **k))
    assert render_command(["--model", str(tiny_model), "--mask", str(mask_png), "--out", str(tmp_path / "o.png"),
                           "--device", "cpu"]) == 0
    assert made == []                               # a one-shot render builds nothing for previews

    renderer = tiny_renderer()
    style = renderer.random_style(1)
    before = painted_landscape(64, 64, 4)
    renderer.render(before, style)
    assert renderer.preview_cache_bytes == 0 and made == []
    assert renderer.render_preview(brush_stroke(before, ROCK, 0.02), style)[1]   # the first: the exact frame
    assert renderer.preview_cache_bytes > 0 and len(made) == 1
    renderer.render(before, style)                  # from now on exact frames keep what previews start from
    assert not renderer.render_preview(brush_stroke(before, ROCK, 0.02), style)[1]


def test_the_memory_check_counts_the_fast_path_and_the_previews(monkeypatch):
    import spade.limits

    renderer = tiny_renderer()
    config, style = renderer.generator.config, renderer.random_style(1)
    module, fast = render_bytes(config, 64, 64), render_bytes(config, 64, 64, fast=True)
    with_previews = render_bytes(config, 64, 64, fast=True, previews=True)
    assert fast != module and with_previews == fast + cache_bytes_estimate(config, 64, 64) > fast
    monkeypatch.setattr(spade.limits, "available_bytes", lambda: (fast + with_previews) / 2 / 0.8)
    before = painted_landscape(64, 64, 4)
    renderer.render(before, style)                 # fits without previews
    with pytest.raises(SizeError, match="use a smaller canvas"):
        renderer.render_preview(before, style)     # not with what previews keep
