"""Exports a trained model to ``models/<benchmark>-<role>/`` per docs/MODEL-SPEC.md: model.onnx
(opset 17, single file, dynamic batch), model.json and golden tensors (ONNX Runtime == PyTorch)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from .config import generator_size
from .data import Benchmark, golden_indices, load_split
from .errors import TrainError
from .evaluate import evaluate_model
from .nets.classifier import ClassifierExport
from .runtime import REPO_ROOT, git_commit, json_safe, load_checkpoint, log, run_dir
from .train_classifier import classifier_probs, load_classifier
from .train_gan import load_generator

#: Maximum |ONNX Runtime - PyTorch| accepted on the golden tensors.
PARITY_TOLERANCE = 1e-4
OPSET = 17
KINDS = {"classifier": "CLASSIFIER", "coin": "COIN_GENERATOR", "singla": "SINGLA_GENERATOR"}


def bake_spectral_norm(module: nn.Module) -> nn.Module:
    """Replace every parametrization (spectral norm) by its current plain weight, in place."""
    for m in module.modules():
        if parametrize.is_parametrized(m):
            for name in list(m.parametrizations.keys()):  # type: ignore[union-attr]
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
    return module


class _SinglaExport(nn.Module):
    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g = g

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.g(x, condition)


class _CoinExport(nn.Module):
    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g = g

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.g(x)


def export_onnx(module: nn.Module, inputs: dict[str, torch.Tensor], output_names: list[str], path: Path) -> None:
    """torch.onnx.export (TorchScript exporter: it writes opset 17 directly, whereas the dynamo
    exporter of torch 2.13 emits opset 18 and fails to down-convert), single file, dynamic batch."""
    module.eval()
    dyn = {name: {0: "batch"} for name in [*inputs.keys(), *output_names]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, tuple(inputs.values()), str(path), dynamo=False, opset_version=OPSET,
            input_names=list(inputs.keys()), output_names=output_names, dynamic_axes=dyn,
            do_constant_folding=True,
        )


def check_parity(path: Path, module: nn.Module, inputs: dict[str, torch.Tensor], output_names: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    """Run ONNX Runtime (CPU) and PyTorch on ``inputs``; returns (ort outputs, torch outputs, max |d|).
    Raises TrainError(PARITY_FAILED) above :data:`PARITY_TOLERANCE`."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ort_out = sess.run(output_names, {k: v.numpy() for k, v in inputs.items()})
    with torch.no_grad():
        t_out = module(*inputs.values())
    if isinstance(t_out, torch.Tensor):
        t_out = (t_out,)
    ort_map = {n: np.asarray(o, dtype=np.float32) for n, o in zip(output_names, ort_out)}
    t_map = {n: o.numpy().astype(np.float32) for n, o in zip(output_names, t_out)}
    diff = max(float(np.abs(ort_map[n] - t_map[n]).max()) for n in output_names)
    if not diff <= PARITY_TOLERANCE:
        raise TrainError("PARITY_FAILED", f"{path}: max |ORT - torch| = {diff:.3g} > {PARITY_TOLERANCE}")
    return ort_map, t_map, diff


def _write_bin(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.ascontiguousarray(arr, dtype="<f4").tobytes())


def _committed_sha256(models_root: Path, key: str) -> str | None:
    """The sha256 in ``<models>/<key>/model.json``, or None when there is no such card."""
    card = models_root / key / "model.json"
    return str(json.loads(card.read_text())["sha256"]) if card.is_file() else None


def export_model(kind: str, bench: Benchmark, cfg: dict[str, Any], runs_root: Path, models_root: Path | None = None,
                 training_command: str | None = None) -> Path:
    """Export ``kind`` of ``bench`` (selected checkpoint ``best.pt``) to ``<models>/<benchmark>-<kind>/``.

    Evaluates it on the test split first (metrics go into model.json). Returns the model directory.
    Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | PARITY_FAILED | DATA_*)."""
    if kind not in KINDS:
        raise TrainError("USAGE", f"unknown model {kind!r}")
    models_root = models_root or (REPO_ROOT / "models")
    key = f"{bench.name}-{kind}"
    out = models_root / key
    out.mkdir(parents=True, exist_ok=True)
    size = generator_size(cfg, kind)  # a generator may work above the classifier's size (config.generator_size)
    if kind != "classifier":
        # A generator serves the grid its checkpoint says (inpaint-refine may serve it above its training size).
        size = int(load_checkpoint(run_dir(runs_root, bench.name, kind) / "best.pt", kind).get("size") or size)
    clf, clf_ck = load_classifier(run_dir(runs_root, bench.name, "classifier") / "best.pt", size)
    report = evaluate_model(kind, bench, size, runs_root, "test", float(cfg.get("thresholds", {}).get("mask", 0.25)))
    test = load_split(bench, "test", size)
    gi = golden_indices(test)
    x = torch.from_numpy(np.ascontiguousarray(test.x[gi]))
    last_ck: dict[str, Any]
    if kind == "classifier":
        module: nn.Module = ClassifierExport(bake_spectral_norm(clf))
        inputs = {"x": x}
        names = ["logit", "activations", "activations_grad"]
        ck = clf_ck
        metrics = report["classifier"]
    else:
        g, ck = load_generator(run_dir(runs_root, bench.name, kind) / "best.pt", kind)
        bake_spectral_norm(g)
        names = ["x_cf"]
        if kind == "singla":
            p = classifier_probs(clf, test.x[gi])
            cond = torch.from_numpy((1.0 - (p > 0.5)).astype(np.float32))
            module, inputs = _SinglaExport(g), {"x": x, "condition": cond}
        else:
            module, inputs = _CoinExport(g), {"x": x}
        rows = report["rows"]
        m = rows[kind.upper()]
        metrics = {
            "pooledIoU": m["pooledIoU"], "pooledDice": m["pooledDice"], "meanIoU": m["meanIoU"], "sdIoU": m["sdIoU"],
            "meanDice": m["meanDice"], "sdDice": m["sdDice"], "cv": m["cv"], "flipRate": m["flipRate"],
            "pooledIoUCleanup": rows[f"{kind.upper()}+cleanup"]["pooledIoU"],
            "normalSlicesWithMask": m["normalSlicesWithMask"], "sweep": m["sweep"],
            "recallByTissue": m["recallByTissue"],
            "oraclePooledIoU": rows["ORACLE"]["pooledIoU"], "oracleSweep": rows["ORACLE"]["sweep"],
            "gtPositiveSlices": report["gtPositiveSlices"], "split": "test",
            "selection": "checkpoint with the best pooled IoU at the mask threshold on the VAL split "
                         "(val ground-truth masks used for model selection only; training used image-level labels)",
            "selectedStep": ck.get("step"),
        }
    module.cpu().eval()
    inputs = {k: v.cpu() for k, v in inputs.items()}
    onnx_path = out / "model.onnx"
    export_onnx(module, inputs, names, onnx_path)
    ort_map, t_map, diff = check_parity(onnx_path, module, inputs, names)
    log(f"export {key}: ONNX Runtime vs PyTorch max |d| = {diff:.3g} on {len(gi)} golden slices")
    golden: dict[str, Any] = {"inputs": {}, "outputs": {}, "torchOutputs": {}, "maxAbsDiff": diff,
                              "slices": [{"scanId": test.scan_ids[i], "sliceIndex": int(test.slice_index[i]),
                                          "label": int(test.label[i])} for i in gi]}
    for name, t in inputs.items():
        _write_bin(out / "golden" / f"{name}.bin", t.numpy())
        golden["inputs"][name] = {"file": f"golden/{name}.bin", "shape": list(t.shape)}
    for name in names:
        _write_bin(out / "golden" / f"{name}.bin", ort_map[name])
        _write_bin(out / "golden" / f"{name}.torch.bin", t_map[name])
        golden["outputs"][name] = {"file": f"golden/{name}.bin", "shape": list(ort_map[name].shape)}
        golden["torchOutputs"][name] = {"file": f"golden/{name}.torch.bin", "shape": list(t_map[name].shape)}
    blob = onnx_path.read_bytes()
    try:
        last_ck = torch.load(run_dir(runs_root, bench.name, kind) / "last.pt", map_location="cpu", weights_only=False)
    except (OSError, RuntimeError):
        # No last.pt: a restored checkpoint carries its training run's record (restore-generator).
        trained = ck.get("trained") or {}
        last_ck = {**ck, **({"elapsedSeconds": trained["wallClockSeconds"], "step": trained["steps"],
                             "machine": trained.get("machine")} if trained.get("wallClockSeconds") is not None else {})}
    input_specs = [{"name": "x", "shape": [-1, 1, size, size], "dtype": "float32"}]
    if kind == "singla":
        input_specs.append({"name": "condition", "shape": [-1], "dtype": "float32"})
    if kind == "classifier":
        a = ort_map["activations"]
        output_specs = [{"name": "logit", "shape": [-1, 1]},
                        {"name": "activations", "shape": [-1, *a.shape[1:]]},
                        {"name": "activations_grad", "shape": [-1, *a.shape[1:]]}]
    else:
        output_specs = [{"name": "x_cf", "shape": [-1, 1, size, size]}]
    # A generator's card keeps the section it was trained with (a coarse-to-fine generator's is filled
    # from its coarse checkpoint at training time), so that restore-generator can rebuild it.
    section = cfg["classifier"] if kind == "classifier" else ck.get("config", {}).get(kind, cfg[kind])
    spec: dict[str, Any] = {
        "key": key,
        "kind": KINDS[kind],
        "version": "1",
        "benchmark": bench.name,
        **({} if kind == "classifier" else {"classifierKey": f"{bench.name}-classifier"}),
        "file": "model.onnx",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "bytes": len(blob),
        "parameters": int(sum(p.numel() for p in module.parameters())),
        "opset": OPSET,
        "inputs": input_specs,
        "outputs": output_specs,
        "preprocess": {"windowHU": list(bench.window_hu), "size": [size, size], "resize": "bilinear-half-pixel"},
        **({"targetLayer": {"name": "layer4", "shape": list(ort_map["activations"].shape[1:]),
                            "gradient": "activations_grad = d logit / d activations = w_k / (h*w), exact for GAP + linear"}}
           if kind == "classifier" else {}),
        "thresholds": {"mask": float(cfg.get("thresholds", {}).get("mask", 0.25)), "saliency": 0.975, "abnormal": 0.5, "cvTau": 0.8},
        "training": {
            "command": training_command or f"npm run train -- {bench.name} {kind}",
            "preset": cfg["name"],
            "gitCommit": git_commit(),
            "wallClockSeconds": round(float(last_ck.get("elapsedSeconds", ck.get("elapsedSeconds", 0.0))), 1),
            "selectedAtSeconds": round(float(ck.get("elapsedSeconds", 0.0)), 1),
            "steps": int(last_ck.get("step", ck.get("step", 0))),
            "selectedStep": int(ck.get("step", 0)),
            "seed": cfg["seed"],
            # The training run's thread count (from its checkpoint), not the exporter's.
            # Recorded by the training run (checkpoints from before that: described from here).
            "machine": last_ck.get("machine") or ck.get("machine")
            or f"{platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}, "
               f"{int(last_ck.get('threads', ck.get('threads', torch.get_num_threads())))} threads",
            "config": section,
            # How the exported graph is built from `config`'s generator (ensemble.py): members and mirror.
            **({"ensemble": {"members": len(ck["ensemble"]["steps"]), "flip": bool(ck["ensemble"]["flip"]),
                             "steps": [int(v) for v in ck["ensemble"]["steps"]]}}
               if isinstance(ck.get("ensemble"), dict) else {}),
            # inpaint-refine: the generator's change region refilled by the inpainter (nets/inpainter.py).
            **({"inpaint": {k: ck["inpaint"].get(k) for k in (
                "threshold", "dilate", "component", "regions", "flip", "regenerate", "factor", "baseSize", "valPooledIoU", "valCV",
                "baseValPooledIoU", "baseValCV", "minCV",
                "inpainter", "inpainterStep", "inpainterSeconds", "inpainterMachine", "inpainterCommand", "command")}}
               if isinstance(ck.get("inpaint"), dict) else {}),
            # The frozen classifier inside the graph when it chooses the hole's region (inpaint.regions > 1):
            # restore-generator takes its weights from this committed classifier, whose sha256 it checks.
            **({"judge": {"classifierKey": f"{bench.name}-classifier", "sha256": _committed_sha256(models_root, f"{bench.name}-classifier"),
                          "config": ck["judge"]["classifier"], "size": int(ck["judge"]["size"])}}
               if isinstance(ck.get("judge"), dict) else {}),
            "dataset": {k: bench.card.get(k) for k in ("benchmark", "generatorVersion", "seed", "scans", "windowHU")},
        },
        "metrics": metrics,
        "golden": golden,
    }
    (out / "model.json").write_text(json.dumps(json_safe(spec), indent=2, allow_nan=False) + "\n")
    log(f"exported {key}: {len(blob) / 1e6:.2f} MB, sha256 {spec['sha256'][:12]}…")
    return out
