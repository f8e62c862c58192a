"""Gauguin's data files (class table, example sketches, style presets, bundled model), installed as the
`gauguin_assets` package so that `importlib.resources` finds them in a wheel, an editable install and a checkout."""
