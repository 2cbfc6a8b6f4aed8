"""Classifier augmentations: label-only mixup partners, soft labels, affine fill."""

import numpy as np
import torch

from coinseg_train.augment import mixup, nearest_normal_partner, random_affine


def test_should_pair_each_slice_with_the_nearest_normal_slice_of_its_own_scan():
    labels = np.array([1, 0, 1, 1, 1, 0])
    scans = ["a", "a", "a", "a", "b", "b"]
    z = np.array([0, 3, 4, 9, 0, 5])
    assert nearest_normal_partner(labels, scans, z).tolist() == [1, 1, 1, 1, 5, 5]
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
