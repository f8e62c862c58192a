"""Errors a user can cause and fix: each carries a one-line message meant for people, not a traceback."""


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
