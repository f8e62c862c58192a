"""Install the result of scripts/train_bundled_model.sh as the bundled model (assets/model).

    .venv/bin/python scripts/install_bundled_model.py [--runs runs] [--dest assets/model]

Copies the last stage's model (config.json and model.safetensors) and the discriminator of the last stage that
trained one (discriminator.safetensors, float16; an anchored fine-tune, train/anchor.py, trains none). The app
never reads the discriminator, but fine-tuning the installed model with `--init_from` needs it: the generator
paints texture only because its own discriminator asks for it (docs/training.md). The rest of the resume state
stays behind. The whole history goes into the training record: the last stage's record stays at the top, the
records of the models it grew from go under "earlier_stages" (oldest first), and "total_elapsed_s" adds up the
stages' times.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from spade.atomic import write_folder
from train.state import DISCRIMINATOR_TENSORS, STATE_TENSORS, export_discriminator

# The models scripts/train_bundled_model.sh leaves in RUNS, in training order: stages 1-2 (128 px), 3 to 7.
STAGES = ("bundled128", "bundled256/latest", "bundled256b/latest", "bundled256c/latest", "bundled256d",
          "bundled256e")


def combined_record(final: dict, earlier: list[dict]) -> dict:
    """The final stage's record with the earlier stages' records (oldest first) attached."""
    total = sum(float(s.get("elapsed_s", 0.0)) for s in earlier) + float(final.get("elapsed_s", 0.0))
    return {**final, "earlier_stages": earlier, "total_elapsed_s": round(total, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default=str(ROOT / "runs"), help="the folder the training script wrote (RUNS)")
    p.add_argument("--dest", default=str(ROOT / "assets" / "model"))
    args = p.parse_args(argv)
    runs, dest = Path(args.runs), Path(args.dest)
    folders = [runs / stage for stage in STAGES]
    for folder in folders:
        if not (folder / "config.json").is_file():
            print(f"error: {folder / 'config.json'} not found: run scripts/train_bundled_model.sh first",
                  file=sys.stderr)
            return 2
    final_dir = folders[-1]
    adversarial = [f for f in folders if (f / STATE_TENSORS).is_file()]
    if not adversarial:
        print(f"error: no stage's {STATE_TENSORS} found: the discriminator of the last stage that trained one is "
              f"installed with the model", file=sys.stderr)
        return 2
    config = json.loads((final_dir / "config.json").read_text())
    earlier = [json.loads((f / "config.json").read_text()).get("training", {}) for f in folders[:-1]]
    config["training"] = combined_record(config.get("training", {}), earlier)

    def fill(staging: Path) -> None:
        shutil.copy2(final_dir / "model.safetensors", staging / "model.safetensors")
        export_discriminator(adversarial[-1], staging / DISCRIMINATOR_TENSORS)
        (staging / "config.json").write_text(json.dumps(config, indent=1))

    write_folder(dest, fill)
    print(f"installed {final_dir} as {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
