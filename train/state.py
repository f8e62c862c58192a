"""Checkpoint folders that are both a renderable model and an exact resume point.

A folder holds spade.checkpoint's `config.json` + `model.safetensors` (so `gauguin render --model DIR` and
the app load it) and two more files: `training_state.safetensors` (discriminator, optimiser moments, RNG
states, classes seen, and full-precision G/E when the export is float16) and `training_state.json`
(iteration, epoch, position in the epoch, optimiser hyper-parameters, grad-scaler state, the run's
configuration). Nothing is pickled. The folder is assembled in a staging folder and renamed into place.
"""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from spade.atomic import aside_path, clean_orphans, replace_folder, staging_path
from spade.checkpoint import CONFIG_NAME, SaveError, save_checkpoint, write_failure
from spade.model_path import LATEST

from .errors import TrainError

log = logging.getLogger(__name__)

STATE_FORMAT = "gauguin-train-state"
STATE_VERSION = 1
STATE_TENSORS = "training_state.safetensors"
DISCRIMINATOR_TENSORS = "discriminator.safetensors"
STATE_JSON = "training_state.json"


@dataclass
class TrainingState:
    """Everything besides the networks' weights that a resumed run needs to continue identically."""

    iteration: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    elapsed_s: float = 0.0
    losses: dict[str, float] = field(default_factory=dict)
    seen_classes: torch.Tensor | None = None
    optimizers: dict[str, dict] = field(default_factory=dict)
    scalers: dict[str, dict] = field(default_factory=dict)
    rng: dict[str, torch.Tensor] = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    world_size: int = 1


def _flatten_optimizer(prefix: str, state: dict, tensors: dict[str, torch.Tensor]) -> dict:
    """Optimizer.state_dict() -> JSON-able dict; its tensors go into `tensors` under `prefix`."""
    per_param: dict[str, dict] = {}
    for index, entries in state["state"].items():
        plain = {}
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.state.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                plain[name] = value
        per_param[str(index)] = plain
    return {"param_groups": state["param_groups"], "state": per_param}


def _unflatten_optimizer(prefix: str, meta: dict, tensors: dict[str, torch.Tensor]) -> dict:
    state: dict[int, dict] = {int(i): dict(v) for i, v in meta["state"].items()}
    head = f"{prefix}.state."
    for key, value in tensors.items():
        if key.startswith(head):
            index, name = key[len(head):].split(".", 1)
            state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _prefixed(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def save_training_checkpoint(folder: Path, *, generator: torch.nn.Module, encoder: torch.nn.Module | None,
                             discriminator: torch.nn.Module, state: TrainingState, label_set, label_to_channel,
                             trained_classes: list[int], training_record: dict, save_dtype: torch.dtype,
                             name: str, numbered: Path | None = None, instance_edges: bool = False) -> Path:
    """Write `folder` atomically (and a copy at `numbered` when given); a failed write (a full disk) raises
    SaveError and leaves the previous checkpoint as it was."""
    staging = staging_path(folder, folder=True)
    try:
        staged = save_checkpoint(staging / folder.name, generator, encoder, label_set=label_set,
                                 label_to_channel=label_to_channel, trained_classes=trained_classes,
                                 training=training_record, dtype=None if save_dtype == torch.float32 else save_dtype,
                                 name=name, instance_edges=instance_edges)
        tensors = _prefixed("discriminator", discriminator)
        if save_dtype != torch.float32:
            tensors.update(_prefixed("generator", generator))
            if encoder is not None:
                tensors.update(_prefixed("encoder", encoder))
        meta_optim = {k: _flatten_optimizer(f"optimizer_{k}", v, tensors) for k, v in state.optimizers.items()}
        for k, v in state.rng.items():
            tensors[f"rng.{k}"] = v.detach().cpu().contiguous()
        if state.seen_classes is not None:
            tensors["seen_classes"] = state.seen_classes.detach().cpu().to(torch.uint8).contiguous()
        save_file(tensors, str(staged / STATE_TENSORS))
        meta = {"format": STATE_FORMAT, "version": STATE_VERSION, "iteration": state.iteration,
                "epoch": state.epoch, "batch_in_epoch": state.batch_in_epoch, "elapsed_s": state.elapsed_s,
                "losses": state.losses, "optimizers": meta_optim, "scalers": state.scalers,
                "config": state.config, "world_size": state.world_size,
                "full_precision_weights": save_dtype != torch.float32}
        (staged / STATE_JSON).write_text(json.dumps(meta, indent=1))
        if numbered is not None:
            copy = staging / numbered.name
            shutil.copytree(staged, copy)
            clean_orphans(numbered)
            replace_folder(copy, numbered)
        replace_folder(staged, folder)
    except SaveError as e:  # save_checkpoint names the staging folder: name the target
        raise SaveError(folder, e.reason) from None
    except (SafetensorError, OSError) as e:
        raise SaveError(folder, write_failure(e)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def find_resume_point(checkpoint_dir: Path) -> Path | None:
    """The latest complete checkpoint folder of a run, or None for a fresh run. Leftovers of a save that a
    crash interrupted are cleared first (a folder moved aside just before the crash is put back)."""
    latest = checkpoint_dir / LATEST
    try:
        clean_orphans(latest)
    except OSError as e:
        log.warning("cannot clear leftovers of an interrupted save in %s: %s", checkpoint_dir, e)
    for candidate in (latest, aside_path(latest)):
        if (candidate / STATE_JSON).is_file() and (candidate / CONFIG_NAME).is_file():
            return candidate
    return None


@dataclass
class LoadedState:
    state: TrainingState
    discriminator: dict[str, torch.Tensor]
    generator: dict[str, torch.Tensor] | None
    encoder: dict[str, torch.Tensor] | None


def _read_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise TrainError(f"{path}: truncated or not a safetensors file ({e})") from None


def load_training_state(folder: Path) -> LoadedState:
    """Read training_state.{json,safetensors}; G/E weights come from model.safetensors unless stored here."""
    try:
        meta = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TrainError(f"{folder / STATE_JSON}: unreadable ({e}); remove the folder to start afresh") from None
    if meta.get("format") != STATE_FORMAT or meta.get("version", 0) > STATE_VERSION:
        raise TrainError(f"{folder / STATE_JSON}: not a training state this version understands")
    tensors = _read_tensors(folder / STATE_TENSORS)
    state = TrainingState(iteration=meta["iteration"], epoch=meta["epoch"], batch_in_epoch=meta["batch_in_epoch"],
                          elapsed_s=meta.get("elapsed_s", 0.0), losses=meta.get("losses", {}),
                          scalers=meta.get("scalers", {}), config=meta.get("config", {}),
                          world_size=meta.get("world_size", 1))
    state.optimizers = {k: _unflatten_optimizer(f"optimizer_{k}", v, tensors)
                        for k, v in meta.get("optimizers", {}).items()}
    state.rng = {k[len("rng."):]: v for k, v in tensors.items() if k.startswith("rng.")}
    if "seen_classes" in tensors:
        state.seen_classes = tensors["seen_classes"].bool()

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}

    generator = part("generator") or None
    encoder = part("encoder") or None
    if generator is None:
        weights = _read_tensors(folder / "model.safetensors")
        generator = {k[len("generator."):]: v for k, v in weights.items() if k.startswith("generator.")}
        encoder = {k[len("encoder."):]: v for k, v in weights.items() if k.startswith("encoder.")} or None
    return LoadedState(state, part("discriminator"), generator, encoder)


def read_discriminator(folder: Path) -> dict[str, torch.Tensor] | None:
    """The discriminator kept in one of our checkpoint folders, if any (for --init_from): a training checkpoint's,
    or the `discriminator.safetensors` an installed model keeps so that fine-tuning it starts with its own."""
    for name in (STATE_TENSORS, DISCRIMINATOR_TENSORS):
        if (folder / name).is_file():
            tensors = _read_tensors(folder / name)
            found = {k[len("discriminator."):]: v.float() if v.is_floating_point() else v
                     for k, v in tensors.items() if k.startswith("discriminator.")}
            if found:
                return found
    return None


def export_discriminator(checkpoint: Path, dest: Path, dtype: torch.dtype = torch.float16) -> None:
    """Write the discriminator of a training checkpoint folder to `dest` (a `discriminator.safetensors`)."""
    tensors = _read_tensors(checkpoint / STATE_TENSORS)
    found = {k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()
             if k.startswith("discriminator.")}
    if not found:
        raise TrainError(f"{checkpoint / STATE_TENSORS} holds no discriminator")
    save_file(found, str(dest))
