"""Device choice: `pick_device` refuses what the machine lacks; `usable_device` (the app's) falls back to the CPU."""
from __future__ import annotations

import pytest
import torch

from spade import GauguinError
from spade.device import pick_device, usable_device


def test_a_missing_device_is_an_error_for_pick_and_the_cpu_with_a_reason_for_use(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(GauguinError, match="'cuda' is not available on this machine"):
        pick_device("cuda")
    device, note = usable_device("cuda")
    assert device == "cpu" and "'cuda' is not available" in note and note.endswith("using the CPU")
    assert "\n" not in note
    assert usable_device("cpu") == ("cpu", "")
    assert usable_device("nonsense")[0] == "cpu" and "unknown device" in usable_device("nonsense")[1]
