"""The keyboard as a user drives it (QTest key clicks through Qt's shortcut map), zoom and menus."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from spade import ade20k

from .test_window import drag, pick_class

MOD = Qt.KeyboardModifier
CTRL, SHIFT, NONE = MOD.ControlModifier, MOD.ShiftModifier, MOD.NoModifier
TREE = ade20k().id_of("tree")


def key(w, k, mods=NONE) -> None:
    w.activateWindow()
    w.canvas.setFocus()
    QTest.keyClick(w.canvas, k, mods)


@pytest.mark.parametrize("k, tool", [(Qt.Key.Key_E, "eraser"), (Qt.Key.Key_G, "fill"), (Qt.Key.Key_L, "line"),
                                     (Qt.Key.Key_P, "polygon"), (Qt.Key.Key_I, "eyedropper"), (Qt.Key.Key_B, "brush")])
def test_tool_keys(make_window, k, tool):
    w = make_window()
    w.set_tool("fill" if tool == "brush" else "brush")
    key(w, k)
    assert w.canvas.tool == tool and w.tool_actions[tool].isChecked()


def test_bracket_undo_redo_and_zoom_keys(make_window):
    w = make_window()
    w.brush_slider.setValue(20)
    key(w, Qt.Key.Key_BracketRight)
    assert w.brush_slider.value() == 23
    key(w, Qt.Key.Key_BracketLeft)
    assert w.brush_slider.value() < 23
    pick_class(w, TREE)
    drag(w.canvas, [(5, 5), (20, 5)])
    key(w, Qt.Key.Key_Z, CTRL)
    assert not (w.doc.labels == TREE).any()
    key(w, Qt.Key.Key_Y, CTRL)
    assert (w.doc.labels == TREE).any()
    key(w, Qt.Key.Key_Z, CTRL)
    key(w, Qt.Key.Key_Z, CTRL | SHIFT)
    assert (w.doc.labels == TREE).any()
    key(w, Qt.Key.Key_1, CTRL)
    assert w.canvas.scale == 1.0 and not w.canvas.fit_mode and w.zoom_label.text() == "100%"
    key(w, Qt.Key.Key_Equal, CTRL)
    assert w.canvas.scale == pytest.approx(1.25)
    key(w, Qt.Key.Key_0, CTRL)
    assert w.canvas.fit_mode and w.canvas.scale > 2 and w.zoom_label.text() == f"{w.canvas.scale * 100:.0f}%"


def test_recent_files_are_listed_from_the_start(make_window, prompts, tmp_path):
    w = make_window()
    prompts.save_path = str(tmp_path / "kept.gauguin")
    assert w.save()
    w.close()
    w2 = make_window()
    names = [a.text() for a in w2.recent_menu.actions()]
    assert names == ["kept.gauguin"] and w2.recent_menu.isEnabled()


def test_no_model_disables_the_toolbar_dice(make_window):
    w = make_window(model_path=None)
    assert not w.dice_action.isEnabled() and "load a model" in w.dice_action.toolTip()
    assert "\u2011\u2011model" in w.photo.message
    w2 = make_window()
    assert w2.dice_action.isEnabled()
