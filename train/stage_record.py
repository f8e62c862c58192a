"""The training record of a fine-tuning stage that starts from an installed model (anchor, photo_encoder):
its own figures, with the source model's record kept under `earlier_stages` and the time of all stages summed."""
from __future__ import annotations

import torch

from .trainer import cpu_name


def hardware(device: torch.device) -> dict:
    return {"device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name(),
            "torch": torch.__version__}


def chain_record(source_training: dict, record: dict) -> dict:
    """`record` (which holds `elapsed_s`) with the source model's stages before it."""
    earlier = {k: v for k, v in source_training.items() if k not in ("earlier_stages", "total_elapsed_s")}
    record = dict(record)
    record["earlier_stages"] = [*source_training.get("earlier_stages", []), earlier] if earlier else []
    record["total_elapsed_s"] = round(float(source_training.get("total_elapsed_s", earlier.get("elapsed_s", 0.0)))
                                      + record["elapsed_s"], 1)
    return record
