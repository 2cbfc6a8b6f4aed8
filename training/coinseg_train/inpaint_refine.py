"""``inpaint-refine``: wrap a trained COIN generator (single or snapshot ensemble, ``<runs>/<b>/coin/best.pt``)
with the inpainter of ``train-inpainter`` (nets/inpainter.py, :class:`InpaintedCounterfactual`), the hole's
threshold and dilation chosen on the whole VAL split by the paper rule's pooled IoU of the new
counterfactual (val ground truth for model selection only, as the checkpoint and ensemble selection),
never on test, among the candidates that keep the val CV (``inpainter.refine.minCV``, default 0.95). A
candidate may also run the generator again on the filled slice (``inpainter.refine.regenerate``). Writes
the wrapped model as ``best.pt`` (export, evaluate and the workers take it as one generator) and keeps
the generator it wraps as ``best-base.pt``. A candidate may keep only the hole's region around the strongest
change (``inpainter.refine.components``: seed box sizes, 0 = the whole hole; :meth:`InpaintedCounterfactual.seeded_component`),
or let the frozen classifier choose among its strongest regions (``inpainter.refine.regions``: how many, 1 = the
strongest only; :meth:`InpaintedCounterfactual.judged_fill`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .config import generator_size
from .data import Benchmark
from .ensemble import val_positives
from .errors import TrainError
from .metrics import counterfactual_validity, diff_mask, segmentation_scores
from .nets.generator import upsample
from .nets.inpainter import InpaintedCounterfactual
from .runtime import batched, command_line, log, run_dir, save_checkpoint
from .train_classifier import classifier_probs, load_classifier
from .train_gan import counterfactuals, load_generator
from .train_inpainter import load_inpainter

#: The hole's thresholds and dilations tried by default (threshold ≤ the mask's; dilation 0 = the mask
#: itself), each with and without the mirrored fill. ``inpainter.refine.thresholds`` / ``.dilations`` in the
#: config replace them (a weak generator's change may only cover the target at a lower threshold).
THRESHOLDS = (0.25, 0.2, 0.15)
DILATIONS = (0, 1, 2, 3)
FLIPS = (False, True)
#: Seed box sizes of the hole's kept region tried by default: 0 only (the whole hole).
COMPONENTS = (0,)
#: How many of the hole's strongest regions the classifier chooses among, tried by default: 1 only (no choice).
REGIONS = (1,)


#: The val CV a candidate must keep (the acceptance bar's 0.95) unless ``inpainter.refine.minCV`` says otherwise:
#: a refill that leaves the classifier calling the slice abnormal is no counterfactual, whatever its IoU.
MIN_CV = 0.95


def refine_grid(cfg: dict[str, Any]) -> tuple[tuple[float, ...], tuple[int, ...], tuple[bool, ...], tuple[int, ...],
                                             tuple[int, ...], float]:
    """The config's ``inpainter.refine`` (or the defaults): the hole thresholds and dilations, the
    regenerate values, the kept region's seed boxes (``components``) and the number of regions the classifier
    chooses among (``regions``; with a seed box only) to try, and the val CV a candidate must keep. Raises
    TrainError(CONFIG_INVALID) unless thresholds are in (0, 1), dilations integers in 0..16, regenerate
    booleans, components 0 or odd integers up to 31, regions integers in 1..8, and minCV in [0, 1]."""
    refine = cfg.get("inpainter", {}).get("refine", {}) or {}
    thresholds, dilations = refine.get("thresholds", THRESHOLDS), refine.get("dilations", DILATIONS)
    if (not isinstance(thresholds, (list, tuple)) or not thresholds
            or not all(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 < t < 1 for t in thresholds)):
        raise TrainError("CONFIG_INVALID", f"inpainter.refine.thresholds must be a non-empty list of numbers in (0, 1): {thresholds!r}")
    if (not isinstance(dilations, (list, tuple)) or not dilations
            or not all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k <= 16 for k in dilations)):
        raise TrainError("CONFIG_INVALID", f"inpainter.refine.dilations must be a non-empty list of integers in 0..16: {dilations!r}")
    regenerates = refine.get("regenerate", [False])
    if not isinstance(regenerates, list) or not regenerates or not all(isinstance(r, bool) for r in regenerates):
        raise TrainError("CONFIG_INVALID", f"inpainter.refine.regenerate must be a non-empty list of booleans: {regenerates!r}")
    components = refine.get("components", list(COMPONENTS))
    if (not isinstance(components, list) or not components
            or not all(isinstance(c, int) and not isinstance(c, bool) and (c == 0 or (c % 2 == 1 and 0 < c <= 31)) for c in components)):
        raise TrainError("CONFIG_INVALID", f"inpainter.refine.components must be a non-empty list of 0 or odd integers up to 31: {components!r}")
    regions = refine.get("regions", list(REGIONS))
    if (not isinstance(regions, list) or not regions
            or not all(isinstance(r, int) and not isinstance(r, bool) and 1 <= r <= 8 for r in regions)):
        raise TrainError("CONFIG_INVALID", f"inpainter.refine.regions must be a non-empty list of integers in 1..8: {regions!r}")
    min_cv = refine.get("minCV", MIN_CV)
    if isinstance(min_cv, bool) or not isinstance(min_cv, (int, float)) or not 0 <= min_cv <= 1:
        raise TrainError("CONFIG_INVALID", f"inpainter.refine.minCV must be a number in [0, 1]: {min_cv!r}")
    return (tuple(float(t) for t in thresholds), tuple(dilations), tuple(regenerates), tuple(components), tuple(regions),
            float(min_cv))


def inpaint_refine(bench: Benchmark, cfg: dict[str, Any], runs_root: Path) -> dict[str, Any]:
    """Choose (threshold, dilation, flip, regenerate) on val and write the wrapped COIN as best.pt. When the config's
    COIN size (``coin.size``, :func:`generator_size`) is a multiple f ≥ 2 of the generator's, the wrapped
    model is served at that size (:class:`FineGridCounterfactual`: the inpainted change at the
    generator's size, upsampled bilinearly onto the slice) and chosen by its pooled IoU there. Raises
    TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | DATA_INVALID)."""
    out = run_dir(runs_root, bench.name, "coin")
    base_path = out / "best-base.pt" if (out / "best-base.pt").is_file() else out / "best.pt"
    base, base_ck = load_generator(base_path, "coin")
    if isinstance(base, InpaintedCounterfactual) or isinstance(base_ck.get("inpaint"), dict):
        raise TrainError("CHECKPOINT_INVALID", f"{base_path} is already inpainted")
    inpainter, inp_ck = load_inpainter(run_dir(runs_root, bench.name, "inpainter") / "best.pt")
    base_size, size = int(base_ck["size"]), generator_size(cfg, "coin")
    if int(inp_ck["size"]) != base_size:
        raise TrainError("CHECKPOINT_INVALID", f"the inpainter works at {inp_ck['size']}, the generator at {base_size}")
    if size < base_size or size % base_size:
        raise TrainError("CONFIG_INVALID", f"coin.size {size} is not a multiple of the generator's size {base_size}")
    factor = size // base_size
    thresholds, dilations, regenerates, components, region_counts, min_cv = refine_grid(cfg)
    x, gt, p, clf = val_positives(bench, size, runs_root)
    judge, judge_ck = None, None
    if max(region_counts) > 1 and max(components) > 0:
        # The classifier judges the fills at the generator's own size, where the hole is.
        judge, judge_ck = load_classifier(run_dir(runs_root, bench.name, "classifier") / "best.pt")
        if int(judge_ck["size"]) != base_size:
            raise TrainError("CONFIG_INVALID", f"inpainter.refine.regions > 1 needs the classifier at the generator's size "
                                               f"{base_size} (it works at {judge_ck['size']})")
    # The generator and the inpainter work at its own size: the slice average-pooled by the factor.
    xc = batched(lambda b: F.avg_pool2d(b, factor), x) if factor > 1 else x
    thr = float(cfg.get("thresholds", {}).get("mask", 0.25))
    base_cf = counterfactuals(base, xc, p, False)  # the generator runs once; each candidate only refills
    pair = np.concatenate([xc, base_cf], axis=1)

    def score(cf: np.ndarray) -> tuple[dict[str, Any], float]:
        """The paper rule's val scores and the CV of a counterfactual at the generator's size, served on x's grid."""
        x_cf = upsample_onto(x, xc, cf, factor)
        return segmentation_scores(diff_mask(x, x_cf, thr), gt), counterfactual_validity(p, classifier_probs(clf, x_cf))["cv"]

    base_scores, base_cv = score(base_cf)
    base_iou = base_scores["pooledIoU"]
    candidates = []
    for t in thresholds:
        for k in dilations:
            for comp in components:
                for nreg in (region_counts if comp > 0 else (1,)):
                    for flip in FLIPS:
                        wrap = InpaintedCounterfactual(base, inpainter, t, k, flip, False, comp, nreg, judge)
                        filled = batched(lambda b: wrap.refill(b[:, :1], b[:, 1:]), pair)
                        for regen in regenerates:
                            s, cv = score(counterfactuals(base, filled, p, False) if regen else filled)
                            candidates.append({"threshold": t, "dilate": k, "component": comp, "regions": nreg, "flip": flip,
                                               "regenerate": regen, "pooledIoU": s["pooledIoU"], "cv": cv,
                                               "pooledPrecision": s["pooledPrecision"], "pooledRecall": s["pooledRecall"]})
                            log(f"inpaint threshold={t} dilate={k} component={comp} regions={nreg} flip={flip} regenerate={regen}: "
                                f"val pooled IoU {s['pooledIoU']:.4f} (precision {s['pooledPrecision']:.3f}, recall "
                                f"{s['pooledRecall']:.3f}), CV {cv:.3f}")
    try:
        chosen = choose_candidate(candidates, min_cv)
    except TrainError as exc:
        raise TrainError(exc.code, f"{exc.message} (the generator alone: {base_cv:.3f}); {out / 'best.pt'} left as it was") from exc
    payload = dict(base_ck)
    payload["state"] = {**payload["state"], "inpainter": inp_ck["state"]["net"]}
    if chosen["regions"] > 1 and judge is not None and judge_ck is not None:
        # The frozen classifier becomes part of the counterfactual (it chooses the region to fill).
        payload["state"]["judge"] = judge.state_dict()
        payload["judge"] = {"classifier": judge_ck["config"]["classifier"], "size": int(judge_ck["size"]),
                            "step": judge_ck.get("step"), "restoredFrom": judge_ck.get("restoredFrom")}
    payload["size"] = size
    payload["config"] = {**payload["config"], "coin": {**payload["config"]["coin"], "size": size}}
    payload["inpaint"] = {"threshold": chosen["threshold"], "dilate": chosen["dilate"], "flip": chosen["flip"],
                          "regenerate": chosen["regenerate"], "component": chosen["component"], "regions": chosen["regions"],
                          "factor": factor, "baseSize": base_size, "valPooledIoU": chosen["pooledIoU"], "valCV": chosen["cv"],
                          "baseValPooledIoU": base_iou, "baseValCV": base_cv, "minCV": min_cv, "candidates": candidates, "inpainter": inp_ck["config"]["inpainter"],
                          "inpainterStep": inp_ck.get("step"), "inpainterCommand": inp_ck.get("command"),
                          "inpainterSeconds": inp_ck.get("elapsedSeconds"), "inpainterMachine": inp_ck.get("machine"),
                          "command": command_line()}
    if base_path.name == "best.pt":
        os.replace(base_path, out / "best-base.pt")
    save_checkpoint(out / "best.pt", payload)
    log(f"coin inpainted at {size}: threshold {chosen['threshold']}, dilate {chosen['dilate']}, component {chosen['component']}, "
        f"regions {chosen['regions']}, "
        f"flip {chosen['flip']}, regenerate {chosen['regenerate']}, "
        f"val pooled IoU {base_iou:.4f} -> {chosen['pooledIoU']:.4f} (CV {chosen['cv']:.3f}) -> {out / 'best.pt'}")
    return payload["inpaint"]


def choose_candidate(candidates: list[dict[str, Any]], min_cv: float) -> dict[str, Any]:
    """The candidate with the highest val pooled IoU among those whose val CV is at least ``min_cv``; ties
    go to the higher threshold, then the smaller dilation, then the whole hole (then the smaller seed box), then fewer
    regions to choose among, then no mirror, then no second generator pass. Raises
    TrainError(NO_VALID_CANDIDATE) when none keeps the CV. A NaN CV (no val slice with f(X) > τ) passes
    only ``min_cv`` 0."""
    valid = [c for c in candidates if c["cv"] >= min_cv or min_cv == 0]
    if not valid:
        top = max(candidates, key=lambda c: c["cv"])
        raise TrainError("NO_VALID_CANDIDATE", f"no hole keeps val CV >= {min_cv} (best: {top['cv']:.3f} at threshold "
                         f"{top['threshold']}, dilate {top['dilate']})")
    return max(valid, key=lambda c: (c["pooledIoU"], c["threshold"], -c["dilate"], -c.get("component", 0),
                                     -c.get("regions", 1), not c["flip"], not c.get("regenerate", False)))


def upsample_onto(x: np.ndarray, xc: np.ndarray, cf: np.ndarray, factor: int) -> np.ndarray:
    """The counterfactual ``cf`` of the pooled slices ``xc`` served on the grid of ``x``, as
    :class:`FineGridCounterfactual` serves it: clamp(X + up(cf − xc), −1, 1); ``cf`` itself for factor 1."""
    if factor == 1:
        return cf
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), 64):
            change = upsample(torch.from_numpy(cf[i:i + 64] - xc[i:i + 64]), factor)
            outs.append(torch.clamp(torch.from_numpy(x[i:i + 64]) + change, -1.0, 1.0).numpy())
    return np.concatenate(outs)
