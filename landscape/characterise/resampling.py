"""Statistics of repeated responses: reading them in, bootstrapping their means, percentile intervals.

Measuring a unit is :mod:`landscape.units.measure`'s job; this module only summarises what
was measured.
"""

from __future__ import annotations

import numpy as np


def as_reps(responses, n: int | None = None, name: str = "responses") -> np.ndarray:
    """Read responses given as (N,) or (reps, N) into a (reps, N) float array."""
    r = np.asarray(responses.detach().cpu() if hasattr(responses, "detach") else responses, dtype=np.float64)
    if r.ndim == 1:
        r = r[None]
    if r.ndim != 2:
        raise ValueError(f"{name} must have shape (N,) or (reps, N), got {r.shape}")
    if n is not None and r.shape[1] != n:
        raise ValueError(f"{name} have {r.shape[1]} stimuli on their last axis, expected {n}")
    return r


def bootstrap_means(responses: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of the per-stimulus mean.

    Repetitions are resampled with replacement independently for every stimulus (each
    presentation is an independent draw of the unit's noise).

    Parameters
    ----------
    responses : (reps, N, ...) array
    n_boot : int

    Returns
    -------
    means : (n_boot, N, ...) array
    """
    reps = responses.shape[0]
    idx = rng.integers(0, reps, size=(n_boot, reps) + responses.shape[1:])
    return np.take_along_axis(responses[None], idx, axis=1).mean(1)


def percentile_ci(samples: np.ndarray, level: float, center: float | None = None,
                  period: float | None = None) -> np.ndarray:
    """Percentile interval of bootstrap samples, NaN-aware; circular when ``period`` is given.

    For a circular quantity the samples are unwrapped around ``center`` (the point estimate)
    first, so an interval can straddle 0/180 degrees; its ends are then given unwrapped
    (``low`` may be negative or ``high`` above the period).

    Returns
    -------
    ci : (2,) array (NaN where fewer than half the replicates gave a value)
    """
    s = np.asarray(samples, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size < max(2, np.asarray(samples).size // 2):
        return np.array([np.nan, np.nan])
    if period is not None:
        c = 0.0 if center is None or not np.isfinite(center) else center
        s = c + (s - c + period / 2) % period - period / 2
    alpha = (1 - level) / 2
    return np.quantile(s, [alpha, 1 - alpha])
