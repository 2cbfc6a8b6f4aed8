"""Classifier augmentations on batches in [-1, 1]: flips, small affine (shift / scale / rotate),
Gaussian noise, label-only mixup and adversarial (FGSM) perturbations. None of them reads masks or
clean slices."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F


def random_affine(x: torch.Tensor, cfg: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
    """Per-sample horizontal flip, rotation (±rotateDeg), isotropic scale (scale range) and shift
    (±shiftFrac of the size); outside the image is filled with -1 (air). ``x``: ``[B, 1, S, S]``."""
    b = x.shape[0]
    u = lambda: torch.rand(b, generator=gen)  # noqa: E731
    angle = (u() * 2 - 1) * math.radians(float(cfg.get("rotateDeg", 0.0)))
    lo, hi = cfg.get("scale", [1.0, 1.0])
    scale = lo + u() * (hi - lo)
    shift = float(cfg.get("shiftFrac", 0.0)) * 2.0
    tx, ty = (u() * 2 - 1) * shift, (u() * 2 - 1) * shift
    flip = torch.where(u() < 0.5, -1.0, 1.0) if cfg.get("flip", False) else torch.ones(b)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
    ).to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x + 1.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1.0
    std = float(cfg.get("noiseStd", 0.0))
    if std > 0:
        out = out + (torch.randn(out.shape, generator=gen) * std).to(out.device)
    return out.clamp(-1.0, 1.0)


def nearest_normal_partner(labels: np.ndarray, scan_ids: list[str], slice_index: np.ndarray) -> np.ndarray:
    """For each slice, the index of the normal-labelled slice of the same scan nearest in z, never the
    slice itself (-1 if the scan has none). Uses image-level labels and slice positions only."""
    partner = np.full(len(labels), -1, dtype=np.int64)
    by_scan: dict[str, list[int]] = {}
    for i, s in enumerate(scan_ids):
        by_scan.setdefault(s, []).append(i)
    for idx in by_scan.values():
        arr = np.asarray(idx)
        normals = arr[labels[arr] == 0]
        for i in arr:
            others = normals[normals != i]
            if len(others):
                partner[i] = others[np.argmin(np.abs(slice_index[others] - slice_index[i]))]
    return partner


def mixup(
    x: torch.Tensor,
    y: torch.Tensor,
    partner_x: torch.Tensor | None,
    has_partner: torch.Tensor | None,
    cfg: dict[str, Any],
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label-only mixup: with probability ``prob`` a sample becomes lam*x + (1-lam)*x2, lam ~ U(lamMin, 1).
    ``pairing``: "random" (x2 = another batch sample) or "nearest-normal" (x2 = the nearest other
    normal slice of the same scan, so a mixed abnormal slice shows a faded abnormality).
    ``labelRule``: "soft" (default: label lam*y + (1-lam)*y2; with nearest-normal pairing only abnormal
    slices are mixed) or "max" (label max(y, y2): any trace of an abnormal slice is abnormal; with
    nearest-normal pairing normal slices are mixed with another normal slice too, so the ghost of a
    blended neighbour is no cue and only the faded abnormality tells the classes apart — the
    classifier then calls a slice normal only once the abnormality is (nearly) gone, which is what a
    counterfactual generator trained against it has to achieve). Returns (x, labels)."""
    b = x.shape[0]
    prob = float(cfg.get("prob", 0.0))
    if prob <= 0:
        return x, y
    lam = float(cfg.get("lamMin", 0.0)) + torch.rand(b, generator=gen) * (1.0 - float(cfg.get("lamMin", 0.0)))
    use = torch.rand(b, generator=gen) < prob
    rule = cfg.get("labelRule", "soft")
    if rule not in ("soft", "max"):
        raise ValueError(f"mixup.labelRule must be soft or max, not {rule!r}")
    if cfg.get("pairing", "random") == "nearest-normal" and partner_x is not None and has_partner is not None:
        x2, y2 = partner_x, torch.zeros_like(y)
        use = use & has_partner
        if rule == "soft":
            use = use & (y > 0.5)
    else:
        perm = torch.randperm(b, generator=gen)
        x2, y2 = x[perm], y[perm]
    lam = torch.where(use, lam, torch.ones_like(lam))
    xm = lam.view(-1, 1, 1, 1) * x + (1 - lam.view(-1, 1, 1, 1)) * x2
    if rule == "max":
        return xm, torch.where(use, torch.maximum(y, y2), y)
    return xm, lam * y + (1 - lam) * y2


def fgsm_perturb(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    gen: torch.Generator,
    step_factor: float = 1.25,
) -> torch.Tensor:
    """FGSM with a random start ("fast adversarial training", Wong et al. 2020): delta ~ U(-eps, eps),
    one signed-gradient step of ``step_factor * eps`` on the BCE loss, projected back to the L-inf
    ball of radius ``eps`` around ``x`` and to [-1, 1]. ``y`` are (soft) labels ``[B]``.

    Training on such inputs makes the classifier insensitive to small image-wide changes, so the
    only way a generator can flip it is a change a person can see (the lesion's removal) rather
    than a faint adversarial pattern. Returns a detached tensor; the model's parameter gradients
    are left untouched."""
    if eps <= 0:
        return x
    delta = (torch.rand(x.shape, generator=gen) * 2 - 1).to(x) * eps
    delta.requires_grad_(True)
    loss = F.binary_cross_entropy_with_logits(model((x + delta).clamp(-1.0, 1.0)).reshape(-1), y)
    (grad,) = torch.autograd.grad(loss, delta)
    delta = (delta.detach() + step_factor * eps * grad.sign()).clamp(-eps, eps)
    return (x + delta).clamp(-1.0, 1.0).detach()


def saliency_erase(
    model: torch.nn.Module,
    x: torch.Tensor,
    partner_x: torch.Tensor,
    has_partner: torch.Tensor,
    cfg: dict[str, Any],
    gen: torch.Generator,
) -> torch.Tensor:
    """Adversarial erasing (after Wei et al., CVPR 2017, "Object region mining with adversarial
    erasing"), driven by the classifier's own input gradient and image-level labels only.

    With probability ``prob`` a sample's ``topPixels`` most salient pixels under the current model
    (|d logit / d x|, smoothed over 3×3) — grown by ``dilate`` pixels — are replaced by the same
    pixels of the nearest normal slice of the same scan; its label is kept. An abnormal slice
    whose most telling pixels are hidden must then be recognised by the rest of its abnormality
    (a blob's faint rim over fat, say), so the classifier stops relying on the one most
    discriminative spot, and a counterfactual generator trained against it has to remove the
    whole abnormality rather than its core. Normal slices are erased the same way, so a patch
    from a neighbour is no cue. Returns a detached tensor; parameter gradients are untouched."""
    prob = float(cfg.get("prob", 0.0))
    if prob <= 0:
        return x
    use = (torch.rand(x.shape[0], generator=gen) < prob) & has_partner
    if not bool(use.any()):
        return x
    was_training = model.training
    model.eval()  # saliency of the model as it stands, without updating batch-norm statistics
    probe = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(probe).sum(), probe)
    model.train(was_training)
    sal = F.avg_pool2d(grad.abs(), 3, stride=1, padding=1).flatten(1)
    k = max(1, int(cfg.get("topPixels", 8)))
    top = sal.topk(k, dim=1).indices
    region = torch.zeros_like(sal).scatter_(1, top, 1.0).view_as(x)
    r = int(cfg.get("dilate", 1))
    if r > 0:
        region = F.max_pool2d(region, 2 * r + 1, stride=1, padding=r)
    region = region * use.view(-1, 1, 1, 1).to(region)
    return (x * (1 - region) + partner_x * region).detach()


def intensity_ceiling(x: torch.Tensor, cfg: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
    """Random intensity ceiling: with probability ``prob`` a sample becomes ``min(x, c)``, the
    ceiling ``c`` ~ U(``low``, ``high``) on the window's [0, 1] scale; labels kept.

    Why: a blob over the kidney saturates the window, and a classifier that has learnt "brighter
    than kidney = abnormal" ignores the part of the blob over fat, whose halo has kidney
    intensity — so a counterfactual generator trained against it can leave that halo in place.
    Under a ceiling at kidney intensity the bright core is no longer a cue and the classifier has
    to read the abnormality's extent and the kidney's outline. Normal and abnormal slices are
    capped alike, so the ceiling itself is no cue. ``x``: ``[B, 1, S, S]`` in [-1, 1]."""
    prob = float(cfg.get("prob", 0.0))
    if prob <= 0:
        return x
    b = x.shape[0]
    lo, hi = float(cfg.get("low", 0.4)), float(cfg.get("high", 0.8))
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"ceiling needs 0 <= low <= high <= 1, got low={lo}, high={hi}")
    use = torch.rand(b, generator=gen) < prob
    ceiling01 = lo + torch.rand(b, generator=gen) * (hi - lo)
    ceiling = torch.where(use, ceiling01 * 2.0 - 1.0, torch.ones(b)).view(-1, 1, 1, 1).to(x)
    return torch.minimum(x, ceiling)
