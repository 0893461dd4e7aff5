"""What every characterisation analysis shares: parameters, measuring, bootstrap settings.

Analyses follow scikit-learn's conventions: parameters go to ``__init__`` (and show in the
``repr``), :meth:`Analysis.fit` measures a unit, and results land in attributes with a
trailing underscore. ``fit(unit)`` is :meth:`stimuli` + :func:`measure` +
:meth:`fit_responses`; a lab whose rig answers offline can call the first and last
themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from landscape.characterise.resampling import as_reps
from landscape.units.measure import NOISY_REPS, measure_images, resolve_reps, unit_device
from landscape.estimator import Estimator, NotFittedError, check_is_fitted
from landscape.stimuli import ParamTable, uniform

__all__ = ["Analysis", "NotFittedError", "check_common", "standard_error"]


class Analysis(Estimator):
    """Base class: parameter handling, measurement and the grey-field baseline.

    Subclasses define :meth:`stimuli` and :meth:`fit_responses`, and take at least these
    parameters:

    size : int
        Image side in pixels (use the model's input size; zoo models also resize).
    reps : int or None
        Presentations per stimulus. ``None``: 1 for a noise-free unit, 8 for a noisy one
        (``unit.noisy``). Confidence intervals come from bootstrapping these repetitions, so
        they have zero width for a noise-free unit (there is no measurement noise) and need
        ``reps >= 2`` for a noisy one.
    n_boot : int
        Bootstrap replicates for confidence intervals.
    ci : float
        Confidence level of the intervals (e.g. 0.95).
    batch_size : int
        Images per call to the unit.
    device : str, torch.device or None
        Where stimuli are made; ``None`` follows the unit (``unit.device``) or uses the CPU.
    seed : int
        Seeds the bootstrap's ``numpy.random.Generator``.
    progress : bool
        Show a progress bar while measuring.
    """

    #: name of the baseline colour shown with every stimulus set
    baseline_color: Any = "grey"

    # -- the experiment ---------------------------------------------------------------
    def stimuli(self, device: str | torch.device | None = None) -> tuple[torch.Tensor, ParamTable]:
        """The stimulus set: images (N, 3, size, size) and their parameter table."""
        raise NotImplementedError

    def baseline_images(self, device: str | torch.device | None = None) -> torch.Tensor:
        """The uniform field(s) measured with the stimuli; the first is the baseline, (k, 3, S, S)."""
        return uniform(self.size, self.baseline_color, device=device)[0]

    def fit(self, unit) -> "Analysis":
        """Measure ``unit`` on :meth:`stimuli` and the baseline field, then :meth:`fit_responses`.

        Parameters
        ----------
        unit : Unit or callable
            Images ``(B, 3, H, W)`` in [0, 1] to responses ``(B,)``.

        Returns
        -------
        self
        """
        device = unit_device(unit, self.device)
        images, _ = self.stimuli(device)
        extra = self.baseline_images(device)
        reps = resolve_reps(unit, self.reps, NOISY_REPS["stimuli"])
        r = measure_images(unit, torch.cat([images, extra.to(images.dtype)]), reps=reps, batch_size=self.batch_size,
                           progress=self.progress).trials
        self.unit_ = unit.describe() if hasattr(unit, "describe") else {"type": type(unit).__name__}
        n = images.shape[0]
        return self.fit_responses(r[:, :n], r[:, n:] if extra.shape[0] > 1 else r[:, n])

    def fit_responses(self, responses, baseline) -> "Analysis":
        """Summarise measured responses.

        Parameters
        ----------
        responses : (N,) or (reps, N) array
            Responses to :meth:`stimuli`, in its order.
        baseline : float, (reps,) array, or (reps, k) for the k :meth:`baseline_images`
        """
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------------
    def parameter_table(self) -> ParamTable:
        """The parameter table of :meth:`stimuli` (computed once per parameter setting)."""
        key = repr(sorted((k, repr(v)) for k, v in self.get_params().items()))
        cached = getattr(self, "_table_cache", None)
        if cached is None or cached[0] != key:
            self._table_cache = (key, self.stimuli("cpu")[1])
        return self._table_cache[1]

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def _check_fitted(self, attr: str) -> None:
        check_is_fitted(self, attr, hint="fit(unit) or fit_responses(...)")

    def _read_baseline(self, baseline, reps: int) -> np.ndarray:
        b = np.asarray(baseline, dtype=np.float64)
        if b.ndim == 0:
            b = np.full(reps, float(b))
        if b.ndim != 1:
            raise ValueError(f"baseline must be a float or a (reps,) array, got shape {b.shape}")
        if b.shape[0] not in (1, reps):
            raise ValueError(f"baseline has {b.shape[0]} repetitions, responses have {reps}")
        return np.broadcast_to(b, (reps,)).copy()

    def _read(self, responses, baseline, n: int) -> tuple[np.ndarray, np.ndarray]:
        r = as_reps(responses, n)
        return r, self._read_baseline(baseline, r.shape[0])




def standard_error(r: np.ndarray) -> np.ndarray:
    """Standard error of the mean over axis 0 (zeros for a single repetition)."""
    if r.shape[0] < 2:
        return np.zeros(r.shape[1:])
    return r.std(axis=0, ddof=1) / np.sqrt(r.shape[0])


def check_common(size, reps, n_boot, ci, batch_size) -> None:
    """Validate the parameters every analysis takes."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
        raise ValueError(f"size must be an integer number of pixels >= 2, got {size!r}")
    if reps is not None and (isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1):
        raise ValueError(f"reps must be a positive integer or None, got {reps!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be a confidence level in (0, 1), got {ci!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
