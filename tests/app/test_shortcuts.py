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
    assert w.files.save()
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


def test_every_command_of_the_table_reaches_the_window(make_window):
    """The table names what each command calls; every call must resolve on a real window."""
    from gauguin_app.actions import ActionSet, commands
    w = make_window()
    for c in commands():
        path, *_ = c.call or (c.name,)
        target = w
        for part in path.split("."):
            target = getattr(target, part)
        assert callable(target), c.name
    assert set(w.actions.actions) == {c.name for c in commands()}
    assert isinstance(w.actions, ActionSet)


def test_shortcut_sheet_and_menus_come_from_the_table(make_window, prompts):
    from gauguin_app.actions import TOOLBAR_ONLY, commands, plain
    w = make_window()
    w.actions["shortcuts"].trigger()
    sheet = prompts.infos[-1]
    in_menus = [a for m in w.menuBar().findChildren(type(w.recent_menu)) for a in m.actions()]
    for c in commands():
        if c.keys:
            assert " / ".join(c.keys) in sheet and (c.tip or plain(c.text)) in sheet
        if c not in TOOLBAR_ONLY:
            assert w.actions[c.name] in in_menus, c.name


def test_full_window_photo_with_f_double_click_and_escape(make_window, qtbot):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication
    w = make_window()
    w.docks["history"].hide()                        # a dock the user closed stays closed afterwards
    key(w, Qt.Key.Key_F)
    assert w.canvas.isHidden() and not w.photo.isHidden() and w.menuBar().isHidden()
    assert all(d.isHidden() for d in w.docks.values()) and w.actions["photo_full"].isChecked()
    qtbot.waitUntil(lambda: w.photo.width() > 0.9 * w.width())
    QTest.keyClick(w.photo, Qt.Key.Key_Escape)
    assert not w.canvas.isHidden() and not w.menuBar().isHidden() and not w.docks["style"].isHidden()
    assert w.docks["history"].isHidden() and not w.actions["photo_full"].isChecked()
    pos = QPointF(20, 20)
    QApplication.sendEvent(w.photo, QMouseEvent(QEvent.Type.MouseButtonDblClick, pos, w.photo.mapToGlobal(pos),
                                                Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                                                Qt.KeyboardModifier.NoModifier))
    assert w.canvas.isHidden()
    QTest.keyClick(w.photo, Qt.Key.Key_F)
    assert not w.canvas.isHidden()
