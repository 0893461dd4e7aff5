"""Rank-based recombination weights (Hansen's log weights) shared by CMAES and SphereCMA."""

from __future__ import annotations

import math

import torch


def log_weights(n: int, mu: float | None = None) -> torch.Tensor:
    """Positive recombination weights for ``n`` ranked samples, best first.

    ``w_i = ln(mu + 1/2) - ln(i)`` for ``i <= floor(mu)``, zero afterwards, normalised to sum
    to one (Hansen's default; ``mu = n / 2`` unless given).

    Returns
    -------
    weights : (n,) float64 tensor
    """
    if n < 1:
        raise ValueError(f"need at least one sample to weight, got n={n}")
    mu = n / 2 if mu is None else float(mu)
    k = max(1, min(n, int(math.floor(mu))))
    w = torch.zeros(n, dtype=torch.float64)
    w[:k] = math.log(max(mu, 1.0) + 0.5) - torch.log(torch.arange(1, k + 1, dtype=torch.float64))
    return w / w.sum()


def ranks_descending(scores: torch.Tensor) -> torch.Tensor:
    """Indices that sort ``scores`` (n,) from best (highest) to worst; ties keep input order."""
    return torch.sort(scores, descending=True, stable=True).indices
