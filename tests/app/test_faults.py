"""Crafted documents and recovery files: one message each, nothing half-applied, no work deleted unseen."""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gauguin_app.docfile import DocumentError, read_document, write_document
from gauguin_app.document import Document, StyleSource, StyleSettings
from gauguin_app.painting import Region
from gauguin_app.recovery import RecoveryStore

ROOT = Path(__file__).resolve().parents[2]


def saved(path: Path, fill: int = 3, shape=(32, 32)) -> Path:
    doc = Document(np.full(shape, fill, np.uint8))
    doc.style = StyleSettings(StyleSource("seed", 4))
    write_document(path, doc)
    return path


def rewritten(src: Path, dst: Path, manifest_edit=None, members: dict[str, bytes] | None = None) -> Path:
    """A copy of document `src` with its manifest edited and members replaced (as a crafted file would be)."""
    with zipfile.ZipFile(src) as z:
        items = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(items["manifest.json"])
    if manifest_edit:
        manifest_edit(manifest)
    items["manifest.json"] = json.dumps(manifest).encode()
    items.update(members or {})
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)
    return dst


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size (what a decompression bomb looks like before decoding)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def set_in(section: str, key: str, value):
    return lambda m: m[section].update({key: value}) if section != "style.a" else m["style"]["a"].update({key: value})


@pytest.fixture
def crafted(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = saved(tmp_path / "good.gauguin")
    cases = {
        "brush_size 1e400": (rewritten(good, tmp_path / "b1.gauguin", None,
                                       {"manifest.json": json.dumps(json.loads(zipfile.ZipFile(good).read(
                                           "manifest.json"))).replace('"brush_size": 24', '"brush_size": 1e400')
                                           .encode()}), "brush size"),
        "brush_size 10**30": (rewritten(good, tmp_path / "b2.gauguin", set_in("canvas", "brush_size", 10**30)),
                              "brush size"),
        "NaN opacity": (rewritten(good, tmp_path / "o.gauguin", None, {"manifest.json": json.dumps(json.loads(
            zipfile.ZipFile(good).read("manifest.json"))).replace('"overlay_opacity": 0.5',
                                                                  '"overlay_opacity": NaN').encode()}), "opacity"),
        "seed 2**70": (rewritten(good, tmp_path / "s.gauguin", set_in("style.a", "seed", 2**70)), "seed"),
        "40000x40000 sketch": (rewritten(good, tmp_path / "big.gauguin", None,
                                         {"sketch.png": png_header(40000, 40000)}), "too large"),
        "zip bomb": (rewritten(good, tmp_path / "bomb.gauguin", None,
                               {"sketch.png": b"\0" * (80 << 20)}), "limit"),
        "manifest is a list": (rewritten(good, tmp_path / "list.gauguin", None, {"manifest.json": b"[1, 2]"}),
                               "not a Gauguin document"),
        "deep manifest": (rewritten(good, tmp_path / "deep.gauguin", None,
                                    {"manifest.json": b"[" * 100000 + b"]" * 100000}), "nested too deeply"),
        "folder": (tmp_path, "folder"),
    }
    fifo = tmp_path / "pipe.gauguin"
    os.mkfifo(fifo)
    cases["FIFO"] = (fifo, "not a regular file")
    return cases


CASES = ["brush_size 1e400", "brush_size 10**30", "NaN opacity", "seed 2**70", "40000x40000 sketch", "zip bomb",
         "manifest is a list", "deep manifest", "folder", "FIFO"]


@pytest.mark.parametrize("case", CASES)
def test_crafted_documents_are_one_message_in_words(case, crafted):
    path, words = crafted[case]
    result: list = []
    reader = threading.Thread(target=lambda: result.append(_read(path)), daemon=True)
    reader.start()
    reader.join(20)
    assert result, f"reading {case} did not return (it blocked)"
    message = result[0]
    assert isinstance(message, str) and words in message and "\n" not in message, message
    assert "Error)" not in message  # no class names


def _read(path: Path) -> str | Document:
    try:
        return read_document(path)[0]
    except DocumentError as e:
        return str(e)


def test_a_bad_document_changes_nothing_in_the_window(make_window, prompts, tmp_path):
    w = make_window()
    before, title = w.doc.labels.copy(), w.windowTitle()
    good = saved(tmp_path / "good.gauguin", fill=5)
    bad = rewritten(good, tmp_path / "bad.gauguin", set_in("canvas", "brush_size", 10**30))
    assert w.files.open_path(bad, ask=False) is False
    assert np.array_equal(w.doc.labels, before) and w.windowTitle() == title
    assert len(prompts.errors) == 1 and "brush size" in prompts.errors[0]


def orphan(folder: Path, pid: int, fill: int, age: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = saved(folder / f"recovery-{pid}.gauguin", fill)
    t = time.time() - age
    os.utime(path, (t, t))
    return path


def test_every_recoverable_file_is_offered_newest_first_and_bad_ones_kept_aside(make_window, prompts, tmp_path,
                                                                             monkeypatch):
    rec = tmp_path / "rec"
    older = orphan(rec, 999999991, fill=5, age=3600)
    newer = orphan(rec, 999999992, fill=10, age=60)
    corrupt = rec / "recovery-999999993.gauguin"
    corrupt.write_bytes(b"PK\x03\x04 cut short")
    os.utime(corrupt, None)
    from gauguin_app import prompts as mod
    answers = iter([False, True])                  # decline the newest, take the older one

    def ask(parent, text, title=""):
        prompts.questions.append(text)
        return next(answers)
    monkeypatch.setattr(mod, "ask_yes_no", ask)
    w = make_window(recovery_dir=rec)
    assert w.files.check_recovery()
    assert len(prompts.questions) == 2
    assert (w.doc.labels == 5).all() and w.doc.dirty
    assert not newer.exists() and not older.exists()  # declined and opened: both handled
    assert len(prompts.errors) == 1 and "kept as" in prompts.errors[0]
    assert (rec / "unreadable" / corrupt.name).exists()


def test_a_file_not_asked_about_stays_for_the_next_start(make_window, prompts, tmp_path):
    rec = tmp_path / "rec"
    orphan(rec, 999999991, fill=5, age=3600)
    newer = orphan(rec, 999999992, fill=10, age=60)
    w = make_window(recovery_dir=rec)
    assert w.files.check_recovery()                # yes to the first question
    assert (w.doc.labels == 10).all() and not newer.exists()
    assert (rec / "recovery-999999991.gauguin").exists()


START = """
import os, shutil, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gauguin_app import prompts
from gauguin_app.main import recovery_folder, run_app
prompts.show_error = lambda parent, text, title="": print("ERROR", text, flush=True)
app = QApplication([])
app.setApplicationName("Gauguin")
app.setOrganizationName("Gauguin")
folder = recovery_folder()
folder.mkdir(parents=True, exist_ok=True)
target = folder / "recovery-999999994.gauguin"
os.mkfifo(target) if sys.argv[1] == "FIFO" else shutil.copy(sys.argv[1], target)
print("FOLDER", folder, flush=True)
QTimer.singleShot(3000, app.quit)
sys.exit(run_app([]))
"""


@pytest.mark.parametrize("kind", ["brush_size 1e400", "FIFO"])
def test_the_app_starts_despite_a_crafted_recovery_file(kind, tmp_path):
    """A recovery file that used to abort every start (exit 134) or hang it is set aside with one message."""
    source = "FIFO"
    if kind != "FIFO":
        good = saved(tmp_path / "g.gauguin")
        text = zipfile.ZipFile(good).read("manifest.json").decode().replace('"brush_size": 24', '"brush_size": 1e400')
        source = str(rewritten(good, tmp_path / "crafted.gauguin", None, {"manifest.json": text.encode()}))
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config"), "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-c", START, source], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    folder = Path(next(line for line in run.stdout.splitlines() if line.startswith("FOLDER"))[7:])
    errors = [line for line in run.stdout.splitlines() if line.startswith("ERROR") and "recovery" in line]
    assert len(errors) == 1, run.stdout
    assert not (folder / "recovery-999999994.gauguin").exists()
    assert (folder / "unreadable" / "recovery-999999994.gauguin").exists()



def big_label_set(n: int = 300):
    """A custom label set of `n` classes (more than an 8-bit label map holds)."""
    from spade.labels import LabelSet
    colors = np.random.default_rng(n).integers(0, 256, (n, 3)).astype(np.uint8)
    return LabelSet(f"custom{n}", ("unlabeled",) + tuple(f"class {i}" for i in range(1, n)), colors)


def big_document(path: Path, top: int = 299) -> Path:
    """A document in a 300-class set whose sketch holds class `top` (a crafted file or a recovery file)."""
    labels = np.full((64, 64), 5, np.int32)
    labels[10:20, 10:20] = top
    write_document(path, Document(labels, big_label_set()))
    return path


def test_a_300_class_document_opened_in_a_running_window_is_shown_whole(make_window, prompts, tmp_path):
    """The window used to take the new document while the canvas kept showing the old one."""
    from gauguin_app.display_colours import display_colours
    w = make_window()
    prompts.yes = False                                 # keep its classes (no conversion to the model's)
    assert w.files.open_path(big_document(tmp_path / "big.gauguin"), ask=False)
    assert not prompts.errors and w.canvas.doc is w.doc and w.doc.label_set.name == "custom300"
    assert w.doc.labels[15, 15] == 299
    r, g, b = (int(v) for v in display_colours(w.doc.label_set)[299])   # the canvas's colours
    assert w.canvas.sketch.image.pixel(15, 15) & 0xFFFFFF == (r << 16) | (g << 8) | b
    assert w.windowTitle().startswith("Gauguin — big.gauguin")


def fail_to_show(window, monkeypatch) -> None:
    """The canvas runs out of memory showing any document but the one it shows now."""
    shown, show = window.doc, window.canvas.set_document

    def set_document(doc):
        if doc is not shown:
            raise MemoryError("Unable to allocate 1.00 GiB")
        show(doc)
    monkeypatch.setattr(window.canvas, "set_document", set_document)


def test_a_document_that_cannot_be_shown_leaves_the_window_as_it_was(make_window, prompts, monkeypatch, tmp_path):
    w = make_window()
    before, labels, title = w.doc, w.doc.labels.copy(), w.windowTitle()
    fail_to_show(w, monkeypatch)
    doc = saved(tmp_path / "other.gauguin", fill=7)
    assert w.files.open_path(doc, ask=False) is False
    assert len(prompts.errors) == 1 and "other.gauguin" in prompts.errors[0] and "memory" in prompts.errors[0]
    assert w.doc is before and w.canvas.doc is before and np.array_equal(w.doc.labels, labels)
    assert w.windowTitle() == title and str(doc.resolve()) not in w.settings.recent_files
    w.doc.paint(Region(0, 4, 0, 4, np.ones((4, 4), bool)), 5)
    assert w.isWindowModified()                         # the window still listens to its own document


def recovery_file(folder: Path, pid: int | str, fill: int = 5, recovered_from: object = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"recovery-{pid}.gauguin"
    write_document(path, Document(np.full((32, 32), fill, np.uint8)), {"recovered_from": recovered_from})
    return path


def test_a_recovered_document_has_no_path_so_save_cannot_overwrite_a_file(make_window, prompts, tmp_path):
    """A crafted recovered_from used to become the document's path: a plain Save wrote over that file."""
    precious = tmp_path / "precious.gauguin"
    precious.write_bytes(b"someone's work")
    rec = tmp_path / "rec"
    recovery_file(rec, 999999991, fill=7, recovered_from=str(precious))
    w = make_window(recovery_dir=rec)
    assert w.files.check_recovery() and (w.doc.labels == 7).all()
    assert str(precious) in prompts.questions[-1]       # named to the user, as a hint
    assert w.doc.path is None and w.doc.dirty and "Untitled" in w.windowTitle()
    prompts.save_path = None                            # Save asks where; the user cancels
    assert w.files.save() is False
    assert precious.read_bytes() == b"someone's work"


@pytest.mark.parametrize("crafted", [["a", "list"], 42, "line one\nline two"])
def test_a_recorded_original_that_is_not_a_path_is_ignored(make_window, prompts, tmp_path, crafted):
    rec = tmp_path / "rec"
    recovery_file(rec, 999999991, fill=7, recovered_from=crafted)
    w = make_window(recovery_dir=rec)
    assert w.files.check_recovery() and (w.doc.labels == 7).all() and not prompts.errors
    assert "an unsaved sketch" in prompts.questions[-1]


def test_recovery_file_zero_is_offered(make_window, prompts, tmp_path):
    """Process 0 is no session: its file used to be taken for a live one's and never offered."""
    rec = tmp_path / "rec"
    recovery_file(rec, 0, fill=9)
    w = make_window(recovery_dir=rec)
    assert w.files.check_recovery() and (w.doc.labels == 9).all()
    assert not (rec / "recovery-0.gauguin").exists()


def test_half_written_autosaves_of_ended_sessions_are_removed_at_start(make_window, prompts, tmp_path):
    """A session killed during an autosave leaves a staging file that nothing else would ever delete."""
    rec = tmp_path / "rec"
    rec.mkdir()
    dead = rec / ".staging-recovery-999999991.gauguin-k3j2.gauguin"
    live = rec / f".staging-recovery-{os.getpid()}.gauguin-x8q1.gauguin"  # a session still running
    other = rec / ".staging-notes.txt-a1b2"
    for p in (dead, live, other):
        p.write_bytes(b"half written")
    w = make_window(recovery_dir=rec)
    assert w.files.check_recovery() is False
    assert not dead.exists() and live.exists() and other.exists()


def test_a_recovery_file_that_fails_in_any_way_is_set_aside(make_window, prompts, monkeypatch, tmp_path):
    """Whatever reading it raises, the file goes to unreadable/ with one message: the next start is clean."""
    import gauguin_app.recovery as recovery

    def broken(path, label_set=None):
        raise RuntimeError("injected")
    rec = tmp_path / "rec"
    path = recovery_file(rec, 999999991)
    monkeypatch.setattr(recovery, "read_document", broken)
    w = make_window(recovery_dir=rec)
    assert w.files.check_recovery() is False
    assert len(prompts.errors) == 1 and "kept as" in prompts.errors[0] and "injected" in prompts.errors[0]
    assert not path.exists() and (rec / "unreadable" / path.name).exists()


def test_a_recovered_sketch_that_cannot_be_shown_is_set_aside(make_window, prompts, monkeypatch, tmp_path):
    rec = tmp_path / "rec"
    path = recovery_file(rec, 999999991, fill=7)
    w = make_window(recovery_dir=rec)
    before = w.doc
    fail_to_show(w, monkeypatch)
    assert w.files.check_recovery() is False
    assert w.doc is before and w.canvas.doc is before
    assert len(prompts.errors) == 1 and "memory" in prompts.errors[0] and "kept as" in prompts.errors[0]
    assert not path.exists() and (rec / "unreadable" / path.name).exists()


LAUNCH = """
import json, os, shutil, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gauguin_app import prompts
from gauguin_app.main import recovery_folder, run_app
from gauguin_app.main_window import MainWindow
spec = json.loads(sys.argv[1])
prompts.show_error = lambda parent, text, title="": print("ERROR", text, flush=True)
prompts.show_info = lambda parent, text, title="": print("INFO", text, flush=True)
prompts.ask_yes_no = lambda parent, text, title="": print("ASK", text, flush=True) or spec["yes"] in text
prompts.ask_save_changes = lambda parent, name, before="": "discard"
app = QApplication([])
app.setApplicationName("Gauguin")
app.setOrganizationName("Gauguin")
folder = recovery_folder()
folder.mkdir(parents=True, exist_ok=True)
for name, source in spec["recovery"].items():  # what a crashed session leaves
    shutil.copy(source, folder / name)
print("FOLDER", folder, flush=True)
if spec["memory_mib"]:  # as much address space as the app has now, and that much more
    import resource
    status = open("/proc/self/status").read().split("VmSize:")[1]
    size = int(status.split()[0]) * 1024 + spec["memory_mib"] * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
exec(spec["fault"])  # a fault injected into the app, when a test asks for one
ticks = 0

def report():
    global ticks
    ticks += 1
    w = next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)
    if w is None or (w.loader.busy and ticks < 600):
        return
    r = w.renderer
    print("STATE", json.dumps({"model": r.name if r else None, "device": str(r.device) if r else None,
                               "label_set": w.doc.label_set.name, "top_id": int(w.doc.labels.max()),
                               "canvas_shows_doc": w.canvas.doc is w.doc, "path": str(w.doc.path),
                               "status": w.statusBar().currentMessage()}), flush=True)
    app.quit()

timer = QTimer()
timer.timeout.connect(report)
timer.start(200)
sys.exit(run_app(spec["argv"]))
"""


def launch(tmp_path: Path, argv: list[str], recovery: dict[str, Path] | None = None, yes: str = "Recover",
           env: dict[str, str] | None = None, memory_mib: int = 0,
           fault: str = "") -> tuple[subprocess.CompletedProcess, dict, Path]:
    """Start the app as `gauguin ARGV` would, in its own home (with `memory_mib` more address space than it
    has before the window, if given; after running the statement `fault`); quit once the model has loaded.
    Questions holding `yes` are answered yes, the others no. Returns the run, the window's state at the end
    and the home folder."""
    home = tmp_path / "home"
    full_env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
                "XDG_CONFIG_HOME": str(home / "config"), "QT_QPA_PLATFORM": "offscreen", **(env or {})}
    spec = {"argv": argv, "yes": yes, "recovery": {k: str(v) for k, v in (recovery or {}).items()},
            "memory_mib": memory_mib, "fault": fault}
    run = subprocess.run([sys.executable, "-c", LAUNCH, json.dumps(spec)], cwd=ROOT, env=full_env,
                         capture_output=True, text=True, timeout=240)
    state = next((json.loads(line[6:]) for line in run.stdout.splitlines() if line.startswith("STATE ")), {})
    return run, state, home


def errors_of(run: subprocess.CompletedProcess) -> list[str]:
    return [line[6:] for line in run.stdout.splitlines() if line.startswith("ERROR ")]


def test_a_300_class_document_on_the_command_line_opens_with_the_bundled_model(tmp_path):
    """It used to abort the app before its window showed (exit 134: a thread destroyed while running)."""
    doc = big_document(tmp_path / "big.gauguin")
    run, state, _ = launch(tmp_path, [str(doc)])  # "Convert the sketch?" is answered no
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "QThread" not in run.stderr
    assert not errors_of(run), run.stdout
    assert state["model"] is not None and state["canvas_shows_doc"]
    assert state["label_set"] == "custom300" and state["top_id"] == 299


def test_a_recovery_file_numbered_past_any_pid_with_300_classes_is_offered(tmp_path):
    """recovery-99999999999999999999 raised OverflowError before the event loop: every start aborted."""
    name = "recovery-99999999999999999999.gauguin"
    run, state, _ = launch(tmp_path, [], {name: big_document(tmp_path / "r.gauguin")})
    assert run.returncode == 0, run.stderr[-3000:]
    folder = Path(next(line for line in run.stdout.splitlines() if line.startswith("FOLDER"))[7:])
    assert any(line.startswith("ASK") and "Recover" in line for line in run.stdout.splitlines()), run.stdout
    assert state["label_set"] == "custom300" and state["top_id"] == 299 and state["canvas_shows_doc"]
    assert state["path"] == "None" and not (folder / name).exists()


def test_damaged_preferences_do_not_stop_the_start(tmp_path):
    """A window geometry that is not Qt's (hand-edited or damaged preferences) raised before the event loop."""
    conf = tmp_path / "home" / "config" / "Gauguin" / "Gauguin.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[window]\ngeometry=hello\nstate=42\n")
    run, state, _ = launch(tmp_path, [])
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and state["model"] is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="caps the address space with Linux's RLIMIT_AS")
def test_a_mask_too_large_for_memory_on_the_command_line_is_one_message(tmp_path):
    """An 11000-px mask whose decoding ran out of memory aborted the start (exit 134)."""
    mask = tmp_path / "huge.png"
    Image.fromarray(np.zeros((11000, 11000), np.uint8)).save(mask, compress_level=1)
    run, state, _ = launch(tmp_path, [str(mask)], env={"MALLOC_ARENA_MAX": "2"}, memory_mib=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "QThread" not in run.stderr
    errors = errors_of(run)
    assert len(errors) == 1 and "huge.png" in errors[0], run.stdout
    assert state["model"] is not None and state["canvas_shows_doc"] and state["top_id"] < 256


def test_a_window_that_cannot_be_built_is_one_line_and_no_abort(tmp_path):
    """Its worker threads are stopped before the app goes: a running QThread destroyed at exit aborts (134)."""
    fault = "MainWindow.set_renderer = lambda *a, **k: 1 / 0"
    run, state, _ = launch(tmp_path, [], fault=fault)
    assert run.returncode == 1 and state == {}, run.stderr[-3000:]
    lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert lines == ["error: Gauguin cannot open its window: ZeroDivisionError: division by zero"], run.stderr
    assert "Traceback" not in run.stderr and "QThread" not in run.stderr


def test_a_device_the_machine_lacks_falls_back_to_the_cpu_and_is_not_saved(tmp_path):
    """`--device cuda` without CUDA used to open with no model, no message, and save cuda for every later start."""
    run, state, home = launch(tmp_path, ["--device", "cuda"], env={"CUDA_VISIBLE_DEVICES": ""})
    assert run.returncode == 0, run.stderr[-3000:]
    assert state["model"] is not None and state["device"] == "cpu"
    assert "'cuda' is not available" in state["status"] and "using the CPU" in state["status"]
    notes = [line for line in run.stderr.splitlines() if "'cuda' is not available" in line]
    assert len(notes) == 1, run.stderr[-3000:]
    conf = home / "config" / "Gauguin" / "Gauguin.conf"
    assert conf.exists() and "device=cuda" not in conf.read_text()


def test_a_device_asked_for_is_saved_once_a_model_has_loaded_on_it(qtbot, tmp_path, prompts, tiny_model_path):
    from gauguin_app.main_window import MainWindow
    from gauguin_app.settings import AppSettings
    from PySide6.QtCore import QSettings

    settings = AppSettings.at(tmp_path / "settings.ini")
    settings.try_device("cpu")
    assert settings.device == "cpu" and QSettings(str(tmp_path / "settings.ini"),
                                                  QSettings.Format.IniFormat).value("device") is None
    w = MainWindow(settings, model_path=str(tiny_model_path), recovery=RecoveryStore(tmp_path / "rec"))
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: not w.loader.busy, timeout=15000)
    assert w.renderer is not None
    settings.sync()
    assert QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).value("device") == "cpu"
    w.loader.shutdown()
    w.controller.shutdown()
