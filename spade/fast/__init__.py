"""Fast inference on label maps: the exact frame (`FastGenerator`, the same function as
SPADEGenerator.forward, several times faster) and stroke previews from its cached activations
(`StrokePreview`).

    generator.py    the exact fast path, block by block
    patterns.py     numbering the label windows a SPADE's modulation depends on
    spade_layer.py  one SPADE layer as tables over those windows
    winograd.py     3x3 convolutions by Winograd's F(2x2, 3x3) and F(4x4, 3x3)
    preview.py      stroke previews: each block recomputed near the change only
"""
from .generator import FastGenerator, RenderCancelled
from .preview import PreviewConfig, StrokePreview

__all__ = ["FastGenerator", "PreviewConfig", "RenderCancelled", "StrokePreview"]
