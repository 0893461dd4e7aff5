"""Receptive-field mapping finds where model neurons look."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.characterise import PositionSearch, SparseNoiseRF
from landscape.units import PoissonNoise
from landscape.units.model_neurons import CenterSurroundUnit, GaborEnergyUnit, LuminanceUnit


@pytest.mark.parametrize("unit, true_xy", [
    (LuminanceUnit(x=0.2, y=-0.15, sigma=0.06, polarity="off"), (0.2, -0.15)),
    (GaborEnergyUnit(30.0, 6.0, x=-0.1, y=0.2, sigma=0.06), (-0.1, 0.2)),
])
def test_sparse_noise_centre_within_one_square(unit, true_xy):
    rf = SparseNoiseRF(size=32, grid=8).fit(unit)
    assert np.abs(rf.center_ - true_xy).max() <= 1 / 8
    assert rf.maps_.shape == (2, 8, 8)


def test_sparse_noise_on_and_off_maps_have_opposite_signs():
    rf = SparseNoiseRF(size=32, grid=8).fit(LuminanceUnit(x=-0.2, y=0.2, sigma=0.05))
    white, black = rf.maps_
    i, j = np.unravel_index(int(np.argmax(white)), white.shape)
    assert (i, j) == (2, 2) and black[i, j] < 0  # square centres at x = -0.1875, y = +0.1875 (row 0 on top)


def test_sparse_noise_interval_from_noisy_unit():
    unit = PoissonNoise(LuminanceUnit(x=0.2, y=-0.15, sigma=0.06, gain=200.0, baseline=10.0), seed=2)
    rf = SparseNoiseRF(size=32, grid=8, reps=4, n_boot=50).fit(unit)
    assert np.abs(rf.center_ - [0.2, -0.15]).max() <= 1 / 8
    assert np.all(rf.center_ci_[:, 1] >= rf.center_ci_[:, 0])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["cma", "nelder-mead"])
def test_position_search_finds_the_receptive_field(method):
    unit = CenterSurroundUnit(x=0.12, y=-0.2, polarity="off")
    ps = PositionSearch(size=32, method=method, budget=80, seed=0).fit(unit)
    assert np.abs(ps.position_ - [0.12, -0.2]).max() < 0.04
    assert ps.n_evals_ <= 25 + 80 + 1 and ps.history_.shape[1] == 3
    assert ps.response_ == pytest.approx(ps.history_[:, 2].max())


def test_position_search_with_gabor_probe_and_errors():
    unit = GaborEnergyUnit(120.0, 5.0, x=-0.2, y=-0.1, sigma=0.07)
    ps = PositionSearch(size=32, probe="gabor", probe_params={"orientation": 120.0, "frequency": 5.0},
                        budget=60).fit(unit)
    assert np.abs(ps.position_ - [-0.2, -0.1]).max() < 0.05
    with pytest.raises(ValueError, match="needs probe_params"):
        PositionSearch(probe="gabor")
    with pytest.raises(ValueError, match="method must be one of"):
        PositionSearch(method="annealing")
