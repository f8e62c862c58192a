"""Errors a user can cause and fix: each carries a one-line message meant for people, not a traceback."""
import re


class GauguinError(Exception):
    """Base class for every error caused by user input (files, options, checkpoints)."""


class MaskError(GauguinError):
    """A label map that cannot be read or holds values outside the label set."""


class CheckpointError(GauguinError):
    """A model checkpoint that is missing, truncated, foreign or inconsistent."""


class StyleError(GauguinError):
    """A style image that cannot be read, or a style asked of a model without an encoder."""


class SizeError(GauguinError):
    """A label map whose size the model cannot render."""


def is_out_of_memory(error: BaseException) -> bool:
    """MemoryError, the RuntimeError one of PyTorch's allocators (CPU, CUDA, MPS) raises when it fails, or a
    DataLoader worker's MemoryError re-raised in the main process."""
    if isinstance(error, MemoryError):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and any(
        words in text for words in ("out of memory", "not enough memory", "can't allocate memory")) or (
        text.startswith("Caught MemoryError"))


def out_of_memory_line(error: BaseException, doing: str, advice: str) -> str:
    """One line for an allocation that failed, with the size asked for when the allocator says it."""
    m = re.search(r"(?:tried to allocate|Tried to allocate) ([\d.]+) ?(bytes|[KMG]iB)?", str(error))
    asked = ""
    if m:
        unit = m.group(2) or "bytes"
        size = float(m.group(1)) * {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]
        asked = f" (an allocation of {size / 2**30:.1f} GiB failed)"
    return f"out of memory while {doing}{asked}: {advice}"


def read_failure(error: OSError) -> str:
    """Why a file could not be read, in the words the user needs (not errno text or a guess like 'truncated')."""
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, FileNotFoundError):
        return "not found"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a file"
    return error.strerror or str(error)
