"""Small optimizers for the sweep tests, registered through landscape.sweep.register_optimizer."""

from __future__ import annotations

import torch

from landscape.optim.base import Optimizer


class LocalSearch(Optimizer):
    """A (1, lambda) search: cheap, deterministic given its seed, with exact state."""

    name = "localsearch"

    def __init__(self, dim, population=4, step=0.5, **kw):
        super().__init__(dim, **kw)
        self.population, self.step = int(population), float(step)
        self.mean = torch.zeros(dim)

    def ask(self):
        return self.mean + self.step * torch.randn(self.population, self.dim, generator=self.rng)

    def _tell(self, codes, scores):
        self.mean = codes[int(scores.argmax())].clone()

    def _state(self):
        return {"mean": self.mean.clone()}

    def _load_state(self, s):
        self.mean = s["mean"].clone()

    def config(self):
        return {**super().config(), "population": self.population, "step": self.step}


class FailsOnSeed(LocalSearch):
    """Raises in its second generation when seeded with 1: a task that fails for a reason of its own."""

    name = "failsonseed"

    def ask(self):
        if self.seed == 1 and self.generation == 1:
            raise RuntimeError("optimizer diverged")
        return super().ask()
