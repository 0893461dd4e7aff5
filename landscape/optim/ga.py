"""Genetic algorithms: XDream's published GA, ActMax-Optimizer-Dev's GA baseline, and the
project's variant, all one rule with different settings.

Each generation holds ``population`` codes. The told scores are sorted best first; their
temperature is ``kT = max(std(s) / selectivity, 1e-8)`` (population standard deviation of the
*unclipped* scores). With ``score_clip = q`` the sorted scores are then clipped from above at
their ``q``-th percentile (numpy's linear interpolation), XDream's "remove outlier" step, so
that one outlier does not take every child. Fitness is ``f_i = exp((s_i - s_0) / kT)``
(``s_0`` the best, clipped, score); a fitness that underflows to 0 takes the smallest positive
one, as XDream's ``_mate`` does. The ``n_elites`` best codes pass unchanged (XDream's
``n_conserve``) and are scored again; every other child has two parents drawn with
replacement with probabilities ``f / sum(f)`` (inverse CDF of a uniform draw, XDream's
``np.digitize`` on the cumulative fitness), takes each component from the first parent with
probability ``heritability`` and from the second otherwise, then each component is mutated
with probability ``mutation_rate`` by adding ``N(0, mutation_size^2)``.

============ ============================ ===========================================================
name         class                        settings (source)
============ ============================ ===========================================================
ga           GA                           XDream: population 20, mutation rate 0.5, size 0.5,
                                          selectivity 2, heritability 0.5, n_conserve 1, 95th-
                                          percentile clip (willwx/XDream ``xdream/Optimizers.py``
                                          ``Genetic``; ``examples/experiment.py``; Xiao & Kreiman
                                          2020, PLoS Comput Biol 16(6): e1007973)
ga-actmax    ActMaxGA                     ActMax-Optimizer-Dev: population 40, mutation rate 0.25,
                                          size 0.75, kT = 2 std (selectivity 0.5), parental skew
                                          0.75, n_conserve 10, no clip (``core/Optimizers.py``
                                          ``Genetic``; ``cma_benchmark.py``; Wang & Ponce 2022,
                                          GECCO, "High-performance evolutionary algorithms for
                                          online neuron control")
ga-project   ProjectGA                    this project's earlier default: XDream's settings without
                                          the clip and without an elite
============ ============================ ===========================================================

Step sizes and the code space: ``mutation_size`` is an absolute length in code units. The
published values were chosen for DeePSiM fc6 codes (4096-d, non-negative, norms of a few
hundred: about 4.7 per component for ActMax's norm 300), not for a 100-d ``N(0, I)`` prior
(1 per component). ``code_scale = c`` multiplies ``mutation_size`` by ``c`` (the search then
acts on codes ``c y`` as the published settings act on ``y``); the default 1 keeps the
published numbers. Initial codes are standard normal whatever ``code_scale`` (both sources
start from ``N(0, I)``; pass ``generator.sample(population)`` for other priors).

Differences from the sources, all outside the update rule: the random numbers come from this
optimizer's ``torch.Generator`` (not numpy's ``RandomState``, so a seed gives other draws than
XDream's), non-finite scores follow ``nan_policy`` (XDream carries unscored codes over), and
a first generation larger than ``population`` is bred from whole.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Optimizer
from .checks import as_codes, check_float, check_int, dtype_name
from .weights import ranks_descending

XDREAM_REFERENCE = {
    "source": "willwx/XDream xdream/Optimizers.py Genetic (step, _propose_new_generation, _mate, _mutate); "
              "settings of examples/experiment.py; Xiao & Kreiman 2020, PLoS Comput Biol 16(6): e1007973",
    "rule": "kT = max(std(s)/selectivity, 1e-8) before the clip; sorted scores clipped at their score_clip-th "
            "percentile; fitness exp((s - s_best)/kT); n_elites best kept unmutated",
    "code_space": "mutation_size is absolute, chosen for DeePSiM fc6 codes (4096-d); code_scale multiplies it "
                  "(effective mutation_size = mutation_size * code_scale)",
}


class GA(Optimizer):
    """XDream's genetic algorithm (the published code's rule and example settings), ask/tell.

    Parameters
    ----------
    dim : int
        Code dimension ``d``.
    population : int, >= 1
        Codes per generation (XDream 20).
    mutation_rate : float in [0, 1]
        Probability that a component of a child is mutated (XDream 0.5).
    mutation_size : float >= 0
        Standard deviation of a mutation, in code units before ``code_scale`` (XDream 0.5).
    selectivity : float > 0
        Selection pressure: ``kT = std(scores) / selectivity`` (XDream 2).
    heritability : float in [0, 1]
        Probability that a component comes from the first parent (XDream 0.5; ``h`` and
        ``1 - h`` are equivalent since the parents are unordered).
    n_elites : int in [0, population - 1]
        Best codes carried over unmutated (XDream's ``n_conserve``; 1 in its example experiment).
    score_clip : float in (0, 100] or None
        Percentile at which the sorted scores are clipped before the fitness (XDream 95);
        ``None`` skips the clip.
    code_scale : float > 0
        Multiplies ``mutation_size`` (see the module docstring; default 1, the published size).
    init_codes : (n, d) array-like or None
        First generation. With ``n < population`` the missing rows are bred from the given
        ones with uniform fitness, as XDream does; with ``n > population`` all are scored and
        the next generation is bred from them. ``None``: standard normal codes (XDream's
        initial population), the prior of DCGAN-type generators.
    seed, device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`. With ``nan_policy="drop"`` the next
        generation is bred from the codes that have scores, at full population size.

    Attributes
    ----------
    kT_ : float or None
        Temperature of the last selection.
    """

    name = "ga"
    reference: dict[str, str] | None = XDREAM_REFERENCE

    def __init__(self, dim: int, population: int = 20, mutation_rate: float = 0.5, mutation_size: float = 0.5,
                 selectivity: float = 2.0, heritability: float = 0.5, n_elites: int = 1,
                 score_clip: float | None = 95.0, code_scale: float = 1.0, init_codes: Any = None, *,
                 seed: int | None = None, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32, nan_policy: str = "raise") -> None:
        super().__init__(dim, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        self.population = check_int("population", population, 1)
        self.mutation_rate = check_float("mutation_rate", mutation_rate, 0.0, 1.0)
        self.mutation_size = check_float("mutation_size", mutation_size, 0.0)
        self.selectivity = check_float("selectivity", selectivity, 0.0, low_open=True)
        self.heritability = check_float("heritability", heritability, 0.0, 1.0)
        self.n_elites = check_int("n_elites", n_elites, 0, self.population - 1)
        self.score_clip = None if score_clip is None else check_float(
            "score_clip (a percentile or None)", score_clip, 0.0, 100.0, low_open=True)
        self.code_scale = check_float("code_scale", code_scale, 0.0, low_open=True)
        self.kT_: float | None = None
        self._current: torch.Tensor | None = None
        if init_codes is not None:
            self.initialize(init_codes)

    # -- the published rule, on sorted scores ------------------------------------------------
    def fitness(self, sorted_scores: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Selection weights of scores sorted best first, and the temperature used.

        Parameters
        ----------
        sorted_scores : (m,) tensor, descending

        Returns
        -------
        fitness : (m,) float64 tensor, positive, 1 for the best (unnormalised, as XDream's)
        kT : float
        """
        s = sorted_scores.double()
        std = float(s.std(unbiased=False)) if s.numel() > 1 else 0.0
        kT = max(std / self.selectivity, 1e-8)  # XDream's floor keeps a constant batch finite
        if self.score_clip is not None and s.numel() > 1:
            s = torch.clamp(s, max=float(torch.quantile(s, self.score_clip / 100.0)))
        f = torch.exp((s - s[0]) / kT)
        if bool((f <= 0).any()):  # underflow: XDream gives such codes the smallest positive fitness
            f = torch.where(f > 0, f, f[f > 0].min())
        return f, kT

    # -- breeding ---------------------------------------------------------------------------
    def _parents(self, fitness: torch.Tensor, n: int) -> torch.Tensor:
        """``n`` indices drawn with probabilities ``fitness / sum(fitness)`` (inverse CDF)."""
        bins = torch.cumsum(fitness.double().cpu(), 0)
        bins = bins / bins[-1]
        u = self._rand(n).double().cpu()
        idx = torch.searchsorted(bins, u, right=True).clamp_(max=fitness.numel() - 1)
        return idx.to(self.device)

    def _breed(self, parents: torch.Tensor, fitness: torch.Tensor, n: int) -> torch.Tensor:
        """``n`` mutated children of ``parents`` (m, d) selected with ``fitness`` (m,)."""
        first = self._parents(fitness, n)
        second = self._parents(fitness, n)
        from_first = self._rand(n, self.dim) < self.heritability
        children = torch.where(from_first, parents[first], parents[second])
        mutate = self._rand(n, self.dim) < self.mutation_rate
        noise = self._randn(n, self.dim)
        return children + mutate.to(self.dtype) * noise * (self.mutation_size * self.code_scale)

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
        codes = codes[order]
        fitness, self.kT_ = self.fitness(scores[order])
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
                "selectivity": self.selectivity, "heritability": self.heritability, "n_elites": self.n_elites,
                "score_clip": self.score_clip, "code_scale": self.code_scale}


class ActMaxGA(GA):
    """ActMax-Optimizer-Dev's GA baseline (Wang & Ponce 2022): :class:`GA` with its settings.

    ActMax's ``Genetic`` sets ``kT = kT_multiplier * std(scores)`` with ``kT_multiplier = 2``,
    which is :class:`GA`'s ``selectivity = 1 / 2``; ``parental_skew`` is ``heritability``;
    it does not clip the scores. Defaults: population 40, mutation rate 0.25, mutation size
    0.75, selectivity 0.5 (kT = 2 std), heritability 0.75, 10 elites, as in its
    ``cma_benchmark.py`` (``get_optimizer("Genetic")``). Parameters as :class:`GA`.
    """

    name = "ga-actmax"
    reference = {
        "source": "Animadversio/ActMax-Optimizer-Dev core/Optimizers.py Genetic.step_simple, mate, mutate; "
                  "settings of cma_benchmark.py get_optimizer('Genetic'); Wang & Ponce 2022, GECCO",
        "rule": "kT = max(kT_multiplier * std(s), 1e-8) with kT_multiplier = 2 (selectivity = 1/kT_multiplier); "
                "no clip; fitness exp((s - s_best)/kT); parental_skew = heritability; n_conserve = n_elites",
        "code_space": "mutation_size is absolute, chosen for DeePSiM fc6 codes (4096-d, norms ~300); code_scale "
                      "multiplies it (effective mutation_size = mutation_size * code_scale)",
    }

    def __init__(self, dim: int, population: int = 40, mutation_rate: float = 0.25, mutation_size: float = 0.75,
                 selectivity: float = 0.5, heritability: float = 0.75, n_elites: int = 10,
                 score_clip: float | None = None, code_scale: float = 1.0, init_codes: Any = None, *,
                 seed: int | None = None, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32, nan_policy: str = "raise") -> None:
        super().__init__(dim, population, mutation_rate, mutation_size, selectivity, heritability, n_elites,
                         score_clip, code_scale, init_codes, seed=seed, device=device, dtype=dtype,
                         nan_policy=nan_policy)


class ProjectGA(GA):
    """The project's earlier default GA: XDream's settings without its score clip and elite.

    Defaults as :class:`GA` except ``n_elites = 0`` and ``score_clip = None`` (the paper's
    methods describe neither). Parameters as :class:`GA`.
    """

    name = "ga-project"
    reference = {
        "source": "this project (landscape.optim.GA before issue 13): XDream's rule as the paper's methods "
                  "describe it (Xiao & Kreiman 2020), without the published code's 95th-percentile clip and "
                  "elite",
        "rule": "kT = max(std(s)/selectivity, 1e-8); fitness exp((s - s_best)/kT); no elite",
        "code_space": XDREAM_REFERENCE["code_space"],
    }

    def __init__(self, dim: int, population: int = 20, mutation_rate: float = 0.5, mutation_size: float = 0.5,
                 selectivity: float = 2.0, heritability: float = 0.5, n_elites: int = 0,
                 score_clip: float | None = None, code_scale: float = 1.0, init_codes: Any = None, *,
                 seed: int | None = None, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32, nan_policy: str = "raise") -> None:
        super().__init__(dim, population, mutation_rate, mutation_size, selectivity, heritability, n_elites,
                         score_clip, code_scale, init_codes, seed=seed, device=device, dtype=dtype,
                         nan_policy=nan_policy)
