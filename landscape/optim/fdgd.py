"""XDream's finite-difference gradient descent (Xiao & Kreiman 2020, Methods), as ascent.

Around the centre ``c`` a generation holds ``c ± δ_k`` (antithetic, default) or ``c + δ_k``
plus ``c`` itself, with ``δ_k ~ N(0, search_radius^2 I)``. With ``n_k = mean_j |δ_kj|`` (the
L1 norm over ``d``) the gradient estimate is

``g = mean_k (s_k - b) δ_k / n_k^2``

where ``b`` is the centre's score (one-sided samples) or, for antithetic pairs, cancels
(``mean_k (s_k+ - s_k-) / 2 · δ_k / n_k^2``); the centre moves ``c <- c + learning_rate * g``.
Scores are divided by ``score_scale`` first (see :class:`~landscape.optim.center.CenterSearch`).

XDream's published defaults (DeePSiM fc6): population 20, search radius 1.25, learning
rate 1.25, antithetic sampling.
"""

from __future__ import annotations

from typing import Any

import torch

from .center import CenterSearch


class FDGD(CenterSearch):
    """Finite-difference gradient ascent on the code (XDream's variant).

    Parameters
    ----------
    dim : int
    population : int >= 2 (even when antithetic)
        Codes per generation, the centre included when not antithetic (default 20).
    search_radius : float > 0
        Standard deviation of the finite-difference steps (default 1.25).
    learning_rate : float > 0
        Step size along the estimated gradient (default 1.25).
    antithetic : bool
        Antithetic pairs (default True).
    center, init_codes, score_scale
        See :class:`~landscape.optim.center.CenterSearch`.
    seed, device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`. Steps are recovered from the told
        codes; if the centre's own row is missing (one-sided sampling with
        ``nan_policy="drop"``), the batch mean score is the baseline instead.

    Attributes
    ----------
    center_ : (d,) tensor
    """

    name = "fdgd"

    def __init__(self, dim: int, population: int = 20, search_radius: float = 1.25, learning_rate: float = 1.25,
                 antithetic: bool = True, center: Any = None, init_codes: Any = None,
                 score_scale: Any = "auto", *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, population, search_radius, learning_rate, antithetic, center, init_codes,
                         score_scale, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)

    def _perturbations(self) -> torch.Tensor:
        if self.antithetic:
            steps = self._draw(self.population // 2) * self.search_radius
            return torch.cat([steps, -steps])
        steps = self._draw(self.population - 1) * self.search_radius
        return torch.cat([steps, torch.zeros_like(steps[:1])])

    def _update(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        steps = codes - self.center_[None]
        l1 = steps.abs().mean(1)
        at_center = l1 == 0
        s = scores
        baseline = s[at_center].mean() if bool(at_center.any()) else s.mean()
        moved = ~at_center
        if not bool(moved.any()):
            return  # only the centre was scored: no direction to learn from
        g = ((s[moved] - baseline)[:, None] * steps[moved] / l1[moved, None] ** 2).mean(0)
        self.center_ = self.center_ + self.learning_rate * g
