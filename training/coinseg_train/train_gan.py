"""Trains the COIN generator (or the Singla et al.* baseline) against the frozen classifier, with a
spectral-norm projection discriminator; EMA of the generator, learning-rate decay, checkpoint
selection on the validation split by pooled IoU (val ground-truth masks used for selection only)."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .augment import random_affine
from .config import generator_size
from .data import Benchmark, SliceSet, load_split
from .errors import TrainError
from .local_crops import crop_at, edit_centres
from .losses import adversarial_bce, bernoulli_kl_from_logits, l1, total_variation_255
from .metrics import counterfactual_validity, diff_mask, segmentation_scores, selection_score
from .nets.discriminator import Discriminator
from .nets.generator import CoarseToFineGenerator, FineGridCounterfactual, Generator, GeneratorEnsemble, build_generator
from .runtime import (Budget, batched, command_line, device, load_checkpoint, log, machine_description, run_dir,
                      save_checkpoint, seed_everything)
from .train_classifier import classifier_probs, load_classifier


def counterfactuals(g: torch.nn.Module, x: np.ndarray, p: np.ndarray, singla: bool, batch_size: int = 32) -> np.ndarray:
    """X_cf for slices ``x`` ``[N, 1, S, S]`` with classifier probabilities ``p`` ``[N]``; Singla is
    conditioned on the flipped class bin(1 - f(X)). Switches ``g`` to eval mode."""
    g.eval()
    if not singla:
        return batched(lambda t: g(t), x, batch_size)
    cond = (1.0 - (p > 0.5).astype(np.float32)).astype(np.float32)
    outs = []
    with torch.no_grad():
        for s in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[s : s + batch_size]).to(device())
            cb = torch.from_numpy(cond[s : s + batch_size]).to(device())
            outs.append(g(xb, cb).cpu().numpy())
    return np.concatenate(outs) if outs else np.zeros_like(x)


def load_generator(path: Path, kind: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load the selected generator weights (EMA when enabled) of a ``coin`` / ``singla`` checkpoint,
    in eval mode: a :class:`Generator`, or a :class:`GeneratorEnsemble` for a checkpoint written by
    ``ensemble`` (``state.generators`` + ``ensemble.flip``), wrapped as an :class:`InpaintedCounterfactual`
    for one written by ``inpaint-refine`` (``state.inpainter`` + ``inpaint``). Raises TrainError(CHECKPOINT_NOT_FOUND |
    CHECKPOINT_INVALID)."""
    ck = load_checkpoint(path, kind)
    singla = kind == "singla"

    def build(state: dict[str, Any]) -> torch.nn.Module:
        g = build_generator(ck["config"][kind], singla=singla)
        g.load_state_dict(state)
        return g

    module: torch.nn.Module
    if "generators" in ck["state"]:
        module = GeneratorEnsemble([build(s) for s in ck["state"]["generators"]], bool(ck["ensemble"]["flip"]))
    else:
        module = build(ck["state"]["generator"])
    if isinstance(ck.get("inpaint"), dict):
        # inpaint-refine: the generator's change region refilled by the inpainter (nets/inpainter.py).
        from .nets.inpainter import InpaintedCounterfactual, Inpainter

        ip = ck["inpaint"]
        inp = Inpainter.from_config(ip["inpainter"])
        inp.load_state_dict(ck["state"]["inpainter"])
        judge = None
        if int(ip.get("regions") or 1) > 1:
            # The frozen classifier that chooses which of the hole's regions to fill (inpaint-refine's regions).
            from .nets.classifier import Classifier

            if not isinstance(ck.get("judge"), dict) or "judge" not in ck["state"]:
                raise TrainError("CHECKPOINT_INVALID", f"{path}: chooses among {ip['regions']} regions but holds no classifier")
            judge = Classifier.from_config(ck["judge"]["classifier"])
            judge.load_state_dict(ck["state"]["judge"])
            judge.eval().requires_grad_(False)
        module = InpaintedCounterfactual.from_spec(module, inp, ip, judge)
        if int(ip.get("factor", 1)) > 1:  # served above the size it works at (inpaint-refine with coin.size)
            module = FineGridCounterfactual(module, int(ip["factor"]))
    module.to(device()).eval()
    return module, ck


def _init_weights(G: torch.nn.Module, D: torch.nn.Module, kind: str, init: dict[str, Any]) -> str:
    """Initialise a fresh run's generator (and, when the checkpoint has one of the same shape, its
    discriminator) from ``<kind>.init = {"checkpoint": PATH, "member": K}``: a ``last.pt`` (live G and D),
    a ``best.pt`` or a restored / ensemble checkpoint (its selected generator, or member K of
    ``state.generators``). The convolutional nets carry over to another grid (``<kind>.size``), which is
    how a 128 generator starts a 256 run. Returns a description for the log. Raises
    TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID)."""
    path = Path(init["checkpoint"])  # shape checked by validate_config
    ck = load_checkpoint(path, kind)
    st = ck["state"]
    member = init.get("member", 0)
    if "G" in st:
        g_state, source = st["G"], "live G"
    elif "generators" in st:
        if not 0 <= member < len(st["generators"]):
            raise TrainError("CHECKPOINT_INVALID", f"{path}: ensemble has {len(st['generators'])} members, not {member + 1}")
        g_state, source = st["generators"][member], f"ensemble member {member}"
    else:
        g_state, source = st["generator"], "selected generator"
    try:
        G.load_state_dict(g_state)
    except RuntimeError as exc:
        raise TrainError("CHECKPOINT_INVALID", f"{path}: generator does not match this config: {exc}") from exc
    d_note = "fresh D"
    if "D" in st:
        try:
            D.load_state_dict(st["D"])
            d_note = "its D"
        except RuntimeError:
            d_note = "fresh D (the checkpoint's does not match)"
    return f"{source} of {path} (step {ck.get('step')}, size {ck.get('size')}), {d_note}"


def attach_coarse(g_cfg: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """Fill ``generator.coarse`` (``{"checkpoint", "enhancerWidths"}``) from its checkpoint, in place:
    the coarse members' generator section, their count, the mirror flag and the grid factor, so that
    the section alone rebuilds the model (build_generator) and checkpoints carry it. Returns the coarse
    members' state dicts. Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID)."""
    coarse = g_cfg["generator"]["coarse"]
    path = Path(coarse["checkpoint"])
    ck = load_checkpoint(path, "coin")
    src = ck["config"]["coin"]
    if src["generator"].get("coarse"):
        raise TrainError("CHECKPOINT_INVALID", f"{path}: the coarse model must be a plain COIN generator or ensemble")
    st = ck["state"]
    states = st["generators"] if "generators" in st else [st["generator"]]
    c_size = int(ck.get("size") or 0)
    if c_size <= 0 or size % c_size != 0 or size == c_size:
        raise TrainError("CHECKPOINT_INVALID", f"{path}: a coarse model at {c_size} cannot serve a generator at {size}")
    coarse.update(generator=src["generator"], members=len(states), factor=size // c_size,
                  flip=bool((ck.get("ensemble") or {}).get("flip", False)), coarseStep=ck.get("step"))
    return states


def _ema_update(ema: torch.nn.Module, live: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        e = [p for p in ema.parameters()]
        l_ = [p.detach() for p in live.parameters()]
        torch._foreach_mul_(e, decay)
        torch._foreach_add_(e, l_, alpha=1.0 - decay)
        for be, bl in zip(ema.buffers(), live.buffers()):
            be.copy_(bl)


def _lr_factor(progress: float, decay: dict[str, Any]) -> float:
    if not decay or decay.get("kind", "none") == "none":
        return 1.0
    start, end = float(decay.get("startFraction", 0.5)), float(decay.get("endFactor", 0.1))
    if progress <= start:
        return 1.0
    return 1.0 - (1.0 - end) * (progress - start) / max(1e-9, 1.0 - start)


def warm_up_identity(G: Generator, x_all: np.ndarray, cond_all: np.ndarray | None, cfg: dict[str, Any],
                     gen: torch.Generator, batch_size: int) -> dict[str, float]:
    """Identity warm-up of the generator before adversarial training: ``steps`` Adam steps (lr
    ``lr``) on L1(X, G(X, c)) with c = the slice's own class for Singla (its identity term), so
    that the GAN starts from X_cf ≈ X instead of X_cf = tanh(X).

    Why: with COIN's head X_cf = tanh(P + X) and P = 0 at step 0, every pixel at the window's edges
    (air, fat, bone: ±1) moves by ≥ 0.12 on the mask's [0, 1] scale; a robust classifier calls such
    out-of-distribution slices ambiguous (P(abnormal) ≈ 0.4 for normal and abnormal alike), and the
    classifier term then mostly teaches reconstruction, slowly. The warm-up uses images only (no
    labels, no masks) and its own optimiser, so the GAN's Adam state starts as the paper's.
    Returns ``{"steps", "seconds", "l1"}`` (the last batch's L1)."""
    steps = int(cfg.get("steps", 0))
    if steps <= 0:
        return {"steps": 0, "seconds": 0.0, "l1": float("nan")}
    t0 = time.monotonic()
    opt = torch.optim.Adam(G.parameters(), lr=float(cfg.get("lr", 1e-3)))
    G.train()
    loss = torch.zeros(())
    for i in range(steps):
        idx = torch.randint(len(x_all), (batch_size,), generator=gen).numpy()
        x = torch.from_numpy(x_all[idx]).to(device())
        c = None if cond_all is None else torch.from_numpy(cond_all[idx]).to(device())
        loss = l1(x, G(x, c))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (i + 1) % 50 == 0 or i + 1 == steps:
            log(f"warm-up step={i + 1}/{steps} l1={loss.item():.4f} t={time.monotonic() - t0:.0f}s")
    return {"steps": steps, "seconds": time.monotonic() - t0, "l1": float(loss.item())}


def _val_subset(val: SliceSet, p_val: np.ndarray, cap: int) -> np.ndarray:
    pos = np.flatnonzero(val.gt.reshape(len(val), -1).any(1))
    if len(pos) > cap:
        pos = pos[np.linspace(0, len(pos) - 1, cap).round().astype(int)]
    return pos


def train_gan(
    kind: str,
    bench: Benchmark,
    cfg: dict[str, Any],
    runs_root: Path,
    resume: bool = False,
    minutes: float | None = None,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Train ``kind`` ("coin" or "singla") on ``bench``; needs ``<runs>/<benchmark>/classifier/best.pt``.

    Writes ``<runs>/<benchmark>/<kind>/last.pt`` (resumable: G, D, EMA, optimisers, step, seconds)
    every ``checkpointMinutes`` and ``best.pt`` (selected generator) whenever val pooled IoU at the
    mask threshold improves. ``max_steps`` counts generator steps. Returns the best val scores.
    Raises TrainError(CHECKPOINT_NOT_FOUND) without a classifier, (CHECKPOINT_INVALID) on a size clash.
    """
    if kind not in ("coin", "singla"):
        raise TrainError("USAGE", f"unknown generator kind {kind!r}")
    singla = kind == "singla"
    g_cfg = cfg[kind]
    # The generator may work at a larger side than the classifier (``<kind>.size``, e.g. the native
    # 256 for a 128 classifier): the classifier then judges its slices resized to its own size.
    size = generator_size(cfg, kind)
    out = run_dir(runs_root, bench.name, kind)
    seed_everything(cfg["seed"])
    clf, clf_ck = load_classifier(run_dir(runs_root, bench.name, "classifier") / "best.pt", size)
    if clf_ck["size"] != cfg["size"]:
        raise TrainError("CHECKPOINT_INVALID", f"classifier was trained at {clf_ck['size']}, preset size is {cfg['size']}")
    train = load_split(bench, "train", size)
    val = load_split(bench, "val", size)
    p_train = classifier_probs(clf, train.x)
    p_val = classifier_probs(clf, val.x)
    val_idx = _val_subset(val, p_val, int(g_cfg.get("valMaxSlices", 300)))
    log(f"{kind}: {len(train)} train slices ({int((p_train > 0.5).sum())} classified abnormal), "
        f"{len(val_idx)} GT-positive val slices for selection")

    dev = device()
    coarse_states = attach_coarse(g_cfg, size) if g_cfg["generator"].get("coarse") and not singla else []
    G = build_generator(g_cfg, singla).to(dev)
    for member, state in zip(getattr(G, "coarse", []), coarse_states):
        member.load_state_dict(state)
    D = Discriminator.from_config(g_cfg).to(dev)
    # Optional local discriminator (coin.localDiscriminator = {widths, crop, weight}): judges a
    # crop x crop window centred where the generator changed the slice most (local_crops.py).
    # COIN only: its counterfactuals all have one class (normal); Singla's section ignores it.
    local_cfg = None if singla else (g_cfg.get("localDiscriminator") or None)
    D_local = Discriminator(local_cfg["widths"]).to(dev) if local_cfg else None
    crop = int(local_cfg.get("crop", 32)) if local_cfg else 0
    w_local = float(local_cfg.get("weight", 1.0)) if local_cfg else 0.0
    G_ema = copy.deepcopy(G)
    for p in G_ema.parameters():
        p.requires_grad_(False)
    betas = tuple(g_cfg["betas"])
    opt_g = torch.optim.Adam([q for q in G.parameters() if q.requires_grad], lr=g_cfg["lrG"], betas=betas)  # type: ignore[arg-type]
    d_params = list(D.parameters()) + (list(D_local.parameters()) if D_local is not None else [])
    opt_d = torch.optim.Adam(d_params, lr=g_cfg["lrD"], betas=betas)  # type: ignore[arg-type]
    w = g_cfg["lossWeights"]
    mask_thr = float(cfg.get("thresholds", {}).get("mask", 0.25))
    ema_cfg = g_cfg.get("ema", {}) or {}
    ema_decay = float(ema_cfg.get("decay", 0.0))
    step, elapsed = 0, 0.0
    best: dict[str, Any] = {"pooledIoU": -1.0}
    gen = torch.Generator().manual_seed(cfg["seed"] + (1 if singla else 0))
    warmup: dict[str, float] = {"steps": 0, "seconds": 0.0}
    if resume and (out / "last.pt").is_file():
        ck = load_checkpoint(out / "last.pt", kind)
        st = ck["state"]
        G.load_state_dict(st["G"]); D.load_state_dict(st["D"]); G_ema.load_state_dict(st["generator"])
        if D_local is not None:
            if "Dlocal" not in st:
                raise TrainError("CHECKPOINT_INVALID", "last.pt has no local discriminator; resume without coin.localDiscriminator")
            D_local.load_state_dict(st["Dlocal"])
        opt_g.load_state_dict(st["optG"]); opt_d.load_state_dict(st["optD"]); gen.set_state(st["gen"])
        step, elapsed, best = ck["step"], ck["elapsedSeconds"], ck["best"]
        warmup = ck.get("warmup", {"steps": 0, "seconds": 0.0})
        log(f"resumed at step {step} ({elapsed:.0f} s), best val pooled IoU {best['pooledIoU']:.4f}")
    budget = Budget(g_cfg["minutes"] if minutes is None else minutes, g_cfg.get("maxSteps") if max_steps is None else max_steps, elapsed)
    if step == 0:
        if isinstance(G, CoarseToFineGenerator):
            # The frozen coarse model is the start: its change, upsampled, with the enhancer at zero.
            log(f"{kind}: coarse-to-fine from {g_cfg['generator']['coarse']['checkpoint']} "
                f"({len(G.coarse)} member(s), mirror {G.flip}, factor {G.factor}); no warm-up")
        elif g_cfg.get("init"):
            # A trained generator replaces the identity warm-up (it already maps X to itself off the blob).
            log(f"{kind}: initialised from {_init_weights(G, D, kind, g_cfg['init'])}")
        else:
            own_class = (p_train > 0.5).astype(np.float32) if singla else None
            warmup = warm_up_identity(G, train.x, own_class, g_cfg.get("warmup", {}) or {}, gen, g_cfg["batchSize"])
        G_ema.load_state_dict(G.state_dict())
    coarse_cfg = g_cfg["generator"].get("coarse") if isinstance(G, CoarseToFineGenerator) else None
    anchored = bool(coarse_cfg and coarse_cfg.get("anchor", False))
    # Discriminator-only steps first (coarse-to-fine: a fresh D must learn the fine grid before its
    # gradients are worth following; the generator is already a trained one).
    d_warmup = int(coarse_cfg.get("dWarmupSteps", 0)) if coarse_cfg else 0
    abnormal_by = g_cfg.get("abnormalBy", "classifier")
    is_abn_all = (p_train > 0.5) if abnormal_by == "classifier" else (train.label == 1)
    pos, neg = np.flatnonzero(train.label == 1), np.flatnonzero(train.label == 0)
    balanced = bool(g_cfg.get("balanced", True)) and len(pos) > 0 and len(neg) > 0
    bs, d_steps = g_cfg["batchSize"], g_cfg["dStepsPerGStep"]
    kl_aug = g_cfg.get("klAugment") or None
    eval_every_s = float(g_cfg.get("evalEveryMinutes", 2.5)) * 60
    eval_every_steps = g_cfg.get("evalEverySteps")
    ckpt_every_s = float(g_cfg.get("checkpointMinutes", 3)) * 60
    last_eval, last_ckpt = time.monotonic(), time.monotonic()
    lrs = (g_cfg["lrG"], g_cfg["lrD"])
    # R1 (Mescheder et al. 2018): gamma/2 * E ||grad_x D(x_real)||^2, lazily every r1Every D steps
    # (scaled by the interval, as in StyleGAN2), so D cannot sharpen into a detector of tiny cues.
    r1_gamma, r1_every = float(g_cfg.get("r1", 0.0)), max(1, int(g_cfg.get("r1Every", 4)))
    # D judges real and counterfactual slices through the same clamp to [-c, c]: pixels the window
    # clipped to exactly +-1 are otherwise a trivial real/fake cue (tanh(P + X) reaches +-1 only as
    # P -> infinity), one the generator can never remove and that lets D win on it alone.
    d_clamp = g_cfg.get("dInputClamp")
    d_in = (lambda t: t.clamp(-float(d_clamp), float(d_clamp))) if d_clamp else (lambda t: t)
    d_updates = step * d_steps  # continues the lazy R1 schedule across --resume

    def sample() -> np.ndarray:
        if balanced:
            h = bs // 2
            return np.concatenate([pos[torch.randint(len(pos), (h,), generator=gen).numpy()],
                                   neg[torch.randint(len(neg), (bs - h,), generator=gen).numpy()]])
        return torch.randint(len(train), (bs,), generator=gen).numpy()

    def payload() -> dict[str, Any]:
        return {
            "model": kind, "benchmark": bench.name, "windowHU": list(bench.window_hu), "size": size,
            "config": cfg, "step": step, "elapsedSeconds": budget.elapsed_s(), "best": best,
            "threads": torch.get_num_threads(), "machine": machine_description(),
            "command": command_line(), "classifierStep": clf_ck.get("step"), "warmup": warmup,
            "state": {"G": G.state_dict(), "D": D.state_dict(), "generator": G_ema.state_dict(),
                      "optG": opt_g.state_dict(), "optD": opt_d.state_dict(), "gen": gen.get_state(),
                      **({"Dlocal": D_local.state_dict()} if D_local is not None else {})},
        }

    def generator_payload() -> dict[str, Any]:
        # best.pt and snapshots keep only the EMA generator, not the resumable training state.
        p_ = payload()
        p_["state"] = {"generator": G_ema.state_dict()}
        return p_

    def evaluate_val() -> None:
        nonlocal best
        if len(val_idx) == 0:
            return
        x = val.x[val_idx]
        x_cf = counterfactuals(G_ema, x, p_val[val_idx], singla)
        gt = val.gt[val_idx]
        scores = {f"{t:.2f}": segmentation_scores(diff_mask(x, x_cf, t), gt)["pooledIoU"] for t in (0.2, mask_thr, 0.3)}
        p_cf = classifier_probs(clf, x_cf)
        cv = counterfactual_validity(p_val[val_idx], p_cf)
        iou = scores[f"{mask_thr:.2f}"]
        # What selects: the paper's mask (default) or the refined one (coin.selection = "refined").
        selection = str(g_cfg.get("selection", "paper"))
        score = iou if selection == "paper" else selection_score(x, x_cf, gt, mask_thr, selection)
        log(f"[val] step={step} t={budget.elapsed_s():.0f}s pooledIoU@{mask_thr}={iou:.4f} "
            f"@0.20={scores['0.20']:.4f} @0.30={scores['0.30']:.4f} cv={cv['cv']:.3f} (n={cv['cvSlices']})"
            + (f" refined={score:.4f}" if selection != "paper" else ""))
        if g_cfg.get("snapshots"):
            # Every evaluated EMA generator, for post-hoc analysis (snapshot ensembles, averaging).
            snap = generator_payload()
            snap["val"] = {"pooledIoU": iou, "sweep": scores, "cv": cv["cv"], "selection": selection, "selectionScore": score}
            save_checkpoint(out / "snapshots" / f"step-{step:06d}.pt", snap)
        if score == score and score > best.get("selectionScore", best["pooledIoU"]):
            best = {"pooledIoU": iou, "step": step, "seconds": budget.elapsed_s(), "sweep": scores, "cv": cv["cv"],
                    "selection": selection, "selectionScore": score}
            save_checkpoint(out / "best.pt", generator_payload())

    G.train(); D.train()
    while not budget.done(step):
        fac = _lr_factor(budget.progress(step), g_cfg.get("lrDecay", {}))
        for opt, lr in ((opt_g, lrs[0]), (opt_d, lrs[1])):
            for group in opt.param_groups:
                group["lr"] = lr * fac
        logs: dict[str, float] = {}
        for i in range(d_steps):
            idx = sample()
            x = torch.from_numpy(train.x[idx]).to(dev)
            p = torch.from_numpy(p_train[idx]).float().to(dev)
            abn = torch.from_numpy(is_abn_all[idx]).to(dev)
            update_g = i == d_steps - 1 and step >= d_warmup
            if singla:
                fb = (p > 0.5).float()
                cond = 1.0 - fb
            else:
                fb = abn.float()
                cond = None
            fake_class = (cond if singla else torch.zeros(bs, device=dev)).long()  # type: ignore[union-attr]
            with torch.set_grad_enabled(update_g):
                if anchored:
                    x_cf, x_anchor = G.with_coarse(x)  # type: ignore[union-attr]
                else:
                    x_cf = G(x, cond)
            if D_local is not None:
                corners = edit_centres(x, x_cf, crop)
                # Real crops: normal-labelled slices of the batch at the same windows, so real and
                # fake crops share one distribution of locations (only the content differs).
                normal_rows = torch.nonzero(fb < 0.5).flatten()
                if len(normal_rows) == 0:
                    normal_rows = torch.arange(bs, device=dev)
                donors = normal_rows[torch.randint(len(normal_rows), (bs,), generator=gen).to(dev)]
                real_local = crop_at(x[donors], corners, crop)
                zeros = torch.zeros(bs, dtype=torch.long, device=dev)
            if update_g:
                G.train()
                adv = adversarial_bce(D(d_in(x_cf), fake_class), real=True)
                adv_local = torch.zeros((), device=dev)
                if D_local is not None:
                    adv_local = adversarial_bce(D_local(d_in(crop_at(x_cf, corners, crop)), zeros), real=True)
                    logs["advLocal"] = adv_local.item()
                # Expectation over transformation: the classifier judges X_cf through a random flip,
                # small affine and noise, so a faint pattern that fools f only on the exact pixel
                # grid does not satisfy the KL term and the generator has to remove the lesion.
                logit_cf = clf(random_affine(x_cf, kl_aug, gen) if kl_aug else x_cf)
                if singla:
                    kl = bernoulli_kl_from_logits(1.0 - p, logit_cf)
                    rec = l1(x, G(x, fb)) + l1(x, G(x_cf, fb))
                    tv = torch.zeros((), device=dev)
                else:
                    target = torch.where(abn, torch.full_like(p, float(g_cfg.get("abnormalTarget", 1e-6))), p)
                    kl = bernoulli_kl_from_logits(target, logit_cf)
                    # Anchored coarse-to-fine: the minimal-change term is the enhancer's departure from the
                    # coarse counterfactual alone; both paper terms (L1 to X, and G(X_cf) back to X)
                    # would only shrink the change the coarse model already made.
                    rec = l1(x_anchor, x_cf) if anchored else l1(x, x_cf) + l1(x, G(x_cf))
                    tv = total_variation_255(x, x_cf)
                loss_g = w["adv"] * (adv + w_local * adv_local) + w["kl"] * kl + w["rec"] * rec + float(w.get("tv", 0.0)) * tv
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                decay = min(ema_decay, (1.0 + step) / (10.0 + step)) if step >= int(ema_cfg.get("startStep", 0)) else 0.0
                _ema_update(G_ema, G, decay)
                logs.update(adv=adv.item(), kl=kl.item(), rec=rec.item(), tv=float(tv.item()), g=loss_g.item())
            do_r1 = r1_gamma > 0 and d_updates % r1_every == 0
            x_real = d_in(x).detach().requires_grad_(do_r1)
            d_real = D(x_real, fb.long())
            d_fake = D(d_in(x_cf.detach()), fake_class)
            loss_d = 0.5 * (adversarial_bce(d_real, real=True) + adversarial_bce(d_fake, real=False))
            if D_local is not None:
                local_real_in = d_in(real_local).detach().requires_grad_(do_r1)
                dl_real = D_local(local_real_in, zeros)
                dl_fake = D_local(d_in(crop_at(x_cf.detach(), corners, crop)), zeros)
                loss_dl = 0.5 * (adversarial_bce(dl_real, real=True) + adversarial_bce(dl_fake, real=False))
                logs["dLocal"] = loss_dl.item()
                loss_d = loss_d + w_local * loss_dl
            if do_r1:
                (grad,) = torch.autograd.grad(d_real.sum(), x_real, create_graph=True)
                r1 = grad.pow(2).flatten(1).sum(1).mean()
                if D_local is not None:
                    (grad_l,) = torch.autograd.grad(dl_real.sum(), local_real_in, create_graph=True)
                    r1 = r1 + grad_l.pow(2).flatten(1).sum(1).mean()
                loss_d = loss_d + 0.5 * r1_gamma * r1_every * r1
                logs["r1"] = r1.item()
            d_updates += 1
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            logs["d"] = loss_d.item()
        step += 1
        if step % int(g_cfg.get("logEverySteps", 10)) == 0 and "adv" not in logs:
            log(f"step={step} t={budget.elapsed_s():.0f}s d={logs['d']:.3f} (discriminator warm-up, {d_warmup} steps)")
        elif step % int(g_cfg.get("logEverySteps", 10)) == 0:
            log(f"step={step} t={budget.elapsed_s():.0f}s d={logs['d']:.3f} adv={logs['adv']:.3f} kl={logs['kl']:.4f} "
                f"rec={logs['rec']:.4f} tv={logs['tv']:.3f} lr={opt_g.param_groups[0]['lr']:.2e}"
                + (f" r1={logs['r1']:.4f}" if "r1" in logs else "")
                + (f" dLocal={logs['dLocal']:.3f} advLocal={logs['advLocal']:.3f}" if "advLocal" in logs else ""))
        due = (eval_every_steps and step % int(eval_every_steps) == 0) or (
            not eval_every_steps and time.monotonic() - last_eval > eval_every_s)
        if due:
            evaluate_val()
            G.train()
            last_eval = time.monotonic()
        if time.monotonic() - last_ckpt > ckpt_every_s:
            save_checkpoint(out / "last.pt", payload())
            last_ckpt = time.monotonic()
    evaluate_val()
    if not (out / "best.pt").is_file():
        # No GT-positive val slice to select on: keep the final EMA weights.
        save_checkpoint(out / "best.pt", generator_payload())
    save_checkpoint(out / "last.pt", payload())
    ens_cfg = g_cfg.get("ensemble")
    if ens_cfg and g_cfg.get("snapshots") and len(val_idx):
        # Replace the single selected checkpoint by a val-chosen snapshot ensemble (ensemble.py).
        from .ensemble import build_ensemble

        build_ensemble(kind, bench, cfg, runs_root, ens_cfg.get("top", "auto"), ens_cfg.get("flip", "auto"),
                       ens_cfg.get("maxTop"))
    log(f"{kind} done: {step} generator steps, {budget.elapsed_s():.0f} s; selected step {best.get('step')} "
        f"val pooled IoU {best['pooledIoU']:.4f}")
    return best
