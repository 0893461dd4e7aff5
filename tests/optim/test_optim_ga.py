"""GA: XDream's selection, recombination and mutation rules, elites, initial population, and
climbing an analytic function."""

from __future__ import annotations

import math

import pytest
import torch
from optim_helpers import run, shifted_sphere

from landscape.optim import GA, ProjectGA


def test_parents_are_drawn_with_softmax_of_zscores_times_selectivity():
    # heritability 1 and no mutation: every child is a copy of its first parent
    scores = torch.tensor([0.0, 1.0, 2.0, 3.0])
    codes = torch.arange(4, dtype=torch.float32)[:, None].repeat(1, 3)
    ga = ProjectGA(3, population=40000, mutation_rate=0.0, heritability=1.0, selectivity=2.0, seed=0)
    ga.tell(codes, scores)
    children = ga.ask()[:, 0].long()
    counts = torch.bincount(children, minlength=4).double()
    z = (scores - scores.mean()) / scores.std(unbiased=False)
    expected = torch.softmax(2.0 * z.double(), 0) * children.numel()
    sd = (expected * (1 - expected / children.numel())).sqrt()
    assert ((counts - expected).abs() < 5 * sd + 1).all(), (counts, expected)
    assert ga.kT_ == pytest.approx(float(scores.std(unbiased=False)) / 2.0)


def test_children_take_a_heritability_fraction_from_one_parent():
    d = 2000
    codes = torch.stack([torch.zeros(d), torch.ones(d)])
    ga = GA(d, population=200, mutation_rate=0.0, heritability=0.7, seed=1)
    ga.tell(codes, torch.tensor([1.0, 1.0]))  # equal scores: both parents equally likely
    children = ga.ask()
    frac_ones = children.mean(1)
    mixed = frac_ones[(frac_ones > 0) & (frac_ones < 1)]
    assert mixed.numel() > 50  # about half the children have two distinct parents
    share_first = torch.maximum(mixed, 1 - mixed)
    assert share_first.mean().item() == pytest.approx(0.7, abs=0.01)


def test_mutations_hit_a_rate_fraction_of_components_with_the_given_size():
    d = 5000
    ga = GA(d, population=20, mutation_rate=0.3, mutation_size=0.5, heritability=1.0, n_elites=0, seed=2)
    ga.tell(torch.zeros(2, d), torch.tensor([0.0, 0.0]))
    children = ga.ask()
    mutated = children != 0
    assert mutated.double().mean().item() == pytest.approx(0.3, abs=0.005)
    assert children[mutated].std().item() == pytest.approx(0.5, rel=0.02)


def test_elites_pass_unchanged_and_in_rank_order():
    g = torch.Generator().manual_seed(3)
    codes = torch.randn(20, 8, generator=g)
    scores = torch.randn(20, generator=g)
    ga = GA(8, n_elites=3, seed=0)
    ga.tell(codes, scores)
    nxt = ga.ask()
    top = torch.argsort(scores, descending=True)[:3]
    assert torch.equal(nxt[:3], codes[top])
    assert nxt.shape == (20, 8)


def test_initial_population_from_given_codes_is_completed_by_breeding():
    given = torch.randn(5, 6, generator=torch.Generator().manual_seed(4)) + 10.0
    ga = GA(6, population=12, init_codes=given, seed=0)
    first = ga.ask()
    assert first.shape == (12, 6)
    assert torch.equal(first[:5], given)
    # bred rows are recombinations of the given codes plus mutations of size 0.5
    assert (first[5:] > 5).float().mean() > 0.9
    bigger = GA(6, population=12, init_codes=torch.randn(30, 6), seed=0)
    assert bigger.ask().shape == (30, 6)  # a larger first generation is scored whole...
    bigger.tell(bigger.ask(), torch.randn(30))
    assert bigger.ask().shape == (12, 6)  # ...and breeds a population of the configured size
    ga.tell(first, torch.arange(12.0))
    with pytest.raises(RuntimeError, match="first generation"):
        ga.initialize(given)


def test_default_first_generation_is_standard_normal():
    first = GA(500, population=20, seed=0).ask()
    assert first.mean().abs().item() < 0.02
    assert first.std().item() == pytest.approx(1.0, abs=0.02)


def test_climbs_a_sphere_function():
    d = 10
    f, x_star = shifted_sphere(d, seed=5)
    start = f(torch.zeros(1, d)).item()
    out = run(GA(d, seed=0, n_elites=1), f, generations=300)
    # mutations of size 0.5 on half the components limit the final precision, not the climb
    assert out["best"] > -0.5
    assert start < -5
    assert torch.linalg.vector_norm(out["best_code"].double() - x_star) < math.sqrt(0.5)
