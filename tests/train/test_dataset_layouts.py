"""Training on the COCO-Stuff and Cityscapes folder layouts, with and without instance maps."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spade import SpadeRenderer
from spade.checkpoint import load_checkpoint
from train.cli import main
from train.data import build_dataset
from train.options import parse_config

from .conftest import tiny_args

COCO_VALUES = (156, 123, 168, 154)  # sky-other, grass, tree, sea as stored in COCO-Stuff label PNGs
CITYSCAPES_IDS = (23, 21, 7, 26)    # sky, vegetation, road, car


def scene(rng, values, size: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo, label values, instance ids): two touching blobs of the last value are two instances."""
    lab = np.full((size, size), values[0], np.uint8)
    lab[size // 2:] = values[1]
    lab[size // 3:size // 2, : size // 2] = values[2]
    inst = lab.astype(np.uint16) * 10
    lab[size // 2 + 4: size // 2 + 12, 4:30] = values[3]
    inst[size // 2 + 4: size // 2 + 12, 4:17] = 1001
    inst[size // 2 + 4: size // 2 + 12, 17:30] = 1002
    colours = {v: rng.integers(0, 256, 3) for v in values}
    photo = np.stack([colours[int(v)] for v in lab.ravel()]).reshape(size, size, 3).astype(np.uint8)
    return photo, lab, inst


def make_coco(root: Path, with_instances: bool, count: int = 4) -> Path:
    rng = np.random.default_rng(0)
    for sub in ("train_img", "train_label") + (("train_inst",) if with_instances else ()):
        (root / sub).mkdir(parents=True)
    for i in range(count):
        photo, lab, inst = scene(rng, COCO_VALUES)
        Image.fromarray(photo).save(root / "train_img" / f"{i:012d}.jpg", quality=95)
        Image.fromarray(lab).save(root / "train_label" / f"{i:012d}.png")
        if with_instances:
            Image.fromarray(inst).save(root / "train_inst" / f"{i:012d}.png")
    return root


def make_cityscapes(root: Path, count: int = 4) -> Path:
    rng = np.random.default_rng(1)
    images, labels = root / "leftImg8bit" / "train" / "aachen", root / "gtFine" / "train" / "aachen"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    for i in range(count):
        photo, lab, inst = scene(rng, CITYSCAPES_IDS)
        frame = f"aachen_{i:06d}_000019"
        Image.fromarray(photo).save(images / f"{frame}_leftImg8bit.png")
        Image.fromarray(lab).save(labels / f"{frame}_gtFine_labelIds.png")
        Image.fromarray(inst).save(labels / f"{frame}_gtFine_instanceIds.png")
    return root


def layout_args(dataset: str, root: Path, run: Path, *extra: str) -> list[str]:
    args = tiny_args(root, root, run, "--dataset", dataset, "--max_iters", "2", *extra)
    i = args.index("--label_dir")
    return args[:i] + args[i + 2:]


def test_coco_dataset_yields_ids_and_instance_maps(tmp_path):
    root = make_coco(tmp_path / "coco", with_instances=True)
    cfg = parse_config(layout_args("coco", root, tmp_path / "run", "--no_flip"))
    assert cfg.label_set == "cocostuff"
    from spade.labels import cocostuff
    item = build_dataset(cfg, cocostuff())[(0, 0)]
    coco = cocostuff()
    assert {coco.names[i] for i in item["label"].unique().tolist()} == {"sky-other", "grass", "tree", "sea"}
    assert len(item["instance"].unique()) == 5  # four classes, the sea split in two


@pytest.mark.parametrize("dataset,with_instances", [("coco", True), ("coco", False), ("cityscapes", True)])
def test_training_on_the_layout_gives_a_model_with_the_instance_channel(tmp_path, dataset, with_instances):
    root = (make_coco(tmp_path / "coco", with_instances) if dataset == "coco"
            else make_cityscapes(tmp_path / "cityscapes"))
    run = tmp_path / "run"
    assert main(layout_args(dataset, root, run)) == 0
    bundle = load_checkpoint(run / "latest")
    expected = {"coco": ("cocostuff", 184), "cityscapes": ("cityscapes", 36)}[dataset]
    assert (bundle.label_set.name, bundle.generator_config.semantic_nc) == expected
    assert bundle.instance_edges
    renderer = SpadeRenderer.load(run / "latest", "cpu")
    labels = np.full((32, 32), bundle.label_set.id_of("sky" if dataset == "cityscapes" else "sky-other"), np.uint8)
    labels[16:] = bundle.label_set.id_of("road" if dataset == "cityscapes" else "grass")
    assert renderer.render(labels).shape == (32, 32, 3)


def test_no_instance_drops_the_channel_and_a_wrong_layout_is_one_line(tmp_path, capsys):
    root = make_coco(tmp_path / "coco", with_instances=True)
    assert main(layout_args("coco", root, tmp_path / "run", "--no_instance")) == 0
    bundle = load_checkpoint(tmp_path / "run" / "latest")
    assert not bundle.instance_edges and bundle.generator_config.semantic_nc == 183
    assert main(layout_args("cityscapes", root, tmp_path / "run2")) == 2
    assert "not the Cityscapes layout" in capsys.readouterr().err
    assert main(layout_args("coco", root, tmp_path / "run3", "--label_set", "cityscapes")) == 2
    assert "holds cocostuff labels" in capsys.readouterr().err
