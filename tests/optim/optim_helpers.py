"""Analytic test problems and a minimal ask/tell loop for the optimizer tests."""

from __future__ import annotations

import math
from typing import Callable

import torch

from landscape.optim import Optimizer


def shifted_sphere(d: int, seed: int = 0, scale: float = 1.0):
    """f(x) = -|x - x*|^2 with x* ~ N(0, scale^2 I); returns (f, x*)."""
    x_star = torch.randn(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale
    return (lambda x: -((x.double() - x_star) ** 2).sum(1)), x_star


def rotated_ellipsoid(d: int, condition: float, seed: int = 0):
    """f(x) = -(x - x*)^T H (x - x*) / 2 with eigenvalues log-spaced over ``condition`` and a
    random rotation; returns (f, x*)."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    h = q @ torch.diag(condition ** (torch.arange(d, dtype=torch.float64) / (d - 1))) @ q.T
    x_star = torch.randn(d, generator=g, dtype=torch.float64)

    def f(x: torch.Tensor) -> torch.Tensor:
        e = x.double() - x_star
        return -0.5 * ((e @ h) * e).sum(1)

    return f, x_star


def von_mises(d: int, kappa: float = 4.0, seed: int = 0):
    """f(x) = exp(kappa * cos(angle(x, u))) on any sphere, maximal along the unit vector u."""
    u = torch.randn(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    u = u / u.norm()

    def f(x: torch.Tensor) -> torch.Tensor:
        x = x.double()
        return torch.exp(kappa * (x @ u) / x.norm(dim=1))

    return f, u


def run(opt: Optimizer, f: Callable[[torch.Tensor], torch.Tensor], generations: int | None = None,
        evaluations: int | None = None, until: float | None = None) -> dict:
    """Ask/tell for a number of generations or evaluations (or until a score is reached).

    Returns
    -------
    dict with ``best`` score, ``best_code``, ``evaluations`` and ``generations`` run
    """
    best, best_code, evals, gens = -math.inf, None, 0, 0
    while True:
        if generations is not None and gens >= generations:
            break
        if evaluations is not None and evals >= evaluations:
            break
        codes = opt.ask()
        scores = f(codes)
        opt.tell(codes, scores)
        i = int(torch.argmax(scores))
        if float(scores[i]) > best:
            best, best_code = float(scores[i]), codes[i].clone()
        evals += codes.shape[0]
        gens += 1
        if until is not None and best >= until:
            break
    return {"best": best, "best_code": best_code, "evaluations": evals, "generations": gens}
