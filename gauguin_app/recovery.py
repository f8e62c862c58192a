"""Autosave to a recovery file while editing, and find the files a crashed session left behind (no Qt).

Each running app writes `recovery-<pid>.gauguin`; a clean exit deletes it. At start, a recovery file
whose process is no longer alive is the work of a session that crashed.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .docfile import DocumentError, read_document, write_document
from .document import Document

log = logging.getLogger(__name__)
UNREADABLE = "unreadable"


@dataclass
class Orphan:
    """A crashed session's recovery file, read and ready to offer."""

    path: Path
    doc: Document
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        name = self.doc.path.name if self.doc.path else "an unsaved sketch"
        return f"{name}, autosaved at {when}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class RecoveryStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / f"recovery-{os.getpid()}.gauguin"

    def save(self, doc: Document) -> None:
        """Write the document's current state (keeps the original file name inside for the title)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        extra = {"recovered_from": str(doc.path) if doc.path else ""}
        write_document(self.path, doc, extra)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def orphans(self) -> list[Path]:
        """Recovery files of sessions that ended without cleaning up, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for p in self.folder.glob("recovery-*.gauguin"):
            if p == self.path:
                continue
            try:
                pid = int(p.stem.split("-", 1)[1])
            except ValueError:
                continue
            if not _alive(pid):
                found.append(p)
        return sorted(found, key=_mtime, reverse=True)

    def recoverable(self) -> tuple[list[Orphan], list[str]]:
        """Every orphan that reads as a document (newest first), and one message per orphan that does not;
        those are moved into the `unreadable` folder beside, kept for a person to look at, never deleted."""
        good, problems = [], []
        for path in self.orphans():
            try:
                doc = self.load(path)
            except DocumentError as e:
                problems.append(self._set_aside(path, str(e)))
                continue
            good.append(Orphan(path, doc, _mtime(path)))
        return good, problems

    def _set_aside(self, path: Path, reason: str) -> str:
        aside = self.folder / UNREADABLE
        try:
            aside.mkdir(exist_ok=True)
            os.replace(path, aside / path.name)
        except OSError as e:
            log.warning("cannot move %s aside: %s", path, e)
            return f"A recovery file cannot be read ({reason}); it stays at {path}."
        return f"A recovery file cannot be read ({reason}); it was kept as {aside / path.name}."

    @staticmethod
    def forget(orphan: Orphan) -> None:
        """Delete an orphan the user opened (its work now lives in this session) or declined."""
        orphan.path.unlink(missing_ok=True)

    @staticmethod
    def load(path: Path) -> Document:
        """Read a recovery file as an unsaved document attached to the file it came from."""
        doc, manifest = read_document(path)
        original = manifest.get("recovered_from") or ""
        doc.path = Path(original) if original else None
        doc.mark_dirty()
        return doc


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


__all__ = ["RecoveryStore", "Orphan", "DocumentError"]
