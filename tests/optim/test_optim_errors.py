"""Bad input raises clear errors that name the bad value and what is valid."""

from __future__ import annotations

import pytest
import torch

from landscape import optim


@pytest.mark.parametrize("name", optim.names())
def test_codes_of_the_wrong_dimension_or_scores_of_the_wrong_length(name):
    opt = optim.make(name, 5, seed=0)
    codes = opt.ask()
    with pytest.raises(ValueError, match=r"shape \(n, 5\), got \(%d, 6\)" % codes.shape[0]):
        opt.tell(torch.zeros(codes.shape[0], 6), torch.zeros(codes.shape[0]))
    with pytest.raises(ValueError, match=r"scores must have shape \(%d,\)" % codes.shape[0]):
        opt.tell(codes, torch.zeros(codes.shape[0] + 1))
    with pytest.raises(ValueError, match=r"init_codes must have shape \(n, 5\)"):
        opt.initialize(torch.zeros(3, 4))


@pytest.mark.parametrize("name, settings, message", [
    ("ga", {"population": 0}, r"population must be an integer >= 1, got 0"),
    ("ga", {"mutation_rate": 1.5}, r"mutation_rate must be a finite number in \[0, 1\], got 1.5"),
    ("ga", {"mutation_size": -0.1}, r"mutation_size must be a finite number in \[0, inf\]"),
    ("ga", {"selectivity": 0}, r"selectivity must be a finite number in \(0, inf\]"),
    ("ga", {"heritability": 2}, r"heritability must be a finite number in \[0, 1\], got 2"),
    ("ga", {"n_elites": 20}, r"n_elites must be an integer in \[0, 19\], got 20"),
    ("ga", {"population": 2.5}, r"population must be an integer >= 1, got 2.5"),
    ("cma", {"population": 1}, r"population must be an integer >= 2, got 1"),
    ("cma", {"sigma0": 0.0}, r"sigma0 must be a finite number in \(0, inf\]"),
    ("cma", {"active": "yes"}, r"active must be True or False"),
    ("cma", {"mean": torch.zeros(4)}, r"mean must have shape \(n, 5\)"),
    ("spherecma", {"select": 50}, r"select must be an integer in \[1, 40\], got 50"),
    ("spherecma", {"initial_angle": 180}, r"initial_angle must be a finite number in \(0, 180\)"),
    ("spherecma", {"radius": -1.0}, r"radius must be a finite number in \(0, inf\]"),
    ("spherecma", {"learning_rate": float("nan")}, r"learning_rate must be a finite number"),
    ("nes", {"population": 21}, r"population must be even with antithetic sampling .* got 21"),
    ("nes", {"min_search_radius": 0}, r"min_search_radius must be a finite number in \(0, inf\]"),
    ("nes", {"score_scale": "raw"}, r"score_scale \('auto' or a number\) must be a finite number"),
    ("fdgd", {"search_radius": 0}, r"search_radius must be a finite number in \(0, inf\]"),
    ("fdgd", {"population": 1}, r"population must be an integer >= 2, got 1"),
    ("ga", {"nan_policy": "ignore"}, r"nan_policy must be one of \('raise', 'worst', 'drop'\)"),
    ("ga", {"dtype": "float16"}, r"dtype must be one of \['float32', 'float64'\]"),
])
def test_bad_hyper_parameters_name_the_valid_range(name, settings, message):
    with pytest.raises(ValueError, match=message):
        optim.make(name, 5, **settings)


def test_make_lists_the_valid_names_and_settings():
    with pytest.raises(ValueError, match=r"unknown optimizer 'pso'; valid names: ga, ga-actmax, ga-project, cholcma, pycma, cma, spherecma, "
                                         r"nes, nes-auto, fdgd, fdgd-auto"):
        optim.make("pso", 5)
    with pytest.raises(ValueError, match=r"bad settings for optimizer 'cma'.*valid settings: population, sigma0"):
        optim.make("cma", 5, popsize=10)
    assert isinstance(optim.make("CMA", 5), optim.CMAES)


def test_init_codes_are_checked():
    with pytest.raises(ValueError, match="NaN or inf"):
        optim.make("ga", 3, init_codes=torch.tensor([[0.0, float("nan"), 1.0]]))
    with pytest.raises(ValueError, match="zero code"):
        optim.make("spherecma", 3, init_codes=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="dim >= 2"):
        optim.make("spherecma", 1)
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        optim.make("nes", 0)


def test_initialize_after_the_first_generation_is_refused():
    for name in optim.names():
        opt = optim.make(name, 4, seed=0)
        c = opt.ask()
        opt.tell(c, torch.arange(float(c.shape[0])))
        with pytest.raises(RuntimeError, match="first generation"):
            opt.initialize(torch.zeros(2, 4) + 1)
