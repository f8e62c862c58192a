"""Run-time device choice: cuda, then mps, then cpu."""
from __future__ import annotations

import platform

import torch

from .errors import GauguinError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found


def pick_device(name: str = "auto") -> torch.device:
    """'auto' takes the best available device; naming an unavailable one is an error, not a fallback."""
    name = (name or "auto").lower()
    if name not in DEVICE_CHOICES and not name.startswith("cuda:"):
        raise GauguinError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    found = available_devices()
    if name == "auto":
        for candidate in ("cuda", "mps", "cpu"):
            if candidate in found:
                return torch.device(candidate)
    if name.split(":")[0] not in found:
        raise GauguinError(f"device {name!r} is not available on this machine (available: {', '.join(found)})")
    return torch.device(name)


def usable_device(name: str = "auto") -> tuple[str, str]:
    """For a front end that must keep working without the device it was asked for (the app): `name` and ''
    when this machine has it, else 'cpu' and one line saying why."""
    try:
        pick_device(name)
    except GauguinError as e:
        return "cpu", f"{e}; using the CPU"
    return name, ""


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
