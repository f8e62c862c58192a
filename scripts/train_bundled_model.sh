#!/usr/bin/env bash
# The recipe of the bundled model (assets/model): a small VAE SPADE trained on procedural landscapes.
# Extra arguments are appended (argparse keeps the last value), e.g. --device cuda or --max_iters 20000.
# Resumable: run it again after an interruption. When it ends, install the model with
#   cp runs/bundled/latest/config.json runs/bundled/latest/model.safetensors assets/model/
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
# Passive OpenMP waiting: much faster when the CPU is shared with anything else.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec "$PYTHON" -m train --dataset procedural --dataset_size 200000 \
  --img_height 128 --img_width 128 --crop_size 128 --use_vae \
  --num_generator_filters 16 --num_encoder_filters 16 --spade_hidden 32 \
  --num_discriminator_filters 32 --num_discriminator_layers 3 \
  --input_classes procedural --no_vgg_loss --lambda_l1 10 --batch_size 2 --max_iters 6000 --lr 0.0003 \
  --seed 1 --num_workers 1 --save_model_freq 100 --save_img_freq 100 --print_info_freq 10 \
  --checkpoint_dir runs/bundled --save_dtype float16 --name gauguin-landscapes "$@"
