"""ActMax-Optimizer-Dev's CholeskyCMAES (Wang & Ponce 2022), the CMA-ES its benchmark ran.

The search distribution is ``N(m, sigma^2 A^T A)`` with codes as rows: a generation is
``x_k = m + sigma z_k A``, ``z_k ~ N(0, I)``. With ``mu = floor(lambda / 2)`` log weights
``w`` (Hansen's), the best ``mu`` codes (sorted by score, best first) give

* ``m <- w @ x_(1..mu)``, ``zw = w @ z_(1..mu)``
* ``ps <- (1 - cs) ps + sqrt(cs (2 - cs) mueff) zw``
* ``pc <- (1 - cc) pc + sqrt(cc (2 - cc) mueff) zw A``
* ``sigma <- sigma exp(cs / damps (|ps| / chiN - 1))``
* only when ``counteval - eigeneval > refresh_every * lambda`` (then ``eigeneval <- counteval``):
  a rank-one update of the factor and its inverse with ``v = pc Ainv``, ``|v|^2 = v v^T``::

      A    <- sqrt(1 - c1) A + sqrt(1 - c1) / |v|^2 (sqrt(1 + |v|^2 c1 / (1 - c1)) - 1) v^T pc
      Ainv <- Ainv / sqrt(1 - c1) - Ainv v^T v / (sqrt(1 - c1) |v|^2) (1 - 1 / sqrt(1 + |v|^2 c1 / (1 - c1)))

with ``cc = 4 / (N + 4)``, ``cs = sqrt(mueff) / (sqrt(mueff) + sqrt(N))``, ``c1 = 2 / (N + sqrt 2)^2``,
``damps = 1 + cs + 2 max(0, sqrt((mueff - 1) / (N + 1)) - 1)``, ``chiN = sqrt(N) (1 - 1/(4N) + 1/(21 N^2))``.
No rank-mu update and no ``h_sigma`` stall; ``counteval`` grows by ``lambda`` per generation
after the first, and the strict ``>`` makes the factor change every ``refresh_every + 1``
generations (the 11th, 22nd, ... ``tell`` with the default 10).

The first generation is the starting code alone (ActMax's ``get_init_pop`` returns
``init_code``; its benchmark passes zeros), which becomes the mean whatever its score. After
:meth:`CholeskyCMAES.initialize` with codes, the first generation is those codes and the mean
starts at the weighted mean of their best ``mu`` (ActMax's ``init_code=None`` branch).

Source: Animadversio/ActMax-Optimizer-Dev ``core/Optimizers.py`` ``CholeskyCMAES.step_simple``;
settings of ``cma_benchmark.py`` (``population_size=40, init_sigma=3.0, Aupdate_freq=10,
init_code=zeros``); Wang & Ponce 2022, GECCO. Its ``sigma0`` of 3 is an absolute length made
for DeePSiM fc6 codes (4096-d, norms ~300: 4.7 per component); in a 100-d ``N(0, I)`` space
(1 per component) one sample step is then about 3 times the typical code norm. ``code_scale``
multiplies ``sigma0`` (default 1: the published value).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .base import Optimizer
from .checks import as_codes, check_float, check_int, dtype_name
from .weights import log_weights, ranks_descending


class CholeskyCMAES(Optimizer):
    """ActMax-Optimizer-Dev's CholeskyCMAES: CMA-ES with a rank-one factor update every few generations.

    Parameters
    ----------
    dim : int
        Code dimension ``N``.
    population : int >= 2 or None
        ``lambda`` (default 40, ActMax's benchmark; ``None``: the source's ``4 + floor(3 log2 N)``).
    sigma0 : float > 0
        Initial step size (default 3.0, before ``code_scale``).
    refresh_every : int >= 1 or None
        ActMax's ``Aupdate_freq``: the factor is refreshed when more than ``refresh_every *
        lambda`` evaluations passed since the last refresh (default 10). ``None``: the source's
        ``lambda / c1 / N / 10``.
    center : (d,) array-like or None
        Starting code, the first generation (ActMax's ``init_code``; default the zero code).
    code_scale : float > 0
        Multiplies ``sigma0`` (see the module docstring).
    seed, device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`. ``dtype`` defaults to float64 (the
        source's numpy; ``c1`` is about 1e-7 at N = 4096, below float32's resolution of
        ``sqrt(1 - c1)``). With ``nan_policy="drop"`` fewer than ``mu`` rows may remain: their
        weights are then renormalised, as the source does for its first generation.

    Attributes
    ----------
    mean_ : (d,) tensor
    sigma_ : float
    A_, Ainv_ : (d, d) tensors, the factor (``C = A^T A``) and its inverse
    """

    name = "cholcma"
    step_attr = "sigma_"
    reference = {
        "source": "Animadversio/ActMax-Optimizer-Dev core/Optimizers.py CholeskyCMAES.step_simple; settings of "
                  "cma_benchmark.py get_optimizer('CholeskyCMAES'); Wang & Ponce 2022, GECCO",
        "rule": "weighted recombination of the best mu = lambda/2; paths ps, pc; sigma by path length; rank-one "
                "update of A and Ainv only when counteval - eigeneval > refresh_every * lambda; no rank-mu",
        "code_space": "sigma0 is absolute, chosen for DeePSiM fc6 codes (4096-d, norms ~300); code_scale multiplies "
                      "it (effective sigma0 = sigma0 * code_scale)",
    }

    def __init__(self, dim: int, population: int | None = 40, sigma0: float = 3.0, refresh_every: int | None = 10,
                 center: Any = None, code_scale: float = 1.0, *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float64,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        n = self.dim
        self.population = (int(4 + math.floor(3 * math.log2(n))) if population is None
                           else check_int("population", population, 2))
        self._population_given = population
        self.sigma0 = check_float("sigma0", sigma0, 0.0, low_open=True)
        self.refresh_every = None if refresh_every is None else check_int("refresh_every", refresh_every, 1)
        self.code_scale = check_float("code_scale", code_scale, 0.0, low_open=True)
        # strategy constants, as the source computes them
        self.mu = int(math.floor(self.population / 2))
        self.weights = log_weights(self.population)[:self.mu]
        self.mueff = float(self.weights.sum() ** 2 / (self.weights ** 2).sum())
        self.cc = 4 / (n + 4)
        self.cs = math.sqrt(self.mueff) / (math.sqrt(self.mueff) + math.sqrt(n))
        self.c1 = 2 / (n + math.sqrt(2)) ** 2
        self.damps = 1 + self.cs + 2 * max(0.0, math.sqrt((self.mueff - 1) / (n + 1)) - 1)
        self.chiN = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n ** 2))
        self.update_crit = (self.population / self.c1 / n / 10 if self.refresh_every is None
                            else self.refresh_every * self.population)
        # state
        self.mean_ = (torch.zeros(n, device=self.device, dtype=dtype) if center is None
                      else as_codes(center, n, self.device, dtype, "center", max_rows=1)[0])
        self.sigma_ = self.sigma0 * self.code_scale
        self._ps = torch.zeros(n, device=self.device, dtype=dtype)
        self._pc = torch.zeros(n, device=self.device, dtype=dtype)
        self.A_ = torch.eye(n, device=self.device, dtype=dtype)
        self.Ainv_ = torch.eye(n, device=self.device, dtype=dtype)
        self.counteval = 0
        self.eigeneval = 0
        self.refreshes_ = 0
        self._first: torch.Tensor | None = self.mean_[None].clone()  # the first generation, if not told yet
        self._first_is_center = True
        self._z: torch.Tensor | None = None  # standard normal draws of the pending generation

    # -- ask / tell ------------------------------------------------------------------------
    def initialize(self, codes: Any) -> None:
        """Score ``codes`` (n, d) as the first generation; the mean starts at the weighted mean of
        their best ``mu`` (the source's ``init_code=None`` branch)."""
        if self.generation > 0:
            raise RuntimeError(f"initialize() sets the first generation; this optimizer has already been told "
                               f"{self.generation} generation(s)")
        self._first = as_codes(codes, self.dim, self.device, self.dtype, "init_codes")
        self._first_is_center = False

    def ask(self) -> torch.Tensor:
        """Codes to score next.

        Returns
        -------
        codes : (population, d) tensor; before the first ``tell``, the starting code (1, d) or
            the ``initialize`` codes
        """
        if self._first is not None:
            return self._first.clone()
        if self._z is None:
            self._z = self._randn(self.population, self.dim)
        return self.mean_[None] + self.sigma_ * (self._z @ self.A_)

    def _tell(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        order = ranks_descending(scores)[:self.mu]
        w = self.weights[:order.numel()].to(device=self.device, dtype=self.dtype)
        w = w / w.sum()
        if self._first is not None:
            if not self._first_is_center:
                self.mean_ = w @ codes[order]
            self._first = None
        else:
            z = self._told_draws(codes)[order]
            self.mean_ = w @ codes[order]
            zw = w @ z
            self._ps = (1 - self.cs) * self._ps + math.sqrt(self.cs * (2 - self.cs) * self.mueff) * zw
            self._pc = (1 - self.cc) * self._pc + math.sqrt(self.cc * (2 - self.cc) * self.mueff) * (zw @ self.A_)
            self.sigma_ = self.sigma_ * math.exp((self.cs / self.damps) * (float(self._ps.norm()) / self.chiN - 1))
            if self.counteval - self.eigeneval > self.update_crit:
                self.eigeneval = self.counteval
                self._refresh()
        self._z = None
        self.counteval += self.population

    def _told_draws(self, codes: torch.Tensor) -> torch.Tensor:
        """The ``z`` of the told codes: the stored draws when the asked codes came back unchanged,
        else recovered as ``(x - m) Ainv / sigma``."""
        if self._z is not None:
            asked = self.mean_[None] + self.sigma_ * (self._z @ self.A_)
            if asked.shape == codes.shape and torch.equal(asked, codes):
                return self._z
        return (codes - self.mean_[None]) @ self.Ainv_ / self.sigma_

    def _refresh(self) -> None:
        """The source's rank-one update of ``A`` and ``Ainv`` along the path ``pc``."""
        v = self._pc @ self.Ainv_
        normv = float(v @ v)
        if normv == 0:  # a zero path (the source divides by it): nothing to learn
            return
        c1 = self.c1
        a = math.sqrt(1 - c1)
        root = math.sqrt(1 + normv * c1 / (1 - c1))
        self.A_ = a * self.A_ + a / normv * (root - 1) * torch.outer(v, self._pc)
        self.Ainv_ = self.Ainv_ / a - 1 / a / normv * (1 - 1 / root) * torch.outer(self.Ainv_ @ v, v)
        self.refreshes_ += 1

    # -- state -----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"mean": self.mean_.clone(), "sigma": self.sigma_, "ps": self._ps.clone(), "pc": self._pc.clone(),
                "A": self.A_.clone(), "Ainv": self.Ainv_.clone(), "counteval": self.counteval,
                "eigeneval": self.eigeneval, "refreshes": self.refreshes_,
                "first": None if self._first is None else self._first.clone(),
                "first_is_center": self._first_is_center, "z": None if self._z is None else self._z.clone()}

    def _load_state(self, state: dict[str, Any]) -> None:
        t = lambda x: None if x is None else x.to(device=self.device, dtype=self.dtype).clone()  # noqa: E731
        self.mean_, self._ps, self._pc = t(state["mean"]), t(state["ps"]), t(state["pc"])
        self.A_, self.Ainv_ = t(state["A"]), t(state["Ainv"])
        self.sigma_ = float(state["sigma"])
        self.counteval, self.eigeneval = int(state["counteval"]), int(state["eigeneval"])
        self.refreshes_ = int(state["refreshes"])
        self._first, self._first_is_center, self._z = t(state["first"]), bool(state["first_is_center"]), t(state["z"])

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dtype": dtype_name(self.dtype), "population": self._population_given,
                "sigma0": self.sigma0, "refresh_every": self.refresh_every, "code_scale": self.code_scale}
