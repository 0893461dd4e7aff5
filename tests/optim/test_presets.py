"""The published presets reproduce their sources' update rules on fixed inputs.

Each test feeds a preset fixed codes, scores and random draws (the preset's own generator is
replaced by a queue of given arrays where the rule is random), and checks its next generation,
mean, step size or factor against the source's update transcribed here in numpy, line by line
from the source file named in the test (never through the class's helpers):

* ``ga``: willwx/XDream ``xdream/Optimizers.py`` ``Genetic._propose_new_generation``, ``_mate``,
  ``_mutate``; settings of ``examples/experiment.py``;
* ``ga-actmax``: Animadversio/ActMax-Optimizer-Dev ``core/Optimizers.py`` ``Genetic.step_simple``,
  ``mate``, ``mutate``; settings of ``cma_benchmark.py``;
* ``cholcma``: the same file's ``CholeskyCMAES.step_simple``;
* ``pycma``: ``cma.CMAEvolutionStrategy`` itself, called as ActMax's ``pycma_optimizer``;
* ``nes``, ``fdgd``: XDream's ``NES.step`` and ``FDGD.step`` / ``_prepare_next_samples``;
  settings of its ``tests/test3.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from landscape import optim


class Draws:
    """Stands in for an optimizer's ``_rand`` / ``_randn``: hands out given arrays in order."""

    def __init__(self, arrays: list[np.ndarray]) -> None:
        self.arrays = list(arrays)

    def __call__(self, *shape: int) -> torch.Tensor:
        assert self.arrays, "the optimizer drew more random numbers than the test prepared"
        a = self.arrays.pop(0)
        assert a.shape == tuple(shape), (a.shape, shape)
        return torch.as_tensor(a, dtype=torch.float64)


def feed(opt: optim.Optimizer, uniform: list[np.ndarray], normal: list[np.ndarray]) -> tuple[Draws, Draws]:
    u, z = Draws(uniform), Draws(normal)
    opt._rand, opt._randn = u, z  # instance attributes shadow the methods
    return u, z


# -- GA: XDream -----------------------------------------------------------------------------------
def xdream_mate(population, fitness, u1, u2, h_draws, heritability):
    """XDream ``Genetic._mate`` with its uniform draws given (``random_sample`` calls)."""
    fitness = fitness.copy()
    if np.max(fitness) == 0:
        fitness[np.argmax(fitness)] = 0.001
    if np.min(fitness) <= 0:
        fitness[fitness <= 0] = np.min(fitness[fitness > 0])
    fitness_bins = np.cumsum(fitness)
    fitness_bins /= fitness_bins[-1]
    parent1s = np.digitize(u1, fitness_bins)
    parent2s = np.digitize(u2, fitness_bins)
    new_samples = np.empty((len(u1), population.shape[1]))
    for i in range(len(u1)):
        parentage = h_draws[i] < heritability
        new_samples[i, parentage] = population[parent1s[i]][parentage]
        new_samples[i, ~parentage] = population[parent2s[i]][~parentage]
    return new_samples


def xdream_mutate(population, m_draws, z, mutation_rate, mutation_size):
    """XDream ``Genetic._mutate``; its ``normal(0, mutation_size, size=sum(do_mutate))`` is
    ``mutation_size * z`` at the mutated entries."""
    do_mutate = m_draws < mutation_rate
    new = population.copy()
    new[do_mutate] += mutation_size * z[do_mutate]
    return new


def xdream_next_generation(codes, scores, draws, *, population_size, mutation_rate, mutation_size, selectivity,
                           heritability, n_conserve, clip=True):
    """XDream ``Genetic._propose_new_generation`` (all scores valid). ``clip=False`` is the same
    without the 95th-percentile line (ActMax's ``step_simple`` computes kT as ``kT_mul * std``)."""
    u1, u2, h, m, z = draws
    kT = max(np.std(scores) / selectivity, 1e-8)
    sort_order = np.argsort(scores)[::-1]
    valid_scores = scores[sort_order]
    if clip:
        valid_scores = np.clip(valid_scores, a_min=None, a_max=np.percentile(valid_scores, 95))
    thres_n_valid = min(len(scores), population_size)
    valid_scores = valid_scores[:thres_n_valid]
    new_samples = np.empty((population_size, codes.shape[1]))
    new_samples[:thres_n_valid] = codes[sort_order][:thres_n_valid]
    fitness = np.exp((valid_scores - valid_scores[0]) / kT)
    children = xdream_mate(new_samples[:thres_n_valid], fitness, u1, u2, h, heritability)
    new_samples[n_conserve:] = xdream_mutate(children, m, z, mutation_rate, mutation_size)
    return new_samples, kT


def ga_draws(rng: np.random.Generator, n_children: int, d: int) -> list[np.ndarray]:
    return [rng.random(n_children), rng.random(n_children), rng.random((n_children, d)),
            rng.random((n_children, d)), rng.standard_normal((n_children, d))]


def test_ga_has_xdreams_example_settings_and_cites_them():
    cfg = optim.make("ga", 5).config()
    assert {k: cfg[k] for k in ("population", "mutation_rate", "mutation_size", "selectivity", "heritability",
                                "n_elites", "score_clip", "code_scale")} == {
        "population": 20, "mutation_rate": 0.5, "mutation_size": 0.5, "selectivity": 2.0, "heritability": 0.5,
        "n_elites": 1, "score_clip": 95.0, "code_scale": 1.0}
    assert "willwx/XDream" in cfg["reference"]["source"] and "examples/experiment.py" in cfg["reference"]["source"]


def test_ga_next_generation_is_xdreams():
    d, pop = 5, 20
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((pop, d))
    scores = rng.gamma(2.0, 1.0, pop)
    scores[7] = 40.0  # an outlier: the 95th-percentile clip decides how many children it gets
    draws = ga_draws(rng, pop - 1, d)
    expected, kT = xdream_next_generation(codes, scores, draws, population_size=20, mutation_rate=0.5,
                                          mutation_size=0.5, selectivity=2, heritability=0.5, n_conserve=1)
    opt = optim.make("ga", d, seed=0, dtype="float64")
    u, z = feed(opt, [draws[0], draws[1], draws[2], draws[3]], [draws[4]])
    opt.tell(torch.as_tensor(codes), torch.as_tensor(scores))
    assert not u.arrays and not z.arrays
    got = opt.ask().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert opt.kT_ == pytest.approx(kT, rel=1e-12)
    np.testing.assert_array_equal(got[0], codes[7])  # the elite, unmutated
    # the fixture exercises the clip: without it the children differ
    unclipped, _ = xdream_next_generation(codes, scores, draws, population_size=20, mutation_rate=0.5,
                                          mutation_size=0.5, selectivity=2, heritability=0.5, n_conserve=1,
                                          clip=False)
    assert not np.allclose(unclipped, expected)


def test_ga_underflowing_fitness_takes_the_smallest_positive_one_as_in_xdream():
    d, pop = 3, 6
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((pop, d))
    scores = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 100.0])
    draws = ga_draws(rng, pop, d)
    draws[0][:] = 0.0  # first parents: the lowest bin, which XDream's floor keeps open to the worst code
    expected, _ = xdream_next_generation(codes, scores, draws, population_size=pop, mutation_rate=0.0,
                                         mutation_size=0.5, selectivity=500.0, heritability=1.0, n_conserve=0,
                                         clip=False)
    opt = optim.make("ga", d, population=pop, selectivity=500.0, heritability=1.0, mutation_rate=0.0, n_elites=0,
                     score_clip=None, seed=0, dtype="float64")
    feed(opt, draws[:4], draws[4:])
    opt.tell(torch.as_tensor(codes), torch.as_tensor(scores))
    np.testing.assert_allclose(opt.ask().numpy(), expected, rtol=0, atol=1e-12)


# -- GA: ActMax-Optimizer-Dev -----------------------------------------------------------------------
def test_ga_actmax_has_the_benchmarks_settings():
    cfg = optim.make("ga-actmax", 5).config()
    assert {k: cfg[k] for k in ("population", "mutation_rate", "mutation_size", "selectivity", "heritability",
                                "n_elites", "score_clip")} == {
        "population": 40, "mutation_rate": 0.25, "mutation_size": 0.75, "selectivity": 0.5, "heritability": 0.75,
        "n_elites": 10, "score_clip": None}
    assert "ActMax-Optimizer-Dev" in cfg["reference"]["source"] and "cma_benchmark.py" in cfg["reference"]["source"]


def test_ga_actmax_next_generation_is_actmaxs():
    d, pop, n_conserve, kT_multiplier, skew = 5, 40, 10, 2.0, 0.75
    rng = np.random.default_rng(2)
    codes = rng.standard_normal((pop, d))
    scores = rng.normal(3.0, 1.0, pop)
    u1, u2, h, m, z = ga_draws(rng, pop - n_conserve, d)
    # ActMax Genetic.step_simple (no NaN), mate(..., skew), mutate(...)
    kT = max(np.std(scores) * kT_multiplier, 1e-8)
    sort_order = np.argsort(scores)[::-1]
    valid_scores = scores[sort_order]
    new_samples = np.empty((pop, d))
    new_samples[:pop] = codes[sort_order][:pop]
    fitness = np.exp((valid_scores - valid_scores[0]) / kT)
    bins = np.cumsum(fitness)
    bins /= bins[-1]
    p1, p2 = np.digitize(u1, bins), np.digitize(u2, bins)
    children = np.empty((pop - n_conserve, d))
    for i in range(pop - n_conserve):
        parentage = h[i] < skew
        children[i, parentage] = new_samples[p1[i]][parentage]
        children[i, ~parentage] = new_samples[p2[i]][~parentage]
    do_mutate = m < 0.25
    children[do_mutate] += 0.75 * z[do_mutate]
    new_samples[n_conserve:] = children

    opt = optim.make("ga-actmax", d, seed=0, dtype="float64")
    feed(opt, [u1, u2, h, m], [z])
    opt.tell(torch.as_tensor(codes), torch.as_tensor(scores))
    np.testing.assert_allclose(opt.ask().numpy(), new_samples, rtol=0, atol=1e-12)
    assert opt.kT_ == pytest.approx(kT, rel=1e-12)


# -- CholeskyCMAES ----------------------------------------------------------------------------------
class ActMaxCholeskyCMAES:
    """ActMax-Optimizer-Dev ``CholeskyCMAES`` (``__init__`` and ``step_simple``), maximising, with
    its ``randn`` draws given."""

    def __init__(self, N, lambda_, init_sigma, init_code, Aupdate_freq):
        self.lambda_ = lambda_
        mu = lambda_ / 2
        weights = np.log(mu + 1 / 2) - np.log(np.arange(1, 1 + np.floor(mu)))
        self.mu = int(np.floor(mu))
        self.weights = (weights / weights.sum()).reshape(1, -1)
        self.mueff = self.weights.sum() ** 2 / np.sum(self.weights ** 2)
        self.sigma = init_sigma
        self.cc = 4 / (N + 4)
        self.cs = np.sqrt(self.mueff) / (np.sqrt(self.mueff) + np.sqrt(N))
        self.c1 = 2 / (N + np.sqrt(2)) ** 2
        self.damps = 1 + self.cs + 2 * max(0, np.sqrt((self.mueff - 1) / (N + 1)) - 1)
        self.init_x = np.asarray(init_code).reshape(1, N)
        self.xmean = np.zeros((1, N))
        self.pc = np.zeros((1, N))
        self.ps = np.zeros((1, N))
        self.A = np.eye(N)
        self.Ainv = np.eye(N)
        self.eigeneval = 0
        self.counteval = 0
        self.update_crit = Aupdate_freq * lambda_
        self.chiN = np.sqrt(N) * (1 - 1 / (4 * N) + 1 / (21 * N ** 2))
        self._istep = 0
        self.refreshes = 0

    def step_simple(self, scores, codes, randz):
        code_sort_index = np.argsort(-scores, kind="stable")
        if self._istep == 0:
            self.xmean = self.init_x
        else:
            self.xmean = self.weights @ codes[code_sort_index[0:self.mu], :]
            randzw = self.weights @ self.randz[code_sort_index[0:self.mu], :]
            self.ps = (1 - self.cs) * self.ps + np.sqrt(self.cs * (2 - self.cs) * self.mueff) * randzw
            self.pc = (1 - self.cc) * self.pc + np.sqrt(self.cc * (2 - self.cc) * self.mueff) * randzw @ self.A
            self.sigma = self.sigma * np.exp((self.cs / self.damps) * (np.linalg.norm(self.ps) / self.chiN - 1))
            if self.counteval - self.eigeneval > self.update_crit:
                self.eigeneval = self.counteval
                v = self.pc @ self.Ainv
                normv = v @ v.T
                self.A = np.sqrt(1 - self.c1) * self.A + np.sqrt(1 - self.c1) / normv * (
                    np.sqrt(1 + normv * self.c1 / (1 - self.c1)) - 1) * v.T @ self.pc
                self.Ainv = 1 / np.sqrt(1 - self.c1) * self.Ainv - 1 / np.sqrt(1 - self.c1) / normv * (
                    1 - 1 / np.sqrt(1 + normv * self.c1 / (1 - self.c1))) * self.Ainv @ v.T @ v
                self.refreshes += 1
        self.randz = randz
        new_samples = self.xmean + self.sigma * self.randz @ self.A
        self.counteval += self.lambda_
        self._istep += 1
        return new_samples


def test_cholcma_has_actmaxs_settings():
    opt = optim.make("cholcma", 5)
    cfg = opt.config()
    assert (cfg["population"], cfg["sigma0"], cfg["refresh_every"]) == (40, 3.0, 10)
    assert opt.population == 40 and opt.sigma_ == 3.0 and torch.equal(opt.ask(), torch.zeros(1, 5, dtype=torch.float64))
    assert "CholeskyCMAES" in cfg["reference"]["source"]


def test_cholcma_follows_actmaxs_step_simple_through_a_factor_refresh():
    d, lam = 5, 40
    rng = np.random.default_rng(3)
    target = rng.standard_normal(d) * 2
    h = rng.standard_normal((d, d))
    h = h @ h.T / d + np.eye(d)

    def f(x):
        e = x - target
        return -np.einsum("ij,jk,ik->i", e, h, e)

    n_gen = 24  # the factor is refreshed after the 11th and the 22nd tell
    randz = [rng.standard_normal((lam, d)) for _ in range(n_gen)]
    ref = ActMaxCholeskyCMAES(d, lam, 3.0, np.zeros((1, d)), 10)
    opt = optim.make("cholcma", d, seed=0)
    feed(opt, [], list(randz))
    codes_ref = np.zeros((1, d))  # get_init_pop(): the init code alone
    codes = opt.ask()
    np.testing.assert_array_equal(codes.numpy(), codes_ref)
    refreshes = []
    for g in range(n_gen):
        scores = f(codes_ref)
        codes_ref = ref.step_simple(scores, codes_ref, randz[g])
        opt.tell(codes, torch.as_tensor(f(codes.numpy())))
        codes = opt.ask()
        np.testing.assert_allclose(codes.numpy(), codes_ref, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(opt.mean_.numpy(), ref.xmean[0], rtol=1e-10, atol=1e-12)
        assert opt.sigma_ == pytest.approx(ref.sigma, rel=1e-10)
        np.testing.assert_allclose(opt.A_.numpy(), ref.A, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(opt.Ainv_.numpy(), ref.Ainv, rtol=1e-10, atol=1e-12)
        refreshes.append(ref.refreshes)
    assert refreshes[10] == 0 and refreshes[11] == 1 and refreshes[21] == 1 and refreshes[22] == 2
    assert opt.refreshes_ == 2
    assert not np.allclose(ref.A, np.eye(d))  # the rank-one update did change the factor


def test_cholcma_from_given_codes_starts_at_their_weighted_best_half():
    d = 4
    rng = np.random.default_rng(4)
    init = rng.standard_normal((6, d))
    scores = rng.standard_normal(6)
    opt = optim.make("cholcma", d, seed=0)
    opt.initialize(torch.as_tensor(init))
    np.testing.assert_array_equal(opt.ask().numpy(), init)
    opt.tell(torch.as_tensor(init), torch.as_tensor(scores))
    # ActMax's init_code=None branch: weights of the best min(mu, n) renormalised
    mu = 20
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w = w / w.sum()
    top = np.argsort(-scores)[:mu]
    tw = w[:len(top)] / w[:len(top)].sum()
    np.testing.assert_allclose(opt.mean_.numpy(), tw @ init[top], rtol=1e-12)


# -- pycma -----------------------------------------------------------------------------------------
def test_pycma_proposes_what_cma_evolution_strategy_proposes_with_actmaxs_settings():
    cma = pytest.importorskip("cma")
    d, seed = 6, 7
    opt = optim.make("pycma", d, seed=seed)
    assert opt.config()["sigma0"] == 2.0 and opt.config()["population"] == 40 and opt.es.sigma0 == 2.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = cma.CMAEvolutionStrategy(np.zeros(d), 2.0, {"popsize": 40, "seed": seed, "verbose": -9})
    for _ in range(4):
        outside = np.random.get_state()
        x = opt.ask().numpy()
        ref = np.asarray(es.ask())  # pycma draws from numpy's global generator, seeded with `seed` above
        np.testing.assert_array_equal(x, ref)
        scores = -((x - 1.0) ** 2).sum(1)
        opt.tell(torch.as_tensor(x), torch.as_tensor(scores))
        es.tell(list(ref), list(-scores))  # ActMax's pycma_optimizer negates: pycma minimises
    np.testing.assert_array_equal(opt.es.mean, es.mean)
    assert opt.sigma_ == es.sigma
    # the preset draws from its own generator: numpy's global one is left alone
    np.random.set_state(outside)
    before = np.random.get_state()[1].copy()
    opt.tell(opt.ask(), torch.zeros(40))
    assert np.array_equal(np.random.get_state()[1], before)


# -- NES and FDGD: XDream's raw rules ---------------------------------------------------------------
def test_nes_and_fdgd_have_xdreams_fc6_settings():
    nes = optim.make("nes", 5).config()
    assert {k: nes[k] for k in ("population", "search_radius", "learning_rate", "search_radius_learning_rate",
                                "min_search_radius", "antithetic", "score_scale", "center_scores")} == {
        "population": 20, "search_radius": 1.25, "learning_rate": 1.75, "search_radius_learning_rate": 0.05,
        "min_search_radius": 0.01, "antithetic": True, "score_scale": 1.0, "center_scores": False}
    fdgd = optim.make("fdgd", 5).config()
    assert {k: fdgd[k] for k in ("population", "search_radius", "learning_rate", "antithetic", "score_scale")} == {
        "population": 20, "search_radius": 1.25, "learning_rate": 1.25, "antithetic": True, "score_scale": 1.0}
    assert optim.make("nes-auto", 5).config()["score_scale"] == "auto"
    assert optim.make("nes-auto", 5).config()["center_scores"] is True
    assert optim.make("fdgd-auto", 5).config()["score_scale"] == "auto"


def test_nes_two_steps_are_xdreams_raw_update():
    d, n, r, lr, rlr, r_min = 5, 20, 1.25, 1.75, 0.05, 0.01
    rng = np.random.default_rng(5)
    center0 = rng.standard_normal(d) * 0.1
    pos = [rng.standard_normal((n // 2, d)), rng.standard_normal((n // 2, d))]
    score_sets = [rng.normal(10.0, 1.0, n), rng.normal(10.0, 1.0, n)]  # a firing rate far from 0
    opt = optim.make("nes", d, center=center0, seed=0, dtype="float64")
    feed(opt, [], list(pos))
    c, radius = center0.copy(), r
    for k in range(2):
        # XDream NES._prepare_next_samples and NES.step
        std_steps = np.concatenate((pos[k], -pos[k]))
        samples = c + pos[k] * radius
        samples = np.concatenate((samples, c - pos[k] * radius))
        codes = opt.ask()
        np.testing.assert_allclose(codes.numpy(), samples, rtol=0, atol=1e-12)
        scores = score_sets[k]
        grad = np.mean(scores.reshape(-1, 1) * std_steps, axis=0) / radius
        c = c + lr * grad
        grad_r = np.mean(scores.reshape(-1, 1) * (std_steps ** 2 - 1)) / radius
        radius = float(np.clip(radius + rlr * grad_r, r_min, None))
        opt.tell(codes, torch.as_tensor(scores))
        np.testing.assert_allclose(opt.center_.numpy(), c, rtol=1e-12, atol=1e-12)
        assert opt.radius_ == pytest.approx(radius, rel=1e-12)
    # the raw rule's radius follows the mean rate: centred scores would give another radius
    auto = optim.make("nes-auto", d, center=center0, score_scale=1.0, seed=0, dtype="float64")
    feed(auto, [], [pos[0]])
    codes = auto.ask()
    auto.tell(codes, torch.as_tensor(score_sets[0]))
    first_raw = float(np.clip(r + rlr * np.mean(score_sets[0].reshape(-1, 1) * (np.concatenate(
        (pos[0], -pos[0])) ** 2 - 1)) / r, r_min, None))
    assert abs(auto.radius_ - first_raw) > 1e-3


@pytest.mark.parametrize("antithetic", [True, False])
def test_fdgd_step_is_xdreams_raw_update(antithetic):
    d, n_samples, r, lr = 5, 20, 1.25, 1.25
    rng = np.random.default_rng(6)
    center0 = rng.standard_normal(d)
    # XDream FDGD.__init__: n_samples 20 gives 10 antithetic pairs, or 19 steps plus the centre
    n_indep = 10 if antithetic else 19
    z = rng.standard_normal((n_indep, d))
    opt = optim.make("fdgd", d, center=center0, antithetic=antithetic, seed=0, dtype="float64")
    feed(opt, [], [z])
    # XDream FDGD._prepare_next_samples: normal(loc=0, scale=r) is r * z
    pos_steps = r * z
    norm_steps = np.mean(np.abs(pos_steps.reshape(n_indep, -1)), axis=1)
    pos_samples = center0 + pos_steps
    if antithetic:
        samples = np.concatenate((pos_samples, center0 - pos_steps))
    else:
        samples = np.concatenate((pos_samples, (center0.copy(),)))
    codes = opt.ask()
    np.testing.assert_allclose(codes.numpy(), samples, rtol=0, atol=1e-12)
    scores = rng.normal(10.0, 2.0, n_samples)
    # XDream FDGD.step
    pos_scores = scores[:n_indep]
    dscore = (pos_scores - scores[n_indep:]) / 2. if antithetic else pos_scores - scores[-1]
    grad = np.mean(dscore.reshape(-1, 1) * (norm_steps.reshape(-1, 1) ** -2) * pos_steps.reshape(n_indep, -1),
                   axis=0)
    opt.tell(codes, torch.as_tensor(scores))
    np.testing.assert_allclose(opt.center_.numpy(), center0 + lr * grad, rtol=1e-12, atol=1e-12)


# -- code_scale ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nes", "nes-auto", "fdgd", "fdgd-auto", "cholcma", "ga"])
def test_code_scale_makes_a_preset_act_on_scaled_codes_as_on_the_originals(name):
    """With code_scale c on g(x) = f(x / c), every code is c times the code of the unscaled run."""
    d, c = 6, 0.2
    rng = np.random.default_rng(7)
    target = rng.standard_normal(d)

    def f(x):
        return 5.0 - ((x.double() - torch.as_tensor(target)) ** 2).sum(1) * 0.01

    plain = optim.make(name, d, seed=1, dtype="float64")
    scaled = optim.make(name, d, seed=1, dtype="float64", code_scale=c)
    if name == "ga":  # the first generation is N(0, I) whatever the scale: start both from given codes
        init = torch.as_tensor(rng.standard_normal((20, d)))
        plain.initialize(init)
        scaled.initialize(c * init)
    for _ in range(8):
        a, b = plain.ask(), scaled.ask()
        torch.testing.assert_close(b, c * a, rtol=1e-9, atol=1e-9)
        plain.tell(a, f(a))
        scaled.tell(b, f(b / c))
    assert optim.make(name, d, code_scale=c).config()["code_scale"] == c


def test_every_preset_cites_its_source_and_its_code_space():
    for name in optim.BUILTIN:
        if name in ("cma", "spherecma"):
            continue  # the project's own methods, documented in their modules
        if name == "pycma":
            pytest.importorskip("cma")
        ref = optim.make(name, 4).config()["reference"]
        assert ref["source"] and ref["rule"] and "code_scale" in ref["code_space"], name


def test_make_ignores_the_reference_entry_of_a_config():
    cfg = optim.make("ga-actmax", 4, seed=2).config()
    cfg["reference"] = {"source": "reworded"}
    assert optim.make(**cfg).config() == optim.make("ga-actmax", 4, seed=2).config()
    assert math.isclose(optim.make("cholcma", 4, code_scale=0.5).sigma_, 1.5)


def test_pycma_without_pycma_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cma", None)  # makes `import cma` fail as if it were not installed
    with pytest.raises(ImportError, match="pip install cma"):
        optim.make("pycma", 4)
