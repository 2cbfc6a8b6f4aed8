"""Trains the slice classifier f on image-level labels only; keeps the checkpoint with the best
validation ROC AUC (labels only)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .augment import fgsm_perturb, intensity_ceiling, mixup, nearest_normal_partner, random_affine, saliency_erase
from .data import Benchmark, load_split
from .errors import TrainError
from .metrics import classification_scores
from .nets.classifier import Classifier, ResizedClassifier
from .runtime import (Budget, batched, command_line, device, load_checkpoint, log, machine_description, run_dir,
                      save_checkpoint, seed_everything)


def classifier_probs(model: Classifier, x: np.ndarray) -> np.ndarray:
    """P(abnormal) ``[N]`` for slices ``x`` ``[N, 1, S, S]`` (model switched to eval mode)."""
    model.eval()
    return batched(lambda t: torch.sigmoid(model(t)).reshape(-1), x).astype(np.float64)


def load_classifier(path: Path, input_size: int | None = None) -> tuple[Classifier, dict[str, Any]]:
    """Load a frozen classifier (eval mode, no gradients) and its checkpoint payload. With
    ``input_size`` larger than the classifier's own size it is wrapped to take slices at that size
    (:class:`ResizedClassifier`: resized to its size first, as the preprocessing would).

    Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID)."""
    ckpt = load_checkpoint(path, "classifier")
    model = Classifier.from_config(ckpt["config"]["classifier"])
    model.load_state_dict(ckpt["state"]["net"])
    model.to(device()).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if input_size is not None and input_size != ckpt["size"]:
        if input_size < ckpt["size"] or input_size % ckpt["size"] != 0:
            raise TrainError("CHECKPOINT_INVALID", f"classifier was trained at {ckpt['size']}, cannot judge slices at {input_size}")
        return ResizedClassifier(model, int(ckpt["size"])).eval(), ckpt  # type: ignore[return-value]
    return model, ckpt


def train_classifier(
    bench: Benchmark,
    cfg: dict[str, Any],
    runs_root: Path,
    resume: bool = False,
    minutes: float | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train (or resume) the classifier of ``bench`` with preset ``cfg``; writes
    ``<runs>/<benchmark>/classifier/{last,best}.pt`` and returns the best checkpoint's val scores."""
    c = cfg["classifier"]
    size = cfg["size"]
    out = run_dir(runs_root, bench.name, "classifier")
    seed_everything(cfg["seed"])
    train = load_split(bench, "train", size)
    val = load_split(bench, "val", size)
    log(f"classifier: {len(train)} train / {len(val)} val slices at {size}x{size}, window {bench.window_hu} HU")
    dev = device()
    model = Classifier.from_config(c).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=c["lr"], weight_decay=float(c.get("weightDecay", 0.0)))
    step, elapsed, best = 0, 0.0, {"score": [-1.0, -1e9]}
    best_state: dict[str, Any] | None = None
    gen = torch.Generator().manual_seed(cfg["seed"])
    if resume and (out / "last.pt").is_file():
        ck = load_checkpoint(out / "last.pt", "classifier")
        model.load_state_dict(ck["state"]["net"])
        opt.load_state_dict(ck["state"]["opt"])
        step, elapsed, best = ck["step"], ck["elapsedSeconds"], ck["best"]
        best_state = ck["state"].get("bestNet")
        gen.set_state(ck["state"]["gen"])
        log(f"resumed at step {step} ({elapsed:.0f} s)")
    budget = Budget(c["minutes"] if minutes is None else minutes, c.get("maxSteps") if max_steps is None else max_steps, elapsed)
    partner = nearest_normal_partner(train.label, train.scan_ids, train.slice_index)
    bs = c["batchSize"]
    aug, mix = c.get("augment", {}), c.get("mixup", {})
    pos = np.flatnonzero(train.label == 1)
    neg = np.flatnonzero(train.label == 0)
    balanced = bool(c.get("balanced", True)) and len(pos) > 0 and len(neg) > 0
    last_ckpt = time.monotonic()
    ckpt_every_s = float(c.get("checkpointMinutes", 3)) * 60

    def payload() -> dict[str, Any]:
        return {
            "model": "classifier",
            "benchmark": bench.name,
            "windowHU": list(bench.window_hu),
            "size": size,
            "config": cfg,
            "step": step,
            "elapsedSeconds": budget.elapsed_s(),
            "threads": torch.get_num_threads(), "machine": machine_description(),
            "best": best,
            "command": command_line(),
            "state": {"net": model.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "bestNet": best_state},
        }

    def evaluate_val() -> None:
        nonlocal best, best_state
        p = classifier_probs(model, val.x)
        scores = classification_scores(val.label, p)
        eps = 1e-6
        y = val.label.astype(np.float64)
        loss = float(-(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)).mean())
        scores["bce"] = loss
        auc = scores["rocAuc"] if scores["rocAuc"] == scores["rocAuc"] else 0.0
        key = [auc, -loss]
        log(f"[val] step={step} auc={scores['rocAuc']:.4f} acc={scores['accuracy']:.4f} f1={scores['f1']:.4f} bce={loss:.4f}")
        if key >= best["score"]:
            best = {"score": key, "step": step, "val": scores}
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            save_checkpoint(out / "best.pt", {**payload(), "state": {"net": best_state}})
        model.train()

    lr0, end_factor = c["lr"], float(c.get("lrEndFactor", 1.0))
    model.train()
    while not budget.done(step):
        if balanced:
            half = bs // 2
            idx = np.concatenate([
                pos[torch.randint(len(pos), (half,), generator=gen).numpy()],
                neg[torch.randint(len(neg), (bs - half,), generator=gen).numpy()],
            ])
        else:
            idx = torch.randint(len(train), (bs,), generator=gen).numpy()
        x = torch.from_numpy(train.x[idx])
        y = torch.from_numpy(train.label[idx]).float()
        has_p = torch.from_numpy(partner[idx] >= 0)
        px = torch.from_numpy(train.x[np.maximum(partner[idx], 0)])
        x, y = mixup(x, y, px, has_p, mix, gen)  # before the affine: a mixed pair stays aligned
        if c.get("erase"):
            x = saliency_erase(model, x.to(dev), px.to(dev), has_p, c["erase"], gen)  # random_affine keeps its device
        if c.get("ceiling"):
            x = intensity_ceiling(x, c["ceiling"], gen)
        x = random_affine(x, aug, gen).to(dev)
        y = y.to(dev)
        adv_eps = float((c.get("adversarial") or {}).get("eps", 0.0))
        if adv_eps > 0:
            x = fgsm_perturb(model, x, y, adv_eps, gen)
        for group in opt.param_groups:
            group["lr"] = lr0 * (1.0 - (1.0 - end_factor) * budget.progress(step))
        loss = F.binary_cross_entropy_with_logits(model(x).reshape(-1), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % int(c.get("logEverySteps", 20)) == 0:
            log(f"step={step} loss={loss.item():.4f} lr={opt.param_groups[0]['lr']:.2e} t={budget.elapsed_s():.0f}s")
        if step % c["evalEverySteps"] == 0:
            evaluate_val()
        if time.monotonic() - last_ckpt > ckpt_every_s:
            save_checkpoint(out / "last.pt", payload())
            last_ckpt = time.monotonic()
    if step % c["evalEverySteps"] != 0 or best_state is None:
        evaluate_val()
    save_checkpoint(out / "last.pt", payload())
    log(f"classifier done: {step} steps, {budget.elapsed_s():.0f} s; best step {best.get('step')} val {best.get('val')}")
    return best
