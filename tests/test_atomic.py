"""Atomic replacement of files and folders: no partial result, and leftovers of a crash are cleared next time."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spade.atomic import atomic_write, write_folder
from spade.checkpoint import load_checkpoint, save_checkpoint
from train.state import find_resume_point

from .conftest import make_generator


def test_save_checkpoint_after_a_crash_between_its_two_renames(tmp_path: Path) -> None:
    """A crash after the old folder was moved aside leaves `.NAME-old`; the next save must still work."""
    path = tmp_path / "model"
    save_checkpoint(path, make_generator(seed=1))
    (tmp_path / ".model-old").mkdir()
    (tmp_path / ".model-old" / "config.json").write_text("{}")
    save_checkpoint(path, make_generator(seed=2))
    assert load_checkpoint(path).generator_config.ngf == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_folder_moved_aside_is_put_back_when_the_target_is_missing(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "latest", make_generator())
    (tmp_path / "latest" / "training_state.json").write_text("{}")
    os.replace(tmp_path / "latest", tmp_path / ".latest-old")  # the crash: between the two renames
    assert find_resume_point(tmp_path) == tmp_path / "latest"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest"]


def test_a_failed_file_write_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def fail(tmp: str) -> None:
        Path(tmp).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, fail)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from spade.atomic import atomic_write, write_folder
    target, kind = Path(sys.argv[1]), sys.argv[2]
    def fill(path):
        (Path(path) / "part" if kind == "folder" else Path(path)).write_bytes(b"x" * 1000)
        print("writing", flush=True)
        time.sleep(60)
    (write_folder if kind == "folder" else atomic_write)(target, fill)
""")


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_leftovers_of_killed_writers_are_removed_by_the_next_write(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "latest"
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), kind], stdout=subprocess.PIPE,
                                cwd=Path(__file__).resolve().parent.parent, text=True)
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    leftovers = [p.name for p in tmp_path.iterdir()]  # each writer cleared its predecessor's: they never pile up
    assert len(leftovers) == 1 and leftovers[0].startswith(".staging-latest-")
    if kind == "folder":
        write_folder(target, lambda p: (p / "done").write_text("ok"))
        assert (target / "done").read_text() == "ok"
    else:
        atomic_write(target, lambda tmp: Path(tmp).write_text("ok"))
        assert target.read_text() == "ok"
    assert [p.name for p in tmp_path.iterdir()] == ["latest"]
