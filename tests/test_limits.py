"""Crafted inputs that would exhaust memory, render black or print tracebacks: one line, exit 2, no file."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from spade.cli import render_command
from spade.labels import write_index_png
from tests.app.test_faults import png_header
from tests.conftest import make_generator, official_state

ROOT = Path(__file__).resolve().parent.parent


def run(argv: list, capsys) -> tuple[int, str]:
    code = render_command([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, err


def edited_config(tiny_model: Path, tmp_path: Path, name: str, edit) -> Path:
    folder = tmp_path / name
    shutil.copytree(tiny_model, folder)
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def crafted(tmp_path: Path, tiny_model: Path, tiny_vae_model: Path) -> dict[str, tuple[list, str]]:
    cases = {}
    for key, value in (("ngf", 600), ("semantic_nc", 10**6 - 1), ("spade_hidden", 50000), ("z_dim", 90000)):
        folder = edited_config(tiny_vae_model if key == "z_dim" else tiny_model, tmp_path, key,
                               lambda c, k=key, v=value: c["generator"].update({k: v}))
        cases[f"huge {key}"] = (folder, "has shape")
    cases["ngf as text"] = (edited_config(tiny_model, tmp_path, "text", lambda c: c["generator"].update(ngf="64")),
                            "ngf must be int")
    cases["aspect ratio 0"] = (edited_config(tiny_model, tmp_path, "aspect",
                                             lambda c: c["generator"].update(aspect_ratio=0)), "aspect_ratio")
    deep = tmp_path / "deep"
    shutil.copytree(tiny_model, deep)
    (deep / "config.json").write_text('{"format": "gauguin-spade", "x": ' + nested(100000) + "}")
    cases["deeply nested config"] = (deep, "nested too deeply")
    g = official_state(make_generator())
    expanded = {k: torch.zeros(1).expand(v.numel()).view(v.shape) if v.dim() else v for k, v in g.items()}
    expanded["head_0.conv_0.weight_orig"] = torch.zeros(1).expand(2**33)
    torch.save(expanded, tmp_path / "stride0.pth")
    cases["stride-0 official tensors"] = (tmp_path / "stride0.pth", "stores only")
    nan = tmp_path / "nan"
    shutil.copytree(tiny_model, nan)
    from safetensors.torch import load_file, save_file
    tensors = load_file(str(nan / "model.safetensors"))
    key = next(k for k in tensors if k.endswith("conv_img.weight"))
    tensors[key] = torch.full_like(tensors[key], float("nan"))
    save_file(tensors, str(nan / "model.safetensors"))
    cases["NaN weights"] = (nan, "NaN")
    return cases


CASES = ["huge ngf", "huge semantic_nc", "huge spade_hidden", "huge z_dim", "ngf as text", "aspect ratio 0",
         "deeply nested config", "stride-0 official tensors", "NaN weights"]


@pytest.mark.parametrize("case", CASES)
def test_crafted_models_are_refused_in_one_line(case, crafted, mask_png, tmp_path, capsys):
    model, words = crafted[case]
    code, err = run(["--model", model, "--mask", mask_png, "--out", tmp_path / "out.png"], capsys)
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert words in err
    assert not (tmp_path / "out.png").exists()


def test_a_render_too_big_for_memory_is_refused_before_allocating(tiny_model, tmp_path, capsys, monkeypatch):
    import spade.limits
    monkeypatch.setattr(spade.limits, "available_bytes", lambda: 4 * 2**30)  # the same on any machine
    write_index_png(tmp_path / "huge.png", np.full((8192, 8192), 3, np.uint8))
    code, err = run(["--model", tiny_model, "--mask", tmp_path / "huge.png", "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and "GiB" in err and "smaller canvas" in err, err


@pytest.mark.parametrize("what", ["mask", "style"])
def test_images_over_the_pixel_limit_and_non_files_are_one_line(what, tiny_vae_model, mask_png, tmp_path, capsys):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(40000, 40000))  # claims 1.6 gigapixels
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    for path, words in ((bomb, "too large"), (tmp_path, "is a folder"), (fifo, "not a regular file")):
        args = ["--mask", path] if what == "mask" else ["--mask", mask_png, "--style", path]
        code, err = run(["--model", tiny_vae_model, *args, "--out", tmp_path / "o.png"], capsys)
        assert code == 2 and words in err and err.count("\n") == 1, err


def test_unreadable_mask_says_permission_denied(tiny_model, mask_png, tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    mask_png.chmod(0)
    code, err = run(["--model", tiny_model, "--mask", mask_png, "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and "permission denied" in err


@pytest.mark.parametrize("value", ["abc", "0", "-32"])
def test_opt_txt_with_a_bad_number_names_the_file(value, tmp_path, mask_png, capsys):
    folder = tmp_path / "official"
    folder.mkdir()
    torch.save(official_state(make_generator()), folder / "latest_net_G.pth")
    (folder / "opt.txt").write_text(f"crop_size: {value}\n")
    code, err = run(["--model", folder, "--mask", mask_png, "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and err.count("\n") == 1 and "opt.txt" in err and str(folder) in err and value in err, err


def _torch_loaded(pid: int) -> bool:
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc to see when the render starts")
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_render_exits_quietly_and_leaves_no_partial_file(sig, code, tiny_model, tmp_path):
    write_index_png(tmp_path / "big.png", np.full((2048, 2048), 3, np.uint8))
    out = tmp_path / "out" / "photo.png"
    out.parent.mkdir()
    for delay in (2, 4, 8):  # a signal that lands before Python has set its handler counts as a retry
        proc = subprocess.Popen([sys.executable, "main.py", "render", "--model", str(tiny_model), "--mask",
                                 str(tmp_path / "big.png"), "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 120
        while not _torch_loaded(proc.pid) and time.monotonic() < end and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(delay)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=120)
        if proc.returncode != -sig and "import" not in stderr:
            break
    if proc.returncode == 0:
        pytest.skip("the render finished before the signal")
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr and stderr.strip() == ""
    assert list(out.parent.iterdir()) == []


def test_running_out_of_memory_during_a_render_is_one_line(tiny_model, mask_png, tmp_path, capsys, monkeypatch):
    from spade.inference import SpadeRenderer

    def exhausted(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: "
                           "you tried to allocate 34359738368 bytes.")
    monkeypatch.setattr(SpadeRenderer, "render", exhausted)
    code, err = run(["--model", tiny_model, "--mask", mask_png, "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("error: out of memory while rendering (an allocation of 32.0 GiB failed)"), err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("size", ["0", "-64"])
def test_bench_refuses_a_size_that_is_not_positive(size, capsys):
    from spade.bench import main as bench
    with pytest.raises(SystemExit) as e:
        bench(["--size", size])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "--size must be positive" in err, err


def test_bench_refuses_half_precision_on_the_cpu(capsys):
    from spade.bench import main as bench

    assert bench(["--dtype", "float16", "--size", "32"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --dtype float16 needs a GPU (--device cuda or mps); the CPU paths run float32"


class Opaque:
    """A pickled object of a class weights_only loading does not allow."""


@pytest.mark.parametrize("content", ["object", "long text"])
def test_a_pickle_refusal_is_our_own_line_naming_the_file(content, tmp_path, mask_png, capsys):
    path = tmp_path / "latest_net_G.pth"
    state = official_state(make_generator())
    if content == "object":
        state["extra"] = Opaque()
    else:  # torch's message would be cut mid-sentence
        state["opt"] = {"note": "x" * 500, "args": __import__("argparse").Namespace(a=1)}
    torch.save(state, path)
    code, err = run(["--model", path, "--mask", mask_png, "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert f"{path}: refusing to load: it holds objects that are not plain tensors" in err, err
    assert "Weights only load failed" not in err and "xxxx" not in err


@pytest.mark.parametrize("target", ["official .pth", "mask", "config.json", "model.safetensors"])
def test_permission_denied_reads_say_so(target, tiny_model, mask_png, tmp_path, capsys, monkeypatch):
    import builtins
    import io

    import spade.checkpoint
    model = tiny_model
    if target == "official .pth":
        model = tmp_path / "latest_net_G.pth"
        torch.save(official_state(make_generator()), model)
    denied = {"official .pth": model, "mask": mask_png, "config.json": tiny_model / "config.json",
              "model.safetensors": tiny_model / "model.safetensors"}[target]
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # what a file without read permission does (tests run as root)
        if isinstance(file, (str, os.PathLike)) and Path(file) == Path(denied):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    real_load = spade.checkpoint.load_file
    monkeypatch.setattr(spade.checkpoint, "load_file",
                        lambda f, *a, **k: guarded_open(f) and None or real_load(f, *a, **k))
    code, err = run(["--model", model, "--mask", mask_png, "--out", tmp_path / "o.png"], capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "permission denied" in err and str(denied) in err, err
    assert "truncated" not in err and "not found" not in err and "No such file" not in err, err


def test_bench_with_a_decompression_bomb_mask_is_one_line(tmp_path, capsys):
    from spade.bench import main as bench
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(40000, 40000))
    assert bench(["--mask", str(bomb), "--size", "64"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "too large" in err and err.count("\n") == 1, err


def test_a_zero_spectral_norm_vector_is_an_error_not_a_black_photo(tmp_path, mask_png, capsys):
    state = official_state(make_generator())
    for key in [k for k in state if k.endswith("weight_u")]:
        state[key] = torch.zeros_like(state[key])
    torch.save(state, tmp_path / "latest_net_G.pth")
    code, err = run(["--model", tmp_path / "latest_net_G.pth", "--mask", mask_png, "--out", tmp_path / "o.png"],
                    capsys)
    assert code == 2 and err.count("\n") == 1 and "NaN or infinite" in err, err
    assert not (tmp_path / "o.png").exists()
