"""Showing stimuli to a unit: batched, repeated measurements and their bootstrap."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

#: repeated measurements taken from a noisy unit when an analysis is given ``reps=None``
DEFAULT_NOISY_REPS = 8


def unit_device(unit, device: str | torch.device | None = None) -> torch.device:
    """Where to make stimuli: ``device`` if given, else the unit's own device, else CPU."""
    if device is not None:
        return torch.device(device)
    dev = getattr(unit, "device", None)
    return torch.device(dev) if dev is not None else torch.device("cpu")


def resolve_reps(unit, reps: int | None) -> int:
    """Measurements per stimulus: 1 for a noise-free unit, ``reps`` (default 8) for a noisy one."""
    noisy = bool(getattr(unit, "noisy", False))
    if reps is None:
        return DEFAULT_NOISY_REPS if noisy else 1
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be a positive integer or None, got {reps!r}")
    # a noise-free unit answers the same every time: one pass is the whole measurement
    return int(reps) if noisy else 1


@torch.no_grad()
def measure(unit: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, reps: int = 1,
            batch_size: int = 512, progress: bool = False) -> np.ndarray:
    """Observed responses of ``unit`` to ``images``, ``reps`` times each.

    Parameters
    ----------
    unit : Unit or callable
        Images ``(B, 3, H, W)`` to scores ``(B,)``; a live rig can stand here.
    images : (N, 3, H, W) tensor in [0, 1]
    reps : int
        Repeated presentations of the whole set (use 1 for a noise-free unit).
    batch_size : int
        Images per call; the default sends a typical grating set (e.g. 12 x 8 x 4) in one pass.
    progress : bool
        Show a tqdm bar over calls.

    Returns
    -------
    responses : (reps, N) float64 array
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = images.shape[0]
    starts = [(r, i) for r in range(reps) for i in range(0, n, batch_size)]
    it = starts
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(starts, desc="stimuli", unit="batch")
    out = np.empty((reps, n), dtype=np.float64)
    for r, i in it:
        batch = images[i:i + batch_size]
        scores = unit(batch)
        scores = scores.detach().cpu().double().numpy() if torch.is_tensor(scores) else np.asarray(scores, float)
        if scores.shape != (batch.shape[0],):
            raise ValueError(f"the unit returned scores of shape {scores.shape} for {batch.shape[0]} images; "
                             f"expected ({batch.shape[0]},)")
        out[r, i:i + batch.shape[0]] = scores
    return out


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
