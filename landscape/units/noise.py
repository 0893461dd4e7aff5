"""Measurement noise models, as wrappers around any unit.

Each wrapper owns a seeded ``torch.Generator`` (saved in ``state_dict`` so a resumed run
draws the same noise) and keeps the clean response available through ``clean``.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Unit


class _NoisyUnit(Unit):
    noisy = True

    def __init__(self, unit: Unit, seed: int | None) -> None:
        if not isinstance(unit, Unit):
            raise TypeError(f"unit must be a landscape Unit, got {type(unit).__name__}")
        self.unit = unit
        self.seed = seed
        self.rng = torch.Generator()
        self.rng.manual_seed(int(seed) if seed is not None else int(torch.seed() % 2**63))

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        return self.unit.clean(images)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            a = self.clean(images)
        return self.observe(a)

    def observe(self, clean: torch.Tensor) -> torch.Tensor:
        """Noisy observation of given clean responses (B,) -> (B,)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.get_state(), "unit": self.unit.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.set_state(state["rng"])
        self.unit.load_state_dict(state.get("unit", {}))

    def __getattr__(self, name: str) -> Any:
        # expose the wrapped unit's attributes (layer, channel, model, ...)
        if name == "unit":
            raise AttributeError(name)
        return getattr(self.unit, name)


class PoissonNoise(_NoisyUnit):
    """XDream's Poisson spiking model.

    A response ``a`` sets a rate ``max(0, a) * scale``; each of ``reps`` presentations
    draws a Poisson count, and the observed score is the mean count divided by ``scale``,
    so its expectation is ``max(0, a)``.

    Parameters
    ----------
    unit : Unit
    scale : float
        Spikes per unit of activation; smaller means noisier. XDream's scorer
        (``willwx/XDream``, ``xdream/Scorers.py``: ``poisson(max(0, score * scale)) / scale``)
        uses the raw activation as the rate (scale 1) by default; its figure 6 calibrates the
        scale per unit as an "expected max firing rate" in spikes, which
        :func:`calibrated_poisson` does.
    reps : int
        Presentations averaged per image.
    seed : int or None
    """

    def __init__(self, unit: Unit, scale: float = 1.0, reps: int = 1, seed: int | None = None,
                 calibration: dict | None = None) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        if int(reps) < 1:
            raise ValueError(f"reps must be >= 1, got {reps}")
        super().__init__(unit, seed)
        self.scale = float(scale)
        self.reps = int(reps)
        self.calibration = calibration

    def observe(self, clean: torch.Tensor) -> torch.Tensor:
        rate = (clean.detach().cpu().double().clamp_min(0) * self.scale).expand(self.reps, -1)
        counts = torch.poisson(rate.contiguous(), generator=self.rng)
        return (counts.mean(0) / self.scale).to(clean.device, clean.dtype)

    def describe(self) -> dict[str, Any]:
        noise = {"type": "poisson", "scale": self.scale, "reps": self.reps, "seed": self.seed}
        if self.calibration is not None:
            noise["calibration"] = self.calibration
        return {**self.unit.describe(), "noise": noise}


class GaussianNoise(_NoisyUnit):
    """ActMax-Optimizer-Dev's multiplicative Gaussian noise: ``a * max(0, 1 + sigma * N(0, 1))``.

    Parameters
    ----------
    unit : Unit
    sigma : float
        Relative noise level (0.2 and 0.5 in the benchmark of seed 000).
    seed : int or None
    """

    def __init__(self, unit: Unit, sigma: float = 0.2, seed: int | None = None) -> None:
        if not sigma >= 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        super().__init__(unit, seed)
        self.sigma = float(sigma)

    def observe(self, clean: torch.Tensor) -> torch.Tensor:
        eps = torch.randn(clean.shape[0], generator=self.rng, dtype=torch.float64)
        gain = (1 + self.sigma * eps).clamp_min(0)
        return (clean.detach().cpu().double() * gain).to(clean.device, clean.dtype)

    def describe(self) -> dict[str, Any]:
        return {**self.unit.describe(), "noise": {"type": "gaussian", "sigma": self.sigma, "seed": self.seed}}


def poisson_scale_for_spikes(best_response: float, spikes: float) -> float:
    """The Poisson scale at which a response of ``best_response`` is ``spikes`` expected spikes.

    Parameters
    ----------
    best_response : float
        The calibration response (e.g. the best clean response among N prior images), > 0.
    spikes : float
        Expected spike count wanted for it, > 0.
    """
    if not spikes > 0:
        raise ValueError(f"spikes must be > 0, got {spikes}")
    if not best_response > 0:
        raise ValueError(f"cannot calibrate Poisson noise on a best response of {best_response}: the unit is silent "
                         f"on the calibration images; use the raw scale (poisson:SCALE) or more prior images")
    return float(spikes) / float(best_response)


def calibrated_poisson(unit: Unit, generator: Any, spikes: float, n_prior: int = 100, reps: int = 1,
                       seed: int | None = None, prior_seed: int = 0) -> PoissonNoise:
    """Poisson noise with ``spikes`` expected spikes for the best of ``n_prior`` prior images.

    XDream's figure 6 (stochastic scales 5-250, labelled "expected max firing rate, spks")
    sets the Poisson rate so that a unit's strongest response is a given number of spikes,
    which puts units with different activation ranges at the same signal-to-noise ratio. The
    public XDream code only has the multiplier (``stochastic_scale``), not which images define
    the maximum; here it is the best clean response to ``n_prior`` images of the generator's
    prior (codes seeded by ``prior_seed``, the same for every run on a unit, so runs with
    different optimizers and seeds share one calibration).

    Parameters
    ----------
    unit : Unit
    generator : Generator
        Supplies the prior images (``sample`` and ``render``).
    spikes : float
        Expected spike count of the best prior image.
    n_prior : int
    reps : int
        Presentations averaged per image.
    seed : int or None
        Seed of the noise draws.
    prior_seed : int
        Seed of the calibration codes.

    Returns
    -------
    PoissonNoise
        Its ``describe()`` records the calibration.
    """
    if int(n_prior) < 1:
        raise ValueError(f"n_prior must be >= 1, got {n_prior}")
    with torch.no_grad():
        codes = generator.sample(int(n_prior), seed=prior_seed)
        best = float(unit.clean(generator.render(codes)).max())
    scale = poisson_scale_for_spikes(best, spikes)
    return PoissonNoise(unit, scale=scale, reps=reps, seed=seed,
                        calibration={"spikes": float(spikes), "prior_images": int(n_prior), "prior_seed": int(prior_seed),
                                     "best_prior_response": best})
