"""Benchmark loading: orientation and preprocessing of docs/DATASET.md, caching, coded errors."""

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from coinseg_train.data import golden_indices, load_benchmark, load_native_gt, load_split, preprocess_hu
from coinseg_train.errors import TrainError
from fixture_data import write_fixture


def test_should_read_slices_as_row_j_column_i_when_no_resize_is_needed(tmp_path: Path):
    root = write_fixture(tmp_path / "b", scans=3, nx=32, ny=32, nz=4)
    bench = load_benchmark(root)
    data = load_split(bench, "train", 32, use_cache=False)
    vol = nib.load(str(root / "volumes" / f"{data.scan_ids[1]}.nii.gz")).get_fdata()
    k = int(data.slice_index[1])
    low, high = bench.window_hu
    expected = (np.clip(vol[:, :, k].T, low, high) - low) / (high - low) * 2 - 1
    assert np.allclose(data.x[1, 0], expected, atol=1e-6)
    assert not np.allclose(data.x[1, 0], expected.T, atol=1e-3)  # the phantom is not symmetric


def test_should_match_torch_interpolate_when_resizing():
    hu = torch.linspace(-500, 600, 48 * 40).reshape(1, 1, 40, 48)
    x = preprocess_hu(hu, (-160.0, 340.0), 32)
    ref = F.interpolate((hu.clamp(-160, 340) + 160) / 500 * 2 - 1, size=(32, 32), mode="bilinear", align_corners=False)
    assert x.shape == (1, 1, 32, 32) and torch.equal(x, ref)
    assert x.min() >= -1 and x.max() <= 1


def test_should_resize_gt_and_keep_labels_when_loading_the_fixture(fixture_root: Path):
    data = load_split(load_benchmark(fixture_root), "test", 32)
    assert data.x.shape == data.x_clean.shape == (len(data), 1, 32, 32)
    assert data.gt.dtype == bool and data.gt.shape == data.x.shape
    has_gt = data.gt.reshape(len(data), -1).any(1)
    assert has_gt.sum() > 0 and not has_gt[data.label == 0].any()
    assert list(data.slice_index) == sorted(data.slice_index)  # one test scan, in slice order


def test_should_read_native_ground_truth_in_load_split_order(tmp_path: Path):
    root = write_fixture(tmp_path / "b", scans=4, nx=40, ny=36, nz=8)
    bench = load_benchmark(root)
    data = load_split(bench, "train", 32, use_cache=False)
    keep = np.array([len(data) - 1, 0])
    got = load_native_gt(bench, "train", keep)
    assert got.shape == (2, 36, 40) and got.dtype == bool
    for row, i in enumerate(keep):
        lab = nib.load(str(root / "labels" / f"{data.scan_ids[i]}.nii.gz")).get_fdata()
        assert (got[row] == (lab[:, :, int(data.slice_index[i])].T == 2)).all()
    whole = load_native_gt(bench, "train")
    assert whole.shape == (len(data), 36, 40) and whole.any()
    with pytest.raises(TrainError) as err:
        load_native_gt(bench, "train", np.array([len(data)]))
    assert err.value.code == "DATA_INVALID"


def test_should_reuse_the_cache_and_rebuild_it_when_the_manifest_changes(tmp_path: Path, fixture_root: Path):
    root = tmp_path / "copy"
    shutil.copytree(fixture_root, root, ignore=shutil.ignore_patterns("cache"))
    bench = load_benchmark(root)
    first = load_split(bench, "val", 32)
    cache_x = root / "cache" / "32x32" / "val" / "x.npy"
    assert cache_x.is_file()
    np.save(cache_x, np.zeros_like(first.x))  # tamper: a cache hit returns zeros
    assert np.all(load_split(bench, "val", 32).x == 0)
    card = json.loads((root / "dataset.json").read_text())
    card["generatorVersion"] = "changed"
    (root / "dataset.json").write_text(json.dumps(card))
    rebuilt = load_split(load_benchmark(root), "val", 32)
    assert np.array_equal(rebuilt.x, first.x)


def test_should_pick_two_abnormal_then_two_normal_golden_slices(fixture_root: Path):
    data = load_split(load_benchmark(fixture_root), "test", 32)
    gi = golden_indices(data)
    assert data.label[gi].tolist() == [1, 1, 0, 0]


def test_should_raise_data_not_found_when_the_manifest_is_missing(tmp_path: Path):
    with pytest.raises(TrainError) as err:
        load_benchmark(tmp_path)
    assert err.value.code == "DATA_NOT_FOUND"


def test_should_raise_data_invalid_when_a_column_is_missing(tmp_path: Path, fixture_root: Path):
    root = tmp_path / "bad"
    root.mkdir()
    shutil.copy(fixture_root / "dataset.json", root)
    (root / "manifest.csv").write_text("scanId,split,sliceIndex\nscan-000,train,0\n")
    with pytest.raises(TrainError) as err:
        load_benchmark(root)
    assert err.value.code == "DATA_INVALID"


def test_should_raise_data_not_found_when_a_volume_is_missing(tmp_path: Path, fixture_root: Path):
    root = tmp_path / "novol"
    shutil.copytree(fixture_root, root, ignore=shutil.ignore_patterns("cache"))
    next((root / "volumes").glob("*.nii.gz")).unlink()
    bench = load_benchmark(root)
    with pytest.raises(TrainError) as err:
        for split in ("train", "val", "test"):
            load_split(bench, split, 32, use_cache=False)
    assert err.value.code == "DATA_NOT_FOUND"
