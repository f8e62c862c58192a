"""Gauguin's checkpoint format: a folder with `config.json` and `model.safetensors`.

`config.json` holds the architecture, the label set, the label-to-channel mapping, whether there is an
encoder, the classes the model was trained on and a free-form training record. `model.safetensors` holds
the tensors, named `generator.*` and `encoder.*` exactly as in spade/model.py (so spectral-norm layers keep
`weight_orig/_u/_v`). Nothing is ever unpickled.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .atomic import default_permissions, write_folder
from .errors import CheckpointError, read_failure
from .limits import check_architecture, check_config_types, check_finite, check_state_shapes
from .labels import LabelSet, ade20k
from .model import ConvEncoder, EncoderConfig, GeneratorConfig, SPADEGenerator
from .style_atlas import ATLAS_NAME, StyleAtlas

FORMAT = "gauguin-spade"
VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


def ade20k_label_to_channel() -> list[int]:
    """The reference ADE20K mapping: id v -> channel v-1, and 0 (unlabeled) -> the last channel (150)."""
    return [150] + list(range(150))


@dataclass
class ModelBundle:
    """Everything needed to build and describe a model, independent of where it came from."""

    generator_config: GeneratorConfig
    generator_state: dict[str, torch.Tensor]
    label_set: LabelSet
    label_to_channel: list[int]
    encoder_config: EncoderConfig | None = None
    encoder_state: dict[str, torch.Tensor] | None = None
    trained_classes: list[int] | None = None
    training: dict = field(default_factory=dict)
    name: str = "model"
    source: str = "gauguin"  # gauguin | official
    instance_edges: bool = False  # the generator's last input channel is the instance-edge map
    style_atlas: StyleAtlas | None = None  # reads style photos by their look (spade/style_atlas.py)

    @property
    def has_encoder(self) -> bool:
        return self.encoder_config is not None and self.encoder_state is not None


def save_checkpoint(path: str | Path, generator: SPADEGenerator, encoder: ConvEncoder | None = None, *,
                    label_set: LabelSet | None = None, label_to_channel: list[int] | None = None,
                    trained_classes: list[int] | None = None, training: dict | None = None,
                    dtype: torch.dtype | None = None, name: str | None = None,
                    instance_edges: bool = False) -> Path:
    """Write a checkpoint folder atomically (a temporary folder renamed into place)."""
    path = Path(path)
    label_set = label_set or ade20k()
    label_to_channel = label_to_channel or ade20k_label_to_channel()
    if len(label_to_channel) != len(label_set):
        raise ValueError("label_to_channel needs one entry per class of the label set")
    tensors = {}
    for prefix, module in (("generator", generator), ("encoder", encoder)):
        if module is None:
            continue
        for k, v in module.state_dict().items():
            v = v.detach().cpu()
            if dtype is not None and v.is_floating_point():
                v = v.to(dtype)
            tensors[f"{prefix}.{k}"] = v.contiguous()
    config = {
        "format": FORMAT, "version": VERSION, "name": name or path.name,
        "generator": generator.config.to_dict(),
        "encoder": encoder.config.to_dict() if encoder is not None else None,
        "label_set": label_set.to_dict(), "label_to_channel": list(label_to_channel),
        "instance_edges": bool(instance_edges),
        "trained_classes": sorted(trained_classes) if trained_classes is not None else None,
        "training": training or {},
    }
    def fill(folder: Path) -> None:
        save_file(tensors, str(folder / WEIGHTS_NAME))
        (folder / CONFIG_NAME).write_text(json.dumps(config, indent=1))
        default_permissions(folder / WEIGHTS_NAME)

    try:
        write_folder(path, fill)
    except (SafetensorError, OSError) as e:
        raise SaveError(path, write_failure(e)) from None
    return path


class SaveError(CheckpointError):
    """A checkpoint that could not be written (a full disk, a read-only folder); what was there stays."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"cannot save checkpoint {path}: {reason}")
        self.reason = reason


def write_failure(error: BaseException) -> str:
    """Why a write failed, in words: an OSError's text, or the OS message inside safetensors' Rust error."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    found = re.search(r'message: "([^"]+)"', str(error))
    return found.group(1) if found else str(error).splitlines()[0]


def is_gauguin_checkpoint(path: str | Path) -> bool:
    path = Path(path)
    return (path.is_dir() and (path / CONFIG_NAME).is_file()) or (
        path.is_file() and path.suffix == ".safetensors") or (path.is_file() and path.name == CONFIG_NAME)


def load_checkpoint(path: str | Path) -> ModelBundle:
    """Read one of our checkpoints: the folder, its config.json or its model.safetensors."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
    if path.suffix == ".safetensors":
        weights_path = path
    if not config_path.is_file():
        raise CheckpointError(f"{folder}: no {CONFIG_NAME} (not a Gauguin checkpoint)")
    if not weights_path.is_file():
        raise CheckpointError(f"{folder}: no {WEIGHTS_NAME} beside {CONFIG_NAME}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CheckpointError(f"cannot read {config_path}: {read_failure(e)}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{config_path}: unreadable config ({e})") from None
    except RecursionError:
        raise CheckpointError(f"{config_path}: unreadable config (nested too deeply)") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{config_path}: not a Gauguin checkpoint config (format is not {FORMAT!r})")
    if config.get("version", 0) > VERSION:
        raise CheckpointError(f"{config_path}: format version {config['version']} is newer than this Gauguin "
                              f"understands ({VERSION}); update Gauguin")
    try:
        tensors = load_file(str(weights_path))
    except OSError as e:
        raise CheckpointError(f"cannot read {weights_path}: {read_failure(e)}") from None
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{weights_path}: truncated or not a safetensors file ({e})") from None
    try:
        gen_cfg = GeneratorConfig(**config["generator"])
        enc_cfg = EncoderConfig(**config["encoder"]) if config.get("encoder") else None
        label_set = LabelSet.from_dict(config["label_set"])
        label_to_channel = [int(c) for c in config["label_to_channel"]]
        check_config_types(gen_cfg, f"{config_path} generator")
        if enc_cfg is not None:
            check_config_types(enc_cfg, f"{config_path} encoder")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{config_path}: incomplete or invalid config ({e})") from None
    gen_state = {k[len("generator."):]: v.float() if v.is_floating_point() else v
                 for k, v in tensors.items() if k.startswith("generator.")}
    enc_state = {k[len("encoder."):]: v.float() if v.is_floating_point() else v
                 for k, v in tensors.items() if k.startswith("encoder.")}
    if enc_cfg is not None and not enc_state:
        raise CheckpointError(f"{weights_path}: the config names an encoder but the file holds no encoder tensors")
    instance_edges = bool(config.get("instance_edges", False))
    if len(label_to_channel) != len(label_set) or max(label_to_channel) >= gen_cfg.semantic_nc - instance_edges:
        raise CheckpointError(f"{config_path}: label_to_channel does not fit the label set and the generator")
    atlas = StyleAtlas.load(folder)
    if atlas is not None and (not gen_cfg.use_vae or atlas.z_dim != gen_cfg.z_dim):
        raise CheckpointError(f"{folder / ATLAS_NAME}: its latents do not fit this generator (z_dim "
                              f"{atlas.z_dim}, the generator's {gen_cfg.z_dim if gen_cfg.use_vae else 'none'})")
    return ModelBundle(gen_cfg, gen_state, label_set, label_to_channel, enc_cfg, enc_state or None,
                       config.get("trained_classes"), config.get("training") or {},
                       name=config.get("name") or folder.name, source="gauguin", instance_edges=instance_edges,
                       style_atlas=atlas)


def fold_spectral_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace spectral-norm triples by the plain weight they stand for in eval mode.

    Current layout: weight_orig, weight_u, weight_v -> W = weight_orig / (u . (weight_orig_mat @ v)).
    Legacy layout (old PyTorch): `weight` (already W / sigma) next to weight_orig and weight_u.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith("_u") or key.endswith("_v"):
            if key[:-2] + "_orig" in state:
                continue
        if key == "weight_orig" or key.endswith(".weight_orig"):
            prefix = key[: -len("_orig")]
            if prefix in state:
                out[prefix] = state[prefix]
                continue
            u, v = state.get(prefix + "_u"), state.get(prefix + "_v")
            if u is None or v is None:
                raise CheckpointError(f"tensor {key}: spectral norm without {prefix}_u/{prefix}_v")
            w = value.double()
            sigma = torch.dot(u.double(), w.reshape(w.shape[0], -1) @ v.double())
            out[prefix] = (w / sigma).to(value.dtype)
            continue
        if key not in out:
            out[key] = value
    return out


def load_state_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """load_state_dict with a message naming the first mismatching tensor and both shapes."""
    check_state_shapes(module.state_dict(), state, what)
    module.load_state_dict(state)


def build_generator(bundle: ModelBundle) -> SPADEGenerator:
    """An inference generator: spectral norm folded into plain weights, eval mode."""
    config, state = replace(bundle.generator_config, spectral=False), fold_spectral_norm(bundle.generator_state)
    check_architecture(lambda: SPADEGenerator(config), state, f"{bundle.name} generator")
    check_finite(state, f"{bundle.name} generator")
    g = SPADEGenerator(config)
    load_state_strict(g, state, f"{bundle.name} generator")
    return g.eval()


def build_encoder(bundle: ModelBundle) -> ConvEncoder | None:
    if not bundle.has_encoder:
        return None
    config, state = replace(bundle.encoder_config, spectral=False), fold_spectral_norm(bundle.encoder_state)
    check_architecture(lambda: ConvEncoder(config), state, f"{bundle.name} encoder")
    check_finite(state, f"{bundle.name} encoder")
    e = ConvEncoder(config)
    load_state_strict(e, state, f"{bundle.name} encoder")
    return e.eval()


def model_identity(bundle: ModelBundle) -> str:
    """A hash of what decides a model's output: its configs, label mapping and every weight.

    Two bundles with the same identity render the same photo for the same sketch and style, whatever they are
    called, so values computed by one model (style latents) can be reused exactly when identities match.
    """
    h = hashlib.sha256()
    configs = {"generator": asdict(bundle.generator_config), "label_to_channel": list(bundle.label_to_channel),
               "encoder": asdict(bundle.encoder_config) if bundle.encoder_config is not None else None}
    h.update(json.dumps(configs, sort_keys=True, default=str).encode())
    for prefix, state in (("generator.", bundle.generator_state), ("encoder.", bundle.encoder_state or {})):
        for name in sorted(state):
            t = state[name].detach().cpu().contiguous()
            h.update(f"{prefix}{name}:{t.dtype}:{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()[:32]


def trained_class_mask(bundle: ModelBundle) -> np.ndarray:
    """Boolean per class id: True where the model's metadata says it saw the class (all True if unknown)."""
    known = np.ones(len(bundle.label_set), dtype=bool)
    if bundle.trained_classes is not None:
        known[:] = False
        known[[c for c in bundle.trained_classes if 0 <= c < len(known)]] = True
    return known
