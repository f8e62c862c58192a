"""The one small API the app and the command line use: load a model, make a style, render a label map.

    renderer = SpadeRenderer.load("path/to/model")        # ours or official; None = the bundled model
    style = renderer.encode_style(Image.open("sunset.jpg"))  # or renderer.random_style(seed=3)
    rgb = renderer.render(labels, style)                     # (H, W) ids -> (H, W, 3) uint8
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from .checkpoint import (ModelBundle, build_encoder, build_generator, is_gauguin_checkpoint, load_checkpoint,
                         model_identity, trained_class_mask)
from .device import pick_device
from .errors import CheckpointError, MaskError, SizeError, StyleError
from .fast import FastGenerator, StrokePreview
from .instances import instance_edges
from .labels import LabelSet, label_set_from_spec, open_image
from .limits import check_config_types, check_render_memory
from .model_path import resolve_model_path
from .official import load_official
from .style_atlas import image_look
from .tone import TONE, Tone


@dataclass(frozen=True)
class Style:
    """A style latent (1, z_dim) on the CPU, the photo's tone when it came from one through a style atlas
    (spade/tone.py), and where it came from (for display and documents)."""

    z: torch.Tensor
    source: str
    seed: int | None = None
    tone: Tone | None = None

    def vector(self) -> np.ndarray:
        """(1, z_dim + len(TONE)) float32: the latent and the tone's numbers (zeros for none), to store it."""
        tone = (self.tone or Tone()).as_array()[None]
        return np.concatenate([self.z.numpy().astype(np.float32), tone], axis=1)

    @classmethod
    def from_vector(cls, vector: np.ndarray, source: str, seed: int | None = None) -> Style:
        """The style a `vector()` stored."""
        v = np.asarray(vector, np.float32).reshape(1, -1)
        tone = Tone.from_array(v[0, -len(TONE):]).or_none()
        return cls(torch.from_numpy(v[:, :-len(TONE)].copy()), source, seed, tone)


def load_bundle(path: str | Path | None = None, label_set: LabelSet | str | None = None) -> ModelBundle:
    """Read a Gauguin checkpoint, an official SPADE one or a training run's latest (see resolve_model_path);
    None means the bundled default model.

    label_set names the classes of an official checkpoint whose set cannot be recognised (a LabelSet, a
    bundled set's name or a CSV path); Gauguin checkpoints carry their own and must agree with it."""
    path = resolve_model_path(path)
    if is_gauguin_checkpoint(path):
        bundle = load_checkpoint(path)
        if label_set is not None:
            wanted = label_set if isinstance(label_set, LabelSet) else label_set_from_spec(label_set)
            if wanted.names != bundle.label_set.names:
                raise CheckpointError(f"{path}: the model's label set is {bundle.label_set.display_name}, "
                                      f"not {wanted.display_name}")
        return bundle
    try:
        bundle = load_official(path, label_set)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}" if str(e).startswith("opt.txt") else str(e)) from None
    check_config_types(bundle.generator_config, f"{path}")
    return bundle


def to_rgb(image: Image.Image) -> Image.Image:
    """Any image Pillow opens (grey, 16-bit, palette, RGBA, CMYK, EXIF-rotated) as 8-bit RGB."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        arr = np.asarray(image, dtype=np.float64)
        hi = 65535.0 if arr.max(initial=0) > 255 else 255.0
        image = Image.fromarray(np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")


STYLE_READ_SIDE = 512   # a style photo is read at this size or more (long side): the atlas looks at 256 px, the app
                        # keeps 512


def read_style_image(path: str | Path) -> Image.Image:
    """A style photo as RGB, decoded at STYLE_READ_SIDE or more on its long side (JPEGs at a reduced scale)."""
    return to_rgb(open_image(Path(path), "style image", StyleError, draft=STYLE_READ_SIDE))


class SpadeRenderer:
    """An inference-only SPADE model on one device.

    `identity` is a hash of the weights and configs: values a model computed (style latents) are keyed by it,
    since the display name is shared by every stage of a model and does not tell them apart.
    """

    def __init__(self, bundle: ModelBundle, device: str | torch.device = "auto", fast: bool | None = None):
        self.bundle = bundle
        self.device = pick_device(device) if isinstance(device, str) else device
        # spade.fast (the same function) is faster than the module forward on a CPU and slower on CUDA, where
        # cuDNN's convolutions win and the fast path's many small kernels lose (docs/performance.md); so by
        # default the fast path and its stroke previews on the CPU only, the module forward elsewhere.
        self.fast = self.device.type == "cpu" if fast is None else fast
        self.generator = build_generator(bundle).to(self.device)
        self.encoder = build_encoder(bundle)
        if self.encoder is not None:
            self.encoder = self.encoder.to(self.device)
        lut = np.asarray(bundle.label_to_channel, dtype=np.int64)
        self._channel_lut = torch.from_numpy(lut).to(self.device)
        self._fast_generator: FastGenerator | None = None
        self._preview: StrokePreview | None = None
        self.atlas = bundle.style_atlas
        self.identity = model_identity(bundle)

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto",
             label_set: LabelSet | str | None = None) -> "SpadeRenderer":
        return cls(load_bundle(path, label_set), device)

    # -- description -------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def label_set(self) -> LabelSet:
        return self.bundle.label_set

    @property
    def has_encoder(self) -> bool:
        """Whether the model takes style images: it has a style encoder or a style atlas."""
        return self.encoder is not None or self.atlas is not None

    @property
    def uses_instances(self) -> bool:
        """True when the model takes an instance-edge channel (COCO-Stuff, Cityscapes)."""
        return self.bundle.instance_edges

    @property
    def uses_style(self) -> bool:
        """True for VAE models: their output depends on a style latent."""
        return self.bundle.generator_config.use_vae

    @property
    def trained_classes(self) -> np.ndarray:
        """Boolean per class id: whether the model was trained on it (all True when unknown)."""
        return trained_class_mask(self.bundle)

    @property
    def default_size(self) -> tuple[int, int]:
        """(height, width) the model was trained at."""
        return self.bundle.generator_config.output_size()

    @property
    def size_rule(self) -> str:
        c = self.bundle.generator_config
        if c.use_vae:
            h, w = c.output_size()
            return f"exactly {w}x{h}"
        return f"any multiple of {c.downscale} in each side"

    def supported_sizes(self) -> list[tuple[int, int]]:
        """Sizes (height, width) to offer in a 'new canvas' dialog."""
        c = self.bundle.generator_config
        if c.use_vae:
            return [c.output_size()]
        h, w = c.output_size()
        candidates = {(h, w), (h // 2, w // 2), (h * 2, w * 2), (h, w * 2)}
        return sorted(s for s in candidates if self.generator.check_size(*s) is None)

    def check_size(self, height: int, width: int) -> None:
        problem = self.generator.check_size(height, width)
        if problem:
            raise SizeError(problem)

    def renderable_size(self, height: int, width: int) -> tuple[int, int]:
        """The size to render a (height, width) label map at: its own size when the model can, else the
        model's fixed size (VAE models) or the nearest multiples of its downscale factor."""
        if self.generator.check_size(height, width) is None:
            return height, width
        if not self.uses_style:
            d = self.bundle.generator_config.downscale
            size = (max(d, round(height / d) * d), max(d, round(width / d) * d))
            if self.generator.check_size(*size) is None:
                return size
        return self.default_size

    def info(self) -> dict:
        c = self.bundle.generator_config
        params = sum(p.numel() for p in self.generator.parameters())
        return {"name": self.name, "source": self.bundle.source, "device": str(self.device),
                "parameters": params, "ngf": c.ngf, "upsampling": c.num_upsampling_layers,
                "vae": c.use_vae, "encoder": self.encoder is not None,
                "style_atlas": len(self.atlas) if self.atlas is not None else 0, "size": self.size_rule,
                "classes": int(self.trained_classes[1:].sum()), "class_count": self.label_set.class_count,
                "label_set": self.label_set.name, "instance_edges": self.uses_instances,
                "training": self.bundle.training}

    # -- style --------------------------------------------------------------------------------------------
    def encode_style(self, image: Image.Image | str | Path, atlas: bool = True) -> Style:
        """The style of an image of any size and mode: the latent of the model's style atlas whose renders look
        most like it (spade/style_atlas.py) with the photo's tone (what that render misses of its sky and
        exposure, spade/tone.py), or with no atlas (or atlas=False) the style encoder's posterior mean."""
        if self.encoder is None and (self.atlas is None or not atlas):
            raise StyleError(f"model {self.name!r} has no style encoder; it cannot take a style image")
        source = "image"
        if not isinstance(image, Image.Image):
            source = f"image:{Path(image).name}"
            image = read_style_image(image)
        image = to_rgb(image)
        if atlas and self.atlas is not None:
            look = image_look(image)
            z, render_look = self.atlas.match(look)
            return Style(torch.from_numpy(z)[None], source, tone=Tone.between(look, render_look).or_none())
        s = self.encoder.config.input_size
        image = ImageOps.fit(image, (s, s), Image.Resampling.BICUBIC)
        x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        with torch.inference_mode():
            mu, _ = self.encoder(x.to(self.device))
        return Style(mu.float().cpu(), source)

    def random_style(self, seed: int) -> Style:
        """A style drawn from the prior N(0, I); the same seed gives the same style on every device."""
        z_dim = self.bundle.generator_config.z_dim
        g = torch.Generator().manual_seed(int(seed))
        return Style(torch.randn(1, z_dim, generator=g), f"seed:{int(seed)}", int(seed))

    @staticmethod
    def blend(a: Style, b: Style, t: float) -> Style:
        """Linear blend between two styles and their tones (t=0 gives a, t=1 gives b)."""
        t = float(min(max(t, 0.0), 1.0))
        return Style(torch.lerp(a.z, b.z, t), f"blend({a.source},{b.source},{t:.2f})",
                     tone=Tone.lerp(a.tone, b.tone, t))

    # -- rendering ----------------------------------------------------------------------------------------
    def one_hot(self, labels: np.ndarray, instances: np.ndarray | None = None) -> torch.Tensor:
        """(H, W) class ids -> (1, semantic_nc, H, W) float one-hot through the label-to-channel map, with
        the instance-edge channel last for models that take one (edges of `instances`, else of the labels)."""
        nc = self.bundle.generator_config.semantic_nc
        onehot = F.one_hot(self.channels(labels), nc).permute(2, 0, 1)[None].float()
        if self.uses_instances:
            onehot[0, -1] = self.edges(labels, instances).float()
        return onehot

    def edges(self, labels: np.ndarray, instances: np.ndarray | None = None) -> torch.Tensor:
        """(H, W) bool instance edges on the model's device: of the instance map, else the class borders."""
        return torch.from_numpy(instance_edges(labels if instances is None else instances)).to(self.device)

    def channels(self, labels: np.ndarray) -> torch.Tensor:
        """(H, W) class ids -> (H, W) input channel indices on the model's device."""
        ids = torch.from_numpy(np.ascontiguousarray(labels).astype(np.int64)).to(self.device)
        return self._channel_lut[ids]

    def validate(self, labels: np.ndarray, instances: np.ndarray | None = None) -> None:
        if labels.ndim != 2:
            raise MaskError(f"a label map must be 2-D (H, W); got shape {labels.shape}")
        if labels.size and (labels.min() < 0 or labels.max() > self.label_set.max_id):
            raise MaskError(f"label ids must lie in 0..{self.label_set.max_id}")
        if instances is not None:
            if not self.uses_instances:
                raise MaskError(f"model {self.name!r} takes no instance map (its label set "
                                f"{self.label_set.display_name} has no instance channel)")
            if instances.shape != labels.shape:
                raise MaskError(f"the instance map is {instances.shape[1]}x{instances.shape[0]} but the label map "
                                f"is {labels.shape[1]}x{labels.shape[0]}")
        self.check_size(*labels.shape)
        check_render_memory(self.bundle.generator_config, *labels.shape, self.device, self.fast,
                            previews=self._preview is not None)

    def render_tensor(self, labels: np.ndarray, style: Style | None = None, reference: bool = False,
                      instances: np.ndarray | None = None, stop: threading.Event | None = None) -> torch.Tensor:
        """The generator's output (1, 3, H, W) in [-1, 1], float32 on the CPU.

        By default through spade.fast (which keeps label- and style-derived work between calls, and the
        frame's activations for later previews); reference=True (or fast=False) runs the module forward.
        On the fast path, setting `stop` gives the frame up between two blocks (spade.fast.RenderCancelled).
        """
        self.validate(labels, instances)
        z = self._latent(style)
        with torch.inference_mode():
            if self.fast and not reference:
                # once previews are on (the first render_preview), exact frames keep what previews start from
                render = self._preview.exact if self._preview is not None else self._fast()
                out = render(self.channels(labels), z, self._fast_edges(labels, instances), stop=stop)
            else:
                out = self.generator(self.one_hot(labels, instances), z)
        out = out.float().cpu()
        if not bool(torch.isfinite(out).all()):
            raise CheckpointError(f"model {self.name!r} produced NaN or infinite values for this sketch and style "
                                  f"(a damaged model, or a style far outside what it knows)")
        return out

    def render(self, labels: np.ndarray, style: Style | None = None,
               instances: np.ndarray | None = None, stop: threading.Event | None = None) -> np.ndarray:
        """Render a label map to an RGB uint8 image of the same size (always the exact frame); `instances`
        is an optional instance-id map (same size) for models with an instance channel; `stop` as in
        render_tensor. A style with a tone is graded by it (render_tensor is the generator's own output)."""
        return self._graded(self._to_rgb(self.render_tensor(labels, style, instances=instances, stop=stop)),
                            labels, style)

    def render_preview(self, labels: np.ndarray, style: Style | None = None,
                       instances: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
        """(rgb, exact): a fast approximate render of labels after the last render (spade/fast/preview.py: only
        the pixels near the labels changed since then are recomputed; successive previews each start from
        the last, until the next exact render), or the exact frame (exact=True) when there is none to start
        from, the style changed or the change is large. Exports must use `render`. The first call turns
        previews on: from then on exact frames keep their activations (`preview_cache_bytes`)."""
        if not self.fast:
            return self.render(labels, style, instances), True
        if self._preview is None:
            self._preview = StrokePreview(self._fast())
        self.validate(labels, instances)
        z = self._latent(style)
        with torch.inference_mode():
            out, exact = self._preview.preview(self.channels(labels), z, self._fast_edges(labels, instances),
                                               advance=True)
        return self._graded(self._to_rgb(out.float().cpu()), labels, style), exact

    @property
    def preview_cache_bytes(self) -> int:
        """Memory held for previews (the last exact frame's activations and a working copy); 0 until the first
        render_preview."""
        return self._preview.cache_bytes if self._preview is not None else 0

    def _graded(self, rgb: np.ndarray, labels: np.ndarray, style: Style | None) -> np.ndarray:
        if style is None or style.tone is None or not self.uses_style:
            return rgb
        return style.tone.apply(rgb, labels, self.label_set.sky_ids)

    def _latent(self, style: Style | None) -> torch.Tensor | None:
        return (style or self.random_style(0)).z.to(self.device) if self.uses_style else None

    def _fast_edges(self, labels: np.ndarray, instances: np.ndarray | None) -> torch.Tensor | None:
        return self.edges(labels, instances) if self.uses_instances else None

    def _fast(self) -> FastGenerator:
        if self._fast_generator is None:
            self._fast_generator = FastGenerator(self.generator, self.device, edge_channel=self.uses_instances)
        return self._fast_generator

    @staticmethod
    def _to_rgb(out: torch.Tensor) -> np.ndarray:
        return ((out[0].permute(1, 2, 0).numpy() + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)
