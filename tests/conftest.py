"""Test set-up: the model cache points at ../shared/weights, so real loaders run on real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_WEIGHTS = REPO.parent / "shared" / "weights"

if "LANDSCAPE_HOME" not in os.environ and SHARED_WEIGHTS.is_dir():
    os.environ["LANDSCAPE_HOME"] = str(SHARED_WEIGHTS)
# Never reach for the network from tests: a missing file must raise, not download.
os.environ.setdefault("LANDSCAPE_OFFLINE", "1")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def single_thread():
    """Torch on one thread for the test: on small tensors OpenMP's overhead (and two spinning
    threads on a shared 2-core machine) only slows tests down, and results do not depend on it.
    Folders of such tests use it from their conftest.py."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    if not SHARED_WEIGHTS.is_dir():
        pytest.fail(f"the shared weights folder {SHARED_WEIGHTS} is missing; tests need it")
    return SHARED_WEIGHTS
