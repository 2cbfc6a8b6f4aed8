"""Snapshot ensembles of one GAN run: the EMA generators kept by ``coin.snapshots`` are ranked by the
val-subset pooled IoU logged when each was taken; the top K (optionally each also run on the mirrored
slice) are averaged into one counterfactual. K and the mirror are chosen on the whole VAL split (val
ground-truth masks for model selection only, like the single-checkpoint selection), never on test.

Why: a GAN's generator moves between snapshots (val pooled IoU swings by ±0.05 from one evaluation
to the next); members that remove the target in slightly different places agree where it really is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .config import generator_size
from .data import Benchmark, load_split
from .errors import TrainError
from .metrics import diff_mask, segmentation_scores, selection_score
from .nets.generator import build_generator
from .runtime import load_checkpoint, log, run_dir, save_checkpoint
from .train_gan import counterfactuals
from .train_classifier import classifier_probs, load_classifier

#: Ensemble sizes tried by ``top = "auto"`` (1 = the single best snapshot).
AUTO_SIZES = (1, 2, 3, 4, 6, 8)


def val_positives(bench: Benchmark, size: int, runs_root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """The whole val split's ground-truth-positive slices at ``size`` (for model selection only): slices,
    ground truth, the classifier's P(abnormal), and the classifier. Raises TrainError(DATA_INVALID |
    CHECKPOINT_*)."""
    clf, _ = load_classifier(run_dir(runs_root, bench.name, "classifier") / "best.pt", size)
    val = load_split(bench, "val", size)
    pos = np.flatnonzero(val.gt.reshape(len(val), -1).any(1))
    if len(pos) == 0:
        raise TrainError("DATA_INVALID", "the val split has no ground-truth-positive slice")
    x, gt = val.x[pos], val.gt[pos]
    return x, gt, classifier_probs(clf, x), clf


def _snapshots(folder: Path, kind: str) -> list[dict[str, Any]]:
    paths = sorted(folder.glob("step-*.pt"))
    if not paths:
        raise TrainError("CHECKPOINT_NOT_FOUND", f"no snapshots in {folder} (train with --set {kind}.snapshots=true)")
    snaps = [load_checkpoint(p, kind) for p in paths]
    snaps = [s for s in snaps if not np.isnan(float(s.get("val", {}).get("pooledIoU", "nan")))]
    if not snaps:
        raise TrainError("CHECKPOINT_INVALID", f"no snapshot in {folder} has a val score")
    # Ranked by what selected them in training (the refined mask's score with selection = "refined").
    return sorted(snaps, key=lambda s: (-float(s["val"].get("selectionScore", s["val"]["pooledIoU"])), -int(s["step"])))


def build_ensemble(kind: str, bench: Benchmark, cfg: dict[str, Any], runs_root: Path,
                   top: int | str = "auto", flip: bool | str = "auto", max_top: int | None = None) -> dict[str, Any]:
    """Write ``<runs>/<benchmark>/<kind>/best.pt`` as the ensemble of the ``top`` best snapshots
    (``"auto"``: the size in :data:`AUTO_SIZES`, at most ``max_top``, and mirror setting with the best
    pooled IoU at the mask threshold on the whole val split; ``max_top`` bounds the inference cost and
    the checkpoint's size, each member being one generator). The single-checkpoint ``best.pt`` it
    replaces is kept as ``best-single.pt``. Returns the chosen setting and the val scores of every candidate.
    Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | USAGE)."""
    singla = kind == "singla"
    out = run_dir(runs_root, bench.name, kind)
    ranked = _snapshots(out / "snapshots", kind)
    if max_top is not None and max_top < 1:
        raise TrainError("USAGE", f"max_top must be at least 1, got {max_top}")
    cap = len(ranked) if max_top is None else min(len(ranked), max_top)
    sizes = [k for k in AUTO_SIZES if k <= cap] if top == "auto" else [int(top)]
    if sizes[0] < 1 or sizes[-1] > len(ranked):
        raise TrainError("USAGE", f"top must be 1..{len(ranked)} (snapshots with a val score), got {top}")
    flips = [False, True] if flip == "auto" else [bool(flip)]
    thr = float(cfg.get("thresholds", {}).get("mask", 0.25))
    selection = str(cfg[kind].get("selection", "paper"))
    size = generator_size(cfg, kind)
    x, gt, p, _ = val_positives(bench, size, runs_root)
    mirrored = np.ascontiguousarray(x[..., ::-1])
    outs: list[tuple[np.ndarray, np.ndarray]] = []
    for snap in ranked[: max(sizes)]:
        g = build_generator(snap["config"][kind], singla=singla)
        g.load_state_dict(snap["state"]["generator"])
        plain = counterfactuals(g, x, p, singla)
        back = np.ascontiguousarray(counterfactuals(g, mirrored, p, singla)[..., ::-1])
        outs.append((plain, back))
    candidates = []
    for k in sizes:
        for f in flips:
            members = [o for pair in outs[:k] for o in (pair if f else pair[:1])]
            x_cf = np.mean(members, axis=0)
            s = segmentation_scores(diff_mask(x, x_cf, thr), gt)
            score = s["pooledIoU"] if selection == "paper" else selection_score(x, x_cf, gt, thr, selection)
            candidates.append({"top": k, "flip": f, "pooledIoU": s["pooledIoU"], "selectionScore": score,
                               "pooledPrecision": s["pooledPrecision"], "pooledRecall": s["pooledRecall"]})
            log(f"ensemble top={k} flip={f}: val pooled IoU {s['pooledIoU']:.4f} "
                f"(precision {s['pooledPrecision']:.3f}, recall {s['pooledRecall']:.3f}, {len(x)} slices)"
                + (f", refined {score:.4f}" if selection != "paper" else ""))
    chosen = max(candidates, key=lambda c: (c["selectionScore"], -c["top"], not c["flip"]))
    members = ranked[: chosen["top"]]
    payload = dict(members[0])
    latest = max(members, key=lambda s: int(s["step"]))
    payload.update(step=int(latest["step"]), elapsedSeconds=float(latest["elapsedSeconds"]))
    payload["state"] = {"generators": [m["state"]["generator"] for m in members]}
    payload["ensemble"] = {"flip": chosen["flip"], "steps": [int(m["step"]) for m in members],
                           "memberValSubsetIoU": [float(m["val"]["pooledIoU"]) for m in members],
                           "valPooledIoU": chosen["pooledIoU"], "candidates": candidates,
                           "criterion": selection,
                           "selection": "top snapshots by the val-subset score logged in training; size and mirror "
                                        "by the same score on the whole val split (paper: pooled IoU of diff > t; "
                                        "refined: best refined-mask pooled IoU over metrics.REFINE_SELECTION_GRID)"}
    best = out / "best.pt"
    if best.is_file() and "generators" not in load_checkpoint(best, kind)["state"]:
        os.replace(best, out / "best-single.pt")
    save_checkpoint(best, payload)
    log(f"{kind} ensemble: steps {payload['ensemble']['steps']}, flip {chosen['flip']}, "
        f"val pooled IoU {chosen['pooledIoU']:.4f} -> {best}")
    return payload["ensemble"]
