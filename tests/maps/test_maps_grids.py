"""Sphere and plane grids put codes where the experiments' formulas say."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.maps.axes import random_axes
from landscape.maps.grids import parse_grid, plane_codes, pole_rows, sphere_angles, sphere_codes


@pytest.mark.parametrize("n,step", [(21, 9.0), (11, 18.0)])
def test_protocol_angles(n, step):
    theta, phi = sphere_angles(n)
    assert theta[0] == -90 and theta[-1] == 90 and phi[0] == -90 and phi[-1] == 90
    np.testing.assert_allclose(np.diff(theta), step)
    np.testing.assert_allclose(np.diff(phi), step)


def test_sphere_codes_have_norm_r_and_intended_angles():
    d, r = 50, 7.5
    axes = random_axes(d, 3, seed=3)
    theta, phi = sphere_angles(21)
    codes = sphere_codes(theta, phi, axes, r)
    assert codes.shape == (21, 21, d)
    np.testing.assert_allclose(np.linalg.norm(codes, axis=-1), r, rtol=1e-12)
    proj = codes @ axes.T / r  # coordinates in (e1, e2, e3)
    lat = np.rad2deg(np.arcsin(np.clip(proj[..., 2], -1, 1)))
    np.testing.assert_allclose(lat, np.broadcast_to(phi[:, None], lat.shape), atol=1e-9)
    inner = ~np.isin(np.arange(21), pole_rows(phi))
    lon = np.rad2deg(np.arctan2(proj[inner, :, 1], proj[inner, :, 0]))
    np.testing.assert_allclose(lon, np.broadcast_to(theta, lon.shape), atol=1e-9)
    # theta = phi = 0 is r * e1; the codes stay in span(e1, e2, e3)
    np.testing.assert_allclose(codes[10, 10], r * axes[0], atol=1e-12)
    np.testing.assert_allclose(codes - proj @ axes * r, 0, atol=1e-12)


def test_pole_rows_are_single_points():
    theta, phi = sphere_angles(11)
    axes = random_axes(20, 3, seed=0)
    codes = sphere_codes(theta, phi, axes, 2.0)
    assert list(pole_rows(phi)) == [0, 10]
    assert np.all(codes[0] == codes[0, 0]) and np.all(codes[-1] == codes[-1, 0])
    np.testing.assert_allclose(codes[-1, 0], 2.0 * axes[2], atol=1e-15)


def test_sphere_origin_shifts_codes():
    axes = random_axes(10, 3, seed=1)
    origin = np.arange(10.0)
    theta, phi = sphere_angles(5)
    np.testing.assert_allclose(sphere_codes(theta, phi, axes, 3.0, origin) - origin,
                               sphere_codes(theta, phi, axes, 3.0))


def test_plane_codes():
    axes = random_axes(8, 2, seed=2)
    c = np.ones(8)
    a, b = np.array([-1.0, 0.0, 2.0]), np.array([-3.0, 3.0])
    codes = plane_codes(a, b, axes, c)
    assert codes.shape == (2, 3, 8)
    np.testing.assert_allclose(codes[1, 2], c + 2.0 * axes[0] + 3.0 * axes[1])
    np.testing.assert_allclose(codes[:, 1] - c, b[:, None] * axes[1])


def test_parse_grid():
    g = parse_grid("sphere:21")
    assert (g.kind, g.rows, g.cols, g.lo, g.hi) == ("sphere", 21, 21, -90.0, 90.0)
    th, ph = parse_grid("sphere:11:-45:45").coordinates()
    assert th[0] == -45 and ph[-1] == 45 and th.size == 11
    th, ph = parse_grid("sphere:5:9:-90:90").coordinates()
    assert (ph.size, th.size) == (5, 9)
    a, b = parse_grid("plane:21:-3:3").coordinates()
    assert a.size == b.size == 21 and a[0] == -3 and b[-1] == 3


@pytest.mark.parametrize("spec,match", [
    ("sphere:0", "empty"), ("plane:0:-1:1", "empty"), ("cube:3", "valid kinds"),
    ("plane:21", "wrong number"), ("sphere:x", "cannot read"), ("plane:5:3:-3", "increase"),
    ("sphere:5:-120:120", "phi"),
])
def test_bad_grids_raise_clear_errors(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_grid(spec)


def test_empty_angle_arrays_raise():
    with pytest.raises(ValueError, match="empty"):
        sphere_angles(0)
    with pytest.raises(ValueError, match="non-empty"):
        plane_codes(np.array([]), np.array([0.0]), np.eye(2, 4), np.zeros(4))
