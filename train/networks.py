"""Building the three networks of a run from TrainConfig, or from a checkpoint to fine-tune.

The label set decides the generator's input: the bundled sets keep the reference's channels (ADE20K: id v
-> channel v-1, unlabeled -> channel 150; COCO-Stuff: its values, unlabeled -> channel 182; Cityscapes: 35
channels) so official checkpoints fine-tune directly; any other class table maps id i to channel i. COCO-Stuff
and Cityscapes runs add the instance-edge channel last, as the reference does.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from spade.checkpoint import ModelBundle, ade20k_label_to_channel, load_state_strict
from spade.errors import GauguinError
from spade.instances import instance_edges
from spade.labels import LabelSet, builtin_label_set
from spade.official import KNOWN_LAYOUTS, official_layout
from spade.model import (ConvEncoder, DiscriminatorConfig, EncoderConfig, GeneratorConfig, MultiscaleDiscriminator,
                         SPADEGenerator)

from .errors import TrainError
from .options import TrainConfig


@dataclass
class Networks:
    generator: SPADEGenerator
    discriminator: MultiscaleDiscriminator
    encoder: ConvEncoder | None
    label_set: LabelSet
    label_to_channel: list[int]
    instance_edges: bool = False


def uses_instance_edges(cfg: TrainConfig) -> bool:
    return cfg.dataset in ("coco", "cityscapes") and not cfg.no_instance


def load_label_set(spec: str, input_classes: str = "") -> tuple[LabelSet, list[int]]:
    """(a bundled set's name or a CSV path, --input_classes) -> (label set, label-to-channel list)."""
    builtin = builtin_label_set(spec)
    if builtin is not None and builtin.name in KNOWN_LAYOUTS and not input_classes:
        layout = official_layout(KNOWN_LAYOUTS[builtin.name]["channels"], {}, builtin)
        labels, mapping = builtin, layout.label_to_channel
    elif builtin is not None:
        labels, mapping = builtin, ade20k_label_to_channel() if builtin.name == "ade20k" else list(range(len(builtin)))
    else:
        try:
            labels = LabelSet.from_csv(spec)
        except GauguinError as e:
            raise TrainError(f"--label_set: {e}") from None
        mapping = list(range(len(labels)))
    if input_classes:
        mapping = restricted_label_to_channel(parse_input_classes(input_classes, labels), len(labels))
    return labels, mapping


def parse_input_classes(spec: str, labels: LabelSet) -> list[int]:
    if spec == "procedural":
        from train.procedural import OUTDOOR_CLASSES
        return sorted(OUTDOOR_CLASSES)
    try:
        ids = sorted({int(x) for x in spec.split(",") if x.strip()})
    except ValueError:
        raise TrainError(f"--input_classes {spec}: give comma-separated class ids or 'procedural'") from None
    bad = [i for i in ids if not 0 <= i <= labels.max_id]
    if bad or not ids:
        raise TrainError(f"--input_classes: ids must lie in 0..{labels.max_id} (got {bad or 'none'})")
    return ids


def restricted_label_to_channel(ids: list[int], num_labels: int) -> list[int]:
    """Channel k for the k-th listed class; one shared last channel for every other id."""
    channel = {c: k for k, c in enumerate(ids)}
    return [channel.get(i, len(ids)) for i in range(num_labels)]


def encoder_input_size(crop: int) -> int:
    """The crop itself when it is 4 * 2^n (the encoder's requirement), else the reference's 256."""
    n = crop // 4
    return crop if crop >= 8 and crop % 4 == 0 and n & (n - 1) == 0 else 256


def generator_config(cfg: TrainConfig, semantic_nc: int) -> GeneratorConfig:
    return GeneratorConfig(semantic_nc=semantic_nc, ngf=cfg.num_generator_filters,
                           num_upsampling_layers=cfg.num_upsampling_layers, use_vae=cfg.use_vae, z_dim=cfg.z_dim,
                           crop_size=cfg.crop_size, aspect_ratio=1.0, spade_hidden=cfg.spade_hidden,
                           param_free_norm=cfg.norm_G, spectral=True)


def discriminator_config(cfg: TrainConfig, semantic_nc: int) -> DiscriminatorConfig:
    return DiscriminatorConfig(input_nc=semantic_nc + 3, ndf=cfg.num_discriminator_filters,
                               n_layers=cfg.num_discriminator_layers, num_discriminators=cfg.num_discriminators,
                               spectral=True)


def fine_tune_generator_config(cfg: TrainConfig, init: GeneratorConfig) -> GeneratorConfig:
    """The architecture of --init_from, trained at --crop_size.

    A VAE generator renders exactly one size, because its first layer maps z to a fixed grid. It can still be
    grown to twice its size: one more upsampling step ('normal' -> 'more') keeps the grid and every tensor's
    shape, so the trained weights carry over and only the finer layers have to adapt.
    """
    if not init.use_vae:
        return replace(init, crop_size=cfg.crop_size)
    if cfg.crop_size == init.crop_size:
        return init
    if cfg.crop_size == 2 * init.crop_size and init.num_upsampling_layers == "normal" and init.aspect_ratio == 1.0:
        return replace(init, crop_size=cfg.crop_size, num_upsampling_layers="more")
    grow = (f", or --crop_size {2 * init.crop_size} to grow it one level"
            if init.num_upsampling_layers == "normal" else "")
    raise TrainError(f"--init_from {cfg.init_from} is a VAE model that renders exactly {init.crop_size}px: "
                     f"fine-tune it with --crop_size {init.crop_size}{grow}")


def label_channels(labels: LabelSet, mapping: list[int], input_classes: str = "") -> int:
    """Label channels of the generator input: the reference's count for a bundled set (Cityscapes has 35 for
    its 34 ids), else one per channel the mapping names."""
    known = KNOWN_LAYOUTS.get(labels.name)
    if known and not input_classes and builtin_label_set(labels.name) is labels:
        return known["channels"] - known["instance"]
    return max(mapping) + 1


def build_networks(cfg: TrainConfig, init: ModelBundle | None = None,
                   init_discriminator: dict[str, torch.Tensor] | None = None) -> Networks:
    """Fresh networks seeded by the caller, or G (and E) taken from `init` for fine-tuning."""
    if init is None:
        label_set, label_to_channel = load_label_set(cfg.label_set, cfg.input_classes)
        instance_edges = uses_instance_edges(cfg)
        semantic_nc = label_channels(label_set, label_to_channel, cfg.input_classes) + instance_edges
        g_cfg = generator_config(cfg, semantic_nc)
        e_cfg = EncoderConfig(ndf=cfg.num_encoder_filters, z_dim=cfg.z_dim,
                              input_size=encoder_input_size(cfg.crop_size)) if cfg.use_vae else None
    else:
        label_set, label_to_channel = init.label_set, list(init.label_to_channel)
        instance_edges = init.instance_edges
        if cfg.label_set != "ade20k":
            wanted, _ = load_label_set(cfg.label_set)
            if len(wanted) != len(label_set):
                raise TrainError(f"--label_set has {len(wanted)} classes but --init_from {cfg.init_from} was "
                                 f"trained on {len(label_set)} ({label_set.display_name})")
        g_cfg = fine_tune_generator_config(cfg, init.generator_config)
        semantic_nc = g_cfg.semantic_nc
        e_cfg = init.encoder_config if g_cfg.use_vae else None
        if g_cfg.use_vae and not init.has_encoder:
            raise TrainError(f"--init_from {cfg.init_from}: a VAE generator without its encoder cannot be "
                             f"fine-tuned (put the *_net_E.pth beside it)")
    generator = SPADEGenerator(g_cfg)
    encoder = ConvEncoder(e_cfg) if e_cfg is not None else None
    discriminator = MultiscaleDiscriminator(discriminator_config(cfg, semantic_nc))
    if init is not None:
        try:
            load_state_strict(generator, init.generator_state, f"--init_from {cfg.init_from} generator")
            if encoder is not None:
                load_state_strict(encoder, init.encoder_state, f"--init_from {cfg.init_from} encoder")
            if init_discriminator is not None:
                load_state_strict(discriminator, init_discriminator, f"--init_from {cfg.init_from} discriminator")
        except GauguinError as e:
            raise TrainError(str(e)) from None
    return Networks(generator, discriminator, encoder, label_set, label_to_channel, instance_edges)


def load_init(cfg: TrainConfig) -> tuple[ModelBundle, dict[str, torch.Tensor] | None]:
    """The bundle of --init_from and, when one lies beside it, its discriminator's tensors."""
    from spade.inference import load_bundle
    from spade.model_path import resolve_model_path
    from spade.official import find_official_files, read_state_dict

    from .state import read_discriminator

    try:
        path = resolve_model_path(cfg.init_from)
        bundle = load_bundle(path)
        disc = None
        if bundle.source == "official":
            gen_path, _, _ = find_official_files(path)
            d_path = gen_path.with_name(gen_path.name.replace("_net_G", "_net_D"))
            if d_path.is_file() and d_path != gen_path:
                disc = read_state_dict(d_path)
        else:
            disc = read_discriminator(path if path.is_dir() else path.parent)
    except GauguinError as e:
        raise TrainError(f"--init_from: {e}") from None
    return bundle, disc


class OneHot(nn.Module):
    """(B, H, W) class ids -> (B, semantic_nc, H, W) one-hot through the label-to-channel map; with
    instance_edges the last channel holds the edges of the (B, H, W) instance maps (or of the labels)."""

    def __init__(self, label_to_channel: list[int], semantic_nc: int, instance_edges: bool = False):
        super().__init__()
        self.semantic_nc = semantic_nc
        self.with_edges = instance_edges
        self.register_buffer("lut", torch.tensor(label_to_channel, dtype=torch.long), persistent=False)

    def forward(self, labels: torch.Tensor, instances: torch.Tensor | None = None) -> torch.Tensor:
        onehot = F.one_hot(self.lut[labels], self.semantic_nc).permute(0, 3, 1, 2).float()
        if self.with_edges:
            onehot[:, -1] = instance_edges(labels if instances is None else instances).float()
        return onehot

