"""How much of a map's topological signature survives its measurement noise.

:class:`SignatureReliability` gives each scalar component of the signature (see
:mod:`landscape.topology.signature`) a bootstrap confidence interval under the measurement
noise and compares it with a null distribution from maps that keep the value distribution
but lose the spatial structure.

Resampling (``resample``)
-------------------------
``"trials"``
    Nonparametric bootstrap: at every pixel draw ``r`` of its repetitions with replacement
    and average them (NaN repetitions are skipped; a pixel with none stays NaN and follows
    ``nan_policy``). Needs ``trials (r, n, m)`` with ``r >= 2``.
``"gaussian"``
    Parametric: ``values + sem * N(0, 1)``, independently per pixel. Needs ``sem``.
``"model"``
    The unit's own noise model, applied to the map's noise-free responses: a ``TuningMap``
    of a noisy CNN unit holds ``clean`` and, in ``unit["noise"]``, the model
    (:class:`~landscape.units.PoissonNoise` or :class:`~landscape.units.GaussianNoise`
    parameters); each sample averages as many draws per pixel as the map has repetitions.
    No network is loaded.
callable
    ``sampler(rng) -> (n, m) array``: one noisy realisation of the map per call, e.g. from a
    unit's own noise model; ``rng`` is this object's ``numpy.random.Generator``.
``"auto"``
    ``"trials"`` when the map has two or more repetitions, else ``"model"`` when it records a
    noise model and clean responses, else ``"gaussian"`` when it has a ``sem``; otherwise an
    error says what to pass.

Null (``null``)
---------------
``"shuffle"`` (default)
    A random permutation of the pixels: same values, no spatial structure at all. Asks "is
    this signature more than noise?"
``"phase"``
    Amplitude-adjusted phase randomisation: random Fourier phases with the map's amplitude
    spectrum, then the original values are put back in the rank order of the surrogate. The
    surrogate has exactly the map's values and roughly its smoothness, but no particular
    arrangement of peaks. (On a sphere the grid's FFT is used; pole rows are averaged again.)
    A stricter null: a smooth map often has the signature of a typical smooth random field.

Decision rule
-------------
With ``ci = 0.95``, a component is *reliable* when its bootstrap interval (2.5 to 97.5
percentiles) and the null's central interval at the same level do not overlap. This is
stricter than asking the interval to exclude the null's median.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from landscape.estimator import Estimator, check_is_fitted
from landscape.topology.domain import Field, as_field
from landscape.topology.signature import SUMMARY_KEYS, TopologySignature

NULLS = ("shuffle", "phase")
RESAMPLES = ("auto", "trials", "gaussian", "model")


def phase_randomize(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Amplitude-adjusted phase-randomised surrogate of a 2-D map.

    Parameters
    ----------
    values : (n, m) array
    rng : numpy Generator

    Returns
    -------
    (n, m) array holding exactly the values of ``values`` in a new arrangement
    """
    v = np.asarray(values, float)
    amp = np.abs(np.fft.rfft2(v - v.mean()))
    # phases of white noise's transform are uniform and Hermitian-symmetric, as a real map needs
    phase = np.angle(np.fft.rfft2(rng.standard_normal(v.shape)))
    surrogate = np.fft.irfft2(amp * np.exp(1j * phase), s=v.shape)
    out = np.empty(v.size)
    out[np.argsort(surrogate, axis=None, kind="stable")] = np.sort(v, axis=None)
    return out.reshape(v.shape)


def spatial_shuffle(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The map's values in a random pixel order; shape (n, m)."""
    v = np.asarray(values, float)
    return rng.permutation(v.ravel()).reshape(v.shape)


def bootstrap_trials(trials: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One bootstrap mean map: per pixel, the mean of ``r`` repetitions drawn with replacement.

    Parameters
    ----------
    trials : (r, n, m) array (NaN = missing repetition)

    Returns
    -------
    (n, m) array (NaN where a pixel has no repetition)
    """
    t = np.sort(trials, axis=0)  # NaN last
    count = np.isfinite(t).sum(axis=0)
    r = t.shape[0]
    draw = np.floor(rng.random((r,) + t.shape[1:]) * np.maximum(count, 1)).astype(int)
    picked = np.take_along_axis(t, draw, axis=0)
    with np.errstate(invalid="ignore"):
        out = picked.mean(axis=0)
    out[count == 0] = np.nan
    return out


def noise_model_sampler(tuning_map: Any) -> Callable[[np.random.Generator], np.ndarray]:
    """Noisy realisations of a map from its unit's recorded noise model (no network needed).

    Parameters
    ----------
    tuning_map : TuningMap
        Needs ``clean (n, m)`` and ``unit["noise"]`` (``{"type": "poisson", "scale", "reps"}``
        or ``{"type": "gaussian", "sigma"}``), as maps of noise-wrapped units record them.

    Returns
    -------
    sampler(rng) -> (n, m) array: per pixel the mean of ``r`` noisy observations of the clean
    response, ``r`` = the map's number of repetitions (1 without trials)
    """
    import torch

    from landscape.units.base import Unit
    from landscape.units.noise import GaussianNoise, PoissonNoise

    clean = getattr(tuning_map, "clean", None)
    spec = (getattr(tuning_map, "unit", None) or {}).get("noise")
    if clean is None or not spec:
        raise ValueError("resample='model' needs a map with clean responses and a recorded noise model "
                         "(a TuningMap measured from a PoissonNoise or GaussianNoise unit)")

    class _Recorded(Unit):  # the wrappers only need observe(clean); nothing is ever measured
        def clean(self, images: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("a recorded map's unit cannot measure new images")

    if spec.get("type") == "poisson":
        model: Any = PoissonNoise(_Recorded(), scale=spec["scale"], reps=spec.get("reps", 1), seed=0)
    elif spec.get("type") == "gaussian":
        model = GaussianNoise(_Recorded(), sigma=spec["sigma"], seed=0)
    else:
        raise ValueError(f"unknown noise model {spec!r}; known: poisson, gaussian")
    trials = getattr(tuning_map, "trials", None)
    reps = 1 if trials is None else int(np.shape(trials)[0])
    flat = torch.as_tensor(np.asarray(clean, float).ravel(), dtype=torch.float64)
    shape = np.shape(clean)

    def sampler(rng: np.random.Generator) -> np.ndarray:
        model.rng.manual_seed(int(rng.integers(2 ** 62)))
        draws = torch.stack([model.observe(flat) for _ in range(reps)])
        return draws.mean(0).numpy().reshape(shape)

    return sampler


class SignatureReliability(Estimator):
    """Bootstrap intervals and a null for the signature's scalar components.

    Parameters
    ----------
    n_boot : int
        Bootstrap samples.
    n_null : int
        Null surrogates.
    null : {"shuffle", "phase"}
    resample : {"auto", "trials", "gaussian", "model"} or callable
        How to draw a noisy realisation of the map (module docstring).
    ci : float
        Confidence level of the intervals, in (0, 1).
    seed : int
        Seeds this object's ``numpy.random.Generator`` (bootstrap first, then the null).
    progress : bool
        Show a tqdm progress bar.
    **signature_params
        Passed to :class:`~landscape.topology.signature.TopologySignature` (``levels``,
        ``connectivity``, ``threshold``, ``domain``, ``nan_policy``, ...).

    Attributes
    ----------
    components_ : tuple of str
    estimate_ : dict
        Signature of the measured mean map.
    boot_ : (n_boot, K) array
    interval_ : (K, 2) array
        Bootstrap percentile interval per component.
    null_ : (n_null, K) array
    null_interval_ : (K, 2) array
    reliable_ : dict of bool
    resample_ : str
        The resampling actually used.
    """

    def __init__(self, n_boot: int = 200, n_null: int = 200, null: str = "shuffle",
                 resample: str | Callable[[np.random.Generator], np.ndarray] = "auto", ci: float = 0.95,
                 seed: int = 0, progress: bool = False, **signature_params: Any) -> None:
        self.n_boot = n_boot
        self.n_null = n_null
        self.null = null
        self.resample = resample
        self.ci = ci
        self.seed = seed
        self.progress = progress
        self.signature_params = signature_params

    def _check(self) -> None:
        if self.null not in NULLS:
            raise ValueError(f"null must be one of {NULLS}, got {self.null!r}")
        if not callable(self.resample) and self.resample not in RESAMPLES:
            raise ValueError(f"resample must be one of {RESAMPLES} or a callable sampler(rng), got {self.resample!r}")
        if not 0 < self.ci < 1:
            raise ValueError(f"ci is a confidence level in (0, 1), got {self.ci!r}")
        for name in ("n_boot", "n_null"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {v!r}")

    def _sampler(self, field: Field, data: Any) -> tuple[str, Callable[[np.random.Generator], np.ndarray]]:
        mode = self.resample
        if callable(mode):
            return "callable", mode
        has_trials = field.trials is not None and field.trials.shape[0] >= 2
        has_model = getattr(data, "clean", None) is not None and bool((getattr(data, "unit", None) or {}).get("noise"))
        if mode == "auto":
            if has_trials:
                mode = "trials"
            elif has_model:
                mode = "model"
            elif field.sem is not None:
                mode = "gaussian"
            else:
                raise ValueError("the map has no repetitions (trials), no recorded noise model and no sem, so its "
                                 "noise is unknown: pass a TuningMap measured with reps >= 2 or from a noisy unit, "
                                 "resample='gaussian' with a map that has sem, or resample=callable(rng) -> (n, m) "
                                 "noisy map")
        if mode == "model":
            return mode, noise_model_sampler(data)
        if mode == "trials":
            if not has_trials:
                raise ValueError("resample='trials' needs trials (r, n, m) with r >= 2 repetitions")
            trials = field.trials
            return mode, lambda rng: bootstrap_trials(trials, rng)
        if field.sem is None:
            raise ValueError("resample='gaussian' needs the map's sem (standard errors)")
        base, sem = field.values, np.nan_to_num(field.sem)
        return mode, lambda rng: base + sem * rng.standard_normal(base.shape)

    def fit(self, data: Any) -> "SignatureReliability":
        """Bootstrap and null for ``data`` (TuningMap with trials or sem, Field, or array with a callable sampler)."""
        from tqdm.auto import tqdm

        self._check()
        params = dict(self.signature_params)
        kw = {k: params.pop(k) for k in ("domain", "theta_deg", "phi_deg", "nan_policy") if k in params}
        field = as_field(data, **kw)
        self.resample_, sampler = self._sampler(field, data)
        rng = np.random.default_rng(self.seed)
        sig = TopologySignature(**params)
        self.components_ = SUMMARY_KEYS
        self.estimate_ = sig.fit(field).summary_

        def row(f: Field) -> list[float]:
            s = sig.fit(f).summary_
            return [float(s[k]) for k in SUMMARY_KEYS]

        bar = tqdm(total=self.n_boot + self.n_null, desc="signature reliability", disable=not self.progress)
        boot = []
        for _ in range(self.n_boot):
            boot.append(row(field.with_values(sampler(rng))))
            bar.update()
        null_fn = phase_randomize if self.null == "phase" else spatial_shuffle
        nulls = []
        for _ in range(self.n_null):
            nulls.append(row(field.with_values(null_fn(field.values, rng))))
            bar.update()
        bar.close()
        self.boot_, self.null_ = np.array(boot), np.array(nulls)
        q = [(1 - self.ci) / 2 * 100, (1 + self.ci) / 2 * 100]
        self.interval_ = _nanpercentile(self.boot_, q)
        self.null_interval_ = _nanpercentile(self.null_, q)
        lo, hi = self.interval_.T
        nlo, nhi = self.null_interval_.T
        sep = (hi < nlo) | (lo > nhi)
        self.reliable_ = {k: bool(s) for k, s in zip(SUMMARY_KEYS, sep)}
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-able record: per component the estimate, interval, null interval and verdict."""
        check_is_fitted(self, hint="fit(data)")
        from landscape.io import jsonable

        return {"schema": "landscape.topology.reliability", "version": 1,
                "params": {"n_boot": self.n_boot, "n_null": self.n_null, "null": self.null,
                           "resample": self.resample_, "ci": self.ci, "seed": self.seed},
                "components": {k: {"estimate": jsonable(self.estimate_[k]),
                                   "interval": jsonable(self.interval_[i]),
                                   "null_interval": jsonable(self.null_interval_[i]),
                                   "reliable": self.reliable_[k]}
                               for i, k in enumerate(self.components_)}}

    def format(self) -> str:
        check_is_fitted(self, hint="fit(data)")
        lines = [f"{'component':24s} {'estimate':>9s} {'interval':>21s} {'null interval':>21s}  reliable"]
        for i, k in enumerate(self.components_):
            lo, hi = self.interval_[i]
            nlo, nhi = self.null_interval_[i]
            lines.append(f"{k:24s} {self.estimate_[k]:9.4g} [{lo:8.4g}, {hi:8.4g}] [{nlo:8.4g}, {nhi:8.4g}]  "
                         f"{'yes' if self.reliable_[k] else 'no'}")
        return "\n".join(lines)


def _nanpercentile(x: np.ndarray, q: list[float]) -> np.ndarray:
    out = np.full((x.shape[1], 2), np.nan)
    for k in range(x.shape[1]):
        col = x[:, k][np.isfinite(x[:, k])]
        if col.size:
            out[k] = np.percentile(col, q)
    return out
