"""Kent and Gaussian fits recover the parameters of maps built from them."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.maps import TuningMap, fit_gaussian, fit_kent, fit_map, kent_function
from landscape.maps.fits import kent_frame, map_points
from landscape.maps.grids import sphere_angles


def sphere_map_of(values, theta, phi):
    return TuningMap("sphere", values, {"theta_deg": theta, "phi_deg": phi}, np.eye(3, 5), 4 * np.eye(1, 5)[0],
                     radius=4.0)


def test_kent_frame_is_orthonormal_and_mu1_points_at_the_angles():
    mu = kent_frame(0.4, -0.7, 1.1)
    np.testing.assert_allclose(mu @ mu.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(mu[0], [np.cos(0.4) * np.cos(-0.7), np.sin(0.4) * np.cos(-0.7), np.sin(-0.7)])


def test_kent_function_matches_the_formula():
    t, p = np.array([10.0, -50.0]), np.array([5.0, 60.0])
    kw = dict(theta0=15.0, phi0=-5.0, psi=40.0, kappa=3.0, beta=1.0, A=0.2, baseline=0.1)
    mu = kent_frame(*np.deg2rad([15.0, -5.0, 40.0]))
    Z = np.stack([np.cos(np.deg2rad(t)) * np.cos(np.deg2rad(p)), np.sin(np.deg2rad(t)) * np.cos(np.deg2rad(p)),
                  np.sin(np.deg2rad(p))], -1)
    expect = 0.2 * np.exp(3.0 * Z @ mu[0] + 1.0 * ((Z @ mu[1]) ** 2 - (Z @ mu[2]) ** 2)) + 0.1
    np.testing.assert_allclose(kent_function(t, p, **kw), expect, rtol=1e-12)


@pytest.mark.parametrize("true", [
    dict(theta0=20.0, phi0=-10.0, psi=30.0, kappa=6.0, beta=2.0, peak=2.0, baseline=0.3),
    dict(theta0=-35.0, phi0=25.0, psi=120.0, kappa=15.0, beta=5.0, peak=5.0, baseline=-1.0),
])
def test_kent_fit_recovers_known_parameters(true):
    theta, phi = sphere_angles(21)
    tt, pp = np.meshgrid(theta, phi)
    kw = {k: v for k, v in true.items() if k != "peak"}
    vals = kent_function(tt, pp, A=true["peak"] * np.exp(-true["kappa"]), **kw)
    vals = vals + 0.01 * true["peak"] * np.random.default_rng(0).standard_normal(vals.shape)
    tm = sphere_map_of(vals, theta, phi)
    fit = fit_kent(*map_points(tm))
    p = fit.params
    assert fit.r2 > 0.99
    assert p["theta0"] == pytest.approx(true["theta0"], abs=1.0)
    assert p["phi0"] == pytest.approx(true["phi0"], abs=1.0)
    assert p["psi"] == pytest.approx(true["psi"], abs=3.0)
    assert p["kappa"] == pytest.approx(true["kappa"], rel=0.05)
    assert p["beta"] == pytest.approx(true["beta"], rel=0.08)
    assert p["peak_amplitude"] == pytest.approx(true["peak"], rel=0.03)
    assert p["A"] == pytest.approx(true["peak"] * np.exp(-true["kappa"]), rel=0.3)
    assert p["baseline"] == pytest.approx(true["baseline"], abs=0.05 * true["peak"])
    np.testing.assert_allclose(fit.predict(tt, pp), vals, atol=0.05 * true["peak"])


def test_isotropic_kent_has_zero_ellipticity_and_gaussians_agree():
    theta, phi = sphere_angles(21)
    tt, pp = np.meshgrid(theta, phi)
    vals = kent_function(tt, pp, theta0=0.0, phi0=0.0, psi=0.0, kappa=10.0, beta=0.0, A=np.exp(-10.0))
    fits = fit_map(sphere_map_of(vals, theta, phi))
    assert set(fits) == {"isotropic_gaussian", "anisotropic_gaussian", "kent"}
    assert fits["kent"].params["beta"] < 0.05
    assert fits["anisotropic_gaussian"].params["ratio"] < 1.1
    assert fits["isotropic_gaussian"].r2 > 0.99


def test_anisotropic_gaussian_recovers_built_ratio_and_angle():
    a = np.linspace(-3, 3, 31)
    xx, yy = np.meshgrid(a, a)
    ang = np.deg2rad(30.0)
    p, q = np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy + 0.2), -np.sin(ang) * (xx - 0.5) + np.cos(ang) * (yy + 0.2)
    vals = 3 * np.exp(-0.5 * (p ** 2 / 1.2 ** 2 + q ** 2 / 0.4 ** 2)) + 0.5
    an = fit_gaussian(xx, yy, vals, anisotropic=True)
    assert an.r2 > 0.9999
    assert an.params["ratio"] == pytest.approx(3.0, rel=1e-3)
    assert an.params["angle_deg"] == pytest.approx(30.0, abs=0.1)
    assert an.params["x0"] == pytest.approx(0.5, abs=1e-3) and an.params["y0"] == pytest.approx(-0.2, abs=1e-3)
    iso = fit_gaussian(xx, yy, vals)
    assert iso.r2 < an.r2 - 0.02  # one width cannot explain a 3:1 bump


def test_fit_needs_enough_points():
    with pytest.raises(ValueError, match="at least 8 finite points"):
        fit_gaussian([0, 1], [0, 1], [1.0, np.nan])


def _reference_kent_bsl(Xin, theta, phi, psi, kappa, beta, A, bsl):
    """The reference's KentFunc_bsl and SO3, transcribed independently (grid in radians)."""
    tz, pz = Xin[:, 0], Xin[:, 1]
    Z = np.array([np.cos(tz) * np.cos(pz), np.sin(tz) * np.cos(pz), np.sin(pz)]).T
    orig = np.array([[np.cos(theta) * np.cos(phi), np.sin(theta) * np.cos(phi), np.sin(phi)],
                     [-np.sin(theta), np.cos(theta), 0],
                     [np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), -np.cos(phi)]]).T
    rot = np.array([[1, 0, 0], [0, np.cos(psi), np.sin(psi)], [0, -np.sin(psi), np.cos(psi)]])
    c = orig @ rot
    return A * np.exp(kappa * Z @ c[:, 0] + beta * ((Z @ c[:, 1]) ** 2 - (Z @ c[:, 2]) ** 2)) + bsl


@pytest.mark.slow
def test_reference_kent_fit_is_the_published_recipe_and_allows_ridges():
    from scipy.optimize import curve_fit

    theta, phi = np.arange(-90, 90.1, 18.0), np.arange(-90, 90.1, 18.0)  # the experiments' 11 x 11 grid
    tt, pp = np.meshgrid(theta, phi)
    # a ridge: beta > kappa / 2, outside the project's unimodal bounds
    true = dict(theta0=10.0, phi0=5.0, psi=60.0, kappa=1.5, beta=2.5, A=0.6, baseline=0.2)
    vals = kent_function(tt, pp, **true) + 0.01 * np.random.default_rng(1).standard_normal(tt.shape)
    vals[phi == 90.0] = vals[phi == 90.0].mean()  # a measured pole row is one image, one value
    vals[phi == -90.0] = vals[phi == -90.0].mean()
    tm = sphere_map_of(vals, theta, phi)
    x, y, v = map_points(tm, poles="reference")
    assert v.size == 121 and np.all(v[y == 90.0] == vals[-1].mean())
    ref = fit_kent(x, y, v, bounds="reference")
    # the reference's own call: curve_fit from its start with its bounds, on the full grid
    Xin = np.deg2rad(np.c_[x, y])
    popt, _ = curve_fit(_reference_kent_bsl, Xin, v, p0=[0, 0, np.pi / 2, 0.1, 0.1, 0.1, 0.01],
                        bounds=([-np.pi, -np.pi / 2, 0, -np.inf, 0, 0, 0], [np.pi, np.pi / 2, np.pi] + [np.inf] * 4))
    got = ref.params
    np.testing.assert_allclose([np.deg2rad(got["theta0"]), np.deg2rad(got["phi0"]), np.deg2rad(got["psi"]),
                                got["kappa"], got["beta"], got["A"], got["baseline"]], popt, rtol=1e-4, atol=1e-6)
    assert ref.convention == "reference" and ref.as_dict()["convention"] == "reference"
    assert ref.r2 > 0.99 and got["beta"] > got["kappa"] / 2  # the ridge is fitted
    own = fit_kent(*map_points(tm))
    assert own.convention == "project" and own.params["beta"] <= own.params["kappa"] / 2 + 1e-9
    assert fit_map(tm, bounds="reference")["kent"].params == pytest.approx(got)
    with pytest.raises(ValueError, match="bounds must be one of project, reference"):
        fit_kent(x, y, v, bounds="paper")


def test_reference_smoothing_clips_at_zero():
    from landscape.maps import smooth_sphere

    theta, phi = sphere_angles(11)
    tt, pp = np.meshgrid(theta, phi)
    vals = kent_function(tt, pp, theta0=0.0, phi0=0.0, psi=0.0, kappa=12.0, beta=0.0, A=np.exp(-12.0))
    tm = sphere_map_of(vals, theta, phi)
    raw, clipped = smooth_sphere(tm), smooth_sphere(tm, clip_at_zero=True)
    assert raw.values.min() < 0  # the interpolating spline undershoots beside the steep peak
    assert clipped.values.min() == 0 and clipped.clip_at_zero
    np.testing.assert_allclose(clipped.values, np.maximum(raw.values, 0))
