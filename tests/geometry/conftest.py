"""Fixtures shared by the geometry tests."""

from __future__ import annotations

import pytest
import torch
from geom_helpers import LinearGenerator, SmoothConvGenerator


@pytest.fixture
def linear_generator() -> LinearGenerator:
    g = torch.Generator().manual_seed(1)
    side, d = 4, 12
    # singular values spread over two decades so that eigen-ordering is well defined
    U, _ = torch.linalg.qr(torch.randn(3 * side * side, d, generator=g))
    V, _ = torch.linalg.qr(torch.randn(d, d, generator=g))
    s = torch.logspace(0, -2, d)
    return LinearGenerator((U * s) @ V.T * 4.0, side)


@pytest.fixture
def smooth_generator() -> SmoothConvGenerator:
    return SmoothConvGenerator()


@pytest.fixture(scope="session")
def digiface():
    from landscape import zoo

    return zoo.load("digiface-dcgan64")


@pytest.fixture(scope="session")
def digiface_code(digiface) -> torch.Tensor:
    return digiface.sample(1, seed=3)[0]


@pytest.fixture(scope="session")
def digiface_full(digiface, digiface_code):
    """The full pixel-MSE metric of the real digiface generator at one code (computed once)."""
    from geometry.hessian import hessian

    return hessian(digiface, digiface_code, "mse", "full", return_matrix=True)
