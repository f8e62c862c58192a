"""What a model path names: one resolution for the command line, the app's Load Model and the trainer.

A path is a Gauguin checkpoint (folder, config.json or model.safetensors), an official SPADE checkpoint
(latest_net_G.pth or its folder), or a training run folder (the trainer's --checkpoint_dir), which stands for
its latest/ checkpoint. A folder holding several models and no latest/ is refused with their names.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .checkpoint import is_gauguin_checkpoint
from .errors import CheckpointError
from .paths import DEFAULT_MODEL_DIR

log = logging.getLogger(__name__)

LATEST = "latest"  # the trainer writes every save of a run to RUN/latest


def _is_official_folder(path: Path) -> bool:
    return any(path.glob("*_net_G.pth"))


def _is_model(path: Path) -> bool:
    return is_gauguin_checkpoint(path) or (path.is_dir() and _is_official_folder(path))


def resolve_model_path(path: str | Path | None) -> Path:
    """The checkpoint `path` names; None is the bundled model. Raises CheckpointError saying what to pass."""
    if path is None:
        if not (DEFAULT_MODEL_DIR / "config.json").is_file():
            raise CheckpointError("no bundled model is installed (assets/model); pass --model PATH with a "
                                  "Gauguin checkpoint or an official SPADE checkpoint")
        return DEFAULT_MODEL_DIR
    path = Path(path).expanduser()
    if not path.exists():
        raise CheckpointError(f"model not found: {path}")
    if not path.is_dir() or _is_model(path):
        return path
    for latest in (path / LATEST, path / f".{LATEST}-old"):  # the second one survives a save cut short
        if is_gauguin_checkpoint(latest):
            log.info("%s is a training run folder: loading %s", path, latest)
            return latest
    candidates = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".") and _is_model(p))
    if len(candidates) == 1:
        log.info("%s holds one model: loading %s", path, candidates[0])
        return candidates[0]
    if candidates:
        names = ", ".join(p.name for p in candidates)
        raise CheckpointError(f"{path} holds several models ({names}) and no {LATEST}/; pick one, e.g. "
                              f"{path / candidates[-1].name}")
    raise CheckpointError(f"{path}: no model here (no config.json of a Gauguin checkpoint, no latest_net_G.pth of "
                          f"an official one, no {LATEST}/ of a training run)")
