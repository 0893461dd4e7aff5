"""Colour tuning over a fixed-luminance hue circle (De Valois' experiment)."""

from __future__ import annotations

import numpy as np
import torch

from landscape.characterise.base import Analysis, check_common, standard_error
from landscape.characterise.classify import crossing_class, excursion_signs
from landscape.characterise.tuning_fits import circular_summary
from landscape.characterise.resampling import bootstrap_means, percentile_ci
from landscape.stimuli import ParamTable, hue_fields, uniform


class ColorTuning(Analysis):
    """Responses to uniform colour fields around the hue circle at one luminance.

    The baseline is the grey field of the same luminance. A white and a black field are
    measured too: they set the unit's response scale for the crossing rule (see
    :mod:`landscape.characterise.classify`), so a luminance unit whose hue curve is flat
    reads as unresponsive to hue rather than as noise.

    Parameters
    ----------
    size : int
    hues : int or sequence of float
        Degrees; an int ``n`` means ``n`` evenly spaced (0 red, 90 blue, 180 green-cyan,
        270 yellow).
    luminance : float in (0, 1)
    saturation : float or None
        ``None``: the largest at which every hue fits in the RGB cube.
    radius : float or None
        ``None``: full-field; else a disc of this radius at (x, y) on the grey.
    x, y : float
    rtol, atol, z : float
        Tolerances of the crossing rule (:func:`~landscape.characterise.classify.excursion_signs`).
    reps, n_boot, ci, batch_size, device, seed, progress
        See :class:`landscape.characterise.base.Analysis`.

    Attributes
    ----------
    hues_ : (n,) array of degrees
    rgb_ : (n, 3) array of the colours shown
    curve_ : (n,) array of mean responses
    baseline_ : float
        Response to grey at ``luminance``.
    white_, black_ : float
        Responses to white and black fields.
    excursions_ : (n,) array, ``curve_ - baseline_``
    signs_ : (n,) int array in {-1, 0, 1}
    color_class_ : {"opponent", "non-opponent", "unresponsive"}
        Opponent when the hue curve crosses the baseline (some hues excite, others inhibit).
    peak_hue_, trough_hue_ : float
        Hues of the largest and smallest response.
    preferred_hue_ : float
        Circular mean of the excitation above baseline over the hues that excite (NaN if none
        clears the tolerance).
    preferred_hue_ci_ : (2,) array
    """

    def __init__(self, size: int = 32, hues=12, luminance: float = 0.5, saturation: float | None = None,
                 radius: float | None = None, x: float = 0.0, y: float = 0.0, rtol: float = 0.05,
                 atol: float = 1e-5, z: float = 2.0, reps: int | None = None, n_boot: int = 200, ci: float = 0.95,
                 batch_size: int = 512, device: str | torch.device | None = None, seed: int = 0,
                 progress: bool = False) -> None:
        check_common(size, reps, n_boot, ci, batch_size)
        self.size, self.hues, self.luminance, self.saturation = size, hues, luminance, saturation
        self.radius, self.x, self.y = radius, x, y
        self.rtol, self.atol, self.z = rtol, atol, z
        self.reps, self.n_boot, self.ci = reps, n_boot, ci
        self.batch_size, self.device, self.seed, self.progress = batch_size, device, seed, progress
        self.parameter_table()  # bad parameters fail here, before anything is measured

    def stimuli(self, device=None) -> tuple[torch.Tensor, ParamTable]:
        return hue_fields(self.size, self.hues, self.luminance, self.saturation, self.radius, self.x, self.y,
                          device=device)

    def baseline_images(self, device=None) -> torch.Tensor:
        """Grey at ``luminance`` (the baseline), white, black."""
        return uniform(self.size, [(self.luminance,) * 3, "white", "black"], device=device)[0]

    def fit_responses(self, responses, baseline) -> "ColorTuning":
        """``baseline`` is (reps, 3) for grey, white, black; a float or (reps,) gives grey only."""
        table = self.parameter_table()
        r = np.asarray(responses, dtype=np.float64)
        r = r[None] if r.ndim == 1 else r
        b = np.asarray(baseline, dtype=np.float64)
        if b.ndim == 2:
            if b.shape[1] != 3:
                raise ValueError(f"baseline of shape {b.shape}: expected (reps, 3) for grey, white, black")
            refs = b[:, 1:]
            b = b[:, 0]
        else:
            refs = None
        r, b = self._read(r, b, len(table))
        self.hues_ = table.axes["hue"]
        self.rgb_ = np.stack([table["color_r"], table["color_g"], table["color_b"]], 1)
        self.curve_ = r.mean(0)
        self.baseline_ = float(b.mean())
        self.white_, self.black_ = ((float(refs[:, 0].mean()), float(refs[:, 1].mean())) if refs is not None
                                    else (float("nan"), float("nan")))
        self.excursions_ = self.curve_ - self.baseline_
        ref_exc = np.abs(np.array([self.white_, self.black_]) - self.baseline_) if refs is not None else np.zeros(2)
        scale = max(float(np.abs(self.excursions_).max()), float(np.nanmax(ref_exc)) if refs is not None else 0.0)
        se = np.sqrt(standard_error(r) ** 2 + standard_error(b[:, None]) ** 2)
        self.signs_ = excursion_signs(self.excursions_[:, None], np.array([scale]), se[:, None], self.rtol,
                                      self.atol, self.z, self.baseline_)[:, 0]
        self.color_class_ = str(crossing_class(self.signs_[:, None])[0])
        self.peak_hue_ = float(self.hues_[int(np.argmax(self.curve_))])
        self.trough_hue_ = float(self.hues_[int(np.argmin(self.curve_))])
        # only hues that clear the tolerance count as excitation
        self.preferred_hue_ = circular_summary(self.hues_, np.where(self.signs_ > 0, self.excursions_, 0.0), 360.0)[0]
        if r.shape[0] < 2 or self.n_boot == 0:
            self.preferred_hue_ci_ = np.array([self.preferred_hue_] * 2)
        else:
            rng = self._rng()
            boot = bootstrap_means(r, self.n_boot, rng)
            bb = bootstrap_means(b[:, None], self.n_boot, rng)[:, 0]
            s = np.array([circular_summary(self.hues_, np.where(self.signs_ > 0, np.clip(boot[k] - bb[k], 0, None),
                                                                0.0), 360.0)[0] for k in range(self.n_boot)])
            self.preferred_hue_ci_ = percentile_ci(s, self.ci, self.preferred_hue_, 360.0)
        return self

    def summary(self) -> dict:
        self._check_fitted("curve_")
        return {"analysis": "color", "color_class": self.color_class_, "preferred_hue": self.preferred_hue_,
                "preferred_hue_ci": self.preferred_hue_ci_.tolist(), "peak_hue": self.peak_hue_,
                "trough_hue": self.trough_hue_, "baseline": self.baseline_, "white": self.white_,
                "black": self.black_, "luminance": self.luminance, "hues": self.hues_.tolist(),
                "curve": self.curve_.tolist(), "signs": self.signs_.tolist()}
