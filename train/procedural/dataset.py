"""torch Dataset over procedural scenes, generated on the fly."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .scene import generate_scene


class ProceduralDataset(Dataset):
    """``length`` scenes; item ``i`` is the scene of seed ``base_seed + i``.

    Items are dicts: ``image`` float (3, H, W) in [-1, 1], ``label`` long
    (H, W) of ADE20K ids and ``path`` ``"procedural/<seed>"``. ``setting_weights``
    overrides the default mix of settings (e.g. ``{"snow": 0.3}`` shows more snow).
    """

    def __init__(self, length: int, size: int = 256, base_seed: int = 0,
                 setting_weights: dict[str, float] | None = None) -> None:
        self.length = int(length)
        self.size = size
        self.base_seed = int(base_seed)
        self.setting_weights = dict(setting_weights or {})

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(index)
        seed = self.base_seed + int(index)
        scene = generate_scene(seed, self.size, weights=self.setting_weights)
        image = torch.from_numpy(scene.image).permute(2, 0, 1).float() / 127.5 - 1.0
        label = torch.from_numpy(scene.labels.astype("int64"))
        return {"image": image, "label": label, "path": f"procedural/{seed}"}
