"""The trainer's user-facing error: a bad option or dataset, reported in one line with exit code 2."""
from spade.errors import GauguinError


class TrainError(GauguinError):
    """Something the user can fix (options, dataset folders, weight files); never a bug."""
