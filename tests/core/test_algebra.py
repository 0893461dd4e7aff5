"""One algebra for units and feature-visualisation objectives: ``unit_a - 0.5 * unit_b`` works for both."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from landscape import featviz, optim
from landscape.algebra import Combinable
from landscape.generators import Generator
from landscape.runs import Run, evolve
from landscape.units import PoissonNoise, Unit, UnitCombination


class Linear(Unit):
    """A differentiable unit: a fixed linear read-out of the image."""

    def __init__(self, seed: int) -> None:
        self.w = torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(seed))
        self.seed = seed

    def clean(self, images):
        return (images * self.w.to(images.device)).sum(dim=(1, 2, 3))

    def describe(self):
        return {"type": "Linear", "seed": self.seed}


def images(n=4, seed=0):
    return torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed))


def tiny_generator() -> Generator:
    torch.manual_seed(0)
    return Generator(nn.Sequential(nn.Linear(6, 3 * 8 * 8), nn.Unflatten(1, (3, 8, 8))), 6, "tiny", 8, torch.sigmoid)


def test_units_and_objectives_share_one_algebra():
    assert issubclass(Unit, Combinable) and issubclass(featviz.Objective, Combinable)


def test_unit_combination_is_the_weighted_sum():
    a, b, c = Linear(1), Linear(2), Linear(3)
    x = images()
    combo = a - 0.5 * b
    assert isinstance(combo, UnitCombination) and isinstance(combo, Unit)
    assert torch.allclose(combo(x), a(x) - 0.5 * b(x)) and torch.allclose(combo.clean(x), a(x) - 0.5 * b(x))
    assert torch.allclose((2 * a - b / 4 + c)(x), 2 * a(x) - b(x) / 4 + c(x))
    assert torch.allclose((-(a - 3 * b))(x), -a(x) + 3 * b(x))
    assert torch.allclose(sum([a, b, c])(x), a(x) + b(x) + c(x))
    assert len((a - 0.5 * b + (c - a))._terms()) == 4  # kept flat, not nested
    assert repr(a - 0.5 * b) == "Linear(seed=1) - 0.5*Linear(seed=2)"
    assert combo.describe() == {"type": "UnitCombination", "terms": [
        {"weight": 1.0, "unit": {"type": "Linear", "seed": 1}}, {"weight": -0.5, "unit": {"type": "Linear", "seed": 2}}]}
    assert not combo.noisy
    with pytest.raises(TypeError):
        a + 1.5
    with pytest.raises(TypeError):
        a * b
    with pytest.raises(ZeroDivisionError):
        a / 0
    with pytest.raises(ValueError, match="finite"):
        a * float("nan")


def test_a_noisy_term_makes_a_noisy_combination_that_resumes_exactly():
    a, b = PoissonNoise(Linear(1), scale=5.0, seed=3), Linear(2)
    combo = a - 0.5 * b
    assert combo.noisy
    x = images()
    state = combo.state_dict()
    first = combo(x)
    assert not torch.allclose(first, combo.clean(x))  # observed with noise, clean without
    combo.load_state_dict(state)
    assert torch.equal(combo(x), first)  # the term's generator state came back
    with pytest.raises(ValueError, match="1 terms"):
        combo.load_state_dict({"terms": [{}]})


def test_evolution_maximises_a_unit_combination(tmp_path):
    a, b = Linear(1), Linear(2)
    combo = a - 0.5 * b
    run = evolve(tiny_generator(), combo, optim.make("cma", 6, population=8, seed=0), budget=64, out=tmp_path / "r",
                 progress=False)
    assert Run.load(tmp_path / "r").meta["unit"]["type"] == "UnitCombination"
    with torch.no_grad():
        best = tiny_generator()(torch.as_tensor(run.best_code, dtype=torch.float32)[None])
    assert float(combo.clean(best)[0]) == pytest.approx(run.best_score, rel=1e-4, abs=1e-4)


def test_feature_visualisation_takes_unit_combinations_and_mixed_expressions():
    a, b = Linear(1), Linear(2)
    x = images(3, seed=5)
    acts = {"l": torch.randn(3, 4, 5, 5, generator=torch.Generator().manual_seed(1))}
    objective = featviz.as_objective(a - 0.5 * b)  # a combined unit renders as its clean response
    assert torch.allclose(objective(acts, x), a(x) - 0.5 * b(x))
    mixed = featviz.channel("l", 2) - 0.5 * b  # an objective and a unit: an objective
    assert isinstance(mixed, featviz.Objective)
    assert torch.allclose(mixed(acts, x), acts["l"][:, 2].mean(dim=(1, 2)) - 0.5 * b(x))
    assert torch.allclose((b - featviz.channel("l", 2))(acts, x), b(x) - acts["l"][:, 2].mean(dim=(1, 2)))
    assert repr(mixed) == "channel('l', 2) - 0.5*unit(Linear(seed=2))"
    # gradients flow through the combination, as rendering needs
    y = x.clone().requires_grad_(True)
    objective(acts, y).sum().backward()
    assert torch.allclose(y.grad, (a.w - 0.5 * b.w).expand(3, -1, -1, -1))
