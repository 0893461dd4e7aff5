"""Level-set radii: 1 for an isotropic bump, the built ratio for an anisotropic one, and the verdict."""

from __future__ import annotations

import numpy as np
import pytest
from maps_helpers import CodeFunctionUnit, CodeImages, gaussian_bump

from landscape.maps import LatentLevelSets, MapLevelSets, TuningMap, kent_function, plane_map, scorer
from landscape.maps.grids import sphere_angles
from landscape.maps.levelsets import first_crossing, isotropy_verdict

D = 40


def test_first_crossing_interpolates_and_censors():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    prof = np.array([[1.0, 0.8, 0.4, 0.1], [1.0, 0.9, 0.9, 0.9]])
    tc, cens = first_crossing(t, prof, 0.6)
    np.testing.assert_allclose(tc, [1.5, 3.0])
    np.testing.assert_array_equal(cens, [False, True])


def test_isotropic_bump_gives_ratio_one():
    c = np.zeros(D)
    c[0] = 3.0
    f = gaussian_bump(c, np.eye(D) / 0.5 ** 2)
    ls = LatentLevelSets(n_random=24, path="line", max_distance=2.0, n_steps=40).fit(f, c)
    assert not ls.censored_.any()
    np.testing.assert_allclose(ls.ratio_["euclidean"], 1.0, atol=0.02)
    # radius of level f of exp(-r^2 / (2 sigma^2)) is sigma sqrt(2 ln(1/f))
    expect = 0.5 * np.sqrt(2 * np.log(1 / np.array(ls.levels)))
    np.testing.assert_allclose(ls.radii_["euclidean"].mean(0), expect, rtol=0.02)
    v = ls.verdicts_["euclidean"]
    assert (v.local, v.global_) == ("isotropic", "isotropic")
    assert ls.fits_["isotropic_gaussian"].params["sigma"] == pytest.approx(0.5, rel=0.01)
    assert ls.fits_["isotropic_gaussian"].r2 > 0.999


def test_anisotropic_bump_gives_its_built_ratio_along_eigen_directions():
    rng = np.random.default_rng(0)
    q = np.linalg.qr(rng.standard_normal((D, D)))[0]  # a rotated frame, not the coordinate axes
    sig = np.full(D, 0.6)
    sig[0], sig[1] = 1.8, 0.45  # built ratio 4 between the widest and narrowest axis
    P = (q / sig ** 2) @ q.T
    c = 2.0 * q[:, 5]
    f = gaussian_bump(c, P)
    eig = q[:, :2].T  # e.g. Hessian eigenvectors of the response at the peak
    ls = LatentLevelSets(n_random=16, path="line", max_distance=6.0, n_steps=120).fit(f, c, directions=eig,
                                                                                        metric=P)
    np.testing.assert_allclose(ls.ratio_["euclidean"], 4.0, rtol=0.02)
    np.testing.assert_allclose(ls.radii_["euclidean"][-2] / ls.radii_["euclidean"][-1], 4.0, rtol=0.02)
    # whitening by the bump's own Hessian makes it isotropic
    np.testing.assert_allclose(ls.ratio_["whitened"], 1.0, atol=0.02)
    assert ls.verdicts_["euclidean"].local == "anisotropic"
    assert ls.verdicts_["whitened"].local == "isotropic" and ls.verdicts_["whitened"].global_ == "isotropic"
    an = ls.fits_["anisotropic_gaussian"]
    assert an.params["ratio"] == pytest.approx(4.0, rel=0.02) and an.r2 > 0.999


def test_locally_isotropic_but_not_globally():
    # exp(-|x|^2 / 2 - 2 x_1^4): quadratic (round) near the peak, squeezed along x_1 far from it
    def f(x):
        return np.exp(-0.5 * (x ** 2).sum(1) - 2.0 * x[:, 0] ** 4)

    e = np.eye(D)[:2]
    ls = LatentLevelSets(levels=(0.9, 0.8, 0.5, 0.3), n_random=8, path="line", max_distance=4.0,
                         n_steps=200).fit(f, np.zeros(D), directions=e)
    v = ls.verdicts_["euclidean"]
    assert (v.local, v.global_) == ("isotropic", "anisotropic")
    assert v.locally_isotropic_not_globally
    r = ls.ratio_["euclidean"]
    assert r[0] < r[1] < r[2] < r[3]  # anisotropy grows away from the peak
    assert r[-1] == pytest.approx(np.sqrt(2 * np.log(1 / 0.3)) / 0.8124, rel=0.02)
    assert "global anisotropic" in ls.summary()


def test_great_circle_paths_keep_the_norm_and_report_angles():
    c = np.zeros(D)
    c[0] = 5.0
    seen = []

    def f(x):
        seen.append(np.linalg.norm(x, axis=1))
        return gaussian_bump(c, np.eye(D))(x)

    ls = LatentLevelSets(n_random=10, n_steps=60).fit(f, c)
    np.testing.assert_allclose(np.concatenate(seen), 5.0, rtol=1e-9)
    # level f at chord |x - c| = sqrt(2 ln(1/f)); angle = 2 arcsin(chord / 2r)
    chord = np.sqrt(2 * np.log(1 / np.array(ls.levels)))
    np.testing.assert_allclose(ls.radii_["euclidean"].mean(0), chord, rtol=0.01)
    np.testing.assert_allclose(ls.radii_["angular"].mean(0), np.rad2deg(2 * np.arcsin(chord / 10)), rtol=0.01)
    np.testing.assert_allclose(ls.ratio_["angular"], 1.0, atol=0.01)


def test_censored_rays_make_the_call_safe():
    c = np.zeros(D)
    f = gaussian_bump(c, np.eye(D))
    ls = LatentLevelSets(levels=(0.9, 0.3), n_random=6, path="line", max_distance=1.0).fit(f, c)
    # level 0.3 lies at r = 1.55 > 1.0: never reached, so neither isotropic nor anisotropic
    assert ls.censored_[:, 1].all()
    assert ls.verdicts_["euclidean"].global_ == "undetermined"
    assert ls.verdicts_["euclidean"].local == "isotropic"
    radii = np.array([[1.0], [3.0]])
    _, v = isotropy_verdict([0.5], radii, np.array([[False], [True]]), coords="x")
    assert v.global_ == "anisotropic"  # a lower bound of 3 already exceeds the threshold


def test_scorer_runs_generator_and_unit():
    c = np.zeros(6)
    unit = CodeFunctionUnit(gaussian_bump(c, np.eye(6)))
    f = scorer(CodeImages(6, max_batch=5), unit)
    x = np.random.default_rng(0).standard_normal((12, 6))
    np.testing.assert_allclose(f(x), gaussian_bump(c, np.eye(6))(x), rtol=1e-5)


def test_bad_level_set_requests():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        LatentLevelSets(levels=(0.5, 1.2))
    with pytest.raises(ValueError, match="not above the baseline"):
        LatentLevelSets(path="line", max_distance=1.0).fit(lambda x: -np.ones(len(x)), np.zeros(4))
    with pytest.raises(ValueError, match="shape"):
        LatentLevelSets().fit(lambda x: np.ones(len(x)), np.ones(4), directions=np.ones((2, 5)))
    with pytest.raises(ValueError, match="parallel to the centre"):
        LatentLevelSets(n_random=2).fit(lambda x: np.ones(len(x)), np.ones(4), directions=np.ones(4))


def test_plane_map_level_sets_recover_built_ratio():
    d = 6
    c = np.zeros(d)
    unit = CodeFunctionUnit(gaussian_bump(c, np.diag([1 / 1.5 ** 2, 1 / 0.5 ** 2, 1, 1, 1, 1])))
    tm = plane_map(CodeImages(d), unit, c, np.eye(2, d), n=41, extent=(-4, 4), progress=False)
    ls = MapLevelSets(levels=(0.8, 0.5), n_directions=72, step=0.02).fit(tm)
    np.testing.assert_allclose(ls.ratio_["euclidean"], 3.0, rtol=0.03)
    assert ls.verdicts_["euclidean"].local == "anisotropic"


def test_sphere_map_level_sets_of_isotropic_and_elongated_kent():
    theta, phi = sphere_angles(21)
    tt, pp = np.meshgrid(theta, phi)

    def tm_of(beta):
        v = kent_function(tt, pp, theta0=10.0, phi0=5.0, psi=0.0, kappa=8.0, beta=beta, A=np.exp(-8.0))
        return TuningMap("sphere", v, {"theta_deg": theta, "phi_deg": phi}, np.eye(3, 4), np.eye(1, 4)[0],
                         radius=1.0)

    iso = MapLevelSets(levels=(0.8, 0.5)).fit(tm_of(0.0))
    np.testing.assert_allclose(iso.ratio_["angular"], 1.0, atol=0.05)
    np.testing.assert_allclose(iso.peak_coords_, [10, 5], atol=1.0)
    # beta = 2.4, kappa = 8: near the peak the radii ratio is sqrt((k/2 + b) / (k/2 - b)) = 2
    ell = MapLevelSets(levels=(0.95,), n_directions=72, step=0.25).fit(tm_of(2.4))
    assert ell.ratio_["angular"][0] == pytest.approx(2.0, rel=0.05)
    assert ell.verdicts_["angular"].local == "anisotropic"


def test_map_rays_leaving_the_map_are_censored_at_the_edge():
    d = 4
    c = np.zeros(d)
    unit = CodeFunctionUnit(gaussian_bump(c, np.eye(d) / 4.0))  # sigma 2: still 0.88 at the map's edge
    tm = plane_map(CodeImages(d), unit, c, np.eye(2, d), n=11, extent=(-1, 1), progress=False)
    ls = MapLevelSets(levels=(0.95, 0.5), n_directions=8, step=0.01).fit(tm)
    assert not ls.censored_[:, 0].any() and ls.censored_[:, 1].all()
    np.testing.assert_allclose(ls.radii_["euclidean"][[0, 1, 2], 1], [1.0, np.sqrt(2), 1.0], atol=0.02)
    assert ls.verdicts_["euclidean"].global_ == "undetermined"
    assert ls.verdicts_["euclidean"].local == "isotropic"
