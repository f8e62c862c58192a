"""Anchored fine-tuning (python -m train.anchor): what it writes, that it only learns where the data changed, and
its errors."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from spade import load_model
from train.anchor import main


def _generator(folder) -> dict[str, torch.Tensor]:
    return {k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items() if k.startswith("generator.")}


def _as_written(source, tmp_path) -> dict[str, torch.Tensor]:
    """The source model's generator as this fine-tune writes one (spectral norm folded, float16)."""
    from spade.checkpoint import save_checkpoint
    r = load_model(source, "cpu")
    save_checkpoint(tmp_path / "as_written", r.generator, r.encoder, dtype=torch.float16)
    return _generator(tmp_path / "as_written")


def run(source, out, *extra: str) -> int:
    return main(["--model", str(source), "--out", str(out), "--setting", "overcast", "--iters", "2",
                 "--batch_size", "1", "--device", "cpu", "--print_freq", "1", *extra])


def test_writes_a_model_with_its_whole_record(vae_model, tmp_path, capsys):
    assert run(vae_model, tmp_path / "out", "--share", "1", "--lr", "0.001", "--anchor_weight", "3") == 0
    assert "2/2 L1" in capsys.readouterr().out
    model = load_model(tmp_path / "out", "cpu")
    assert model.has_encoder and model.default_size == load_model(vae_model, "cpu").default_size
    record = model.bundle.training
    assert record["method"] == "anchored fine-tune" and record["iterations"] == 2 and record["classes"] == ["sky"]
    assert record["anchor_weight"] == 3.0 and record["share"] == 1.0
    assert record["command_line"].startswith("gauguin anchor --model ") and "--setting overcast" in record["command_line"]
    assert record["earlier_stages"] == [{"note": "random test weights"}]
    before, after = _as_written(vae_model, tmp_path), _generator(tmp_path / "out")
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_nothing_is_learned_where_nothing_changed(vae_model, tmp_path):
    """No procedural scene has a car, so the target is the model's own output everywhere and the weights stay."""
    assert run(vae_model, tmp_path / "out", "--classes", "car", "--share", "1", "--lr", "0.001") == 0
    before, after = _as_written(vae_model, tmp_path), _generator(tmp_path / "out")
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("extra, expected", [
    (["--classes", "skyy"], "--classes skyy: not classes of the model (skyy)"),
    (["--classes", ","], "none given"),
])
def test_bad_classes_exit_2(vae_model, tmp_path, capsys, extra, expected):
    assert run(vae_model, tmp_path / "out", *extra) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and not (tmp_path / "out").exists()


def test_a_model_without_style_encoder_is_refused(tiny_model, tmp_path, capsys):
    assert run(tiny_model, tmp_path / "out") == 2
    assert "needs a VAE model" in capsys.readouterr().err


def test_a_missing_model_is_named(tmp_path, capsys):
    assert run(tmp_path / "nowhere", tmp_path / "out") == 2
    assert "error: " in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--iters", "0"], ["--share", "0"], ["--lr", "-1"], ["--anchor_weight", "0"],
                                   ["--streak_length", "0"], ["--setting", "rain"], ["--target", "blur"]])
def test_bad_numbers_and_settings_exit_2(vae_model, tmp_path, extra):
    with pytest.raises(SystemExit) as stop:
        run(vae_model, tmp_path / "out", *extra)
    assert stop.value.code == 2


def test_ctrl_c_writes_nothing_and_says_so(vae_model, tmp_path, capsys, monkeypatch):
    import train.anchor

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(train.anchor, "anchored_batch", interrupted)
    assert run(vae_model, tmp_path / "out") == 130
    err = capsys.readouterr().err
    assert "interrupted: nothing written to" in err and "Traceback" not in err and not (tmp_path / "out").exists()


def test_destreaking_takes_out_vertical_lines_and_keeps_the_rest():
    """Lines running down a region go; pixel-to-pixel texture, and everything outside the region, stay."""
    import numpy as np

    from train.anchor import remove_vertical_streaks
    from train.quality import detail_rms, streak_coherence
    rng = np.random.default_rng(0)
    lines, grain = np.tile(rng.normal(0, 20, (1, 128)), (128, 1)), rng.normal(0, 20, (128, 128))
    region = np.zeros((128, 128), bool)
    region[20:110, 10:120] = True

    def destreak(grey):
        image = torch.tensor(np.stack([grey] * 3)[None], dtype=torch.float32)
        return remove_vertical_streaks(image, [torch.from_numpy(region)])[0].permute(1, 2, 0).numpy()
    streaked = 128 + lines + grain
    out = destreak(streaked)
    assert streak_coherence(np.stack([streaked] * 3, -1), region) > 0.4 and abs(streak_coherence(out, region)) < 0.05
    assert np.abs(out[~region] - streaked[~region, None]).max() < 1e-3
    textured = destreak(128 + grain)
    assert detail_rms(textured, region) > 0.95 * detail_rms(128 + grain, region)


def test_a_destreaked_fine_tune_over_all_settings_records_its_target(vae_model, tmp_path):
    assert run(vae_model, tmp_path / "out", "--setting", "all", "--classes", "mountain,tree,grass",
               "--target", "destreaked", "--streak_length", "9", "--lr", "0.001") == 0
    record = load_model(tmp_path / "out", "cpu").bundle.training
    assert record["target"] == "destreaked" and record["streak_length"] == 9 and record["setting"] == "all"
    assert record["share"] is None
    before, after = _as_written(vae_model, tmp_path), _generator(tmp_path / "out")
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_share_with_all_settings_is_refused(vae_model, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--model", str(vae_model), "--out", str(tmp_path / "out"), "--setting", "all", "--share", "0.3"])
    assert stop.value.code == 2 and "with --setting all" in capsys.readouterr().err
