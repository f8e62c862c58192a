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
from spade.sample_sketches import ROCK, brush_stroke, painted_landscape
from spade.labels import ade20k
from tests.test_fast import TOL, channels, random_generator, reference

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
    preview = StrokePreview(FastGenerator(g), EVERY_PIXEL)
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
                                                                        "wide_channels": 64}))
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
    preview = StrokePreview(FastGenerator(g), config)
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
                                                                   "int8_from": 1}))
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
    preview = StrokePreview(fast, PreviewConfig(keep_upto=0, sparse_overhead=100.0, bfloat16=False, int8=False))
    preview.exact(channels(before))
    with torch.inference_mode():
        steps = preview._plan(preview._frame, fast._label_cache(fast.checked_classes(channels(after))))
        boxes = [s for s in steps if s.box]
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
    preview = StrokePreview(FastGenerator(g))
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
    chained = StrokePreview(FastGenerator(g), EVERY_PIXEL)   # recomputing every pixel: each step exact
    chained.exact(channels(frames))
    for labels in segments[1:]:
        out, exact = chained.preview(channels(labels), advance=True)
        assert not exact and (out - reference(g, channels(labels), None)).abs().max().item() < TOL

    preview = StrokePreview(FastGenerator(g))
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
                                                                int8=False))
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


def test_a_chained_preview_is_light_when_its_share_of_the_exact_frames_time_is_over_the_budget():
    g = random_generator(7, ngf=8, spade_hidden=16, crop_size=128)
    before = painted_landscape(128, 128, 3)
    after = brush_stroke(before, ROCK, 0.04)
    reference_outs = {}
    for name, light_over_ms in (("full", float("inf")), ("light", 0.0)):
        preview = StrokePreview(FastGenerator(g), PreviewConfig(light_over_ms=light_over_ms, bfloat16=False,
                                                                int8=False))
        preview.exact(channels(before))
        reference_outs[name] = preview.preview(channels(after), advance=True)[0]
    preview = StrokePreview(FastGenerator(g), PreviewConfig(light_over_ms=100.0, bfloat16=False, int8=False))
    share = None
    for exact_ms, expected in ((1e-3, "full"), (1e9, "light")):
        preview.exact(channels(before))
        assert preview.exact_ms is not None and preview.exact_ms > 0   # measured at each exact frame
        share = preview.cost_share(channels(after))
        preview.exact_ms = exact_ms   # a slow machine's exact frame, or a fast one's
        out, exact = preview.preview(channels(after), advance=True)
        assert not exact and torch.equal(out, reference_outs[expected]), (exact_ms, expected)
    assert 0 < share < 1


def test_an_unchanged_sketch_previews_as_the_exact_frame():
    g = random_generator(3, use_vae=True)
    z = torch.randn(1, 256, generator=torch.Generator().manual_seed(0))
    classes = channels(painted_landscape(64, 64, 2))
    preview = StrokePreview(FastGenerator(g))
    frame = preview.exact(classes, z)
    out, exact = preview.preview(classes, z)
    assert not exact and torch.equal(out, frame)


def test_a_change_that_costs_as_much_as_the_exact_frame_new_styles_and_instance_norm_render_the_exact_frame():
    g = random_generator(4, use_vae=True)
    z0, z1 = (torch.randn(1, 256, generator=torch.Generator().manual_seed(s)) for s in (0, 1))
    before = painted_landscape(64, 64, 3)
    preview = StrokePreview(FastGenerator(g), PreviewConfig(keep_upto=0))
    preview.exact(channels(before), z0)
    big = before.copy()
    big[:, :32] = ROCK                                  # half the canvas: every block's reach covers its grid
    assert preview.cost_share(channels(big)) >= preview.config.exact_at
    out, exact = preview.preview(channels(big), z0)
    assert exact and (out - reference(g, channels(big), z0)).abs().max().item() < TOL
    out, exact = preview.preview(channels(big), z1)
    assert exact and (out - reference(g, channels(big), z1)).abs().max().item() < TOL

    instance = StrokePreview(FastGenerator(random_generator(5, param_free_norm="instance")))
    instance.exact(channels(before))
    small = brush_stroke(before, ROCK, 0.02)
    assert instance.preview(channels(small))[1]


def test_a_large_change_is_previewed_when_that_is_cheaper_than_the_exact_frame():
    g = random_generator(8, ngf=8, spade_hidden=16, crop_size=256)
    before = painted_landscape(256, 256, 6)
    after = before.copy()
    after[200:] = ROCK                                  # over a fifth of the canvas, in one band
    assert (after != before).mean() > 0.2
    preview = StrokePreview(FastGenerator(g), PreviewConfig(keep_upto=0))
    old = preview.exact(channels(before))
    assert preview.cost_share(channels(after)) < preview.config.exact_at
    out, exact = preview.preview(channels(after))
    new = reference(g, channels(after), None)
    assert not exact
    band = torch.as_tensor(after != before)
    assert psnr(out, new) > psnr(old, new) + 3
    assert (out - new)[..., band].abs().mean() < 0.5 * (old - new)[..., band].abs().mean()


def test_the_renderer_previews_after_an_exact_render_and_bounds_its_cache():
    g = random_generator(6, use_vae=True)
    bundle = ModelBundle(g.config, g.state_dict(), ade20k(), ade20k_label_to_channel(), name="tiny")
    renderer = SpadeRenderer(bundle, "cpu")
    style = renderer.random_style(1)
    before = painted_landscape(64, 64, 4)
    after = brush_stroke(before, ROCK, 0.02)
    first, exact = renderer.render_preview(before, style)
    assert exact                                   # nothing to start from yet
    assert np.array_equal(first, renderer.render(before, style))
    image, exact = renderer.render_preview(after, style)
    assert not exact and image.shape == (64, 64, 3) and image.dtype == np.uint8
    assert 0 < renderer.preview_cache_bytes < 64 * 2 ** 20
