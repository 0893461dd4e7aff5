"""The full topological signature of a tuning map: contour counts plus persistence.

:class:`TopologySignature` runs :class:`~landscape.topology.contours.ContourSignature` and
:class:`~landscape.topology.persistence.SuperlevelPersistence` at the same levels and
collects their scalar components in ``summary_``:

=======================  =====================================================================
component                meaning
=======================  =====================================================================
loops_auc                area under the loop count over the level fraction (paper; with
                         ``contour_convention="reference"``: over level / max, as published)
lines_auc                area under the count of lines ending on the border (paper)
branches_auc             area under the count of all level-set curves (paper)
isolation_level          lowest level fraction above which the level set is one loop (paper;
                         reference convention: the reference's ``loop_lowest_lvl``)
n_peaks                  H0 classes with persistence > threshold x range
n_rings                  H1 classes with persistence > threshold x range
second_peak_prominence   persistence of the second peak over the range (0 = one peak)
betti0_auc, betti1_auc   area under the Betti curves over the normalised threshold
euler_auc                area under the Euler characteristic curve
=======================  =====================================================================

Saved files (:meth:`TopologySignature.save`):

``signature.json``
    ``schema`` ("landscape.topology.signature"), ``version``, ``params`` (levels,
    connectivity, threshold, sigma, nan_policy, contour_convention), ``domain`` (kind, shape, wrap, poles,
    topology, Euler characteristic), ``range`` [min, max], ``filled_pixels``, ``summary``
    (the components above), ``isolation_level_of_max``, ``peak_prominences`` (each peak's
    persistence over the range, largest first) and ``levels``: per level ``level``,
    ``level_fraction``, ``level_of_max``, ``loops``, ``lines``, ``branches``, ``b0``, ``b1``,
    ``b2``, ``euler``. NaN is written as ``null``, infinities as ``"inf"``/``"-inf"``.
``diagrams.npz``
    ``h0``, ``h1``, ``h2``: (p, 2) arrays of (birth, death), ``death = -inf`` for classes that
    never die; ``values``: the analysed (n, m) map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from landscape.estimator import Estimator, check_is_fitted
from landscape.io import jsonable, write_json
from landscape.topology.contours import (CONVENTIONS, ContourSignature, count_level_sets, level_values,
                                         reference_level_set_counts)
from landscape.topology.domain import Field, as_field, smooth_field
from landscape.topology.persistence import SuperlevelPersistence, superlevel_diagrams

SUMMARY_KEYS = ("loops_auc", "lines_auc", "branches_auc", "isolation_level", "n_peaks", "n_rings",
                "second_peak_prominence", "betti0_auc", "betti1_auc", "euler_auc")


class TopologySignature(Estimator):
    """Contour and persistence signature of one map.

    Parameters
    ----------
    levels : int or (L,) array
        Levels evenly from min to max (default 21) or values; shared by the contour counts and
        the Betti curves.
    connectivity : {8, 4}
        Pixel connectivity of super-level sets for the persistence part (the contour counts
        always use 8; see :mod:`~landscape.topology.contours`).
    threshold : float
        Significance threshold for peaks and rings, as a fraction of the map's range.
    sigma : float
        Gaussian smoothing in pixels before the analysis (0, the default, analyses the values
        as measured; on noisy maps a pixel or so keeps noise from adding loops and peaks).
    contour_convention : {"project", "reference"}
        How the contour components are counted (:class:`ContourSignature`'s ``convention``):
        the project's (default) or the published recipe exactly.
    domain, nan_policy, theta_deg, phi_deg
        How to read an array (see :func:`~landscape.topology.domain.as_field`).

    Attributes
    ----------
    field_ : Field
        The analysed values and their domain.
    contours_ : ContourSignature
    persistence_ : SuperlevelPersistence
    diagrams_ : dict {0, 1, 2: (p, 2) arrays}
    range_ : (float, float)
    summary_ : dict
        The scalar components (module docstring), in ``SUMMARY_KEYS`` order.
    """

    def __init__(self, levels: int | Any = 21, connectivity: int = 8, threshold: float = 0.1, *,
                 sigma: float = 0.0, contour_convention: str = "project", domain: str | None = None,
                 nan_policy: str = "raise", theta_deg: Any = None, phi_deg: Any = None) -> None:
        self.levels = levels
        self.connectivity = connectivity
        self.threshold = threshold
        self.sigma = sigma
        self.contour_convention = contour_convention
        self.domain = domain
        self.nan_policy = nan_policy
        self.theta_deg = theta_deg
        self.phi_deg = phi_deg

    def _field(self, data: Any) -> Field:
        return as_field(data, self.domain, theta_deg=self.theta_deg, phi_deg=self.phi_deg,
                        nan_policy=self.nan_policy)

    def fit(self, data: Any) -> "TopologySignature":
        """Compute the signature of ``data`` ((n, m) array, TuningMap or Field)."""
        if not 0 <= self.threshold < 1:
            raise ValueError(f"threshold is a fraction of the map's range in [0, 1), got {self.threshold!r}")
        if self.contour_convention not in CONVENTIONS:
            raise ValueError(f"contour_convention must be one of {', '.join(CONVENTIONS)}, "
                             f"got {self.contour_convention!r}")
        field = smooth_field(self._field(data), self.sigma)
        self.field_ = field
        lv = level_values(field, self.levels)
        contours = ContourSignature(lv, convention=self.contour_convention)
        if self.contour_convention == "reference":
            contours._set_reference(field, reference_level_set_counts(field.values, lv))
        else:
            contours._set(field, count_level_sets(field, lv))
        pers = SuperlevelPersistence(self.connectivity, lv, self.threshold)
        pers.diagrams_ = superlevel_diagrams(field, self.connectivity)
        pers._summarise(field, lv)
        self.contours_, self.persistence_ = contours, pers
        self.diagrams_ = pers.diagrams_
        self.range_ = field.range
        merged = {**contours.summary(), **pers.summary()}
        self.summary_ = {k: merged[k] for k in SUMMARY_KEYS}
        return self

    # -- reporting ----------------------------------------------------------------------------
    def table(self) -> dict[str, np.ndarray]:
        """Per-level columns: level, level_fraction, level_of_max, loops, lines, branches, b0, b1, b2, euler."""
        check_is_fitted(self, hint="fit(data)")
        c, p = self.contours_, self.persistence_
        return {"level": c.levels_, "level_fraction": c.level_fraction_, "level_of_max": c.level_of_max_,
                "loops": c.loops_, "lines": c.lines_, "branches": c.branches_, "b0": p.betti_[0],
                "b1": p.betti_[1], "b2": p.betti_[2], "euler": p.euler_}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record (the ``signature.json`` schema)."""
        check_is_fitted(self, hint="fit(data)")
        return {"schema": "landscape.topology.signature", "version": 1,
                "params": {"levels": jsonable(self.levels), "connectivity": self.connectivity,
                           "threshold": self.threshold, "sigma": self.sigma,
                           "nan_policy": self.nan_policy, "contour_convention": self.contour_convention},
                "domain": self.field_.domain.describe(), "range": list(self.range_),
                "filled_pixels": int(self.field_.filled.sum()) if self.field_.filled is not None else 0,
                "summary": {k: jsonable(v) for k, v in self.summary_.items()},
                "isolation_level_of_max": jsonable(self.contours_.isolation_level_of_max_),
                "peak_prominences": jsonable(self.persistence_.prominences_),
                "levels": {k: jsonable(v) for k, v in self.table().items()}}

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write ``signature.json`` and ``diagrams.npz`` into the folder ``out``."""
        check_is_fitted(self, hint="fit(data)")
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"signature": out / "signature.json", "diagrams": out / "diagrams.npz"}
        write_json(paths["signature"], self.to_dict())
        np.savez(paths["diagrams"], h0=self.diagrams_[0], h1=self.diagrams_[1], h2=self.diagrams_[2],
                 values=self.field_.values)
        return paths

    def format(self) -> str:
        """A plain-text report: summary, then the per-level table."""
        check_is_fitted(self, hint="fit(data)")
        lines = [f"domain: {self.field_.domain.kind} ({self.field_.domain.topology}), shape "
                 f"{self.field_.shape}, range [{self.range_[0]:.4g}, {self.range_[1]:.4g}], "
                 f"connectivity {self.connectivity}",
                 f"contour convention: {self.contour_convention} ("
                 + ("published recipe: skimage find_contours, AUC over level / max" if self.contour_convention
                    == "reference" else "project: 8-connected super-level sets, AUC over the level fraction")
                 + ")"]
        for k, v in self.summary_.items():
            lines.append(f"  {k:24s} {v:.4g}" if isinstance(v, float) else f"  {k:24s} {v}")
        t = self.table()
        lines.append("")
        lines.append(f"{'level':>10s} {'frac':>6s} {'of max':>7s} {'loops':>5s} {'lines':>5s} {'branch':>6s} "
                     f"{'b0':>4s} {'b1':>4s} {'euler':>5s}")
        for i in range(t["level"].size):
            lines.append(f"{t['level'][i]:10.4g} {t['level_fraction'][i]:6.3f} {t['level_of_max'][i]:7.3f} "
                         f"{t['loops'][i]:5d} {t['lines'][i]:5d} {t['branches'][i]:6d} {t['b0'][i]:4d} "
                         f"{t['b1'][i]:4d} {t['euler'][i]:5d}")
        return "\n".join(lines)


def signature(data: Any, **params: Any) -> dict[str, float]:
    """Scalar signature components of one map (``TopologySignature(**params).fit(data).summary_``)."""
    return TopologySignature(**params).fit(data).summary_
