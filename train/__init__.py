"""Training SPADE models (Park et al. 2019): `gauguin train` (also `python -m train`, e.g. under torchrun).

Modules: options (command line and TrainConfig), data (paired folders, ADE20K, procedural scenes),
networks (building G, D, E), losses, vgg (the perceptual network), trainer (the loop), state (checkpoints
and exact resume), progress (console, CSV, TensorBoard, sample grids), distributed (torchrun / DDP).
Nothing here imports Qt.
"""
