"""A photo's tone: the part of a photo's light that the style atlas's latent cannot paint, applied as a grade.

The style atlas (spade/style_atlas.py) reads a dropped photo as the latent whose render looks most like it. It can
only choose among the skies and light the generator paints, and the bundled model never paints a sky brighter
than about L 75 or a violet dusk. The tone is what is left over. It holds the photo's sky colour (L, a, b) and
what the nearest render misses of the ground's lightness. It is applied to the rendered image in CIELAB:

- sky classes move by what takes this frame's sky (the median of its sky pixels, every 4th row and column) to
  the photo's: the same latent paints different skies over different sketches, so the offset is measured on
  the frame being graded, not on the atlas's render;
- every other class moves by the ground's lightness only, so each keeps its hue (grass stays green, water blue)
  and takes on the photo's exposure;
- the seam between the two is feathered over a few pixels.

In low light (a photo whose ground is dark: dusk, the blue hour, a storm) the light rather than the materials
sets the ground's colour and brightness, and the atlas's renders, all painted in a daylight range, cannot show
it. So the darker a photo's ground, median and highlights both (LOW_LIGHT_L, LOW_LIGHT_HIGHLIGHT_L: a snowy
forest has a dark median but bright highlights), the more its ground's colour cast carries over, and the more
the ground's lightness is set from the frame itself: the offset that takes this frame's ground (its non-sky
pixels, whatever the sketch) to the photo's ground lightness, rather than what the nearest atlas render missed.

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
from .style_atlas import LOOK

TONE = ("sky match", "sky L", "sky a", "sky b", "ground L", "ground a", "ground b", "low light",
        "low-light ground L")
GROUND_L, HIGHLIGHT_L = LOOK.index("ground L"), LOOK.index("ground highlight L")
GROUND_AB = slice(LOOK.index("ground a"), LOOK.index("ground b") + 1)
TONE_LIMIT = np.array([30.0, 25.0, 25.0, 30.0])  # the largest offset of each number, in CIELAB units
SKY_MIN_A = -8.0    # the sky's a* is not pushed below this (nor below the render's own): skies are not green
UNSEEN = 0.5       # offsets smaller than this (CIELAB units) are left out: a preset's own look gives no grade
FEATHER = 1 / 85    # the seam's feather radius, as a fraction of the picture's shorter side (3 px at 256)
LOW_LIGHT_L = (35.0, 20.0)   # a photo's ground lightness (median) where low light begins, and where it is full
LOW_LIGHT_HIGHLIGHT_L = (65.0, 50.0)   # the same for its ground's highlights: snow between dark trees is not dusk
CAST_LIMIT = 25.0   # the largest colour cast (a*, b*) a low-light ground takes
EXPOSURE_STEP = 0.5  # a frame's sky offset and low-light exposure are rounded to this (CIELAB), so tables are reused


@dataclass(frozen=True)
class Tone:
    """CIELAB offsets for a render. Sky classes move by `sky - sky_match * (the frame's sky colour)`, where
    `sky` is sky_match times the photo's sky colour (L, a, b); the rest by `ground_l` (lightness) and
    `ground_ab` (colour cast). With `low_light` w > 0 the ground's lightness offset also gets
    `low_light_l - w * (the frame's ground lightness)`, where `low_light_l` is w times the photo's ground
    lightness. Targets are kept premultiplied so that blending two tones blends their offsets."""

    sky_match: float = 0.0
    sky: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ground_l: float = 0.0
    ground_ab: tuple[float, float] = (0.0, 0.0)
    low_light: float = 0.0
    low_light_l: float = 0.0

    @classmethod
    def between(cls, photo_look: np.ndarray, render_look: np.ndarray) -> Tone:
        """The tone that takes a render with `render_look` toward a photo with `photo_look` (style atlas looks,
        spade/style_atlas.LOOK)."""
        photo, render = np.asarray(photo_look, np.float64), np.asarray(render_look, np.float64)
        if (np.abs(photo[:6] - render[:6]) < UNSEEN).all():
            return cls()       # a picture of the model's own world (a preset): its render is already it
        ground_l = float(np.clip(photo[GROUND_L] - render[GROUND_L], -TONE_LIMIT[3], TONE_LIMIT[3]))
        w = _ramp(photo[GROUND_L], LOW_LIGHT_L) * _ramp(photo[HIGHLIGHT_L], LOW_LIGHT_HIGHLIGHT_L)
        cast = np.clip(w * (photo[GROUND_AB] - render[GROUND_AB]), -CAST_LIMIT, CAST_LIMIT)
        ground = np.array([(1.0 - w) * ground_l, *cast])
        ground[np.abs(ground) < UNSEEN] = 0.0
        return cls.from_array([1.0, *photo[:3], *ground, w, w * photo[GROUND_L]])

    @classmethod
    def from_array(cls, values: Iterable[float]) -> Tone:
        """A tone from its numbers (TONE)."""
        v = [float(x) for x in values]
        if len(v) != len(TONE) or not np.isfinite(v).all() or not (0.0 <= v[0] <= 1.0 and 0.0 <= v[7] <= 1.0):
            raise ValueError(f"a tone is {len(TONE)} finite numbers ({', '.join(TONE)}), sky match and low "
                             "light in 0..1")
        return cls(v[0], (v[1], v[2], v[3]), v[4], (v[5], v[6]), v[7], v[8])

    def as_array(self) -> np.ndarray:
        """(len(TONE),) float32: the numbers of TONE."""
        return np.array([self.sky_match, *self.sky, self.ground_l, *self.ground_ab, self.low_light,
                         self.low_light_l], np.float32)

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
        sky = np.isin(labels, list(sky_ids))
        sky_offset = self.sky_offset(rgb, sky)
        ground = (self.ground_offset(rgb, sky), *self.ground_ab)
        weight = feathered(sky, max(1, round(min(labels.shape) * FEATHER)))
        out = np.empty_like(rgb)
        sky_lut, ground_lut = _table(sky_offset), _table(ground)
        for where, table in ((weight == 1.0, sky_lut), (weight == 0.0, ground_lut)):
            if where.any():
                out[where] = _look_up(table, rgb[where])
        seam = (weight > 0.0) & (weight < 1.0)
        if seam.any():
            w = weight[seam][:, None]
            offset = w * np.array(sky_offset) + (1.0 - w) * np.array(ground)
            out[seam] = (lab_to_srgb(srgb_to_lab(rgb[seam]) + offset) + 0.5).astype(np.uint8)
        return out

    def sky_offset(self, rgb: np.ndarray, sky: np.ndarray) -> tuple[float, float, float]:
        """The sky's offset for this frame: what takes its sky (median of the sky pixels, every 4th row and
        column) toward the photo's, limited, never pushing the sky's a* below SKY_MIN_A (or its own). With
        sky_match 0, `sky` is the offset itself."""
        if self.sky_match == 0.0:
            return self.sky
        pixels = rgb[::4, ::4][sky[::4, ::4]]
        if not len(pixels):
            return (0.0, 0.0, 0.0)
        frame = np.median(srgb_to_lab(pixels), axis=0)
        offset = np.clip(np.asarray(self.sky) - self.sky_match * frame, -TONE_LIMIT[:3], TONE_LIMIT[:3])
        offset[1] = max(offset[1], min(SKY_MIN_A, frame[1]) - frame[1])
        return tuple(round(float(v) / EXPOSURE_STEP) * EXPOSURE_STEP for v in offset)

    def ground_offset(self, rgb: np.ndarray, sky: np.ndarray) -> float:
        """The ground's lightness offset for this frame: `ground_l`, plus in low light what takes the frame's
        ground (median lightness of its non-sky pixels, every 4th row and column) to the photo's."""
        if self.low_light == 0.0:
            return self.ground_l
        ground = rgb[::4, ::4][~sky[::4, ::4]]
        if not len(ground):
            return self.ground_l
        offset = self.ground_l + self.low_light_l - self.low_light * float(np.median(srgb_to_lab(ground)[:, 0]))
        return round(float(np.clip(offset, -TONE_LIMIT[3], TONE_LIMIT[3])) / EXPOSURE_STEP) * EXPOSURE_STEP


def _ramp(value: float, start_full: tuple[float, float]) -> float:
    """0 above `start`, 1 below `full`, linear between: how far into low light a lightness is."""
    start, full = start_full
    return float(np.clip((start - value) / (start - full), 0.0, 1.0))


LUT_SIDE = 25   # colours per channel in a grade's colour table (33 is as close, 99% of pixels within 2 levels,
                # and takes twice as long to build: a dropped photo's first frame waits for it)


@lru_cache(maxsize=1)
def _grid_lab() -> np.ndarray:
    """(n, n, n, 3) the CIELAB colour of each node of a colour table, indexed [r, g, b]."""
    levels = np.linspace(0.0, 255.0, LUT_SIDE)
    return srgb_to_lab(np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1))


@lru_cache(maxsize=16)
def _table(offset: tuple[float, float, float]) -> torch.Tensor:
    """The colour table of a CIELAB offset, (1, 3, n, n, n) float32 over (r, g, b); kept, so that a frame whose
    sky (or ground) moved rebuilds only that table."""
    rgb = lab_to_srgb(_grid_lab() + np.asarray(offset)).transpose(3, 0, 1, 2).astype(np.float32)
    return torch.from_numpy(rgb).contiguous()[None]


def clear_tables() -> None:
    """Forget the colour tables made so far (the next grade builds its own, as after a new photo)."""
    _table.cache_clear()


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
