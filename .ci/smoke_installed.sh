#!/usr/bin/env bash
# Gauguin as a user installs it: build the sdist and the wheel, install it into a fresh virtual environment outside the
# checkout (torch first, then the wheel), and from another folder render with the bundled model, train a few
# iterations on generated data and render what that wrote, and start the app offscreen until it shows the
# bundled model's photo. Usage: .ci/smoke_installed.sh (PYTHON and TORCH_SPEC as in the Makefile).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
work="$(mktemp -d "${TMPDIR:-/tmp}/gauguin-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share"
export QT_QPA_PLATFORM=offscreen
mkdir -p "$HOME" "$work/run"

echo "== building the sdist, and the wheel from it (so neither depends on build/ leftovers in the checkout)"
builder="$repo/.venv/bin/python"
[ -x "$builder" ] || builder="$PYTHON"
sdist="$(cd "$repo" && "$builder" -c 'import sys; from setuptools import build_meta
print(build_meta.build_sdist(sys.argv[1]))' "$work/sdist" | tail -n 1)"
"$builder" -m pip wheel --quiet --no-deps --no-build-isolation "$work/sdist/$sdist" -w "$work/wheel"
wheel="$(ls "$work"/wheel/gauguin-*.whl)"

echo "== installing $(basename "$wheel") into a fresh environment"
"$PYTHON" -m venv "$work/venv"
# shellcheck disable=SC2086  # TORCH_SPEC may carry pip options (--index-url ...)
"$work/venv/bin/pip" install --quiet $TORCH_SPEC
"$work/venv/bin/pip" install --quiet "$wheel"
gauguin="$work/venv/bin/gauguin"
py="$work/venv/bin/python"

cd "$work/run"
echo "== gauguin from $PWD"
"$gauguin" --help >/dev/null
examples="$("$py" -c 'from spade.paths import EXAMPLES_DIR; print(EXAMPLES_DIR)')"
case "$examples" in
  "$work/venv/"*) ;;
  *) echo "assets come from $examples, not from the installed package" >&2; exit 1 ;;
esac
"$gauguin" render --mask "$examples/lake_mountains.png" --out bundled.png
"$py" -c 'from PIL import Image; Image.new("RGB", (640, 360), (250, 140, 60)).save("sunset.jpg")'
"$gauguin" render --mask "$examples/lake_mountains.png" --style sunset.jpg --out styled.png
"$gauguin" train --dataset procedural --dataset_size 4 --checkpoint_dir tiny_run --img_height 64 --img_width 64 \
  --crop_size 64 --batch_size 2 --num_generator_filters 4 --num_discriminator_filters 8 --spade_hidden 8 \
  --num_discriminator_layers 2 --no_vgg_loss --num_workers 0 --device cpu --max_iters 3
"$gauguin" render --model tiny_run --mask "$examples/lake_mountains.png" --out trained.png
"$py" - <<'PY'
from PIL import Image
from spade import load_model
assert load_model(None, "cpu").atlas is not None, "the installed bundled model has no style atlas"
for name in ("bundled.png", "styled.png", "trained.png"):
    with Image.open(name) as image:
        assert image.size == (256, 256), (name, image.size)
        assert max(hi - lo for lo, hi in image.convert("RGB").getextrema()) > 20, f"{name} is flat"
print("renders: bundled.png, styled.png (a photo through the style atlas) and trained.png are 256x256 pictures")
PY
"$py" "$repo/.ci/smoke_app.py"
echo "== installed package: OK"
