"""Models load on a thread while the sketch stays editable; documents remember the model they were made with."""
import shutil
import threading

import numpy as np

from spade import SpadeRenderer, ade20k

from .conftest import wait_for_model
from .test_window import drag, pick_class

TREE = ade20k().id_of("tree")


def gated_load(monkeypatch, gate: threading.Event, threads: list[str]):
    """Make SpadeRenderer.load wait for `gate` (as a slow disk or GPU would) and record the thread it ran on."""
    real = SpadeRenderer.load.__func__

    def slow(cls, path=None, device="auto"):
        threads.append(threading.current_thread().name)
        assert gate.wait(10), "the test never released the load"
        return real(cls, path, device)

    monkeypatch.setattr(SpadeRenderer, "load", classmethod(slow))


def test_startup_load_runs_off_the_ui_thread_and_the_sketch_stays_editable(make_window, qtbot, monkeypatch):
    gate, threads = threading.Event(), []
    gated_load(monkeypatch, gate, threads)
    w = make_window(wait_model=False)
    assert w.renderer is None and w.loader.busy
    assert not w.loading_bar.isHidden() and "Loading" in w.loading_label.text()
    pick_class(w, TREE)
    drag(w.canvas, [(10, 10), (30, 10)])          # the UI thread is free while the model loads
    assert w.doc.dirty and (w.doc.labels == TREE).any()
    gate.set()
    wait_for_model(qtbot, w)
    assert w.renderer is not None and threads and threads[0] != threading.main_thread().name
    assert w.loading_bar.isHidden() and not w.loading_label.isVisible()
    assert (w.doc.labels == TREE).any()           # the painted sketch was not replaced by the model's default


def test_untouched_starter_sketch_takes_the_model_size(make_window):
    w = make_window()
    assert w.doc.shape == w.renderer.default_size == (64, 64)


def test_only_the_newest_load_wins(make_window, qtbot, plain_model_path, tiny_model_path):
    w = make_window()
    w.models.load(str(plain_model_path))
    w.models.load(str(tiny_model_path))
    wait_for_model(qtbot, w)
    assert w.renderer.name == "tiny" and w.settings.model_path == str(tiny_model_path.resolve())


def test_load_model_folder_takes_a_training_run_folder(make_window, qtbot, prompts, tmp_path, plain_model_path):
    """Load Model Folder on the trainer's --checkpoint_dir loads its latest/; several models are named."""
    run, many = tmp_path / "run", tmp_path / "many"
    shutil.copytree(plain_model_path, run / "latest")
    for name in ("iter_0000002", "iter_0000004"):
        shutil.copytree(plain_model_path, many / name)
    w = make_window()
    assert w.renderer.name == "tiny"
    prompts.folder = str(run)
    w.models.load_folder()
    wait_for_model(qtbot, w)
    assert w.renderer.name == "plain" and not prompts.errors
    prompts.folder = str(many)
    w.models.load_folder()
    wait_for_model(qtbot, w)
    assert w.renderer.name == "plain" and len(prompts.errors) == 1
    assert "iter_0000002, iter_0000004" in prompts.errors[0]


def test_folder_that_is_not_a_model_keeps_the_current_one(make_window, qtbot, prompts, tmp_path):
    w = make_window()
    name = w.renderer.name
    junk = tmp_path / "not_a_model"
    junk.mkdir()
    (junk / "notes.txt").write_text("hello")
    (junk / "config.json").write_text("{broken")
    for path in (junk, tmp_path / "missing_model"):
        w.models.load(str(path))
        wait_for_model(qtbot, w)
    assert w.renderer.name == name and len(prompts.errors) == 2
    assert all(e.startswith("Cannot load the model") and "\n" not in e for e in prompts.errors)
    assert w.loading_bar.isHidden()


def test_explicit_model_that_fails_at_startup_says_so(make_window, prompts, tmp_path):
    w = make_window(model_path=tmp_path / "nowhere")
    assert w.renderer is None and "No model loaded" in w.photo.message
    assert prompts.errors and "nowhere" in prompts.errors[-1]


def save_with_model(make_window, prompts, model_path, path) -> np.ndarray:
    w = make_window(model_path)
    drag(w.canvas, [(5, 5), (20, 20)])
    prompts.save_path = str(path)
    assert w.files.save()
    return w.doc.labels.copy()


def test_document_offers_to_load_its_model(make_window, qtbot, prompts, tmp_path, tiny_model_path,
                                           plain_model_path):
    labels = save_with_model(make_window, prompts, tiny_model_path, tmp_path / "a.gauguin")
    w = make_window(plain_model_path)
    prompts.yes = False
    assert w.files.open_path(tmp_path / "a.gauguin", ask=False)
    assert "tiny" in prompts.questions[-1] and w.renderer.name == "plain"
    assert "rendering with the model plain" in w.statusBar().currentMessage()
    prompts.yes = True
    n = len(prompts.questions)
    assert w.files.open_path(tmp_path / "a.gauguin", ask=False)
    assert len(prompts.questions) == n + 1
    wait_for_model(qtbot, w)
    assert w.renderer.name == "tiny" and np.array_equal(w.doc.labels, labels)
    assert w.files.open_path(tmp_path / "a.gauguin", ask=False) and len(prompts.questions) == n + 1


def test_document_whose_model_is_gone_says_so(make_window, prompts, tmp_path, tiny_model_path, plain_model_path):
    import shutil
    moved = tmp_path / "moved_model"
    shutil.copytree(tiny_model_path, moved)
    save_with_model(make_window, prompts, moved, tmp_path / "b.gauguin")
    shutil.rmtree(moved)
    w = make_window(plain_model_path)
    n = len(prompts.questions)
    assert w.files.open_path(tmp_path / "b.gauguin", ask=False)
    assert len(prompts.questions) == n
    message = w.statusBar().currentMessage()
    assert "moved_model" in message and "not found" in message


def test_model_info_says_the_bundled_model_reads_photos_through_its_style_atlas():
    from gauguin_app.dialogs import model_info_html
    from spade import load_model

    renderer = load_model(None, "cpu")
    assert "a style atlas of 1500 latents reads photos" in model_info_html(renderer.info(), renderer.label_set)
