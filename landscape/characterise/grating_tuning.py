"""Orientation, spatial-frequency and contrast tuning from grating sets."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from landscape.characterise.base import Analysis, check_common
from landscape.characterise.tuning_fits import circular_summary, fit_log_gaussian, fit_naka_rushton, fit_von_mises
from landscape.characterise.resampling import bootstrap_means, percentile_ci
from landscape.stimuli import ParamTable, gratings
from landscape.stimuli.colors import ColorLike

PHASE_POOLS = ("max", "mean")


def default_frequencies(size: int, n: int = 8) -> np.ndarray:
    """``n`` log-spaced spatial frequencies from 1 cycle per image to ``0.375 * size`` (3/4 of Nyquist,
    2.7 pixels per cycle): early CNN layers often prefer the finest gratings a sine can show."""
    return np.geomspace(1.0, max(0.375 * size, 1.5), n)


def _pool(mean: np.ndarray, how: str) -> np.ndarray:
    """Pool the last (phase) axis."""
    return mean.max(-1) if how == "max" else mean.mean(-1)


class _GratingGrid(Analysis):
    """Measures the orientation x frequency x phase grating grid shared by the tuning analyses."""

    def __init__(self, size: int = 32, orientations=12, frequencies=None, phases=4, contrast: float = 1.0,
                 colors: Sequence[ColorLike] = ("white", "black"), phase_pool: str = "max",
                 reps: int | None = None, n_boot: int = 200, ci: float = 0.95, batch_size: int = 512,
                 device: str | torch.device | None = None, seed: int = 0, progress: bool = False) -> None:
        check_common(size, reps, n_boot, ci, batch_size)
        if phase_pool not in PHASE_POOLS:
            raise ValueError(f"phase_pool must be one of {PHASE_POOLS}, got {phase_pool!r}")
        if np.ndim(contrast) != 0:
            raise ValueError(f"contrast must be one number (use ContrastResponse for several), got {contrast!r}")
        self.size = size
        self.orientations = orientations
        self.frequencies = frequencies
        self.phases = phases
        self.contrast = contrast
        self.colors = colors
        self.phase_pool = phase_pool
        self.reps, self.n_boot, self.ci = reps, n_boot, ci
        self.batch_size, self.device, self.seed, self.progress = batch_size, device, seed, progress
        self._table()  # bad parameters fail here, before anything is measured

    def stimuli(self, device=None) -> tuple[torch.Tensor, ParamTable]:
        """Gratings over orientation x frequency x phase at one contrast (see :func:`landscape.stimuli.gratings`)."""
        freqs = default_frequencies(self.size) if self.frequencies is None else self.frequencies
        return gratings(self.size, self.orientations, freqs, self.phases, self.contrast, self.colors, device=device)

    def _measured(self, responses, baseline) -> tuple[ParamTable, np.ndarray, np.ndarray]:
        table = self._table()
        r, b = self._read(responses, baseline, len(table))
        grid = table.grid(r)[..., 0]  # drop the single contrast axis: (reps, o, f, p)
        self.orientations_ = table.axes["orientation"]
        self.frequencies_ = table.axes["frequency"]
        self.phases_ = table.axes["phase"]
        self.responses_ = grid
        self.mean_responses_ = grid.mean(0)
        self.baseline_ = float(b.mean())
        self.pooled_ = _pool(self.mean_responses_, self.phase_pool)
        o, f = np.unravel_index(int(np.argmax(self.pooled_)), self.pooled_.shape)
        self.peak_orientation_ = float(self.orientations_[o])
        self.peak_frequency_ = float(self.frequencies_[f])
        self._peak_idx = (int(o), int(f))
        return table, grid, b

    def _table(self) -> ParamTable:
        freqs = default_frequencies(self.size) if self.frequencies is None else self.frequencies
        return gratings(self.size, self.orientations, freqs, self.phases, self.contrast, self.colors, render=False)[1]

    def _boot(self, grid: np.ndarray, b: np.ndarray):
        """Bootstrap replicates (pooled (n_boot, o, f), baseline (n_boot,)); None for one repetition."""
        if grid.shape[0] < 2 or self.n_boot == 0:
            return None
        rng = self._rng()
        means = bootstrap_means(grid, self.n_boot, rng)
        bb = bootstrap_means(b[:, None], self.n_boot, rng)[:, 0]
        return _pool(means, self.phase_pool), bb


class OrientationTuning(_GratingGrid):
    """Orientation tuning from a full orientation x frequency x phase grating set.

    The responses are pooled over phase (``phase_pool``), the preferred frequency is the
    grid peak, and the orientation curve is read at that frequency. Its summaries: the
    preferred orientation (von Mises fit on the doubled angle), the circular variance of
    the responses above baseline (Ringach et al. 2002) and the bandwidth (half-width at
    half-height of the fit).

    Parameters
    ----------
    size : int
        Image side in pixels.
    orientations : int or sequence of float
        Degrees; an int ``n`` means ``n`` evenly spaced over [0, 180).
    frequencies : sequence of float or None
        Cycles per image; ``None`` uses 8 log-spaced levels from 1 to ``0.375 * size``.
    phases : int or sequence of float
    contrast : float
    colors : pair of colours (peak, trough)
    phase_pool : {"max", "mean"}
        How to pool phases: ``max`` (the phase a simple cell likes best) or ``mean``.
    reps, n_boot, ci, batch_size, device, seed, progress
        See :class:`landscape.characterise.base.Analysis`.

    Attributes
    ----------
    orientations_, frequencies_, phases_ : arrays of the grid levels
    responses_ : (reps, n_orientations, n_frequencies, n_phases) array
    mean_responses_ : (n_orientations, n_frequencies, n_phases) array
    pooled_ : (n_orientations, n_frequencies) array, pooled over phase
    baseline_ : float
        Response to the mean-grey field.
    peak_orientation_, peak_frequency_ : float
        Grid point of the largest pooled response.
    curve_ : (n_orientations,) array
        Pooled responses at ``peak_frequency_``.
    fit_ : :class:`landscape.characterise.tuning_fits.VonMisesFit`
    preferred_orientation_ : float
        Degrees in [0, 180) (from the fit; the grid peak when the fit fails).
    circular_variance_ : float
    bandwidth_ : float
        Half-width at half-height, degrees.
    preferred_orientation_ci_, circular_variance_ci_, bandwidth_ci_ : (2,) arrays
        Bootstrap percentile intervals over repetitions (circular for the orientation, so the
        ends may lie outside [0, 180)).
    """

    def fit_responses(self, responses, baseline) -> "OrientationTuning":
        _, grid, b = self._measured(responses, baseline)
        o, f = self._peak_idx
        self.curve_ = self.pooled_[:, f]
        self.preferred_orientation_, self.circular_variance_, self.bandwidth_, self.fit_ = self._summaries(
            self.curve_, self.baseline_)
        boot = self._boot(grid, b)
        if boot is None:
            self.preferred_orientation_ci_ = np.array([self.preferred_orientation_] * 2)
            self.circular_variance_ci_ = np.array([self.circular_variance_] * 2)
            self.bandwidth_ci_ = np.array([self.bandwidth_] * 2)
        else:
            pooled, bb = boot
            s = np.array([self._summaries(pooled[k, :, f], bb[k], self.fit_)[:3] for k in range(pooled.shape[0])])
            self.preferred_orientation_ci_ = percentile_ci(s[:, 0], self.ci, self.preferred_orientation_, 180.0)
            self.circular_variance_ci_ = percentile_ci(s[:, 1], self.ci)
            self.bandwidth_ci_ = percentile_ci(s[:, 2], self.ci)
        return self

    def _summaries(self, curve, baseline, start=None):
        fit = fit_von_mises(self.orientations_, curve, 180.0, start)
        pref = fit.mu if fit.success else float(self.orientations_[int(np.argmax(curve))])
        _, cv = circular_summary(self.orientations_, np.clip(curve - baseline, 0, None), 180.0)
        return pref, cv, fit.hwhh, fit

    def summary(self) -> dict:
        """Results as plain JSON values."""
        self._check_fitted("curve_")
        return {"analysis": "orientation", "preferred_orientation": self.preferred_orientation_,
                "preferred_orientation_ci": self.preferred_orientation_ci_.tolist(),
                "peak_orientation": self.peak_orientation_, "peak_frequency": self.peak_frequency_,
                "circular_variance": self.circular_variance_, "circular_variance_ci": self.circular_variance_ci_.tolist(),
                "bandwidth_hwhh_deg": self.bandwidth_, "bandwidth_ci": self.bandwidth_ci_.tolist(),
                "baseline": self.baseline_, "fit": self.fit_.to_dict(),
                "orientations": self.orientations_.tolist(), "curve": self.curve_.tolist()}


class FrequencyTuning(_GratingGrid):
    """Spatial-frequency tuning from the same grating grid as :class:`OrientationTuning`.

    The frequency curve is read at the grid's preferred orientation (phase-pooled) and fitted
    with a Gaussian on log2 frequency. To get both from one measurement::

        ori = OrientationTuning(size=32).fit(unit)
        sf = FrequencyTuning(size=32).fit_responses(ori.responses_.reshape(ori.responses_.shape[0], -1),
                                                    ori.baseline_)

    Parameters
    ----------
    As :class:`OrientationTuning`; give at least 4 frequencies.

    Attributes
    ----------
    orientations_, frequencies_, phases_, responses_, mean_responses_, pooled_, baseline_,
    peak_orientation_, peak_frequency_
        As in :class:`OrientationTuning`.
    curve_ : (n_frequencies,) array
        Pooled responses at ``peak_orientation_``.
    fit_ : :class:`landscape.characterise.tuning_fits.LogGaussianFit`
    preferred_frequency_ : float
        Cycles per image (from the fit, within the sampled range; the grid peak when the fit
        fails).
    peak_at_edge_ : bool
        The grid peak is the lowest or highest frequency sampled: the true preference may lie
        beyond the range (sample wider, or larger images for higher frequencies).
    bandwidth_octaves_ : float
        Full width at half height, octaves.
    preferred_frequency_ci_, bandwidth_octaves_ci_ : (2,) arrays
    """

    def fit_responses(self, responses, baseline) -> "FrequencyTuning":
        _, grid, b = self._measured(responses, baseline)
        o, f = self._peak_idx
        self.curve_ = self.pooled_[o, :]
        self.peak_at_edge_ = f in (0, len(self.frequencies_) - 1)
        self.preferred_frequency_, self.bandwidth_octaves_, self.fit_ = self._summaries(self.curve_)
        boot = self._boot(grid, b)
        if boot is None:
            self.preferred_frequency_ci_ = np.array([self.preferred_frequency_] * 2)
            self.bandwidth_octaves_ci_ = np.array([self.bandwidth_octaves_] * 2)
        else:
            pooled, _ = boot
            s = np.array([self._summaries(pooled[k, o, :], self.fit_)[:2] for k in range(pooled.shape[0])])
            self.preferred_frequency_ci_ = percentile_ci(s[:, 0], self.ci)
            self.bandwidth_octaves_ci_ = percentile_ci(s[:, 1], self.ci)
        return self

    def _summaries(self, curve, start=None):
        fit = fit_log_gaussian(self.frequencies_, curve, start)
        pref = fit.peak if fit.success else float(self.frequencies_[int(np.argmax(curve))])
        return pref, fit.bandwidth_octaves, fit

    def summary(self) -> dict:
        """Results as plain JSON values."""
        self._check_fitted("curve_")
        return {"analysis": "frequency", "preferred_frequency": self.preferred_frequency_,
                "preferred_frequency_ci": self.preferred_frequency_ci_.tolist(),
                "bandwidth_octaves": self.bandwidth_octaves_, "bandwidth_octaves_ci": self.bandwidth_octaves_ci_.tolist(),
                "peak_at_edge": bool(self.peak_at_edge_), "peak_orientation": self.peak_orientation_, "peak_frequency": self.peak_frequency_,
                "baseline": self.baseline_, "fit": self.fit_.to_dict(),
                "frequencies": self.frequencies_.tolist(), "curve": self.curve_.tolist()}


class ContrastResponse(Analysis):
    """Contrast-response function at a given orientation and frequency, with a Naka-Rushton fit.

    Parameters
    ----------
    orientation : float
        Degrees (e.g. ``OrientationTuning.preferred_orientation_``).
    frequency : float
        Cycles per image (e.g. ``FrequencyTuning.preferred_frequency_``).
    size : int
    contrasts : sequence of float in [0, 1] or None
        ``None``: 0 and 9 log-spaced levels from 0.02 to 1.
    phases : int or sequence of float
        Pooled by maximum (a simple cell's best phase) or mean (``phase_pool``).
    colors, phase_pool, reps, n_boot, ci, batch_size, device, seed, progress
        As in :class:`OrientationTuning`.

    Attributes
    ----------
    contrasts_ : (n,) array
    responses_ : (reps, n, n_phases) array
    curve_ : (n,) array, phase-pooled means
    baseline_ : float
    fit_ : :class:`landscape.characterise.tuning_fits.NakaRushtonFit`
        Fitted with the baseline free.
    c50_, exponent_, rmax_ : float
    c50_ci_, exponent_ci_, rmax_ci_ : (2,) arrays
    """

    def __init__(self, orientation: float, frequency: float, size: int = 32, contrasts=None, phases=4,
                 colors: Sequence[ColorLike] = ("white", "black"), phase_pool: str = "max",
                 reps: int | None = None, n_boot: int = 200, ci: float = 0.95, batch_size: int = 512,
                 device: str | torch.device | None = None, seed: int = 0, progress: bool = False) -> None:
        check_common(size, reps, n_boot, ci, batch_size)
        if phase_pool not in PHASE_POOLS:
            raise ValueError(f"phase_pool must be one of {PHASE_POOLS}, got {phase_pool!r}")
        self.orientation, self.frequency, self.size = orientation, frequency, size
        self.contrasts, self.phases, self.colors, self.phase_pool = contrasts, phases, colors, phase_pool
        self.reps, self.n_boot, self.ci = reps, n_boot, ci
        self.batch_size, self.device, self.seed, self.progress = batch_size, device, seed, progress
        self._table()

    def _table(self) -> ParamTable:
        return gratings(self.size, [float(self.orientation)], [float(self.frequency)], self.phases,
                        self._contrast_levels(), self.colors, render=False)[1]

    def _contrast_levels(self) -> np.ndarray:
        if self.contrasts is None:
            return np.concatenate([[0.0], np.geomspace(0.02, 1.0, 9)])
        return np.atleast_1d(np.asarray(self.contrasts, dtype=float))

    def stimuli(self, device=None) -> tuple[torch.Tensor, ParamTable]:
        return gratings(self.size, [float(self.orientation)], [float(self.frequency)], self.phases,
                        self._contrast_levels(), self.colors, device=device)

    def fit_responses(self, responses, baseline) -> "ContrastResponse":
        table = self._table()
        r, b = self._read(responses, baseline, len(table))
        grid = table.grid(r)[:, 0, 0]  # (reps, phase, contrast)
        self.contrasts_ = table.axes["contrast"]
        self.responses_ = np.moveaxis(grid, 1, 2)  # (reps, contrast, phase)
        self.baseline_ = float(b.mean())
        self.curve_ = _pool(self.responses_.mean(0), self.phase_pool)
        self.fit_ = fit_naka_rushton(self.contrasts_, self.curve_)
        self.c50_, self.exponent_, self.rmax_ = self.fit_.c50, self.fit_.n, self.fit_.rmax
        if r.shape[0] < 2 or self.n_boot == 0:
            self.c50_ci_, self.exponent_ci_, self.rmax_ci_ = (np.array([v, v]) for v in
                                                              (self.c50_, self.exponent_, self.rmax_))
        else:
            means = _pool(bootstrap_means(self.responses_, self.n_boot, self._rng()), self.phase_pool)
            fits = [fit_naka_rushton(self.contrasts_, m, start=self.fit_) for m in means]
            s = np.array([[f.c50, f.n, f.rmax] for f in fits])
            self.c50_ci_, self.exponent_ci_, self.rmax_ci_ = (percentile_ci(s[:, i], self.ci) for i in range(3))
        return self

    def summary(self) -> dict:
        self._check_fitted("curve_")
        return {"analysis": "contrast", "orientation": float(self.orientation), "frequency": float(self.frequency),
                "c50": self.c50_, "c50_ci": self.c50_ci_.tolist(), "exponent": self.exponent_,
                "exponent_ci": self.exponent_ci_.tolist(), "rmax": self.rmax_, "rmax_ci": self.rmax_ci_.tolist(),
                "baseline": self.baseline_, "fit": self.fit_.to_dict(), "contrasts": self.contrasts_.tolist(),
                "curve": self.curve_.tolist()}
