"""The `gauguin` command: subcommands, their help and bad usage, and --model given a training run folder."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gauguin.cli import SUBCOMMANDS, main

ROOT = Path(__file__).resolve().parent.parent


def test_main_py_help_lists_the_subcommands():
    out = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    for name in ("app", *SUBCOMMANDS):
        assert f"\n  {name} " in out.stdout


@pytest.mark.parametrize("name", ["app", *SUBCOMMANDS])
def test_every_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        main([name, "--help"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: gauguin{'' if name == 'app' else ' ' + name}")


@pytest.mark.parametrize("argv", [["--device", "tpu"], ["render", "--mask"], ["train", "--max_iters", "many"],
                                  ["bench", "--size", "x"], ["quality", "--lag", "0"],
                                  ["anchor", "--setting", "monsoon"]],
                         ids=["app", "render", "train", "bench", "quality", "anchor"])
def test_bad_usage_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("gauguin") and "error:" in err


def test_model_given_a_run_folder_loads_its_latest(tiny_model, mask_png, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_model, run / "latest")
    (run / "logs").mkdir()
    assert main(["render", "--model", str(run), "--mask", str(mask_png), "--out", str(tmp_path / "a.png")]) == 0
    assert main(["render", "--model", str(run / "latest"), "--mask", str(mask_png),
                 "--out", str(tmp_path / "b.png")]) == 0
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in ("a.png", "b.png"))
    assert np.array_equal(a, b)


def test_folder_of_several_models_names_them(tiny_model, mask_png, tmp_path, capsys):
    many = tmp_path / "many"
    for name in ("iter_0000002", "iter_0000004"):
        shutil.copytree(tiny_model, many / name)
    code = main(["render", "--model", str(many), "--mask", str(mask_png), "--out", str(tmp_path / "a.png")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "iter_0000002, iter_0000004" in err and str(many / "iter_0000004") in err
    assert not (tmp_path / "a.png").exists()


def test_folder_without_a_model_says_so(tmp_path, mask_png, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["render", "--model", str(tmp_path / "empty"), "--mask", str(mask_png),
                 "--out", str(tmp_path / "a.png")])
    assert code == 2 and "no model here" in capsys.readouterr().err



@pytest.fixture
def no_window(monkeypatch):
    """The app's entry fails the test instead of opening a window."""
    import gauguin_app.main

    def opened(argv, prog="gauguin"):
        raise AssertionError(f"the app opened for {argv}")
    monkeypatch.setattr(gauguin_app.main, "run_app", opened)


def test_a_mistyped_subcommand_names_the_subcommands_and_opens_no_window(no_window, capsys):
    assert main(["rendr"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gauguin: error: unknown subcommand 'rendr' (choose from app, render, train")
    assert "did you mean 'render'?" in err and len(err.strip().splitlines()) == 1
    assert main(["rendr", "--mask", "x.png"]) == 2
    assert "unknown subcommand 'rendr'" in capsys.readouterr().err
    assert main(["paint"]) == 2
    err = capsys.readouterr().err
    assert "unknown subcommand 'paint'" in err and "did you mean" not in err


def test_a_missing_file_to_open_is_one_line_and_exit_2(no_window, tmp_path, capsys):
    assert main([str(tmp_path / "sketch.png")]) == 2
    assert capsys.readouterr().err.strip() == f"gauguin: error: file not found: {tmp_path / 'sketch.png'}"


def test_a_model_that_is_not_there_is_refused_before_the_window(tmp_path):
    """In a process of its own (offscreen): the old behaviour opened a window, which the timeout ends."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        run = subprocess.run([sys.executable, "-m", "gauguin", "--model", str(tmp_path / "nope")], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the app opened a window for a model that is not there")
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [f"error: model not found: {tmp_path / 'nope'}"]
