"""Trains the masked inpainter (nets/inpainter.py) on the benchmark's normal-labelled train slices (the
image-level label only; no masks): random elliptical holes centred near non-clipped tissue, L1 inside the
hole. Selection by the val split's hole L1 on fixed holes (normal val slices). Experimental: the COIN
counterfactual with its change region refilled by this inpainter is measured in training/README.md."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import Benchmark, load_split
from .errors import TrainError
from .nets.inpainter import Inpainter
from .runtime import (Budget, command_line, device, load_checkpoint, log, machine_description, run_dir,
                      save_checkpoint, seed_everything)


def random_holes(x: torch.Tensor, cfg: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
    """``[B, 1, S, S]`` holes (1 inside): per slice ``count`` ellipses (uniform in [min, max]) with semi-axes
    U(radius) pixels at the model size, rotated at random, centred on a random pixel above ``tissueAbove``
    (the window's non-clipped tissue) moved by up to ``jitter`` pixels, so holes straddle organ edges."""
    b, _, h, w = x.shape
    holes = torch.zeros(b, 1, h, w, device=x.device)
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=x.device),
                            torch.arange(w, dtype=torch.float32, device=x.device), indexing="ij")
    r_lo, r_hi = (float(v) for v in cfg["radius"])
    c_lo, c_hi = (int(v) for v in cfg["count"])
    jitter = int(cfg.get("jitter", 4))
    rand = lambda: float(torch.rand((), generator=gen))  # noqa: E731
    for i in range(b):
        candidates = torch.nonzero(x[i, 0] > float(cfg.get("tissueAbove", -0.5)))
        if len(candidates) == 0:
            continue
        for _ in range(c_lo + int(rand() * (c_hi - c_lo + 1))):
            cy, cx = candidates[int(rand() * len(candidates))].tolist()
            cy += round((2 * rand() - 1) * jitter)
            cx += round((2 * rand() - 1) * jitter)
            a, c = r_lo + rand() * (r_hi - r_lo), r_lo + rand() * (r_hi - r_lo)
            th = rand() * math.pi
            dy, dx = yy - cy, xx - cx
            u, v = dx * math.cos(th) + dy * math.sin(th), -dx * math.sin(th) + dy * math.cos(th)
            holes[i, 0] = torch.maximum(holes[i, 0], ((u / a) ** 2 + (v / c) ** 2 <= 1).float())
    return holes


def hole_l1(x: torch.Tensor, filled: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    return ((filled - x).abs() * holes).sum() / holes.sum().clamp(min=1.0)


def load_inpainter(path: Path) -> tuple[Inpainter, dict[str, Any]]:
    """The selected inpainter of a checkpoint, in eval mode. Raises TrainError(CHECKPOINT_*)."""
    ck = load_checkpoint(path, "inpainter")
    net = Inpainter.from_config(ck["config"]["inpainter"])
    net.load_state_dict(ck["state"]["net"])
    return net.to(device()).eval(), ck


def train_inpainter(bench: Benchmark, cfg: dict[str, Any], runs_root: Path, resume: bool = False,
                    minutes: float | None = None, max_steps: int | None = None, init: Path | None = None) -> dict[str, Any]:
    """Train (or resume) ``<runs>/<benchmark>/inpainter/{last,best}.pt``; returns the best val hole L1.
    ``init``: start from that inpainter checkpoint's weights (same widths; a fresh optimiser and schedule),
    scored on val before the first step so that it stays the selection when training does not beat it.
    Raises TrainError(DATA_INVALID) when a split has no normal-labelled slice, TrainError(USAGE) for
    ``init`` with ``resume``, TrainError(CHECKPOINT_*) for an unreadable ``init`` or one of other widths."""
    if init is not None and resume:
        raise TrainError("USAGE", "--init starts a new run; it cannot be combined with --resume")
    c = cfg["inpainter"]
    size = int(cfg["size"])
    out = run_dir(runs_root, bench.name, "inpainter")
    seed_everything(cfg["seed"])
    train, val = load_split(bench, "train", size), load_split(bench, "val", size)
    x_train = torch.from_numpy(train.x[train.label == 0])
    x_val = torch.from_numpy(val.x[val.label == 0][: int(c.get("valMaxSlices", 200))])
    if len(x_train) == 0 or len(x_val) == 0:
        raise TrainError("DATA_INVALID", "the inpainter trains and selects on normal-labelled slices; a split has none")
    dev = device()
    net = Inpainter.from_config(c).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=float(c["lr"]))
    gen = torch.Generator().manual_seed(cfg["seed"] + 7)
    val_holes = random_holes(x_val, c["holes"], torch.Generator().manual_seed(cfg["seed"] + 8)).to(dev)
    x_val = x_val.to(dev)
    step, elapsed, best = 0, 0.0, {"valHoleL1": math.inf}
    if resume and (out / "last.pt").is_file():
        ck = load_checkpoint(out / "last.pt", "inpainter")
        net.load_state_dict(ck["state"]["net"]); opt.load_state_dict(ck["state"]["opt"]); gen.set_state(ck["state"]["gen"])
        step, elapsed, best = ck["step"], ck["elapsedSeconds"], ck["best"]
        log(f"resumed at step {step} ({elapsed:.0f} s), best val hole L1 {best['valHoleL1']:.4f}")
    init_from = None
    if init is not None:
        start = load_checkpoint(init, "inpainter")
        if [int(w) for w in start["config"]["inpainter"]["widths"]] != [int(w) for w in c["widths"]]:
            raise TrainError("CHECKPOINT_INVALID", f"{init} has widths {start['config']['inpainter']['widths']}, "
                                                   f"the config {c['widths']}")
        net.load_state_dict(start["state"]["net"])
        init_from = {"path": str(init), "step": start.get("step"), "command": start.get("command")}
        log(f"starting from {init} (its step {start.get('step')})")
    budget = Budget(c["minutes"] if minutes is None else minutes, c.get("maxSteps") if max_steps is None else max_steps, elapsed)

    def payload(state: dict[str, Any]) -> dict[str, Any]:
        return {"model": "inpainter", "benchmark": bench.name, "windowHU": list(bench.window_hu), "size": size,
                "config": cfg, "step": step, "elapsedSeconds": budget.elapsed_s(), "best": best,
                "threads": torch.get_num_threads(), "machine": machine_description(), "command": command_line(),
                **({"initFrom": init_from} if init_from else {}), "state": state}

    def evaluate() -> None:
        nonlocal best
        net.eval()
        with torch.no_grad():
            filled = torch.cat([net(x_val[i:i + 64], val_holes[i:i + 64]) for i in range(0, len(x_val), 64)])
            l1 = float(hole_l1(x_val, filled, val_holes))
        net.train()
        log(f"[val] step={step} t={budget.elapsed_s():.0f}s holeL1={l1:.4f} ({len(x_val)} normal slices)")
        if l1 < best["valHoleL1"]:
            best = {"valHoleL1": l1, "step": step, "seconds": budget.elapsed_s()}
            save_checkpoint(out / "best.pt", payload({"net": net.state_dict()}))

    bs, every = int(c["batchSize"]), int(c.get("evalEverySteps", 250))
    if init_from is not None:
        evaluate()  # the starting weights are a candidate too
    net.train()
    lr0 = float(c["lr"])
    lr_final = float(c.get("lrFinal", lr0))  # cosine from lr to lrFinal over the budget (time or steps)
    while not budget.done(step):
        for group in opt.param_groups:
            group["lr"] = lr_final + 0.5 * (lr0 - lr_final) * (1.0 + math.cos(math.pi * budget.progress(step)))
        idx = torch.randint(len(x_train), (bs,), generator=gen)
        x = x_train[idx]
        if float(torch.rand((), generator=gen)) < 0.5:
            x = torch.flip(x, dims=[3])
        x = x.to(dev)
        holes = random_holes(x, c["holes"], gen)
        loss = hole_l1(x, net(x, holes), holes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % int(c.get("logEverySteps", 50)) == 0:
            log(f"step={step} t={budget.elapsed_s():.0f}s holeL1={loss.item():.4f} lr={opt.param_groups[0]['lr']:.2e}")
        if step % every == 0:
            evaluate()
            save_checkpoint(out / "last.pt", payload({"net": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state()}))
    evaluate()
    save_checkpoint(out / "last.pt", payload({"net": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state()}))
    log(f"inpainter done: {step} steps, {budget.elapsed_s():.0f} s; selected step {best['step']} val hole L1 {best['valHoleL1']:.4f}")
    return best
