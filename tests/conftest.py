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


def pytest_addoption(parser):
    parser.addoption("--device", choices=["cpu", "cuda"], default="cpu",
                     help="cuda: a GPU is expected, so tests marked 'cuda' fail rather than skip without one")


def cuda_expected(config) -> bool:
    """Whether this run promised a GPU (``--device cuda`` or ``LANDSCAPE_EXPECT_CUDA=1``)."""
    return config.getoption("--device") == "cuda" or os.environ.get("LANDSCAPE_EXPECT_CUDA") == "1"


def pytest_runtest_setup(item):
    # a CUDA test that cannot run must never pass silently where a GPU was promised
    if item.get_closest_marker("cuda") is None or torch.cuda.is_available():
        return
    if cuda_expected(item.config):
        pytest.fail("a GPU is expected (--device cuda or LANDSCAPE_EXPECT_CUDA=1) but torch sees no CUDA device "
                    f"(torch {torch.__version__}, torch.cuda.is_available() is False)", pytrace=False)
    pytest.skip("needs a CUDA device (run with --device cuda on a GPU machine)")


@pytest.fixture
def cuda() -> torch.device:
    """The CUDA device for tests marked ``cuda`` (they only run where one is available)."""
    return torch.device("cuda")


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
