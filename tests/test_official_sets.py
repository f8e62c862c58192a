"""Official COCO-Stuff and Cityscapes checkpoints: label set recognition, the don't-care and instance-edge
channels, Cityscapes' 512x256, and the same picture as the reference semantics (tests/reference_spade.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from spade import CheckpointError, SpadeRenderer
from tests.conftest import make_generator, official_state
from tests.reference_spade import generator_forward, input_semantics

TOL = 1e-3
ROOT = Path(__file__).resolve().parent.parent
# COCO-Stuff values as stored in its label PNGs
SKY, MOUNTAIN, SEA, GRASS, TREE, UNLABELED = 156, 134, 154, 123, 168, 255
# Cityscapes label ids
ROAD, BUILDING, VEGETATION, CS_SKY, CAR = 7, 11, 21, 23, 26


def coco_values(h: int = 64, w: int = 64) -> np.ndarray:
    """A COCO-Stuff label PNG's values: sky, mountain, sea, grass, two touching trees, an unlabeled corner."""
    lab = np.full((h, w), SKY, np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    lab[yy > h * 0.35 + 5 * np.sin(xx / 6)] = MOUNTAIN
    lab[yy > h * 0.55] = SEA
    lab[yy > h * 0.75] = GRASS
    lab[(yy > h * 0.6) & (xx > w * 0.1) & (xx < w * 0.4)] = TREE
    lab[:3, :3] = UNLABELED
    return lab


def coco_instances(values: np.ndarray) -> np.ndarray:
    """One instance per class, except the tree region, split into two instances side by side."""
    inst = values.astype(np.int32) * 10
    w = values.shape[1]
    trees = values == TREE
    inst[trees & (np.arange(w)[None, :] >= int(w * 0.25))] += 1
    return inst


def connected_regions(values: np.ndarray) -> np.ndarray:
    """Instance ids of the 4-connected regions of one value (a plain flood fill, independent of spade/)."""
    h, w = values.shape
    out = np.full((h, w), -1, np.int64)
    n = 0
    for y in range(h):
        for x in range(w):
            if out[y, x] >= 0:
                continue
            stack = [(y, x)]
            out[y, x] = n
            while stack:
                cy, cx = stack.pop()
                for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                    if 0 <= ny < h and 0 <= nx < w and out[ny, nx] < 0 and values[ny, nx] == values[cy, cx]:
                        out[ny, nx] = n
                        stack.append((ny, nx))
            n += 1
    return out


def cityscapes_ids(h: int = 256, w: int = 512) -> np.ndarray:
    lab = np.full((h, w), CS_SKY, np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    lab[yy > h * 0.3 + 10 * np.sin(xx / 30)] = BUILDING
    lab[(yy > h * 0.35) & (xx < w * 0.2)] = VEGETATION
    lab[yy > h * 0.6] = ROAD
    lab[(yy > h * 0.62) & (yy < h * 0.8) & (xx > w * 0.5) & (xx < w * 0.7)] = CAR
    lab[(yy > h * 0.62) & (yy < h * 0.8) & (xx > w * 0.72) & (xx < w * 0.9)] = CAR
    lab[0, :4] = 0
    return lab


@pytest.fixture
def coco_model(tmp_path: Path) -> tuple[Path, dict]:
    g = make_generator(seed=21, semantic_nc=184)
    state = official_state(g)
    folder = tmp_path / "coco_pretrained"
    folder.mkdir()
    torch.save(state, folder / "latest_net_G.pth")
    return folder, state


@pytest.fixture
def cityscapes_model(tmp_path: Path) -> tuple[Path, dict]:
    g = make_generator(seed=22, semantic_nc=36, num_upsampling_layers="more", crop_size=512, aspect_ratio=2.0)
    state = official_state(g)
    folder = tmp_path / "cityscapes_pretrained"
    folder.mkdir()
    torch.save(state, folder / "latest_net_G.pth")
    return folder, state


def coco_reference(state: dict, values: np.ndarray, instances: np.ndarray) -> torch.Tensor:
    return generator_forward(state, input_semantics(values, instances, 182, True), None, ngf=4, crop_size=64)


def render_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "render", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def as_uint8(t: torch.Tensor) -> np.ndarray:
    return ((t[0].permute(1, 2, 0).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.int16)


def test_coco_model_is_recognised_and_gives_the_reference_picture_with_an_instance_map(coco_model):
    folder, state = coco_model
    renderer = SpadeRenderer.load(folder, "cpu")
    assert renderer.label_set.name == "cocostuff" and renderer.uses_instances
    assert renderer.info()["class_count"] == 182
    values = coco_values()
    labels = renderer.label_set.ids_from_codes(values)
    instances = coco_instances(values)
    expected = coco_reference(state, values, instances)
    assert expected.std() > 0.01
    for reference in (False, True):  # the fast path and the module forward
        ours = renderer.render_tensor(labels, instances=instances, reference=reference)
        assert (ours - expected).abs().max().item() < TOL
    # the split tree matters: without the instance map its inner border has no edge
    plain = renderer.render_tensor(labels)
    assert (plain - expected).abs().max().item() > 1e-3


def test_without_an_instance_map_each_connected_region_is_one_instance(coco_model):
    folder, state = coco_model
    renderer = SpadeRenderer.load(folder, "cpu")
    values = coco_values()
    expected = coco_reference(state, values, connected_regions(values))
    ours = renderer.render_tensor(renderer.label_set.ids_from_codes(values))
    assert (ours - expected).abs().max().item() < TOL


def test_render_command_with_and_without_instance(coco_model, tmp_path):
    folder, state = coco_model
    values = coco_values()
    instances = coco_instances(values)
    Image.fromarray(values).save(tmp_path / "labels.png")
    Image.fromarray(instances.astype(np.uint16)).save(tmp_path / "inst.png")  # 16-bit ids, as Cityscapes
    run = render_cli("--model", folder, "--mask", tmp_path / "labels.png", "--instance", tmp_path / "inst.png",
                     "--out", tmp_path / "with.png", "--device", "cpu")
    assert run.returncode == 0, run.stderr
    assert "label set cocostuff (184 input channels)" in run.stdout
    photo = np.asarray(Image.open(tmp_path / "with.png")).astype(np.int16)
    assert np.abs(photo - as_uint8(coco_reference(state, values, instances))).max() <= 1
    run = render_cli("--model", folder, "--mask", tmp_path / "labels.png", "--out", tmp_path / "without.png",
                     "--device", "cpu")
    assert run.returncode == 0, run.stderr
    photo = np.asarray(Image.open(tmp_path / "without.png")).astype(np.int16)
    assert np.abs(photo - as_uint8(coco_reference(state, values, connected_regions(values)))).max() <= 1


def test_bad_combinations_give_one_line(coco_model, tmp_path, mask_png):
    folder, _ = coco_model
    from spade.labels import ade20k
    from tests.conftest import landscape
    Image.fromarray(ade20k().colorize(landscape())).save(tmp_path / "ade_colours.png")
    values = coco_values()
    values[10:12, :] = 200  # no COCO-Stuff class has the value 200
    Image.fromarray(values).save(tmp_path / "bad_values.png")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "small_inst.png")
    cases = {
        "ade20k colours": (["--mask", tmp_path / "ade_colours.png"], "colours outside the palette of cocostuff"),
        "values outside": (["--mask", tmp_path / "bad_values.png"],
                           "values outside cocostuff, whose values are 0..181, 255: 200"),
        "instance size": (["--mask", mask_png, "--instance", tmp_path / "small_inst.png"], "32x32"),
        "instance folder": (["--mask", mask_png, "--instance", tmp_path], "is a folder, not a file"),
        "wrong label set": (["--mask", mask_png, "--label_set", "ade20k"], "184 label channels"),
    }
    for name, (args, text) in cases.items():
        run = render_cli("--model", folder, "--out", tmp_path / "o.png", "--device", "cpu", *args)
        assert run.returncode == 2, name
        assert text in run.stderr and len(run.stderr.strip().splitlines()) == 1, (name, run.stderr)


@pytest.mark.parametrize("with_opt", [True, False])
def test_cityscapes_model_renders_512x256_like_the_reference(cityscapes_model, with_opt):
    folder, state = cityscapes_model
    if with_opt:
        (folder / "opt.txt").write_text(
            "----------------- Options ---------------\n"
            "                      aspect_ratio: 2.0                           \t[default: 1.0]\n"
            "                         crop_size: 512                           \t[default: 256]\n"
            "                      dataset_mode: cityscapes                    \t[default: coco]\n"
            "                          label_nc: 35                            \t[default: 182]\n"
            "             num_upsampling_layers: more                          \t[default: normal]\n")
    renderer = SpadeRenderer.load(folder, "cpu")
    assert renderer.label_set.name == "cityscapes" and renderer.uses_instances
    assert renderer.default_size == (256, 512)
    assert renderer.bundle.generator_config.num_upsampling_layers == "more"
    labels = cityscapes_ids()
    instances = labels.astype(np.int32) * 1000
    instances[(labels == CAR) & (np.arange(512)[None, :] > 360)] += 1  # two cars, each its own instance
    expected = generator_forward(state, input_semantics(labels, instances, 35, False), None, ngf=4,
                                 upsampling="more", crop_size=512, aspect_ratio=2.0)
    assert expected.shape == (1, 3, 256, 512)
    ours = renderer.render_tensor(labels, instances=instances)
    assert (ours - expected).abs().max().item() < TOL


def test_unrecognised_channel_count_asks_for_the_label_set_and_a_csv_names_it(tmp_path):
    torch.save(official_state(make_generator(seed=4, semantic_nc=5)), tmp_path / "latest_net_G.pth")
    with pytest.raises(CheckpointError, match="5 label channels.*--label_set"):
        SpadeRenderer.load(tmp_path, "cpu")
    (tmp_path / "c.csv").write_text("id,name,r,g,b\n0,void,0,0,0\n1,road,10,10,10\n2,car,200,0,0\n3,tree,0,200,0\n")
    renderer = SpadeRenderer.load(tmp_path, "cpu", label_set=str(tmp_path / "c.csv"))
    assert renderer.label_set.names == ("void", "road", "car", "tree") and renderer.uses_instances
    (tmp_path / "opt.txt").write_text("dataset_mode: custom\nlabel_nc: 4\nno_instance: False\n")
    with pytest.raises(CheckpointError, match="dataset_mode custom.*--label_set"):
        SpadeRenderer.load(tmp_path, "cpu")


def test_render_command_gives_the_cityscapes_reference_with_and_without_instance(cityscapes_model, tmp_path):
    folder, state = cityscapes_model
    labels = cityscapes_ids()
    instances = labels.astype(np.int32) * 1000
    instances[(labels == BUILDING) & (np.arange(512)[None, :] > 256)] += 1  # an edge that the class borders lack
    Image.fromarray(labels).save(tmp_path / "labels.png")
    Image.fromarray(instances.astype(np.uint16)).save(tmp_path / "inst.png")
    for name, extra, inst in (("with", ["--instance", tmp_path / "inst.png"], instances),
                              ("without", [], connected_regions(labels))):
        run = render_cli("--model", folder, "--mask", tmp_path / "labels.png", *extra,
                         "--out", tmp_path / f"{name}.png", "--device", "cpu")
        assert run.returncode == 0, run.stderr
        assert "label set cityscapes" in run.stdout
        expected = generator_forward(state, input_semantics(labels, inst, 35, False), None, ngf=4,
                                     upsampling="more", crop_size=512, aspect_ratio=2.0)
        photo = np.asarray(Image.open(tmp_path / f"{name}.png")).astype(np.int16)
        assert photo.shape == (256, 512, 3)
        assert np.abs(photo - as_uint8(expected)).max() <= 1, name
