"""PyTorch-eager side of bench/inference.ts: times the training package's own models on the same input.

    python3 bench/inference_torch.py --runs runs --models models --benchmark kidney-blob \
        --threads 1,2 --batches 1,8 --iters 20 --warmup 3 --out /tmp/torch-bench

Loads each model with coinseg_train's checkpoint loaders (load_classifier / load_generator on
<runs>/<benchmark>/<model>/best.pt, the checkpoint `export` turns into models/<key>/model.onnx) and runs
the same forward the ONNX graph holds (ClassifierExport for the classifier: logit, activations,
activations_grad; the generator's forward, with the flipped condition for Singla).
runs/ is not committed: on a fresh machine `python3 -m coinseg_train restore-classifier` and
`restore-generator --model coin|singla` (PYTHONPATH=training) rebuild those checkpoints from the
committed ONNX files, checked against their golden outputs. Where a checkpoint is still missing, the
network is built from its model card instead — training.config, and
training.ensemble's members and mirror for an ensemble graph, training.inpaint's inpainter and grid — with seeded random weights: the same
layers and the same multiply-adds, so the same time, but not the same outputs. Such a model is listed
under "randomWeights" and the caller skips its output check. The input is the
model's golden x (models/<key>/golden/x.bin), its first slice tiled to the batch size.
Prints one JSON document on stdout: timings (median ms per forward) and peak RSS; writes each model's
batch-1 outputs to --out/<key>.<output>.bin so the caller can check that both runtimes ran the same model.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "training"))

from coinseg_train.nets.classifier import Classifier, ClassifierExport  # noqa: E402
from coinseg_train.nets.generator import FineGridCounterfactual, Generator, GeneratorEnsemble  # noqa: E402
from coinseg_train.nets.inpainter import InpaintedCounterfactual, Inpainter  # noqa: E402
from coinseg_train.train_classifier import load_classifier  # noqa: E402
from coinseg_train.train_gan import load_generator  # noqa: E402

RANDOM_WEIGHTS: list[str] = []


def load_or_build(a: argparse.Namespace, role: str) -> torch.nn.Module:
    """The checkpoint at <runs>/<benchmark>/<role>/best.pt, else the card's architecture with seeded
    random weights (recorded in RANDOM_WEIGHTS), in eval mode."""
    path = a.runs / a.benchmark / role / "best.pt"
    if path.is_file():
        return load_classifier(path)[0] if role == "classifier" else load_generator(path, role)[0]
    key = f"{a.benchmark}-{role}"
    card = json.loads((a.models / key / "model.json").read_text())
    torch.manual_seed(0)
    config = card["training"]["config"]
    if role == "classifier":
        net: torch.nn.Module = Classifier.from_config(config)
    else:
        ens = card["training"].get("ensemble")
        members = [Generator.from_config(config, singla=role == "singla") for _ in range((ens or {}).get("members", 1))]
        net = GeneratorEnsemble(members, bool(ens["flip"])) if ens else members[0]
        inpaint = card["training"].get("inpaint")
        if inpaint:  # inpaint-refine's wrappers (the hole a random generator's change makes costs the same)
            net = InpaintedCounterfactual.from_spec(net, Inpainter.from_config(inpaint["inpainter"]), inpaint)
            if int(inpaint.get("factor") or 1) > 1:
                net = FineGridCounterfactual(net, int(inpaint["factor"]))
    params = sum(p.numel() for p in net.parameters())
    if params != card["parameters"]:
        raise SystemExit(f"{key}: the card's architecture builds {params} parameters, the card says {card['parameters']}")
    RANDOM_WEIGHTS.append(key)
    return net.eval()


def golden_x(models: Path, key: str) -> torch.Tensor:
    spec = json.loads((models / key / "model.json").read_text())
    g = spec["golden"]["inputs"]["x"]
    x = np.fromfile(models / key / g["file"], dtype="<f4").reshape(g["shape"])
    return torch.from_numpy(x[:1].copy())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=Path, default=REPO / "runs")
    ap.add_argument("--models", type=Path, default=REPO / "models")
    ap.add_argument("--benchmark", default="kidney-blob")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--roles", default="classifier,coin,singla", help="which models to time (comma list)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    torch.set_grad_enabled(False)

    roles = a.roles.split(",")
    clf = load_or_build(a, "classifier")
    coin = load_or_build(a, "coin") if "coin" in roles else None
    singla = load_or_build(a, "singla") if "singla" in roles else None
    clf_export = ClassifierExport(clf).eval()
    x1 = golden_x(a.models, f"{a.benchmark}-classifier")
    p = torch.sigmoid(clf(x1)).reshape(-1)
    cond1 = (1.0 - (p > 0.5).float())  # Singla's flipped class, as the worker computes it

    forwards = {
        f"{a.benchmark}-classifier": (lambda x, c: clf_export(x), ["logit", "activations", "activations_grad"]),
        f"{a.benchmark}-coin": (lambda x, c: (coin(x),), ["x_cf"]),
        f"{a.benchmark}-singla": (lambda x, c: (singla(x, c),), ["x_cf"]),
    }
    forwards = {k: v for k, v in forwards.items() if k.rsplit("-", 1)[1] in roles}
    results = []
    for key, (fn, names) in forwards.items():
        # Each model on its own golden x (a generator may work above the classifier's size).
        xk = golden_x(a.models, key)
        for out, name in zip(fn(xk, cond1), names):
            out.contiguous().numpy().astype("<f4").tofile(a.out / f"{key}.{name}.bin")
        for threads in [int(t) for t in a.threads.split(",")]:
            torch.set_num_threads(threads)
            for batch in [int(b) for b in a.batches.split(",")]:
                x = xk.repeat(batch, 1, 1, 1)
                c = cond1.repeat(batch)
                for _ in range(a.warmup):
                    fn(x, c)
                times = []
                for _ in range(a.iters):
                    t0 = time.perf_counter()
                    fn(x, c)
                    times.append((time.perf_counter() - t0) * 1000)
                results.append({"model": key, "threads": threads, "batch": batch, "msPerForward": statistics.median(times),
                                "iters": a.iters})
    json.dump({"runtime": f"torch {torch.__version__} eager", "results": results,
               "cond": cond1.tolist(), "randomWeights": RANDOM_WEIGHTS,
               "maxRssKB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, sys.stdout)


if __name__ == "__main__":
    main()
