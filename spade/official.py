"""Import checkpoints of the reference implementation (NVlabs/SPADE).

Accepts a `latest_net_G.pth` file, or a folder holding `*_net_G.pth` and, for VAE models, `*_net_E.pth`
(plus an optional `opt.txt`). The architecture is inferred from tensor shapes; `opt.txt` settles what
shapes cannot tell (normal vs more upsampling, crop size and aspect ratio of VAE models). The label set
(ADE20K, COCO-Stuff, Cityscapes or a user's CSV) comes from `--label_set`, else opt.txt's dataset_mode,
else the channel count; the released Cityscapes settings (512x256, `more`) apply when opt.txt is absent.
Files are read with `torch.load(weights_only=True)`: a checkpoint that needs code unpickled is refused.
"""
from __future__ import annotations

import logging
import math
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from .checkpoint import ModelBundle, ade20k_label_to_channel
from .errors import CheckpointError, MaskError, read_failure
from .labels import LabelSet, builtin_label_set, label_set_from_spec
from .limits import check_tensor_storage
from .model import EncoderConfig, GeneratorConfig

logger = logging.getLogger(__name__)


def find_official_files(path: str | Path) -> tuple[Path, Path | None, Path | None]:
    """(generator .pth, encoder .pth or None, opt.txt or None) for a file or folder path."""
    path = Path(path)
    if path.is_file():
        folder, gen = path.parent, path
    elif path.is_dir():
        folder = path
        candidates = sorted(path.glob("latest_net_G.pth")) or sorted(path.glob("*_net_G.pth"))
        if not candidates:
            raise CheckpointError(f"{path}: no latest_net_G.pth (nor config.json of a Gauguin checkpoint) here")
        gen = candidates[-1]
    else:
        raise CheckpointError(f"model not found: {path}")
    enc = gen.with_name(gen.name.replace("_net_G", "_net_E"))
    opt = folder / "opt.txt"
    return gen, enc if enc.is_file() and enc != gen else None, opt if opt.is_file() else None


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """torch.load with weights_only=True, turning every failure into a one-line CheckpointError."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {read_failure(e)}") from None
    except pickle.UnpicklingError as e:
        text = str(e)
        if "Weights only load failed" in text or "global" in text:
            found = _unsupported_global(text)
            raise CheckpointError(f"{path}: refusing to load: it holds objects that are not plain tensors"
                                  + (f" ({found})" if found else "")) from None
        raise CheckpointError(f"{path}: truncated or not a PyTorch checkpoint") from None
    except Exception:  # torch.load raises many types on foreign or damaged input
        raise CheckpointError(f"{path}: truncated or not a PyTorch checkpoint") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: not a state dict of tensors")
    check_tensor_storage(state, str(path))
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def _unsupported_global(text: str) -> str | None:
    m = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    return f"it references {m.group(1)}" if m else None


def read_opt_txt(path: Path | None) -> dict[str, str]:
    """`name: value` lines of the reference's opt.txt (the `[default: ...]` notes are dropped)."""
    if path is None:
        return {}
    opts = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"\s*([A-Za-z_][\w]*)\s*:\s*(.*?)\s*(\[default:.*\])?\s*$", line)
        if m:
            opts[m.group(1)] = m.group(2).strip()
    return opts


def _weight(state: dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
    for name in (prefix + ".weight_orig", prefix + ".weight"):
        if name in state:
            return state[name]
    raise CheckpointError(f"not a SPADE generator: tensor {prefix}.weight is missing")


def _opt_number(opts: dict[str, str], key: str, default: int | float, kind: type) -> int | float:
    """A positive number from opt.txt (ZeroDivisionError and negative sizes would follow from anything else)."""
    text = opts.get(key)
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise CheckpointError(f"opt.txt: {key} {text!r} is not a number") from None
    if not 0 < value < 1e6:
        raise CheckpointError(f"opt.txt: {key} {text!r} must be a positive number")
    return value


def infer_generator_config(state: dict[str, torch.Tensor], opts: dict[str, str]) -> GeneratorConfig:
    if "fc.weight" not in state or "conv_img.weight" not in state:
        raise CheckpointError("not a SPADE generator checkpoint: no fc.weight / conv_img.weight tensors")
    ngf = _weight(state, "head_0.conv_0").shape[0] // 16
    shared = state.get("head_0.norm_0.mlp_shared.0.weight")
    if shared is None:
        raise CheckpointError("not a SPADE generator: tensor head_0.norm_0.mlp_shared.0.weight is missing")
    semantic_nc, hidden = shared.shape[1], shared.shape[0]
    norm = "batch" if "head_0.norm_0.param_free_norm.running_mean" in state else "instance"
    if "up_4.conv_0.bias" in state:
        upsampling = "most"
    else:
        upsampling = opts.get("num_upsampling_layers", "normal")
        if upsampling not in ("normal", "more"):
            upsampling = "normal"
    fc = state["fc.weight"]
    use_vae = fc.dim() == 2
    crop, aspect = _opt_number(opts, "crop_size", 256, int), _opt_number(opts, "aspect_ratio", 1.0, float)
    z_dim = fc.shape[1] if use_vae else _opt_number(opts, "z_dim", 256, int)
    if use_vae:
        cells = fc.shape[0] // (16 * ngf)
        down = 2 ** {"normal": 5, "more": 6, "most": 7}[upsampling]
        if "crop_size" not in opts:
            sw = int(round(math.sqrt(cells)))
            crop, aspect = sw * down, 1.0
        if "aspect_ratio" not in opts and "crop_size" in opts:
            sw = crop // down
            aspect = sw / max(1, cells // max(sw, 1))
    return GeneratorConfig(semantic_nc=semantic_nc, ngf=ngf, num_upsampling_layers=upsampling, use_vae=use_vae,
                           z_dim=z_dim, crop_size=crop, aspect_ratio=aspect, spade_hidden=hidden,
                           param_free_norm=norm, spectral=any(k.endswith("weight_orig") for k in state))


def infer_encoder_config(state: dict[str, torch.Tensor]) -> EncoderConfig:
    layers = sorted({int(m.group(1)) for k in state if (m := re.match(r"layer(\d+)\.0\.weight(_orig)?$", k))})
    if not layers or "fc_mu.weight" not in state:
        raise CheckpointError("not a SPADE encoder: no layerN / fc_mu tensors")
    ndf = _weight(state, "layer1.0").shape[0]
    return EncoderConfig(ndf=ndf, z_dim=state["fc_mu.weight"].shape[0], input_size=4 * 2 ** len(layers),
                         spectral=any(k.endswith("weight_orig") for k in state))


@dataclass(frozen=True)
class OfficialLayout:
    """How a reference generator's input channels relate to a label set."""

    label_set: LabelSet
    label_to_channel: list[int]
    instance_edges: bool
    reason: str  # how the label set was recognised, for people


# The three released models: input channels, dataset_mode in opt.txt, don't-care and instance channels,
# and the options opt.txt would hold (used when it is absent).
KNOWN_LAYOUTS = {
    "ade20k": {"channels": 151, "mode": "ade20k", "dontcare": True, "instance": False, "opts": {}},
    "cocostuff": {"channels": 184, "mode": "coco", "dontcare": True, "instance": True, "opts": {}},
    "cityscapes": {"channels": 36, "mode": "cityscapes", "dontcare": False, "instance": True,
                   "opts": {"num_upsampling_layers": "more", "crop_size": "512", "aspect_ratio": "2.0"}},
}
DONTCARE_CODE = 255  # the label value the reference maps to the don't-care channel


def _flag(opts: dict[str, str], key: str) -> bool | None:
    value = opts.get(key)
    return None if value is None else value.strip().lower() in ("true", "1", "yes")


def _known_by_channels(semantic_nc: int) -> str | None:
    return next((name for name, k in KNOWN_LAYOUTS.items() if k["channels"] == semantic_nc), None)


def _choose_label_set(semantic_nc: int, opts: dict[str, str],
                      label_set: LabelSet | str | None) -> tuple[LabelSet, str]:
    """The label set (and why): --label_set, else opt.txt's dataset_mode, else the channel count."""
    known = ", ".join(f"{n} {k['channels']}" for n, k in KNOWN_LAYOUTS.items())
    if isinstance(label_set, LabelSet):
        return label_set, "named with --label_set"
    if label_set:
        try:
            return label_set_from_spec(label_set), "named with --label_set"
        except MaskError as e:
            raise CheckpointError(f"--label_set: {e}") from None
    mode = opts.get("dataset_mode", "").strip().lower()
    by_mode = next((n for n, k in KNOWN_LAYOUTS.items() if k["mode"] == mode), None)
    if by_mode is not None:
        return builtin_label_set(by_mode), f"opt.txt dataset_mode {mode}"
    if mode:
        raise CheckpointError(f"opt.txt says dataset_mode {mode}: name the model's classes with "
                              f"--label_set CSV (a class table) or a bundled set")
    by_channels = _known_by_channels(semantic_nc)
    if by_channels is None:
        raise CheckpointError(f"the generator takes {semantic_nc} label channels, which fits no bundled label set "
                              f"(channels: {known}); name its classes with --label_set NAME or CSV")
    return builtin_label_set(by_channels), f"{semantic_nc} input channels"


def official_layout(semantic_nc: int, opts: dict[str, str],
                    label_set: LabelSet | str | None = None) -> OfficialLayout:
    """Label set, label-to-channel map and instance channel of a reference generator.

    The reference one-hot encodes the label values (ADE20K: value v -> channel v-1, 0 -> don't care;
    others: the value itself, 255 -> don't care), then appends the instance-edge channel when trained
    with instance maps: semantic_nc = label_nc + don't care + instance.
    """
    labels, reason = _choose_label_set(semantic_nc, opts, label_set)
    known = KNOWN_LAYOUTS.get(labels.name)
    dontcare, instance = _flag(opts, "contain_dontcare_label"), _flag(opts, "no_instance")
    instance = None if instance is None else not instance
    if labels.name == "ade20k":
        mapping = ade20k_label_to_channel()
        dontcare, instance = True, bool(instance)
        label_nc = len(labels) - 1
    else:
        codes = [labels.code_of(i) for i in range(len(labels))]
        has_dontcare_value = DONTCARE_CODE in codes
        if dontcare is None:
            dontcare = known["dontcare"] if known else has_dontcare_value
        label_nc = int(opts["label_nc"]) if "label_nc" in opts else None
        if instance is None:
            if known:
                instance = known["instance"]
            else:
                base = max(c for c in codes if not (dontcare and c == DONTCARE_CODE)) + 1
                instance = semantic_nc - base - dontcare == 1
        if label_nc is None:
            label_nc = semantic_nc - dontcare - instance
        mapping = [label_nc if dontcare and c == DONTCARE_CODE else c for c in codes]
        if max(mapping) >= label_nc + dontcare:
            raise CheckpointError(f"{labels.display_name} holds values up to {max(codes)} but the generator has only "
                                  f"{label_nc} label channels")
    expected = label_nc + dontcare + instance
    if expected != semantic_nc:
        raise CheckpointError(f"the generator takes {semantic_nc} label channels but {labels.display_name} "
                              f"({reason}) gives {expected} ({label_nc} labels"
                              f"{' + don' + chr(39) + 't care' if dontcare else ''}"
                              f"{' + instance edges' if instance else ''}); name the right set with --label_set")
    return OfficialLayout(labels, mapping, bool(instance), reason)


def load_official(path: str | Path, label_set: LabelSet | str | None = None) -> ModelBundle:
    """Read a reference checkpoint (file or folder) as a ModelBundle; the label set is recognised from
    opt.txt or the channel count unless given (a LabelSet, a bundled set's name or a CSV path)."""
    gen_path, enc_path, opt_path = find_official_files(path)
    opts = read_opt_txt(opt_path)
    gen_state = read_state_dict(gen_path)
    shared = gen_state.get("head_0.norm_0.mlp_shared.0.weight")
    if shared is None or "fc.weight" not in gen_state:
        raise CheckpointError(f"{gen_path}: not a SPADE generator checkpoint (no fc.weight / "
                              f"head_0.norm_0.mlp_shared.0.weight tensors)")
    try:
        layout = official_layout(shared.shape[1], opts, label_set)
    except CheckpointError as e:
        raise CheckpointError(f"{gen_path}: {e}") from None
    known = KNOWN_LAYOUTS.get(layout.label_set.name)
    gen_cfg = infer_generator_config(gen_state, {**(known["opts"] if known else {}), **opts})
    enc_cfg = enc_state = None
    if gen_cfg.use_vae and enc_path is not None:
        enc_state = read_state_dict(enc_path)
        enc_cfg = infer_encoder_config(enc_state)
        if enc_cfg.z_dim != gen_cfg.z_dim:
            raise CheckpointError(f"{enc_path}: encoder z_dim {enc_cfg.z_dim} does not match the generator's "
                                  f"{gen_cfg.z_dim}")
    name = gen_path.parent.name if gen_path.parent.name else gen_path.stem
    logger.info("%s: label set %s (%s)", gen_path, layout.label_set.name, layout.reason)
    training = {"imported_from": str(gen_path), "opt": opts, "label_set_from": layout.reason}
    return ModelBundle(gen_cfg, gen_state, layout.label_set, layout.label_to_channel, enc_cfg, enc_state,
                       trained_classes=None, training=training, name=name, source="official",
                       instance_edges=layout.instance_edges)
