"""XDream's natural evolution strategy (Xiao & Kreiman 2020, Methods; after Wierstra et al. 2014
and Ilyas et al. 2018).

The search distribution is ``N(c, r^2 I)`` around the centre ``c`` with one scalar radius
``r``. A generation is ``c + r e_i`` (with antithetic pairs ``c ± r e_i``), ``e_i ~ N(0, I)``.
With scores ``s_i`` (divided by ``score_scale``, see :class:`~landscape.optim.center.CenterSearch`):

* centre: ``c <- c + learning_rate * mean_i(s_i e_i) / r``
* radius: ``r <- max(min_search_radius, r + search_radius_learning_rate * mean_{i,j}(s_i (e_ij^2 - 1)) / r)``

Scores are centred on the batch mean first. For complete antithetic pairs this changes
nothing in the centre's update; it keeps one-sided sampling and the radius update from
depending on a constant added to every score (XDream's raw rule lets the radius drift with
the mean firing rate).

XDream's published defaults (DeePSiM fc6): population 20, search radius 1.25, learning rate
1.75, radius learning rate 0.05, minimum radius 0.01, antithetic sampling.
"""

from __future__ import annotations

from typing import Any

import torch

from .center import CenterSearch
from .checks import check_float


class NES(CenterSearch):
    """Natural evolution strategy with an isotropic, adapted search radius (XDream's variant).

    Parameters
    ----------
    dim : int
    population : int >= 2 (even when antithetic)
        Codes per generation (default 20).
    search_radius : float > 0
        Initial radius ``r`` (default 1.25, code units).
    learning_rate : float > 0
        Step size of the centre (default 1.75).
    search_radius_learning_rate : float >= 0
        Step size of the radius; 0 keeps it fixed (default 0.05).
    min_search_radius : float > 0
        Floor of the radius (default 0.01).
    antithetic : bool
        Antithetic pairs (default True).
    center, init_codes, score_scale
        See :class:`~landscape.optim.center.CenterSearch`.
    seed, device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`. Samples are recognised from their
        offset to the centre, so dropped rows (``nan_policy="drop"``) simply leave the average.

    Attributes
    ----------
    center_ : (d,) tensor
    radius_ : float
        Current search radius.
    """

    name = "nes"
    step_attr = "radius_"

    def __init__(self, dim: int, population: int = 20, search_radius: float = 1.25, learning_rate: float = 1.75,
                 search_radius_learning_rate: float = 0.05, min_search_radius: float = 0.01,
                 antithetic: bool = True, center: Any = None, init_codes: Any = None,
                 score_scale: Any = "auto", *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, population, search_radius, learning_rate, antithetic, center, init_codes,
                         score_scale, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        self.search_radius_learning_rate = check_float("search_radius_learning_rate",
                                                       search_radius_learning_rate, 0.0)
        self.min_search_radius = check_float("min_search_radius", min_search_radius, 0.0, low_open=True)
        self.radius_ = max(self.search_radius, self.min_search_radius)

    def _radius(self) -> float:
        return self.radius_

    def _perturbations(self) -> torch.Tensor:
        if self.antithetic:
            e = self._draw(self.population // 2)
            e = torch.cat([e, -e])
        else:
            e = self._draw(self.population)
        return self.radius_ * e

    def _update(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        r = self.radius_
        e = (codes - self.center_[None]) / r
        s = (scores - scores.mean())[:, None]
        self.center_ = self.center_ + self.learning_rate * (s * e).mean(0) / r
        if self.search_radius_learning_rate > 0:
            grad_r = float((s * (e * e - 1)).mean()) / r
            self.radius_ = max(self.min_search_radius, r + self.search_radius_learning_rate * grad_r)

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "radius": self.radius_}

    def _load_state(self, state: dict[str, Any]) -> None:
        super()._load_state(state)
        self.radius_ = float(state["radius"])

    def config(self) -> dict[str, Any]:
        return {**super().config(), "search_radius_learning_rate": self.search_radius_learning_rate,
                "min_search_radius": self.min_search_radius}
