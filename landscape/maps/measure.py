"""Measure a unit's responses to many codes: rendered in chunks, scored, repeated if noisy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

#: repetitions per image for a noisy unit when the caller does not say
DEFAULT_NOISY_REPS = 5


@dataclass
class Measurement:
    """Responses to ``N`` codes.

    Attributes
    ----------
    mean : (N,) float64 array
        Mean observed response over repetitions.
    trials : (r, N) float64 array or None
        Every repetition, for noisy units; ``None`` for noise-free units.
    clean : (N,) float64 array or None
        Noise-free responses of a noisy unit (``unit.clean``); ``None`` for noise-free units,
        whose observed responses are already clean.
    """

    mean: np.ndarray
    trials: np.ndarray | None
    clean: np.ndarray | None

    @property
    def sem(self) -> np.ndarray | None:
        """(N,) standard error of the mean over repetitions, or None without repetitions."""
        if self.trials is None or self.trials.shape[0] < 2:
            return None
        return self.trials.std(axis=0, ddof=1) / np.sqrt(self.trials.shape[0])


def resolve_reps(unit: Any, reps: int | None) -> int:
    """Repetitions to take: ``reps`` checked against the unit's noisiness.

    A noise-free unit answers the same image identically, so ``reps > 1`` there is a mistake
    and raises rather than silently wasting forward passes.
    """
    noisy = bool(getattr(unit, "noisy", False))
    if reps is None:
        return DEFAULT_NOISY_REPS if noisy else 1
    if not isinstance(reps, (int, np.integer)) or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    if reps > 1 and not noisy:
        raise ValueError(f"reps={reps} asked of a noise-free unit ({unit!r}): every repetition would be "
                         "identical; use reps=1 or wrap the unit in a noise model (PoissonNoise, GaussianNoise)")
    return int(reps)


def _to_numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().to("cpu", torch.float64).numpy().reshape(-1)


@torch.no_grad()
def measure_codes(generator: Any, unit: Callable[[torch.Tensor], torch.Tensor], codes: Any, *,
                  reps: int | None = None, batch_size: int | None = None, progress: bool = True,
                  desc: str = "measuring") -> Measurement:
    """Render ``codes`` in chunks and score them with ``unit``.

    Parameters
    ----------
    generator : landscape.generators.Generator
        Images are rendered on its device; the unit follows the images.
    unit : landscape.units.Unit
        Observed responses ``unit(images)``; for a noisy unit also ``unit.clean(images)``
        (with the noise wrappers' ``observe(clean)``, the clean pass runs once per image
        and each repetition only draws noise).
    codes : (N, d) array or tensor
    reps : int or None
        Repetitions per image (noisy units only); ``None``: 1 for noise-free units,
        :data:`DEFAULT_NOISY_REPS` for noisy ones. Each chunk is rendered once and shown
        ``reps`` times.
    batch_size : int or None
        Images per forward pass; defaults to the generator's ``max_batch``.
    progress : bool
        Show a tqdm bar over images.

    Returns
    -------
    Measurement
    """
    from tqdm.auto import tqdm

    reps = resolve_reps(unit, reps)
    noisy = bool(getattr(unit, "noisy", False))
    codes_t = torch.as_tensor(codes.detach() if torch.is_tensor(codes) else np.asarray(codes),
                              dtype=torch.float32)
    if codes_t.ndim != 2 or codes_t.shape[0] == 0:
        raise ValueError(f"codes must be a non-empty (N, d) array, got shape {tuple(codes_t.shape)}")
    codes_t = codes_t.to(generator.device)
    bs = int(batch_size or getattr(generator, "max_batch", 64))
    if bs < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = codes_t.shape[0]
    trials = np.empty((reps, n))
    clean = np.empty(n) if noisy else None
    with tqdm(total=n, desc=desc, unit="img", disable=not progress, leave=False) as bar:
        for start in range(0, n, bs):
            images = generator(codes_t[start:start + bs])
            stop = start + images.shape[0]
            if noisy and hasattr(unit, "observe"):
                # noise wrappers draw noise around one clean pass: no repeated forward passes
                a = unit.clean(images)
                clean[start:stop] = _to_numpy(a)
                for r in range(reps):
                    trials[r, start:stop] = _to_numpy(unit.observe(a))
            else:
                for r in range(reps):
                    trials[r, start:stop] = _to_numpy(unit(images))
                if noisy:
                    clean[start:stop] = _to_numpy(unit.clean(images))
            bar.update(stop - start)
    return Measurement(mean=trials.mean(axis=0), trials=trials if noisy else None, clean=clean)
