"""Notebook 04's exercises: counting a super-level set's pieces, and reading a persistence diagram."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from landscape.exercises.base import as_array, as_number, fail, not_done, passed


def _maps() -> dict[str, np.ndarray]:
    y, x = np.mgrid[-1:1:41j, -1:1:41j]
    bump = lambda cx, cy, w: np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / w)  # noqa: E731
    rng = np.random.default_rng(4)
    return {"two peaks": bump(-0.45, 0, 0.04) + 0.7 * bump(0.45, 0, 0.04),
            "a ring": np.exp(-((np.hypot(x, y) - 0.55) ** 2) / 0.02),
            "two diagonal pixels": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.3]]),
            "three bumps and noise": (bump(-0.5, -0.5, 0.05) + 0.8 * bump(0.5, 0.4, 0.03) + 0.5 * bump(-0.4, 0.6, 0.02)
                                      + 0.05 * rng.standard_normal(x.shape))}


def _components(values: np.ndarray, c: float, structure: np.ndarray | None) -> int:
    from scipy import ndimage

    return int(ndimage.label(values >= c, structure=structure)[1])


def check_component_count(n_components: Callable[[np.ndarray, float], Any]) -> bool:
    """Check ``n_components(values, c) -> int``: the pieces of the super-level set ``{values >= c}``
    with 8-connectivity (diagonal neighbours touch), as :mod:`landscape.topology` counts them (b0)."""
    from landscape.topology import betti_curves, superlevel_diagrams
    from landscape.topology.domain import as_field

    not_done(n_components, "n_components")
    n_checked = 0
    for name, values in _maps().items():
        diagrams = superlevel_diagrams(as_field(values, "plane"), 8)
        levels = np.unique(np.concatenate([np.quantile(values, [0.3, 0.6, 0.8, 0.95]), [values.max()]]))
        for c in levels:
            expected = int(betti_curves(diagrams, np.array([c]))[0, 0])
            got = as_number(n_components(values.copy(), float(c)), f"n_components(<{name}>, {c:.3g})")
            n_checked += 1
            if got == expected:
                continue
            if got == _components(values, c, None):
                hint = ("that is the count with 4-connectivity; pixels that touch at a corner belong to one piece: "
                        "scipy.ndimage.label(values >= c, structure=np.ones((3, 3)))")
            elif got == _components(values, c + 1e-12, np.ones((3, 3))):
                hint = "the super-level set includes the threshold itself: values >= c, not values > c"
            else:
                hint = "label the mask values >= c with scipy.ndimage.label and return its second output (the count)"
            fail(f"{name} at c = {c:.4g}: yours {got:g}, expected {expected}", hint)
    return passed(f"n_components agrees with landscape.topology's b0 on {n_checked} (map, threshold) pairs")


def check_significant_peaks(n_significant_peaks: Callable[[np.ndarray, float, float, float], Any]) -> bool:
    """Check ``n_significant_peaks(diagram, lo, hi, threshold) -> int`` against
    :class:`landscape.topology.SuperlevelPersistence`'s ``n_peaks_``.

    ``diagram`` is the (p, 2) array of H0 ``(birth, death)`` pairs with ``birth >= death``; the
    class that never dies has ``death = -inf`` and persistence ``birth - lo``. A peak is
    significant when its persistence exceeds ``threshold * (hi - lo)``.
    """
    from landscape.topology import SuperlevelPersistence

    not_done(n_significant_peaks, "n_significant_peaks")
    for name, values in _maps().items():
        for threshold in (0.05, 0.1, 0.3):
            p = SuperlevelPersistence(threshold=threshold).fit(values)
            lo, hi = p.range_
            d0 = np.array(p.diagrams_[0])
            got = as_number(n_significant_peaks(d0.copy(), lo, hi, threshold),
                            f"n_significant_peaks(<{name}>, threshold={threshold})")
            if got == p.n_peaks_:
                continue
            finite = np.isfinite(d0[:, 1])
            pers = d0[finite, 0] - d0[finite, 1]
            if got == int((pers > threshold * (hi - lo)).sum()):
                hint = ("the bar with death = -inf (the highest peak, which never merges) counts too: "
                        "its persistence is birth - lo")
            elif got == 0:
                hint = "for super-level sets birth >= death: persistence = birth - death (replace -inf by lo)"
            else:
                hint = ("persistence = birth - np.where(np.isfinite(death), death, lo); "
                        "count those > threshold * (hi - lo)")
            fail(f"{name} with threshold {threshold}: yours {got:g}, expected {p.n_peaks_}", hint)
    return passed("n_significant_peaks agrees with SuperlevelPersistence on 4 maps at 3 thresholds")
