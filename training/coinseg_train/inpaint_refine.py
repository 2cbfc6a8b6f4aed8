"""``inpaint-refine``: wrap a trained COIN generator (single or snapshot ensemble, ``<runs>/<b>/coin/best.pt``)
with the inpainter of ``train-inpainter`` (nets/inpainter.py, :class:`InpaintedCounterfactual`), the hole's
threshold and dilation chosen on the whole VAL split by the paper rule's pooled IoU of the new
counterfactual (val ground truth for model selection only, as the checkpoint and ensemble selection),
never on test. Writes the wrapped model as ``best.pt`` (export, evaluate and the workers take it as one
generator) and keeps the generator it wraps as ``best-base.pt``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .config import generator_size
from .data import Benchmark
from .ensemble import val_positives
from .errors import TrainError
from .metrics import counterfactual_validity, diff_mask, segmentation_scores
from .nets.inpainter import InpaintedCounterfactual
from .runtime import batched, log, run_dir, save_checkpoint
from .train_classifier import classifier_probs
from .train_gan import counterfactuals, load_generator
from .train_inpainter import load_inpainter

#: The hole's thresholds and dilations tried (threshold ≤ the mask's; dilation 0 = the mask itself).
THRESHOLDS = (0.25, 0.2, 0.15)
DILATIONS = (0, 1, 2, 3)


def inpaint_refine(bench: Benchmark, cfg: dict[str, Any], runs_root: Path) -> dict[str, Any]:
    """Choose (threshold, dilation) on val and write the wrapped COIN as best.pt. Raises
    TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | DATA_INVALID)."""
    out = run_dir(runs_root, bench.name, "coin")
    base_path = out / "best-base.pt" if (out / "best-base.pt").is_file() else out / "best.pt"
    base, base_ck = load_generator(base_path, "coin")
    if isinstance(base, InpaintedCounterfactual):
        raise TrainError("CHECKPOINT_INVALID", f"{base_path} is already inpainted")
    inpainter, inp_ck = load_inpainter(run_dir(runs_root, bench.name, "inpainter") / "best.pt")
    size = generator_size(cfg, "coin")
    if int(inp_ck["size"]) != size or int(base_ck["size"]) != size:
        raise TrainError("CHECKPOINT_INVALID", f"the inpainter ({inp_ck['size']}) and the generator ({base_ck['size']}) "
                                               f"must both work at {size}")
    x, gt, p, clf = val_positives(bench, size, runs_root)
    thr = float(cfg.get("thresholds", {}).get("mask", 0.25))
    base_cf = counterfactuals(base, x, p, False)  # the generator runs once; each candidate only refills
    base_iou = segmentation_scores(diff_mask(x, base_cf, thr), gt)["pooledIoU"]
    pair = np.concatenate([x, base_cf], axis=1)
    candidates = []
    for t in THRESHOLDS:
        for k in DILATIONS:
            x_cf = batched(lambda b: inpainter(b[:, :1], InpaintedCounterfactual.hole(b[:, :1], b[:, 1:], t, k)), pair)
            s = segmentation_scores(diff_mask(x, x_cf, thr), gt)
            cv = counterfactual_validity(p, classifier_probs(clf, x_cf))["cv"]
            candidates.append({"threshold": t, "dilate": k, "pooledIoU": s["pooledIoU"], "cv": cv,
                               "pooledPrecision": s["pooledPrecision"], "pooledRecall": s["pooledRecall"]})
            log(f"inpaint threshold={t} dilate={k}: val pooled IoU {s['pooledIoU']:.4f} (precision "
                f"{s['pooledPrecision']:.3f}, recall {s['pooledRecall']:.3f}), CV {cv:.3f}")
    chosen = max(candidates, key=lambda c: (c["pooledIoU"], c["threshold"], -c["dilate"]))
    payload = dict(base_ck)
    payload["state"] = {**payload["state"], "inpainter": inp_ck["state"]["net"]}
    payload["inpaint"] = {"threshold": chosen["threshold"], "dilate": chosen["dilate"], "valPooledIoU": chosen["pooledIoU"],
                          "baseValPooledIoU": base_iou, "candidates": candidates, "inpainter": inp_ck["config"]["inpainter"],
                          "inpainterStep": inp_ck.get("step"), "inpainterCommand": inp_ck.get("command")}
    if base_path.name == "best.pt":
        os.replace(base_path, out / "best-base.pt")
    save_checkpoint(out / "best.pt", payload)
    log(f"coin inpainted: threshold {chosen['threshold']}, dilate {chosen['dilate']}, val pooled IoU "
        f"{base_iou:.4f} -> {chosen['pooledIoU']:.4f} -> {out / 'best.pt'}")
    return payload["inpaint"]
