"""Carry a benchmark's preprocessed slices to a training host that cannot build them (a GPU host with
no node to run `npm run dataset`, or one whose upload is size-limited).

``pack_cache`` writes the model-size cache of the chosen splits (data.py's ``.npy`` files) with the
dataset card and manifest into one xz-compressed ``.npz`` (no pickled objects); ``unpack_cache``
writes them back under another data directory, where ``load_split`` reads them as its own cache. The
slices are stored exactly (float32): a kidney window clips most pixels to ±1, so they compress about
30× (kidney-blob's train + val splits without the clean slices: 17 MB).

``clean=False`` leaves out the clean slices (the oracle's X_cf, used by evaluation only). The
unpacked cache then holds NaN in their place, so an evaluation that needs them fails loudly (NaN
scores) instead of scoring against the wrong slices; training and val selection never read them.
"""

from __future__ import annotations

import io
import json
import lzma
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .data import SPLITS, Benchmark, SliceSet, load_benchmark, load_split, split_rows, write_cache
from .errors import TrainError
from .runtime import log

FORMAT = "coinseg-cache-pack/1"


def _text(a: str) -> np.ndarray:
    return np.frombuffer(a.encode(), dtype=np.uint8)


def _untext(a: np.ndarray) -> str:
    return a.astype(np.uint8).tobytes().decode()


def pack_cache(bench: Benchmark, size: int, splits: list[str], out: Path, clean: bool = True) -> dict[str, Any]:
    """Write ``splits`` of ``bench`` at ``size`` (built first when not cached) to ``out``. Returns
    ``{"bytes", "slices": {split: n}}``. Raises TrainError(USAGE) for an unknown split and what
    :func:`load_split` raises."""
    bad = [s for s in splits if s not in SPLITS]
    if not splits or bad:
        raise TrainError("USAGE", f"splits must be among {list(SPLITS)}, got {splits}")
    arrays: dict[str, np.ndarray] = {
        "format": _text(FORMAT),
        "dataset_json": _text((bench.root / "dataset.json").read_text()),
        "manifest_csv": _text((bench.root / "manifest.csv").read_text()),
        "size": np.asarray(size),
    }
    counts = {}
    for split in splits:
        d = load_split(bench, split, size)
        counts[split] = len(d)
        arrays[f"{split}.x"] = d.x
        if clean:
            arrays[f"{split}.x_clean"] = d.x_clean
        arrays[f"{split}.gt"] = np.packbits(d.gt, axis=None)
        arrays[f"{split}.gt_shape"] = np.asarray(d.gt.shape)
        arrays[f"{split}.label"] = d.label
        arrays[f"{split}.slice_index"] = d.slice_index
        arrays[f"{split}.scan_ids"] = _text(json.dumps(d.scan_ids))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with lzma.open(tmp, "wb", preset=6) as fh:
        fh.write(buf.getbuffer())
    tmp.replace(out)
    n = out.stat().st_size
    log(f"packed {bench.name} {splits} at {size}x{size} ({'with' if clean else 'without'} clean slices): "
        f"{counts} slices, {n / 1e6:.1f} MB -> {out}")
    return {"bytes": n, "slices": counts}


def unpack_cache(src: Path, data_dir: Path) -> dict[str, Any]:
    """Write the pack ``src`` into ``data_dir`` (dataset.json, manifest.csv and the cache, through
    :func:`write_cache`). Everything is checked before anything is written: refuses with
    TrainError(DATA_INVALID) a file that is not such a pack, a pack whose slices do not match its own
    manifest, and a ``data_dir`` that already holds another card or manifest; TrainError(DATA_NOT_FOUND)
    a missing file. Returns ``{"benchmark", "size", "slices"}``."""
    if not src.is_file():
        raise TrainError("DATA_NOT_FOUND", f"no cache pack at {src}")
    try:
        with lzma.open(src, "rb") as fh:
            npz = np.load(io.BytesIO(fh.read()), allow_pickle=False)
            arrays = {k: npz[k] for k in npz.files}
    except (lzma.LZMAError, OSError, ValueError, EOFError) as exc:
        raise TrainError("DATA_INVALID", f"{src}: not a cache pack ({exc})") from exc
    if "format" not in arrays or _untext(arrays["format"]) != FORMAT:
        raise TrainError("DATA_INVALID", f"{src}: not a {FORMAT} file")
    texts = {"dataset.json": _untext(arrays["dataset_json"]), "manifest.csv": _untext(arrays["manifest_csv"])}
    for name, text in texts.items():
        path = data_dir / name
        if path.is_file() and path.read_text() != text:
            raise TrainError("DATA_INVALID", f"{path} exists and differs from the pack's; unpack into an empty directory")
    with tempfile.TemporaryDirectory() as staging:  # the pack's card and manifest, parsed as data.py does
        for name, text in texts.items():
            (Path(staging) / name).write_text(text)
        rows_of = load_benchmark(staging)
    size = int(arrays["size"])
    sets: dict[str, SliceSet] = {}
    for split in sorted({k.split(".")[0] for k in arrays if k.endswith(".x")}):
        x = arrays[f"{split}.x"]
        shape = tuple(int(v) for v in arrays[f"{split}.gt_shape"])
        gt = np.unpackbits(arrays[f"{split}.gt"], count=int(np.prod(shape))).reshape(shape).astype(bool)
        rows = split_rows(rows_of, split)
        if x.shape != (len(rows), 1, size, size) or gt.shape != x.shape:
            raise TrainError("DATA_INVALID", f"{src}: split {split} holds {x.shape[0]} slices, the manifest {len(rows)}")
        label, slice_index = arrays[f"{split}.label"], arrays[f"{split}.slice_index"]
        if label.tolist() != [r["label"] for r in rows] or slice_index.tolist() != [r["sliceIndex"] for r in rows]:
            raise TrainError("DATA_INVALID", f"{src}: split {split}'s labels or slice positions differ from its manifest")
        x_clean = arrays.get(f"{split}.x_clean")
        sets[split] = SliceSet(x=x, x_clean=np.full_like(x, np.nan) if x_clean is None else x_clean, gt=gt,
                               label=label, scan_ids=json.loads(_untext(arrays[f"{split}.scan_ids"])),
                               slice_index=slice_index)
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (data_dir / name).write_text(text)
    bench = load_benchmark(data_dir)
    for split, data in sets.items():
        write_cache(bench, split, size, data)
    counts = {split: len(data) for split, data in sets.items()}
    log(f"unpacked {bench.name} {counts} at {size}x{size} into {data_dir}")
    return {"benchmark": bench.name, "size": size, "slices": counts}
