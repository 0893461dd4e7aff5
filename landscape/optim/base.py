"""The ask/tell contract every optimizer in :mod:`landscape.optim` follows.

An optimizer never sees a generator or a neuron: it proposes codes (``ask``) and is told
their scores (``tell``). The same object can therefore drive a CNN unit in a loop or a
neuron recorded by a rig that answers minutes later.

NaN policy
----------
Scores come from measurements, and measurements fail. ``tell`` never lets a NaN reach the
update silently. With ``nan_policy="raise"`` (the default) a NaN or infinite score raises
:class:`ValueError` naming the offending rows. With ``nan_policy="worst"`` the rows are kept
but ranked below every finite score (their score becomes the finite minimum of the batch
minus one batch standard deviation), which is what a rig that sometimes drops an image
wants. With ``nan_policy="drop"`` the rows are removed before the update; optimizers that
need a fixed population size (GA) then breed from the rows that remain.

Result and stopping (after pycma)
---------------------------------
Every optimizer keeps the best code it was told about (by told score, finite scores only)
and answers :attr:`Optimizer.result` (:class:`OptimizerResult`: ``best_code``, ``best_score``,
``best_generation``, ``evaluations``, ``generations``, ``stop``), as pycma's ``es.result``.
:meth:`Optimizer.stop` returns the termination criteria that are met, as pycma's
``es.stop()``: a dict from criterion name to its threshold, empty while the search should go
on. No criterion is on by default; :meth:`Optimizer.stop_when` sets them:

``maxiter``
    the number of ``tell`` calls reached it;
``tolfun``
    the best told score of each of the last ``tolfun_generations`` generations spans less than
    ``tolfun`` (stagnation; pycma's ``tolfun`` looks at the same window of best values);
``tolx``
    the search distribution's step size (``sigma`` of CMAES, CholeskyCMAES and PyCMA, NES's
    radius) fell below ``tolx``;
    optimizers without one (GA, SphereCMA, FDGD) never meet it.

:func:`landscape.runs.evolve` ends a run (status ``stopped``, the reasons in ``meta.json``
under ``stop``) when :meth:`Optimizer.stop` is not empty.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

NAN_POLICIES = ("raise", "worst", "drop")


def as_scores(scores: Any, n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Convert ``scores`` to a 1-D tensor of length ``n`` or raise a clear error.

    Parameters
    ----------
    scores : (n,) array-like
    n : int
        Number of codes the scores belong to.
    """
    t = torch.as_tensor(np.asarray(scores.detach().cpu() if torch.is_tensor(scores) else scores,
                                   dtype=np.float64))
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"scores must have shape ({n},) to match the codes, got {tuple(t.shape)}")
    return t.to(device=device, dtype=dtype)


def apply_nan_policy(codes: torch.Tensor, scores: torch.Tensor, policy: str
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply the documented NaN policy to a batch of (codes, scores).

    Parameters
    ----------
    codes : (n, d) tensor
    scores : (n,) tensor
    policy : {"raise", "worst", "drop"}

    Returns
    -------
    codes, scores : tensors with no non-finite score.
    """
    if policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {policy!r}")
    bad = ~torch.isfinite(scores)
    if not bool(bad.any()):
        return codes, scores
    rows = torch.nonzero(bad).flatten().tolist()
    if policy == "raise":
        raise ValueError(
            f"scores contain NaN or inf at rows {rows}; pass nan_policy='worst' or 'drop' to the "
            "optimizer to rank such rows last or to discard them")
    if bool(bad.all()):
        raise ValueError("every score in this batch is NaN or inf; nothing to learn from")
    if policy == "drop":
        return codes[~bad], scores[~bad]
    good = scores[~bad]
    spread = good.std() if good.numel() > 1 else good.new_tensor(1.0)
    fill = good.min() - torch.where(spread > 0, spread, spread.new_tensor(1.0))
    return codes, torch.where(bad, fill, scores)


@dataclass(frozen=True)
class OptimizerResult:
    """What an optimizer has found so far (pycma's ``es.result``).

    Attributes
    ----------
    best_code : (d,) tensor or None (nothing told yet)
    best_score : float (-inf when nothing finite was told)
    best_generation : int, the generation (0-based ``tell`` call) of ``best_code``; -1 before
    evaluations : int, codes told (with any score)
    generations : int, ``tell`` calls
    stop : dict, the criteria met (:meth:`Optimizer.stop`)
    """

    best_code: torch.Tensor | None
    best_score: float
    best_generation: int
    evaluations: int
    generations: int
    stop: dict = field(default_factory=dict)


STOP_CRITERIA = ("maxiter", "tolfun", "tolx")


class Optimizer(abc.ABC):
    """Base class of the ask/tell optimizers (maximisers).

    Parameters
    ----------
    dim : int
        Dimension ``d`` of the codes.
    seed : int or None
        Seeds this optimizer's own ``torch.Generator``. The generator lives on the CPU whatever
        the device: random numbers are drawn there and moved to ``device``, so a run on a GPU
        follows the same path as on the CPU (within float rounding) and its state resumes on
        either (about 0.6 ms per generation for 40 codes of d = 4096).
    device : str or torch.device or None
        Where codes are made and the search state lives; ``None`` means CPU.
    nan_policy : {"raise", "worst", "drop"}
        What ``tell`` does with non-finite scores (see the module docstring).

    Attributes
    ----------
    generation : int
        Number of completed ``tell`` calls.
    """

    #: short name used in run records and on the command line
    name: str = "optimizer"
    #: attribute holding the search distribution's step size (for ``tolx``), or None
    step_attr: str | None = None
    #: where a published preset comes from (``source``), its rule and how its step sizes relate
    #: to the code space; shown in :meth:`config` under ``"reference"`` (documentation, not a
    #: setting: :func:`landscape.optim.make` ignores it and resumed runs do not compare it)
    reference: dict[str, str] | None = None

    def __init__(self, dim: int, *, seed: int | None = None, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32, nan_policy: str = "raise") -> None:
        if not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
        self.dim = int(dim)
        self.seed = seed
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.dtype = dtype
        self.nan_policy = nan_policy
        self.generation = 0
        self.rng = torch.Generator()
        self.rng.manual_seed(int(seed) if seed is not None else int(torch.seed() % 2**63))
        self.stopping: dict[str, float] = {}
        self._best_code: torch.Tensor | None = None
        self._best_score = -math.inf
        self._best_generation = -1
        self._evaluations = 0
        self._best_history: list[float] = []

    # -- random numbers (drawn on the CPU, see the class docs) ---------------------------
    def _randn(self, *shape: int) -> torch.Tensor:
        """Standard normal draws of ``shape`` in this optimizer's dtype, on its device."""
        return torch.randn(*shape, generator=self.rng, dtype=self.dtype, device="cpu").to(self.device)

    def _rand(self, *shape: int) -> torch.Tensor:
        """Uniform [0, 1) draws of ``shape`` (float32), on this optimizer's device."""
        return torch.rand(*shape, generator=self.rng, device="cpu").to(self.device)

    def _multinomial(self, probabilities: torch.Tensor, n: int) -> torch.Tensor:
        """``n`` indices drawn with replacement from ``probabilities`` (m,), on this device."""
        drawn = torch.multinomial(probabilities.detach().cpu(), n, replacement=True, generator=self.rng)
        return drawn.to(self.device)

    # -- the contract -------------------------------------------------------------------
    @abc.abstractmethod
    def ask(self) -> torch.Tensor:
        """Propose the next codes to score.

        Returns
        -------
        codes : (n, d) tensor on ``self.device``
        """

    def tell(self, codes: torch.Tensor, scores: Any) -> None:
        """Update the search with the scores of ``codes`` (higher is better).

        Parameters
        ----------
        codes : (n, d) tensor
            Usually what ``ask`` returned.
        scores : (n,) array-like
        """
        codes = torch.as_tensor(codes).to(device=self.device, dtype=self.dtype)
        if codes.ndim != 2 or codes.shape[1] != self.dim:
            raise ValueError(f"codes must have shape (n, {self.dim}), got {tuple(codes.shape)}")
        scores = as_scores(scores, codes.shape[0], self.device, self.dtype)
        best = self._best_told(codes, scores)  # before the NaN policy fills anything in
        codes, scores = apply_nan_policy(codes, scores, self.nan_policy)
        self._tell(codes, scores)
        self._evaluations += int(best[0])
        self._best_history.append(best[1])
        if best[1] > self._best_score:
            self._best_score, self._best_code, self._best_generation = best[1], best[2], self.generation
        self.generation += 1

    @staticmethod
    def _best_told(codes: torch.Tensor, scores: torch.Tensor) -> tuple[int, float, torch.Tensor | None]:
        """(rows told, best finite score or -inf when there is none, a copy of its code)."""
        finite = torch.isfinite(scores)
        if not bool(finite.any()):
            return codes.shape[0], -math.inf, None
        i = int(torch.where(finite, scores, scores.new_tensor(-math.inf)).argmax())
        return codes.shape[0], float(scores[i]), codes[i].detach().clone()

    # -- result and termination (pycma's es.result and es.stop()) ------------------------
    @property
    def result(self) -> OptimizerResult:
        """The best code told so far, its score, and counts (see :class:`OptimizerResult`)."""
        return OptimizerResult(None if self._best_code is None else self._best_code.clone(), self._best_score,
                               self._best_generation, self._evaluations, self.generation, self.stop())

    def stop_when(self, *, maxiter: int | None = None, tolfun: float | None = None,
                  tolfun_generations: int = 10, tolx: float | None = None) -> "Optimizer":
        """Turn termination criteria on (see the module docstring); None leaves one off. Returns self."""
        crit: dict[str, float] = {}
        if maxiter is not None:
            if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
                raise ValueError(f"maxiter must be a positive integer or None, got {maxiter!r}")
            crit["maxiter"] = int(maxiter)
        if tolfun is not None:
            if not tolfun >= 0:
                raise ValueError(f"tolfun must be >= 0 or None, got {tolfun!r}")
            if isinstance(tolfun_generations, bool) or not isinstance(tolfun_generations, (int, np.integer)) \
                    or tolfun_generations < 2:
                raise ValueError(f"tolfun_generations must be an integer >= 2, got {tolfun_generations!r}")
            crit["tolfun"] = float(tolfun)
            crit["tolfun_generations"] = int(tolfun_generations)
        if tolx is not None:
            if not tolx > 0:
                raise ValueError(f"tolx must be > 0 or None, got {tolx!r}")
            if self.step_attr is None:
                raise ValueError(f"{type(self).__name__} has no step size for tolx; criteria it can use: maxiter, "
                                 "tolfun")
            crit["tolx"] = float(tolx)
        self.stopping = crit
        return self

    def stop(self) -> dict[str, float]:
        """The termination criteria met now: ``{name: threshold}``, empty while the search goes on."""
        met: dict[str, float] = {}
        c = self.stopping
        if "maxiter" in c and self.generation >= c["maxiter"]:
            met["maxiter"] = c["maxiter"]
        if "tolfun" in c:
            window = self._best_history[-c["tolfun_generations"]:]
            if len(window) == c["tolfun_generations"] and all(math.isfinite(v) for v in window) \
                    and max(window) - min(window) < c["tolfun"]:
                met["tolfun"] = c["tolfun"]
        if "tolx" in c and float(getattr(self, self.step_attr)) < c["tolx"]:
            met["tolx"] = c["tolx"]
        return met

    @abc.abstractmethod
    def _tell(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        """Update from finite scores; ``codes`` (n, d) and ``scores`` (n,) already checked."""

    def initialize(self, codes: torch.Tensor) -> None:
        """Start the search from given codes, before the first ``ask``.

        Population methods (GA) use them as the first generation; distribution methods use
        their mean as the initial mean (SphereCMA also takes their mean norm as its radius).
        Optimizers that cannot start from codes raise :class:`NotImplementedError`.

        Parameters
        ----------
        codes : (n, d) tensor
        """
        raise NotImplementedError(f"{type(self).__name__} cannot start from given codes")

    # -- state --------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        """Subclass state (tensors and plain values) beyond the common fields."""
        return {}

    def _load_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`_state` returned."""

    def _tracking_state(self) -> dict[str, Any]:
        # flat entries (tensors and plain values), like every other entry of a state dict
        return {"result_best_code": self._best_code, "result_best_score": self._best_score,
                "result_best_generation": self._best_generation, "result_evaluations": self._evaluations,
                "result_best_history": torch.tensor(self._best_history, dtype=torch.float64)}

    def _load_tracking_state(self, state: dict[str, Any]) -> None:
        if "result_best_score" not in state:  # a checkpoint written before results were kept
            return
        code = state["result_best_code"]
        self._best_code = None if code is None else code.to(self.device).clone()
        self._best_score = float(state["result_best_score"])
        self._best_generation = int(state["result_best_generation"])
        self._evaluations = int(state["result_evaluations"])
        self._best_history = [float(v) for v in state["result_best_history"].tolist()]

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-for-bit: hyper-parameters, search state, RNG."""
        return {"name": self.name, "dim": self.dim, "generation": self.generation,
                "rng": self.rng.get_state(), **self._tracking_state(), **self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != self.name or state.get("dim") != self.dim:
            raise ValueError(f"state is for optimizer {state.get('name')!r} with dim {state.get('dim')}, "
                             f"not {self.name!r} with dim {self.dim}")
        self.generation = int(state["generation"])
        self.rng.set_state(state["rng"].cpu() if torch.is_tensor(state["rng"]) else state["rng"])
        self._load_tracking_state(state)
        self._load_state(state)

    def config(self) -> dict[str, Any]:
        """Hyper-parameters as plain JSON values (written to a run's ``meta.json``), with the
        preset's ``reference`` (source, rule, step sizes vs code space) where it has one."""
        cfg: dict[str, Any] = {"name": self.name, "dim": self.dim, "seed": self.seed, "nan_policy": self.nan_policy}
        if self.reference is not None:
            cfg["reference"] = dict(self.reference)
        return cfg

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k not in ("name", "reference"))
        return f"{type(self).__name__}({args})"
