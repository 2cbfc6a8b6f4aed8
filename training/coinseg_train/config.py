"""Training presets: JSON files in ``training/configs/`` (``cpu``, ``paper``) loaded and checked here."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .errors import TrainError

#: Folder holding the named presets (``<name>.json``).
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

# Keys every preset must define, with the Python type each must have.
_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "size": int,
    "threads": int,
    "seed": int,
    "classifier.widths": list,
    "classifier.blocks": list,
    "classifier.stemKernel": int,
    "classifier.stemStride": int,
    "classifier.stemPool": bool,
    "classifier.lr": (int, float),
    "classifier.batchSize": int,
    "classifier.minutes": (int, float),
    "classifier.evalEverySteps": int,
    "coin.generator.widths": list,
    "coin.generator.zeroInitHead": bool,
    "coin.discriminator.widths": list,
    "coin.lossWeights.adv": (int, float),
    "coin.lossWeights.kl": (int, float),
    "coin.lossWeights.rec": (int, float),
    "coin.lossWeights.tv": (int, float),
    "coin.lrG": (int, float),
    "coin.lrD": (int, float),
    "coin.betas": list,
    "coin.batchSize": int,
    "coin.dStepsPerGStep": int,
    "coin.minutes": (int, float),
    "singla.generator.widths": list,
    "singla.discriminator.widths": list,
    "singla.lossWeights.adv": (int, float),
    "singla.lossWeights.kl": (int, float),
    "singla.lossWeights.rec": (int, float),
    "singla.dStepsPerGStep": int,
    "singla.minutes": (int, float),
}


def get_path(cfg: dict[str, Any], dotted: str, default: Any = KeyError) -> Any:
    """Return ``cfg[a][b]...`` for ``dotted = "a.b..."``; ``default`` if given and missing, else KeyError."""
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is KeyError:
                raise KeyError(dotted)
            return default
        node = node[part]
    return node


def _set_path(cfg: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = cfg
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise TrainError("CONFIG_INVALID", f"cannot set {dotted}: {part} is not an object")
    node[parts[-1]] = value


def validate_config(cfg: dict[str, Any]) -> None:
    """Check required keys and types; raises TrainError(CONFIG_INVALID) listing every problem."""
    problems: list[str] = []
    for key, kind in _REQUIRED.items():
        try:
            value = get_path(cfg, key)
        except KeyError:
            problems.append(f"missing {key}")
            continue
        if isinstance(value, bool) and kind in (int, (int, float)):
            problems.append(f"{key} must be a number, got {value!r}")
        elif not isinstance(value, kind):
            problems.append(f"{key} has type {type(value).__name__}")
    if not problems:
        if cfg["size"] % 16 != 0 or cfg["size"] < 16:
            problems.append("size must be a positive multiple of 16 (4 generator downsamplings)")
        for model in ("coin", "singla"):
            if len(get_path(cfg, f"{model}.generator.widths")) != 5:
                problems.append(f"{model}.generator.widths needs 5 entries (4 levels + bottleneck)")
            if len(get_path(cfg, f"{model}.discriminator.widths")) != 5:
                problems.append(f"{model}.discriminator.widths needs 5 entries")
            if get_path(cfg, f"{model}.dStepsPerGStep", 1) < 1:
                problems.append(f"{model}.dStepsPerGStep must be >= 1")
            g_size = get_path(cfg, f"{model}.size", None)
            if g_size is not None and (not isinstance(g_size, int) or isinstance(g_size, bool) or g_size % 16 != 0
                                       or g_size < cfg["size"] or g_size % cfg["size"] != 0):
                problems.append(f"{model}.size must be a multiple of size ({cfg['size']}) and of 16")
            init = get_path(cfg, f"{model}.init", None)
            if init is not None and not (isinstance(init, dict) and isinstance(init.get("checkpoint"), str)
                                         and isinstance(init.get("member", 0), int)):
                problems.append(f'{model}.init must be {{"checkpoint": PATH, "member": K}}')
            coarse = get_path(cfg, f"{model}.generator.coarse", None)
            if coarse is not None and model == "coin":  # Singla's inherited copy is ignored (build_generator)
                if not (isinstance(coarse, dict) and isinstance(coarse.get("checkpoint"), str)
                          and isinstance(coarse.get("enhancerWidths"), list) and coarse["enhancerWidths"]
                          and all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in coarse["enhancerWidths"])):
                    problems.append(f'{model}.generator.coarse must be {{"checkpoint": PATH, "enhancerWidths": [W, ...]}}')
                elif not isinstance(coarse.get("anchor", False), bool) or not (
                        isinstance(coarse.get("dWarmupSteps", 0), int) and not isinstance(coarse.get("dWarmupSteps", 0), bool)
                        and coarse.get("dWarmupSteps", 0) >= 0):
                    problems.append(f"{model}.generator.coarse.anchor must be a boolean and dWarmupSteps an integer >= 0")
                elif init is not None:
                    problems.append(f"{model}.generator.coarse and {model}.init exclude each other")
                elif g_size is None or g_size == cfg["size"]:
                    problems.append(f"{model}.generator.coarse needs {model}.size above size ({cfg['size']})")
            if get_path(cfg, f"{model}.selection", "paper") not in ("paper", "refined"):
                problems.append(f"{model}.selection must be paper or refined")
        if len(cfg["classifier"]["widths"]) != 4 or len(cfg["classifier"]["blocks"]) != 4:
            problems.append("classifier.widths and classifier.blocks need 4 entries each")
    if problems:
        raise TrainError("CONFIG_INVALID", "; ".join(problems))


def generator_size(cfg: dict[str, Any], kind: str) -> int:
    """The side the ``kind`` generator (``coin`` / ``singla``) works at: ``<kind>.size`` when set (a
    multiple of the classifier's ``size``, e.g. the native 256 for a 128 classifier), else ``size``."""
    if kind not in ("coin", "singla"):
        return int(cfg["size"])
    return int(cfg[kind].get("size") or cfg["size"])


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def load_config(preset: str, overrides: list[str] | None = None) -> dict[str, Any]:
    """Load a preset by name (``configs/<name>.json``) or by path, apply ``a.b=value`` overrides
    (values parsed as JSON when possible) and validate it.

    The ``singla`` section inherits every key it does not set from ``coin``.
    Raises TrainError(CONFIG_INVALID) when the file is missing or invalid.
    """
    path = Path(preset)
    if not path.suffix:
        path = CONFIG_DIR / f"{preset}.json"
    if not path.is_file():
        raise TrainError("CONFIG_INVALID", f"preset not found: {path}")
    try:
        cfg = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainError("CONFIG_INVALID", f"cannot read {path}: {exc}") from exc
    if not isinstance(cfg, dict):
        raise TrainError("CONFIG_INVALID", f"{path} is not a JSON object")
    for item in overrides or []:
        if "=" not in item:
            raise TrainError("CONFIG_INVALID", f"override must be key=value: {item!r}")
        key, value = item.split("=", 1)
        _set_path(cfg, key.strip(), _parse_value(value.strip()))
    singla = _merge(copy.deepcopy(cfg.get("coin", {})), cfg.get("singla", {}))
    cfg["singla"] = singla
    cfg["presetPath"] = str(path)
    validate_config(cfg)
    return cfg


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = _merge(base[key], value)
        else:
            base[key] = value
    return base
