"""Gauguin's desktop app: paint an ADE20K sketch, watch SPADE turn it into a photo."""
