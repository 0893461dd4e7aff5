"""SphereCMA (Wang & Ponce 2022, "High-performance evolutionary algorithms for online neuron
control"; ActMax-Optimizer-Dev's ``ZOHA_Sphere_lr_euclid``), written from its description.

The search lives on the sphere of fixed code norm ``radius`` (default: the mean norm of the
first generation), because a GAN's images change mostly with the code's direction. One
generation is the current centre plus ``population`` samples ``Exp_c(t_i)``: tangent vectors
``t_i`` at the centre, isotropic in the tangent plane, whose length is the sample angle. The
angle decays exponentially from ``initial_angle`` to ``final_angle`` degrees over
``schedule_generations`` generations and then stays put. After scoring, the samples (not the
centre) are ranked; the log-rank-weighted mean of the best ``select`` is projected to the
sphere, and the new centre is the SLERP from the old centre towards it, extrapolated with
``learning_rate`` (1.5: past the mean).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .base import Optimizer
from .checks import as_codes, check_float, check_int, dtype_name, match_rows
from .sphere import exp_map, slerp, tangent_projection, to_sphere
from .weights import log_weights, ranks_descending


class SphereCMA(Optimizer):
    """Search on the sphere of fixed code norm with decaying sample angles.

    Parameters
    ----------
    dim : int
    population : int >= 1
        Samples around the centre per generation (default 40); each generation also scores
        the centre itself, so it has ``population + 1`` codes.
    select : int in [1, population] or None
        How many of the best samples enter the weighted mean (default ``None``: half the
        population, rounded up; 20 of the default 40).
    learning_rate : float > 0
        SLERP parameter from the old centre (0) to the projected mean (1); default 1.5.
    radius : float > 0 or None
        Norm of every code. ``None``: the mean norm of the first generation.
    initial_angle, final_angle : float in (0, 180)
        Sample angle in degrees at the first and at the last scheduled generation
        (defaults 50 and 7.33).
    schedule_generations : int >= 1
        Generations over which the angle decays exponentially (default 75).
    init_codes : (n, d) array-like or None
        First generation (projected to the sphere). ``None``: ``population`` standard normal
        codes (the prior of DCGAN-type generators) projected to the sphere.
    seed, device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`. The centre's own row is recognised by
        value and never ranked; dropped rows simply leave the ranking.

    Attributes
    ----------
    center_ : (d,) tensor or None
        Current centre (``None`` before the first ``tell``).
    radius_ : float or None
        Norm of the codes (``None`` until the first generation exists).
    """

    name = "spherecma"

    def __init__(self, dim: int, population: int = 40, select: int | None = None, learning_rate: float = 1.5,
                 radius: float | None = None, initial_angle: float = 50.0, final_angle: float = 7.33,
                 schedule_generations: int = 75, init_codes: Any = None, *, seed: int | None = None,
                 device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
                 nan_policy: str = "raise") -> None:
        super().__init__(dim, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        if self.dim < 2:
            raise ValueError(f"SphereCMA needs dim >= 2 (a sphere with a tangent plane), got {dim}")
        self.population = check_int("population", population, 1)
        self.select = check_int("select", (self.population + 1) // 2 if select is None else select, 1,
                                self.population)
        self.learning_rate = check_float("learning_rate", learning_rate, 0.0, low_open=True)
        self.radius = None if radius is None else check_float("radius", radius, 0.0, low_open=True)
        self.initial_angle = check_float("initial_angle", initial_angle, 0.0, 180.0, low_open=True, high_open=True)
        self.final_angle = check_float("final_angle", final_angle, 0.0, 180.0, low_open=True, high_open=True)
        self.schedule_generations = check_int("schedule_generations", schedule_generations, 1)
        self.radius_: float | None = self.radius
        self.center_: torch.Tensor | None = None
        self._first: torch.Tensor | None = None
        if init_codes is not None:
            self.initialize(init_codes)

    # -- schedule --------------------------------------------------------------------------
    def sample_angle(self, generation: int) -> float:
        """Sample angle in degrees for the samples drawn after ``generation`` tells (>= 1)."""
        k = min(max(generation - 1, 0), self.schedule_generations - 1)
        if self.schedule_generations == 1:
            return self.final_angle
        frac = k / (self.schedule_generations - 1)
        return self.initial_angle * (self.final_angle / self.initial_angle) ** frac

    # -- ask / tell ------------------------------------------------------------------------
    def initialize(self, codes: Any) -> None:
        """Set the first generation (projected to the sphere); fixes ``radius_`` if not given.

        Parameters
        ----------
        codes : (n, d) array-like with non-zero rows
        """
        if self.generation > 0:
            raise RuntimeError("initialize() sets the first generation; this SphereCMA has already been told "
                               f"{self.generation} generation(s)")
        codes = as_codes(codes, self.dim, self.device, self.dtype, "init_codes")
        norms = codes.norm(dim=1)
        if bool((norms == 0).any()):
            raise ValueError("init_codes contains a zero code, which has no direction on the sphere")
        if self.radius is None:
            self.radius_ = float(norms.mean())
        self._first = to_sphere(codes, self.radius_)

    def ask(self) -> torch.Tensor:
        """Codes to score next.

        Returns
        -------
        codes : (n, d) tensor of norm ``radius_``: the first generation, or the centre followed
            by ``population`` samples around it
        """
        if self.center_ is None:
            if self._first is None:
                self.initialize(self._randn(self.population, self.dim))
            return self._first.clone()
        theta = math.radians(self.sample_angle(self.generation))
        u = self._randn(self.population, self.dim)
        # ~N(0, I) in the tangent plane has norm ~sqrt(d-1): scaling by theta/sqrt(d) gives angles ~theta
        tangents = tangent_projection(u, self.center_) * (theta / math.sqrt(self.dim))
        samples = to_sphere(exp_map(self.center_, tangents), self.radius_)
        return torch.cat([self.center_[None], samples])

    def _tell(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        if self.center_ is None:
            if self._first is None:
                # told before any ask: the told codes are the first generation
                self.initialize(codes)
            order = ranks_descending(scores)
            w = log_weights(len(order)).to(device=self.device, dtype=self.dtype)
            self.center_ = to_sphere((w @ codes[order])[None], self.radius_)[0]
            self._first = None
            return
        is_center = match_rows(codes, self.center_[None]) == 0
        samples, s = codes[~is_center], scores[~is_center]
        if samples.shape[0] == 0:
            return  # only the centre was scored: nothing to rank
        order = ranks_descending(s)
        w = log_weights(len(order), mu=min(self.select, len(order))).to(device=self.device, dtype=self.dtype)
        target = to_sphere((w @ samples[order])[None], self.radius_)[0]
        self.center_ = to_sphere(slerp(self.center_, target, self.learning_rate)[None], self.radius_)[0]

    # -- state -----------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {"center": None if self.center_ is None else self.center_.clone(), "radius_": self.radius_,
                "first": None if self._first is None else self._first.clone()}

    def _load_state(self, state: dict[str, Any]) -> None:
        def t(x):
            return None if x is None else x.to(device=self.device, dtype=self.dtype).clone()

        self.center_, self._first = t(state["center"]), t(state["first"])
        self.radius_ = state["radius_"]

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dtype": dtype_name(self.dtype), "population": self.population,
                "select": self.select, "learning_rate": self.learning_rate, "radius": self.radius,
                "initial_angle": self.initial_angle, "final_angle": self.final_angle,
                "schedule_generations": self.schedule_generations}
