"""Autosave to a recovery file while editing, and find the files a crashed session left behind (no Qt).

Each running app writes `recovery-<pid>.gauguin`; a clean exit deletes it. At start, a recovery file
whose process is no longer alive is the work of a session that crashed. A recovered document has no path of
its own: the file it was autosaved from is only named to the user, so nothing in a recovery file can make a
plain Save write somewhere the user did not choose.
"""
from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from spade.atomic import STAGING_PREFIX, clean_orphans

from .docfile import DocumentError, read_document, write_document
from .document import Document

log = logging.getLogger(__name__)
UNREADABLE = "unreadable"
RECOVERY_NAME = re.compile(r"recovery-(\d{1,40})\.gauguin")
HINT_MAX = 1000


@dataclass
class Orphan:
    """A crashed session's recovery file, read and ready to offer."""

    path: Path
    doc: Document
    saved_at: float
    original: str = ""  # the document the work was autosaved from, as the recovery file says (a hint)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        name = f"a copy of {self.original}" if self.original else "an unsaved sketch"
        return f"{name}, autosaved at {when}"


def _alive(pid: int) -> bool:
    """Whether process `pid` may still be running (0 and numbers past any pid are no process at all)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:
        return True
    return True


def _session_pid(name: str) -> int | None:
    """The pid in a recovery file's name (`recovery-<pid>.gauguin`), None for any other name."""
    match = RECOVERY_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def _hint(value: object) -> str:
    """The recorded original path, when it is one printable line of text ('' otherwise)."""
    if not isinstance(value, str) or len(value) > HINT_MAX or not value.isprintable():
        return ""
    return value.strip()


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
            pid = _session_pid(p.name)
            if p != self.path and pid is not None and not _alive(pid):
                found.append(p)
        return sorted(found, key=_mtime, reverse=True)

    def clean_staging(self) -> int:
        """Remove the half-written autosaves (spade.atomic staging files) of sessions that are no longer
        running; returns how many targets had some."""
        if not self.folder.is_dir():
            return 0
        cleaned = 0
        for leftover in self.folder.glob(f"{STAGING_PREFIX}recovery-*"):
            name = leftover.name[len(STAGING_PREFIX):].split(".gauguin-", 1)[0] + ".gauguin"
            pid = _session_pid(name)
            if pid is not None and not _alive(pid) and clean_orphans(self.folder / name):
                cleaned += 1
        return cleaned

    def recoverable(self) -> tuple[list[Orphan], list[str]]:
        """Every orphan that reads as a document (newest first), and one message per orphan that does not;
        those are moved into the `unreadable` folder beside, kept for a person to look at, never deleted.
        Half-written autosaves of ended sessions are removed first."""
        self.clean_staging()
        good, problems = [], []
        for path in self.orphans():
            try:
                good.append(self.load(path))
            except Exception as e:  # a crafted file must not stop the start: anything wrong is one message
                problems.append(self.set_aside(path, str(e) if isinstance(e, DocumentError) else
                                               f"{path.name}: {type(e).__name__}: {e}"))
        return good, problems

    def set_aside(self, path: Path, reason: str) -> str:
        """Move a recovery file that cannot be used into the `unreadable` folder; the message to show."""
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
    def load(path: Path) -> Orphan:
        """Read a recovery file as an unsaved document without a path (the file it came from is a hint)."""
        doc, manifest = read_document(path)
        doc.path = None
        doc.mark_dirty()
        return Orphan(path, doc, _mtime(path), _hint(manifest.get("recovered_from")))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


__all__ = ["RecoveryStore", "Orphan", "DocumentError"]
