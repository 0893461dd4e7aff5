"""Each optimizer drives ``landscape.runs.evolve`` (initial codes from the prior, a Poisson unit),
and a run stopped and resumed equals an uninterrupted one exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from landscape import optim
from landscape.generators import Generator
from landscape.runs import evolve
from landscape.units import PoissonNoise
from landscape.units.base import Unit


D = 12


def tiny_generator() -> Generator:
    net = nn.Linear(D, 3 * 4 * 4)
    with torch.no_grad():
        net.weight.copy_(torch.randn(48, D, generator=torch.Generator().manual_seed(0)) / D ** 0.5)
        net.bias.zero_()
    return Generator(net, D, "tiny-linear", 4, lambda x: torch.sigmoid(x).reshape(-1, 3, 4, 4))


class Template(Unit):
    """Negative squared distance to a fixed image, shifted to be positive (Poisson needs rates)."""

    def __init__(self, target: torch.Tensor) -> None:
        self.target = target

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        return 10.0 - ((images - self.target) ** 2).flatten(1).sum(1)

    def describe(self) -> dict:
        return {"type": "Template"}


@pytest.mark.slow
@pytest.mark.parametrize("name", optim.names())
def test_stopped_and_resumed_run_equals_an_uninterrupted_one(tmp_path, name):
    gen = tiny_generator()
    target = gen(torch.randn(1, D, generator=torch.Generator().manual_seed(1)))

    def unit():
        return PoissonNoise(Template(target), scale=20.0, seed=7)

    # cholcma's published sigma0 = 3 is made for fc6 codes; here codes are N(0, I): scale it down
    settings = {"code_scale": 0.25} if name == "cholcma" else {}
    whole = evolve(gen, unit(), optim.make(name, D, seed=3, **settings), 200, out=tmp_path / "whole", seed=5,
                   init="prior", progress=False, save_images=False)
    stop_after = 3
    part = evolve(gen, unit(), optim.make(name, D, seed=3, **settings), 200, out=tmp_path / "part", seed=5, init="prior",
                  progress=False, save_images=False, callback=lambda g, *_: g + 1 < stop_after)
    assert part.n_generations == stop_after and part.meta["status"] == "stopped"
    resumed = evolve(gen, unit(), optim.make(name, D, seed=3, **settings), 200, out=tmp_path / "part", seed=5, init="prior",
                     progress=False, save_images=False, resume=True)
    assert resumed.n_generations == whole.n_generations
    for a, b in zip(whole.gen_codes, resumed.gen_codes):
        assert np.array_equal(a, b)
    for a, b in zip(whole.gen_scores, resumed.gen_scores):
        assert np.array_equal(a, b)
    # the first generation was the prior sample handed to initialize() (the GAs complete it to their
    # population; pycma only starts its mean there); the search improved on it
    first = {"ga-actmax": 40, "pycma": 40}.get(name, 20)
    assert whole.gen_codes[0].shape[0] == first
    assert whole.gen_clean[-1].max() > whole.gen_clean[0].max()
