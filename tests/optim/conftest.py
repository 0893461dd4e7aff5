"""Optimizer tests work on small tensors: each runs on one thread (see tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(single_thread):
    yield
