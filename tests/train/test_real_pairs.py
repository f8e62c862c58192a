"""Real photo/label pairs mixed into procedural training: the share, the crops, the fit-set guard, a tiny run."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from spade.checkpoint import load_checkpoint
from spade.labels import ade20k
from train.cli import main
from train.data import EpochSampler, build_dataset
from train.options import parse_config
from train.quality import interior

from .conftest import tiny_args

COLOURS = {3: (90, 160, 230), 10: (40, 150, 40), 5: (20, 80, 20)}  # sky, grass, tree


def make_real_pairs(folder, sets=("fit", "fit")):
    """Photos of flat class colours (96x60) as train.real_photos writes them, with photos.json, and their label
    maps at half the size, as the repository keeps labels smaller than some photos."""
    photos, labels = folder / "photos", folder / "labels"
    photos.mkdir(parents=True)
    labels.mkdir()
    info = {}
    for i, set_name in enumerate(sets):
        lab = np.full((30, 48), 3, np.uint8)
        lab[12 + 2 * i:] = 10
        lab[8:, 30 + 4 * i:] = 5
        big = lab.repeat(2, 0).repeat(2, 1)
        palette = np.zeros((256, 3), np.uint8)
        palette[list(COLOURS)] = list(COLOURS.values())
        Image.fromarray(palette[big]).save(photos / f"real_{i}.png")
        Image.fromarray(lab).save(labels / f"real_{i}.png")
        info[f"real_{i}"] = {"set": set_name, "setting": "day", "sky": True}
    (photos / "photos.json").write_text(json.dumps(info))
    return photos, labels


def procedural_args(run, photos, labels, *extra):
    args = tiny_args(photos, labels, run, "--dataset", "procedural", "--dataset_size", "40",
                     "--real_pairs", str(photos), "--real_labels", str(labels), *extra)
    i = args.index("--image_dir")
    return args[:i] + args[i + 4:]  # procedural data needs no --image_dir/--label_dir


@pytest.mark.parametrize("share, expected", [(0.25, 10), (0.5, 20), (0.0, 0), (1.0, 40)])
def test_share_of_real_pairs_follows_the_option(tmp_path, share, expected):
    photos, labels = make_real_pairs(tmp_path)
    cfg = parse_config(procedural_args(tmp_path / "run", photos, labels, "--real_share", str(share)))
    dataset = build_dataset(cfg, ade20k())
    sampler = EpochSampler(len(dataset), cfg.batch_size, cfg.prob_dataset, cfg.seed)
    sampler.set_epoch(3)
    items = [dataset[key] for key in sampler]
    real = [item for item in items if item["path"].startswith(str(photos))]
    assert len(items) == 40 and len(real) == expected
    if share == 0.5:
        assert {item["path"] for item in real} == {str(photos / "real_0.png"), str(photos / "real_1.png")}


def test_real_crops_keep_photo_and_labels_aligned(tmp_path):
    photos, labels = make_real_pairs(tmp_path)
    cfg = parse_config(procedural_args(tmp_path / "run", photos, labels, "--real_share", "1"))
    dataset = build_dataset(cfg, ade20k())
    flipped = 0
    for seed in range(8):
        item = dataset[(seed % 40, seed)]
        image, label = item["image"], item["label"]
        assert image.shape == (3, 32, 32) and label.shape == (32, 32)
        assert set(np.unique(label.numpy())) <= set(COLOURS)
        rgb = ((image.permute(1, 2, 0).numpy() + 1) * 127.5)
        for cls, colour in COLOURS.items():
            inside = interior(label.numpy() == cls, 2)  # away from borders, which resampling blends
            if inside.sum() > 10:  # the median pixel of each class has that class's colour
                assert np.abs(np.median(rgb[inside], 0) - colour).max() < 6, (seed, cls)
        flipped += int((label.numpy()[-1] == 5).argmax() < 16)  # the tree sits left only when flipped
    assert 0 < flipped < 8


def test_tiny_mixed_run_writes_a_checkpoint(tmp_path):
    photos, labels = make_real_pairs(tmp_path)
    run = tmp_path / "run"
    assert main(procedural_args(run, photos, labels, "--real_share", "0.5", "--max_iters", "2",
                                "--use_vae")) == 0
    bundle = load_checkpoint(run / "latest")
    assert bundle.has_encoder and bundle.training["iterations"] == 2
    assert "--real_pairs" in bundle.training["command_line"]


def one_error_line(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def test_tune_and_report_photos_are_never_trained_on(tmp_path, capsys):
    photos, labels = make_real_pairs(tmp_path, sets=("fit", "report"))
    line = one_error_line(procedural_args(tmp_path / "run", photos, labels, "--max_iters", "1"), capsys)
    assert "real_1 is not of the fit set (report)" in line and "never trained on" in line
    assert not (tmp_path / "run" / "latest").exists()


def test_a_folder_without_its_set_description_is_refused(tmp_path, capsys):
    photos, labels = make_real_pairs(tmp_path)
    (photos / "photos.json").unlink()
    line = one_error_line(procedural_args(tmp_path / "run", photos, labels, "--max_iters", "1"), capsys)
    assert "no photos.json" in line and "python -m train.real_photos fit" in line


@pytest.mark.parametrize("extra, expected", [
    (["--real_share", "1.5"], "--real_share must lie in [0, 1]"),
    (["--real_labels", "nowhere"], "--real_labels nowhere: no such folder"),
])
def test_bad_mixing_options_are_one_line(tmp_path, capsys, extra, expected):
    photos, labels = make_real_pairs(tmp_path)
    args = procedural_args(tmp_path / "run", photos, labels, *extra)  # a second --real_labels overrides
    assert expected in one_error_line(args, capsys)


def test_real_pairs_need_procedural_data(tmp_path, capsys, pairs):
    photos, labels = make_real_pairs(tmp_path)
    images, pair_labels = pairs
    line = one_error_line(tiny_args(images, pair_labels, tmp_path / "run", "--real_pairs", str(photos)), capsys)
    assert "--real_pairs mixes real photographs into --dataset procedural" in line
