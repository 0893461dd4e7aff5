"""GradientAscent: recovers analytic optima through a linear generator, and beats random sampling
on a real resnet20 unit through the real DigiFace DCGAN."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from landscape.optim.gradient import GradientAscent


def linear_problem(d: int = 12, pixels: int = 40, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(pixels, d, generator=g) / math.sqrt(d)
    z_star = torch.randn(d, generator=g)
    return A, z_star, (lambda codes: codes @ A.T)


def test_recovers_the_optimum_of_an_analytic_objective_through_a_linear_generator():
    A, z_star, gen = linear_problem()
    target = A @ z_star
    objective = lambda images: -((images - target) ** 2).sum(1)
    ga = GradientAscent(gen, objective, 12, steps=400, restarts=3, seed=0)
    code, score = ga.run()
    assert code.shape == (12,)
    assert torch.allclose(code, z_star, atol=1e-2), (code - z_star).abs().max()
    assert score == pytest.approx(0.0, abs=1e-3)
    assert ga.history_.shape == (401, 3) and ga.n_evaluations_ == 3 * 401 + 3 * 16  # + the start pool
    assert np.all(ga.history_[-1] > ga.history_[0])
    assert ga.best_score_ == pytest.approx(float(ga.history_.max()))


def test_annealing_settles_on_a_piecewise_linear_peak():
    # ReLU networks are piecewise linear: the gradient keeps its size up to the peak
    A, z_star, gen = linear_problem()
    target = A @ z_star
    objective = lambda images: -(images - target).abs().sum(1)
    errors = {}
    for anneal in (True, False):
        code, _ = GradientAscent(gen, objective, 12, steps=300, restarts=3, seed=0, anneal=anneal).run()
        errors[anneal] = float((code - z_star).abs().max())
    assert errors[True] < 2e-3
    assert errors[True] < 0.1 * errors[False]


def test_norm_constraint_finds_the_optimum_on_the_sphere():
    A, _, gen = linear_problem(seed=1)
    w = torch.randn(40, generator=torch.Generator().manual_seed(2))
    objective = lambda images: images @ w
    radius = 3.0
    ga = GradientAscent(gen, objective, 12, steps=300, restarts=2, seed=0, code_norm=radius)
    code, score = ga.run()
    direction = A.T @ w
    expected = radius * direction / direction.norm()
    assert float(code.norm()) == pytest.approx(radius, rel=1e-5)
    assert torch.allclose(code, expected, atol=2e-2)
    assert score == pytest.approx(float(radius * direction.norm()), rel=1e-4)
    assert torch.allclose(ga.final_codes_.norm(dim=1), torch.full((2,), radius), rtol=1e-5)


def test_seeds_init_codes_and_batches():
    A, z_star, gen = linear_problem()
    objective = lambda images: -((images - A @ z_star) ** 2).sum(1)
    a = GradientAscent(gen, objective, 12, steps=20, restarts=4, seed=5)
    b = GradientAscent(gen, objective, 12, steps=20, restarts=4, seed=5, batch_size=3)
    a.run()
    b.run()
    # restarts are independent: chunking them changes nothing
    assert np.allclose(a.history_, b.history_, atol=1e-5)
    c = GradientAscent(gen, objective, 12, steps=20, restarts=4, seed=6)
    c.run()
    assert not np.allclose(a.history_[0], c.history_[0])
    start = torch.zeros(2, 12)
    d = GradientAscent(gen, objective, 12, steps=5, restarts=4, seed=0)
    d.run(init_codes=start)
    assert d.history_.shape == (6, 2)
    assert d.history_[0, 0] == pytest.approx(float(objective(gen(start))[0]))


def test_runs_under_a_callers_no_grad():
    A, z_star, gen = linear_problem()
    objective = lambda images: -((images - A @ z_star) ** 2).sum(1)
    with torch.no_grad():
        ga = GradientAscent(gen, objective, 12, steps=30, restarts=2, seed=0)
        ga.run()
    assert np.all(ga.history_[-1] > ga.history_[0])


def test_restarts_come_from_a_generators_prior():
    class PriorGenerator:
        dim = 3

        def __init__(self):
            self.calls = []

        def sample(self, n, seed=None):
            self.calls.append((n, seed))
            return torch.full((n, 3), 7.0)

        def __call__(self, codes):
            return codes

    gen = PriorGenerator()
    ga = GradientAscent(gen, lambda x: -(x ** 2).sum(1), 3, steps=2, restarts=5, seed=0)
    assert torch.equal(ga.initial_codes(), torch.full((5, 3), 7.0))
    assert gen.calls[0][0] == 5 * 16 and gen.calls[0][1] is not None  # the best 5 of a pool of 80


def test_starts_from_the_pool_respond_where_plain_prior_starts_are_silent():
    # a ReLU unit silent for 84% of the prior: relu(z_0 - 1)
    objective = lambda codes: torch.relu(codes[:, 0] - 1.0)
    plain = GradientAscent(lambda z: z, objective, 12, steps=20, restarts=6, seed=0, init_pool=1)
    plain.run()
    dead = plain.history_[-1] == 0
    assert dead.any() and np.all(plain.history_[:, dead] == 0)  # silent starts never move
    pooled = GradientAscent(lambda z: z, objective, 12, steps=20, restarts=6, seed=0)
    pooled.run()
    assert np.all(pooled.history_[0] > 0) and np.all(pooled.history_[-1] > pooled.history_[0])
    assert pooled.n_evaluations_ == 6 * 21 + 6 * 16


def test_bad_inputs_raise_clear_errors():
    gen = lambda c: c
    with pytest.raises(ValueError, match="dim"):
        GradientAscent(gen, lambda x: x.sum(1), 0)
    with pytest.raises(ValueError, match="code_norm"):
        GradientAscent(gen, lambda x: x.sum(1), 3, code_norm=-1.0)
    with pytest.raises(ValueError, match="restarts"):
        GradientAscent(gen, lambda x: x.sum(1), 3, restarts=0)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        GradientAscent(gen, lambda x: x.sum(1), 3, steps=2).run(init_codes=torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"\(B,\) tensor"):
        GradientAscent(gen, lambda x: x, 3, steps=2).run()
    no_grad = lambda x: x.detach().sum(1)
    with pytest.raises(ValueError, match="no gradient"):
        GradientAscent(gen, no_grad, 3, steps=2).run()
    nan = lambda x: x.sum(1) * float("nan")
    with pytest.raises(FloatingPointError, match="NaN"):
        GradientAscent(gen, nan, 3, steps=2).run()


@pytest.mark.slow
def test_imports_no_generator_model_or_unit_code():
    code = ("import sys, landscape.optim.gradient; "
            "bad = [m for m in sys.modules if m.startswith(('landscape.zoo', 'landscape.units', "
            "'landscape.generators', 'landscape.models', 'landscape.featviz'))]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_beats_random_sampling_on_a_real_resnet20_unit_through_the_digiface_generator():
    from landscape import zoo
    from landscape.units import CNNUnit

    generator = zoo.load("digiface-dcgan64")
    unit = CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5)
    ga = GradientAscent(generator, unit.clean, generator.dim, steps=40, restarts=4, seed=0)
    code, score = ga.run()
    # the same number of images drawn from the prior
    with torch.no_grad():
        random_scores = unit.clean(generator.render(generator.sample(ga.n_evaluations_, seed=1)))
    assert score > 1.5 * float(random_scores.max()), (score, float(random_scores.max()))
    assert score > float(random_scores.mean()) + 6 * float(random_scores.std())
    # the reported best code really produces the reported score
    with torch.no_grad():
        assert float(unit.clean(generator(code[None]))[0]) == pytest.approx(score, rel=1e-4)
