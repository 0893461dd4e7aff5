"""Optimizer tests work on small tensors: one thread avoids OpenMP overhead there (and the
slow-down of two spinning threads on a shared 2-core machine); results do not depend on it."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
