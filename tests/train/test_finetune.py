"""--init_from (ours and official), the ADE20K layout, the VGG loss and the learning-rate schedule."""
from __future__ import annotations

import csv
import shutil

import pytest
import torch
from safetensors.torch import load_file

from spade.checkpoint import load_checkpoint
from train.cli import main
from train.distributed import DistInfo
from train.options import parse_config
from train.trainer import Trainer
from train.vgg import vgg19_features

from .conftest import tiny_args


def _generator(folder) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(folder / "model.safetensors")).items() if k.startswith("generator.")}


@pytest.fixture(scope="module")
def trained(pairs, tmp_path_factory):
    run = tmp_path_factory.mktemp("base") / "run"
    assert main(tiny_args(*pairs, run, "--max_iters", "2")) == 0
    return run / "latest"


def _close_to(a: dict, b: dict, tol: float) -> bool:
    """Trainable tensors within tol (batch-norm statistics and spectral-norm vectors move more)."""
    trained = [k for k in a if k.endswith(("weight", "weight_orig", "bias"))]
    return bool(trained) and all((a[k] - b[k]).abs().max() <= tol for k in trained)


def test_init_from_our_checkpoint(pairs, trained, tmp_path):
    assert main(tiny_args(*pairs, tmp_path / "ft", "--max_iters", "1", "--init_from", str(trained))) == 0
    before, after = _generator(trained), _generator(tmp_path / "ft" / "latest")
    # one Adam step moves each weight by about lr (1e-4) at most; a fresh initialisation is far away
    assert _close_to(before, after, 5e-4)
    assert load_checkpoint(tmp_path / "ft" / "latest").training["init_from"] == str(trained)


def _discriminator(folder) -> dict[str, torch.Tensor]:
    state = load_file(str(folder / "training_state.safetensors"))
    return {k: v for k, v in state.items() if k.startswith("discriminator.") and k.endswith("weight_orig")}


def test_discriminator_warmup_keeps_the_generator(pairs, trained, tmp_path):
    """During --discriminator_warmup only the discriminator learns; the generator's weights stay exactly as given."""
    assert main(tiny_args(*pairs, tmp_path / "warm", "--max_iters", "2", "--discriminator_warmup", "2",
                          "--init_from", str(trained))) == 0
    before, after = _generator(trained), _generator(tmp_path / "warm" / "latest")
    weights = [k for k in before if k.endswith(("weight_orig", "bias")) and "norm" not in k.split(".")[-2]]
    assert weights and all(torch.equal(before[k], after[k]) for k in weights)
    d_after = _discriminator(tmp_path / "warm" / "latest")
    assert d_after and any(not torch.equal(d_after[k], v) for k, v in _discriminator(trained).items())
    # past the warm-up the generator learns again
    assert main(tiny_args(*pairs, tmp_path / "warm", "--max_iters", "3", "--discriminator_warmup", "2",
                          "--init_from", str(trained))) == 0
    moved = _generator(tmp_path / "warm" / "latest")
    assert any(not torch.equal(before[k], moved[k]) for k in weights)


def test_init_from_an_installed_model_keeps_its_discriminator(pairs, trained, tmp_path):
    """A model folder with discriminator.safetensors (as scripts/install_bundled_model.py writes) fine-tunes with
    that discriminator; without it a new one is drawn."""
    from train.state import export_discriminator
    installed, bare = tmp_path / "installed", tmp_path / "bare"
    for folder in (installed, bare):
        folder.mkdir()
        for name in ("config.json", "model.safetensors"):
            shutil.copy2(trained / name, folder / name)
    export_discriminator(trained, installed / "discriminator.safetensors")
    for folder in (installed, bare):
        assert main(tiny_args(*pairs, tmp_path / f"ft_{folder.name}", "--max_iters", "1", "--init_from",
                              str(folder))) == 0
    given = _discriminator(trained)
    assert _close_to(given, _discriminator(tmp_path / "ft_installed" / "latest"), 5e-4)
    assert not _close_to(given, _discriminator(tmp_path / "ft_bare" / "latest"), 5e-4)


def test_init_from_official_layout(pairs, trained, tmp_path):
    official = tmp_path / "official"
    official.mkdir()
    g = {k[len("generator."):]: v for k, v in _generator(trained).items()}
    torch.save(g, official / "latest_net_G.pth")
    d = {k[len("discriminator."):]: v for k, v in load_file(str(trained / "training_state.safetensors")).items()
         if k.startswith("discriminator.")}
    torch.save(d, official / "latest_net_D.pth")
    assert main(tiny_args(*pairs, tmp_path / "ft", "--max_iters", "1", "--init_from", str(official))) == 0
    assert _close_to({f"generator.{k}": v for k, v in g.items()}, _generator(tmp_path / "ft" / "latest"), 5e-4)


def test_ade20k_layout(pairs, tmp_path):
    images, labels = pairs
    root = tmp_path / "ADEChallengeData2016"
    shutil.copytree(images, root / "images" / "training")
    shutil.copytree(labels, root / "annotations" / "training")
    args = tiny_args(images, labels, tmp_path / "run", "--max_iters", "1", "--dataset", "ade20k",
                     "--image_dir", str(tmp_path))
    assert main([a for a in args if a not in ("--label_dir", str(labels))]) == 0


def test_vgg_loss_is_logged(pairs, tmp_path):
    state = {f"features.{k}": v for k, v in vgg19_features().state_dict().items()}
    torch.save(state, tmp_path / "vgg.pth")
    args = [a for a in tiny_args(*pairs, tmp_path / "run", "--max_iters", "1", "--vgg_weights",
                                 str(tmp_path / "vgg.pth")) if a != "--no_vgg_loss"]
    assert main(args) == 0
    with open(tmp_path / "run" / "logs" / "losses.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert float(row["G_VGG"]) > 0


def test_ttur_and_linear_decay(pairs, tmp_path):
    cfg = parse_config(tiny_args(*pairs, tmp_path / "run", "--total_epochs", "4", "--decay_epoch", "2"))
    t = Trainer(cfg, DistInfo(), torch.device("cpu"))
    assert t.total_iters == 4 * t.bpe == 12
    assert [t.lr_factor(i) for i in (0, 5, 6, 9, 12)] == [1.0, 1.0, 1.0, 0.5, 0.0]
    assert (t.lr_G, t.lr_D) == (1e-4, 4e-4) and t.opt_G.param_groups[0]["betas"] == (0.0, 0.9)
    cfg = parse_config(tiny_args(*pairs, tmp_path / "run2", "--no_TTUR", "--beta1", "0.5", "--beta2", "0.999"))
    t = Trainer(cfg, DistInfo(), torch.device("cpu"))
    assert (t.lr_G, t.lr_D) == (2e-4, 2e-4) and t.opt_D.param_groups[0]["betas"] == (0.5, 0.999)


def test_a_vae_model_grows_to_twice_its_size(pairs, tmp_path):
    """A VAE model renders one size; fine-tuning at twice that size adds one upsampling step and keeps every
    trained tensor, so the grown model starts from the small one's weights."""
    small = tmp_path / "small"
    assert main(tiny_args(*pairs, small, "--max_iters", "1", "--use_vae")) == 0
    big = tmp_path / "big"
    assert main(tiny_args(*pairs, big, "--max_iters", "1", "--use_vae", "--init_from", str(small / "latest"),
                          "--img_height", "64", "--img_width", "64", "--crop_size", "64")) == 0
    grown = load_checkpoint(big / "latest")
    assert grown.generator_config.num_upsampling_layers == "more"
    assert grown.generator_config.output_size() == (64, 64)
    assert _close_to(_generator(small / "latest"), _generator(big / "latest"), 5e-4)


def test_a_vae_model_cannot_change_to_other_sizes(pairs, tmp_path, capsys):
    small = tmp_path / "small"
    assert main(tiny_args(*pairs, small, "--max_iters", "1", "--use_vae")) == 0
    capsys.readouterr()
    code = main(tiny_args(*pairs, tmp_path / "odd", "--max_iters", "1", "--use_vae", "--init_from",
                          str(small / "latest"), "--img_height", "96", "--img_width", "96", "--crop_size", "96"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "renders exactly 32px" in err[0] and "--crop_size 64 to grow it" in err[0]
