"""Evaluation metrics (DESIGN.md §2): pooled / per-slice IoU and Dice, counterfactual validity, flip
rate, mask clean-up and classification metrics. numpy in, Python floats out."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage


def diff_mask(x: np.ndarray, x_cf: np.ndarray, threshold: float) -> np.ndarray:
    """Mask rule: ``|x - x_cf| / 2 > threshold`` (x, x_cf in [-1, 1]; any shape; bool out)."""
    return np.abs(x - x_cf) / 2.0 > threshold


def native_diff_mask(x: np.ndarray, x_cf: np.ndarray, native_hw: tuple[int, int], threshold: float,
                     chunk: int = 64) -> np.ndarray:
    """The service's native mask (imaging/mask/map-to-native-mask.ts): the model-size difference map
    ``|x - x_cf| / 2`` upsampled bilinearly to ``native_hw`` (half-pixel centres, PyTorch's
    ``align_corners=False``, as the preprocessing) and thresholded there (strictly).

    ``x``, ``x_cf``: ``[N, 1, S, S]`` or ``[N, S, S]`` in [-1, 1]; returns bool ``[N, H, W]``."""
    import torch
    import torch.nn.functional as F

    d = np.abs(np.asarray(x, dtype=np.float32) - np.asarray(x_cf, dtype=np.float32)) / 2.0
    d = d.reshape(d.shape[0], 1, *d.shape[-2:])
    out = np.zeros((d.shape[0], *native_hw), dtype=bool)
    for start in range(0, d.shape[0], chunk):
        t = torch.from_numpy(np.ascontiguousarray(d[start:start + chunk]))
        if tuple(t.shape[-2:]) != tuple(native_hw):
            t = F.interpolate(t, size=tuple(native_hw), mode="bilinear", align_corners=False, antialias=False)
        out[start:start + chunk] = (t[:, 0] > threshold).numpy()
    return out


def cleanup_mask(mask: np.ndarray) -> np.ndarray:
    """3x3 opening, 3x3 closing, then keep the largest 8-connected component, per 2D mask (same
    border and tie conventions as the TypeScript clean-up).

    ``mask``: ``[H, W]`` or ``[..., H, W]`` bool; returns the same shape.
    """
    if mask.ndim > 2:
        flat = mask.reshape(-1, *mask.shape[-2:])
        return np.stack([cleanup_mask(m) for m in flat]).reshape(mask.shape)
    se = np.ones((3, 3), dtype=bool)
    # Border convention of imaging/mask/morphology-3x3.ts: background continues beyond the image
    # (pad by 2 background pixels, operate, crop), so closing never removes pixels at the edge.
    padded = np.pad(mask.astype(bool), 2)
    padded = ndimage.binary_opening(padded, structure=se)
    padded = ndimage.binary_closing(padded, structure=se)
    return largest_component(padded[2:-2, 2:-2])


def segmentation_scores(pred: np.ndarray, gt: np.ndarray) -> dict[str, Any]:
    """Pooled IoU / Dice / precision / recall (TP, FP, FN summed over all slices first) and per-slice
    mean ± sd.

    ``pred``, ``gt``: bool ``[N, ...]``; pass only ground-truth-positive slices. With no slices or an
    empty union the pooled score is NaN (reported as null).
    """
    n = pred.shape[0]
    p = pred.reshape(n, -1).astype(bool)
    g = gt.reshape(n, -1).astype(bool)
    tp = (p & g).sum(1).astype(np.float64)
    fp = (p & ~g).sum(1).astype(np.float64)
    fn = (~p & g).sum(1).astype(np.float64)
    TP, FP, FN = tp.sum(), fp.sum(), fn.sum()
    den_iou = TP + FP + FN
    with np.errstate(invalid="ignore", divide="ignore"):
        iou_s = np.where(tp + fp + fn > 0, tp / (tp + fp + fn), 1.0)
        dice_s = np.where(tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 1.0)
    return {
        "slices": int(n),
        "tp": int(TP),
        "fp": int(FP),
        "fn": int(FN),
        "pooledIoU": float(TP / den_iou) if den_iou > 0 else math.nan,
        "pooledDice": float(2 * TP / (2 * TP + FP + FN)) if den_iou > 0 else math.nan,
        "pooledPrecision": float(TP / (TP + FP)) if TP + FP > 0 else math.nan,
        "pooledRecall": float(TP / (TP + FN)) if TP + FN > 0 else math.nan,
        "meanIoU": float(iou_s.mean()) if n else math.nan,
        "sdIoU": float(iou_s.std()) if n else math.nan,
        "meanDice": float(dice_s.mean()) if n else math.nan,
        "sdDice": float(dice_s.std()) if n else math.nan,
    }


#: Bins of the clean slice's intensity on the window's [0, 1] scale for ``recall_by_tissue``: what
#: the window clips to 0 (fat and air beside a kidney), dim, kidney-bright, and what is too bright for
#: any counterfactual to change by more than 0.25 (the oracle cannot find it either).
TISSUE_BINS = ((0.0, 0.05), (0.05, 0.3), (0.3, 0.75), (0.75, 1.0))


def recall_by_tissue(pred: np.ndarray, oracle: np.ndarray, gt: np.ndarray, x_clean: np.ndarray,
                     bins: tuple[tuple[float, float], ...] = TISSUE_BINS) -> list[dict[str, Any]]:
    """Where the ground truth is missed, by what lies under it: for each bin ``[lo, hi)`` of the clean
    slice's intensity on [0, 1] (the last bin includes 1), the share of ground-truth pixels in it and
    the recall of ``pred`` and of the ``oracle`` mask there.

    ``pred``, ``oracle``, ``gt``: bool ``[N, ...]``; ``x_clean`` in [-1, 1], same shape. A bin with
    no ground-truth pixel has NaN recalls."""
    g = gt.astype(bool)
    c01 = (x_clean + 1.0) / 2.0
    total = int(g.sum())
    rows = []
    for i, (lo, hi) in enumerate(bins):
        upper = c01 <= hi if i == len(bins) - 1 else c01 < hi
        m = g & (c01 >= lo) & upper
        n = int(m.sum())
        rows.append({
            "clean": [lo, hi], "gtPixels": n, "gtShare": n / total if total else math.nan,
            "recall": float(pred[m].mean()) if n else math.nan,
            "oracleRecall": float(oracle[m].mean()) if n else math.nan,
        })
    return rows


def counterfactual_validity(p: np.ndarray, p_cf: np.ndarray, tau: float = 0.8) -> dict[str, Any]:
    """CV: over slices with f(X) > tau, the fraction with |f(X) - f(X_cf)| > tau.

    ``p``, ``p_cf``: P(abnormal) before and after, ``[N]``. ``cv`` is NaN when no slice qualifies.
    """
    sel = p > tau
    n = int(sel.sum())
    valid = int((np.abs(p[sel] - p_cf[sel]) > tau).sum())
    return {"cv": valid / n if n else math.nan, "cvSlices": n}


def flip_rate(p: np.ndarray, p_cf: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Flip rate: over slices classified abnormal (f(X) > threshold), the fraction whose
    counterfactual is classified normal (f(X_cf) <= threshold). NaN when none qualifies."""
    sel = p > threshold
    n = int(sel.sum())
    flipped = int((p_cf[sel] <= threshold).sum())
    return {"flipRate": flipped / n if n else math.nan, "flipSlices": n}


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann–Whitney) formula with average ranks for ties; NaN if one class
    is missing."""
    labels = labels.astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def classification_scores(labels: np.ndarray, p_abnormal: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, precision, recall, F1 (abnormal = positive, predicted when p > threshold) and ROC AUC."""
    y = labels.astype(bool)
    yhat = p_abnormal > threshold
    tp = int((y & yhat).sum())
    fp = int((~y & yhat).sum())
    fn = int((y & ~yhat).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "slices": int(len(y)),
        "accuracy": float((y == yhat).mean()) if len(y) else math.nan,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "rocAuc": roc_auc(y, p_abnormal),
    }


def _per_slice(fn: Any, *masks: np.ndarray) -> np.ndarray:
    """Apply a 2D mask function to each ``[H, W]`` plane of same-shaped ``[..., H, W]`` masks."""
    if masks[0].ndim == 2:
        return fn(*masks)
    flat = [m.reshape(-1, *m.shape[-2:]) for m in masks]
    return np.stack([fn(*planes) for planes in zip(*flat)]).reshape(masks[0].shape)


def largest_component(mask: np.ndarray) -> np.ndarray:
    """Only the largest 8-connected component of each 2D mask, as imaging/mask/largest-component.ts: ties
    go to the component met first in raster order (scipy labels in that order; argmax takes the first
    maximum). ``[H, W]`` or ``[..., H, W]`` bool."""
    def one(m: np.ndarray) -> np.ndarray:
        lab, n = ndimage.label(m, structure=np.ones((3, 3), dtype=bool))
        if n <= 1:
            return m.astype(bool)
        return lab == (int(np.argmax(np.bincount(lab.ravel())[1:])) + 1)
    return _per_slice(one, mask)


def hysteresis_mask(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """The 8-connected components of ``weak | strong`` that hold a ``strong`` pixel, per 2D mask, as
    imaging/mask/hysteresis-mask.ts. Same-shaped bool ``[H, W]`` or ``[..., H, W]``."""
    def one(w: np.ndarray, s: np.ndarray) -> np.ndarray:
        lab, _ = ndimage.label(w | s, structure=np.ones((3, 3), dtype=bool))
        keep = np.unique(lab[s])
        return np.isin(lab, keep[keep > 0])
    return _per_slice(one, weak.astype(bool), strong.astype(bool))


def refine_mask(strong: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """The refined mask (imaging/mask/refine-mask.ts): ``largest_component(hysteresis_mask(weak,
    strong))`` with ``strong = diff > t`` and ``weak = diff > t_low``."""
    return largest_component(hysteresis_mask(weak, strong))


#: Lower thresholds tried when a generator is selected by its refined mask (``selection: "refined"``);
#: ``calibrate-refinement`` later picks the exact one on the whole val split.
REFINE_SELECTION_GRID = (0.08, 0.11, 0.14, 0.17, 0.20, 0.25)


def selection_score(x: np.ndarray, x_cf: np.ndarray, gt: np.ndarray, threshold: float, selection: str) -> float:
    """The pooled IoU a GAN snapshot or ensemble is selected by: of the paper's mask ``diff > threshold``
    (``selection = "paper"``), or the best over :data:`REFINE_SELECTION_GRID` of the refined mask
    (``"refined"``: hysteresis down to the lower threshold, then the largest region), the mask the
    service returns with ``refine``. Raises ValueError for another ``selection``."""
    d = (np.abs(x - x_cf) / 2.0).reshape(-1, *x.shape[-2:])
    g = gt.reshape(-1, *gt.shape[-2:])
    strong = d > threshold
    if selection == "paper":
        return segmentation_scores(strong, g)["pooledIoU"]
    if selection == "refined":
        return max(segmentation_scores(refine_mask(strong, d > t), g)["pooledIoU"] for t in REFINE_SELECTION_GRID if t <= threshold)
    raise ValueError(f"unknown selection {selection!r} (paper | refined)")
