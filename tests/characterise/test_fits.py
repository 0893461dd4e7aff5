"""Curve fits recover known parameters from synthetic curves; degenerate curves are flagged."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.characterise.tuning_fits import (circular_distance, circular_summary, fit_log_gaussian, fit_naka_rushton,
                                         fit_von_mises, log_gaussian, naka_rushton, suppression_index, von_mises,
                                         von_mises_hwhh)


def test_von_mises_recovers_parameters():
    rng = np.random.default_rng(0)
    theta = np.arange(16) * 180 / 16
    y = von_mises(theta, 172.0, 3.0, 2.0, 0.5) + rng.normal(0, 0.02, theta.size)
    fit = fit_von_mises(theta, y)
    assert fit.success
    assert circular_distance(fit.mu, 172.0) < 2.0  # wraps around 180
    assert fit.kappa == pytest.approx(3.0, rel=0.15)
    assert fit.amplitude == pytest.approx(2.0, rel=0.05) and fit.baseline == pytest.approx(0.5, abs=0.05)
    assert fit.hwhh == pytest.approx(von_mises_hwhh(3.0), rel=0.1)


def test_von_mises_half_width_is_half_height():
    kappa = 5.0
    h = von_mises_hwhh(kappa)
    assert von_mises(h, 0.0, kappa, 1.0, 0.0) == pytest.approx(0.5)
    assert von_mises_hwhh(0.1) == 90.0  # too flat to fall to half height


def test_log_gaussian_recovers_peak_and_bandwidth():
    f = np.geomspace(0.5, 32, 10)
    y = log_gaussian(f, 3.0, 0.8, 1.5, 0.2)
    fit = fit_log_gaussian(f, y)
    assert fit.success and fit.peak == pytest.approx(3.0, rel=1e-3)
    assert fit.bandwidth_octaves == pytest.approx(2 * np.sqrt(2 * np.log(2)) * 0.8, rel=1e-3)
    assert fit(3.0) == pytest.approx(1.7)


def test_naka_rushton_recovers_c50_and_exponent():
    rng = np.random.default_rng(1)
    c = np.concatenate([[0], np.geomspace(0.02, 1, 9)])
    y = naka_rushton(c, 10.0, 0.15, 2.5, 1.0) + rng.normal(0, 0.05, c.size)
    fit = fit_naka_rushton(c, y)
    assert fit.success
    assert fit.c50 == pytest.approx(0.15, rel=0.1) and fit.n == pytest.approx(2.5, rel=0.2)
    assert fit.rmax == pytest.approx(10.0, rel=0.05)
    fixed = fit_naka_rushton(c, naka_rushton(c, 10.0, 0.15, 2.5, 1.0), baseline=1.0)
    assert fixed.baseline == 1.0 and fixed.c50 == pytest.approx(0.15, rel=1e-3)


def test_flat_or_short_curves_are_flagged_not_faked():
    assert not fit_von_mises(np.arange(8) * 22.5, np.ones(8)).success
    assert np.isnan(fit_log_gaussian([1, 2, 4], [1, 2, 1]).peak)
    assert "flat" in fit_naka_rushton(np.linspace(0, 1, 6), np.zeros(6)).message


def test_circular_summary():
    pref, cv = circular_summary([0, 45, 90, 135], [0, 0, 1, 0])
    assert pref == pytest.approx(90.0) and cv == pytest.approx(0.0)
    pref, cv = circular_summary([0, 45, 90, 135], [1, 1, 1, 1])
    assert cv == pytest.approx(1.0)
    pref, _ = circular_summary([170, 10], [1, 1])
    assert circular_distance(pref, 0.0) < 1e-9
    hue, _ = circular_summary([350, 10], [1, 1], period=360)
    assert circular_distance(hue, 0.0, 360) < 1e-9
    with pytest.raises(ValueError, match="non-negative"):
        circular_summary([0, 90], [1, -1])


def test_suppression_index():
    assert suppression_index([1, 3, 2, 1], baseline=1.0) == pytest.approx(1.0)
    assert suppression_index([1, 2, 3, 3], baseline=0.0) == pytest.approx(0.0)
    assert suppression_index([1, 4, 2], baseline=0.0) == pytest.approx(0.5)
    assert np.isnan(suppression_index([-1, -2], baseline=0.0))
