"""A tiny, fast, fully deterministic run for the fault-injection suite: pixels as codes, a noisy unit."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from landscape import optim
from landscape.runs import Run, evolve
from landscape.units import PoissonNoise
from landscape.units.base import Unit

DIM, POP = 12, 8


class Pixels:
    """A generator whose image is its code's pixels (2x2 RGB)."""

    name, dim, image_size, prior_scale, device = "pixels", DIM, 2, 1.0, torch.device("cpu")

    def describe(self):
        return {"name": self.name}

    def render(self, codes, batch_size=None):
        return torch.sigmoid(codes.reshape(-1, 3, 2, 2))

    def sample(self, n, seed=None, device=None):
        return torch.randn(n, DIM, generator=torch.Generator().manual_seed(0 if seed is None else seed))

    def check_codes(self, codes):
        return torch.as_tensor(codes).float()


class Redness(Unit):
    """Likes red; ``delay`` seconds per call make a run slow enough to be killed at random points."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def clean(self, images):
        if self.delay:
            time.sleep(self.delay)
        return 10 * images[:, 0].mean((1, 2)).double()

    def describe(self):
        return {"type": "Redness"}


def unit(delay: float = 0.0):
    return PoissonNoise(Redness(delay), scale=5, seed=3)


def optimizer(name: str = "cma"):
    kw = {"population": POP} if name != "fdgd" else {}
    return optim.make(name, DIM, seed=1, **kw)


def run(out: Path, budget: int = 80, resume: bool = False, opt: str = "cma", delay: float = 0.0) -> Run:
    return evolve(Pixels(), unit(delay), optimizer(opt), budget, out, seed=0, resume=resume, init="prior",
                  progress=False)


def same(a: Run, b: Run) -> bool:
    """Bit-identical generations (codes, observed and clean scores)."""
    return (a.n_generations == b.n_generations
            and all(np.array_equal(x, y) for x, y in zip(a.gen_codes, b.gen_codes))
            and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a.gen_scores, b.gen_scores))
            and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a.gen_clean, b.gen_clean)))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder (but its lock) and its bytes, to show that nothing changed."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}
