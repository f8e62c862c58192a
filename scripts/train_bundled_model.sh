#!/usr/bin/env bash
# The recipe of the bundled model (assets/model): a small VAE SPADE trained on procedural landscapes.
# Extra arguments are appended to both stages (argparse keeps the last value), e.g. --device cuda.
# Resumable: run it again after an interruption. When it ends, install the model with
#   cp runs/bundled/latest/config.json runs/bundled/latest/model.safetensors assets/model/
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
# Passive OpenMP waiting: much faster when the CPU is shared with anything else.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

train() {
  "$PYTHON" -m train --dataset procedural --dataset_size 200000 \
    --img_height 128 --img_width 128 --crop_size 128 --use_vae \
    --num_generator_filters 16 --num_encoder_filters 16 --spade_hidden 32 \
    --num_discriminator_filters 32 --num_discriminator_layers 3 \
    --input_classes procedural --no_vgg_loss --lambda_l1 10 --batch_size 2 --lr 0.0003 \
    --seed 1 --num_workers 1 --save_model_freq 100 --save_img_freq 100 --print_info_freq 10 \
    --checkpoint_dir runs/bundled --save_dtype float16 --name gauguin-landscapes "$@"
}

# Stage 1: 6000 iterations; the learning rate decays linearly to zero over the second half.
train --max_iters 6000 "$@"
# Stage 2: resumed with a longer schedule, 10000 iterations in all (the decay restarts at 0.8 of the base rate).
train --max_iters 10000 "$@"
