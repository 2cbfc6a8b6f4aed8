"""pack-cache / unpack-cache: the model-size cache carried to a host without the NIfTI volumes."""

import lzma
import shutil
from pathlib import Path

import numpy as np
import pytest

from coinseg_train.cache_pack import pack_cache, unpack_cache
from coinseg_train.cli import main
from coinseg_train.data import load_benchmark, load_split
from coinseg_train.errors import TrainError
from fixture_data import write_fixture


def test_should_give_the_same_slices_on_a_host_without_volumes_when_unpacked(tmp_path: Path):
    root = write_fixture(tmp_path / "src" / "kidney-blob", scans=4, nx=40, ny=36, nz=6)
    bench = load_benchmark(root)
    pack = tmp_path / "blob.npz.xz"
    got = pack_cache(bench, 32, ["train", "val"], pack)
    assert got["bytes"] == pack.stat().st_size > 0 and set(got["slices"]) == {"train", "val"}

    dest = tmp_path / "dest" / "kidney-blob"
    unpack_cache(pack, dest)
    assert not (dest / "volumes").exists()  # a rebuild would need these: load_split must read the cache
    again = load_benchmark(dest)
    for split in ("train", "val"):
        a, b = load_split(bench, split, 32), load_split(again, split, 32)
        for name in ("x", "x_clean", "gt", "label", "slice_index"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (split, name)
        assert a.scan_ids == b.scan_ids
    with pytest.raises(TrainError) as err:  # not packed: built from volumes, which are not there
        load_split(again, "test", 32)
    assert err.value.code == "DATA_NOT_FOUND"


def test_should_fill_the_clean_slices_with_nan_when_packed_without_them(tmp_path: Path):
    root = write_fixture(tmp_path / "src" / "kidney-blob", scans=3, nx=32, ny=32, nz=4)
    pack = tmp_path / "p.npz.xz"
    assert main(["pack-cache", "--benchmark", "kidney-blob", "--data", str(root), "--preset", str(Path(__file__).parent / "tiny.json"),
                 "--splits", "train", "--no-clean", "--out", str(pack)]) == 0
    dest = tmp_path / "dest"
    assert main(["unpack-cache", "--benchmark", "kidney-blob", "--data", str(dest), "--in", str(pack)]) == 0
    data = load_split(load_benchmark(dest), "train", 32)
    assert np.isnan(data.x_clean).all() and np.isfinite(data.x).all()


def test_should_refuse_to_unpack_over_another_manifest_and_leave_the_directory(tmp_path: Path):
    root = write_fixture(tmp_path / "src" / "kidney-blob", scans=3, nx=32, ny=32, nz=4)
    pack = tmp_path / "p.npz.xz"
    pack_cache(load_benchmark(root), 32, ["train"], pack)
    dest = tmp_path / "dest"
    dest.mkdir()
    shutil.copy(root / "dataset.json", dest / "dataset.json")
    (dest / "manifest.csv").write_text((root / "manifest.csv").read_text().replace(",0,", ",1,", 1))
    before = (dest / "manifest.csv").read_text()
    with pytest.raises(TrainError) as err:
        unpack_cache(pack, dest)
    assert err.value.code == "DATA_INVALID" and (dest / "manifest.csv").read_text() == before
    assert not (dest / "cache").exists()


def test_should_refuse_what_is_not_a_pack(tmp_path: Path):
    bad = tmp_path / "bad.npz.xz"
    bad.write_bytes(b"not xz")
    with pytest.raises(TrainError) as err:
        unpack_cache(bad, tmp_path / "d")
    assert err.value.code == "DATA_INVALID"
    other = tmp_path / "other.npz.xz"
    with lzma.open(other, "wb") as fh:
        np.savez(fh, format=np.frombuffer(b"something/1", dtype=np.uint8))
    with pytest.raises(TrainError) as err:
        unpack_cache(other, tmp_path / "d")
    assert err.value.code == "DATA_INVALID"
    with pytest.raises(TrainError) as err:
        unpack_cache(tmp_path / "missing.npz.xz", tmp_path / "d")
    assert err.value.code == "DATA_NOT_FOUND"
