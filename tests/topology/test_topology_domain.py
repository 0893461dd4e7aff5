"""Domains of maps: pole rows, the longitude seam, borders, missing values."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from landscape.topology import as_field, count_level_sets
from landscape.topology.domain import Domain


def test_hemisphere_default_grid_has_poles_and_no_seam():
    f = as_field(np.random.default_rng(0).random((11, 11)), "sphere")
    assert f.domain.poles == (True, True) and not f.domain.wrap
    assert f.domain.topology == "disk" and f.domain.euler_characteristic == 1
    # a pole row is one point: its values are replaced by their mean
    assert np.ptp(f.values[0]) == 0 and np.ptp(f.values[-1]) == 0


def test_seam_joined_only_for_full_circle():
    v = np.random.default_rng(1).random((7, 12))
    full = as_field(v, "sphere", theta_deg=np.arange(12) * 30.0 - 180)       # -180 .. 150: joined
    assert full.domain.wrap and full.domain.topology == "sphere" and full.domain.euler_characteristic == 2
    part = as_field(v, "sphere", theta_deg=np.linspace(-90, 90, 12))          # a hemisphere: not joined
    assert not part.domain.wrap
    almost = as_field(v, "sphere", theta_deg=np.arange(12) * 29.0 - 180)     # 348 deg of 360: not joined
    assert not almost.domain.wrap
    band = as_field(v, "sphere", theta_deg=np.arange(12) * 30.0, phi_deg=np.linspace(-45, 45, 7))
    assert band.domain.wrap and band.domain.poles == (False, False) and band.domain.topology == "annulus"


def test_duplicated_seam_column_is_merged():
    rng = np.random.default_rng(2)
    v = rng.random((5, 13))
    v[:, 12] = v[:, 0]
    f = as_field(v, "sphere", theta_deg=np.arange(13) * 30.0 - 180, phi_deg=np.linspace(-60, 60, 5))
    assert f.domain.wrap and f.shape == (5, 12)
    np.testing.assert_allclose(f.values, v[:, :12])


def test_border_cycles():
    plane = Domain((4, 5))
    (cyc,) = plane.border_cycles()
    assert cyc.size == 2 * (4 - 1) + 2 * (5 - 1) and len(set(cyc.tolist())) == cyc.size
    hemi = Domain((5, 6), "sphere", wrap=False, poles=(True, True))
    (cyc,) = hemi.border_cycles()
    # two meridians of 3 interior pixels each plus the two poles
    assert cyc.size == 2 * 3 + 2
    assert Domain((5, 6), "sphere", wrap=True, poles=(True, True)).border_cycles() == []
    assert len(Domain((5, 6), "sphere", wrap=True).border_cycles()) == 2


def test_nan_rejected_with_position():
    v = np.ones((5, 5))
    v[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"\(2, 3\).*nan_policy='harmonic'"):
        as_field(v)
    with pytest.raises(ValueError, match="infinite"):
        as_field(np.full((3, 3), np.inf))
    with pytest.raises(ValueError, match="nan_policy"):
        as_field(np.ones((3, 3)), nan_policy="zero")
    with pytest.raises(ValueError, match="every value"):
        as_field(np.full((3, 3), np.nan), nan_policy="harmonic")


def test_harmonic_fill_reproduces_planes_and_adds_no_extrema(synth):
    y, x = synth.grid(21)
    plane = 2 * x - 3 * y + 1
    holes = plane.copy()
    rng = np.random.default_rng(3)
    inner = np.arange(plane.size).reshape(plane.shape)[1:-1, 1:-1].ravel()
    holes.flat[rng.choice(inner, 60, replace=False)] = np.nan
    f = as_field(holes, nan_policy="harmonic")
    # away from the border the discrete harmonic fill is exact on linear maps
    np.testing.assert_allclose(f.values, plane, atol=1e-9)
    assert f.filled.sum() == 60
    # filling a hole on a peak's flank must not create a new peak or loop
    bumps = synth.peaks([(-0.4, 0), (0.4, 0)], n=41)
    missing = bumps.copy()
    missing[5:12, 5:12] = np.nan
    full = count_level_sets(bumps, 11)
    filled = count_level_sets(missing, 11, nan_policy="harmonic")
    assert filled["loops"].max() <= full["loops"].max()


def test_bad_inputs_have_clear_errors():
    with pytest.raises(ValueError, match="2-D"):
        as_field(np.ones(5))
    with pytest.raises(ValueError, match="at least 2 x 2"):
        as_field(np.ones((1, 5)))
    with pytest.raises(ValueError, match="domain must be one of"):
        as_field(np.ones((3, 3)), "torus")
    with pytest.raises(ValueError, match="at most 360"):
        as_field(np.ones((3, 3)), "sphere", theta_deg=[0, 200, 400])
    with pytest.raises(ValueError, match="increasing"):
        as_field(np.ones((3, 3)), "sphere", phi_deg=[90, 0, -90])


def test_import_is_light():
    code = ("import sys, landscape.topology; "
            "print(any(m in sys.modules for m in ('gudhi', 'plotly', 'torch', 'ipywidgets', 'PIL')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
