"""Live rendering: the coalescing queue, and the worker under a burst of edits."""
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from spade import SpadeRenderer
from spade.tone import TONE

from gauguin_app.document import Document, StyleSettings, StyleSource
from gauguin_app.painting import stroke_segment
from gauguin_app.rendering import Coalescer, RenderJob, render_job

from .conftest import wait_for_photo


def test_coalescer_runs_one_and_keeps_only_the_newest_waiting():
    q = Coalescer()
    assert q.request(1) == 1            # idle: starts at once
    assert q.request(2) is None         # busy: waits
    assert q.request(3) is None         # replaces 2
    assert q.request(4) is None
    assert q.done() == 4                # the newest runs next
    assert q.done() is None and not q.busy
    assert q.started == 2 and q.dropped == 2


def test_render_job_resizes_to_what_the_model_renders(tiny_renderer):
    labels = np.full((100, 100), 3, np.uint8)     # same aspect as the model (other aspects are letterboxed)
    assert tiny_renderer.renderable_size(100, 100) == (64, 64)
    result = render_job(RenderJob(1, 0, labels, StyleSettings(StyleSource("seed", 5)), tiny_renderer))
    assert result.image.shape == (64, 64, 3) and result.labels_shape == (100, 100)
    again = tiny_renderer.render(np.full((64, 64), 3, np.uint8), tiny_renderer.random_style(5))
    assert np.array_equal(result.image, again)
    assert list(result.latents) == [f"{tiny_renderer.identity}|seed:5"]


def test_latents_are_keyed_by_the_model_weights_not_its_name(tiny_model_path, tmp_path):
    """Two stages of one model share its name: latents one computed must not be reused by the other."""
    import shutil

    import torch

    from spade.checkpoint import save_checkpoint
    from spade.model import ConvEncoder, EncoderConfig, GeneratorConfig, SPADEGenerator

    torch.manual_seed(7)
    other = save_checkpoint(tmp_path / "tiny", SPADEGenerator(GeneratorConfig(ngf=4, spade_hidden=8, use_vae=True,
                                                                            crop_size=64)),
                            ConvEncoder(EncoderConfig(ndf=4, input_size=64)))
    shutil.copytree(tiny_model_path, tmp_path / "copy")
    a, b = SpadeRenderer.load(tiny_model_path, "cpu"), SpadeRenderer.load(other, "cpu")
    assert a.name == b.name == "tiny" and a.identity != b.identity
    assert SpadeRenderer.load(tmp_path / "copy", "cpu").identity == a.identity
    style = StyleSettings(StyleSource("seed", 5))
    made_by_a = render_job(RenderJob(1, 0, np.full((64, 64), 3, np.uint8), style, a)).latents
    planted = {key: np.full_like(z, 9.0) for key, z in made_by_a.items()}   # latents stored by a's document
    result = render_job(RenderJob(1, 0, np.full((64, 64), 3, np.uint8), style, b, planted))
    assert np.array_equal(result.image, b.render(np.full((64, 64), 3, np.uint8), b.random_style(5)))


def test_burst_of_edits_gives_bounded_renders_and_the_last_photo_matches(make_window, qtbot, tiny_renderer):
    w = make_window()
    wait_for_photo(qtbot, w)
    start = w.controller.renders
    doc = w.doc
    doc.begin_stroke()
    for i in range(40):                  # 40 edits in one go, without the event loop running
        doc.paint(stroke_segment(doc.shape, (i, 10), (i + 1, 40), 6), 5 + i % 3)
    doc.end_stroke()
    w._stroke_finished()
    wait_for_photo(qtbot, w)
    assert w.controller.renders - start <= 3
    expected = tiny_renderer.render(doc.labels, tiny_renderer.random_style(doc.style.a.seed))
    assert np.array_equal(w.photo.photo_array, expected)


def test_edits_while_rendering_are_coalesced(make_window, qtbot, tiny_renderer, monkeypatch):
    """Edits that arrive while a frame renders are merged into the next frame. Each render is slowed to 30 ms
    here, so that the 25 edits, 5 ms apart, always arrive faster than the tiny model renders."""
    w = make_window()
    wait_for_photo(qtbot, w)
    render = SpadeRenderer.render

    def slow_render(self, *args, **kwargs):
        time.sleep(0.03)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(SpadeRenderer, "render", slow_render)
    start = w.controller.renders
    doc = w.doc
    for i in range(25):                  # each edit lets the event loop run a little
        doc.paint(stroke_segment(doc.shape, (i * 2, 0), (i * 2, 63), 2), 17)
        qtbot.wait(5)
    wait_for_photo(qtbot, w)
    assert w.controller.renders - start < 25
    expected = tiny_renderer.render(doc.labels, tiny_renderer.random_style(doc.style.a.seed))
    assert np.array_equal(w.photo.photo_array, expected)


def test_model_failure_keeps_the_sketch_and_shows_a_message(make_window, qtbot, monkeypatch):
    w = make_window()
    wait_for_photo(qtbot, w)

    def broken(*a, **k):
        raise RuntimeError("out of memory")

    doc = w.doc
    with monkeypatch.context() as m:
        m.setattr(w.renderer, "render", broken)
        doc.paint(stroke_segment(doc.shape, (10, 10), (50, 50), 8), 21)
        sketch = doc.labels.copy()
        qtbot.waitUntil(lambda: "could not render" in w.photo.message, timeout=10000)
    assert "out of memory" in w.photo.message
    assert np.array_equal(w.doc.labels, sketch) and w.doc.labels[30, 30] == 21
    doc.paint(stroke_segment(doc.shape, (5, 5), (6, 6), 3), 3)
    wait_for_photo(qtbot, w)
    assert w.photo.message == ""


def test_a_stroke_shows_previews_then_the_exact_frame_when_the_pointer_rests(make_window, qtbot, tiny_renderer,
                                                                             monkeypatch):
    import spade.inference
    from spade.fast import StrokePreview

    # a clock that never moves: previews follow the static plan, not this machine's load (on a model this small
    # a preview costs about what an exact frame does, and the measured costs would often say: the exact frame)
    monkeypatch.setattr(spade.inference, "StrokePreview", lambda fast: StrokePreview(fast, clock=lambda: 0.0))
    w = make_window()
    wait_for_photo(qtbot, w)
    assert w.controller.shown_exact
    doc = w.doc
    kinds = []
    w.controller.result_ready.connect(lambda result: kinds.append(result.exact))
    doc.begin_stroke()
    for i in range(6):                   # the pointer keeps moving: previews of the stroke so far
        doc.paint(stroke_segment(doc.shape, (20, 10 + i), (21, 11 + i), 3), 17)
        qtbot.waitUntil(lambda: w.controller.shown_revision == doc.revision, timeout=10000)
    assert not w.controller.shown_exact and False in kinds
    expected = tiny_renderer.render(doc.labels, tiny_renderer.random_style(doc.style.a.seed))
    assert np.array_equal(w.controller.exact_photo(w.photo.photo_array), expected)   # an export never takes the preview
    qtbot.waitUntil(lambda: w.controller.shown_exact, timeout=10000)  # the pointer rests: the exact frame
    assert np.array_equal(w.photo.photo_array, expected)
    doc.paint(stroke_segment(doc.shape, (40, 40), (41, 41), 3), 17)
    qtbot.waitUntil(lambda: w.controller.shown_revision == doc.revision, timeout=10000)
    doc.end_stroke()
    w._stroke_finished()
    qtbot.waitUntil(lambda: w.controller.shown_exact and not w.controller.busy, timeout=10000)
    expected = tiny_renderer.render(doc.labels, tiny_renderer.random_style(doc.style.a.seed))
    assert np.array_equal(w.photo.photo_array, expected)


def test_an_exact_frame_still_rendering_gives_way_to_the_preview_when_the_stroke_goes_on(make_window, qtbot,
                                                                                          monkeypatch):
    from spade.fast import RenderCancelled

    w = make_window()
    wait_for_photo(qtbot, w)
    doc, real = w.doc, w.renderer.render
    started = threading.Event()

    def slow_exact(labels, style=None, instances=None, stop=None):
        if not started.is_set():          # the first exact frame takes until it is given up
            started.set()
            if stop.wait(10):
                raise RenderCancelled("given up")
        return real(labels, style, instances, stop)

    monkeypatch.setattr(w.renderer, "render", slow_exact)
    doc.begin_stroke()
    doc.paint(stroke_segment(doc.shape, (20, 10), (21, 11), 3), 17)
    qtbot.waitUntil(started.is_set, timeout=10000)           # the pointer rests: the exact frame starts
    doc.paint(stroke_segment(doc.shape, (30, 10), (31, 11), 3), 17)   # and moves on before it is done
    qtbot.waitUntil(lambda: w.controller.shown_revision == doc.revision, timeout=10000)
    assert w.controller.cancelled == 1 and not w.controller.shown_exact
    doc.end_stroke()
    w._stroke_finished()
    qtbot.waitUntil(lambda: w.controller.shown_exact and not w.controller.busy, timeout=10000)
    assert w.controller.shown_revision == doc.revision
    assert np.array_equal(w.photo.photo_array, real(doc.labels, w.renderer.random_style(doc.style.a.seed)))


def test_running_out_of_memory_in_the_worker_is_one_plain_message(tiny_renderer, monkeypatch):
    from gauguin_app.render_worker import RenderWorker

    def exhausted(*args, **kwargs):
        raise MemoryError()
    monkeypatch.setattr(SpadeRenderer, "render", exhausted)
    monkeypatch.setattr(SpadeRenderer, "render_preview", exhausted)
    worker, results = RenderWorker(), []
    worker.done.connect(results.append)
    worker.run(RenderJob(1, 0, np.full((64, 64), 3, np.uint8), StyleSettings(StyleSource("seed", 5)),
                         tiny_renderer))
    assert results and results[0].image is None
    assert results[0].error == "out of memory while rendering: use a smaller canvas"


def test_a_latent_stored_before_styles_had_tones_is_computed_again(tiny_renderer):
    """Documents store each style's latent with its photo tone; an older document's bare latent is recomputed."""
    labels, style = np.full((64, 64), 3, np.uint8), StyleSettings(StyleSource("seed", 5))
    key, stored = next(iter(render_job(RenderJob(1, 0, labels, style, tiny_renderer)).latents.items()))
    z_dim = tiny_renderer.bundle.generator_config.z_dim
    assert stored.shape == (1, z_dim + len(TONE))
    result = render_job(RenderJob(1, 0, labels, style, tiny_renderer, {key: np.full((1, z_dim), 9.0, np.float32)}))
    assert np.array_equal(result.image, tiny_renderer.render(labels, tiny_renderer.random_style(5)))
    assert result.latents[key].shape == stored.shape
    damaged = render_job(RenderJob(1, 0, labels, style, tiny_renderer, {key: np.full_like(stored, np.nan)}))
    assert damaged.error is None and np.array_equal(damaged.image, result.image)
    invalid = stored.copy()
    invalid[0, z_dim + TONE.index("low light")] = 5.0      # a share, 0..1
    damaged = render_job(RenderJob(1, 0, labels, style, tiny_renderer, {key: invalid}))
    assert damaged.error is None and np.array_equal(damaged.image, result.image)


def test_the_soak_runs_the_app_in_its_event_loop_and_no_widgets_pile_up(tmp_path):
    """scripts/soak_app.py used to call processEvents() only: deferred deletes never ran, so the palette's
    replaced buttons piled up (1331 live widgets after 500 renders) and its memory figures described the
    script. Run under app.exec(), the count stays where warm-up left it."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "soak.json"
    run = subprocess.run([sys.executable, "scripts/soak_app.py", "--renders", "200", "--json", str(out)], cwd=root,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["renders"] >= 200 and figures["widgets_after_warmup"] > 50
    assert figures["widgets_end"] - figures["widgets_after_warmup"] <= 5, figures
