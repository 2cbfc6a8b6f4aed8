"""Loss terms of COIN and Singla et al.* (DESIGN.md §1). Images are in [-1, 1]."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bernoulli_kl_from_logits(target: torch.Tensor, logit: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Mean over the batch of KL(Bernoulli(target) || Bernoulli(sigmoid(logit))), in nats.

    ``target`` in [0, 1] is clamped to [eps, 1 - eps] (so a target of 0 means ~1e-6, as in the
    reference); the prediction side uses log-sigmoid, so the gradient never saturates on clamping.
    Shapes ``[B]`` or ``[B, 1]`` (flattened).
    """
    t = target.reshape(-1).clamp(eps, 1.0 - eps)
    z = logit.reshape(-1)
    log_p, log_q = F.logsigmoid(z), F.logsigmoid(-z)
    kl = t * (torch.log(t) - log_p) + (1.0 - t) * (torch.log1p(-t) - log_q)
    return kl.mean()


def adversarial_bce(logit: torch.Tensor, real: bool) -> torch.Tensor:
    """Binary cross-entropy of discriminator logits against all-real (1) or all-fake (0) targets."""
    target = torch.ones_like(logit) if real else torch.zeros_like(logit)
    return F.binary_cross_entropy_with_logits(logit, target)


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference (on the [-1, 1] scale)."""
    return (a - b).abs().mean()


def total_variation_255(x: torch.Tensor, x_cf: torch.Tensor) -> torch.Tensor:
    """Total variation of the difference map on the 0..255 scale: d = |x - x_cf| / 2 * 255, TV = mean
    |d(i+1, j) - d(i, j)| + mean |d(i, j+1) - d(i, j)| (each mean over batch, channel and pixels)."""
    d = (x - x_cf).abs() * 127.5
    dv = (d[:, :, 1:, :] - d[:, :, :-1, :]).abs().mean()
    dh = (d[:, :, :, 1:] - d[:, :, :, :-1]).abs().mean()
    return dv + dh
