"""CMAES: the tutorial's parameters, convergence on rotated ill-conditioned quadratics, agreement
with pycma, and the equivalence of its fast factor updates with the plain dense update."""

from __future__ import annotations

import math
import warnings

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
    import numpy as np

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


@pytest.mark.slow
def test_needs_about_as_many_evaluations_as_pycma():
    cma = pycma()
    import numpy as np

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


def _force_dense(opt: CMAES) -> CMAES:
    opt._dense_updates = True
    return opt


def test_factor_updates_equal_the_dense_matrix_square_root_update():
    d = 40
    f, _ = rotated_ellipsoid(d, condition=1e3, seed=3)
    fast = CMAES(d, seed=4, dtype=torch.float64)
    dense = _force_dense(CMAES(d, seed=4, dtype=torch.float64))
    folds = 0
    for _ in range(25):
        a, b = fast.ask(), dense.ask()
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-9)
        rank_before = fast._rank
        fast.tell(a, f(a))
        dense.tell(b, f(b))
        folds += fast._rank < rank_before
    assert folds >= 2 and fast._Bt is not None  # both folds (into I, then into B) were exercised
    assert fast.sigma_ == pytest.approx(dense.sigma_, rel=1e-9)
    c_fast = fast._dense_transpose().T @ fast._dense_transpose()
    c_dense = dense._dense_transpose().T @ dense._dense_transpose()
    assert torch.allclose(c_fast, c_dense, atol=1e-9)


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
        assert torch.allclose(other._dense_transpose(), ref._dense_transpose(), atol=1e-8)


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
    assert torch.equal(exact._dense_transpose(), rounded._dense_transpose())
