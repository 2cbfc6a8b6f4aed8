"""Classifier augmentations: label-only mixup partners, soft labels, affine fill, FGSM, saliency erasing."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coinseg_train.augment import (
    fgsm_perturb,
    intensity_ceiling,
    mixup,
    nearest_normal_partner,
    random_affine,
    saliency_erase,
)
from coinseg_train.nets.classifier import Classifier


def test_should_pair_each_slice_with_the_nearest_other_normal_slice_of_its_own_scan():
    labels = np.array([1, 0, 1, 1, 1, 0, 0, 0])
    scans = ["a", "a", "a", "a", "b", "b", "b", "b"]
    z = np.array([0, 3, 4, 9, 0, 5, 6, 9])
    assert nearest_normal_partner(labels, scans, z).tolist() == [1, -1, 1, 1, 5, 6, 5, 6]
    assert nearest_normal_partner(np.array([1, 1]), ["c", "c"], np.array([0, 1])).tolist() == [-1, -1]


def test_should_blend_abnormal_slices_with_their_partner_and_soften_the_label():
    gen = torch.Generator().manual_seed(0)
    x = torch.ones(64, 1, 4, 4)
    partner = -torch.ones(64, 1, 4, 4)
    y = torch.tensor([1.0] * 32 + [0.0] * 32)
    has = torch.ones(64, dtype=torch.bool)
    xm, ym = mixup(x, y, partner, has, {"prob": 1.0, "pairing": "nearest-normal", "lamMin": 0.2}, gen)
    lam = (xm[:, 0, 0, 0] + 1) / 2  # x = lam * 1 + (1 - lam) * (-1)
    assert torch.allclose(ym[:32], lam[:32], atol=1e-6)  # soft label = lam for abnormal slices
    assert lam[:32].min() >= 0.2 and lam[:32].max() < 1.0
    assert torch.equal(xm[32:], x[32:]) and torch.equal(ym[32:], y[32:])  # normal slices untouched


def test_should_leave_the_batch_unchanged_when_mixup_is_off():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 1, 4, 4), torch.tensor([1.0, 0.0, 1.0, 0.0])
    xm, ym = mixup(x, y, None, None, {"prob": 0.0}, gen)
    assert torch.equal(xm, x) and torch.equal(ym, y)


def test_should_fill_with_air_and_stay_in_range_when_shifting():
    gen = torch.Generator().manual_seed(0)
    x = torch.ones(8, 1, 16, 16)
    out = random_affine(x, {"shiftFrac": 0.3, "rotateDeg": 30, "scale": [0.8, 1.2]}, gen)
    assert out.min() >= -1 and out.max() <= 1
    assert (out <= -0.99).any()  # something moved in from outside, filled with -1 (air)
    same = random_affine(x, {}, gen)
    assert torch.allclose(same, x, atol=1e-5)  # identity transform when nothing is configured


def test_should_stay_within_eps_and_raise_the_loss_when_perturbing_with_fgsm():
    torch.manual_seed(0)
    model = Classifier([4, 8, 8, 16], [1, 1, 1, 1], 3, 2, False).eval()
    x = torch.rand(6, 1, 32, 32) * 1.6 - 0.8
    y = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.7, 0.2])
    eps = 0.05
    x_adv = fgsm_perturb(model, x, y, eps, torch.Generator().manual_seed(0))
    assert not x_adv.requires_grad
    assert (x_adv - x).abs().max() <= eps + 1e-6
    assert (x_adv - x).abs().max() > 0.5 * eps
    assert all(p.grad is None for p in model.parameters())
    with torch.no_grad():
        clean = F.binary_cross_entropy_with_logits(model(x).reshape(-1), y)
        adv = F.binary_cross_entropy_with_logits(model(x_adv).reshape(-1), y)
    assert adv > clean


def test_should_return_input_unchanged_when_fgsm_eps_is_zero():
    model = Classifier([4, 8, 8, 16], [1, 1, 1, 1], 3, 2, False).eval()
    x = torch.rand(2, 1, 32, 32)
    assert fgsm_perturb(model, x, torch.ones(2), 0.0, torch.Generator()) is x


def test_should_label_any_trace_of_an_abnormal_slice_abnormal_when_label_rule_is_max():
    gen = torch.Generator().manual_seed(0)
    x = torch.full((4, 1, 4, 4), 1.0)
    partner = torch.full((4, 1, 4, 4), -1.0)
    y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    has = torch.tensor([True, True, False, True])
    cfg = {"prob": 1.0, "pairing": "nearest-normal", "lamMin": 0.2, "labelRule": "max"}
    xm, ym = mixup(x, y, partner, has, cfg, gen)
    assert ym.tolist() == [1.0, 0.0, 1.0, 0.0]
    # Normal slices are blended with their partner too (so blending itself is no cue) ...
    assert (xm[1] < 1.0).all() and (xm[3] < 1.0).all() and (xm[0] < 1.0).all()
    # ... at a weight of at least lamMin; a slice without a partner stays as it was.
    assert (xm[[0, 1, 3]] >= 2 * 0.2 - 1 - 1e-6).all()
    assert torch.equal(xm[2], x[2])


def test_should_refuse_an_unknown_label_rule():
    with pytest.raises(ValueError, match="labelRule"):
        mixup(torch.zeros(2, 1, 2, 2), torch.zeros(2), torch.zeros(2, 1, 2, 2), torch.ones(2, dtype=torch.bool),
              {"prob": 1.0, "pairing": "nearest-normal", "labelRule": "or"}, torch.Generator())


class _SpotModel(torch.nn.Module):
    """A 'classifier' that looks mostly at pixel (10, 12), a little at everything, with batch norm
    so that a change of mode would show."""

    def __init__(self) -> None:
        super().__init__()
        self.bn = torch.nn.BatchNorm2d(1)
        self.w = torch.nn.Parameter(torch.full((1, 1, 32, 32), 0.01))
        with torch.no_grad():
            self.w[0, 0, 10, 12] = 5.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.bn(x) * self.w).flatten(1).sum(1, keepdim=True)


def test_should_replace_only_the_most_salient_pixels_with_the_normal_partner_when_erasing():
    model = _SpotModel().train()
    x = torch.rand(4, 1, 32, 32) * 1.6 - 0.8
    partner = torch.full_like(x, -1.0)
    has = torch.tensor([True, True, True, False])
    cfg = {"prob": 1.0, "topPixels": 1, "dilate": 1}
    out = saliency_erase(model, x, partner, has, cfg, torch.Generator().manual_seed(0))
    assert model.training and model.bn.num_batches_tracked.item() == 0
    assert all(p.grad is None for p in model.parameters())
    assert not out.requires_grad
    changed = (out != x).flatten(1)
    for i in range(3):
        assert out[i, 0, 10, 12] == -1.0  # the spot itself
        assert changed[i].sum() <= 9  # one pixel grown by one: at most a 3x3 square
        assert (out[i, 0, 20:, :] == x[i, 0, 20:, :]).all()  # far away: untouched
    assert torch.equal(out[3], x[3])  # no normal partner in its scan: left alone


def test_should_leave_the_batch_unchanged_when_erasing_is_off():
    model = _SpotModel().eval()
    x = torch.rand(2, 1, 32, 32)
    has = torch.ones(2, dtype=torch.bool)
    assert saliency_erase(model, x, -x, has, {"prob": 0.0}, torch.Generator()) is x
    assert saliency_erase(model, x, -x, ~has, {"prob": 1.0}, torch.Generator()) is x


def test_should_cap_chosen_slices_at_a_ceiling_within_the_range_and_leave_the_rest():
    x = torch.linspace(-1, 1, 8 * 16 * 16).reshape(8, 1, 16, 16)
    out = intensity_ceiling(x, {"prob": 0.5, "low": 0.3, "high": 0.6}, torch.Generator().manual_seed(3))
    capped = [i for i in range(8) if not torch.equal(out[i], x[i])]
    assert 0 < len(capped) < 8  # prob 0.5 over 8 slices with this seed: some of each
    for i in range(8):
        top01 = (out[i].max().item() + 1) / 2
        if i in capped:
            assert 0.3 - 1e-6 <= top01 <= 0.6 + 1e-6
            below = x[i] <= out[i].max()
            assert torch.equal(out[i][below], x[i][below])  # only what is above the ceiling moves
        else:
            assert torch.equal(out[i], x[i])


def test_should_leave_the_batch_alone_without_a_ceiling_and_refuse_a_bad_range():
    x = torch.rand(2, 1, 8, 8)
    assert intensity_ceiling(x, {"prob": 0.0}, torch.Generator()) is x
    with pytest.raises(ValueError, match="low <= high"):
        intensity_ceiling(x, {"prob": 1.0, "low": 0.8, "high": 0.4}, torch.Generator())
