"""Size tuning and surround suppression."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from landscape.characterise.base import Analysis, check_common
from landscape.characterise.tuning_fits import suppression_index
from landscape.characterise.resampling import bootstrap_means, percentile_ci
from landscape.stimuli import MAX_RADIUS, ParamTable, discs, grating_patches
from landscape.stimuli.colors import ColorLike

STIMULI = ("disc", "grating")


def default_radii(size: int, n: int = 10) -> np.ndarray:
    """``n`` log-spaced radii from one pixel to the radius that fills the image."""
    return np.geomspace(1.0 / size, MAX_RADIUS, n)


class SizeTuning(Analysis):
    """Responses to discs (or grating patches) of growing radius, and the surround suppression index.

    With ``stimulus="disc"`` one curve is measured per colour (default a white and a black
    disc on grey, so ON and OFF units are both driven) and the colour whose curve peaks
    highest is summarised. With ``stimulus="grating"`` the aperture holds a grating at the
    given orientation and frequency, pooled over phase by maximum.

    Parameters
    ----------
    size : int
    radii : sequence of float or None
        Fractions of the image side, increasing; ``None``: 10 log-spaced from one pixel to
        ``sqrt(2)/2`` (the whole image).
    stimulus : {"disc", "grating"}
    colors : colour or list of colours
        Disc colours (``disc``) or the grating's (peak, trough) pair (``grating``).
    orientation, frequency : float or None
        Needed for ``stimulus="grating"``.
    phases : int or sequence of float
        Grating phases (``grating`` only).
    x, y : float
        Stimulus centre (e.g. from :class:`~landscape.characterise.SparseNoiseRF`).
    background : colour
        Background and baseline field (``disc``; gratings use their mean colour).
    reps, n_boot, ci, batch_size, device, seed, progress
        See :class:`landscape.characterise.base.Analysis`.

    Attributes
    ----------
    radii_ : (n,) array
    labels_ : list of str
        One per measured curve (colour names, or ``"grating"``).
    curves_ : (n_curves, n) array of mean responses
    baseline_ : float
    best_ : int
        Index of the summarised curve (highest peak).
    curve_ : (n,) array
    preferred_radius_ : float
        Radius of the peak response.
    suppression_index_ : float
        ``(R_peak - R_largest) / (R_peak - baseline)``; see
        :func:`landscape.characterise.tuning_fits.suppression_index`.
    suppression_index_ci_ : (2,) array
    """

    def __init__(self, size: int = 32, radii=None, stimulus: str = "disc",
                 colors: ColorLike | Sequence[ColorLike] = ("white", "black"), orientation: float | None = None,
                 frequency: float | None = None, phases=4, x: float = 0.0, y: float = 0.0,
                 background: ColorLike = "grey", reps: int | None = None, n_boot: int = 200, ci: float = 0.95,
                 batch_size: int = 512, device: str | torch.device | None = None, seed: int = 0,
                 progress: bool = False) -> None:
        check_common(size, reps, n_boot, ci, batch_size)
        if stimulus not in STIMULI:
            raise ValueError(f"stimulus must be one of {STIMULI}, got {stimulus!r}")
        if stimulus == "grating" and (orientation is None or frequency is None):
            raise ValueError("stimulus='grating' needs orientation and frequency (e.g. from OrientationTuning "
                             "and FrequencyTuning)")
        self.size, self.radii, self.stimulus, self.colors = size, radii, stimulus, colors
        self.orientation, self.frequency, self.phases = orientation, frequency, phases
        self.x, self.y, self.background = x, y, background
        self.reps, self.n_boot, self.ci = reps, n_boot, ci
        self.batch_size, self.device, self.seed, self.progress = batch_size, device, seed, progress
        r = self._radius_levels()
        if np.any(np.diff(r) <= 0):
            raise ValueError(f"radii must increase, got {r.tolist()}")
        self.parameter_table()  # bad parameters fail here, before anything is measured

    def _radius_levels(self) -> np.ndarray:
        return default_radii(self.size) if self.radii is None else np.atleast_1d(np.asarray(self.radii, float))

    @property
    def baseline_color(self):
        if self.stimulus == "disc":
            return self.background
        from landscape.stimuli import parse_color
        a, b = (parse_color(c) for c in self.colors)
        return tuple(((a + b) / 2).tolist())

    def stimuli(self, device=None) -> tuple[torch.Tensor, ParamTable]:
        """Discs (grid radius x colour) or grating patches (radius x phase)."""
        if self.stimulus == "disc":
            return discs(self.size, self._radius_levels(), self.colors, self.x, self.y, self.background,
                         device=device)
        return grating_patches(self.size, self._radius_levels(), [float(self.orientation)], [float(self.frequency)],
                               self.phases, 1.0, self.x, self.y, self.colors, device=device)

    def fit_responses(self, responses, baseline) -> "SizeTuning":
        table = self.parameter_table()
        r, b = self._read(responses, baseline, len(table))
        g = table.grid(r)
        self.radii_ = table.axes["radius"]
        self.baseline_ = float(b.mean())
        # pool phases on means, not per repetition (a max over noisy repetitions is biased upwards)
        if self.stimulus == "disc":
            self.labels_ = [str(c) for c in table.axes["color"]]
            self.curves_ = g[:, :, 0, 0, :].mean(0).T  # (colour, radius)
        else:
            self.labels_ = ["grating"]
            self.curves_ = g[:, :, 0, 0, :, 0].mean(0).max(-1)[None]
        self.best_ = int(np.argmax(self.curves_.max(1)))
        self.curve_ = self.curves_[self.best_]
        self.preferred_radius_ = float(self.radii_[int(np.argmax(self.curve_))])
        self.suppression_index_ = suppression_index(self.curve_, self.baseline_)
        if r.shape[0] < 2 or self.n_boot == 0:
            self.suppression_index_ci_ = np.array([self.suppression_index_] * 2)
        else:
            rng = self._rng()
            if self.stimulus == "disc":
                boot = bootstrap_means(g[:, :, 0, 0, self.best_], self.n_boot, rng)  # (n_boot, radius)
            else:
                boot = bootstrap_means(g[:, :, 0, 0, :, 0], self.n_boot, rng).max(-1)
            bb = bootstrap_means(b[:, None], self.n_boot, rng)[:, 0]
            s = np.array([suppression_index(boot[k], bb[k]) for k in range(self.n_boot)])
            self.suppression_index_ci_ = percentile_ci(s, self.ci)
        return self

    def summary(self) -> dict:
        self._check_fitted("curve_")
        return {"analysis": "size", "stimulus": self.stimulus, "color": self.labels_[self.best_],
                "preferred_radius": self.preferred_radius_, "suppression_index": self.suppression_index_,
                "suppression_index_ci": self.suppression_index_ci_.tolist(), "baseline": self.baseline_,
                "radii": self.radii_.tolist(), "labels": self.labels_, "curves": self.curves_.tolist()}
