"""The spherical spline uses scipy's colatitude/longitude conventions correctly."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.maps import TuningMap, kent_function, smooth_sphere
from landscape.maps.grids import sphere_angles


def make(theta, phi, fn, sem=None):
    tt, pp = np.meshgrid(theta, phi)
    return TuningMap("sphere", fn(tt, pp), {"theta_deg": theta, "phi_deg": phi}, np.eye(3, 4), np.eye(1, 4)[0],
                     radius=1.0, sem=sem)


def bump(theta0, phi0):
    return lambda t, p: kent_function(t, p, theta0=theta0, phi0=phi0, psi=20.0, kappa=5.0, beta=1.5,
                                      A=np.exp(-5.0), baseline=0.2)


@pytest.mark.parametrize("theta0,phi0", [(30.0, 40.0), (-60.0, -20.0)])
def test_interpolation_on_a_one_degree_grid(theta0, phi0):
    theta, phi = sphere_angles(21)
    sm = smooth_sphere(make(theta, phi, bump(theta0, phi0)))
    assert sm.values.shape == (181, 181) and sm.s == 0.0
    np.testing.assert_array_equal(sm.theta_deg, np.arange(-90, 91)) and np.testing.assert_array_equal(
        sm.phi_deg, np.arange(-90, 91))
    tt, pp = np.meshgrid(sm.theta_deg, sm.phi_deg)
    truth = bump(theta0, phi0)(tt, pp)
    assert np.abs(sm.values - truth).max() < 0.02
    i, j = np.unravel_index(np.argmax(sm.values), sm.values.shape)
    # latitude not flipped, longitude not shifted
    assert abs(sm.phi_deg[i] - phi0) <= 2 and abs(sm.theta_deg[j] - theta0) <= 2
    np.testing.assert_allclose(sm(theta0, phi0), truth.max(), atol=0.02)


def test_longitudes_beyond_the_first_turn():
    theta = np.linspace(100, 280, 21)  # needs a shift into scipy's [-180, 180) start
    phi = np.linspace(-90, 90, 21)
    sm = smooth_sphere(make(theta, phi, bump(200.0, 10.0)))
    assert sm.theta_deg[0] == 100 and sm.theta_deg[-1] == 280
    tt, pp = np.meshgrid(sm.theta_deg, sm.phi_deg)
    assert np.abs(sm.values - bump(200.0, 10.0)(tt, pp)).max() < 0.02


def test_smoothing_factor_from_standard_errors():
    theta, phi = sphere_angles(11)
    rng = np.random.default_rng(0)
    sem = np.full((11, 11), 0.05)
    clean = make(theta, phi, bump(0.0, 0.0))
    noisy = TuningMap("sphere", clean.values + 0.05 * rng.standard_normal((11, 11)), clean.coords, clean.axes,
                      clean.center, radius=1.0, sem=sem)
    sm = smooth_sphere(noisy)
    assert sm.s == pytest.approx(9 * 11 * 0.05 ** 2)  # interior rows only
    raw = smooth_sphere(noisy, s=0.0)
    tt, pp = np.meshgrid(sm.theta_deg, sm.phi_deg)
    truth = bump(0.0, 0.0)(tt, pp)
    # smoothing by the noise level brings the surface closer to the truth than interpolating the noise
    assert np.sqrt(np.mean((sm.values - truth) ** 2)) < np.sqrt(np.mean((raw.values - truth) ** 2))


def test_smoothing_errors():
    theta, phi = sphere_angles(3)
    with pytest.raises(ValueError, match="at least 3 interior latitudes"):
        smooth_sphere(make(theta, phi, bump(0, 0)))
    tm = make(*sphere_angles(7), bump(0, 0))
    tm.values[2, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        smooth_sphere(tm)
    plane = TuningMap("plane", np.zeros((3, 3)), {"a": [0, 1, 2], "b": [0, 1, 2]}, np.eye(2, 4), np.zeros(4))
    with pytest.raises(ValueError, match="sphere map"):
        smooth_sphere(plane)
