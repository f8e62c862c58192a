"""torchrun / DistributedDataParallel plumbing: one process per GPU (NCCL) or per CPU worker (gloo).

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; without them the trainer runs as a single process and
every helper here is a no-op. Only rank 0 logs, writes samples and saves checkpoints.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.nn as nn

from spade.device import pick_device

from .errors import TrainError


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device_name: str) -> tuple[DistInfo, torch.device]:
    """Join the process group when launched by torchrun and pick this process's device."""
    if not launched_by_torchrun():
        return DistInfo(), pick_device(device_name)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    world = int(os.environ["WORLD_SIZE"])
    wants_cpu = device_name == "cpu" or not torch.cuda.is_available()
    if device_name not in ("auto", "cpu", "cuda") and not device_name.startswith("cuda"):
        raise TrainError(f"--device {device_name} cannot be used with torchrun (use auto, cuda or cpu)")
    if wants_cpu:
        device, backend = torch.device("cpu"), "gloo"
    else:
        if local_rank >= torch.cuda.device_count():
            raise TrainError(f"torchrun started {world} processes but this machine has "
                             f"{torch.cuda.device_count()} GPUs")
        device, backend = torch.device("cuda", local_rank), "nccl"
        torch.cuda.set_device(device)
    kwargs = {"device_id": device} if backend == "nccl" else {}
    dist.init_process_group(backend, rank=rank, world_size=world, timeout=timedelta(minutes=30), **kwargs)
    return DistInfo(rank, local_rank, world, backend), device


def teardown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """DDP around a module whose parameters are trained; identity in a single process."""
    if not info.enabled:
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)


def sync_batchnorm(module: nn.Module, info: DistInfo, device: torch.device) -> nn.Module:
    """SyncBatchNorm across processes (GPU only: PyTorch's SyncBatchNorm has no CPU kernel)."""
    if info.enabled and device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return module


def any_flag(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when any rank raised the flag (so all stop at the same iteration)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def all_reduce_mean(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if not info.enabled:
        return values
    values = values.clone()
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values / info.world_size


def all_reduce_any(mask: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Elementwise OR of a boolean mask over the ranks."""
    if not info.enabled:
        return mask
    t = mask.to(torch.float32)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t > 0


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()
