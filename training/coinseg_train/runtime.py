"""Shared run plumbing: paths, seeding, logging, atomic checkpoints, batched inference helpers."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .errors import TrainError

#: Repository root (the folder holding training/, models/, data/, runs/).
REPO_ROOT = Path(__file__).resolve().parent.parent.parent

MODELS = ("classifier", "coin", "singla")

_device = torch.device("cpu")


def set_device(name: str) -> torch.device:
    """Select the torch device for training and evaluation: "cpu", "cuda", "cuda:N" or "auto" (CUDA
    when available). Export always runs on the CPU. Raises TrainError(USAGE) for an unavailable device."""
    global _device
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainError("USAGE", "CUDA requested but torch.cuda.is_available() is False")
    _device = torch.device(name)
    if _device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input shapes: pick the fastest convolution once
    return _device


def device() -> torch.device:
    """The torch device chosen by :func:`set_device` (default CPU)."""
    return _device


def machine_description() -> str:
    """Where this process trains, for model cards: the accelerator when the device is CUDA, else the CPU;
    with the core count, torch version and thread count."""
    import platform

    where = (f"{torch.cuda.get_device_name(_device)} GPU (CUDA), {platform.machine()} host"
             if _device.type == "cuda" else f"{platform.machine()} CPU")
    return f"{where}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def default_data_dir(benchmark: str) -> Path:
    """``<repo>/data/<benchmark>``: where `npm run dataset` writes the benchmark."""
    return REPO_ROOT / "data" / benchmark


def run_dir(runs_root: Path, benchmark: str, model: str) -> Path:
    """``<runs>/<benchmark>/<model>/``: checkpoints and evaluation JSON of one model."""
    return runs_root / benchmark / model


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def log(message: str) -> None:
    """One log line to stdout, flushed (so `tail -f` shows progress)."""
    print(time.strftime("%H:%M:%S ") + message, flush=True)


def git_commit() -> str:
    """Current git commit of the repository, or "unknown"."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write a checkpoint atomically (temp file + rename), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, model: str | None = None) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Raises TrainError(CHECKPOINT_NOT_FOUND) if missing, TrainError(CHECKPOINT_INVALID) if unreadable
    or (when ``model`` is given) saved for another model.
    """
    if not path.is_file():
        raise TrainError("CHECKPOINT_NOT_FOUND", f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for corrupt files
        raise TrainError("CHECKPOINT_INVALID", f"{path}: {exc}") from exc
    if not isinstance(payload, dict) or "state" not in payload:
        raise TrainError("CHECKPOINT_INVALID", f"{path}: not a coinseg_train checkpoint")
    if model is not None and payload.get("model") != model:
        raise TrainError("CHECKPOINT_INVALID", f"{path} holds a {payload.get('model')} checkpoint, expected {model}")
    return payload


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Apply ``fn`` to ``x`` (numpy ``[N, ...]``) in batches under no_grad; returns numpy."""
    outs = []
    for start in range(0, x.shape[0], batch_size):
        t = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size])).to(_device)
        outs.append(fn(t).cpu().numpy())
    if not outs:
        return np.zeros((0,), dtype=np.float32)
    return np.concatenate(outs)


class Budget:
    """Wall-clock and step budget of a run; counts seconds carried over from earlier (resumed) runs."""

    def __init__(self, minutes: float | None, max_steps: int | None, elapsed_before_s: float = 0.0) -> None:
        self.total_s = None if minutes is None else float(minutes) * 60.0
        self.max_steps = max_steps
        self.before_s = elapsed_before_s
        self.start = time.monotonic()

    def elapsed_s(self) -> float:
        """Seconds of training so far, including earlier runs."""
        return self.before_s + time.monotonic() - self.start

    def progress(self, step: int) -> float:
        """Fraction of the budget used, in [0, 1] (the larger of time and steps)."""
        fr = 0.0
        if self.total_s:
            fr = max(fr, self.elapsed_s() / self.total_s)
        if self.max_steps:
            fr = max(fr, step / self.max_steps)
        return min(fr, 1.0)

    def done(self, step: int) -> bool:
        """True when either budget is spent."""
        if self.max_steps is not None and step >= self.max_steps:
            return True
        return self.total_s is not None and self.elapsed_s() >= self.total_s


def command_line() -> str:
    """The command that started this process (for model cards)."""
    return " ".join(["python3", "-m", "coinseg_train", *sys.argv[1:]])


def json_safe(value: Any) -> Any:
    """Copy of ``value`` with NaN / inf floats replaced by None and numpy scalars by Python ones, so
    that the JSON is strict (JavaScript's JSON.parse rejects NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return f if np.isfinite(f) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def onnx_counterfactuals(onnx_path: Path, x: np.ndarray, condition: np.ndarray | None = None,
                         batch_size: int = 16) -> np.ndarray:
    """X_cf of an exported generator (ONNX Runtime, CPU, this process's torch thread count) for slices
    ``x`` ``[N, 1, S, S]``; a Singla* graph also takes ``condition`` ``[N]`` (its second input).
    Raises TrainError(MODEL_NOT_FOUND) when the file is missing, TrainError(USAGE) when the graph's
    inputs and ``condition`` do not match."""
    import onnxruntime as ort

    if not onnx_path.is_file():
        raise TrainError("MODEL_NOT_FOUND", f"no ONNX file at {onnx_path}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    if len(names) != (1 if condition is None else 2):
        raise TrainError("USAGE", f"{onnx_path} takes inputs {names}; "
                         + ("a condition is needed (a Singla* graph)" if condition is None else "it takes no condition"))
    out = []
    for s in range(0, len(x), batch_size):
        feeds = {names[0]: np.ascontiguousarray(x[s:s + batch_size], dtype=np.float32)}
        if condition is not None:
            feeds[names[1]] = np.ascontiguousarray(condition[s:s + batch_size], dtype=np.float32)
        out.append(sess.run(None, feeds)[0])
    return np.concatenate(out).astype(np.float32) if out else np.zeros_like(x, dtype=np.float32)
