#!/usr/bin/env bash
# The recipe of the bundled model (assets/model): a small VAE SPADE trained on procedural landscapes.
# Extra arguments are appended to every training stage (argparse keeps the last value), e.g. --device cuda;
# the last two stages (anchored fine-tunes) take $ANCHOR_ARGS instead.
# Resumable: run it again after an interruption. Runs go to $RUNS (default: runs). When it ends, install the model
# (with the records of all stages) by:  .venv/bin/python scripts/install_bundled_model.py
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
RUNS="${RUNS:-runs}"
# Passive OpenMP waiting: much faster when the CPU is shared with anything else.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

train() {
  "$PYTHON" -m train --dataset procedural --dataset_size 200000 \
    --img_height 128 --img_width 128 --crop_size 128 --use_vae \
    --num_generator_filters 16 --num_encoder_filters 16 --spade_hidden 32 \
    --num_discriminator_filters 32 --num_discriminator_layers 3 \
    --input_classes procedural --no_vgg_loss --lambda_l1 10 --batch_size 2 --lr 0.0003 \
    --seed 1 --num_workers 1 --save_model_freq 100 --save_img_freq 100 --print_info_freq 10 \
    --checkpoint_dir "$RUNS/bundled" --save_dtype float16 --name gauguin-landscapes "$@"
}

# Stages 3-5 train at 256 px.
train256() {
  train --img_height 256 --img_width 256 --crop_size 256 "$@"
}

# Stage 1, 128 px: 6000 iterations; the learning rate decays linearly to zero over the second half.
train --max_iters 6000 "$@"
# Stage 2, 128 px: resumed with a longer schedule, 10000 iterations in all (the decay restarts at 0.8 of the rate).
train --max_iters 10000 "$@"

# Stage 3, 256 px: the 128 px model grown one level ('normal' -> 'more' upsampling keeps every tensor, see
# train/networks.py), started from its saved float16 weights with a fresh discriminator, and fine-tuned on
# 256 px scenes with more snow (the setting stage 2 had not learned) and a lighter L1 term (sharper detail).
mkdir -p "$RUNS/bundled128"
cp "$RUNS/bundled/latest/config.json" "$RUNS/bundled/latest/model.safetensors" "$RUNS/bundled128/"
train256 --init_from "$RUNS/bundled128" \
  --checkpoint_dir "$RUNS/bundled256" \
  --seed 2 --lr 0.0002 --lambda_l1 5 --procedural_settings snow=0.3 --max_iters 4500 "$@"

# Stage 4, 256 px: stage 3's generator, encoder and discriminator fine-tuned at half its learning rate with three
# times its L1 weight. This halved the vertical streaks stage 3 left in trees, water and rock (python -m
# train.quality: mean coherence 0.17 -> 0.09 over the example sketches); fields at sunset kept theirs.
train256 --init_from "$RUNS/bundled256/latest" \
  --checkpoint_dir "$RUNS/bundled256b" \
  --seed 3 --lr 0.0001 --lambda_l1 15 --procedural_settings snow=0.3 --max_iters 4000 "$@"

# Stage 5, 256 px: stage 4 fine-tuned with twice its L1 weight and sunset drawn for 30% of the scenes, the setting
# in which stage 4 still painted fields with vertical streaks (python -m train.quality, worst region 0.45).
train256 --init_from "$RUNS/bundled256b/latest" \
  --checkpoint_dir "$RUNS/bundled256c" \
  --seed 4 --lr 0.0001 --lambda_l1 30 --procedural_settings snow=0.2,sunset=0.3 --max_iters 3000 "$@"

# Stage 6, 256 px: stage 5 taught the smoother overcast sky of the procedural data without a discriminator
# (train/anchor.py): the target is the photo on the sky of overcast scenes and stage 5's own render everywhere
# else, weighted 4:1 so the rest holds. It takes no training arguments, only $ANCHOR_ARGS (e.g. --device cuda),
# and does not resume: a finished stage is kept, an interrupted one starts again.
if [ ! -f "$RUNS/bundled256d/config.json" ]; then
  # shellcheck disable=SC2086
  "$PYTHON" -m train.anchor --model "$RUNS/bundled256c/latest" --out "$RUNS/bundled256d" \
    --setting overcast --classes sky --share 0.5 --seed 0 --lr 0.00005 --anchor_weight 4 --iters 400 ${ANCHOR_ARGS:-}
fi

# Stage 7, 256 px: stage 6 taught its own render with the vertical streaks taken out (train/anchor.py
# --target destreaked) in every landscape class but the sky, in all settings: python -m train.quality's mean
# streak 0.056 -> 0.042, with grass by day as detailed as before. Like stage 6 it takes only $ANCHOR_ARGS.
if [ ! -f "$RUNS/bundled256e/config.json" ]; then
  # shellcheck disable=SC2086
  "$PYTHON" -m train.anchor --model "$RUNS/bundled256d" --out "$RUNS/bundled256e" --target destreaked \
    --setting all --classes mountain,tree,field,grass,rock,river,lake,sea,water,sand,earth,hill \
    --seed 3 --lr 0.00005 --anchor_weight 4 --iters 1000 --print_freq 100 ${ANCHOR_ARGS:-}
fi
