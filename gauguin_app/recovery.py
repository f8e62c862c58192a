"""Autosave to a recovery file while editing, and find the files a crashed session left behind (no Qt).

Each running app writes `recovery-<pid>.gauguin`; a clean exit deletes it. At start, a recovery file
whose process is no longer alive is the work of a session that crashed.
"""
from __future__ import annotations

import os
from pathlib import Path

from .docfile import DocumentError, read_document, write_document
from .document import Document


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
            try:
                pid = int(p.stem.split("-", 1)[1])
            except ValueError:
                continue
            if not _alive(pid):
                found.append(p)
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    @staticmethod
    def load(path: Path) -> Document:
        """Read a recovery file as an unsaved document attached to the file it came from."""
        doc, manifest = read_document(path)
        original = manifest.get("recovered_from") or ""
        doc.path = Path(original) if original else None
        doc.mark_dirty()
        return doc


__all__ = ["RecoveryStore", "DocumentError"]
