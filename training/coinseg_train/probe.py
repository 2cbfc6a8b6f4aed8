"""Probes what a classifier sees of an abnormality, using the clean slices and ground truth that
training never reads (diagnosis only).

On the GT-positive slices of a split it reports, for the classifier at
``<runs>/<benchmark>/classifier/best.pt``:

- ``abnormalRate``: share of the slices as given called abnormal (P > 0.5);
- ``overFatOnlyRate``: share called abnormal when only the part of the abnormality that lies over
  clipped tissue (the clean slice in the first of :data:`metrics.TISSUE_BINS`, [0, 0.05) on the
  window's [0, 1] scale: fat, air — the bin the evaluation's recall breakdown calls clipped) is kept,
  i.e. ``clean + (x - clean) * M`` with ``M = gt & clean in that bin`` — the blob's halo beside the
  kidney;
- ``normalFalseRate``: share of label-0 slices called abnormal;
- given a counterfactual generator (an exported ONNX file, X -> X_cf), the median logit of X_cf and
  of X_cf with ``M`` put back to the clean slice, and the share of each called abnormal. A
  classifier that a counterfactual generator can use to find the halo calls the first abnormal
  and the second normal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import Benchmark, load_split
from .errors import TrainError
from .metrics import TISSUE_BINS
from .runtime import batched, log, onnx_counterfactuals
from .train_classifier import load_classifier

CLIPPED = TISSUE_BINS[0]  # [lo, hi) on the window's [0, 1] scale, as in recall_by_tissue


def _logits(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    return batched(lambda t: model(t).reshape(-1), x).astype(np.float64)


def probe_classifier(bench: Benchmark, cfg: dict[str, Any], runs_root: Path, split: str,
                     counterfactual: Path | None = None) -> dict[str, Any]:
    """Run the probe described in the module docstring; logs and returns the figures."""
    model, _ = load_classifier(runs_root / bench.name / "classifier" / "best.pt")
    data = load_split(bench, split, cfg["size"])
    pos = np.flatnonzero(data.gt.reshape(len(data), -1).any(1))
    if len(pos) == 0:
        raise TrainError("DATA_INVALID", f"split {split!r} has no GT-positive slices")
    x, clean, gt = data.x[pos], data.x_clean[pos], data.gt[pos]
    clean01 = (clean + 1.0) / 2.0
    fat = gt & (clean01 >= CLIPPED[0]) & (clean01 < CLIPPED[1])
    over_fat_only = np.where(fat, x, clean).astype(np.float32)
    normals = data.x[data.label == 0]
    out: dict[str, Any] = {
        "benchmark": bench.name,
        "split": split,
        "slices": int(len(pos)),
        "overFatShareOfGt": float(fat.sum() / max(1, gt.sum())),
        "abnormalRate": float((_logits(model, x) > 0).mean()),
        "overFatOnlyRate": float((_logits(model, over_fat_only) > 0).mean()),
        "normalFalseRate": float((_logits(model, normals) > 0).mean()) if len(normals) else None,
    }
    if counterfactual is not None:
        cf = onnx_counterfactuals(counterfactual, x)
        fixed = np.where(fat, clean, cf).astype(np.float32)
        lc, lf = _logits(model, cf), _logits(model, fixed)
        out["counterfactual"] = {
            "model": str(counterfactual),
            "medianLogit": float(np.median(lc)),
            "abnormalRate": float((lc > 0).mean()),
            "overFatRestoredMedianLogit": float(np.median(lf)),
            "overFatRestoredAbnormalRate": float((lf > 0).mean()),
        }
    log("probe: " + json.dumps(out))
    return out
