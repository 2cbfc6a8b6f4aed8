"""Rebuild a classifier checkpoint from a committed ONNX export (``models/<benchmark>-classifier``), and
a generator checkpoint from ``models/<benchmark>-coin`` / ``-singla`` (``restore_generator``).

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


def _committed(models_root: Path | None, key: str, what: str) -> tuple[Path, dict[str, Any]]:
    """``<models>/<key>`` and its parsed card; TrainError(CHECKPOINT_NOT_FOUND) without card or graph."""
    d = (models_root or REPO_ROOT / "models") / key
    if not (d / "model.json").is_file() or not (d / "model.onnx").is_file():
        raise TrainError("CHECKPOINT_NOT_FOUND", f"no committed {what} in {d}")
    return d, json.loads((d / "model.json").read_text())


def _classifier_from_committed(d: Path, card: dict[str, Any]) -> tuple[Classifier, float]:
    """The classifier of the committed ``d`` (its card ``card``), weights read back from its ONNX graph, and its
    largest difference from the card's PyTorch golden outputs. Raises TrainError(CHECKPOINT_INVALID |
    PARITY_FAILED)."""
    onnx_path = d / "model.onnx"
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
    return model, diff


def restore_classifier(benchmark: str, cfg: dict[str, Any], runs_root: Path, models_root: Path | None = None) -> Path:
    """Write ``<runs>/<benchmark>/classifier/best.pt`` from ``<models>/<benchmark>-classifier``.

    Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | PARITY_FAILED)."""
    d, card = _committed(models_root, f"{benchmark}-classifier", "classifier")
    model, diff = _classifier_from_committed(d, card)
    section = card["training"]["config"]
    size = int(card["preprocess"]["size"][0])
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


def _judge_from_committed(name: str, card: dict[str, Any], models_root: Path | None) -> Classifier:
    """The frozen classifier inside a COIN graph that chooses its hole's region (``training.judge``): the
    committed classifier the card names, refused unless its sha256 and configuration are the card's.
    Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | PARITY_FAILED)."""
    spec = card["training"].get("judge")
    if not isinstance(spec, dict):
        raise TrainError("CHECKPOINT_INVALID", f"{name}: chooses among its hole's regions but its card names no classifier")
    d, clf_card = _committed(models_root, str(spec["classifierKey"]), "classifier")
    if clf_card["sha256"] != spec.get("sha256") or clf_card["training"]["config"] != spec.get("config"):
        raise TrainError("CHECKPOINT_INVALID", f"{name} was exported with classifier sha256 {spec.get('sha256')}, "
                                               f"{d.name} is {clf_card['sha256']}")
    judge, _ = _classifier_from_committed(d, clf_card)
    return judge.requires_grad_(False)


class _OnnxValues:
    """Constant values of an ONNX graph by name: initializers, Constant nodes, and Identity chains."""

    def __init__(self, proto: Any) -> None:
        from onnx import numpy_helper

        self._init = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
        self._nodes = {n.name: n for n in proto.graph.node}
        self._producer = {o: n for n in proto.graph.node for o in n.output}
        self._helper = numpy_helper

    def node(self, name: str) -> Any | None:
        return self._nodes.get(name)

    def const(self, value: str) -> np.ndarray | None:
        """The constant behind ``value``, or None when it is computed from the inputs."""
        if value in self._init:
            return np.array(self._init[value])
        n = self._producer.get(value)
        if n is None:
            return None
        if n.op_type == "Identity":
            return self.const(n.input[0])
        if n.op_type == "Constant":
            return np.array(self._helper.to_array(n.attribute[0].t))
        return None

    def const_input(self, node: Any, where: str) -> np.ndarray:
        """The one constant input of ``node`` (a Mul or Add applying a scale or shift)."""
        got = [c for c in (self.const(i) for i in node.input) if c is not None]
        if len(got) != 1:
            raise TrainError("CHECKPOINT_INVALID", f"{where}: expected one constant input of {node.name}, found {len(got)}")
        return got[0]


def _graph_path(module_name: str) -> str:
    """The node-name path torch.onnx gives a submodule: '/' between modules, but a list index stays
    joined to its list by '.' (``coarse.0.stem`` → ``coarse.0/stem``)."""
    parts = module_name.split(".") if module_name else []
    out = parts[0] if parts else ""
    for part in parts[1:]:
        out += ("." if part.isdigit() else "/") + part
    return out


def _load_member(g: nn.Module, values: _OnnxValues, prefix: str, singla: bool, where: str) -> None:
    """Load one generator's weights from the graph nodes named after its modules (``prefix`` + the
    module path with '/' for '.', as torch.onnx names them). A conditional batch norm's running
    statistics come from its BatchNormalization node; where the exporter folded that batch norm into
    the convolution before it (conv → CBN with nothing between), the folded weights go into the
    convolution and the batch norm becomes the identity (mean 0, var 1 − eps) — the same function in
    eval mode. Its scale and shift come from the Mul / Add that apply them (Singla*: the condition-0
    values and the condition-1 minus condition-0 differences)."""
    from .nets.conditional_batch_norm import ConditionalBatchNorm2d

    with torch.no_grad():
        for name, mod in g.named_modules():
            path = prefix + _graph_path(name)
            if isinstance(mod, nn.Conv2d):
                node = values.node(f"{path}/Conv")
                w = values.const(node.input[1]) if node is not None else None
                b = values.const(node.input[2]) if node is not None and len(node.input) > 2 else None
                if w is None or b is None or w.shape != tuple(mod.weight.shape):
                    raise TrainError("CHECKPOINT_INVALID", f"{where}: no convolution {path} of shape {tuple(mod.weight.shape)}")
                mod.weight.copy_(torch.from_numpy(w))
                mod.bias.copy_(torch.from_numpy(b.reshape(mod.bias.shape)))
            elif isinstance(mod, ConditionalBatchNorm2d):
                bn_node = values.node(f"{path}/bn/BatchNormalization")
                if bn_node is not None:
                    mean, var = values.const(bn_node.input[3]), values.const(bn_node.input[4])
                    eps = next((a.f for a in bn_node.attribute if a.name == "epsilon"), mod.bn.eps)
                    if mean is None or var is None or abs(eps - mod.bn.eps) > 1e-9:
                        raise TrainError("CHECKPOINT_INVALID", f"{where}: batch norm {path} has no constant statistics")
                    mod.bn.running_mean.copy_(torch.from_numpy(mean))
                    mod.bn.running_var.copy_(torch.from_numpy(var))
                else:  # folded into the convolution before it
                    mod.bn.running_mean.zero_()
                    mod.bn.running_var.fill_(1.0 - mod.bn.eps)
                nodes = [values.node(f"{path}/{op}") for op in (("Mul", "Add", "Mul_1", "Add_1") if singla else ("Mul", "Add"))]
                if any(n is None for n in nodes):
                    raise TrainError("CHECKPOINT_INVALID", f"{where}: conditional batch norm {path} is not in the graph")
                if singla:
                    d_gamma, gamma0, d_beta, beta0 = (values.const_input(n, where) for n in nodes)
                    mod.gamma.copy_(torch.from_numpy(np.stack([gamma0, gamma0 + d_gamma]).reshape(mod.gamma.shape)))
                    mod.beta.copy_(torch.from_numpy(np.stack([beta0, beta0 + d_beta]).reshape(mod.beta.shape)))
                else:
                    gamma, beta = (values.const_input(n, where) for n in nodes)
                    mod.gamma.copy_(torch.from_numpy(gamma.reshape(mod.gamma.shape)))
                    mod.beta.copy_(torch.from_numpy(beta.reshape(mod.beta.shape)))


def restore_generator(benchmark: str, kind: str, cfg: dict[str, Any], runs_root: Path,
                      models_root: Path | None = None) -> Path:
    """Write ``<runs>/<benchmark>/<kind>/best.pt`` (``kind`` coin or singla) from the committed
    ``<models>/<benchmark>-<kind>``: the card's architecture (``training.config``, and
    ``training.ensemble`` for a snapshot ensemble) with the weights read back from the ONNX graph,
    checked against the card's PyTorch golden outputs (PARITY_FAILED beyond 1e-4). For benchmarks,
    evaluation and probes on a machine without the training run; not resumable (no optimiser state).

    Raises TrainError(CHECKPOINT_NOT_FOUND | CHECKPOINT_INVALID | PARITY_FAILED | USAGE)."""
    import onnx

    from .nets.generator import GeneratorEnsemble, build_generator

    if kind not in ("coin", "singla"):
        raise TrainError("USAGE", f"restore-generator restores coin or singla, not {kind!r}")
    d, card = _committed(models_root, f"{benchmark}-{kind}", f"{kind} generator")
    onnx_path = d / "model.onnx"
    section = card["training"]["config"]
    singla = kind == "singla"
    inpaint = card["training"].get("inpaint")
    if inpaint and (singla or not isinstance(inpaint.get("inpainter"), dict)):
        raise TrainError("CHECKPOINT_INVALID", f"{d.name}: the card's inpaint section does not describe a COIN inpainter")
    ens = card["training"].get("ensemble")
    try:
        values = _OnnxValues(onnx.load(str(onnx_path)))
    except Exception as exc:  # onnx raises DecodeError and friends on a corrupt file
        raise TrainError("CHECKPOINT_INVALID", f"{onnx_path}: {exc}") from exc
    # inpaint-refine's wrappers add their module paths in front of the generator's (export.py's `g`):
    # FineGridCounterfactual.generator, then InpaintedCounterfactual.generator / .inpainter.
    factor = int(inpaint.get("factor") or 1) if inpaint else 1
    outer = "/g/" + ("generator/" if factor > 1 else "")
    base_prefix = outer + ("generator/" if inpaint else "")
    members = [build_generator(section, singla=singla) for _ in range(int(ens["members"]) if ens else 1)]
    for k, g in enumerate(members):
        _load_member(g, values, f"{base_prefix}members.{k}/" if ens else base_prefix, singla, str(onnx_path))
    base: nn.Module = GeneratorEnsemble(members, bool(ens["flip"])) if ens else members[0]
    module = base
    inpainter = None
    if inpaint:
        from .nets.generator import FineGridCounterfactual
        from .nets.inpainter import InpaintedCounterfactual, Inpainter

        inpainter = Inpainter.from_config(inpaint["inpainter"])
        # Inpainter.forward calls its net's head() directly, so the graph names its layers under inpainter/.
        _load_member(inpainter.net, values, outer + "inpainter/", False, str(onnx_path))
        judge = None
        if int(inpaint.get("regions") or 1) > 1:
            judge = _judge_from_committed(d.name, card, models_root)
        module = InpaintedCounterfactual.from_spec(base, inpainter, inpaint, judge)
        if factor > 1:
            module = FineGridCounterfactual(module, factor)
    module.eval()
    if sum(p.numel() for p in module.parameters()) != card["parameters"]:
        raise TrainError("CHECKPOINT_INVALID", f"{d.name}: the card's architecture does not have its {card['parameters']} parameters")
    golden = card["golden"]
    read = lambda e: np.fromfile(d / e["file"], dtype="<f4").reshape(e["shape"])  # noqa: E731
    x = torch.from_numpy(read(golden["inputs"]["x"]))
    cond = torch.from_numpy(read(golden["inputs"]["condition"])) if singla else None
    with torch.no_grad():
        x_cf = module(x, cond).numpy()
    diff = float(np.abs(x_cf - read(golden["torchOutputs"]["x_cf"])).max())
    if not diff <= TOLERANCE:
        raise TrainError("PARITY_FAILED", f"restored {kind} generator differs from {d.name}'s golden outputs by {diff:.3g}")
    states = [g.state_dict() for g in members]
    step = int(card["training"]["selectedStep"])
    size = int(card["preprocess"]["size"][0])
    payload: dict[str, Any] = {
        "model": kind, "benchmark": benchmark, "windowHU": card["preprocess"]["windowHU"],
        "size": size, "config": {**cfg, kind: section}, "step": step,
        "elapsedSeconds": float(card["training"]["selectedAtSeconds"]),
        "best": {"step": step, "val": card.get("metrics", {})}, "command": card["training"]["command"],
        "restoredFrom": {"model": d.name, "sha256": card["sha256"]},
        # The training run's record (there is no last.pt): export carries it into a new card.
        "trained": {k: card["training"].get(k) for k in ("wallClockSeconds", "steps", "machine")},
        "state": {"generators": states} if ens else {"generator": states[0]},
    }
    if ens:
        payload["ensemble"] = {"flip": bool(ens["flip"]), "steps": list(ens["steps"])}
    out = run_dir(runs_root, benchmark, kind) / "best.pt"
    if inpaint and inpainter is not None:
        # best-base.pt: the generator it wraps, at its own size (inpaint-refine wraps it again from there).
        base_size = size // factor
        save_checkpoint(out.parent / "best-base.pt", {**payload, "size": base_size,
                                                      "config": {**cfg, kind: {**section, "size": base_size}}})
        payload["state"] = {**payload["state"], "inpainter": inpainter.state_dict()}
        payload["inpaint"] = dict(inpaint)
        if judge is not None:
            payload["state"]["judge"] = judge.state_dict()
            payload["judge"] = {"classifier": card["training"]["judge"]["config"], "size": int(card["training"]["judge"]["size"]),
                                "restoredFrom": {"model": card["training"]["judge"]["classifierKey"],
                                                 "sha256": card["training"]["judge"]["sha256"]}}
        # The inpainter alone too, unless a training run left one there: inpaint-refine wraps best-base.pt again with it.
        inp_out = run_dir(runs_root, benchmark, "inpainter") / "best.pt"
        if not inp_out.is_file():
            save_checkpoint(inp_out, {
                "model": "inpainter", "benchmark": benchmark, "windowHU": card["preprocess"]["windowHU"], "size": base_size,
                "config": {**cfg, "inpainter": inpaint["inpainter"]}, "step": inpaint.get("inpainterStep"),
                "elapsedSeconds": inpaint.get("inpainterSeconds"), "best": {"step": inpaint.get("inpainterStep")},
                "machine": inpaint.get("inpainterMachine"), "command": inpaint.get("inpainterCommand"),
                "restoredFrom": {"model": d.name, "sha256": card["sha256"]}, "state": {"net": inpainter.state_dict()}})
            log(f"restored {d.name}'s inpainter into {inp_out}")
    save_checkpoint(out, payload)
    log(f"restored {d.name} into {out}: max |d| {diff:.3g} against its PyTorch golden outputs")
    return out
