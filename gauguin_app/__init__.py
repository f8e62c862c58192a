"""Gauguin's desktop app: paint an ADE20K sketch, watch SPADE turn it into a photo."""
import os

# The render thread shares the CPU with the UI thread (and whatever else runs): OpenMP workers that spin
# while waiting make renders many times slower on a busy machine. Set before torch is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
