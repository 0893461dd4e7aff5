"""Maps around a run: PC spheres, control spheres, planes and Hessian axes, on a run with a known answer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from maps_helpers import CodeFunctionUnit, CodeImages, gaussian_bump

from landscape.maps import TrajectoryPCA, map_from_run, run_axes

D = 60


def fake_run(seed=0):
    """A trajectory drifting towards a target code, with the unit peaked on that code."""
    rng = np.random.default_rng(seed)
    target = rng.standard_normal(D)
    target *= 8.0 / np.linalg.norm(target)
    steps = np.linspace(0.05, 1.0, 30)[:, None, None]
    codes = steps * target + 0.4 * rng.standard_normal((30, 20, D))
    return SimpleNamespace(codes=codes, best_code=codes[-1, 0], dir="fake-run"), target


def test_pc_sphere_of_a_run_peaks_at_its_centre():
    run, target = fake_run()
    last_mean = run.codes[-1].mean(0)
    # the unit prefers the direction of the last generation at the sphere's radius
    r = np.linalg.norm(run.codes[-1], axis=1).mean()
    unit = CodeFunctionUnit(gaussian_bump(r * last_mean / np.linalg.norm(last_mean), np.eye(D) / 9.0))
    tm = map_from_run(run, CodeImages(D), unit, axes="pc", grid="sphere:11", progress=False)
    assert tm.radius == pytest.approx(r)
    np.testing.assert_allclose(np.linalg.norm(tm.codes(), axis=-1), r)
    pk = tm.peak()
    assert (pk["theta_deg"], pk["phi_deg"]) == (0.0, 0.0)
    assert tm.meta["axes"] == "pc" and tm.meta["grid"] == "sphere:11:11:-90:90"
    # a sign error on PC1 would put the preferred direction behind the hemisphere
    assert tm.values[:, 5].max() > 10 * tm.values[:, [0, -1]].max()


def test_run_axes_requests():
    run, _ = fake_run(1)
    pca = TrajectoryPCA(50).fit(run.codes)
    np.testing.assert_allclose(run_axes("pc", pca, 3), pca.components_[:3])
    np.testing.assert_allclose(run_axes("pc:1,49,50", pca, 3), pca.components_[[0, 48, 49]])
    ctl = run_axes("pc1-random", pca, 3, seed=4)
    np.testing.assert_allclose(ctl[0], pca.components_[0])
    assert np.abs(ctl[1:] @ pca.components_.T).max() < 1e-10
    np.testing.assert_allclose(ctl @ ctl.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(run_axes("pc1-random", pca, 3, seed=4), ctl)
    rnd = run_axes("random", pca, 2, seed=0)
    assert rnd.shape == (2, D) and np.abs(rnd @ pca.components_.T).max() < 1e-10
    h = np.linalg.qr(np.random.default_rng(0).standard_normal((D, D)))[0]  # columns
    np.testing.assert_allclose(run_axes("hessian:2,3", pca, 2, hessian=h), h[:, [2, 3]].T)
    sph = run_axes("hessian", pca, 3, hessian=h)
    np.testing.assert_allclose(sph[0], pca.components_[0])
    np.testing.assert_allclose(sph @ sph.T, np.eye(3), atol=1e-12)
    with pytest.raises(ValueError, match="need Hessian eigenvectors"):
        run_axes("hessian", pca, 3)
    with pytest.raises(ValueError, match="unknown axes request 'pca'"):
        run_axes("pca", pca, 3)
    with pytest.raises(ValueError, match="cannot read the indices"):
        run_axes("pc:one", pca, 3)
    with pytest.raises(ValueError, match="exactly 3 directions"):
        run_axes("pc:1,2", pca, 3)


def test_plane_around_the_best_code_and_explicit_axes():
    run, _ = fake_run(2)
    unit = CodeFunctionUnit(gaussian_bump(run.best_code, np.eye(D)))
    tm = map_from_run(run, CodeImages(D), unit, axes="pc:2,3", grid="plane:9:-2:2", progress=False)
    assert tm.kind == "plane" and tm.shape == (9, 9)
    np.testing.assert_allclose(tm.center, run.best_code)
    assert tm.peak()["a"] == 0 and tm.peak()["b"] == 0 and tm.peak()["value"] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="dimension 5"):
        map_from_run(run, CodeImages(D), unit, axes=np.eye(2, 5), grid="plane:3:-1:1", progress=False)
