"""SPADE semantic image synthesis: models, checkpoints and inference (no Qt here)."""
from .errors import (CheckpointError, GauguinError, MaskError, SizeError, StyleError, is_out_of_memory,
                     out_of_memory_line)
from .inference import SpadeRenderer, Style, load_bundle
from .labels import LabelSet, ade20k, read_mask, resize_labels, write_color_png, write_index_png
from .model import (ConvEncoder, DiscriminatorConfig, EncoderConfig, GeneratorConfig, MultiscaleDiscriminator,
                    SPADE, SPADEGenerator, SPADEResBlock)


def load_model(path=None, device: str = "auto") -> SpadeRenderer:
    """Load a model for inference: ours or official, file or folder; None = the bundled default."""
    return SpadeRenderer.load(path, device)


__all__ = ["CheckpointError", "GauguinError", "MaskError", "SizeError", "StyleError", "is_out_of_memory",
           "out_of_memory_line", "SpadeRenderer", "Style",
           "load_bundle", "load_model", "LabelSet", "ade20k", "read_mask", "resize_labels", "write_color_png",
           "write_index_png",
           "ConvEncoder", "DiscriminatorConfig", "EncoderConfig", "GeneratorConfig", "MultiscaleDiscriminator",
           "SPADE", "SPADEGenerator", "SPADEResBlock"]
