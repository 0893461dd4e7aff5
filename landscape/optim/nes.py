"""XDream's natural evolution strategy (Xiao & Kreiman 2020, Methods; after Wierstra et al. 2014
and Ilyas et al. 2018), as its published code computes it, and the project's rescaled variant.

The search distribution is ``N(c, r^2 I)`` around the centre ``c`` with one scalar radius
``r``. A generation is ``c + r e_i`` (antithetic pairs ``c ± r e_i``, the ``+`` half first),
``e_i ~ N(0, I)``. With scores ``s_i`` (divided by ``score_scale``, see
:class:`~landscape.optim.center.CenterSearch`):

* centre: ``c <- c + learning_rate * mean_i(s_i e_i) / r``
* radius: ``r <- max(min_search_radius, r + search_radius_learning_rate * mean_{i,j}(s_i (e_ij^2 - 1)) / r)``

(the radius update uses the radius before the step; willwx/XDream ``xdream/Optimizers.py``
``NES.step``).

========= ======== ==================================================================================
name      class    settings
========= ======== ==================================================================================
nes       NES      XDream's raw rule: scores as measured (``score_scale=1``, not centred); population
                   20, search radius 1.25, learning rate 1.75, radius learning rate 0.05, minimum
                   radius 0.01, antithetic (XDream ``tests/test3.py``, its settings for DeePSiM fc6)
nes-auto  NESAuto  the project's variant: scores centred on the batch mean and divided by the "auto"
                   scale (first generation's spread / radius); same numbers otherwise
========= ======== ==================================================================================

Centring changes nothing in the centre's update for complete antithetic pairs; it keeps the
radius update (and one-sided sampling) from depending on a constant added to every score:
with XDream's raw rule the radius grows or shrinks with the mean firing rate. Step sizes are
absolute code lengths made for fc6 codes; ``code_scale`` rescales them (see
:class:`~landscape.optim.center.CenterSearch`).
"""

from __future__ import annotations

from typing import Any

import torch

from .center import CenterSearch
from .checks import check_float

XDREAM_NES_REFERENCE = {
    "source": "willwx/XDream xdream/Optimizers.py NES.step (raw scores); settings of tests/test3.py for "
              "deepsim-fc6; Xiao & Kreiman 2020, PLoS Comput Biol 16(6): e1007973",
    "rule": "c += lr * mean(s e) / r; r = max(r_min, r + rlr * mean(s (e^2 - 1)) / r); s raw unless score_scale "
            "or center_scores say otherwise",
    "code_space": "search_radius, min_search_radius are absolute (fc6 codes); code_scale c multiplies them by c "
                  "and the learning rates by c^2 (c with score_scale='auto')",
}


class NES(CenterSearch):
    """Natural evolution strategy with an isotropic, adapted search radius (XDream's NES).

    Parameters
    ----------
    dim : int
    population : int >= 2 (even when antithetic)
        Codes per generation (default 20).
    search_radius : float > 0
        Initial radius ``r`` (default 1.25, code units before ``code_scale``).
    learning_rate : float > 0
        Step size of the centre (default 1.75).
    search_radius_learning_rate : float >= 0
        Step size of the radius; 0 keeps it fixed (default 0.05).
    min_search_radius : float > 0
        Floor of the radius (default 0.01, before ``code_scale``).
    antithetic : bool
        Antithetic pairs (default True).
    center_scores : bool
        Subtract the batch mean from the scores before the update (default False, XDream's
        raw rule; True in ``nes-auto``).
    center, init_codes, score_scale, code_scale
        See :class:`~landscape.optim.center.CenterSearch` (``score_scale`` default 1.0, XDream's
        raw scores).
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
    reference: dict[str, str] | None = XDREAM_NES_REFERENCE

    def __init__(self, dim: int, population: int = 20, search_radius: float = 1.25, learning_rate: float = 1.75,
                 search_radius_learning_rate: float = 0.05, min_search_radius: float = 0.01,
                 antithetic: bool = True, center_scores: bool = False, center: Any = None, init_codes: Any = None,
                 score_scale: Any = 1.0, code_scale: float = 1.0, *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, population, search_radius, learning_rate, antithetic, center, init_codes,
                         score_scale, code_scale, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        if not isinstance(center_scores, bool):
            raise ValueError(f"center_scores must be True or False, got {center_scores!r}")
        self.center_scores = center_scores
        self.search_radius_learning_rate = check_float("search_radius_learning_rate",
                                                       search_radius_learning_rate, 0.0)
        self.min_search_radius = check_float("min_search_radius", min_search_radius, 0.0, low_open=True)
        self._min_radius = self.min_search_radius * self.code_scale
        self._radius_rate = self.search_radius_learning_rate * self.rate_factor()
        self.radius_ = max(self.step_radius_, self._min_radius)

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
        s = (scores - scores.mean() if self.center_scores else scores)[:, None]
        self.center_ = self.center_ + self.step_learning_rate_ * (s * e).mean(0) / r
        if self._radius_rate > 0:
            grad_r = float((s * (e * e - 1)).mean()) / r
            self.radius_ = max(self._min_radius, r + self._radius_rate * grad_r)

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "radius": self.radius_}

    def _load_state(self, state: dict[str, Any]) -> None:
        super()._load_state(state)
        self.radius_ = float(state["radius"])

    def config(self) -> dict[str, Any]:
        return {**super().config(), "search_radius_learning_rate": self.search_radius_learning_rate,
                "min_search_radius": self.min_search_radius, "center_scores": self.center_scores}


class NESAuto(NES):
    """The project's NES: XDream's rule on centred scores divided by the "auto" scale.

    Defaults as :class:`NES` except ``center_scores=True`` and ``score_scale="auto"``.
    """

    name = "nes-auto"
    reference = {
        "source": "this project (landscape.optim.NES before issue 13): XDream's NES rule (willwx/XDream "
                  "xdream/Optimizers.py NES.step) on scores centred on the batch mean and divided by the "
                  "first generation's spread / radius",
        "rule": XDREAM_NES_REFERENCE["rule"],
        "code_space": XDREAM_NES_REFERENCE["code_space"],
    }

    def __init__(self, dim: int, population: int = 20, search_radius: float = 1.25, learning_rate: float = 1.75,
                 search_radius_learning_rate: float = 0.05, min_search_radius: float = 0.01,
                 antithetic: bool = True, center_scores: bool = True, center: Any = None, init_codes: Any = None,
                 score_scale: Any = "auto", code_scale: float = 1.0, *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, population, search_radius, learning_rate, search_radius_learning_rate,
                         min_search_radius, antithetic, center_scores, center, init_codes, score_scale, code_scale,
                         seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
