"""Colour, spatial and double opponency (De Valois et al. 1966; Harris et al. 2019).

The test, per unit (or per channel of a layer, vectorised):

* **baseline**: the response to a uniform grey field of the test luminance;
* **colour**: uniform fields around a fixed-luminance hue circle (full field, and any
  extra apertures). Colour-opponent when, for some aperture, the hue curve crosses the
  baseline: some hues excite and others inhibit;
* **spatial**: for each test colour, discs of growing radius and annuli with growing holes
  (filling the rest of the image), centred on the receptive field. Spatially opponent when,
  for some single colour, centre and surround stimuli drive the unit to opposite sides of
  the baseline;
* **combined**: double-opponent when both, colour-opponent or spatially-opponent when one,
  non-opponent when the unit responds but crosses nowhere, unresponsive when nothing
  clears the tolerance.

"Crosses" uses the tolerance rule of :mod:`landscape.characterise.classify`. These are
operational classes: a type I cell (red-ON centre, green-OFF surround) is spatially opponent
for achromatic stimuli and so counts as double-opponent here, as it would in the same
experiment on a monkey.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from landscape.characterise.base import Analysis, check_common, standard_error
from landscape.characterise.classify import combine_classes, crossing_class, excursion_signs
from landscape.characterise.resampling import as_reps
from landscape.stimuli import MAX_RADIUS, ParamTable, annuli, discs, hue_fields, uniform
from landscape.stimuli.colors import ColorLike, color_name


def default_spatial_radii(size: int, n: int = 6) -> np.ndarray:
    """``n`` log-spaced radii from one pixel to half the image side."""
    return np.geomspace(1.0 / size, 0.5, n)


class Opponency(Analysis):
    """Classify a unit as double-, colour-, spatially, non-opponent or unresponsive.

    Parameters
    ----------
    size : int
    hues : int or sequence of float
        Hue circle of the colour test (degrees; an int ``n`` means ``n`` evenly spaced).
    luminance : float in (0, 1)
        Luminance of the hue fields and of the grey baseline and background.
    hue_radii : sequence of (float or None)
        Apertures of the colour test; ``None`` is full-field. Add a small radius to catch
        double-opponent cells whose balanced surround cancels full-field colour.
    spatial_colors : list of colours
        Colours of the discs and annuli (each tested on its own).
    radii : sequence of float or None
        Disc radii and annulus holes; ``None``: 6 log-spaced from one pixel to 0.5.
    x, y : float
        Centre of the spatial stimuli and apertures (the receptive field's centre).
    rtol, atol, z : float
        Tolerances of the crossing rule (:func:`~landscape.characterise.classify.excursion_signs`).
    reps, batch_size, device, progress
        See :class:`landscape.characterise.base.Analysis` (no bootstrap here: noise enters
        through the standard-error term of the tolerance).

    Attributes
    ----------
    baseline_ : float
    hue_curves_ : (n_apertures, n_hues) array
    disc_curves_, annulus_curves_ : (n_colors, n_radii) arrays
    radii_ : (n_radii,) array
        Radii of the discs and annuli (fractions of the image side).
    scale_ : float
        Largest absolute excursion over every stimulus (including white and black fields).
    hue_classes_ : list of str, one per aperture
    spatial_classes_ : dict colour name -> str
    color_class_, spatial_class_ : {"opponent", "non-opponent", "unresponsive"}
    class_ : one of :data:`landscape.characterise.classify.CLASSES`
    """

    def __init__(self, size: int = 32, hues=12, luminance: float = 0.5, hue_radii: Sequence[float | None] = (None,),
                 spatial_colors: Sequence[ColorLike] = ("white", "black", "red", "green", "blue"), radii=None,
                 x: float = 0.0, y: float = 0.0, rtol: float = 0.05, atol: float = 1e-5, z: float = 2.0,
                 reps: int | None = None, batch_size: int = 512, device: str | torch.device | None = None,
                 progress: bool = False) -> None:
        check_common(size, reps, 0, 0.5, batch_size)
        if len(hue_radii) == 0:
            raise ValueError("hue_radii must hold at least one aperture (None for full-field)")
        if isinstance(spatial_colors, str) or len(spatial_colors) == 0:
            raise ValueError(f"spatial_colors must be a list of colours, got {spatial_colors!r}")
        self.size, self.hues, self.luminance, self.hue_radii = size, hues, luminance, hue_radii
        self.spatial_colors, self.radii, self.x, self.y = spatial_colors, radii, x, y
        self.rtol, self.atol, self.z = rtol, atol, z
        self.reps, self.batch_size, self.device, self.progress = reps, batch_size, device, progress
        self.parameter_table()  # bad parameters fail here, before anything is measured

    def _radius_levels(self) -> np.ndarray:
        return default_spatial_radii(self.size) if self.radii is None else np.atleast_1d(np.asarray(self.radii, float))

    def stimuli(self, device=None) -> tuple[torch.Tensor, ParamTable]:
        """Hue fields (per aperture), then discs and annuli (per colour), as one batch.

        The table has columns ``test`` ("hue", "disc", "annulus"), ``aperture`` (hue tests;
        -1 for full-field), ``hue``, ``color``, ``radius`` (disc radius or annulus hole).
        """
        grey = (self.luminance,) * 3
        imgs, cols = [], {"test": [], "aperture": [], "hue": [], "color": [], "radius": []}
        for a in self.hue_radii:
            im, t = hue_fields(self.size, self.hues, self.luminance, None, a, self.x, self.y, device=device)
            imgs.append(im)
            n = len(t)
            cols["test"] += ["hue"] * n
            cols["aperture"] += [-1.0 if a is None else float(a)] * n
            cols["hue"] += t["hue"].tolist()
            cols["color"] += [""] * n
            cols["radius"] += [np.nan] * n
        radii = self._radius_levels()
        for c in self.spatial_colors:
            name = color_name(c)
            for test in ("disc", "annulus"):
                if test == "disc":
                    im, _ = discs(self.size, radii, c, self.x, self.y, grey, device=device)
                else:
                    if radii.max() >= MAX_RADIUS:
                        raise ValueError(f"annulus holes must be smaller than {MAX_RADIUS:.4f}, got {radii.max()}")
                    im, _ = annuli(self.size, radii, MAX_RADIUS, c, self.x, self.y, grey, device=device)
                imgs.append(im)
                n = len(radii)
                cols["test"] += [test] * n
                cols["aperture"] += [np.nan] * n
                cols["hue"] += [np.nan] * n
                cols["color"] += [name] * n
                cols["radius"] += radii.tolist()
        table = ParamTable({k: np.asarray(v) for k, v in cols.items()})
        return torch.cat(imgs), table

    def baseline_images(self, device=None) -> torch.Tensor:
        """Grey at ``luminance`` (the baseline), white, black (response scale)."""
        return uniform(self.size, [(self.luminance,) * 3, "white", "black"], device=device)[0]

    def fit_responses(self, responses, baseline) -> "Opponency":
        """``baseline`` is (reps, 3) for grey, white, black, or a float / (reps,) for grey only."""
        r = as_reps(responses)
        b = np.asarray(baseline, dtype=np.float64)
        if b.ndim == 0:
            b = np.full((r.shape[0], 1), float(b))
        elif b.ndim == 1:
            b = b[:, None]
        res = self.classify(r[:, :, None], b[:, :, None])
        self.baseline_ = float(res["baseline"][0])
        self.scale_ = float(res["scale"][0])
        self.hue_curves_ = res["hue_curves"][..., 0]
        self.disc_curves_ = res["disc_curves"][..., 0]
        self.annulus_curves_ = res["annulus_curves"][..., 0]
        self.radii_ = self._radius_levels()
        self.hue_classes_ = [str(c) for c in res["hue_classes"][:, 0]]
        self.spatial_classes_ = {name: str(c) for name, c in zip(res["color_names"], res["spatial_classes"][:, 0])}
        self.color_class_ = str(res["color_class"][0])
        self.spatial_class_ = str(res["spatial_class"][0])
        self.class_ = str(res["class"][0])
        return self

    def classify(self, responses: np.ndarray, refs: np.ndarray) -> dict:
        """The classification for many channels at once.

        Parameters
        ----------
        responses : (reps, N, C) array
            Responses to :meth:`stimuli` for ``C`` channels.
        refs : (reps, k, C) array
            Responses to :meth:`baseline_images` (grey first; white and black when k = 3).

        Returns
        -------
        dict with per-channel arrays: ``baseline (C,)``, ``scale (C,)``,
        ``hue_curves (n_apertures, n_hues, C)``, ``disc_curves`` and ``annulus_curves``
        ``(n_colors, n_radii, C)``, ``hue_classes (n_apertures, C)``,
        ``spatial_classes (n_colors, C)``, ``color_class``, ``spatial_class``, ``class`` (C,),
        and ``color_names``.
        """
        table = self.parameter_table()
        r = np.asarray(responses, dtype=np.float64)
        if r.ndim != 3 or r.shape[1] != len(table):
            raise ValueError(f"responses must have shape (reps, {len(table)}, C), got {r.shape}")
        refs = np.asarray(refs, dtype=np.float64)
        b = refs[:, 0]  # (reps, C)
        base = b.mean(0)
        exc = r.mean(0) - base  # (N, C)
        se = np.sqrt(standard_error(r) ** 2 + standard_error(b)[None] ** 2)
        scale = np.abs(exc).max(0)
        if refs.shape[1] > 1:
            scale = np.maximum(scale, np.abs(refs[:, 1:].mean(0) - base).max(0))
        signs = excursion_signs(exc, scale, se, self.rtol, self.atol, self.z, base)
        test = table["test"]
        n_h = int(np.sum(test == "hue") // len(self.hue_radii))
        hue_signs = signs[test == "hue"].reshape(len(self.hue_radii), n_h, -1)
        hue_classes = crossing_class(hue_signs, axis=1)  # (apertures, C)
        n_r = len(self._radius_levels())
        names = [color_name(c) for c in self.spatial_colors]
        sp = signs[test != "hue"].reshape(len(names), 2 * n_r, -1)
        spatial_classes = crossing_class(sp, axis=1)  # (colors, C)
        color_class = _any_class(hue_classes)
        spatial_class = _any_class(spatial_classes)
        mean = r.mean(0)
        sp_mean = mean[test != "hue"].reshape(len(names), 2, n_r, -1)
        return {"baseline": base, "scale": scale,
                "hue_curves": mean[test == "hue"].reshape(len(self.hue_radii), n_h, -1),
                "disc_curves": sp_mean[:, 0], "annulus_curves": sp_mean[:, 1],
                "hue_classes": hue_classes, "spatial_classes": spatial_classes, "color_names": names,
                "color_class": color_class, "spatial_class": spatial_class,
                "class": combine_classes(color_class, spatial_class)}

    def summary(self) -> dict:
        self._check_fitted("class_")
        return {"analysis": "opponency", "class": self.class_, "color_class": self.color_class_,
                "spatial_class": self.spatial_class_, "hue_classes": self.hue_classes_,
                "spatial_classes": self.spatial_classes_, "baseline": self.baseline_, "scale": self.scale_,
                "hue_curves": self.hue_curves_.tolist(), "disc_curves": self.disc_curves_.tolist(),
                "annulus_curves": self.annulus_curves_.tolist(), "radii": self._radius_levels().tolist()}


def _any_class(classes: np.ndarray) -> np.ndarray:
    """Across sub-tests (axis 0): opponent if any is, else non-opponent if any responds."""
    c = np.asarray(classes)
    return np.where((c == "opponent").any(0), "opponent",
                    np.where((c == "non-opponent").any(0), "non-opponent", "unresponsive"))
