"""Writes a tiny benchmark in the exact format of docs/DATASET.md (NIfTI volumes, clean volumes,
label maps, manifest.csv, dataset.json) for the tests, until `npm run dataset` data is used."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np

WINDOW_HU = (-160.0, 340.0)


def _write_nifti(path: Path, data: np.ndarray, spacing_mm: tuple[float, float, float]) -> None:
    sx, sy, sz = spacing_mm
    affine = np.diag([-sx, -sy, sz, 1.0])
    img = nib.Nifti1Image(data, affine)
    img.header.set_zooms(spacing_mm)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, str(path))


def write_fixture(
    root: Path,
    scans: int = 6,
    nx: int = 48,
    ny: int = 40,
    nz: int = 8,
    seed: int = 0,
    benchmark: str = "kidney-blob",
) -> Path:
    """Write ``scans`` phantom scans (body ellipse, two kidneys, blobs on about half the slices).

    Splits: scans 0..n-3 train, n-2 val, n-1 test. Returns ``root``.
    Image row = j, column = i; arrays are stored as [nx, ny, nz] (NIfTI order).
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("volumes", "clean", "labels"):
        (root / sub).mkdir(exist_ok=True)
    spacing = (1.5, 1.5, 3.0)
    low, high = WINDOW_HU
    jj, ii = np.mgrid[0:ny, 0:nx]  # image coordinates: row j, column i
    rows: list[dict[str, object]] = []
    split_of: dict[str, str] = {}
    for s in range(scans):
        scan_id = f"scan-{s:03d}"
        split = "train" if s < scans - 2 else ("val" if s == scans - 2 else "test")
        split_of[scan_id] = split
        vol = np.full((nz, ny, nx), -1000.0, dtype=np.float32)
        labels = np.zeros((nz, ny, nx), dtype=np.uint8)
        body = ((ii - nx / 2) / (nx * 0.45)) ** 2 + ((jj - ny / 2) / (ny * 0.42)) ** 2 <= 1
        kidneys = np.zeros((ny, nx), dtype=bool)
        centres = [(ny * 0.55, nx * 0.3), (ny * 0.55, nx * 0.7)]
        for cj, ci in centres:
            kidneys |= ((ii - ci) / (nx * 0.11)) ** 2 + ((jj - cj) / (ny * 0.14)) ** 2 <= 1
        clean = vol.copy()
        for k in range(nz):
            img = np.where(body, 40.0, -1000.0) + rng.normal(0, 12, size=(ny, nx))
            img[kidneys] = 150.0 + rng.normal(0, 10, size=int(kidneys.sum()))
            clean[k] = img
            labels[k][kidneys] = 1
            abnormal = bool(rng.random() < 0.5)
            if abnormal:
                cj, ci = centres[int(rng.integers(0, 2))]
                r = 3.0 + rng.random() * 1.5
                blob = np.exp(-(((ii - ci) ** 2 + (jj - cj) ** 2) / (2 * (r / 1.5) ** 2)))
                gt = blob > 0.25
                # Blob added on the window's [0, 1] scale at strength 0.9, clipped at 1.
                unit = np.clip((img - low) / (high - low), 0, 1)
                unit = np.clip(unit + 0.9 * blob, 0, 1)
                vol[k] = np.where(blob > 0.01, unit * (high - low) + low, img)
                labels[k][gt] = 2
            else:
                vol[k] = img
            rows.append(
                {
                    "scanId": scan_id,
                    "split": split,
                    "sliceIndex": k,
                    "label": int(abnormal),
                    "targetAreaPx": int((labels[k] == 2).sum()),
                    "kidneyAreaPx": int((labels[k] >= 1).sum()),
                }
            )
        # [nz, ny, nx] → NIfTI [nx, ny, nz]
        to_nifti = lambda a: np.ascontiguousarray(a.transpose(2, 1, 0))  # noqa: E731
        _write_nifti(root / "volumes" / f"{scan_id}.nii.gz", to_nifti(np.round(vol).astype(np.int16)), spacing)
        _write_nifti(root / "clean" / f"{scan_id}.nii.gz", to_nifti(np.round(clean).astype(np.int16)), spacing)
        _write_nifti(root / "labels" / f"{scan_id}.nii.gz", to_nifti(labels), spacing)
    with (root / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["scanId", "split", "sliceIndex", "label", "targetAreaPx", "kidneyAreaPx"])
        writer.writeheader()
        writer.writerows(rows)
    per_split = {sp: sum(1 for r in rows if r["split"] == sp) for sp in ("train", "val", "test")}
    card = {
        "benchmark": benchmark,
        "generatorVersion": "test-fixture-1",
        "seed": seed,
        "scans": scans,
        "sizeIJK": [nx, ny],
        "spacingMm": list(spacing),
        "windowHU": list(WINDOW_HU),
        "splits": {sp: [k for k, v in split_of.items() if v == sp] for sp in ("train", "val", "test")},
        "counts": {"slices": len(rows), "abnormal": sum(int(r["label"]) for r in rows), "perSplit": per_split},
    }
    (root / "dataset.json").write_text(json.dumps(card, indent=2))
    return root
