"""XDream's finite-difference gradient descent (Xiao & Kreiman 2020, Methods), as ascent, as its
published code computes it, and the project's rescaled variant.

Around the centre ``c`` a generation holds ``c ± δ_k`` (antithetic, default; the ``+`` half
first) or ``c + δ_k`` plus ``c`` itself (last), with ``δ_k ~ N(0, search_radius^2 I)``. With
``n_k = mean_j |δ_kj|`` (the L1 norm over ``d``) the gradient estimate is

``g = mean_k (s_k - b) δ_k / n_k^2``

where ``b`` is the centre's score (one-sided samples) or, for antithetic pairs, cancels
(``mean_k (s_k+ - s_k-) / 2 · δ_k / n_k^2``); the centre moves ``c <- c + learning_rate * g``
(willwx/XDream ``xdream/Optimizers.py`` ``FDGD.step``). Scores are divided by ``score_scale``
first (see :class:`~landscape.optim.center.CenterSearch`).

=========== ========= ===============================================================================
name        class     settings
=========== ========= ===============================================================================
fdgd        FDGD      XDream's raw rule (``score_scale=1``): population 20, search radius 1.25,
                      learning rate 1.25, antithetic (XDream ``tests/test3.py``, DeePSiM fc6)
fdgd-auto   FDGDAuto  the project's variant: scores divided by the "auto" scale
=========== ========= ===============================================================================

Step sizes are absolute code lengths made for fc6 codes; ``code_scale`` rescales them.
"""

from __future__ import annotations

from typing import Any

import torch

from .center import CenterSearch

XDREAM_FDGD_REFERENCE = {
    "source": "willwx/XDream xdream/Optimizers.py FDGD.step (raw scores); settings of tests/test3.py for "
              "deepsim-fc6; Xiao & Kreiman 2020, PLoS Comput Biol 16(6): e1007973",
    "rule": "g = mean_k ((s_k+ - s_k-)/2) delta_k / (mean_j |delta_kj|)^2; c += lr * g",
    "code_space": "search_radius is absolute (fc6 codes); code_scale c multiplies it by c and the learning rate "
                  "by c^2 (c with score_scale='auto')",
}


class FDGD(CenterSearch):
    """Finite-difference gradient ascent on the code (XDream's FDGD).

    Parameters
    ----------
    dim : int
    population : int >= 2 (even when antithetic)
        Codes per generation, the centre included when not antithetic (default 20).
    search_radius : float > 0
        Standard deviation of the finite-difference steps (default 1.25, before ``code_scale``).
    learning_rate : float > 0
        Step size along the estimated gradient (default 1.25).
    antithetic : bool
        Antithetic pairs (default True).
    center, init_codes, score_scale, code_scale
        See :class:`~landscape.optim.center.CenterSearch` (``score_scale`` default 1.0, XDream's
        raw scores).
    seed, device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`. Steps are recovered from the told
        codes; if the centre's own row is missing (one-sided sampling with
        ``nan_policy="drop"``), the batch mean score is the baseline instead.

    Attributes
    ----------
    center_ : (d,) tensor
    """

    name = "fdgd"
    reference: dict[str, str] | None = XDREAM_FDGD_REFERENCE

    def __init__(self, dim: int, population: int = 20, search_radius: float = 1.25, learning_rate: float = 1.25,
                 antithetic: bool = True, center: Any = None, init_codes: Any = None,
                 score_scale: Any = 1.0, code_scale: float = 1.0, *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, population, search_radius, learning_rate, antithetic, center, init_codes,
                         score_scale, code_scale, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)

    def _perturbations(self) -> torch.Tensor:
        if self.antithetic:
            steps = self._draw(self.population // 2) * self.step_radius_
            return torch.cat([steps, -steps])
        steps = self._draw(self.population - 1) * self.step_radius_
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
        self.center_ = self.center_ + self.step_learning_rate_ * g


class FDGDAuto(FDGD):
    """The project's FDGD: XDream's rule on scores divided by the "auto" scale.

    Defaults as :class:`FDGD` except ``score_scale="auto"``.
    """

    name = "fdgd-auto"
    reference = {
        "source": "this project (landscape.optim.FDGD before issue 13): XDream's FDGD rule (willwx/XDream "
                  "xdream/Optimizers.py FDGD.step) on scores divided by the first generation's spread / radius",
        "rule": XDREAM_FDGD_REFERENCE["rule"],
        "code_space": XDREAM_FDGD_REFERENCE["code_space"],
    }

    def __init__(self, dim: int, population: int = 20, search_radius: float = 1.25, learning_rate: float = 1.25,
                 antithetic: bool = True, center: Any = None, init_codes: Any = None,
                 score_scale: Any = "auto", code_scale: float = 1.0, *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, population, search_radius, learning_rate, antithetic, center, init_codes,
                         score_scale, code_scale, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
