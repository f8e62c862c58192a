"""Bad folders and options: exit code 2 and one line on stderr, never a traceback."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from train.cli import main

from .conftest import PYTHON, ROOT, make_pairs, tiny_args


def run_main(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_subprocess_missing_image_dir_is_one_line():
    result = subprocess.run([PYTHON, "-m", "train", "--no_vgg_loss"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: --dataset folders needs --image_dir and --label_dir"]


def test_unknown_option_value_exits_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--norm_G", "group"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--norm_G" in err[0]


@pytest.mark.parametrize("extra, expected", [
    (["--crop_size", "64"], "--crop_size 64 is larger than the resized image 36x36"),
    (["--crop_size", "48", "--img_height", "48", "--img_width", "48"], "must be a multiple of 32"),
    (["--prob_dataset", "0"], "--prob_dataset must lie in (0, 1]"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--discriminator_warmup", "-5"], "--discriminator_warmup must be non-negative"),
    (["--init_from", "/nonexistent/model"], "--init_from /nonexistent/model: not found"),
    (["--label_set", "/nonexistent.csv"], "no such class table"),
    (["--batch_size", "7"], "fewer than one batch of 7"),
    (["--procedural_settings", "rain=1"], "--procedural_settings rain=1: unknown setting 'rain'"),
    (["--procedural_settings", "snow=lots"], "give NAME=WEIGHT pairs"),
], ids=["crop", "multiple", "prob", "lr", "warmup", "init", "labelset", "batch", "settings", "weight"])
def test_bad_options(pairs, tmp_path, capsys, extra, expected):
    images, labels = pairs
    assert expected in run_main(tiny_args(images, labels, tmp_path / "run", *extra), capsys)


def test_vgg_loss_without_weights_says_what_to_pass(pairs, tmp_path, capsys):
    images, labels = pairs
    args = [a for a in tiny_args(images, labels, tmp_path / "run") if a != "--no_vgg_loss"]
    line = run_main(args, capsys)
    assert "--vgg_weights" in line and "--no_vgg_loss" in line


def test_missing_folder(pairs, tmp_path, capsys):
    images, _ = pairs
    line = run_main(tiny_args(images, tmp_path / "nowhere", tmp_path / "run"), capsys)
    assert line == f"error: label folder not found: {tmp_path / 'nowhere'}"


def test_pairing_check_lists_mismatches(tmp_path, capsys):
    images, labels = make_pairs(tmp_path / "data", count=4)
    (labels / "scene_001.png").unlink()
    shutil.copy(labels / "scene_002.png", labels / "orphan.png")
    line = run_main(tiny_args(images, labels, tmp_path / "run"), capsys)
    assert "1 photos without a label map (scene_001)" in line and "1 label maps without a photo (orphan)" in line
    assert main(tiny_args(images, labels, tmp_path / "run", "--no_pairing_check", "--max_iters", "1")) == 0


@pytest.mark.parametrize("workers", [0, 1])
def test_label_outside_label_set_names_the_file(tmp_path, capsys, workers):
    images, labels = make_pairs(tmp_path / "data", count=4)
    bad = np.asarray(Image.open(labels / "scene_003.png")).copy()
    bad[0, 0] = 200
    Image.fromarray(bad).save(labels / "scene_003.png")
    line = run_main(tiny_args(images, labels, tmp_path / "run", "--batch_size", "4", "--max_iters", "1",
                              "--num_workers", str(workers)), capsys)
    assert "scene_003.png" in line and "200" in line and "0..150" in line


def test_size_mismatch_between_photo_and_label(tmp_path, capsys):
    images, labels = make_pairs(tmp_path / "data", count=2)
    Image.new("L", (20, 20), 3).save(labels / "scene_000.png")
    line = run_main(tiny_args(images, labels, tmp_path / "run"), capsys)
    assert "scene_000.jpg is 40x40 but its label map" in line


def test_resume_with_other_architecture_is_refused(pairs, tmp_path, capsys):
    images, labels = pairs
    assert main(tiny_args(images, labels, tmp_path / "run", "--max_iters", "1")) == 0
    capsys.readouterr()
    line = run_main(tiny_args(images, labels, tmp_path / "run", "--max_iters", "2",
                              "--num_discriminator_filters", "16"), capsys)
    assert "holds a run with --num_discriminator_filters 8 (now 16)" in line and "another --checkpoint_dir" in line


def test_help_explains_the_original_options(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for option in ("--image_dir", "--label_dir", "--semantic_label_path", "--img_height", "--img_width",
                   "--crop_size", "--batch_size", "--use_vae", "--lambda_kld", "--z_dim", "--lambda_features",
                   "--no_feature_loss", "--lambda_vgg", "--no_vgg_loss", "--num_discriminators",
                   "--num_discriminator_layers", "--num_discriminator_filters", "--num_generator_filters",
                   "--num_encoder_filters", "--num_upsampling_layers", "--lr", "--beta1", "--beta2", "--no_TTUR",
                   "--total_epochs", "--decay_epoch", "--prob_dataset", "--print_info_freq", "--log_dir",
                   "--save_img_freq", "--results_dir", "--save_model_freq", "--checkpoint_dir", "--pairing_check",
                   "--no_pairing_check", "--device", "--seed", "--num_workers", "--amp", "--vgg_weights",
                   "--init_from", "--label_set", "--dataset", "--dataset_size", "--max_iters", "--lambda_l1",
                   "--spade_hidden", "--norm_G", "--save_dtype"):
        assert f"{option} " in text or f"{option}\n" in text, option


def test_help_states_each_default_once_and_none_for_flags(capsys):
    """A value option states its real default once, a flag none."""
    from train.options import build_parser
    with pytest.raises(SystemExit):
        main(["--help"])
    lines: dict[str, str] = {}
    option = ""
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("  -"):
            option = line.split()[-1] if line.startswith("  -h") else line.split()[0]
            lines[option] = line
        elif line.startswith("      ") and option:
            lines[option] += " " + line.strip()
        else:
            option = ""
    for action in build_parser()._actions:
        option = action.option_strings[-1] if action.option_strings else ""
        if not option.startswith("--") or option == "--help":
            continue
        line = lines[option]
        assert line.lower().count("default") <= 1, line
        assert "(default: None)" not in line and "(default: )" not in line, line
        if action.nargs == 0 and action.const is not None:   # store_true / store_false: a flag
            assert "(default:" not in line, line
    assert "(default: 0.0002)" in lines["--lr"] and "(default: ade20k)" in lines["--label_set"]
    assert "(default: the checkpoint folder)" in lines["--name"]


def test_train_never_imports_qt():
    code = ("import sys, train.cli, train.trainer, train.data, train.state, train.progress; "
            "print(any(m.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'gauguin_app') for m in sys.modules))")
    result = subprocess.run([PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


@pytest.mark.parametrize("which", ["photo", "label map"])
def test_oversize_photo_or_label_is_one_line(which, tmp_path, capsys):
    from tests.app.test_faults import png_header
    images, labels = make_pairs(tmp_path / "data", count=2)
    target = images / "scene_001.jpg" if which == "photo" else labels / "scene_001.png"
    target.write_bytes(png_header(40000, 40000))  # claims 1.6 gigapixels
    line = run_main(tiny_args(images, labels, tmp_path / "run", "--max_iters", "1"), capsys)
    assert f"{which} {target}" in line and "too large" in line, line


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError(
    "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: you tried to allocate "
    "68719476736 bytes."), RuntimeError("Caught MemoryError in DataLoader worker process 0.\nOriginal Traceback "
                                        "(most recent call last):\nMemoryError")],
    ids=["MemoryError", "allocator", "loader worker"])
def test_running_out_of_memory_while_training_is_one_line(error, pairs, tmp_path, capsys, monkeypatch):
    def exhausted(*args, **kwargs):
        raise error
    monkeypatch.setattr("train.trainer.hinge_d_loss", exhausted)
    line = run_main(tiny_args(*pairs, tmp_path / "run", "--max_iters", "1"), capsys)
    assert line.startswith("error: out of memory") and "--batch_size" in line, line


@pytest.mark.parametrize("module, error", [
    ("spade.checkpoint", "safetensor"), ("train.state", "safetensor"), ("train.state", "disk full")])
def test_a_full_disk_while_saving_keeps_the_previous_checkpoint(module, error, pairs, tmp_path, capsys,
                                                                monkeypatch):
    import errno
    import importlib

    from safetensors import SafetensorError
    run = tmp_path / "run"
    assert main(tiny_args(*pairs, run, "--max_iters", "2")) == 0
    capsys.readouterr()
    before = {p.relative_to(run): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}

    def full_disk(*args, **kwargs):
        if error == "disk full":
            raise OSError(errno.ENOSPC, "No space left on device")
        raise SafetensorError("Error while serializing: IoError(Os { code: 28, kind: StorageFull, "
                              "message: \"No space left on device\" })")
    monkeypatch.setattr(importlib.import_module(module), "save_file", full_disk)
    assert main(tiny_args(*pairs, run, "--max_iters", "4")) == 2
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]  # after the progress lines
    assert "Traceback" not in err and line.startswith(f"error: cannot save checkpoint {run / 'latest'}:")
    assert "No space left on device" in line and "No space left on device" in line, line
    after = {p.relative_to(run): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}
    assert {k: v for k, v in after.items() if k.parts[0] == "latest"} == \
        {k: v for k, v in before.items() if k.parts[0] == "latest"}
    assert not [p for p in run.iterdir() if p.name.startswith(".staging")]
