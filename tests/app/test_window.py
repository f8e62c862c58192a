"""The main window as a user sees it: painting with the mouse, tools, palette, style, files, recovery."""
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from spade import ade20k, read_mask, write_color_png, write_index_png

from .conftest import wait_for_model, wait_for_photo

SKY, TREE, GRASS, MOUNTAIN, SEA = (ade20k().id_of(n) for n in ("sky", "tree", "grass", "mountain", "sea"))


def widget_pos(canvas, x, y) -> QPointF:
    """The widget point over pixel (x, y)."""
    return QPointF(canvas.offset.x() + (x + 0.5) * canvas.scale, canvas.offset.y() + (y + 0.5) * canvas.scale)


def mouse(canvas, kind, x, y, button=Qt.MouseButton.LeftButton, held=True, mods=Qt.KeyboardModifier.NoModifier):
    pos = widget_pos(canvas, x, y)
    buttons = button if held else Qt.MouseButton.NoButton
    QApplication.sendEvent(canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons, mods))


def drag(canvas, points, button=Qt.MouseButton.LeftButton):
    mouse(canvas, QEvent.Type.MouseButtonPress, *points[0], button)
    for p in points[1:]:
        mouse(canvas, QEvent.Type.MouseMove, *p, Qt.MouseButton.NoButton if False else button)
    mouse(canvas, QEvent.Type.MouseButtonRelease, *points[-1], button, held=False)


def pick_class(w, cid):
    w.palette.select(cid)
    assert w.canvas.class_id == cid


def test_window_title_status_and_default_sketch(make_window, qtbot, tiny_model_path):
    w = make_window()
    assert w.windowTitle().startswith("Gauguin — Untitled")
    assert "tiny" in w.model_label.text() and "cpu" in w.device_label.text()
    wait_for_photo(qtbot, w)
    assert w.render_label.text().endswith("ms")
    assert w.photo.photo_array.shape == (64, 64, 3)


def test_brush_stroke_paints_exact_ids_and_undoes_in_one_step(make_window, qtbot):
    w = make_window()
    pick_class(w, TREE)
    w.brush_slider.setValue(5)
    before = w.doc.labels.copy()
    drag(w.canvas, [(10, 10), (20, 12), (30, 14), (40, 16)])
    changed = w.doc.labels != before
    assert changed.any() and set(np.unique(w.doc.labels[changed])) == {TREE}
    assert w.doc.labels[12, 20] == TREE and w.doc.labels[40, 10] == before[40, 10]
    assert w.windowTitle().endswith("*") or w.isWindowModified()
    w.undo_action.trigger()
    assert np.array_equal(w.doc.labels, before)
    w.redo_action.trigger()
    assert w.doc.labels[12, 20] == TREE
    assert not w.redo_action.isEnabled()


def test_eraser_writes_unlabeled(make_window):
    w = make_window()
    w.tool_actions["eraser"].trigger()
    w.brush_slider.setValue(3)
    drag(w.canvas, [(5, 5), (25, 5)])
    assert (w.doc.labels[5, 5:26] == 0).all()


def test_fill_is_contiguous_and_one_undo_step(make_window):
    w = make_window()
    labels = w.doc.labels
    top_class = labels[0, 0]
    w.tool_actions["fill"].trigger()
    pick_class(w, SEA)
    drag(w.canvas, [(3, 60)])              # the grass at the bottom
    assert (w.doc.labels[labels.shape[0] - 1] == SEA).all()
    assert w.doc.labels[0, 0] == top_class  # the sky is another region
    w.undo_action.trigger()
    assert w.doc.labels[63, 0] == GRASS


def test_line_polygon_and_eyedropper(make_window):
    w = make_window()
    pick_class(w, MOUNTAIN)
    w.tool_actions["line"].trigger()
    w.brush_slider.setValue(1)
    drag(w.canvas, [(2, 5), (30, 5), (60, 5)])
    assert (w.doc.labels[5, 2:61] == MOUNTAIN).all() and w.doc.labels[6, 30] != MOUNTAIN
    w.tool_actions["polygon"].trigger()
    pick_class(w, SEA)
    for p in [(10, 20), (40, 20), (40, 50)]:
        mouse(w.canvas, QEvent.Type.MouseButtonPress, *p)
        mouse(w.canvas, QEvent.Type.MouseButtonRelease, *p, held=False)
    mouse(w.canvas, QEvent.Type.MouseButtonPress, 10, 50)
    mouse(w.canvas, QEvent.Type.MouseButtonRelease, 10, 50, held=False)
    mouse(w.canvas, QEvent.Type.MouseButtonDblClick, 10, 50)
    assert (w.doc.labels[20:51, 10:41] == SEA).all()
    w.tool_actions["eyedropper"].trigger()
    drag(w.canvas, [(5, 5)])
    assert w.palette.current == MOUNTAIN and w.canvas.class_id == MOUNTAIN


def test_lasso_drag_fills_freehand_shape(make_window):
    w = make_window()
    w.tool_actions["polygon"].trigger()
    pick_class(w, TREE)
    drag(w.canvas, [(10, 10), (50, 10), (50, 50), (10, 50)])
    assert w.doc.labels[30, 30] == TREE and w.doc.labels[5, 5] != TREE


def test_shortcuts_are_shown_in_tooltips_and_brackets_resize(make_window):
    w = make_window()
    for tool, key in (("brush", "B"), ("eraser", "E"), ("fill", "G"), ("eyedropper", "I"), ("line", "L"),
                      ("polygon", "P")):
        a = w.tool_actions[tool]
        assert a.shortcut().toString() == key and f"({key})" in a.toolTip()
    w.brush_slider.setValue(20)
    w.options.change_brush(+1)
    assert w.canvas.brush_size == 23
    w.options.change_brush(-1)
    assert w.canvas.brush_size < 23


def test_zoomed_canvas_paints_under_the_cursor(make_window):
    w = make_window()
    c = w.canvas
    pos = widget_pos(c, 32, 32)
    QApplication.sendEvent(c, QWheelEvent(pos, c.mapToGlobal(pos), QPoint(), QPoint(0, 600),
                                          Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                          Qt.ScrollPhase.NoScrollPhase, False))
    assert c.scale > 2 and not c.fit_mode
    pick_class(w, TREE)
    w.brush_slider.setValue(1)
    drag(c, [(32, 32)])
    assert w.doc.labels[32, 32] == TREE and (w.doc.labels == TREE).sum() == 1


def test_palette_search_order_and_untrained_marks(make_window):
    w = make_window()
    pal = w.palette
    assert pal.visible_ids()[:3] == [SKY, ade20k().id_of("tree"), GRASS]
    assert "(not trained)" in pal.item_for(ade20k().id_of("car")).text()
    assert "(not trained)" not in pal.item_for(SKY).text()
    pal.search.setText("mount")
    assert pal.visible_ids() == [MOUNTAIN]
    pal.search.returnPressed.emit()
    assert w.canvas.class_id == MOUNTAIN and pal.recent[0] == MOUNTAIN


def test_dropping_a_photo_sets_the_style(make_window, qtbot, tmp_path):
    w = make_window()
    wait_for_photo(qtbot, w)
    before = w.photo.photo_array.copy()
    img = tmp_path / "sunset.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (120, 90, 3)).astype(np.uint8)).save(img)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(img))])
    pos = QPointF(50, 50)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(w, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(w, QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                         Qt.KeyboardModifier.NoModifier))
    assert w.doc.style.a.kind == "image" and w.doc.style.a.name == "sunset.jpg"
    assert "sunset" in w.style_panel.caption.text()
    wait_for_photo(qtbot, w)
    assert not np.array_equal(w.photo.photo_array, before)


def test_dice_style_is_reproducible_and_blend_works(make_window, qtbot, tiny_renderer):
    w = make_window()
    w.style_panel.seed_box.setValue(1234)
    assert w.doc.style.a.seed == 1234
    wait_for_photo(qtbot, w)
    expected = tiny_renderer.render(w.doc.labels, tiny_renderer.random_style(1234))
    assert np.array_equal(w.photo.photo_array, expected)
    w.styles.random("b", 99)
    w.style_panel.blend.setValue(100)
    assert w.doc.style.t == 1.0
    wait_for_photo(qtbot, w)
    expected = tiny_renderer.render(w.doc.labels, tiny_renderer.random_style(99))
    assert np.abs(w.photo.photo_array.astype(int) - expected).max() <= 1


def test_model_without_encoder_disables_style_controls(make_window, qtbot, plain_model_path, prompts, tmp_path):
    w = make_window(plain_model_path)
    sp = w.style_panel
    assert not sp.photo_button.isEnabled() and not sp.dice_button.isEnabled()
    assert "no style input" in sp.photo_button.toolTip()
    img = tmp_path / "p.png"
    Image.new("RGB", (8, 8), (200, 30, 30)).save(img)
    assert w.styles.set_photo(img) is False and "no style encoder" in prompts.errors[-1]
    wait_for_photo(qtbot, w)


def test_empty_state_without_a_model_still_paints(make_window, prompts):
    w = make_window(model_path=None)
    assert w.renderer is None and "No model loaded" in w.photo.message
    assert "Load Model" in w.photo.message
    pick_class(w, TREE)
    drag(w.canvas, [(10, 10), (30, 30)])
    assert w.doc.dirty
    assert w.files.export("photo") is False and "no photo" in prompts.errors[-1]


def test_bad_model_keeps_the_current_one(make_window, qtbot, prompts, tmp_path):
    w = make_window()
    name = w.renderer.name
    (tmp_path / "junk.pth").write_bytes(b"nonsense")
    w.models.load(str(tmp_path / "junk.pth"))
    wait_for_model(qtbot, w)
    assert w.renderer.name == name and prompts.errors and "\n" not in prompts.errors[-1]


def test_export_photo_sketch_and_side_by_side(make_window, qtbot, prompts, tmp_path):
    w = make_window()
    wait_for_photo(qtbot, w)
    h, wd = w.doc.shape
    for kind, name, size in (("photo", "p.png", (wd, h)), ("sketch", "s.jpg", (wd, h)),
                             ("side_by_side", "b.png", None)):
        prompts.save_path = str(tmp_path / name)
        assert w.files.export(kind)
        with Image.open(tmp_path / name) as img:
            assert img.mode == "RGB"
            if size:
                assert img.size == size
            else:
                assert img.width > 2 * wd and img.height == h
    assert np.array_equal(np.asarray(Image.open(tmp_path / "p.png")), w.photo.photo_array)
    assert w.settings.folder("export") == str(tmp_path)
    prompts.save_path = str(tmp_path / "p")              # no extension: .png is added, and it exists
    (tmp_path / "p.png").write_bytes(b"keep me")
    prompts.yes = False
    assert w.files.export("photo") is False
    assert (tmp_path / "p.png").read_bytes() == b"keep me" and prompts.questions


def test_save_mask_and_open_masks(make_window, prompts, tmp_path):
    w = make_window()
    pick_class(w, TREE)
    drag(w.canvas, [(20, 20), (40, 40)])
    prompts.save_path = str(tmp_path / "mask.png")
    assert w.files.save_mask(with_color=True)
    assert np.array_equal(read_mask(tmp_path / "mask.png"), w.doc.labels)
    assert np.array_equal(read_mask(tmp_path / "mask_color.png"), w.doc.labels)
    labels = np.full((96, 128), SEA, np.uint8)
    labels[:40] = SKY
    write_color_png(tmp_path / "rgb.png", labels)
    write_index_png(tmp_path / "index.png", labels)
    for name in ("rgb.png", "index.png"):
        assert w.files.open_path(tmp_path / name)
        assert np.array_equal(w.doc.labels, labels) and w.canvas.sketch.image.width() == 128


def test_document_round_trip_through_the_window(make_window, qtbot, prompts, tmp_path):
    w = make_window()
    pick_class(w, MOUNTAIN)
    drag(w.canvas, [(5, 30), (60, 30)])
    w.styles.random("a", 42)
    w.overlay_check.setChecked(True)
    wait_for_photo(qtbot, w)
    photo = w.photo.photo_array.copy()
    prompts.save_path = str(tmp_path / "work")
    assert w.files.save()
    path = tmp_path / "work.gauguin"
    assert path.is_file() and not w.doc.dirty and "work.gauguin" in w.windowTitle()
    w2 = make_window()
    assert w2.files.open_path(path)
    assert np.array_equal(w2.doc.labels, w.doc.labels) and w2.doc.style == w.doc.style
    assert w2.overlay_check.isChecked()
    wait_for_photo(qtbot, w2)
    assert np.array_equal(w2.photo.photo_array, photo)
    assert str(path.resolve()) in w2.settings.recent_files


def test_bad_files_show_one_line_and_keep_the_sketch(make_window, prompts, tmp_path):
    w = make_window()
    drag(w.canvas, [(10, 10), (20, 20)])
    labels = w.doc.labels.copy()
    (tmp_path / "bad.gauguin").write_bytes(b"garbage")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG nope")
    Image.fromarray(np.full((8, 8), 250, np.uint8)).save(tmp_path / "ids.png")
    for name in ("bad.gauguin", "bad.png", "ids.png", "missing.gauguin"):
        assert w.files.open_path(tmp_path / name, ask=False) is False
    assert len(prompts.errors) == 4 and all("\n" not in e for e in prompts.errors)
    assert np.array_equal(w.doc.labels, labels)


def test_unsaved_changes_prompt_on_close(make_window, prompts):
    w = make_window()
    pick_class(w, TREE)
    drag(w.canvas, [(10, 10), (20, 20)])
    prompts.save_changes = "cancel"
    assert w.close() is False and w.isVisible()
    assert any("save changes" in q for q in prompts.questions)
    prompts.save_changes = "discard"
    assert w.close() is True


def test_recovery_after_a_simulated_crash(make_window, qtbot, prompts, tmp_path):
    rec = tmp_path / "rec"
    w = make_window(recovery_dir=rec)
    pick_class(w, SEA)
    drag(w.canvas, [(5, 50), (60, 50)])
    assert w.autosaver.save()
    crashed = rec / "recovery-999999999.gauguin"     # as if the process had died
    w.autosaver.store.path.rename(crashed)
    labels = w.doc.labels.copy()
    w2 = make_window(recovery_dir=rec)
    assert w2.files.check_recovery()
    assert "did not close properly" in prompts.questions[-1]
    assert np.array_equal(w2.doc.labels, labels) and w2.doc.dirty
    assert not crashed.exists()
    w2.doc.mark_saved()
    w3 = make_window(recovery_dir=rec)
    assert w3.files.check_recovery() is False


def test_overlay_and_settings_persist(make_window, tmp_path):
    w = make_window()
    w.overlay_check.setChecked(True)
    w.overlay_opacity.setValue(30)
    assert w.photo.overlay and w.photo.overlay_opacity == pytest.approx(0.3)
    w.brush_slider.setValue(57)
    w.doc.mark_saved()
    w.close()
    w2 = make_window()
    assert w2.brush_slider.value() == 57


def test_command_line_arguments():
    from gauguin_app.main import parse_args
    args = parse_args(["work.gauguin", "--model", "m", "--device", "cpu"])
    assert (args.document, args.model, args.device) == ("work.gauguin", "m", "cpu")
    with pytest.raises(SystemExit):
        parse_args(["--device", "tpu"])


def test_examples_menu_opens_an_example(make_window):
    from spade.paths import EXAMPLES_DIR
    w = make_window()
    actions = w.examples_menu.actions()
    if not sorted(EXAMPLES_DIR.glob("*.png")):
        assert not w.examples_menu.isEnabled()
        return
    actions[0].trigger()
    first = sorted(EXAMPLES_DIR.glob("*.png"))[0]
    assert np.array_equal(w.doc.labels, read_mask(first)) and first.stem in w.windowTitle()


def test_shape_tools_drag_rectangles_and_ellipses_as_one_step(make_window):
    w = make_window()
    pick_class(w, SEA)
    w.tool_actions["rectangle"].trigger()
    before = w.doc.labels.copy()
    drag(w.canvas, [(10, 10), (20, 15), (30, 20)])
    assert (w.doc.labels[10:21, 10:31] == SEA).all() and w.doc.labels[9, 10] != SEA
    assert (w.doc.labels == SEA).sum() == 11 * 21
    assert w.undo_action.text().replace("&", "") == "Undo Rectangle"
    w.undo_action.trigger()
    assert np.array_equal(w.doc.labels, before)
    w.tool_actions["ellipse"].trigger()
    mouse(w.canvas, QEvent.Type.MouseButtonPress, 10, 10)
    mouse(w.canvas, QEvent.Type.MouseMove, 40, 20, mods=Qt.KeyboardModifier.ShiftModifier)   # Shift: a circle
    mouse(w.canvas, QEvent.Type.MouseButtonRelease, 40, 20, held=False)
    ys, xs = np.nonzero(w.doc.labels == SEA)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (10, 40, 10, 40)
    assert w.doc.labels[10, 10] != SEA and w.doc.labels[25, 25] == SEA


def test_brush_cursor_shows_the_class_colour(make_window):
    w = make_window()
    c = w.canvas
    sky = ade20k().colors[SKY].astype(int)
    for cid in (TREE, SEA):
        pick_class(w, cid)
        w.brush_slider.setValue(12)
        mouse(c, QEvent.Type.MouseMove, 20, 10, Qt.MouseButton.NoButton, held=False)   # over the sky
        pos = widget_pos(c, 20, 10).toPoint()
        seen = np.array(c.grab().toImage().pixelColor(pos).getRgb()[:3])
        want = ade20k().colors[cid].astype(int)
        assert np.abs(seen - want).sum() < np.abs(seen - sky).sum()


def test_history_list_goes_back_and_forward_to_any_step(make_window):
    w = make_window()
    states = [w.doc.labels.copy()]
    for cid, row in ((TREE, 10), (SEA, 30), (MOUNTAIN, 50)):
        pick_class(w, cid)
        drag(w.canvas, [(5, row), (60, row)])
        states.append(w.doc.labels.copy())
    h = w.history
    assert [h.item(i).text() for i in range(h.count())] == ["Opened", "Brush", "Brush", "Brush"]
    assert h.currentRow() == 3 and w.docks["history"].isVisible()
    h.itemClicked.emit(h.item(1))
    assert np.array_equal(w.doc.labels, states[1]) and h.currentRow() == 1 and w.redo_action.isEnabled()
    h.itemClicked.emit(h.item(3))
    assert np.array_equal(w.doc.labels, states[3])
    h.itemClicked.emit(h.item(0))
    assert np.array_equal(w.doc.labels, states[0]) and not w.undo_action.isEnabled()
    w.actions["history"].trigger()
    assert not w.docks["history"].isVisible() and not w.actions["history"].isChecked()
