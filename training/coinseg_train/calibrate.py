"""Calibrates a committed generator's mask refinement on the val split (README "Mask refinement").

The refined mask (imaging/mask/refine-mask.ts, metrics.refine_mask) grows ``diff > t`` into the
8-connected pixels with ``diff > t_low`` and keeps the largest region. ``t_low`` is the one free
choice; it is chosen here as the candidate with the highest pooled IoU at model size on the
ground-truth-positive slices of ``split`` (val: never the test split), and written to
``models/<key>/model.json`` as ``thresholds.hysteresis`` with the whole sweep under ``refinement``.
The workers read it there for ``refine: true``."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import Benchmark, load_split, resize_slices
from .errors import TrainError
from .metrics import cleanup_mask, largest_component, refine_mask, segmentation_scores
from .runtime import command_line, json_safe, log, onnx_counterfactuals

#: Candidate lower thresholds: 0.05 … t in steps of 0.01 (t_low = t is "largest region only").
def default_candidates(mask_threshold: float) -> list[float]:
    return [round(v, 2) for v in np.arange(0.05, mask_threshold + 1e-9, 0.01)]


def _card(models_root: Path, key: str) -> tuple[Path, dict[str, Any]]:
    d = models_root / key
    if not (d / "model.json").is_file() or not (d / "model.onnx").is_file():
        raise TrainError("MODEL_NOT_FOUND", f"no committed model in {d}")
    card = json.loads((d / "model.json").read_text())
    digest = hashlib.sha256((d / card.get("file", "model.onnx")).read_bytes()).hexdigest()
    if digest != card.get("sha256"):
        raise TrainError("MODEL_INVALID", f"{d}/model.onnx does not match the sha256 in its model.json")
    return d, card


def _classifier_probs(onnx_path: Path, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    logits = [sess.run(["logit"], {"x": np.ascontiguousarray(x[s:s + batch_size], dtype=np.float32)})[0].reshape(-1)
              for s in range(0, len(x), batch_size)]
    return 1.0 / (1.0 + np.exp(-np.concatenate(logits))) if logits else np.zeros(0)


def calibrate_refinement(kind: str, bench: Benchmark, models_root: Path, split: str = "val",
                         candidates: list[float] | None = None, write: bool = True) -> dict[str, Any]:
    """Sweep ``t_low`` for ``<models>/<benchmark>-<kind>`` on ``split`` and (``write``) record the best in
    its model.json. Returns the ``refinement`` block. Raises TrainError(MODEL_NOT_FOUND | MODEL_INVALID |
    USAGE | DATA_*)."""
    if kind not in ("coin", "singla"):
        raise TrainError("USAGE", "calibrate-refinement takes a generator: coin or singla")
    if split == "test":
        raise TrainError("USAGE", "the refinement is calibrated on train or val, never on the test split")
    gen_dir, card = _card(models_root, f"{bench.name}-{kind}")
    clf_dir, clf_card = _card(models_root, card["classifierKey"])
    size = int(card["preprocess"]["size"][0])
    t = float(card.get("thresholds", {}).get("mask", 0.25))
    cands = candidates or default_candidates(t)
    if any(not (0 < c <= t) for c in cands):
        raise TrainError("USAGE", f"candidate lower thresholds must lie in (0, {t}]")
    data = load_split(bench, split, size)
    flat = data.gt.reshape(len(data), -1)
    pos = np.flatnonzero(flat.any(1))
    if len(pos) == 0:
        raise TrainError("DATA_INVALID", f"split {split} has no ground-truth-positive slice")
    x = data.x[pos]
    # A generator above the classifier's size: the classifier sees the slices resized to its own.
    p = _classifier_probs(clf_dir / clf_card.get("file", "model.onnx"), resize_slices(x, int(clf_card["preprocess"]["size"][0])))
    cond = (1.0 - (p > float(clf_card.get("thresholds", {}).get("abnormal", 0.5)))).astype(np.float32) if kind == "singla" else None
    log(f"calibrate {gen_dir.name} on {split}: {len(pos)} ground-truth-positive slices, {len(cands)} candidates")
    x_cf = onnx_counterfactuals(gen_dir / card.get("file", "model.onnx"), x, cond)
    diff = (np.abs(x - x_cf) / 2.0)[:, 0]
    gt = data.gt[pos][:, 0]
    strong = diff > t
    score = lambda m: segmentation_scores(m, gt)  # noqa: E731

    def brief(r: dict[str, Any]) -> dict[str, float]:
        return {k: r[k] for k in ("pooledIoU", "pooledPrecision", "pooledRecall", "meanIoU")}

    sweep = []
    for c in cands:
        r = brief(score(refine_mask(strong, diff > c)))
        sweep.append({"hysteresis": c, **r})
        log(f"  t_low {c:.2f}: pooled IoU {r['pooledIoU']:.4f} (P {r['pooledPrecision']:.3f} R {r['pooledRecall']:.3f})")
    valid = [s for s in sweep if not math.isnan(s["pooledIoU"])]
    if not valid:
        raise TrainError("DATA_INVALID", "every candidate gave an undefined pooled IoU")
    # Highest pooled IoU; ties go to the higher t_low (the smaller change to the paper's rule).
    best = max(valid, key=lambda s: (round(s["pooledIoU"], 6), s["hysteresis"]))
    block = {
        "split": split, "slices": int(len(pos)), "maskThreshold": t, "chosen": best["hysteresis"],
        "criterion": "highest pooled IoU at model size on the split's ground-truth-positive slices",
        "paperRule": brief(score(strong)), "cleanUp": brief(score(cleanup_mask(strong))),
        "largestComponentOnly": brief(score(largest_component(strong))), "refined": {k: v for k, v in best.items() if k != "hysteresis"},
        "sweep": sweep, "command": command_line(),
    }
    log(f"chosen t_low {best['hysteresis']:.2f}: val pooled IoU {best['pooledIoU']:.4f} "
        f"(paper rule {block['paperRule']['pooledIoU']:.4f}, clean-up {block['cleanUp']['pooledIoU']:.4f}, "
        f"largest region only {block['largestComponentOnly']['pooledIoU']:.4f})")
    if write:
        card.setdefault("thresholds", {})["hysteresis"] = best["hysteresis"]
        card["refinement"] = block
        (gen_dir / "model.json").write_text(json.dumps(json_safe(card), indent=2, allow_nan=False) + "\n")
        log(f"wrote thresholds.hysteresis = {best['hysteresis']} to {gen_dir / 'model.json'}")
    return block
