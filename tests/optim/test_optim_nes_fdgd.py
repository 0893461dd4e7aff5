"""NES and FDGD: XDream's update rules term by term (the project's centred NES under its own
name), invariance of the project's "auto" variants to the unit's response scale, initial centre
from given codes, and climbing an analytic function. The published presets' updates against
XDream's formulas are in test_presets.py."""

from __future__ import annotations

import pytest
import torch
from optim_helpers import run, shifted_sphere

from landscape.optim import FDGD, NES, FDGDAuto, NESAuto


def test_nes_auto_step_is_xdreams_rule_on_centred_scores():
    d = 7
    c0 = torch.linspace(-1, 1, d, dtype=torch.float64)
    opt = NESAuto(d, population=6, search_radius=0.8, learning_rate=0.3, search_radius_learning_rate=0.1,
              center=c0, score_scale=1.0, seed=0, dtype=torch.float64)
    codes = opt.ask()
    e = (codes - c0) / 0.8
    assert torch.allclose(e[:3], -e[3:])  # antithetic pairs
    scores = torch.tensor([3.0, -1.0, 2.0, 0.5, 4.0, -2.0], dtype=torch.float64)
    opt.tell(codes, scores)
    s = scores - scores.mean()
    assert torch.allclose(opt.center_, c0 + 0.3 * (scores[:, None] * e).mean(0) / 0.8)
    assert opt.radius_ == pytest.approx(0.8 + 0.1 * float((s[:, None] * (e ** 2 - 1)).mean()) / 0.8)


def test_fdgd_step_is_xdreams_pairwise_finite_difference():
    d = 9
    opt = FDGD(d, population=8, search_radius=0.5, learning_rate=0.2, score_scale=1.0, seed=1, dtype=torch.float64)
    codes = opt.ask()
    steps = codes[:4]
    assert torch.allclose(codes[4:], -steps)
    scores = torch.randn(8, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    opt.tell(codes, scores)
    l1 = steps.abs().mean(1)
    grad = (((scores[:4] - scores[4:]) / 2)[:, None] * steps / l1[:, None] ** 2).mean(0)
    assert torch.allclose(opt.center_, 0.2 * grad)


def test_fdgd_one_sided_uses_the_centre_as_baseline():
    d = 5
    opt = FDGD(d, population=6, antithetic=False, search_radius=0.5, learning_rate=0.1, score_scale=1.0,
               seed=3, dtype=torch.float64)
    codes = opt.ask()
    assert codes.shape == (6, d) and torch.equal(codes[-1], torch.zeros(d, dtype=torch.float64))
    scores = torch.arange(6.0, dtype=torch.float64)
    opt.tell(codes, scores)
    steps = codes[:5]
    l1 = steps.abs().mean(1)
    grad = ((scores[:5] - scores[5])[:, None] * steps / l1[:, None] ** 2).mean(0)
    assert torch.allclose(opt.center_, 0.1 * grad)


@pytest.mark.parametrize("cls", [NESAuto, FDGDAuto])
def test_auto_scale_makes_the_search_independent_of_the_response_scale(cls):
    d = 12
    f, _ = shifted_sphere(d, seed=4)
    small, large = cls(d, seed=5, dtype=torch.float64), cls(d, seed=5, dtype=torch.float64)
    run(small, lambda x: 0.01 * f(x), generations=20)
    run(large, lambda x: 100.0 * f(x), generations=20)
    assert large.scale_ == pytest.approx(1e4 * small.scale_)
    assert small.scale_ > 0
    assert torch.allclose(small.center_, large.center_, atol=1e-9)


@pytest.mark.parametrize("cls", [NES, FDGD])
def test_best_of_the_initial_codes_becomes_the_centre(cls):
    init = torch.randn(5, 4, generator=torch.Generator().manual_seed(6))
    opt = cls(4, init_codes=init, seed=0)
    assert torch.equal(opt.ask(), init)
    opt.tell(init, torch.tensor([0.0, 3.0, 1.0, 2.0, -1.0]))
    assert torch.equal(opt.center_, init[1])
    assert opt.ask().shape == (20, 4)


@pytest.mark.parametrize("cls, kwargs", [(NESAuto, {}), (FDGDAuto, {}), (NESAuto, {"antithetic": False}),
                                         (FDGDAuto, {"antithetic": False, "search_radius": 0.05})])
def test_climbs_a_sphere_function(cls, kwargs):
    d = 20
    f, x_star = shifted_sphere(d, seed=7)
    opt = cls(d, seed=0, **kwargs)
    start = float(f(opt.center_[None]))
    run(opt, f, generations=300)
    assert start < -10
    # one-sided differences keep a noise floor from the curvature term, proportional to the radius
    tol = 0.5 if kwargs.get("antithetic") is False else 0.3
    assert torch.linalg.vector_norm(opt.center_.double() - x_star) < tol
