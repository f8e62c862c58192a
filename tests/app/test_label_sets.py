"""The app follows the model's label set: palette, masks, documents, Model Info, converting a sketch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from spade import ade20k, read_mask
from spade.checkpoint import save_checkpoint
from spade.labels import LabelSet, cocostuff
from tests.conftest import make_generator, official_state
from tests.reference_spade import generator_forward, input_semantics

from .conftest import wait_for_model, wait_for_photo
from .test_window import drag, pick_class

CSV = "id,name,r,g,b\n0,void,0,0,0\n1,road,128,64,128\n2,car,0,0,142\n3,tree,107,142,35\n"


@pytest.fixture(scope="session")
def coco_official(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("models") / "coco_pretrained"
    folder.mkdir()
    state = official_state(make_generator(seed=31, semantic_nc=184))
    torch.save(state, folder / "latest_net_G.pth")
    return folder, state


@pytest.fixture(scope="session")
def csv_model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("models")
    (root / "classes.csv").write_text(CSV)
    labels = LabelSet.from_csv(root / "classes.csv")
    return save_checkpoint(root / "streets", make_generator(seed=32, semantic_nc=4), label_set=labels,
                           label_to_channel=[0, 1, 2, 3], trained_classes=[1, 2, 3])


def test_custom_csv_model_opens_with_its_own_palette(make_window, prompts, csv_model):
    w = make_window(model_path=csv_model)
    assert not prompts.errors
    assert w.palette.label_set.names == ("void", "road", "car", "tree")
    assert sorted(w.palette.visible_ids()) == [1, 2, 3]  # the trained classes; void waits behind the toggle
    assert w.doc.label_set.names == w.palette.label_set.names  # the starter sketch is in the model's set
    pick_class(w, 2)
    drag(w.canvas, [(10, 10), (40, 10)])
    assert (w.doc.labels == 2).any()
    w.models.show_info()
    assert "3 of 3 trained" in prompts.infos[-1] and "custom (3 classes, classes.csv)" in prompts.infos[-1]


def test_a_custom_table_is_named_for_people_in_every_message(make_window, qtbot, prompts, csv_model, tmp_path):
    w = make_window()  # the tiny ADE20K model
    pick_class(w, ade20k().id_of("tree"))
    drag(w.canvas, [(5, 5), (20, 5)])
    prompts.yes = False
    w.models.load(str(csv_model))
    wait_for_model(qtbot, w)
    question = prompts.questions[-1]
    assert "the label set ade20k" in question and "the label set custom (3 classes, classes.csv)" in question
    assert "ade20k but the model takes custom (3 classes, classes.csv)" in w.photo.message
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(tmp_path / "bad.png")
    assert not w.files.open_path(tmp_path / "bad.png", ask=False)
    assert "values outside custom (3 classes, classes.csv), whose values are 0..3: 7 (64 px)" in prompts.errors[-1]
    for text in prompts.questions + prompts.errors + [w.photo.message]:
        assert "classes classes" not in text and "a classes model" not in text and "outside classes" not in text
    named = tmp_path / "streets.csv"
    named.write_text("id,name,r,g,b,label_set\n0,void,0,0,0,Street scenes\n1,road,128,64,128,\n")
    assert LabelSet.from_csv(named).display_name == "Street scenes"
    assert LabelSet.from_dict(LabelSet.from_csv(named).to_dict()).display_name == "Street scenes"


def test_coco_model_renders_the_reference_picture_in_the_app(make_window, qtbot, prompts, coco_official):
    folder, state = coco_official
    w = make_window(model_path=folder)
    coco = cocostuff()
    assert w.palette.label_set is coco and w.doc.label_set is coco
    assert w.palette.ordered_ids()[0] == coco.id_of("sky-other")  # landscape classes first
    w.palette.search.setText("cloud")
    assert [coco.names[i] for i in w.palette.visible_ids()] == ["clouds"]
    wait_for_photo(qtbot, w)
    values = coco.codes_from_ids(w.doc.labels)
    expected = generator_forward(state, input_semantics(values, values, 182, True), None, ngf=4,
                                 crop_size=w.doc.shape[1])
    photo = w.photo.photo_array.astype(np.int16)
    reference = ((expected[0].permute(1, 2, 0).numpy() + 1) * 127.5).round().clip(0, 255).astype(np.int16)
    assert photo.shape == reference.shape and np.abs(photo - reference).max() <= 1
    w.models.show_info()
    assert "182 of 182 trained" in prompts.infos[-1] and "cocostuff" in prompts.infos[-1]


def test_loading_a_model_of_another_set_converts_the_sketch_by_name(make_window, qtbot, prompts, coco_official):
    folder, _ = coco_official
    ade = ade20k()
    w = make_window()  # the tiny ADE20K model
    pick_class(w, ade.id_of("sky"))
    drag(w.canvas, [(5, 5), (60, 5)])
    pick_class(w, ade.id_of("fireplace"))
    drag(w.canvas, [(5, 40), (20, 40)])
    sky_pixels = w.doc.labels == ade.id_of("sky")
    prompts.yes = True
    w.models.load(str(folder))
    wait_for_model(qtbot, w)
    coco = cocostuff()
    assert any("ade20k" in q and "cocostuff" in q for q in prompts.questions)
    assert w.doc.label_set is coco and w.palette.label_set is coco and w.doc.dirty
    assert (w.doc.labels[sky_pixels] == coco.id_of("sky-other")).all()
    assert "sky -> sky-other" in prompts.infos[-1] and "fireplace" in prompts.infos[-1]


def test_masks_and_documents_keep_the_model_set(make_window, qtbot, prompts, coco_official, tmp_path):
    folder, _ = coco_official
    w = make_window(model_path=folder)
    coco = cocostuff()
    values = np.full((64, 64), 156, np.uint8)  # sky-other as stored in COCO-Stuff PNGs
    values[40:] = 123                           # grass
    values[:2, :2] = 255                        # unlabeled
    Image.fromarray(values).save(tmp_path / "coco_mask.png")
    assert w.files.open_path(tmp_path / "coco_mask.png", ask=False), prompts.errors
    assert w.doc.labels[0, 0] == 0 and w.doc.labels[10, 10] == coco.id_of("sky-other")
    prompts.save_path = str(tmp_path / "saved.png")
    assert w.files.save_mask(with_color=False)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "saved.png")), values)
    assert w.files.save_to(tmp_path / "doc.gauguin")
    assert w.files.open_path(tmp_path / "doc.gauguin", ask=False), prompts.errors
    assert w.doc.label_set.name == "cocostuff" and w.doc.labels[10, 10] == coco.id_of("sky-other")
    values[5, 5] = 200
    Image.fromarray(values).save(tmp_path / "bad.png")
    assert not w.files.open_path(tmp_path / "bad.png", ask=False)
    assert "values outside cocostuff" in prompts.errors[-1]


def test_declining_the_conversion_keeps_the_sketch_without_a_photo(make_window, qtbot, prompts, coco_official):
    folder, _ = coco_official
    ade = ade20k()
    w = make_window()
    pick_class(w, ade.id_of("tree"))
    drag(w.canvas, [(5, 5), (60, 5)])
    before = w.doc.labels.copy()
    prompts.yes = False
    w.models.load(str(folder))
    wait_for_model(qtbot, w)
    assert w.doc.label_set.same_classes(ade) and np.array_equal(w.doc.labels, before)
    assert w.palette.label_set.same_classes(ade) and w.photo.photo_array is None
    assert "the label set ade20k but the model takes cocostuff" in w.photo.message
    assert w.controller.source.job(0) is None  # nothing is sent to a model that cannot read the sketch


@pytest.fixture(scope="session")
def model_300(tmp_path_factory) -> Path:
    """A tiny model of a custom set of 300 classes: more than an 8-bit label map can hold."""
    colors = np.random.default_rng(300).integers(0, 256, (300, 3)).astype(np.uint8)
    big = LabelSet("custom300", ("unlabeled",) + tuple(f"class {i}" for i in range(1, 300)), colors)
    return save_checkpoint(tmp_path_factory.mktemp("models") / "big300", make_generator(seed=33, semantic_nc=300),
                           label_set=big, label_to_channel=list(range(300)), trained_classes=list(range(1, 300)))


def test_class_ids_past_255_survive_painting_saving_reopening_and_the_index_mask(make_window, qtbot, prompts,
                                                                                model_300, tmp_path):
    """The app kept label maps in uint8: id 299 could not be painted, and would have wrapped to 43."""
    w = make_window(model_path=model_300)
    assert w.doc.label_set.name == "custom300" and w.palette.label_set is w.doc.label_set
    pick_class(w, 299)
    drag(w.canvas, [(10, 10), (40, 10)])
    assert (w.doc.labels == 299).any() and not (w.doc.labels == 299 % 256).any()
    painted = w.doc.labels.copy()
    wait_for_photo(qtbot, w)
    assert w.photo.photo_array is not None and not prompts.errors
    assert w.files.save_to(tmp_path / "big.gauguin")
    assert w.files.open_path(tmp_path / "big.gauguin", ask=False)
    assert np.array_equal(w.doc.labels, painted) and w.canvas.doc is w.doc
    prompts.save_path = str(tmp_path / "mask.png")
    assert w.files.save_mask(with_color=False)
    assert np.array_equal(read_mask(tmp_path / "mask.png", w.doc.label_set), painted)
