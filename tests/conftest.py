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


@pytest.fixture(scope="session")
def weights_dir() -> Path:
    if not SHARED_WEIGHTS.is_dir():
        pytest.fail(f"the shared weights folder {SHARED_WEIGHTS} is missing; tests need it")
    return SHARED_WEIGHTS
