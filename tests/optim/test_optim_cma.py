"""CMAES: the tutorial's parameters, convergence on rotated ill-conditioned quadratics, agreement
with pycma, and its covariance against an independent dense implementation of the textbook update."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from optim_helpers import rotated_ellipsoid, run, shifted_sphere

from landscape.optim import CMAES
from landscape.optim.cma import CMAParameters, default_population


def pycma():
    cma = pytest.importorskip("cma")
    warnings.filterwarnings("ignore", module="cma")
    return cma


@pytest.mark.parametrize("dim, lam", [(10, 10), (100, 17), (4096, 40)])
def test_parameters_are_the_tutorials(dim, lam):
    p = CMAParameters(dim, lam)
    raw = math.log((lam + 1) / 2) - torch.log(torch.arange(1, lam + 1, dtype=torch.float64))
    pos = raw[raw > 0]
    mueff = float(pos.sum() ** 2 / (pos ** 2).sum())
    assert p.mueff == pytest.approx(mueff)
    assert p.weights[: len(pos)].sum().item() == pytest.approx(1.0)
    assert (p.weights[len(pos):] <= 0).all()
    assert p.cs == pytest.approx((mueff + 2) / (dim + mueff + 5))
    assert p.ds == pytest.approx(1 + 2 * max(0, math.sqrt((mueff - 1) / (dim + 1)) - 1) + p.cs)
    assert p.c1 == pytest.approx(2 / ((dim + 1.3) ** 2 + mueff))
    assert default_population(dim) == 4 + int(3 * math.log(dim))
    if dim > 100:
        return  # pycma's own set-up at d = 4096 costs seconds
    # weights and covariance learning rates coincide with pycma's defaults
    cma = pycma()
    es = cma.CMAEvolutionStrategy(np.zeros(dim), 1.0, {"popsize": lam, "verbose": -9})
    assert np.allclose(np.asarray(es.sp.weights), p.weights.numpy(), atol=1e-12)
    assert (es.sp.c1, es.sp.cmu, es.sp.cc) == pytest.approx((p.c1, p.cmu, p.cc), rel=1e-9)


def test_recovers_the_optimum_of_a_rotated_ill_conditioned_quadratic():
    d = 10
    f, x_star = rotated_ellipsoid(d, condition=1e4, seed=1)
    out = run(CMAES(d, seed=0, dtype=torch.float64), f, evaluations=6000, until=-1e-10)
    assert out["best"] > -1e-10
    # the smallest curvature is 1: |x - x*| <= sqrt(2 * 1e-10)
    assert torch.linalg.vector_norm(out["best_code"] - x_star) < 2e-5


def test_low_rank_path_converges_in_float32():
    d = 32  # d > 2 (lambda + 1): rank-(lambda+1) factor updates with periodic folding
    f, x_star = rotated_ellipsoid(d, condition=1e2, seed=2)
    opt = CMAES(d, seed=1)
    assert not opt._dense_updates
    out = run(opt, f, evaluations=20000, until=-1e-6)
    assert out["best"] > -1e-6
    assert torch.linalg.vector_norm(out["best_code"].double() - x_star) < 1e-2


def test_needs_about_as_many_evaluations_as_pycma():
    cma = pycma()
    d = 10
    ours, theirs = [], []
    for seed in range(3):
        f, x_star = rotated_ellipsoid(d, condition=1e4, seed=10 + seed)
        out = run(CMAES(d, seed=seed, dtype=torch.float64), f, evaluations=20000, until=-1e-8)
        assert out["best"] > -1e-8
        ours.append(out["evaluations"])
        es = cma.CMAEvolutionStrategy(np.zeros(d), 1.0, {"seed": seed + 1, "verbose": -9, "tolfun": 0,
                                                         "tolx": 0, "tolfunhist": 0, "tolstagnation": 10 ** 9})
        evals, best = 0, -math.inf
        while evals < 20000 and best <= -1e-8:
            x = es.ask()
            s = f(torch.as_tensor(np.asarray(x)))
            es.tell(x, (-s).tolist())
            evals += len(x)
            best = max(best, float(s.max()))
        assert best > -1e-8
        theirs.append(evals)
    ratio = sum(ours) / sum(theirs)
    assert 0.75 < ratio < 1.33, (ours, theirs)


def textbook_covariance(history: list[tuple], d: int, lam: int) -> tuple[np.ndarray, list[bool]]:
    """The covariance after the told generations, by the tutorial's update written out densely.

    An independent reference: float64 numpy, C held as a matrix and C^(-1/2) taken from its
    eigendecomposition every generation; weights and learning rates from pycma. ``history``
    holds (mean, sigma, codes, scores) of each generation as the optimizer saw them.

    Returns
    -------
    C : (d, d) array
    h_sigma : list of the stall flags used
    """
    cma = pycma()
    sp = cma.CMAEvolutionStrategy(np.zeros(d), 1.0, {"popsize": lam, "verbose": -9}).sp
    w = np.asarray(sp.weights, dtype=np.float64)
    c1, cmu, cc = sp.c1, sp.cmu, sp.cc
    mueff = w[w > 0].sum() ** 2 / (w[w > 0] ** 2).sum()
    cs = (mueff + 2) / (d + mueff + 5)  # the tutorial's (pycma: + 3)
    chi_n = math.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d * d))
    C, pc, ps = np.eye(d), np.zeros(d), np.zeros(d)
    flags = []
    for t, (mean, sigma, codes, scores) in enumerate(history):
        y = (np.asarray(codes, dtype=np.float64) - np.asarray(mean, dtype=np.float64)) / sigma
        y = y[np.argsort(-np.asarray(scores), kind="stable")]
        vals, vecs = np.linalg.eigh(C)
        c_inv_sqrt = (vecs / np.sqrt(vals)) @ vecs.T
        y_w = w[w > 0] @ y[w > 0]
        ps = (1 - cs) * ps + math.sqrt(cs * (2 - cs) * mueff) * c_inv_sqrt @ y_w
        h = np.linalg.norm(ps) / math.sqrt(1 - (1 - cs) ** (2 * (t + 1))) < (1.4 + 2 / (d + 1)) * chi_n
        flags.append(bool(h))
        pc = (1 - cc) * pc + h * math.sqrt(cc * (2 - cc) * mueff) * y_w
        w_cov = w.copy()
        neg = w < 0
        w_cov[neg] *= d / np.sum((y[neg] @ c_inv_sqrt) ** 2, axis=1)
        delta = (1 - h) * cc * (2 - cc)
        C = (1 + c1 * delta - c1 - cmu * w.sum()) * C + c1 * np.outer(pc, pc) + cmu * (w_cov * y.T) @ y
    return C, flags


@pytest.mark.parametrize("d, lam, generations", [(12, 10, 25), (200, 8, 30)])
def test_covariance_follows_the_textbook_update_on_the_same_samples(d, lam, generations):
    # (12, 10): the small-d path, a dense square root per generation; (200, 8): the low-rank
    # factor (12 generations), then folding it into a dense part (12), then the dense factor
    f, _ = rotated_ellipsoid(d, condition=1e3, seed=3)
    opt = CMAES(d, population=lam, seed=4, dtype=torch.float64)
    history, phases = [], set()
    for _ in range(generations):
        mean, sigma = opt.mean_.clone(), opt.sigma_
        codes = opt.ask()
        scores = f(codes)
        history.append((mean.numpy(), sigma, codes.numpy(), scores.numpy()))
        opt.tell(codes, scores)
        phases.add("low rank" if opt._B is None else "folding" if opt._rank > opt._lo else "dense")
        # the mean moved by sigma times the recombined step of the better half
        y = (codes - mean) / sigma
        w = opt.params.weights[opt.params.weights > 0]
        best = torch.argsort(scores, descending=True, stable=True)[: len(w)]
        assert torch.allclose(opt.mean_, mean + sigma * (w @ y[best]), atol=1e-12)
    if d == 200:
        assert phases == {"low rank", "folding", "dense"}
    reference, flags = textbook_covariance(history, d, lam)
    a = opt._factor().numpy()
    assert np.abs(a @ a.T - reference).max() < 1e-10 * np.abs(reference).max()
    assert not np.allclose(reference, np.diag(np.diag(reference)), atol=1e-6)  # C did adapt
    assert all(flags)


def test_samples_are_drawn_through_the_factor():
    d = 200
    f, _ = rotated_ellipsoid(d, condition=1e2, seed=5)
    opt = CMAES(d, population=8, seed=1, dtype=torch.float64)
    phases = set()
    for _ in range(26):  # through the low-rank, folding and dense phases
        codes = opt.ask()
        _, z, y = opt._asked
        phases.add((opt._B is None, opt._rank > opt._lo))
        assert torch.allclose(y, z @ opt._factor().T, atol=1e-12)
        assert torch.allclose(codes, opt.mean_ + opt.sigma_ * y, atol=1e-12)
        opt.tell(codes, f(codes))
    assert phases == {(True, False), (True, True), (False, True), (False, False)}


def test_the_scale_moves_into_the_dense_part_without_changing_the_factor():
    d = 100
    f, _ = rotated_ellipsoid(d, condition=1e2, seed=7)
    # without active weights the factor shrinks by sqrt(a) < 1 a generation (with them a = 1)
    opt = CMAES(d, population=8, seed=2, dtype=torch.float64, active=False)
    run(opt, f, generations=13)  # folding: a dense part and low-rank rows
    assert opt._B is not None and opt._rank > opt._lo and opt._scale < 1
    before = opt._factor()
    opt._renormalize()
    assert opt._scale == 1.0
    assert torch.allclose(opt._factor(), before, rtol=1e-12, atol=1e-14)


def test_told_codes_are_recognised_in_any_order_or_solved_for():
    d = 12
    f, _ = shifted_sphere(d, seed=6)
    ref, permuted, solved = (CMAES(d, seed=5, dtype=torch.float64) for _ in range(3))
    for _ in range(3):
        run(ref, f, generations=1), run(permuted, f, generations=1), run(solved, f, generations=1)
    codes = ref.ask()
    permuted.ask()
    first = solved.ask()
    solved.ask()  # a second ask replaces the pending batch: the first one must be solved for
    assert torch.equal(first, codes)
    ref.tell(codes, f(codes))
    perm = torch.randperm(codes.shape[0], generator=torch.Generator().manual_seed(0))
    permuted.tell(codes[perm], f(codes[perm]))
    solved.tell(first, f(first))
    for other in (permuted, solved):
        assert torch.allclose(other.mean_, ref.mean_, atol=1e-10)
        assert other.sigma_ == pytest.approx(ref.sigma_, rel=1e-10)
        assert torch.allclose(other._factor(), ref._factor(), atol=1e-8)


def test_init_codes_are_scored_first_and_place_the_mean():
    d = 6
    init = torch.randn(8, d, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    opt = CMAES(d, init_codes=init, seed=0, dtype=torch.float64)
    assert torch.equal(opt.ask(), init)
    scores = torch.arange(8.0)  # the last rows are best
    opt.tell(init, scores)
    w = torch.log(torch.tensor(4.5)) - torch.log(torch.arange(1, 5, dtype=torch.float64))
    expected = (w / w.sum()) @ init.flip(0)[:4]
    assert torch.allclose(opt.mean_, expected)
    assert opt.ask().shape == (opt.population, d)


def test_step_size_grows_on_a_slope_and_shrinks_at_an_optimum():
    d = 8
    up = CMAES(d, seed=0)
    run(up, lambda x: x[:, 0].double(), generations=30)
    assert up.sigma_ > 5
    down = CMAES(d, seed=0)
    run(down, lambda x: -(x.double() ** 2).sum(1), generations=60)
    assert down.sigma_ < 0.1


def test_codes_back_from_a_float32_file_are_still_recognised():
    d = 12
    f, _ = shifted_sphere(d, seed=8)
    exact, rounded = CMAES(d, seed=6, dtype=torch.float64), CMAES(d, seed=6, dtype=torch.float64)
    for _ in range(4):
        a, b = exact.ask(), rounded.ask()
        exact.tell(a, f(a))
        rounded.tell(b.float(), f(b))  # a run folder stores codes as float32
    # matched rows reuse the stored sampling coordinates, so no solve and no drift
    assert torch.allclose(exact.mean_, rounded.mean_, atol=1e-12)
    assert torch.equal(exact._factor(), rounded._factor())
