"""Does a document belong to the loaded model? (no Qt)

A document renders the same photo only with the model it was made with. It stores that model as a reference
(a path, or the model's name for models that were not loaded from disk); this module compares it with the
loaded model and the one being loaded and says what the app should do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SAME, ELSEWHERE, MISSING = "same", "elsewhere", "missing"


def same_path(a: str, b: str) -> bool:
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return a == b


def model_name(ref: str) -> str:
    """The name users know a model reference by: the name in its checkpoint config (the bundled model's folder
    is just "model"), else the file or folder name."""
    path = Path(ref)
    config = path / "config.json" if path.is_dir() else path if path.name == "config.json" else None
    try:
        name = json.loads(config.read_text(encoding="utf-8")).get("name") if config else None
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else (path.name or ref)


@dataclass(frozen=True)
class ModelMatch:
    """`kind`: SAME (nothing to do), ELSEWHERE (the document's model is on disk: offer to load it) or
    MISSING (it cannot be found); `name` is the document's model as users know it."""

    kind: str
    name: str = ""


def match_model(document_ref: str, loaded_ref: str, pending_ref: str, loaded_name: str | None) -> ModelMatch:
    """Compare a document's model reference with the loaded model (`loaded_ref`, `loaded_name`) and the one
    being loaded (`pending_ref`; '' when none)."""
    if not document_ref:
        return ModelMatch(SAME)
    for current in (loaded_ref, pending_ref):
        if current and same_path(current, document_ref):
            return ModelMatch(SAME)
    exists = Path(document_ref).exists()
    if loaded_name is not None and document_ref == loaded_name and not exists:
        return ModelMatch(SAME)
    return ModelMatch(ELSEWHERE if exists else MISSING, model_name(document_ref))
