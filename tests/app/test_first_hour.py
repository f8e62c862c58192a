"""What a new user meets in the first hour: start-up, the palette and its colours, settings that survive a crash,
switching models, the photo's status, styles, exports and the window's panels."""
from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolButton

from spade import ade20k
from spade.colour import srgb_to_lab
from gauguin_app import prompts as prompts_module
from gauguin_app.display_colours import LANDSCAPE_DISTANCE, display_colours, landscape_ids

from .conftest import wait_for_model, wait_for_photo
from .test_label_sets import csv_model  # noqa: F401 (a fixture)
from .test_window import drag, pick_class

ADE = ade20k()
TREE, RIVER, SKY, MOUNTAIN = (ADE.id_of(n) for n in ("tree", "river", "sky", "mountain"))


def test_startup_says_loading_until_the_model_is_there(make_window, qtbot):
    w = make_window(wait_model=False)
    assert w.loader.busy
    assert w.photo.message.startswith("Loading") and "No model loaded" not in w.photo.message
    assert w.palette.loading and "Loading" in w.palette.loading_label.text()
    assert w.palette.list.isHidden() and w.palette.search.isHidden()   # not 150 ADE20K classes meanwhile
    assert w.style_panel.reason.text().startswith("Loading") and "Load a model" not in w.style_panel.reason.text()
    assert w.loading_label.text().startswith("Loading") and "loading" in w.model_label.text()
    wait_for_model(qtbot, w)
    assert w.renderer is not None and w.photo.message == "" and not w.palette.loading
    assert not w.palette.list.isHidden() and w.style_panel.reason.isHidden()


def test_a_failed_startup_load_ends_the_loading_state_with_how_to_load(make_window, qtbot, tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    w = make_window(model_path=tmp_path / "broken", wait_model=False)
    assert w.palette.loading
    wait_for_model(qtbot, w)
    assert w.renderer is None and "No model loaded" in w.photo.message and not w.palette.loading


def ini_text(w) -> str:
    return open(w.settings.q.fileName(), encoding="utf-8").read()


def test_settings_reach_the_disk_as_they_change_not_only_at_quit(make_window, qtbot, tmp_path):
    """The ini file is read as a crashed session would leave it: nothing closes the window or syncs first."""
    w = make_window()
    pick_class(w, TREE)
    pick_class(w, RIVER)
    w.settings.set_folder("export", tmp_path)
    qtbot.waitUntil(lambda: "river" in ini_text(w) and str(tmp_path) in ini_text(w), timeout=3000)
    text = ini_text(w)
    assert "recent_classes" in text and "tree" in text


def test_recent_classes_come_back_in_a_new_session(make_window, qtbot):
    w = make_window()
    pick_class(w, TREE)
    pick_class(w, RIVER)
    w.doc.mark_saved()
    w.close()
    w2 = make_window()
    assert w2.palette.recent[:2] == [RIVER, TREE]


def test_switching_models_rebuilds_the_palette_cleanly(make_window, qtbot, prompts, csv_model,  # noqa: F811
                                                       monkeypatch):
    w = make_window()
    pick_class(w, TREE)
    drag(w.canvas, [(5, 5), (20, 5)])
    old_buttons = list(w.palette.recent_buttons)
    assert old_buttons and not w.palette.recent_title.isHidden()
    drawn_during_info = []
    monkeypatch.setattr(prompts_module, "show_info", lambda parent, text, title="": drawn_during_info.extend(
        b.objectName() for b in old_buttons if b.isVisible()))   # the "Sketch converted" box, a modal loop
    prompts.yes = True
    w.models.load(str(csv_model))
    wait_for_model(qtbot, w)
    assert w.doc.label_set.names == ("void", "road", "car", "tree")
    assert drawn_during_info == []   # no button of the old set is left drawn over the list
    shown = [b for b in w.palette.findChildren(QToolButton) if b.objectName().startswith("recent_") and b.isVisible()]
    assert shown == [b for b in w.palette.recent_buttons if b.isVisible()]
    assert w.palette.recent == [] and w.palette.recent_title.isHidden()   # no empty "Recent" title
    headers = [w.palette.list.item(r).text() for r in range(w.palette.list.count())
               if w.palette.list.item(r).data(Qt.ItemDataRole.UserRole) == -1]
    assert headers == []                                                 # a table of one's own: no LANDSCAPE
    assert w.palette.ordered_ids() == [1, 2, 3, 0]                       # in the table's order
    assert 0 <= w.canvas.class_id < 4 and w.canvas.class_id == w.palette.current
    drag(w.canvas, [(30, 30), (40, 30)])                                 # paints a class of the new set
    w.palette.select(2)
    assert not w.palette.recent_title.isHidden() and w.palette.recent == [2]


def test_enter_in_the_search_picks_and_clears_it(make_window):
    w = make_window()
    w.palette.search.setText("mountain")
    assert w.palette.visible_ids() == [MOUNTAIN]
    QTest.keyClick(w.palette.search, Qt.Key.Key_Return)
    assert w.canvas.class_id == MOUNTAIN
    assert w.palette.search.text() == "" and len(w.palette.visible_ids()) > 5


def min_distance(colours: np.ndarray, ids: list[int]) -> float:
    lab = srgb_to_lab(np.asarray(colours)[ids])
    d = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return float(d.min())


def test_the_display_palette_tells_landscape_classes_apart_and_files_keep_the_official_colours(make_window,
                                                                                                 prompts, tmp_path):
    ids = [0] + landscape_ids(ADE)
    assert min_distance(ADE.colors, ids) < 5                       # the official palette has near-twins
    display = display_colours(ADE)
    assert min_distance(display, ids) >= LANDSCAPE_DISTANCE >= 20
    assert (display[SKY] == ADE.colors[SKY]).all()                 # the most common classes keep theirs
    lab = srgb_to_lab(np.stack([ADE.colors[RIVER], display[RIVER]]))
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1]))
    assert abs(hue[0] - hue[1]) < 30                               # a moved colour keeps its hue
    from spade.labels import LabelSet
    own = LabelSet("own", ("void", "road", "lane", "tree"),
                   np.array([[0, 0, 0], [128, 64, 128], [124, 66, 130], [107, 142, 35]], np.uint8))
    assert min_distance(display_colours(own), [0, 1, 2, 3]) >= LANDSCAPE_DISTANCE   # a small set of one's own

    w = make_window()
    pick_class(w, RIVER)
    w.brush_slider.setValue(4)
    drag(w.canvas, [(10, 20), (30, 20)])
    word = int(w.canvas.sketch.buffer[20, 20])
    assert ((word >> 16) & 255, (word >> 8) & 255, word & 255) == tuple(int(c) for c in display[RIVER])
    prompts.save_path = str(tmp_path / "mask.png")
    assert w.files.save_mask(with_color=True)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "mask.png")), w.doc.labels)
    colour = np.asarray(Image.open(tmp_path / "mask_color.png").convert("RGB"))
    assert np.array_equal(colour, ADE.colors[w.doc.labels])      # the official colours, not the display ones
    w.actions["official_colours"].trigger()                        # View ▸ Official Class Colours
    word = int(w.canvas.sketch.buffer[20, 20])
    assert ((word >> 16) & 255, (word >> 8) & 255, word & 255) == tuple(int(c) for c in ADE.colors[RIVER])
    assert w.settings.official_colours


def photo_file(path, seed: int = 0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(path)
    return path


def test_a_dropped_photo_shows_while_a_blend_is_on(make_window, qtbot, tmp_path):
    w = make_window()
    w.styles.random("b", 7)
    w.style_panel.blend.setValue(100)             # the photo is the blend partner's style alone
    assert w.doc.style.b is not None and w.doc.style.t == 1.0
    wait_for_photo(qtbot, w)
    before = w.photo.photo_array.copy()
    w.files.open_dropped(photo_file(tmp_path / "Lofoten" / "1920x1080.jpg"))
    assert w.doc.style.a.kind == "image" and w.doc.style.b is None
    assert "blend" in w.statusBar().currentMessage() and "cleared" in w.statusBar().currentMessage()
    wait_for_photo(qtbot, w)
    assert not np.array_equal(w.photo.photo_array, before)   # the dropped photo's style is what shows


def test_the_style_caption_names_the_photo_readably(make_window, tmp_path):
    w = make_window()
    w.files.open_dropped(photo_file(tmp_path / "Lofoten" / "1920x1080.jpg"))
    caption = w.style_panel.caption.text()
    assert "Lofoten/1920x1080.jpg" in caption and "(photo)" in caption and " . " not in caption
    w.files.open_dropped(photo_file(tmp_path / "trips" / "sunset.png", seed=1))
    assert "<b>sunset.png</b> (photo)" in w.style_panel.caption.text()


def test_export_of_a_saved_document_starts_in_its_folder(make_window, qtbot, prompts, tmp_path, monkeypatch):
    w = make_window()
    folder = tmp_path / "work"
    folder.mkdir()
    assert w.files.save_to(folder / "lake.gauguin")
    asked = []
    monkeypatch.setattr(prompts_module, "ask_save_path", lambda parent, caption, suggested, filters:
                        asked.append(suggested) or str(folder / "lake.png"))
    wait_for_photo(qtbot, w)
    assert w.files.export("photo")
    assert asked == [str(folder / "lake.png")] and (folder / "lake.png").exists()


def test_the_status_bar_says_whether_the_photo_is_a_preview_or_exact(make_window, qtbot):
    from gauguin_app.rendering import RenderResult
    w = make_window()
    wait_for_photo(qtbot, w)
    assert w.render_label.text().startswith("exact photo")
    image = np.zeros((*w.doc.shape, 3), np.uint8)
    w.controller.result_ready.emit(RenderResult(w.doc.revision, w.controller.generation, image, 12.0,
                                                labels_shape=w.doc.shape, exact=False))
    assert w.render_label.text() == "preview · 12 ms" and "preview" in w.render_label.toolTip()
    w.controller.result_ready.emit(RenderResult(w.doc.revision, w.controller.generation, image, 30.0,
                                                labels_shape=w.doc.shape, exact=True))
    assert w.render_label.text() == "exact photo · 30 ms"


def test_converting_to_another_label_set_is_one_undoable_step(make_window, qtbot, prompts, csv_model):  # noqa: F811
    w = make_window()
    pick_class(w, TREE)
    drag(w.canvas, [(5, 5), (30, 5)])
    drag(w.canvas, [(5, 30), (30, 30)])
    ade_labels = w.doc.labels.copy()
    prompts.yes = True
    w.models.load(str(csv_model))
    wait_for_model(qtbot, w)
    converted = w.doc.labels.copy()
    assert w.doc.label_set.names[3] == "tree" and (converted[ade_labels == TREE] == 3).all()
    assert w.undo_action.isEnabled() and "Convert to custom" in w.undo_action.text()
    assert "Ctrl+Z" in prompts.infos[-1]
    w.undo_action.trigger()                                  # back to the ADE20K sketch, in its palette
    assert w.doc.label_set.same_classes(ADE) and np.array_equal(w.doc.labels, ade_labels)
    assert w.palette.label_set.same_classes(ADE) and w.canvas.sketch.lut[TREE] != w.canvas.sketch.lut[3]
    w.undo_action.trigger()                                  # the strokes before it are still there
    assert (w.doc.labels == TREE).sum() < (ade_labels == TREE).sum()
    w.redo_action.trigger()
    w.redo_action.trigger()
    assert w.doc.label_set.names == ("void", "road", "car", "tree") and np.array_equal(w.doc.labels, converted)
    assert w.palette.label_set.names == w.doc.label_set.names
    wait_for_photo(qtbot, w)
    assert w.photo.photo_array is not None


REAL_SHOW_SHEET = getattr(prompts_module, "show_sheet", None)


def test_the_shortcut_sheet_fits_the_screen_and_its_ok_is_on_it(make_window, qtbot, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QAbstractScrollArea, QMessageBox, QPushButton
    w = make_window()
    monkeypatch.setattr(prompts_module, "show_info", lambda parent, text, title="":
                        QMessageBox.information(parent, title, text))
    if REAL_SHOW_SHEET is not None:
        monkeypatch.setattr(prompts_module, "show_sheet", REAL_SHOW_SHEET)
    seen = {}

    def inspect() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, inspect)
            return
        room = dialog.screen().availableGeometry()
        ok = next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "OK")
        top_left = ok.mapToGlobal(ok.rect().topLeft())
        seen.update(fits=room.contains(dialog.frameGeometry()), ok_visible=ok.isVisible()
                    and room.contains(top_left) and room.contains(ok.mapToGlobal(ok.rect().bottomRight())),
                    scrolls=any(a.verticalScrollBar().maximum() > 0
                                for a in dialog.findChildren(QAbstractScrollArea)))
        ok.click()

    QTimer.singleShot(0, inspect)
    w.show_help("shortcuts")
    assert seen == {"fits": True, "ok_visible": True, "scrolls": True}


def test_brush_steps_are_even_and_the_default_fits_the_canvas(make_window, qtbot, tmp_path):
    from gauguin_app.window_bars import BRUSH_LADDER
    w = make_window()
    assert w.brush_slider.value() == round(max(w.doc.shape) / 16)   # 64 px canvas: a 4 px brush, not 24
    sizes = [1]
    w.brush_slider.setValue(1)
    while sizes[-1] < w.brush_slider.maximum():
        w.options.change_brush(+1)
        sizes.append(w.brush_slider.value())
    assert sizes == [v for v in BRUSH_LADDER if v <= w.brush_slider.maximum()]
    ratios = [b / a for a, b in zip(sizes, sizes[1:]) if a >= 8]
    assert ratios and all(1.09 < r < 1.26 for r in ratios)
    for v in sizes[1:-1]:                               # ] then [ comes back to the same size
        w.brush_slider.setValue(v)
        w.options.change_brush(+1)
        w.options.change_brush(-1)
        assert w.brush_slider.value() == v
    w.brush_slider.setValue(16)                         # a quarter of this canvas
    Image.fromarray(np.full((256, 192), SKY, np.uint8)).save(tmp_path / "big.png")
    assert w.files.open_path(tmp_path / "big.png", ask=False)
    assert w.brush_slider.value() == 64 and w.brush_slider.maximum() >= 192


def handle_centre(slider) -> int:
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider
    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    return slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle,
                                         slider).center().x()


def test_a_click_on_the_blend_groove_goes_there_and_the_groove_shows_both_styles(make_window, qtbot, tmp_path):
    w = make_window()
    w.files.open_dropped(photo_file(tmp_path / "a" / "red.png"))
    w.styles.random("b", 3)
    slider = w.style_panel.blend
    assert slider.isEnabled() and slider.value() == 50
    for share, low, high in ((0.9, 85, 99), (0.1, 1, 15)):
        x = int(slider.width() * share)
        QTest.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
        assert low <= slider.value() <= high and abs(handle_centre(slider) - x) <= 2   # the handle is where clicked
        assert abs(w.doc.style.t - slider.value() / 100) < 1e-9
        assert w.style_panel.blend_value.text() == f"{slider.value()}%"
    css = slider.styleSheet()
    mean = tuple(int(c) for c in w.doc.style.a.pixels.reshape(-1, 3).mean(0))
    assert "qlineargradient" in css and f"rgb{mean}" in css      # from the photo's colour to the other style's


def test_the_full_window_photo_says_how_to_come_back(make_window, qtbot):
    w = make_window()
    w.actions["photo_full"].trigger()
    assert w.full_view.active and w.photo.hint == "F or Esc to return"
    qtbot.waitUntil(lambda: w.photo.hint == "", timeout=5000)   # for a moment only
    w.actions["photo_full"].trigger()
    assert not w.full_view.active and w.photo.hint == ""


def test_at_900x600_everything_shows_and_panels_grow_back(make_window, qtbot):
    w = make_window()
    w.resize(1400, 820)
    qtbot.wait(50)
    wide = {k: w.docks[k].width() for k in ("palette", "style")}
    w.resize(900, 600)
    qtbot.wait(50)
    assert w.size().toTuple() == (900, 600)
    sp = w.style_panel
    for part in (sp.blend, sp.thumb_b, sp.b_photo, sp.dice_button, sp.seed_box):
        shown = part.visibleRegion().boundingRect()
        assert part.isVisible() and shown.height() == part.height(), part
    w.resize(w.minimumSizeHint())
    qtbot.wait(50)
    w.resize(1400, 820)
    qtbot.waitUntil(lambda: all(abs(w.docks[k].width() - wide[k]) <= 2 for k in wide), timeout=2000)
    w.resizeDocks([w.docks["palette"]], [wide["palette"] + 60], Qt.Orientation.Horizontal)   # the user widens it
    qtbot.wait(50)
    chosen = w.docks["palette"].width()
    assert chosen > wide["palette"] + 30
    w.resize(900, 600)
    qtbot.wait(50)
    w.resize(1400, 820)
    qtbot.waitUntil(lambda: abs(w.docks["palette"].width() - chosen) <= 2, timeout=2000)


def test_a_conversion_to_a_set_of_300_classes_keeps_ids_above_255_and_undoes():
    from spade.labels import LabelSet
    from gauguin_app.document import Document
    big = LabelSet("big", ("unlabeled",) + tuple(f"c{i}" for i in range(1, 300)),
                   np.random.default_rng(0).integers(0, 256, (300, 3)).astype(np.uint8))
    doc = Document(np.full((8, 8), TREE, np.uint8), ADE)
    target = np.full((8, 8), 299)
    doc.convert(target, big, "convert to big")
    assert doc.label_set is big and doc.labels.dtype == big.id_dtype and (doc.labels == 299).all()
    doc.undo()
    assert doc.label_set is ADE and (doc.labels == TREE).all()
    doc.redo()
    assert (doc.labels == 299).all()
