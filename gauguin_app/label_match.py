"""Does the sketch use the loaded model's label set, and what to do when not (no Qt).

A model can render only label maps of its own label set. A sketch painted in another set (an ADE20K sketch
when a COCO-Stuff model is loaded) is converted by class name (spade.label_convert) when the user agrees, as
one step of its undo history.
"""
from __future__ import annotations

from typing import Callable

from spade import SpadeRenderer
from spade.label_convert import convert_labels
from spade.labels import LabelSet

from .document import Document


def sets_differ(doc: Document, label_set: LabelSet) -> bool:
    return not doc.label_set.same_classes(label_set)


def convert_question(doc: Document, label_set: LabelSet) -> str:
    return (f"The sketch is painted in the label set {doc.label_set.display_name}; the model uses the label set "
            f"{label_set.display_name} and cannot render it as it is. Convert the sketch to the model's classes "
            f"by name? (No keeps the sketch as it is, without a photo.)")


def convert_document(doc: Document, label_set: LabelSet) -> str:
    """Convert `doc` to `label_set` by class name, as one undo step; returns what happened, in words."""
    conversion = convert_labels(doc.labels, doc.label_set, label_set)
    old = doc.label_set.display_name
    doc.convert(conversion.labels, label_set, f"convert to {label_set.display_name}")
    return f"Converted the sketch from {old} to {label_set.display_name}: {conversion.summary()} (Ctrl+Z undoes it)"


def follow_model(doc: Document, renderer: SpadeRenderer | None, ask: Callable[[str], bool]) -> str | None:
    """Convert the sketch to the model's label set when it is in another one and `ask` agrees; returns what
    happened, or None when nothing changes (declined: the sketch stays and renders nothing)."""
    if renderer is None or not sets_differ(doc, renderer.label_set):
        return None
    if not ask(convert_question(doc, renderer.label_set)):
        return None
    return convert_document(doc, renderer.label_set)


def mismatch_message(doc: Document, label_set: LabelSet) -> str:
    return (f"The sketch is in the label set {doc.label_set.display_name} but the model takes "
            f"{label_set.display_name}: load a model of the sketch's label set, or load this one again to convert "
            f"the sketch.")
