"""What a new user hit in a real window, one test per report (numbered as in the report)."""
import numpy as np
import torch
from PySide6.QtCore import QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from spade import ade20k, write_index_png
from spade.checkpoint import save_checkpoint
from spade.model import ConvEncoder, EncoderConfig, GeneratorConfig, SPADEGenerator

from .conftest import wait_for_model
from .test_window import drag, mouse, widget_pos

LS = ade20k()
SKY, GRASS, SEA, SAND, CAR = (LS.id_of(n) for n in ("sky", "grass", "sea", "sand", "car"))


def focus_search(w):
    w.activateWindow()
    w.palette.search.setFocus()
    QApplication.processEvents()


def test_1_search_enter_gives_the_keyboard_back_and_no_match_says_so(make_window):
    w = make_window()
    focus_search(w)
    QTest.keyClicks(w.palette.search, "sand")
    QTest.keyClick(w.palette.search, Qt.Key.Key_Return)
    assert w.canvas.class_id == SAND
    overlay = w.overlay_check.isChecked()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_O)
    assert w.overlay_check.isChecked() != overlay
    assert w.palette.search.text() == "" and len(w.palette.visible_ids()) > 1  # the pick cleared the search
    focus_search(w)
    QTest.keyClick(w.palette.search, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is w.canvas
    w.palette.search.setText("zzzq")
    assert w.palette.visible_ids() == []
    assert not w.palette.no_match.isHidden() and "zzzq" in w.palette.no_match.text()
    w.palette.search.setText("sky")
    assert w.palette.no_match.isHidden()


def test_2_the_style_stays_across_new_sketches_and_the_panel_shows_it(make_window, tmp_path):
    w = make_window()
    presets = w.style_panel.presets
    if presets.count():
        presets.setCurrentItem(presets.item(0))          # what a click does
        presets.itemClicked.emit(presets.item(0))
        assert presets.selectedItems() == [presets.item(0)] and w.doc.style.a.kind == "image"
        assert w.style_panel.seed_box.text() == w.style_panel.seed_box.specialValueText()
    w.styles.random("a", 2079630512)
    w.styles.random("b", 7)
    style = w.doc.style
    assert presets.selectedItems() == []
    assert w.style_panel.seed_box.value() == 2079630512
    write_index_png(tmp_path / "mask.png", np.full((64, 64), SEA, np.uint8))
    assert w.files.open_path(tmp_path / "mask.png", ask=False)
    assert w.doc.style == style
    from gauguin_app.style_panel import seed_font
    from PySide6.QtGui import QFontMetrics
    assert QFontMetrics(seed_font("2079630512", 84)).horizontalAdvance("2079630512") <= 84 - 8


def test_3_status_bar_follows_a_fill_and_a_zoom_without_moving_the_mouse(make_window):
    w = make_window()
    w.set_tool("fill")
    w.palette.select(SEA)
    mouse(w.canvas, QEvent.Type.MouseMove, 5, 60, Qt.MouseButton.NoButton, held=False)
    assert w.cursor_label.text() == "5, 60 · grass"
    mouse(w.canvas, QEvent.Type.MouseButtonPress, 5, 60)
    mouse(w.canvas, QEvent.Type.MouseButtonRelease, 5, 60, held=False)
    assert w.cursor_label.text() == "5, 60 · sea"
    under_mouse = widget_pos(w.canvas, 5, 60)
    w.canvas.zoom_by(2.0)                       # Ctrl+=: zooms at the centre, another pixel is under the mouse
    x, y = (round(v) for v in w.canvas.to_image(under_mouse))
    assert (x, y) != (5, 60) and w.cursor_label.text().startswith(f"{x}, {y} · ")


def test_4_a_failed_load_clears_loading_before_the_message(make_window, qtbot, prompts, tmp_path, monkeypatch):
    w = make_window()
    seen = []
    from gauguin_app import prompts as mod
    monkeypatch.setattr(mod, "show_error", lambda parent, text, title="": seen.append(
        (text, w.loading_bar.isHidden(), w.loading_label.isHidden())))
    w.models.load(str(tmp_path / "nowhere"))
    wait_for_model(qtbot, w)
    assert seen and seen[0][1:] == (True, True)


def test_5_the_unsaved_changes_question_names_what_happens_next(make_window, prompts, tmp_path):
    w = make_window()
    write_index_png(tmp_path / "mask.png", np.full((64, 64), SEA, np.uint8))
    w.palette.select(SAND)
    drag(w.canvas, [(10, 10), (20, 20)])
    prompts.save_changes = "cancel"
    assert not w.files.open_path(tmp_path / "mask.png")
    assert "before opening" in prompts.questions[-1]
    w.actions["new_canvas"].trigger()
    assert "before starting a new canvas" in prompts.questions[-1]
    prompts.save_changes = "discard"


def test_6_the_different_model_question_uses_the_models_name(make_window, prompts, tmp_path, plain_model_path):
    torch.manual_seed(3)
    folder = save_checkpoint(tmp_path / "model", SPADEGenerator(GeneratorConfig(ngf=4, spade_hidden=8, use_vae=True,
                                                                              crop_size=64)),
                             ConvEncoder(EncoderConfig(ndf=4, input_size=64)), name="meadow-painter")
    w = make_window(folder)
    drag(w.canvas, [(5, 5), (20, 20)])
    prompts.save_path = str(tmp_path / "a.gauguin")
    assert w.files.save()
    w2 = make_window(plain_model_path)
    prompts.yes = False
    assert w2.files.open_path(tmp_path / "a.gauguin", ask=False)
    assert "“meadow-painter”" in prompts.questions[-1] and "“model”" not in prompts.questions[-1]


def test_7_model_info_counts_every_training_stage():
    from gauguin_app.dialogs import model_info_html
    info = {"name": "m", "classes": 3, "label_set": "ade20k",
            "training": {"iterations": 1000, "earlier_stages": [{"iterations": 10000}, {"iterations": 400}]}}
    html = model_info_html(info, LS)
    assert "11400" in html and "3 stages" in html and "Iterations</b>&nbsp;&nbsp;</td><td>1000<" not in html


def test_8_the_toolbar_does_not_move_when_undo_text_changes(make_window):
    w = make_window()
    QApplication.processEvents()
    x = w.overlay_check.mapTo(w, w.overlay_check.rect().topLeft()).x()
    drag(w.canvas, [(5, 5), (30, 30)])
    w.undo_action.setText("&Undo A Much Longer Step Name")
    QApplication.processEvents()
    assert w.overlay_check.mapTo(w, w.overlay_check.rect().topLeft()).x() == x


def test_9_a_wide_canvas_with_a_square_model_keeps_its_aspect(tiny_renderer):
    from gauguin_app.document import StyleSettings, StyleSource
    from gauguin_app.rendering import RenderJob, render_job
    labels = np.full((64, 128), GRASS, np.uint8)
    labels[:30] = SKY
    result = render_job(RenderJob(1, 0, labels, StyleSettings(StyleSource("seed", 1)), tiny_renderer))
    h, w, _ = result.image.shape
    assert (h, w) == (32, 64)                  # 2:1 like the canvas, not a square stretched 2x


def test_10_open_recent_lists_masks_too(make_window, tmp_path):
    w = make_window()
    write_index_png(tmp_path / "coast.png", np.full((64, 64), SEA, np.uint8))
    assert w.files.open_path(tmp_path / "coast.png", ask=False)
    assert "coast.png" in [a.text() for a in w.recent_menu.actions()]


def test_11_presets_show_with_names_and_untrained_classes_wait_behind_a_toggle(make_window):
    w = make_window()
    presets = w.style_panel.presets
    QApplication.processEvents()
    for i in range(presets.count()):
        item = presets.item(i)
        assert item.text() and presets.viewport().rect().contains(presets.visualItemRect(item))
    pal = w.palette
    assert CAR not in pal.visible_ids() and SKY in pal.visible_ids()
    pal.show_untrained.setChecked(True)
    assert CAR in pal.visible_ids()
    pal.show_untrained.setChecked(False)
    pal.search.setText("car")
    assert pal.visible_ids() == [] and "not trained" in pal.no_match.text()
