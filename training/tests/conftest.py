"""pytest setup: import path for coinseg_train and the tiny fixture benchmark shared by the tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from fixture_data import write_fixture  # noqa: E402

#: The test preset (32x32, tiny widths).
TINY_PRESET = str(HERE / "tiny.json")

# One thread: OpenMP with 2 threads on 2 shared cores is many times slower for tiny tensors.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def fixture_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny kidney-blob benchmark (6 scans, 48x40x8) written once per session."""
    return write_fixture(tmp_path_factory.mktemp("data") / "kidney-blob")
