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
        Spikes per unit of activation; smaller means noisier.
    reps : int
        Presentations averaged per image.
    seed : int or None
    """

    def __init__(self, unit: Unit, scale: float = 1.0, reps: int = 1, seed: int | None = None) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        if int(reps) < 1:
            raise ValueError(f"reps must be >= 1, got {reps}")
        super().__init__(unit, seed)
        self.scale = float(scale)
        self.reps = int(reps)

    def observe(self, clean: torch.Tensor) -> torch.Tensor:
        rate = (clean.detach().cpu().double().clamp_min(0) * self.scale).expand(self.reps, -1)
        counts = torch.poisson(rate.contiguous(), generator=self.rng)
        return (counts.mean(0) / self.scale).to(clean.device, clean.dtype)

    def describe(self) -> dict[str, Any]:
        return {**self.unit.describe(), "noise": {"type": "poisson", "scale": self.scale, "reps": self.reps,
                                                  "seed": self.seed}}


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
