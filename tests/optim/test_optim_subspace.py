"""Subspace: codes stay in the affine subspace, any inner optimizer finds an optimum that lies
in it, and a basis that is not orthonormal is refused."""

from __future__ import annotations

import pytest
import torch

from landscape import optim
from landscape.optim import Subspace


def problem(d=60, k=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, k, generator=g, dtype=torch.float64))
    basis = q.T.contiguous()
    center = torch.randn(d, generator=g, dtype=torch.float64)
    y_star = 2 * torch.randn(k, generator=g, dtype=torch.float64)
    x_star = center + y_star @ basis
    return basis, center, x_star, (lambda x: -((x.double() - x_star) ** 2).sum(1))


@pytest.mark.parametrize("name", ["cma", "ga", "nes-auto"])
def test_finds_an_optimum_inside_the_subspace(name):
    basis, center, x_star, f = problem()
    inner = optim.make(name, 5, seed=1, dtype="float64")
    opt = Subspace(inner, basis, center=center)
    assert opt.dim == 60 and opt.rank == 5
    best = None
    for _ in range(150):
        codes = opt.ask()
        offsets = codes - center
        assert torch.allclose(offsets @ basis.T @ basis, offsets, atol=1e-9)  # in the subspace
        s = f(codes)
        opt.tell(codes, s)
        i = int(s.argmax())
        if best is None or s[i] > f(best[None])[0]:
            best = codes[i]
    assert torch.linalg.vector_norm(best - x_star) < (0.05 if name == "cma" else 0.5)


def test_initial_codes_are_projected_for_the_inner_optimizer():
    basis, center, _, f = problem(seed=2)
    opt = Subspace(optim.make("ga", 5, population=4, seed=0, dtype="float64"), basis, center=center)
    y = torch.randn(4, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    opt.initialize(center + y @ basis + 0.0)
    assert torch.allclose(opt.optimizer.ask(), y)
    assert torch.allclose(opt.ask(), center + y @ basis)


def test_bad_basis_is_refused():
    with pytest.raises(ValueError, match="orthonormal"):
        Subspace(optim.make("cma", 2), torch.ones(2, 10))
    with pytest.raises(ValueError, match=r"basis must have shape \(k, d\) with k = optimizer.dim = 3"):
        Subspace(optim.make("cma", 3), torch.eye(10)[:2])
    with pytest.raises(TypeError, match="Optimizer"):
        Subspace(object(), torch.eye(10)[:2])
