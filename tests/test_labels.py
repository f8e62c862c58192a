"""Label sets and reading/writing label maps."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from spade import MaskError, ade20k, read_mask, resize_labels, write_color_png, write_index_png
from spade.labels import LabelSet
from tests.conftest import landscape


def test_ade20k_has_151_ids_with_names_and_standard_colours():
    labels = ade20k()
    assert len(labels) == 151
    assert labels.names[0] == "unlabeled" and labels.names[3] == "sky" and labels.names[150] == "flag"
    assert tuple(labels.colors[3]) == (6, 230, 230)
    assert labels.id_of("Sky") == 3 and labels.id_of("mount") == 17


def test_index_png_round_trip(tmp_path):
    lab = landscape()
    write_index_png(tmp_path / "m.png", lab)
    assert np.array_equal(read_mask(tmp_path / "m.png"), lab)


def test_palette_mode_png_is_read_by_index(tmp_path):
    lab = landscape()
    img = Image.fromarray(lab).convert("P")
    img.putpalette(ade20k().colors.ravel().tolist())
    img.save(tmp_path / "p.png")
    assert np.array_equal(read_mask(tmp_path / "p.png"), lab)


def test_colour_png_round_trip_and_road_wins_over_skyscraper(tmp_path):
    lab = landscape()
    lab[:4, :4] = 49  # skyscraper shares road's colour
    write_color_png(tmp_path / "c.png", lab)
    back = read_mask(tmp_path / "c.png")
    expected = lab.copy()
    expected[expected == 49] = 7
    assert np.array_equal(back, expected)


def test_ids_outside_the_label_set_are_named_with_pixel_counts(tmp_path):
    lab = landscape()
    lab[:2, :] = 200
    lab[5, 5] = 151
    Image.fromarray(lab).save(tmp_path / "bad.png")
    with pytest.raises(MaskError) as err:
        read_mask(tmp_path / "bad.png")
    msg = str(err.value)
    assert "200 (128 px)" in msg and "151 (1 px)" in msg and "0..150" in msg


def test_colours_outside_the_palette_are_named_with_pixel_counts(tmp_path):
    rgb = ade20k().colorize(landscape())
    rgb[:3, :] = (1, 2, 3)
    Image.fromarray(rgb).save(tmp_path / "off.png")
    with pytest.raises(MaskError, match=r"#010203 \(192 px\)"):
        read_mask(tmp_path / "off.png")


def test_unreadable_and_missing_masks(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"not a png at all")
    with pytest.raises(MaskError, match="cannot read mask"):
        read_mask(tmp_path / "junk.png")
    with pytest.raises(MaskError, match="not found"):
        read_mask(tmp_path / "missing.png")


def test_custom_label_set_from_csv(tmp_path):
    (tmp_path / "c.csv").write_text("id,name,r,g,b\n0,void,0,0,0\n1,road,10,10,10\n2,car,200,0,0\n")
    ls = LabelSet.from_csv(tmp_path / "c.csv")
    assert ls.names == ("void", "road", "car") and ls.max_id == 2
    assert LabelSet.from_dict(ls.to_dict()).names == ls.names


def test_written_files_get_ordinary_permissions(tmp_path):
    import os
    import stat
    write_index_png(tmp_path / "m.png", landscape())
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "m.png").st_mode) == 0o666 & ~mask


def test_resize_labels_keeps_ids_and_matches_pillow_nearest():
    labels = np.arange(16, dtype=np.uint8).reshape(4, 4)
    big = resize_labels(labels, 8, 8)
    assert big.shape == (8, 8) and set(np.unique(big)) == set(range(16))
    assert (resize_labels(big, 4, 4) == labels).all()
    mask = np.random.default_rng(0).integers(0, 150, (37, 53), dtype=np.uint8)
    for h, w in [(256, 256), (20, 90), (37, 53), (5, 7)]:
        pillow = np.asarray(Image.fromarray(mask).resize((w, h), Image.Resampling.NEAREST))
        assert (resize_labels(mask, h, w) == pillow).all(), (h, w)


def test_cocostuff_ids_and_png_values():
    from spade.labels import cocostuff
    coco = cocostuff()
    assert coco.class_count == 182 and coco.names[0] == "unlabeled"
    assert coco.code_of(0) == 255 and coco.code_of(coco.id_of("person")) == 0
    assert coco.code_of(coco.id_of("sky-other")) == 156 and coco.code_range() == "0..181, 255"
    assert len({tuple(c) for c in coco.colors}) == len(coco)  # every class has its own colour
    sky, grass, sea = (coco.colors[coco.id_of(n)].astype(int) for n in ("sky-other", "grass", "sea"))
    assert sky[2] > sky[0] and grass[1] > max(grass[0], grass[2]) and sea[2] > sea[0]  # blue sky, green grass


def test_cocostuff_index_png_holds_the_dataset_values(tmp_path):
    from spade.labels import cocostuff
    coco = cocostuff()
    labels = np.array([[0, coco.id_of("sky-other")], [coco.id_of("person"), coco.id_of("wood")]], np.uint8)
    write_index_png(tmp_path / "m.png", labels, coco)
    assert np.asarray(Image.open(tmp_path / "m.png")).tolist() == [[255, 156], [0, 181]]
    assert np.array_equal(read_mask(tmp_path / "m.png", coco), labels)
    write_color_png(tmp_path / "c.png", labels, coco)
    assert np.array_equal(read_mask(tmp_path / "c.png", coco), labels)
    Image.fromarray(np.array([[200, 182]], np.uint8)).save(tmp_path / "bad.png")
    with pytest.raises(MaskError, match=r"values outside cocostuff, whose values are 0\.\.181, 255: 182 \(1 px\), 200"):
        read_mask(tmp_path / "bad.png", coco)


def test_cityscapes_standard_colours_and_named_sets(tmp_path):
    from spade.labels import builtin_label_set, cityscapes, label_set_from_spec
    cs = cityscapes()
    assert len(cs) == 34 and cs.names[cs.id_of("road")] == "road" and cs.id_of("road") == 7
    assert tuple(cs.colors[cs.id_of("sky")]) == (70, 130, 180)
    assert builtin_label_set("COCO").name == "cocostuff" and builtin_label_set("nope") is None
    with pytest.raises(MaskError, match="neither a bundled label set"):
        label_set_from_spec(tmp_path / "missing.csv")


def test_converting_a_landscape_between_label_sets_by_name():
    from spade.label_convert import convert_labels
    from spade.labels import cityscapes, cocostuff
    ade, coco = ade20k(), cocostuff()
    lab = landscape()
    lab[10, 10] = ade.id_of("bed")        # no namesake in COCO-Stuff? it has one: bed
    lab[11, 11] = ade.id_of("fireplace")  # none in COCO-Stuff
    conv = convert_labels(lab, ade, coco)
    names = {coco.names[i] for i in np.unique(conv.labels)}
    assert {"sky-other", "mountain", "water-other", "grass", "tree", "rock", "bed", "unlabeled"} == names
    assert conv.mapped["sky"] == "sky-other" and conv.lost == {"fireplace": 1}
    assert "sky -> sky-other" in conv.summary() and "fireplace (1 px)" in conv.summary()
    back = convert_labels(conv.labels, coco, ade)
    assert back.labels[lab == ade.id_of("sky")].tolist() == [ade.id_of("sky")] * int((lab == ade.id_of("sky")).sum())
    to_city = convert_labels(lab, ade, cityscapes())
    assert to_city.mapped["tree"] == "vegetation" and to_city.mapped["grass"] == "terrain"


@pytest.mark.parametrize("size, read", [((2000, 1000), (1000, 500)), ((700, 2800), (175, 700)),
                                        ((400, 300), (400, 300))])
def test_a_style_photo_is_decoded_at_the_smallest_scale_that_keeps_its_long_side(size, read, tmp_path):
    from spade.inference import STYLE_READ_SIDE, read_style_image
    path = tmp_path / "photo.jpg"
    Image.new("RGB", size, (90, 140, 200)).save(path, quality=90)
    image = read_style_image(path)
    assert image.size == read and image.mode == "RGB"
    assert max(image.size) >= min(STYLE_READ_SIDE, max(size))


def test_a_set_of_300_classes_keeps_ids_past_255_in_maps_and_index_pngs(tmp_path):
    colors = np.random.default_rng(3).integers(0, 256, (300, 3)).astype(np.uint8)
    big = LabelSet("custom300", ("unlabeled",) + tuple(f"class {i}" for i in range(1, 300)), colors)
    labels = big.as_ids(np.array([[0, 255], [256, 299]]))
    assert labels.dtype == big.id_dtype and labels.tolist() == [[0, 255], [256, 299]]
    write_index_png(tmp_path / "m.png", labels, big)
    with Image.open(tmp_path / "m.png") as img:
        assert img.mode.startswith("I")               # 16 bits a pixel: 8 would wrap 299 to 43
    assert read_mask(tmp_path / "m.png", big).tolist() == [[0, 255], [256, 299]]
    write_index_png(tmp_path / "small.png", landscape())
    assert Image.open(tmp_path / "small.png").mode == "L"  # sets that fit in 8 bits keep 8-bit PNGs


def test_ids_outside_the_set_are_refused_not_wrapped():
    with pytest.raises(MaskError, match=r"300\.\.300 lie outside ade20k, whose ids are 0\.\.150"):
        ade20k().as_ids(np.array([[300]]))
    with pytest.raises(MaskError, match="outside"):
        ade20k().as_ids(np.array([[-1]]))
