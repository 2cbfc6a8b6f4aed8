"""Command line: ``python3 -m coinseg_train <command> --benchmark <name> [--preset cpu] ...``.

Commands: train-classifier, train-coin, train-singla, train-inpainter, inpaint-refine, ensemble, evaluate, export, restore-classifier,
restore-generator, probe-classifier, calibrate-refinement, pack-cache, unpack-cache. Exit status 0 on
success, 2 on a coded error (printed as ``error <CODE>: <message>``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .config import generator_size, load_config
from .data import load_benchmark
from .errors import TrainError
from .runtime import REPO_ROOT, default_data_dir, load_checkpoint, log, set_device


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python3 -m coinseg_train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("train-classifier", "train-coin", "train-singla", "train-inpainter", "inpaint-refine", "ensemble", "evaluate", "export", "restore-classifier",
                 "restore-generator", "probe-classifier", "calibrate-refinement", "pack-cache", "unpack-cache"):
        p = sub.add_parser(name)
        p.add_argument("--benchmark", required=True, help="kidney-blob | kidney-lesion (or any benchmark name)")
        p.add_argument("--preset", default="cpu", help="preset name in training/configs/ or a JSON path (default cpu)")
        p.add_argument("--data", type=Path, help="benchmark directory (default <repo>/data/<benchmark>)")
        p.add_argument("--runs", type=Path, default=REPO_ROOT / "runs", help="runs root (default <repo>/runs)")
        p.add_argument("--threads", type=int, help="torch threads (default: preset, 2 for cpu)")
        p.add_argument("--device", default="auto", help="cpu | cuda | cuda:N | auto (default: CUDA if available)")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a preset value, e.g. --set coin.minutes=30 (repeatable)")
        if name.startswith("train-"):
            p.add_argument("--minutes", type=float, help="time budget in minutes (total, counting resumed runs)")
            p.add_argument("--steps", type=int, help="maximum steps (generator steps for GANs)")
            p.add_argument("--resume", action="store_true", help="continue from <runs>/<benchmark>/<model>/last.pt")
        if name == "train-inpainter":
            p.add_argument("--init", type=Path, help="start from this inpainter checkpoint's weights (e.g. one "
                                                     "restore-generator wrote); a new run, not a resume")
        if name in ("evaluate", "export"):
            p.add_argument("--model", required=True, choices=["classifier", "coin", "singla"])
        if name == "ensemble":
            p.add_argument("--model", required=True, choices=["coin", "singla"])
            p.add_argument("--top", default="auto", help="snapshots to average, or auto (chosen on val; default)")
            p.add_argument("--max-top", type=int, help="with --top auto: at most this many members")
            p.add_argument("--flip", default="auto", choices=["auto", "on", "off"],
                           help="also average each member on the mirrored slice (auto: chosen on val)")
        if name == "evaluate":
            p.add_argument("--split", default="test", choices=["train", "val", "test"])
            p.add_argument("--checkpoint", default="best", choices=["best", "best-single", "last"])
            p.add_argument("--onnx", type=Path,
                           help="evaluate this exported generator (ONNX) instead of a checkpoint, e.g. "
                                "models/kidney-blob-coin/model.onnx")
            p.add_argument("--refine-low", type=float,
                           help="also score the refined mask (hysteresis down to this threshold, then the largest "
                                "region); default with --onnx: the model.json's thresholds.hysteresis")
        if name in ("restore-generator", "calibrate-refinement"):
            p.add_argument("--model", required=True, choices=["coin", "singla"])
        if name == "calibrate-refinement":
            p.add_argument("--split", default="val", choices=["train", "val"])
            p.add_argument("--dry-run", action="store_true", help="print the sweep; leave model.json as it is")
        if name in ("restore-classifier", "restore-generator", "calibrate-refinement"):
            p.add_argument("--models", type=Path, default=REPO_ROOT / "models",
                           help="models root holding <benchmark>-classifier (default <repo>/models)")
        if name == "probe-classifier":
            p.add_argument("--split", default="val", choices=["train", "val", "test"])
            p.add_argument("--counterfactual", type=Path,
                           help="an exported generator (ONNX, X -> X_cf) whose counterfactuals to probe too")
        if name == "pack-cache":
            p.add_argument("--out", type=Path, required=True, help="the pack to write (.npz.xz)")
            p.add_argument("--splits", default="train,val", help="comma-separated splits (default train,val)")
            p.add_argument("--no-clean", action="store_true",
                           help="leave out the clean slices (evaluation only; NaN after unpacking)")
        if name == "unpack-cache":
            p.add_argument("--in", dest="pack", type=Path, required=True, help="a pack written by pack-cache")
        if name == "export":
            p.add_argument("--out", type=Path, default=REPO_ROOT / "models", help="models root (default <repo>/models)")
            p.add_argument("--command", dest="train_command", help="training command recorded in model.json")
    return ap


def _eval_size(cfg: dict, model: str, onnx: Path | None, best: Path | None = None) -> int:
    """The side a model is evaluated at: an exported generator's own (its model.json beside it), an
    inpainted checkpoint's (``best``: inpaint-refine fixed its grid), else the preset's for that model
    (``<model>.size`` for a generator trained above the classifier's size)."""
    card = onnx.parent / "model.json" if onnx is not None else None
    if card is not None and card.is_file():
        import json

        return int(json.loads(card.read_text())["preprocess"]["size"][0])
    if onnx is None and best is not None and model == "coin" and best.is_file():
        ck = load_checkpoint(best, model)
        if isinstance(ck.get("inpaint"), dict):
            return int(ck["size"])
    return generator_size(cfg, model)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise TrainError("USAGE", f"--top must be a positive integer or auto, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    args = _parser().parse_args(argv)
    try:
        cfg = load_config(args.preset, args.set)
        torch.set_num_threads(args.threads or cfg["threads"])
        set_device(args.device)
        if args.command == "restore-classifier":
            from .restore import restore_classifier

            restore_classifier(args.benchmark, cfg, args.runs, args.models)
            return 0
        if args.command == "restore-generator":
            from .restore import restore_generator

            restore_generator(args.benchmark, args.model, cfg, args.runs, args.models)
            return 0
        if args.command == "unpack-cache":
            from .cache_pack import unpack_cache

            got = unpack_cache(args.pack, args.data or default_data_dir(args.benchmark))
            if got["benchmark"] != args.benchmark:
                log(f"note: the pack holds benchmark {got['benchmark']!r}")
            return 0
        bench = load_benchmark(args.data or default_data_dir(args.benchmark))
        if bench.name != args.benchmark:
            log(f"note: dataset.json names the benchmark {bench.name!r}; using that name for runs/models")
        if args.command == "train-classifier":
            from .train_classifier import train_classifier

            train_classifier(bench, cfg, args.runs, args.resume, args.minutes, args.steps)
        elif args.command in ("train-coin", "train-singla"):
            from .train_gan import train_gan

            train_gan(args.command.split("-")[1], bench, cfg, args.runs, args.resume, args.minutes, args.steps)
        elif args.command == "train-inpainter":
            from .train_inpainter import train_inpainter

            train_inpainter(bench, cfg, args.runs, args.resume, args.minutes, args.steps, args.init)
        elif args.command == "inpaint-refine":
            from .inpaint_refine import inpaint_refine

            inpaint_refine(bench, cfg, args.runs)
        elif args.command == "ensemble":
            from .ensemble import build_ensemble

            build_ensemble(args.model, bench, cfg, args.runs, args.top if args.top == "auto" else _positive_int(args.top),
                           {"auto": "auto", "on": True, "off": False}[args.flip], args.max_top)
        elif args.command == "evaluate":
            from .evaluate import evaluate_model

            best = args.runs / bench.name / args.model / "best.pt" if args.checkpoint == "best" else None
            evaluate_model(args.model, bench, _eval_size(cfg, args.model, args.onnx, best), args.runs, args.split,
                           float(cfg.get("thresholds", {}).get("mask", 0.25)), args.checkpoint, args.onnx,
                           args.refine_low)
        elif args.command == "probe-classifier":
            from .probe import probe_classifier

            probe_classifier(bench, cfg, args.runs, args.split, args.counterfactual)
        elif args.command == "calibrate-refinement":
            from .calibrate import calibrate_refinement

            calibrate_refinement(args.model, bench, args.models, args.split, write=not args.dry_run)
        elif args.command == "pack-cache":
            from .cache_pack import pack_cache

            pack_cache(bench, cfg["size"], [s for s in args.splits.split(",") if s], args.out, clean=not args.no_clean)
        elif args.command == "export":
            from .export import export_model

            export_model(args.model, bench, cfg, args.runs, args.out, args.train_command)
    except TrainError as exc:
        print(f"error {exc.code}: {exc.message}", file=sys.stderr, flush=True)
        return 2
    return 0
