"""One undo mechanism for label edits: each step stores only the changed pixels (indices, old, new), and the
label sets when the step converts the sketch to another set."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from spade.labels import LabelSet

_serials = itertools.count(1)


@dataclass(frozen=True)
class LabelEdit:
    """The pixels one stroke (or fill, or polygon, ...) changed, as flat indices into the label map; a
    conversion to another label set also holds the sets before and after (`label_sets`)."""

    indices: np.ndarray
    old: np.ndarray
    new: np.ndarray
    name: str = "edit"
    serial: int = field(default_factory=lambda: next(_serials))
    label_sets: tuple[LabelSet, LabelSet] | None = field(default=None, repr=False)

    @property
    def nbytes(self) -> int:
        return self.indices.nbytes + self.old.nbytes + self.new.nbytes

    def apply(self, labels: np.ndarray) -> None:
        labels.reshape(-1)[self.indices] = self.new

    def revert(self, labels: np.ndarray) -> None:
        labels.reshape(-1)[self.indices] = self.old

    @classmethod
    def between(cls, before: np.ndarray, after: np.ndarray, name: str = "edit") -> "LabelEdit | None":
        """The edit that turns `before` into `after`, or None when nothing changed."""
        if before.shape != after.shape:
            raise ValueError("an edit cannot change the map's shape")
        indices = np.flatnonzero(before.reshape(-1) != after.reshape(-1))
        if indices.size == 0:
            return None
        return cls(indices, before.reshape(-1)[indices].copy(), after.reshape(-1)[indices].copy(), name)

    def bbox(self, width: int) -> tuple[int, int, int, int] | None:
        """(y0, y1, x0, x1) of the changed pixels in a map `width` pixels wide; None (all of it) for a change of
        label set, whose colours change everywhere."""
        if self.label_sets is not None or self.indices.size == 0:
            return None
        ys, xs = np.divmod(self.indices, width)
        return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


class UndoStack:
    """A linear history of edits with a memory cap; `state` identifies the current point in history."""

    def __init__(self, max_bytes: int = 512 * 2**20, max_steps: int = 500):
        self.max_bytes = max_bytes
        self.max_steps = max_steps
        self._done: list[LabelEdit] = []
        self._undone: list[LabelEdit] = []

    def push(self, edit: LabelEdit) -> None:
        self._done.append(edit)
        self._undone.clear()
        while len(self._done) > 1 and (len(self._done) > self.max_steps
                                       or sum(e.nbytes for e in self._done) > self.max_bytes):
            self._done.pop(0)

    def undo(self) -> LabelEdit | None:
        if not self._done:
            return None
        edit = self._done.pop()
        self._undone.append(edit)
        return edit

    def redo(self) -> LabelEdit | None:
        if not self._undone:
            return None
        edit = self._undone.pop()
        self._done.append(edit)
        return edit

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_name(self) -> str:
        return self._done[-1].name if self._done else ""

    @property
    def redo_name(self) -> str:
        return self._undone[-1].name if self._undone else ""

    @property
    def names(self) -> list[str]:
        """The names of every step, oldest first: the applied ones, then the undone ones (still redoable)."""
        return [e.name for e in self._done] + [e.name for e in reversed(self._undone)]

    @property
    def position(self) -> int:
        """How many steps of `names` are applied."""
        return len(self._done)

    @property
    def state(self) -> int:
        """The serial of the newest applied edit (0 at the start): equal states mean equal label maps."""
        return self._done[-1].serial if self._done else 0
