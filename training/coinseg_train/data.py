"""Benchmark data (docs/DATASET.md): reads NIfTI volumes + manifest, preprocesses slices to the model
size and caches them per split as .npy under ``<data>/cache/<size>x<size>/<split>/``."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .errors import TrainError

SPLITS = ("train", "val", "test")
_MANIFEST_COLUMNS = ["scanId", "split", "sliceIndex", "label", "targetAreaPx", "kidneyAreaPx"]
# Bump when preprocessing changes so stale caches are rebuilt.
_CACHE_VERSION = 1


@dataclass
class SliceSet:
    """Preprocessed slices of one split, all at model size ``[N, 1, S, S]``.

    - ``x``: the slice as given (with blob / lesion), float32 in [-1, 1].
    - ``x_clean``: the same slice with no blob / lesion (the oracle's X_cf; evaluation only).
    - ``gt``: ground-truth target mask at model size (bool; evaluation and val selection only).
    - ``label``: image-level label, 1 abnormal / 0 normal (int64, ``[N]``).
    - ``scan_ids`` / ``slice_index``: where each slice comes from (``[N]``).
    """

    x: np.ndarray
    x_clean: np.ndarray
    gt: np.ndarray
    label: np.ndarray
    scan_ids: list[str]
    slice_index: np.ndarray

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def subset(self, idx: np.ndarray) -> "SliceSet":
        """Return the rows ``idx`` (a new SliceSet, arrays copied)."""
        return SliceSet(
            x=np.ascontiguousarray(self.x[idx]),
            x_clean=np.ascontiguousarray(self.x_clean[idx]),
            gt=np.ascontiguousarray(self.gt[idx]),
            label=self.label[idx].copy(),
            scan_ids=[self.scan_ids[i] for i in idx.tolist()],
            slice_index=self.slice_index[idx].copy(),
        )


@dataclass
class Benchmark:
    """A benchmark directory: its dataset card (``dataset.json``) and manifest rows."""

    root: Path
    card: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def name(self) -> str:
        """The benchmark name from the card (``kidney-blob`` / ``kidney-lesion``)."""
        return str(self.card.get("benchmark", self.root.name))

    @property
    def window_hu(self) -> tuple[float, float]:
        """Intensity window ``[low, high]`` in HU, from the card."""
        low, high = self.card["windowHU"]
        return float(low), float(high)


def load_benchmark(root: str | Path) -> Benchmark:
    """Read ``dataset.json`` and ``manifest.csv`` of a benchmark directory.

    Raises TrainError(DATA_NOT_FOUND) if either is missing, TrainError(DATA_INVALID) if malformed.
    """
    root = Path(root)
    card_path, manifest_path = root / "dataset.json", root / "manifest.csv"
    for path in (card_path, manifest_path):
        if not path.is_file():
            raise TrainError("DATA_NOT_FOUND", f"missing {path} (build it with `npm run dataset`)")
    try:
        card = json.loads(card_path.read_text())
    except json.JSONDecodeError as exc:
        raise TrainError("DATA_INVALID", f"{card_path}: {exc}") from exc
    window = card.get("windowHU") if isinstance(card, dict) else None
    if (
        not isinstance(window, list)
        or len(window) != 2
        or not all(isinstance(v, (int, float)) for v in window)
        or not window[0] < window[1]
    ):
        raise TrainError("DATA_INVALID", f"{card_path}: windowHU must be [low, high] with low < high")
    rows: list[dict[str, Any]] = []
    with manifest_path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise TrainError("DATA_INVALID", f"{manifest_path}: missing columns {missing}")
        for n, row in enumerate(reader, start=2):
            try:
                parsed = {
                    "scanId": row["scanId"],
                    "split": row["split"],
                    "sliceIndex": int(row["sliceIndex"]),
                    "label": int(row["label"]),
                    "targetAreaPx": int(row["targetAreaPx"]),
                }
            except (TypeError, ValueError) as exc:
                raise TrainError("DATA_INVALID", f"{manifest_path}:{n}: {exc}") from exc
            if parsed["split"] not in SPLITS or parsed["label"] not in (0, 1):
                raise TrainError("DATA_INVALID", f"{manifest_path}:{n}: bad split or label")
            rows.append(parsed)
    if not rows:
        raise TrainError("DATA_INVALID", f"{manifest_path} has no rows")
    return Benchmark(root=root, card=card, rows=rows)


def preprocess_hu(hu: torch.Tensor, window_hu: tuple[float, float], size: int) -> torch.Tensor:
    """HU ``[N, 1, H, W]`` → clip to the window → [-1, 1] → bilinear (half-pixel, no antialias) to
    ``size x size``. Exactly the preprocessing of docs/DATASET.md."""
    low, high = window_hu
    x = (hu.clamp(low, high) - low) / (high - low) * 2.0 - 1.0
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return x


def resize_slices(x: np.ndarray, size: int) -> np.ndarray:
    """Model-space slices ``[N, 1, S, S]`` to ``size x size`` with the preprocessing's resize (bilinear,
    half-pixel, no antialias); returned as is when already that size."""
    if x.shape[-2:] == (size, size):
        return x
    t = F.interpolate(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), size=(size, size),
                      mode="bilinear", align_corners=False, antialias=False)
    return t.numpy()


def resize_mask(mask: torch.Tensor, size: int) -> torch.Tensor:
    """A {0,1} mask ``[N, 1, H, W]`` to model size: bilinear of the float mask, then ``>= 0.5``."""
    m = mask.float()
    if m.shape[-2:] != (size, size):
        m = F.interpolate(m, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return m >= 0.5


def _load_nifti(path: Path) -> np.ndarray:
    import nibabel as nib

    if not path.is_file():
        raise TrainError("DATA_NOT_FOUND", f"missing {path}")
    try:
        data = np.asarray(nib.load(str(path)).get_fdata(dtype=np.float32))
    except Exception as exc:  # nibabel raises many types for corrupt files
        raise TrainError("DATA_INVALID", f"{path}: {exc}") from exc
    if data.ndim != 3:
        raise TrainError("DATA_INVALID", f"{path}: expected 3 dims [nx, ny, nz], got {data.shape}")
    return data


def load_native_gt(bench: Benchmark, split: str, keep: np.ndarray | None = None) -> np.ndarray:
    """Ground-truth target masks of ``split`` on the native slice grid, bool ``[N, H, W]``, in the order
    of :func:`load_split` (scanId, sliceIndex); only the rows ``keep`` when given. Evaluation only:
    what the service's native masks are scored against. Reads the label volumes (not cached).

    Raises TrainError(DATA_NOT_FOUND | DATA_INVALID), the latter also when the split's scans differ
    in slice size (one benchmark has one native size)."""
    rows = split_rows(bench, split)
    idx = np.arange(len(rows)) if keep is None else np.asarray(keep, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= len(rows)):
        raise TrainError("DATA_INVALID", f"row index out of range [0, {len(rows)}) for split {split!r}")
    wanted: dict[str, list[tuple[int, int]]] = {}
    for out_pos, i in enumerate(idx.tolist()):
        r = rows[i]
        wanted.setdefault(r["scanId"], []).append((out_pos, r["sliceIndex"]))
    out: np.ndarray | None = None
    for scan_id, items in wanted.items():
        lab = _load_nifti(bench.root / "labels" / f"{scan_id}.nii.gz")
        hw = (lab.shape[1], lab.shape[0])  # image rows = j, columns = i
        if out is None:
            out = np.zeros((len(idx), *hw), dtype=bool)
        elif out.shape[1:] != hw:
            raise TrainError("DATA_INVALID", f"{scan_id}: slice size {hw} differs from {out.shape[1:]} in split {split!r}")
        for out_pos, k in items:
            if not 0 <= k < lab.shape[2]:
                raise TrainError("DATA_INVALID", f"{scan_id}: sliceIndex {k} out of range [0, {lab.shape[2]})")
            out[out_pos] = lab[:, :, k].T == 2
    return out if out is not None else np.zeros((0, 0, 0), dtype=bool)


def split_rows(bench: Benchmark, split: str) -> list[dict[str, Any]]:
    """The manifest rows of ``split`` in slice-set order: by (scanId, sliceIndex)."""
    return sorted((r for r in bench.rows if r["split"] == split), key=lambda r: (r["scanId"], r["sliceIndex"]))


def _manifest_digest(bench: Benchmark, split: str) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(bench.card, sort_keys=True).encode())
    for r in bench.rows:
        if r["split"] == split:
            h.update(f"{r['scanId']},{r['sliceIndex']},{r['label']},{r['targetAreaPx']}\n".encode())
    return h.hexdigest()


def _build_split(bench: Benchmark, split: str, size: int) -> SliceSet:
    rows = split_rows(bench, split)
    if not rows:
        raise TrainError("DATA_INVALID", f"split {split!r} has no slices in {bench.root}/manifest.csv")
    xs, cleans, gts = [], [], []
    by_scan: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_scan.setdefault(r["scanId"], []).append(r)
    for scan_id, scan_rows in by_scan.items():
        vol = _load_nifti(bench.root / "volumes" / f"{scan_id}.nii.gz")
        clean = _load_nifti(bench.root / "clean" / f"{scan_id}.nii.gz")
        lab = _load_nifti(bench.root / "labels" / f"{scan_id}.nii.gz")
        if clean.shape != vol.shape or lab.shape != vol.shape:
            raise TrainError("DATA_INVALID", f"{scan_id}: volume, clean and labels differ in shape")
        ks = [r["sliceIndex"] for r in scan_rows]
        if min(ks) < 0 or max(ks) >= vol.shape[2]:
            raise TrainError("DATA_INVALID", f"{scan_id}: sliceIndex out of range [0, {vol.shape[2]})")
        # A slice as an image is row = j, column = i: data[:, :, k].T (docs/DATASET.md).
        sel = np.asarray(ks)
        xs.append(torch.from_numpy(np.ascontiguousarray(vol[:, :, sel].transpose(2, 1, 0))))
        cleans.append(torch.from_numpy(np.ascontiguousarray(clean[:, :, sel].transpose(2, 1, 0))))
        gts.append(torch.from_numpy(np.ascontiguousarray(lab[:, :, sel].transpose(2, 1, 0) == 2)))
    window = bench.window_hu
    out_x, out_c, out_g = [], [], []
    for x, c, g in zip(xs, cleans, gts):
        for start in range(0, x.shape[0], 256):
            sl = slice(start, start + 256)
            out_x.append(preprocess_hu(x[sl, None], window, size))
            out_c.append(preprocess_hu(c[sl, None], window, size))
            out_g.append(resize_mask(g[sl, None], size))
    return SliceSet(
        x=torch.cat(out_x).numpy().astype(np.float32),
        x_clean=torch.cat(out_c).numpy().astype(np.float32),
        gt=torch.cat(out_g).numpy(),
        label=np.asarray([r["label"] for r in rows], dtype=np.int64),
        scan_ids=[r["scanId"] for r in rows],
        slice_index=np.asarray([r["sliceIndex"] for r in rows], dtype=np.int64),
    )


def load_split(bench: Benchmark, split: str, size: int, use_cache: bool = True) -> SliceSet:
    """Preprocessed slices of ``split`` at ``size x size``, sorted by (scanId, sliceIndex).

    Cached as .npy files under ``<data>/cache/<size>x<size>/<split>/``; a cache whose manifest / card
    digest differs is rebuilt. Raises TrainError(DATA_NOT_FOUND | DATA_INVALID).
    """
    if split not in SPLITS:
        raise TrainError("USAGE", f"unknown split {split!r}")
    cache = bench.root / "cache" / f"{size}x{size}" / split
    digest = _manifest_digest(bench, split)
    meta_path = cache / "meta.json"
    if use_cache and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("digest") == digest and meta.get("version") == _CACHE_VERSION:
                return SliceSet(
                    x=np.load(cache / "x.npy"),
                    x_clean=np.load(cache / "x_clean.npy"),
                    gt=np.load(cache / "gt.npy"),
                    label=np.load(cache / "label.npy"),
                    scan_ids=list(meta["scanIds"]),
                    slice_index=np.load(cache / "slice_index.npy"),
                )
        except (OSError, ValueError, KeyError):
            pass  # unreadable cache: rebuild below
    data = _build_split(bench, split, size)
    if use_cache:
        write_cache(bench, split, size, data)
    return data


def write_cache(bench: Benchmark, split: str, size: int, data: SliceSet) -> None:
    """Store ``data`` as the ``split`` cache at ``size`` under ``bench.root`` (what :func:`load_split`
    reads back while the card and manifest stay as they are). Each file is written to a temp name and
    renamed (atomic), meta.json last: a concurrent reader sees either the old complete cache, no meta
    (rebuilds), or the new complete cache."""
    cache = bench.root / "cache" / f"{size}x{size}" / split
    cache.mkdir(parents=True, exist_ok=True)
    tag = f".tmp-{os.getpid()}"
    for name in ("x", "x_clean", "gt", "label", "slice_index"):
        tmp = cache / f"{name}.npy{tag}"
        with tmp.open("wb") as fh:
            np.save(fh, getattr(data, name))
        os.replace(tmp, cache / f"{name}.npy")
    meta = {"version": _CACHE_VERSION, "digest": _manifest_digest(bench, split), "size": size, "scanIds": data.scan_ids}
    tmp_meta = cache / f"meta.json{tag}"
    tmp_meta.write_text(json.dumps(meta))
    os.replace(tmp_meta, cache / "meta.json")


def golden_indices(data: SliceSet) -> np.ndarray:
    """The 4 fixed golden slices of a split: the first 2 abnormal and the first 2 normal slices in
    (scanId, sliceIndex) order. Raises TrainError(DATA_INVALID) if the split lacks either class."""
    abnormal = np.flatnonzero(data.label == 1)[:2]
    normal = np.flatnonzero(data.label == 0)[:2]
    if len(abnormal) < 2 or len(normal) < 2:
        raise TrainError("DATA_INVALID", "golden slices need >= 2 abnormal and >= 2 normal slices")
    return np.concatenate([abnormal, normal])
