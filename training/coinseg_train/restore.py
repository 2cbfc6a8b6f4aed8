"""Rebuild a classifier checkpoint from a committed ONNX export (``models/<benchmark>-classifier``).

Training a generator needs ``runs/<benchmark>/classifier/best.pt``, and ``runs/`` is not committed.
Retraining the classifier would give a different one (the budget is wall-clock), and every committed
generator and baseline row is paired with the committed classifier, so this command restores the
exact committed classifier instead: the exporter folded each batch norm into the convolution before
it (``W' = W·γ/√(σ²+ε)``, ``b' = β − μ·γ/√(σ²+ε)``), and we load ``W'`` into the conv and set the batch
norm to the identity plus ``b'`` (γ = 1, β = b', μ = 0, σ² = 1 − ε). That is the same function in
eval mode, which is how the frozen classifier is always used. The result is checked against the
model card's PyTorch golden outputs and refused with PARITY_FAILED beyond 1e-4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .errors import TrainError
from .nets.classifier import Classifier
from .runtime import REPO_ROOT, log, run_dir, save_checkpoint

TOLERANCE = 1e-4


def _onnx_convs(model_path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Conv (weight, bias) pairs in graph order, and the final Gemm's weight and bias."""
    import onnx
    from onnx import numpy_helper

    try:
        proto = onnx.load(str(model_path))
    except Exception as exc:  # onnx raises DecodeError and friends on a corrupt file
        raise TrainError("CHECKPOINT_INVALID", f"{model_path}: {exc}") from exc
    init = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    convs: list[tuple[np.ndarray, np.ndarray]] = []
    gemm: tuple[np.ndarray, np.ndarray] | None = None
    for node in proto.graph.node:
        if node.op_type == "Conv":
            if len(node.input) < 3 or node.input[1] not in init or node.input[2] not in init:
                raise TrainError("CHECKPOINT_INVALID", f"{model_path}: conv {node.name} has no folded weight and bias")
            convs.append((init[node.input[1]], init[node.input[2]]))
        elif node.op_type == "Gemm":
            gemm = (init[node.input[1]], init[node.input[2]])
    if gemm is None:
        raise TrainError("CHECKPOINT_INVALID", f"{model_path}: no linear head (Gemm) in the graph")
    return convs, gemm[0], gemm[1]


def _conv_bn_in_execution_order(model: Classifier, size: int) -> list[tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """Each Conv2d with the batch norm registered right after it, in the order forward() runs them
    (which is the order the exporter traced them into the graph)."""
    modules = list(model.modules())
    bn_after: dict[int, nn.BatchNorm2d] = {}
    for i, m in enumerate(modules):
        if isinstance(m, nn.Conv2d):
            nxt = next((n for n in modules[i + 1:] if isinstance(n, (nn.BatchNorm2d, nn.Conv2d))), None)
            if not isinstance(nxt, nn.BatchNorm2d):
                raise TrainError("CHECKPOINT_INVALID", "classifier conv without a batch norm after it")
            bn_after[id(m)] = nxt
    order: list[nn.Conv2d] = []
    hooks = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod))
             for m in modules if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 1, size, size))
    for h in hooks:
        h.remove()
    return [(c, bn_after[id(c)]) for c in order]


def restore_classifier(benchmark: str, cfg: dict[str, Any], runs_root: Path, models_root: Path | None = None) -> Path:
    """Write ``<runs>/<benchmark>/classifier/best.pt`` from ``<models>/<benchmark>-classifier``.

    Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | PARITY_FAILED)."""
    d = (models_root or REPO_ROOT / "models") / f"{benchmark}-classifier"
    card_path, onnx_path = d / "model.json", d / "model.onnx"
    if not card_path.is_file() or not onnx_path.is_file():
        raise TrainError("CHECKPOINT_NOT_FOUND", f"no committed classifier in {d}")
    card = json.loads(card_path.read_text())
    section = card["training"]["config"]
    size = int(card["preprocess"]["size"][0])
    model = Classifier.from_config(section)
    convs, fc_w, fc_b = _onnx_convs(onnx_path)
    pairs = _conv_bn_in_execution_order(model, size)
    if len(pairs) != len(convs):
        raise TrainError("CHECKPOINT_INVALID", f"{onnx_path}: {len(convs)} convolutions, the config builds {len(pairs)}")
    with torch.no_grad():
        for (conv, bn), (w, b) in zip(pairs, convs):
            if tuple(conv.weight.shape) != w.shape:
                raise TrainError("CHECKPOINT_INVALID", f"{onnx_path}: conv weight {w.shape} where the config has "
                                                       f"{tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(np.array(w)))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(np.array(b)))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        model.fc.weight.copy_(torch.from_numpy(np.array(fc_w)).reshape(model.fc.weight.shape))
        model.fc.bias.copy_(torch.from_numpy(np.array(fc_b)).reshape(model.fc.bias.shape))
    model.eval()
    golden = card["golden"]
    read = lambda e: np.fromfile(d / e["file"], dtype="<f4").reshape(e["shape"])  # noqa: E731
    x = torch.from_numpy(read(golden["inputs"]["x"]))
    with torch.no_grad():
        logit = model(x).numpy()
        acts = model.activations(x).numpy()
    diff = max(float(np.abs(logit - read(golden["torchOutputs"]["logit"])).max()),
               float(np.abs(acts - read(golden["torchOutputs"]["activations"])).max()))
    if not diff <= TOLERANCE:
        raise TrainError("PARITY_FAILED", f"restored classifier differs from {d.name}'s golden outputs by {diff:.3g}")
    full_cfg = {**cfg, "classifier": section}
    out = run_dir(runs_root, benchmark, "classifier") / "best.pt"
    save_checkpoint(out, {
        "model": "classifier", "benchmark": benchmark, "windowHU": card["preprocess"]["windowHU"], "size": size,
        "config": full_cfg, "step": int(card["training"]["selectedStep"]),
        "elapsedSeconds": float(card["training"]["wallClockSeconds"]),
        "best": {"step": int(card["training"]["selectedStep"]), "val": card.get("metrics", {})},
        "command": card["training"]["command"], "restoredFrom": {"model": d.name, "sha256": card["sha256"]},
        "state": {"net": model.state_dict()},
    })
    log(f"restored {d.name} into {out}: max |d| {diff:.3g} against its PyTorch golden outputs")
    return out
