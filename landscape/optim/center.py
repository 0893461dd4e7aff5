"""Common ground of the centre-based searches (NES, FDGD): a centre code, perturbed samples
around it, optional antithetic pairs, and an optional first generation of given codes."""

from __future__ import annotations

from typing import Any

import torch

from .base import Optimizer
from .checks import as_codes, check_float, check_int, dtype_name


class CenterSearch(Optimizer):
    """Base of optimizers that move one centre code from scored perturbations.

    Parameters
    ----------
    dim : int
    population : int
        Codes per generation; even when ``antithetic``.
    search_radius : float > 0
        Standard deviation of the perturbations, per component.
    learning_rate : float > 0
    antithetic : bool
        Sample pairs ``c + e`` and ``c - e`` (Ilyas et al. 2018), as XDream does by default.
    center : (d,) array-like or None
        Starting centre; ``None`` means the zero code (XDream's default).
    init_codes : (n, d) array-like or None
        A first generation to score; the best of them becomes the centre.
    score_scale : "auto" or float > 0
        Scores are divided by this number before XDream's update rule. ``1.0`` is XDream's
        raw rule (the published presets ``nes`` and ``fdgd``), whose learning rates were tuned
        for CaffeNet units and DeePSiM fc6 codes. ``"auto"`` (the project's ``nes-auto`` and
        ``fdgd-auto``) takes the spread of the first generation of perturbations divided by the
        search radius, an estimate of the gradient norm at the start: the first step then moves
        the centre about ``learning_rate`` code units along the estimated gradient whatever
        the unit's response scale, and later steps shrink with the gradient as in XDream.
    code_scale : float > 0
        Makes the search act on codes ``c y`` as the given settings act on ``y``: lengths
        (``search_radius``, NES's ``min_search_radius``) are multiplied by ``c``, learning
        rates by ``c**2`` with a numeric ``score_scale`` (the raw update's step is
        ``learning_rate * score / radius``) or by ``c`` with ``"auto"`` (the scores are then
        measured in units of ``1 / radius``). Default 1: the published numbers unchanged.

    Attributes
    ----------
    center_ : (d,) tensor
    scale_ : float or None
        The score scale in use (``None`` until set by ``"auto"``).
    step_radius_, step_learning_rate_ : float
        ``search_radius`` and ``learning_rate`` after ``code_scale``.
    """

    def __init__(self, dim: int, population: int, search_radius: float, learning_rate: float, antithetic: bool,
                 center: Any, init_codes: Any, score_scale: Any, code_scale: float = 1.0, *, seed: int | None,
                 device: str | torch.device | None, dtype: torch.dtype, nan_policy: str) -> None:
        super().__init__(dim, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        if not isinstance(antithetic, bool):
            raise ValueError(f"antithetic must be True or False, got {antithetic!r}")
        self.antithetic = antithetic
        self.population = check_int("population", population, 2)
        if antithetic and self.population % 2:
            raise ValueError(f"population must be even with antithetic sampling (pairs c+e, c-e), "
                             f"got {population}")
        self.search_radius = check_float("search_radius", search_radius, 0.0, low_open=True)
        self.learning_rate = check_float("learning_rate", learning_rate, 0.0, low_open=True)
        if score_scale == "auto":
            self.score_scale: str | float = "auto"
            self.scale_: float | None = None
        else:
            self.score_scale = self.scale_ = check_float("score_scale ('auto' or a number)", score_scale, 0.0,
                                                         low_open=True)
        self.code_scale = check_float("code_scale", code_scale, 0.0, low_open=True)
        self.step_radius_ = self.search_radius * self.code_scale
        self.step_learning_rate_ = self.learning_rate * self.rate_factor()
        self.center_ = (torch.zeros(dim, device=self.device, dtype=dtype) if center is None
                        else as_codes(center, dim, self.device, dtype, "center", max_rows=1)[0])
        self._init: torch.Tensor | None = None
        if init_codes is not None:
            self.initialize(init_codes)

    def initialize(self, codes: Any) -> None:
        """Score ``codes`` (n, d) as the first generation; the best becomes the centre."""
        if self.generation > 0:
            raise RuntimeError(f"initialize() sets the first generation; this optimizer has already been told "
                               f"{self.generation} generation(s)")
        self._init = as_codes(codes, self.dim, self.device, self.dtype, "init_codes")

    def rate_factor(self) -> float:
        """What ``code_scale`` multiplies learning rates by (``c**2``, or ``c`` with auto scaling)."""
        return self.code_scale if self.score_scale == "auto" else self.code_scale ** 2

    def _radius(self) -> float:
        """Current standard deviation of the perturbations."""
        return self.step_radius_

    def _draw(self, n: int) -> torch.Tensor:
        """(n, d) standard normal draws from this optimizer's generator."""
        return self._randn(n, self.dim)

    def _perturbations(self) -> torch.Tensor:
        """The offsets of the next generation from the centre, (population, d)."""
        raise NotImplementedError

    def ask(self) -> torch.Tensor:
        """Codes to score next.

        Returns
        -------
        codes : (population, d) tensor, or the ``init_codes`` before the first ``tell``
        """
        if self._init is not None:
            return self._init.clone()
        return self.center_[None] + self._perturbations()

    def _tell(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        if self._init is not None:
            self.center_ = codes[int(torch.argmax(scores))].clone()
            self._init = None
            return
        if self.scale_ is None:
            spread = float(scores.std(unbiased=False)) if scores.numel() > 1 else 0.0
            if spread == 0:
                return  # every score equal: no direction and no scale to learn from yet
            self.scale_ = spread / self._radius()
        self._update(codes, scores / self.scale_)

    def _update(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        """XDream's update from scores already divided by ``scale_``."""
        raise NotImplementedError

    def _state(self) -> dict[str, Any]:
        return {"center": self.center_.clone(), "scale": self.scale_,
                "init": None if self._init is None else self._init.clone()}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.center_ = state["center"].to(device=self.device, dtype=self.dtype).clone()
        self.scale_ = state["scale"]
        init = state["init"]
        self._init = None if init is None else init.to(device=self.device, dtype=self.dtype).clone()

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dtype": dtype_name(self.dtype), "population": self.population,
                "search_radius": self.search_radius, "learning_rate": self.learning_rate,
                "antithetic": self.antithetic, "score_scale": self.score_scale, "code_scale": self.code_scale}
