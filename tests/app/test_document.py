"""The document model: one undo step per stroke that stores only the changed pixels."""
import numpy as np

from gauguin_app.document import Document
from gauguin_app.painting import stroke_segment


def stroke(doc, points, value, size=5):
    doc.begin_stroke()
    for p, q in zip(points[:-1], points[1:]):
        doc.paint(stroke_segment(doc.shape, p, q, size), value)
    return doc.end_stroke()


def test_a_stroke_is_one_undo_step_with_only_changed_pixels():
    doc = Document.blank(64, 64, fill=3)
    before = doc.labels.copy()
    edit = stroke(doc, [(5, 5), (30, 5), (30, 30), (5, 30)], 10)
    changed = np.flatnonzero(before.ravel() != doc.labels.ravel())
    assert edit is not None and sorted(edit.indices.tolist()) == changed.tolist()
    assert (edit.old == 3).all() and (edit.new == 10).all()
    assert doc.undo() is True
    assert (doc.labels == before).all()
    assert doc.undo() is False


def test_painting_over_own_stroke_stores_first_old_value():
    doc = Document.blank(32, 32, fill=1)
    edit = stroke(doc, [(10, 10), (20, 10), (10, 10)], 2)
    assert (edit.old == 1).all()
    doc.undo()
    assert (doc.labels == 1).all()


def test_redo_and_new_edit_clears_redo():
    doc = Document.blank(32, 32)
    stroke(doc, [(2, 2), (20, 2)], 5)
    after_first = doc.labels.copy()
    stroke(doc, [(2, 20), (20, 20)], 6)
    doc.undo()
    assert (doc.labels == after_first).all()
    doc.redo()
    assert doc.labels[20, 10] == 6
    doc.undo()
    stroke(doc, [(2, 10), (20, 10)], 7)
    assert not doc.undo_stack.can_redo


def test_dirty_follows_the_undo_position():
    doc = Document.blank(16, 16)
    assert not doc.dirty
    stroke(doc, [(2, 2), (8, 8)], 4)
    assert doc.dirty
    doc.mark_saved()
    assert not doc.dirty
    doc.undo()
    assert doc.dirty
    doc.redo()
    assert not doc.dirty


def test_unchanged_stroke_pushes_nothing_and_cancel_restores():
    doc = Document.blank(16, 16, fill=2)
    assert stroke(doc, [(3, 3), (9, 9)], 2) is None
    assert not doc.undo_stack.can_undo
    doc.begin_stroke()
    doc.paint(stroke_segment(doc.shape, (3, 3), (9, 9), 3), 8)
    doc.cancel_stroke()
    assert (doc.labels == 2).all() and not doc.undo_stack.can_undo


def test_listeners_get_the_changed_box():
    doc = Document.blank(40, 40)
    boxes = []
    doc.listeners.append(boxes.append)
    stroke(doc, [(20, 20), (20, 20)], 1, size=5)
    y0, y1, x0, x1 = boxes[0]
    assert y0 <= 18 and y1 >= 23 and x0 <= 18 and x1 >= 23 and y1 - y0 < 12


def test_stroke_block_is_one_step_and_an_error_inside_throws_it_away():
    import pytest
    doc = Document.blank(32, 32, fill=1)
    with doc.stroke("fill"):
        doc.paint(stroke_segment(doc.shape, (2, 2), (20, 2), 3), 5)
        doc.paint(stroke_segment(doc.shape, (2, 20), (20, 20), 3), 6)
    assert doc.undo_stack.undo_name == "fill" and not doc.in_stroke
    doc.undo()
    assert (doc.labels == 1).all() and not doc.undo_stack.can_undo
    with pytest.raises(RuntimeError):
        with doc.stroke():
            doc.paint(stroke_segment(doc.shape, (2, 2), (20, 2), 3), 5)
            raise RuntimeError("a tool failed half-way")
    assert (doc.labels == 1).all() and not doc.undo_stack.can_undo and not doc.in_stroke
