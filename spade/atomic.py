"""The one way Gauguin replaces a file or a folder: build it beside the target, then rename it into place.

A crash at any moment leaves either the old target or the new one, never a partial one. What a crash can
leave behind is named so that the next write to the same target recognises and removes it:

    .staging-NAME-XXXX    a file or folder being built for NAME (deleted on the next write to NAME)
    .NAME-old             the previous NAME, moved aside for the instant between the two renames of a
                          folder (put back when NAME is missing, else deleted)
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

STAGING_PREFIX = ".staging-"


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask is process-wide and not thread-safe to query later


def default_permissions(path: str | Path) -> None:
    """Give a file or folder made by tempfile (0600/0700) the permissions a plain open()/mkdir() would."""
    mode = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, mode & ~_UMASK)


def aside_path(target: Path) -> Path:
    """Where the previous version of a folder waits between the two renames of replace_folder."""
    return target.with_name(f".{target.name}-old")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_orphans(target: str | Path) -> int:
    """Remove what interrupted writes to `target` left beside it; put back a moved-aside folder when the
    target itself is missing. Returns how many leftovers were handled."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        return 0
    handled = 0
    for leftover in parent.glob(f"{STAGING_PREFIX}{target.name}-*"):
        _remove(leftover)
        handled += 1
    old = aside_path(target)
    if old.exists():
        if not target.exists():
            os.replace(old, target)
            log.warning("restored %s from %s (an earlier write was interrupted)", target, old.name)
        else:
            _remove(old)
        handled += 1
    return handled


def staging_path(target: str | Path, folder: bool = False) -> Path:
    """A fresh, empty staging file or folder beside `target` (after clearing earlier leftovers). A folder's
    parent folders are made; a file's folder must exist."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    if folder:
        parent.mkdir(parents=True, exist_ok=True)
    clean_orphans(target)
    prefix = f"{STAGING_PREFIX}{target.name}-"
    if folder:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=target.suffix, dir=parent)
    os.close(fd)
    return Path(tmp)


def atomic_write(path: str | Path, write: Callable[[str], object]) -> None:
    """Call write(tmp_path) then move the result onto `path`, so a failure leaves no partial file."""
    path = Path(path)
    tmp = staging_path(path)
    try:
        write(str(tmp))
        default_permissions(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_folder(staged: str | Path, target: str | Path) -> Path:
    """Move the finished folder `staged` onto `target` (replacing any folder there)."""
    staged, target = Path(staged), Path(target)
    default_permissions(staged)
    if not target.exists():
        os.replace(staged, target)
        return target
    old = aside_path(target)
    _remove(old)
    os.replace(target, old)
    try:
        os.replace(staged, target)
    except BaseException:
        os.replace(old, target)
        raise
    _remove(old)
    return target


def write_folder(target: str | Path, fill: Callable[[Path], object]) -> Path:
    """Build a folder with fill(staging_folder), then put it at `target` atomically."""
    target = Path(target)
    staged = staging_path(target, folder=True)
    try:
        fill(staged)
        return replace_folder(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
