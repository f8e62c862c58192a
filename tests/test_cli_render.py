"""`python main.py render`: what a user sees (exit codes, messages, files)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import spade.model_path
from spade.cli import render_command
from spade.labels import write_index_png
from tests.conftest import landscape, make_encoder, make_generator, official_state

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = render_command([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_render_with_our_model_is_deterministic(tiny_model, mask_png, tmp_path, capsys):
    code, out, err = run(["--model", tiny_model, "--mask", mask_png, "--out", tmp_path / "a.png"], capsys)
    assert code == 0, err
    assert "wrote" in out
    code, _, _ = run(["--model", tiny_model, "--mask", mask_png, "--out", tmp_path / "b.png"], capsys)
    a, b = read(tmp_path / "a.png"), read(tmp_path / "b.png")
    assert a.shape == (64, 64, 3) and np.array_equal(a, b) and a.std() > 1


def test_vae_model_draws_its_style_from_the_seed(tiny_vae_model, mask_png, tmp_path, capsys):
    for name, seed in (("s0.png", 0), ("s0b.png", 0), ("s1.png", 1)):
        code, _, err = run(["--model", tiny_vae_model, "--mask", mask_png, "--out", tmp_path / name,
                            "--seed", seed], capsys)
        assert code == 0, err
    assert np.array_equal(read(tmp_path / "s0.png"), read(tmp_path / "s0b.png"))
    assert not np.array_equal(read(tmp_path / "s0.png"), read(tmp_path / "s1.png"))


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "CMYK", "I;16", "LA"])
def test_style_images_of_any_mode_and_size(tiny_vae_model, mask_png, tmp_path, capsys, mode):
    rng = np.random.default_rng(1)
    photo = Image.fromarray(rng.integers(0, 256, (37, 91, 3), dtype=np.uint8))
    if mode == "I;16":
        style = Image.fromarray((np.asarray(photo.convert("L"), dtype=np.uint16) * 257))
        style_path = tmp_path / "style16.png"
    else:
        style = photo.convert(mode)
        style_path = tmp_path / ("style.tif" if mode == "CMYK" else "style.png")
    style.save(style_path)
    code, _, err = run(["--model", tiny_vae_model, "--mask", mask_png, "--style", style_path,
                        "--out", tmp_path / "o.jpg"], capsys)
    assert code == 0, err
    assert Image.open(tmp_path / "o.jpg").format == "JPEG"


def test_style_changes_the_picture(tiny_vae_model, mask_png, tmp_path, capsys):
    Image.new("RGB", (64, 64), (250, 120, 20)).save(tmp_path / "orange.png")
    Image.new("RGB", (64, 64), (20, 60, 250)).save(tmp_path / "blue.png")
    for name in ("orange", "blue"):
        assert run(["--model", tiny_vae_model, "--mask", mask_png, "--style", tmp_path / f"{name}.png",
                    "--out", tmp_path / f"out_{name}.png"], capsys)[0] == 0
    assert not np.array_equal(read(tmp_path / "out_orange.png"), read(tmp_path / "out_blue.png"))


def test_official_checkpoint_file_and_folder(tmp_path, mask_png, capsys):
    torch.save(official_state(make_generator(seed=4)), tmp_path / "latest_net_G.pth")
    assert run(["--model", tmp_path / "latest_net_G.pth", "--mask", mask_png, "--out", tmp_path / "f.png"],
               capsys)[0] == 0
    assert run(["--model", tmp_path, "--mask", mask_png, "--out", tmp_path / "d.png"], capsys)[0] == 0
    assert np.array_equal(read(tmp_path / "f.png"), read(tmp_path / "d.png"))


def test_official_vae_folder_with_encoder_takes_a_style(tmp_path, mask_png, capsys):
    model = tmp_path / "vae"
    model.mkdir()
    torch.save(official_state(make_generator(use_vae=True), "legacy"), model / "latest_net_G.pth")
    torch.save(official_state(make_encoder(), "legacy"), model / "latest_net_E.pth")
    Image.new("RGB", (300, 200), (10, 200, 30)).save(tmp_path / "green.jpg")
    code, _, err = run(["--model", model, "--mask", mask_png, "--style", tmp_path / "green.jpg",
                        "--out", tmp_path / "o.png"], capsys)
    assert code == 0, err


def _bad_inputs(tmp_path: Path, tiny_model: Path, mask_png: Path) -> dict[str, tuple[list, str]]:
    ids = landscape()
    ids[:2, :] = 180
    ids[10, 10] = 255
    Image.fromarray(ids).save(tmp_path / "bad_ids.png")
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[:] = (6, 230, 230)
    rgb[:5] = (1, 2, 3)
    Image.fromarray(rgb).save(tmp_path / "bad_colours.png")
    (tmp_path / "junk.png").write_bytes(b"\x89PNG not really")
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "config.json").write_text((tiny_model / "config.json").read_text())
    (truncated / "model.safetensors").write_bytes((tiny_model / "model.safetensors").read_bytes()[:5000])
    torch.save(official_state(make_generator()), tmp_path / "full.pth")
    (tmp_path / "cut.pth").write_bytes((tmp_path / "full.pth").read_bytes()[:3000])
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7), "fc.bias": torch.zeros(10)}, tmp_path / "resnet.pth")
    (tmp_path / "notes.pth").write_text("hello")
    from tests.test_official import Evil
    torch.save({"fc.weight": torch.zeros(2), "x": Evil()}, tmp_path / "evil.pth")
    write_index_png(tmp_path / "odd_size.png", landscape(50, 70))
    Image.new("RGB", (8, 8)).save(tmp_path / "style.png")
    m = ["--mask", mask_png]
    return {
        "missing mask": (["--model", tiny_model, "--mask", tmp_path / "nope.png"], "mask not found"),
        "unreadable mask": (["--model", tiny_model, "--mask", tmp_path / "junk.png"], "cannot read mask"),
        "ids outside": (["--model", tiny_model, "--mask", tmp_path / "bad_ids.png"], "180 (128 px)"),
        "colours outside": (["--model", tiny_model, "--mask", tmp_path / "bad_colours.png"], "#010203 (320 px)"),
        "missing model": (["--model", tmp_path / "no_model"] + m, "model not found"),
        "truncated ours": (["--model", truncated] + m, "truncated"),
        "truncated official": (["--model", tmp_path / "cut.pth"] + m, "truncated"),
        "foreign checkpoint": (["--model", tmp_path / "resnet.pth"] + m, "not a SPADE generator"),
        "text file": (["--model", tmp_path / "notes.pth"] + m, "not a PyTorch checkpoint"),
        "needs unpickling": (["--model", tmp_path / "evil.pth"] + m, "not plain tensors"),
        "style without encoder": (["--model", tiny_model, "--style", tmp_path / "style.png"] + m, "no style encoder"),
        "unreadable style": (["--model", tiny_model, "--style", tmp_path / "junk.png"] + m, "style"),
        "size": (["--model", tiny_model, "--mask", tmp_path / "odd_size.png"], "multiples of 32"),
    }


CASES = ["missing mask", "unreadable mask", "ids outside", "colours outside", "missing model", "truncated ours",
         "truncated official", "foreign checkpoint", "text file", "needs unpickling", "style without encoder",
         "unreadable style", "size"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_clear_line_and_no_file(case, tmp_path, tiny_model, mask_png, capsys):
    argv, expected = _bad_inputs(tmp_path, tiny_model, mask_png)[case]
    out_path = tmp_path / "out.png"
    code, _, err = run(argv + ["--out", out_path], capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err
    assert "Traceback" not in err
    assert not out_path.exists()
    assert not list(tmp_path.glob(".out-*"))


def test_style_for_official_vae_without_encoder_file(tmp_path, mask_png, capsys):
    torch.save(official_state(make_generator(use_vae=True)), tmp_path / "latest_net_G.pth")
    Image.new("RGB", (8, 8)).save(tmp_path / "s.png")
    code, _, err = run(["--model", tmp_path, "--mask", mask_png, "--style", tmp_path / "s.png",
                        "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and "no style encoder" in err


def test_without_a_bundled_model_says_so_in_one_line(tmp_path, mask_png, capsys, monkeypatch):
    monkeypatch.setattr(spade.model_path, "DEFAULT_MODEL_DIR", tmp_path / "nothing")
    code, _, err = run(["--mask", mask_png, "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--model" in err


def test_failed_write_leaves_no_file(tiny_model, mask_png, tmp_path, capsys):
    code, _, err = run(["--model", tiny_model, "--mask", mask_png, "--out", tmp_path / "o.unknownext"], capsys)
    assert code == 2 and "extension" in err
    assert not list(tmp_path.glob("o*"))
    code, _, err = run(["--model", tiny_model, "--mask", mask_png, "--out", tmp_path / "no_dir" / "o.png"], capsys)
    assert code == 2 and "does not exist" in err


def test_main_py_render_in_a_subprocess(tiny_model, mask_png, tmp_path):
    ok = subprocess.run([sys.executable, "main.py", "render", "--model", tiny_model, "--mask", mask_png,
                         "--out", tmp_path / "o.png"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "o.png").is_file()
    bad = subprocess.run([sys.executable, "main.py", "render", "--model", tiny_model, "--mask",
                          tmp_path / "missing.png", "--out", tmp_path / "x.png"], cwd=ROOT, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    usage = subprocess.run([sys.executable, "main.py", "render", "--mask", mask_png], cwd=ROOT,
                           capture_output=True, text=True)
    assert usage.returncode == 2 and "--out" in usage.stderr


def test_fixed_size_model_takes_any_mask_size_with_a_note(tiny_vae_model, tmp_path, capsys):
    write_index_png(tmp_path / "big.png", landscape(96, 160))
    code, out, err = run(["--model", tiny_vae_model, "--mask", tmp_path / "big.png", "--out", tmp_path / "o.png"],
                         capsys)
    assert code == 0, err
    assert "renders exactly 64x64" in err and "160x96" in err
    assert Image.open(tmp_path / "o.png").size == (160, 96)


def test_renderable_size_rounds_to_the_models_rule(tiny_model, tiny_vae_model):
    from spade import load_model
    plain, vae = load_model(tiny_model, "cpu"), load_model(tiny_vae_model, "cpu")
    assert plain.renderable_size(96, 160) == (96, 160)
    assert plain.renderable_size(50, 70) == (64, 64)
    assert plain.renderable_size(10, 200) == (32, 192)
    assert vae.renderable_size(96, 160) == (64, 64)
