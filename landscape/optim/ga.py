"""XDream's genetic algorithm (Xiao & Kreiman 2020, Methods; seed paper 001).

Each generation holds ``population`` codes. Their scores ``x`` become selection probabilities
``w = softmax(x / kT)`` with ``kT = std(x) / selectivity`` — equivalently
``w ∝ exp(selectivity * zscore(x))``. Every child has two parents drawn (with replacement,
not necessarily distinct) with probabilities ``w``; each component comes from the first
parent with probability ``heritability`` and from the second otherwise; then each component
is mutated with probability ``mutation_rate`` by adding ``N(0, mutation_size^2)``. The
``n_elites`` best codes pass to the next generation unchanged (XDream's ``n_conserve``) and
are scored again there.

XDream's published code also clips the scores at their 95th percentile before the softmax;
the paper's methods do not describe it and this class follows the paper.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Optimizer
from .checks import as_codes, check_float, check_int, dtype_name
from .weights import ranks_descending


class GA(Optimizer):
    """XDream's genetic algorithm, ask/tell.

    Parameters
    ----------
    dim : int
        Code dimension ``d``.
    population : int, >= 1
        Codes per generation (XDream default 20).
    mutation_rate : float in [0, 1]
        Probability that a component of a child is mutated (default 0.5).
    mutation_size : float >= 0
        Standard deviation of a mutation (default 0.5, in code units).
    selectivity : float > 0
        Selection pressure: ``kT = std(scores) / selectivity`` (default 2).
    heritability : float in [0, 1]
        Probability that a component comes from the first parent (default 0.5; ``h`` and
        ``1 - h`` are equivalent since the parents are unordered).
    n_elites : int in [0, population - 1]
        Best codes carried over unmutated (default 0, XDream's ``n_conserve``).
    init_codes : (n, d) array-like or None
        First generation. With ``n < population`` the missing rows are bred from the given
        ones with uniform fitness, as XDream does; with ``n > population`` all are scored and
        the next generation is bred from them. ``None``: standard normal codes (XDream's
        initial population), the prior of DCGAN-type generators — pass
        ``generator.sample(population)`` for other priors.
    seed, device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`. With ``nan_policy="drop"`` the next
        generation is bred from the codes that have scores, at full population size.

    Attributes
    ----------
    kT_ : float or None
        Temperature of the last selection.
    """

    name = "ga"

    def __init__(self, dim: int, population: int = 20, mutation_rate: float = 0.5, mutation_size: float = 0.5,
                 selectivity: float = 2.0, heritability: float = 0.5, n_elites: int = 0,
                 init_codes: Any = None, *, seed: int | None = None, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32, nan_policy: str = "raise") -> None:
        super().__init__(dim, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        self.population = check_int("population", population, 1)
        self.mutation_rate = check_float("mutation_rate", mutation_rate, 0.0, 1.0)
        self.mutation_size = check_float("mutation_size", mutation_size, 0.0)
        self.selectivity = check_float("selectivity", selectivity, 0.0, low_open=True)
        self.heritability = check_float("heritability", heritability, 0.0, 1.0)
        self.n_elites = check_int("n_elites", n_elites, 0, self.population - 1)
        self.kT_: float | None = None
        self._current: torch.Tensor | None = None
        if init_codes is not None:
            self.initialize(init_codes)

    # -- breeding ---------------------------------------------------------------------------
    def _breed(self, parents: torch.Tensor, probabilities: torch.Tensor, n: int) -> torch.Tensor:
        """``n`` mutated children of ``parents`` (m, d) drawn with ``probabilities`` (m,)."""
        first = self._multinomial(probabilities, n)
        second = self._multinomial(probabilities, n)
        from_first = self._rand(n, self.dim) < self.heritability
        children = torch.where(from_first, parents[first], parents[second])
        mutate = self._rand(n, self.dim) < self.mutation_rate
        noise = self._randn(n, self.dim)
        return children + mutate.to(self.dtype) * noise * self.mutation_size

    # -- ask / tell ------------------------------------------------------------------------
    def initialize(self, codes: Any) -> None:
        """Set the first generation (before the first ``tell``).

        Parameters
        ----------
        codes : (n, d) array-like
        """
        if self.generation > 0:
            raise RuntimeError("initialize() sets the first generation; this GA has already been told "
                               f"{self.generation} generation(s)")
        codes = as_codes(codes, self.dim, self.device, self.dtype, "init_codes")
        missing = self.population - codes.shape[0]
        if missing > 0:
            uniform = torch.ones(codes.shape[0], dtype=torch.float64)
            codes = torch.cat([codes, self._breed(codes, uniform, missing)])
        self._current = codes

    def ask(self) -> torch.Tensor:
        """The current generation.

        Returns
        -------
        codes : (population, d) tensor (the same codes until the next ``tell``; the first
            generation has as many rows as the ``init_codes`` when there were more)
        """
        if self._current is None:
            self._current = self._randn(self.population, self.dim)
        return self._current.clone()

    def _tell(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        order = ranks_descending(scores)
        codes, scores = codes[order], scores[order].double()
        std = float(scores.std(unbiased=False)) if scores.numel() > 1 else 0.0
        self.kT_ = max(std / self.selectivity, 1e-8)  # XDream's floor keeps a constant batch finite
        fitness = torch.softmax((scores - scores[0]) / self.kT_, dim=0)
        n_elites = min(self.n_elites, codes.shape[0])
        children = self._breed(codes, fitness, self.population - n_elites)
        self._current = torch.cat([codes[:n_elites], children])

    # -- state -----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"current": None if self._current is None else self._current.clone(), "kT": self.kT_}

    def _load_state(self, state: dict[str, Any]) -> None:
        cur = state["current"]
        self._current = None if cur is None else cur.to(device=self.device, dtype=self.dtype).clone()
        self.kT_ = state["kT"]

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dtype": dtype_name(self.dtype), "population": self.population,
                "mutation_rate": self.mutation_rate, "mutation_size": self.mutation_size,
                "selectivity": self.selectivity, "heritability": self.heritability, "n_elites": self.n_elites}
