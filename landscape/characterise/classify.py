"""The crossing rule behind every opponency class (De Valois; Harris et al. 2019).

A unit's response to a stimulus is an *excursion* from its baseline (the response to a
uniform grey field). An excursion counts as excitation (+1) or inhibition (-1) only when it
clears a tolerance, else it is no response (0)::

    tol = max(rtol * scale, atol * max(1, |baseline|), z * standard error)

``scale`` is the largest absolute excursion of the unit over all stimuli of the experiment,
so ``rtol`` (default 5 %) ignores wiggles that are tiny next to the unit's real responses;
``atol`` keeps float rounding of a unit that answers nothing from counting; the standard
error term (zero for a noise-free unit) keeps measurement noise from counting.

A set of stimuli then reads as *opponent* when it has both an excitation and an inhibition
(the curve crosses the baseline), *non-opponent* when it has only one sign, and
*unresponsive* when it has neither.
"""

from __future__ import annotations

import numpy as np

OPPONENT, NON_OPPONENT, UNRESPONSIVE = "opponent", "non-opponent", "unresponsive"
#: combined classes, from the colour and the spatial test
CLASSES = ("double-opponent", "color-opponent", "spatially-opponent", "non-opponent", "unresponsive")


def excursion_signs(excursions: np.ndarray, scale: np.ndarray, se: np.ndarray | None = None,
                    rtol: float = 0.05, atol: float = 1e-5, z: float = 2.0,
                    baseline: np.ndarray | float = 0.0) -> np.ndarray:
    """Sign of each excursion that clears the tolerance.

    Parameters
    ----------
    excursions : (N, C) array
        Mean response minus baseline, per stimulus and channel.
    scale : (C,) array
        Largest absolute excursion per channel over the whole experiment.
    se : (N, C) array or None
        Standard error of each excursion.
    rtol, atol, z : float
    baseline : float or (C,) array

    Returns
    -------
    signs : (N, C) int array in {-1, 0, 1}
    """
    e = np.asarray(excursions, dtype=np.float64)
    tol = np.maximum(rtol * np.asarray(scale, dtype=np.float64),
                     atol * np.maximum(1.0, np.abs(np.asarray(baseline, dtype=np.float64))))
    tol = np.broadcast_to(tol, e.shape)
    if se is not None:
        tol = np.maximum(tol, z * np.asarray(se, dtype=np.float64))
    return np.where(e > tol, 1, np.where(e < -tol, -1, 0))


def crossing_class(signs: np.ndarray, axis: int = 0) -> np.ndarray:
    """Opponent / non-opponent / unresponsive from signs along ``axis``.

    Returns
    -------
    classes : array of str, ``signs`` without ``axis``
    """
    s = np.asarray(signs)
    up = (s > 0).any(axis=axis)
    down = (s < 0).any(axis=axis)
    return np.where(up & down, OPPONENT, np.where(up | down, NON_OPPONENT, UNRESPONSIVE))


def combine_classes(color_class: np.ndarray, spatial_class: np.ndarray) -> np.ndarray:
    """Combined class from the colour and the spatial test (see :data:`CLASSES`)."""
    c = np.asarray(color_class)
    s = np.asarray(spatial_class)
    responsive = (c != UNRESPONSIVE) | (s != UNRESPONSIVE)
    return np.where((c == OPPONENT) & (s == OPPONENT), "double-opponent",
                    np.where(c == OPPONENT, "color-opponent",
                             np.where(s == OPPONENT, "spatially-opponent",
                                      np.where(responsive, "non-opponent", "unresponsive"))))
