"""Tuning-curve models and their least-squares fits (scipy), plus circular statistics.

Every fit returns a small dataclass with the fitted parameters, derived summaries and a
``success`` flag; a fit that fails to converge returns NaN parameters with
``success=False`` and the optimiser's message, never a made-up curve.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

_LN2 = math.log(2.0)


def _finite_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def _curve_fit(f, x, y, p0s, bounds):
    """Best of several starts; (params, message) with params None when every start failed."""
    best, best_sse, msg = None, np.inf, ""
    for p0 in p0s:
        p0 = np.clip(p0, bounds[0], bounds[1])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                p, _ = curve_fit(f, x, y, p0=p0, bounds=bounds, maxfev=5000)
        except (RuntimeError, ValueError) as e:
            msg = str(e)
            continue
        sse = float(np.sum((f(x, *p) - y) ** 2))
        if sse < best_sse:
            best, best_sse = p, sse
    return best, msg


# ----------------------------------------------------------------------------------------
# circular statistics
# ----------------------------------------------------------------------------------------
def circular_summary(angles_deg, weights, period: float = 180.0) -> tuple[float, float]:
    """Preferred angle and circular variance of non-negative weights on a circle.

    With ``z = sum w_k exp(2 pi i a_k / period) / sum w_k`` the preferred angle is
    ``arg(z) * period / (2 pi)`` in [0, period) and the circular variance ``1 - |z|``
    (0: all weight at one angle, 1: none preferred). Orientation uses period 180, hue 360.

    Parameters
    ----------
    angles_deg : (n,) array
    weights : (n,) array, >= 0 (e.g. responses above baseline, rectified)

    Returns
    -------
    preferred, circular_variance : float (NaN when all weights are zero)
    """
    a = np.deg2rad(np.asarray(angles_deg, dtype=np.float64)) * (360.0 / period)
    w = np.asarray(weights, dtype=np.float64)
    if np.any(w < 0):
        raise ValueError("circular_summary needs non-negative weights; rectify responses first")
    total = w.sum()
    if not total > 0:
        return float("nan"), float("nan")
    z = np.sum(w * np.exp(1j * a)) / total
    pref = (np.rad2deg(np.angle(z)) * period / 360.0) % period
    return float(pref), float(1.0 - np.abs(z))


def circular_distance(a, b, period: float = 180.0):
    """Smallest absolute difference between angles on a circle of the given period."""
    d = (np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) % period
    return np.minimum(d, period - d)


# ----------------------------------------------------------------------------------------
# orientation: von Mises on the doubled angle
# ----------------------------------------------------------------------------------------
def von_mises(theta_deg, mu, kappa, amplitude, baseline, period: float = 180.0):
    """``baseline + amplitude * exp(kappa * (cos(2 pi (theta - mu) / period) - 1))``."""
    t = np.deg2rad(np.asarray(theta_deg, dtype=np.float64) - mu) * (360.0 / period)
    return baseline + amplitude * np.exp(kappa * (np.cos(t) - 1.0))


@dataclass
class VonMisesFit:
    """Fitted orientation (or any circular) tuning curve.

    Attributes
    ----------
    mu : float
        Preferred angle in [0, period).
    kappa, amplitude, baseline : float
    hwhh : float
        Half-width at half-height above baseline, degrees (``period / 2`` when the curve is too
        flat to fall to half height).
    period : float
    success : bool
    message : str
    """

    mu: float
    kappa: float
    amplitude: float
    baseline: float
    hwhh: float
    period: float
    success: bool
    message: str = ""

    def __call__(self, theta_deg):
        return von_mises(theta_deg, self.mu, self.kappa, self.amplitude, self.baseline, self.period)

    def to_dict(self) -> dict:
        return asdict(self)


def von_mises_hwhh(kappa: float, period: float = 180.0) -> float:
    """Half-width at half-height (degrees) of a von Mises bump of concentration ``kappa``."""
    c = 1.0 - _LN2 / kappa
    if c <= -1.0:
        return period / 2.0
    return float(np.rad2deg(np.arccos(c)) * period / 360.0)


def fit_von_mises(theta_deg, responses, period: float = 180.0, start: VonMisesFit | None = None) -> VonMisesFit:
    """Least-squares von Mises fit to a circular tuning curve.

    Parameters
    ----------
    theta_deg : (n,) array of angles (n >= 4)
    responses : (n,) array
    period : float
        180 for orientation, 360 for direction or hue.
    start : VonMisesFit or None
        A previous fit to start from (one start instead of several; used for bootstrap
        replicates of the same curve).
    """
    x, y = _finite_xy(theta_deg, responses)
    nan = VonMisesFit(*(float("nan"),) * 5, period=period, success=False)
    if x.size < 4:
        nan.message = f"need at least 4 finite points, got {x.size}"
        return nan
    span = float(y.max() - y.min())
    if span == 0:
        nan.message = "flat curve: no preferred angle"
        return nan

    def f(t, mu, kappa, amp, base):
        return von_mises(t, mu, kappa, amp, base, period)

    starts = []
    if start is not None and start.success:
        starts.append(np.array([start.mu, start.kappa, start.amplitude, start.baseline]))
    else:
        for i in np.argsort(y)[::-1][:2]:
            for k in (1.0, 4.0, 16.0):
                starts.append(np.array([x[i], k, span, y.min()]))
    lo = [-np.inf, 1e-3, 0.0, y.min() - 2 * span - 1e-12]
    hi = [np.inf, 1e3, 4 * span + 1e-12, y.max() + 1e-12]
    p, msg = _curve_fit(f, x, y, starts, (lo, hi))
    if p is None:
        nan.message = msg or "fit did not converge"
        return nan
    mu, kappa, amp, base = p
    return VonMisesFit(float(mu % period), float(kappa), float(amp), float(base), von_mises_hwhh(kappa, period),
                       period, True)


# ----------------------------------------------------------------------------------------
# spatial frequency: Gaussian on log2 frequency
# ----------------------------------------------------------------------------------------
_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * _LN2)


def log_gaussian(f, peak, sigma_octaves, amplitude, baseline):
    """``baseline + amplitude * exp(-(log2 f - log2 peak)^2 / (2 sigma^2))``."""
    d = np.log2(np.asarray(f, dtype=np.float64)) - np.log2(peak)
    return baseline + amplitude * np.exp(-d ** 2 / (2 * sigma_octaves ** 2))


@dataclass
class LogGaussianFit:
    """Fitted spatial-frequency tuning curve.

    Attributes
    ----------
    peak : float
        Preferred frequency (same units as the input, e.g. cycles per image).
    sigma_octaves, amplitude, baseline : float
    bandwidth_octaves : float
        Full width at half height above baseline, in octaves (``2 sqrt(2 ln 2) sigma``).
    success : bool
    message : str
    """

    peak: float
    sigma_octaves: float
    amplitude: float
    baseline: float
    bandwidth_octaves: float
    success: bool
    message: str = ""

    def __call__(self, f):
        return log_gaussian(f, self.peak, self.sigma_octaves, self.amplitude, self.baseline)

    def to_dict(self) -> dict:
        return asdict(self)


def fit_log_gaussian(frequencies, responses, start: LogGaussianFit | None = None) -> LogGaussianFit:
    """Least-squares log-Gaussian fit to a spatial-frequency tuning curve (needs >= 4 points).

    The peak is constrained to the sampled range: data cannot place it outside. ``start``: a
    previous fit to start from (see :func:`fit_von_mises`).
    """
    x, y = _finite_xy(frequencies, responses)
    nan = LogGaussianFit(*(float("nan"),) * 5, success=False)
    if x.size < 4:
        nan.message = f"need at least 4 finite points, got {x.size}"
        return nan
    if np.any(x <= 0):
        raise ValueError(f"frequencies must be positive, got {x[x <= 0].tolist()}")
    span = float(y.max() - y.min())
    if span == 0:
        nan.message = "flat curve: no preferred frequency"
        return nan
    i = int(np.argmax(y))
    starts = [np.array([x[i], s, span, y.min()]) for s in (0.5, 1.0, 2.0)]
    if start is not None and start.success:
        starts = [np.array([start.peak, start.sigma_octaves, start.amplitude, start.baseline])]
    lo = [x.min(), 0.05, 0.0, y.min() - 2 * span - 1e-12]
    hi = [x.max(), 10.0, 4 * span + 1e-12, y.max() + 1e-12]
    p, msg = _curve_fit(log_gaussian, x, y, starts, (lo, hi))
    if p is None:
        nan.message = msg or "fit did not converge"
        return nan
    peak, sig, amp, base = p
    return LogGaussianFit(float(peak), float(sig), float(amp), float(base), float(_FWHM_PER_SIGMA * sig), True)


# ----------------------------------------------------------------------------------------
# contrast: Naka-Rushton
# ----------------------------------------------------------------------------------------
def naka_rushton(c, rmax, c50, n, baseline):
    """``baseline + rmax * c^n / (c^n + c50^n)``."""
    c = np.clip(np.asarray(c, dtype=np.float64), 0.0, None)
    cn = c ** n
    return baseline + rmax * cn / (cn + c50 ** n)


@dataclass
class NakaRushtonFit:
    """Fitted contrast-response function.

    Attributes
    ----------
    rmax : float
        Response above baseline at saturation.
    c50 : float
        Contrast of half-maximal response.
    n : float
        Exponent (steepness).
    baseline : float
    success : bool
    message : str
    """

    rmax: float
    c50: float
    n: float
    baseline: float
    success: bool
    message: str = ""

    def __call__(self, c):
        return naka_rushton(c, self.rmax, self.c50, self.n, self.baseline)

    def to_dict(self) -> dict:
        return asdict(self)


def fit_naka_rushton(contrasts, responses, baseline: float | None = None,
                     start: NakaRushtonFit | None = None) -> NakaRushtonFit:
    """Least-squares Naka-Rushton fit (needs >= 4 points; 5 with a free baseline).

    Parameters
    ----------
    contrasts : (n,) array in [0, 1]
    responses : (n,) array
    baseline : float or None
        Fix the baseline (e.g. the measured grey-field response); ``None`` fits it.
    start : NakaRushtonFit or None
        A previous fit to start from (see :func:`fit_von_mises`).
    """
    x, y = _finite_xy(contrasts, responses)
    nan = NakaRushtonFit(*(float("nan"),) * 4, success=False)
    need = 4 if baseline is not None else 5
    if x.size < need:
        nan.message = f"need at least {need} finite points, got {x.size}"
        return nan
    if np.any(x < 0):
        raise ValueError(f"contrasts must be >= 0, got {x[x < 0].tolist()}")
    span = float(y.max() - y.min())
    if span == 0:
        nan.message = "flat curve: no contrast response"
        return nan
    b0 = float(y[np.argmin(x)]) if baseline is None else float(baseline)
    rmax0 = max(float(y.max() - b0), span)
    pos = x[x > 0]
    starts = [np.array([rmax0, c50, n, b0]) for c50 in (np.median(pos), pos.min() * 2, 0.3) for n in (1.5, 3.0)]
    if start is not None and start.success:
        starts = [np.array([start.rmax, start.c50, start.n, b0 if baseline is not None else start.baseline])]
    lo = [0.0, 1e-4, 0.2, y.min() - span - 1e-12]
    hi = [20 * span + 1e-12, 10.0, 10.0, y.max() + 1e-12]
    if baseline is not None:
        def f(c, rmax, c50, n):
            return naka_rushton(c, rmax, c50, n, baseline)
        p, msg = _curve_fit(f, x, y, [s[:3] for s in starts], (lo[:3], hi[:3]))
        p = None if p is None else np.append(p, baseline)
    else:
        p, msg = _curve_fit(naka_rushton, x, y, starts, (lo, hi))
    if p is None:
        nan.message = msg or "fit did not converge"
        return nan
    return NakaRushtonFit(*(float(v) for v in p), success=True)


# ----------------------------------------------------------------------------------------
# size tuning
# ----------------------------------------------------------------------------------------
def suppression_index(curve, baseline: float) -> float:
    """Surround suppression of a size-tuning curve.

    ``SI = (R_peak - R_largest) / (R_peak - baseline)``, with ``R_largest`` the response to
    the largest stimulus: 0 for no suppression, 1 when the largest stimulus brings the unit
    back to baseline, above 1 when it drives it below. NaN when no stimulus drives the unit
    above baseline.

    Parameters
    ----------
    curve : (n,) responses ordered by increasing stimulus size
    baseline : float
    """
    r = np.asarray(curve, dtype=np.float64)
    peak = float(np.nanmax(r))
    if not peak > baseline:
        return float("nan")
    return float((peak - r[-1]) / (peak - baseline))
