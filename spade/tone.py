"""A photo's tone: the part of a photo's light that the style atlas's latent cannot paint, applied as a grade.

The style atlas (spade/style_atlas.py) reads a dropped photo as the latent whose render looks most like it. It can
only choose among the skies and light the generator paints, and the bundled model never paints a sky brighter
than about L 75 or a violet dusk. The tone is what is left over: the photo's look minus that render's look. It
holds the sky's colour (L, a, b) and the ground's lightness. It is applied to the rendered image in CIELAB:

- sky classes move by the sky offset;
- every other class moves by the ground's lightness only, so each keeps its hue (grass stays green, water blue)
  and takes on the photo's exposure;
- the seam between the two is feathered over a few pixels.

Offsets are limited (TONE_LIMIT) so the grade corrects the render rather than repainting it. A photo whose top
is foliage, not sky, cannot turn the sky green (SKY_MIN_A).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .colour import lab_to_srgb, srgb_to_lab

TONE = ("sky L", "sky a", "sky b", "ground L")
TONE_LIMIT = np.array([30.0, 25.0, 25.0, 30.0])  # the largest offset of each number, in CIELAB units
SKY_MIN_A = -8.0    # the sky's a* is not pushed below this (nor below the render's own): skies are not green
UNSEEN = 0.5       # offsets smaller than this (CIELAB units) are left out: a preset's own look gives no grade
FEATHER = 1 / 85    # the seam's feather radius, as a fraction of the picture's shorter side (3 px at 256)


@dataclass(frozen=True)
class Tone:
    """CIELAB offsets for a render: `sky` (L, a, b) for sky classes, `ground_l` (lightness) for the rest."""

    sky: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ground_l: float = 0.0

    @classmethod
    def between(cls, photo_look: np.ndarray, render_look: np.ndarray) -> Tone:
        """The tone that takes a render with `render_look` toward a photo with `photo_look` (style atlas looks:
        sky L a b, then ground L a b, first)."""
        photo, render = np.asarray(photo_look, np.float64), np.asarray(render_look, np.float64)
        offsets = np.clip(photo[:4] - render[:4], -TONE_LIMIT, TONE_LIMIT)
        offsets[1] = max(offsets[1], min(SKY_MIN_A, render[1]) - render[1])
        offsets[np.abs(offsets) < UNSEEN] = 0.0
        return cls.from_array(offsets)

    @classmethod
    def from_array(cls, values: Iterable[float]) -> Tone:
        """A tone from its four numbers (TONE)."""
        v = [float(x) for x in values]
        if len(v) != len(TONE) or not np.isfinite(v).all():
            raise ValueError(f"a tone is {len(TONE)} finite numbers ({', '.join(TONE)})")
        return cls((v[0], v[1], v[2]), v[3])

    def as_array(self) -> np.ndarray:
        """(4,) float32: the numbers of TONE."""
        return np.array([*self.sky, self.ground_l], np.float32)

    @property
    def is_identity(self) -> bool:
        return not self.as_array().any()

    def or_none(self) -> Tone | None:
        """This tone, or None when it changes nothing (a style then carries no tone)."""
        return None if self.is_identity else self

    @staticmethod
    def lerp(a: Tone | None, b: Tone | None, t: float) -> Tone | None:
        """Linear blend of two tones (None is no grade); None when both are None."""
        if a is None and b is None:
            return None
        va, vb = ((x or Tone()).as_array() for x in (a, b))
        return Tone.from_array(va + (vb - va) * float(t))

    def apply(self, rgb: np.ndarray, labels: np.ndarray, sky_ids: Iterable[int]) -> np.ndarray:
        """(H, W, 3) uint8 render of (H, W) `labels` -> the graded render, uint8.

        Pixels wholly in the sky or wholly on the ground go through a colour table of the grade (LUT_SIDE^3
        colours, interpolated: within a grey level or two of the exact grade and several times faster, which
        matters for stroke previews); pixels on the feathered seam get the exact grade."""
        if self.is_identity:
            return rgb
        weight = feathered(np.isin(labels, list(sky_ids)), max(1, round(min(labels.shape) * FEATHER)))
        out = np.empty_like(rgb)
        sky_lut, ground_lut = _tables(self)
        for where, table in ((weight == 1.0, sky_lut), (weight == 0.0, ground_lut)):
            if where.any():
                out[where] = _look_up(table, rgb[where])
        seam = (weight > 0.0) & (weight < 1.0)
        if seam.any():
            w = weight[seam][:, None]
            offset = w * np.array(self.sky) + (1.0 - w) * np.array([self.ground_l, 0.0, 0.0])
            out[seam] = (lab_to_srgb(srgb_to_lab(rgb[seam]) + offset) + 0.5).astype(np.uint8)
        return out


LUT_SIDE = 33   # colours per channel in a grade's colour table


@lru_cache(maxsize=1)
def _grid_lab() -> np.ndarray:
    """(n, n, n, 3) the CIELAB colour of each node of a colour table, indexed [r, g, b]."""
    levels = np.linspace(0.0, 255.0, LUT_SIDE)
    return srgb_to_lab(np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1))


@lru_cache(maxsize=8)
def _tables(tone: Tone) -> tuple[torch.Tensor, torch.Tensor]:
    """The sky's and the ground's colour tables of a tone, (1, 3, n, n, n) float32 over (r, g, b) axes."""
    return tuple(torch.from_numpy(lab_to_srgb(_grid_lab() + np.asarray(offset)).transpose(3, 0, 1, 2)
                                  .astype(np.float32)).contiguous()[None]
                 for offset in (tone.sky, (tone.ground_l, 0.0, 0.0)))


def _look_up(table: torch.Tensor, pixels: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 sRGB -> (N, 3) uint8 through a colour table (trilinear interpolation)."""
    # grid_sample reads (x, y, z) as (last, middle, first) table axes: blue, green, red
    where = torch.from_numpy(pixels[:, ::-1].astype(np.float32) / 127.5 - 1.0).reshape(1, 1, 1, -1, 3)
    values = F.grid_sample(table, where, mode="bilinear", align_corners=True)[0, :, 0, 0]
    return (values.T.numpy() + 0.5).clip(0, 255).astype(np.uint8)


def feathered(mask: np.ndarray, radius: int) -> np.ndarray:
    """(H, W) float64 in 0..1: a boolean mask averaged over a (2 * radius + 1)^2 box (edges repeated)."""
    if not mask.any() or mask.all():
        return mask.astype(np.float64)
    m = torch.from_numpy(mask.astype(np.float32))[None, None]
    m = F.avg_pool2d(F.pad(m, (radius,) * 4, mode="replicate"), 2 * radius + 1, stride=1)
    return m[0, 0].numpy().astype(np.float64)
