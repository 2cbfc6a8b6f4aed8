"""Python evaluation following DESIGN.md §2 (until the TypeScript evaluation exists): classifier
scores, and for generators pooled / per-slice IoU and Dice over GT-positive slices, CV, flip rate,
an ORACLE row (X_cf = the clean slice), with and without clean-up, with the refinement when a lower
threshold is given (``+refined``: hysteresis down to t_low, then the largest region, as the service's
``refine``), and a threshold sweep. The
headline is the paper's model-size protocol; ``native`` scores the mask the service returns (the
model-size difference map upsampled bilinearly to the slice's grid, then thresholded) against the
native ground truth, as the TypeScript evaluation's native columns."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from .data import Benchmark, load_native_gt, load_split
from .errors import TrainError
from .metrics import (cleanup_mask, classification_scores, counterfactual_validity, diff_mask, flip_rate,
                      native_diff_mask, recall_by_tissue, refine_mask, segmentation_scores)
from .runtime import json_safe, log, onnx_counterfactuals, run_dir
from .train_classifier import classifier_probs, load_classifier
from .train_gan import counterfactuals, load_generator

#: Thresholds of the sweep reported beside the paper's 0.25.
SWEEP = (0.15, 0.20, 0.25, 0.30, 0.35)


def _method_rows(name: str, x: np.ndarray, x_cf: np.ndarray, gt: np.ndarray, pos: np.ndarray, neg: np.ndarray,
                 p: np.ndarray, p_cf: np.ndarray, threshold: float, refine_low: float | None = None) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    mask = diff_mask(x, x_cf, threshold)
    rows[name] = segmentation_scores(mask[pos], gt[pos])
    rows[f"{name}+cleanup"] = segmentation_scores(cleanup_mask(mask[pos]), gt[pos])
    if refine_low is not None:
        rows[f"{name}+refined"] = segmentation_scores(refine_mask(mask[pos], diff_mask(x[pos], x_cf[pos], refine_low)), gt[pos])
        rows[f"{name}+refined"]["hysteresis"] = refine_low
    for r in (rows[name], rows[f"{name}+cleanup"], *([rows[f"{name}+refined"]] if refine_low is not None else [])):
        r.update(counterfactual_validity(p, p_cf))
        r.update(flip_rate(p, p_cf))
    # Normal (GT-negative) slices that still get a mask pixel: a false-alarm rate.
    rows[name]["normalSlicesWithMask"] = float(mask[neg].reshape(len(neg), -1).any(1).mean()) if len(neg) else math.nan
    sweep = {}
    for t in SWEEP:
        m = diff_mask(x[pos], x_cf[pos], t)
        sweep[f"{t:.2f}"] = {
            "pooledIoU": segmentation_scores(m, gt[pos])["pooledIoU"],
            "pooledIoUCleanup": segmentation_scores(cleanup_mask(m), gt[pos])["pooledIoU"],
        }
    rows[name]["sweep"] = sweep
    return rows


def calibrated_refine_low(onnx: Path) -> float | None:
    """``thresholds.hysteresis`` of the model.json beside an exported generator (written by
    ``calibrate-refinement``), or None when it has none."""
    card = onnx.parent / "model.json"
    if not card.is_file():
        return None
    value = json.loads(card.read_text()).get("thresholds", {}).get("hysteresis")
    return float(value) if value is not None else None


def evaluate_model(kind: str, bench: Benchmark, size: int, runs_root: Path, split: str = "test",
                   threshold: float = 0.25, checkpoint: str = "best", onnx: Path | None = None,
                   refine_low: float | None = None) -> dict[str, Any]:
    """Evaluate ``<runs>/<benchmark>/<kind>/<checkpoint>.pt`` on ``split`` — or, with ``onnx``, the
    generator exported there (e.g. a committed models/<key>/model.onnx; the classifier is still
    ``<runs>/<benchmark>/classifier/best.pt``, see ``restore-classifier``); writes ``eval-<split>.json``
    next to the checkpoint (``eval-<split>-onnx.json`` for an ONNX file) and returns the report.
    ``refine_low`` adds the ``+refined`` rows (model size and native grid); with ``onnx`` and no
    ``refine_low`` the model.json's calibrated threshold is used when it has one.
    Raises TrainError(CHECKPOINT_* | MODEL_NOT_FOUND | USAGE)."""
    if onnx is not None and kind not in ("coin", "singla"):
        raise TrainError("USAGE", "--onnx evaluates a generator (coin or singla)")
    if refine_low is None and onnx is not None:
        refine_low = calibrated_refine_low(onnx)
    if refine_low is not None and not (0.0 < refine_low <= threshold):
        raise TrainError("USAGE", f"the refinement's lower threshold must be in (0, {threshold}] (got {refine_low})")
    clf, clf_ck = load_classifier(run_dir(runs_root, bench.name, "classifier") / "best.pt", size)
    data = load_split(bench, split, size)
    t0 = time.perf_counter()
    p = classifier_probs(clf, data.x)
    clf_ms = (time.perf_counter() - t0) * 1000 / max(1, len(data))
    report: dict[str, Any] = {"benchmark": bench.name, "split": split, "model": kind, "size": size,
                              "maskThreshold": threshold, "slices": len(data)}
    if kind == "classifier":
        report["classifier"] = classification_scores(data.label, p)
        report["classifier"]["msPerSlice"] = clf_ms
        report["checkpointStep"] = clf_ck.get("step")
    elif kind in ("coin", "singla"):
        t0 = time.perf_counter()
        if onnx is not None:
            cond = (1.0 - (p > 0.5)).astype(np.float32) if kind == "singla" else None
            x_cf = onnx_counterfactuals(onnx, data.x, cond)
            ck: dict[str, Any] = {"step": None, "best": {"onnx": str(onnx)}}
        else:
            g, ck = load_generator(run_dir(runs_root, bench.name, kind) / f"{checkpoint}.pt", kind)
            x_cf = counterfactuals(g, data.x, p, kind == "singla")
        g_ms = (time.perf_counter() - t0) * 1000 / max(1, len(data))
        p_cf = classifier_probs(clf, x_cf)
        p_clean = classifier_probs(clf, data.x_clean)
        flat = data.gt.reshape(len(data), -1)
        pos, neg = np.flatnonzero(flat.any(1)), np.flatnonzero(~flat.any(1))
        if len(pos) == 0:
            raise TrainError("DATA_INVALID", f"split {split} has no ground-truth-positive slice")
        rows = _method_rows(kind.upper(), data.x, x_cf, data.gt, pos, neg, p, p_cf, threshold, refine_low)
        rows.update(_method_rows("ORACLE", data.x, data.x_clean, data.gt, pos, neg, p, p_clean, threshold))
        rows[kind.upper()]["msPerSlice"] = g_ms + 2 * clf_ms
        gt_native = load_native_gt(bench, split, pos)
        for name, cf in ((kind.upper(), x_cf), ("ORACLE", data.x_clean)):
            strong = native_diff_mask(data.x[pos], cf[pos], gt_native.shape[1:], threshold)
            rows[name]["native"] = segmentation_scores(strong, gt_native)
            if refine_low is not None and name != "ORACLE":
                weak = native_diff_mask(data.x[pos], cf[pos], gt_native.shape[1:], refine_low)
                rows[f"{name}+refined"]["native"] = segmentation_scores(refine_mask(strong, weak), gt_native)
        rows[kind.upper()]["recallByTissue"] = recall_by_tissue(
            diff_mask(data.x[pos], x_cf[pos], threshold), diff_mask(data.x[pos], data.x_clean[pos], threshold),
            data.gt[pos], data.x_clean[pos])
        report.update(rows=rows, gtPositiveSlices=int(len(pos)), checkpointStep=ck.get("step"),
                      selection=ck.get("best"))
    else:
        raise TrainError("USAGE", f"unknown model {kind!r}")
    out = run_dir(runs_root, bench.name, kind) / f"eval-{split}{'-onnx' if onnx is not None else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(json_safe(report), indent=2, allow_nan=False))
    _print_report(report)
    return report


def _fmt(v: Any) -> str:
    return "  n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def _print_report(report: dict[str, Any]) -> None:
    log(f"evaluation: {report['benchmark']} {report['model']} on {report['split']} ({report['slices']} slices)")
    if "classifier" in report:
        c = report["classifier"]
        log(f"  accuracy {_fmt(c['accuracy'])}  f1 {_fmt(c['f1'])}  rocAuc {_fmt(c['rocAuc'])}  {c['msPerSlice']:.2f} ms/slice")
        return
    log(f"  {'method':<18}{'pooledIoU':>10}{'pooledDice':>11}{'precision':>10}{'recall':>8}{'IoU mean±sd':>16}{'CV':>7}{'flip':>7}")
    for name, r in report["rows"].items():
        log(f"  {name:<18}{_fmt(r['pooledIoU']):>10}{_fmt(r['pooledDice']):>11}"
            f"{_fmt(r['pooledPrecision']):>10}{_fmt(r['pooledRecall']):>8}"
            f"{_fmt(r['meanIoU']) + '±' + _fmt(r['sdIoU']).strip():>16}{_fmt(r['cv']):>7}{_fmt(r['flipRate']):>7}")
    log("  native grid (the service's mask against the native ground truth): " + "  ".join(
        f"{name} IoU {_fmt(r['native']['pooledIoU'])} P {_fmt(r['native']['pooledPrecision'])} R {_fmt(r['native']['pooledRecall'])}"
        for name, r in report["rows"].items() if "native" in r))
    log("  recall by the clean slice's intensity under the ground truth ([0, 1] scale): "
        + "  ".join(f"{r['clean'][0]:.2f}-{r['clean'][1]:.2f} share {_fmt(r['gtShare'])} recall {_fmt(r['recall'])}"
                    f" (oracle {_fmt(r['oracleRecall'])})" for r in report["rows"][report["model"].upper()]["recallByTissue"]))
    for name in (report["model"].upper(), "ORACLE"):
        sweep = report["rows"][name]["sweep"]
        log(f"  sweep {name}: " + "  ".join(f"@{t} {_fmt(v['pooledIoU'])}/{_fmt(v['pooledIoUCleanup'])}" for t, v in sweep.items())
            + "  (raw/cleanup)")
