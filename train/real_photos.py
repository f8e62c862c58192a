"""Real photographs from Debian's packages (wallpapers, and one of Stellarium's landscapes): one set to validate
style encoding with, a disjoint one to train the style encoder on, and a few for the tests only.

No validation (or test) photo is ever used for training. `install()` runs apt-get for the packages that hold
them (where apt-get exists and may install); `collect(folder, kind)` copies one set there, shrunk to `size`
pixels on the long side: the validation set for `python -m train.quality --style-photos folder`, the training
set for `python -m train.photo_encoder --photos folder`.

    python -m train.real_photos validation OUT_DIR
    python -m train.real_photos training OUT_DIR
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

PLASMA = "plasma-workspace-wallpapers"
LOMIRI = "lomiri-wallpapers-16.04"
LOMIRI_20 = "lomiri-wallpapers-20.04"
MATE = "mate-backgrounds"
STELLARIUM = "stellarium-data"   # its landscapes are photographed panoramas with the sky cut out

# name -> (Debian package, file, setting it shows)
PHOTOS = {
    "evening_glow": (PLASMA, "/usr/share/wallpapers/EveningGlow/contents/images/1920x1080.jpg", "sunset"),
    "sunset_hills": (LOMIRI, "/usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg", "sunset"),
    "summer_1am": (PLASMA, "/usr/share/wallpapers/summer_1am/contents/images/1920x1080.jpg", "dusk"),
    "darkest_hour": (PLASMA, "/usr/share/wallpapers/DarkestHour/contents/images/1920x1080.jpg", "blue hour"),
    "cold_ripple": (PLASMA, "/usr/share/wallpapers/ColdRipple/contents/images/1920x1080.jpg", "fog"),
    "storm": (MATE, "/usr/share/backgrounds/mate/nature/Storm.jpg", "overcast"),
    "aitzgorri": (LOMIRI, "/usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg", "bright day"),
    "bridge_seaside": (LOMIRI, "/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg", "seaside"),
}
# Not in the validation set, for the tests only: a clear day over green grass with a deep blue sky.
TEST_PHOTOS = {
    "picos_de_europa": (LOMIRI, "/usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg", "clear day"),
    # Hurricane Ridge in winter (by Johan Meuris and Robert Spearman, GPL-2+): snowy firs over a snow field, the
    # only snowy landscape photo found in Debian; one panel of the panorama, below its cut-out sky
    "hurricane_ridge": (STELLARIUM, "/usr/share/stellarium/landscapes/hurricane/hurricane4.png", "snow"),
}
# For training the style encoder: landscapes with sky at the top (the training loss reads the top as sky).
TRAINING_PHOTOS = {
    "by_the_water": (PLASMA, "/usr/share/wallpapers/BytheWater/contents/images/1920x1080.jpg", "golden light"),
    "kite": (PLASMA, "/usr/share/wallpapers/Kite/contents/images/1920x1080.jpg", "day"),
    "dune": (MATE, "/usr/share/backgrounds/mate/nature/Dune.jpg", "day"),
    "infinite_sea": (LOMIRI_20, "/usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg", "night"),
    "seeding": (LOMIRI, "/usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg", "evening"),
}
ALL_PHOTOS = {**PHOTOS, **TEST_PHOTOS, **TRAINING_PHOTOS}
SETS = {"validation": PHOTOS, "training": TRAINING_PHOTOS}


def missing_packages(names: list[str] | None = None) -> list[str]:
    names = names or list(PHOTOS)
    return sorted({ALL_PHOTOS[n][0] for n in names if not Path(ALL_PHOTOS[n][1]).is_file()})


def install(names: list[str] | None = None) -> str | None:
    """apt-get install the packages holding `names` (all by default); None on success, else why not."""
    packages = missing_packages(names)
    if not packages:
        return None
    if shutil.which("apt-get") is None:
        return f"apt-get is not available to install {', '.join(packages)}"
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    install_cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
    try:
        done = subprocess.run(install_cmd, capture_output=True, text=True, timeout=600, env=env)
        if done.returncode != 0:  # a fresh machine's package lists may not know them yet
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=600, env=env)
            done = subprocess.run(install_cmd, capture_output=True, text=True, timeout=600, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"apt-get install {' '.join(packages)} failed: {e}"
    if done.returncode != 0 or missing_packages(names):
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"apt-get install {' '.join(packages)} failed: {last}"
    return None


def load(name: str, size: int = 512) -> Image.Image:
    """The photo `name` as RGB, shrunk to `size` pixels on its long side; one whose sky was cut out (transparent)
    is cropped to its rows that are wholly opaque, the photograph as it was taken."""
    with Image.open(ALL_PHOTOS[name][1]) as img:
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            img = img.convert("RGBA")
            rows = np.flatnonzero((np.asarray(img)[..., 3] == 255).all(1))
            img = img.crop((0, int(rows[0]), img.width, int(rows[-1]) + 1))
        img = img.convert("RGB")
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return img


def collect(folder: str | Path, kind: str = "validation", size: int = 512) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SETS[kind]:
        path = folder / f"{name}.png"
        load(name, size).save(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in SETS:
        print("usage: python -m train.real_photos {validation,training} OUT_DIR", file=sys.stderr)
        return 2
    problem = install(list(SETS[argv[0]]))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    for path in collect(argv[1], argv[0]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
