"""Pieces of the trainer: augmentation, sampling, schedule, losses, VGG weights, optimiser state files."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from spade.labels import ade20k
from train.data import Augment, EpochSampler, PairedFolderDataset, pair_files
from train.errors import TrainError
from train.losses import feature_matching_loss, hinge_d_loss, hinge_g_loss, kld_loss
from train.state import _flatten_optimizer, _unflatten_optimizer
from train.vgg import VGG19, read_vgg_weights, vgg19_features


def test_crop_and_flip_are_shared_by_photo_and_label(tmp_path):
    """The photo's colour is a function of the label: any crop/flip mismatch breaks it."""
    rng = np.random.default_rng(1)
    lab = rng.choice([3, 5, 10], size=(30, 50)).astype(np.uint8)
    lab[:, :7] = 17  # an asymmetric stripe makes flips visible
    palette = np.zeros((151, 3), np.uint8)
    palette[[3, 5, 10, 17]] = [[200, 0, 0], [0, 200, 0], [0, 0, 200], [200, 200, 0]]
    (tmp_path / "i").mkdir(), (tmp_path / "l").mkdir()
    Image.fromarray(palette[lab]).save(tmp_path / "i" / "a.png")
    Image.fromarray(lab).save(tmp_path / "l" / "a.png")
    ds = PairedFolderDataset(pair_files(tmp_path / "i", tmp_path / "l", True), ade20k(), Augment(30, 50, 24, True))
    crops = set()
    for seed in range(12):
        item = ds[(0, seed)]
        image = np.rint((item["image"].permute(1, 2, 0).numpy() + 1) * 127.5).astype(np.uint8)
        assert item["label"].shape == (24, 24) and item["label"].dtype == torch.long
        np.testing.assert_array_equal(image, palette[item["label"].numpy()])
        crops.add(item["label"].numpy().tobytes())
    assert len(crops) > 6  # crops and flips do vary


def test_resize_is_bicubic_for_photos_and_nearest_for_labels(tmp_path):
    (tmp_path / "i").mkdir(), (tmp_path / "l").mkdir()
    lab = np.zeros((10, 10), np.uint8)
    lab[:, 5:] = 22
    Image.fromarray(np.stack([lab * 10] * 3, -1)).save(tmp_path / "i" / "a.png")
    Image.fromarray(lab).save(tmp_path / "l" / "a.png")
    ds = PairedFolderDataset(pair_files(tmp_path / "i", tmp_path / "l", True), ade20k(), Augment(23, 23, 23, False))
    item = ds[(0, 0)]
    assert set(item["label"].unique().tolist()) == {0, 22}
    assert len(item["image"][0].unique()) > 2  # interpolated values at the edge


def test_sampler_shards_cover_the_single_process_batches():
    single = EpochSampler(10, 4, 1.0, seed=3)
    ranks = [EpochSampler(10, 4, 1.0, seed=3, rank=r, world_size=2) for r in range(2)]
    for s in [single, *ranks]:
        s.set_epoch(5)
    one = [i for i, _ in single]
    parts = [[i for i, _ in r] for r in ranks]
    assert len(one) == 8 and single.batches_per_epoch == 2
    for b in range(2):
        assert sorted(one[4 * b:4 * b + 4]) == sorted(parts[0][2 * b:2 * b + 2] + parts[1][2 * b:2 * b + 2])
    single.set_epoch(5, start_batch=1)
    assert [i for i, _ in single] == one[4:] and len(single) == 4
    single.set_epoch(6)
    assert [i for i, _ in single] != one  # reshuffled each epoch


def test_prob_dataset_draws_a_share_anew_each_epoch():
    s = EpochSampler(100, 5, 0.3, seed=0)
    s.set_epoch(0)
    first = {i for i, _ in s}
    s.set_epoch(1)
    second = {i for i, _ in s}
    assert len(first) == len(second) == 30 and first != second
    with pytest.raises(TrainError, match="fewer than one batch"):
        EpochSampler(3, 4, 1.0, seed=0)


def test_hinge_and_feature_matching_losses():
    real = [[torch.ones(1, 2, 3, 3), torch.full((1, 1, 2, 2), 2.0)]]
    fake = [[torch.zeros(1, 2, 3, 3), torch.full((1, 1, 2, 2), -0.5)]]
    assert hinge_d_loss(real, real=True).item() == 0.0  # 2 is beyond the margin
    assert hinge_d_loss(fake, real=False).item() == pytest.approx(0.5)
    assert hinge_g_loss(fake).item() == pytest.approx(0.5)
    assert feature_matching_loss(fake, real).item() == pytest.approx(1.0)  # last map excluded
    assert kld_loss(torch.zeros(2, 4), torch.zeros(2, 4)).item() == 0.0
    assert kld_loss(torch.ones(2, 4), torch.zeros(2, 4)).item() == pytest.approx(4.0)


def test_vgg_weights_in_torchvision_layout(tmp_path):
    features = vgg19_features(36)  # the whole torchvision `features`, with pools
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)
    torch.save(state, tmp_path / "vgg19.pth")
    vgg = VGG19.from_file(tmp_path / "vgg19.pth")
    torch.testing.assert_close(vgg.features[28].weight, features[28].weight)
    outs = vgg(torch.zeros(1, 3, 32, 32))
    assert [o.shape[1] for o in outs] == [64, 128, 256, 512, 512]
    assert not any(p.requires_grad for p in vgg.parameters())
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "vgg19.safetensors"))
    assert read_vgg_weights(tmp_path / "vgg19.safetensors").keys() == read_vgg_weights(tmp_path / "vgg19.pth").keys()
    torch.save({"features.0.weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(TrainError, match="torchvision's layout"):
        VGG19.from_file(tmp_path / "bad.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(TrainError, match="junk.pth"):
        VGG19.from_file(tmp_path / "junk.pth")


def test_optimizer_state_round_trip():
    p = torch.nn.Parameter(torch.randn(3, 2))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.0, 0.9))
    p.grad = torch.ones_like(p)
    opt.step()
    tensors: dict = {}
    import json
    meta = json.loads(json.dumps(_flatten_optimizer("optimizer_G", opt.state_dict(), tensors)))
    restored = torch.optim.Adam([torch.nn.Parameter(p.detach().clone())], lr=1.0)
    restored.load_state_dict(_unflatten_optimizer("optimizer_G", meta, tensors))
    assert restored.param_groups[0]["lr"] == 0.1
    torch.testing.assert_close(restored.state_dict()["state"][0]["exp_avg_sq"], opt.state_dict()["state"][0]["exp_avg_sq"])
