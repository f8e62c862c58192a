"""`gauguin render`: label map in, photo out, from the command line."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .device import DEVICE_CHOICES
from .errors import GauguinError, is_out_of_memory, out_of_memory_line
from .instances import read_instance_map
from .interrupt import quiet_on_interrupt
from .labels import read_mask, resize_labels, save_image
from .usage import EXIT_BAD_INPUT, UsageParser

if TYPE_CHECKING:
    from .inference import SpadeRenderer, Style


def build_parser(prog: str = "gauguin render") -> UsageParser:
    p = UsageParser(prog=prog, description="Render a photo from a semantic label map with a SPADE model.")
    p.add_argument("--mask", required=True, help="index PNG (the values of the model's label set, ADE20K 0..150) "
                                                  "or an RGB image in the set's palette")
    p.add_argument("--out", required=True, help="output image; the format follows the extension (.png, .jpg)")
    p.add_argument("--model", help="Gauguin checkpoint folder, a training --checkpoint_dir (its latest/ is "
                                    "used), or an official SPADE latest_net_G.pth or its folder (default: the "
                                    "bundled model)")
    p.add_argument("--instance", help="instance-id map (PNG, same size as the mask) for models with an instance "
                                      "channel (COCO-Stuff, Cityscapes); default: each region of one class is one")
    p.add_argument("--label_set", help="the classes of an official checkpoint when they cannot be recognised: "
                                       "ade20k, cocostuff, cityscapes or a CSV class table")
    p.add_argument("--style", help="style photo (any image Pillow opens); needs a model with an encoder")
    p.add_argument("--seed", type=int, default=0, help="seed of the random style when no --style (default 0)")
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES, help="default: auto (cuda, mps, cpu)")
    return p


def render_any_size(renderer: SpadeRenderer, labels: np.ndarray, style: Style | None,
                    instances: np.ndarray | None = None) -> np.ndarray:
    """Render; a model that renders one fixed size (VAE) gets the mask resized to it (nearest) and the photo is
    scaled back to the mask's size, with a note on stderr. Other sizes a model cannot render stay errors."""
    h, w = labels.shape
    mh, mw = renderer.renderable_size(h, w) if renderer.uses_style else (h, w)
    if (mh, mw) == (h, w):
        return renderer.render(labels, style, instances)
    print(f"note: this model renders exactly {mw}x{mh}; the {w}x{h} mask was resized to it and the photo "
          f"scaled back to {w}x{h}", file=sys.stderr)
    small = resize_labels(labels, mh, mw)
    small_instances = None if instances is None else resize_labels(instances, mh, mw)
    photo = Image.fromarray(renderer.render(small, style, small_instances)).resize((w, h), Image.Resampling.BICUBIC)
    return np.asarray(photo)


@quiet_on_interrupt
def render_command(argv: list[str] | None = None, prog: str = "gauguin render") -> int:
    args = build_parser(prog).parse_args(argv)
    from .inference import SpadeRenderer  # torch import is slow: after argument checks

    out = Path(args.out)
    try:
        if out.suffix.lower() not in Image.registered_extensions():
            raise GauguinError(f"--out {out}: unknown image extension {out.suffix or '(none)'}; use .png or .jpg")
        if not out.parent.exists() and str(out.parent):
            raise GauguinError(f"--out {out}: folder {out.parent} does not exist")
        renderer = SpadeRenderer.load(args.model, args.device, args.label_set)
        labels = read_mask(args.mask, renderer.label_set)
        instances = None
        if args.instance:
            if not renderer.uses_instances:
                raise GauguinError(f"--instance: model {renderer.name} ({renderer.label_set.display_name}) takes no "
                                   f"instance map")
            instances = read_instance_map(args.instance, labels.shape)
        style = None
        if args.style:
            style = renderer.encode_style(args.style)
        elif renderer.uses_style:
            style = renderer.random_style(args.seed)
        photo = Image.fromarray(render_any_size(renderer, labels, style, instances))
        save_image(out, photo)
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (MemoryError, RuntimeError) as e:
        if not is_out_of_memory(e):
            raise
        print("error: " + out_of_memory_line(e, "rendering", "use a smaller mask"), file=sys.stderr)
        return EXIT_BAD_INPUT
    recognised = renderer.bundle.training.get("label_set_from") if renderer.bundle.source == "official" else None
    label_set = renderer.label_set.display_name + (f" ({recognised})" if recognised else "")
    print(f"wrote {out} ({photo.width}x{photo.height}, model {renderer.name}, label set {label_set}, "
          f"on {renderer.device})")
    return 0
