"""Loss functions on hand-computed cases."""

import math

import torch

from coinseg_train.losses import adversarial_bce, bernoulli_kl_from_logits, l1, total_variation_255


def test_should_match_hand_computed_kl_when_target_is_0_2_and_prediction_is_0_5():
    kl = bernoulli_kl_from_logits(torch.tensor([0.2]), torch.tensor([0.0]))
    expected = 0.2 * math.log(0.2 / 0.5) + 0.8 * math.log(0.8 / 0.5)
    assert abs(kl.item() - expected) < 1e-6


def test_should_be_zero_when_prediction_equals_target():
    z = torch.tensor([-2.0, 0.3, 4.0])
    assert abs(bernoulli_kl_from_logits(torch.sigmoid(z), z).item()) < 1e-6


def test_should_equal_minus_log_one_minus_p_when_target_is_zero():
    # Target 0 (clamped to 1e-6) reduces to -log(1 - p) up to the clamp's tiny contribution.
    z = torch.tensor([1.5])
    kl = bernoulli_kl_from_logits(torch.zeros(1), z).item()
    assert abs(kl - (-math.log(1 - torch.sigmoid(z).item()))) < 1e-4


def test_should_keep_pushing_when_prediction_is_already_tiny():
    z = torch.tensor([-13.0], requires_grad=True)  # p = 2.3e-6: below a 1e-5 probability clamp
    bernoulli_kl_from_logits(torch.zeros(1), z).backward()
    assert z.grad is not None and z.grad.item() > 0  # no dead gradient from probability clamping


def test_should_give_log_2_when_logit_is_zero():
    assert abs(adversarial_bce(torch.zeros(4, 1), real=True).item() - math.log(2)) < 1e-6
    assert abs(adversarial_bce(torch.full((4, 1), 3.0), real=False).item() - math.log1p(math.exp(3.0))) < 1e-5


def test_should_average_absolute_differences_for_l1():
    assert l1(torch.tensor([0.0, 1.0]), torch.tensor([0.5, -1.0])).item() == 1.25


def test_should_measure_tv_of_the_difference_map_on_the_0_255_scale():
    x = torch.zeros(1, 1, 2, 2)
    x_cf = torch.zeros(1, 1, 2, 2)
    x_cf[0, 0, 0, 0] = 1.0  # |d| / 2 * 255 = 127.5 at one corner
    # vertical diffs: [127.5, 0] mean 63.75; horizontal: [127.5, 0] mean 63.75
    assert abs(total_variation_255(x, x_cf).item() - 127.5) < 1e-4
    assert total_variation_255(x, x).item() == 0.0
