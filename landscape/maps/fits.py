"""Parametric fits of a tuning map's peak: isotropic and anisotropic Gaussians, and the Kent function.

Models (``x`` = column coordinate, ``y`` = row coordinate of the map: ``(a, b)`` on a plane,
``(theta, phi)`` in degrees on a sphere)::

    isotropic Gaussian     A exp(-((x - x0)^2 + (y - y0)^2) / (2 sigma^2)) + baseline
    anisotropic Gaussian   A exp(-(p^2 / sigma_major^2 + q^2 / sigma_minor^2) / 2) + baseline,
                           (p, q) = (x - x0, y - y0) rotated by -angle
    Kent (spheres)         A exp(kappa mu1.Z + beta((mu2.Z)^2 - (mu3.Z)^2)) + baseline

For Kent, ``Z = (cos theta cos phi, sin theta cos phi, sin phi)`` is the grid point on the
unit sphere in the map's (e1, e2, e3) frame; ``mu1`` points at ``(theta0, phi0)``; ``mu2``
is the local longitude direction at ``mu1`` rotated by ``psi`` towards the latitude
direction, ``mu3 = mu1 x mu2``. ``kappa >= 0`` is the concentration and
``0 <= beta <= kappa / 2`` the ellipticity (the bound keeps the function unimodal; beta = 0 is
the isotropic von Mises-Fisher bump). The fit works with the peak height ``A exp(kappa)``
(``peak_amplitude``) to stay well conditioned and reports ``A`` as in the formula.

Every fit is a bounded least-squares (:func:`scipy.optimize.least_squares`) from several
starts around the map's maximum; the best by residual is kept. ``r2`` is
``1 - SS_res / SS_tot`` over the points fitted (a sphere's pole rows count once each).

Two Kent conventions (``fit_kent(..., bounds=...)``, ``fit_map(..., bounds=...)``)
-------------------------------------------------------------------------------
``"project"`` (default): the above, with ``0 <= kappa <= 2000`` and ``0 <= beta <= kappa / 2``
(unimodal fits only), several starts, and each pole counted once. ``"reference"``: the fit of
the manifold experiments (Wang & Ponce; repository ``Animadversio/Tuning-Manifold-Charting``,
``analysis/libs/Kent_func/fit_Kent_w_baseline.m`` and ``fit_Kent.m``, called by
``analysis/Figure2_KentFit/Manif_Fit_Population.m``): one start ``(theta, phi, psi, kappa, beta,
A, baseline) = (0, 0, pi/2, 0.1, 0.1, 0.1, 0.01)``, bounds ``theta in [-pi, pi]``, ``phi in
[-pi/2, pi/2]``, ``psi in [0, pi]``, ``kappa`` free (negative too), ``beta >= 0`` with no upper
bound (``beta > kappa / 2`` is a ridge or a ring), ``A >= 0``, ``baseline >= 0``; each pole row
set to its mean and counted once per grid column, as the reference fits the whole 11 x 11 grid
(:func:`map_points` with ``poles="reference"``). MATLAB's trust-region ``fit`` is replaced by
scipy's trust-region-reflective least squares from the same start, as the reference's Python
port does with ``curve_fit`` (whose baseline fit bounds theta to [-pi/2, pi/2]; the MATLAB code
that made the paper's figures allows [-pi, pi], which is used here). The reference convention
is for setting numbers beside the published ones; the project's for a well-posed unimodal
description (its kappa and ellipticity are always interpretable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class FitResult:
    """Outcome of one fit.

    Attributes
    ----------
    model : str
        ``"isotropic_gaussian"``, ``"anisotropic_gaussian"`` or ``"kent"``.
    params : dict
        Fitted parameters by name (angles in degrees).
    r2 : float
        Coefficient of determination on the fitted points.
    rmse : float
    n_points : int
    success : bool
        The optimiser's convergence flag.
    predict : callable
        ``predict(x, y) -> values`` with the fitted parameters (same coordinates as the fit).
    """

    model: str
    params: dict
    r2: float
    rmse: float
    n_points: int
    success: bool
    predict: Callable[..., np.ndarray] = field(repr=False)
    convention: str = "project"

    def as_dict(self) -> dict:
        """JSON-able summary (no callable)."""
        return {"model": self.model, "params": {k: float(v) for k, v in self.params.items()},
                "r2": float(self.r2), "rmse": float(self.rmse), "n_points": int(self.n_points),
                "success": bool(self.success), "convention": self.convention}


def _r2(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    res = float(np.sum((y - pred) ** 2))
    tot = float(np.sum((y - y.mean()) ** 2))
    return (1.0 - res / tot if tot > 0 else float("nan")), float(np.sqrt(res / y.size))


def _best_fit(residual: Callable[[np.ndarray], np.ndarray], starts: list[np.ndarray],
              lower: np.ndarray, upper: np.ndarray) -> Any:
    from scipy.optimize import least_squares

    best = None
    for x0 in starts:
        x0 = np.clip(x0, lower + 1e-9 * (np.isfinite(lower)), upper - 1e-9 * (np.isfinite(upper)))
        sol = least_squares(residual, x0, bounds=(lower, upper), x_scale="jac", max_nfev=2000)
        if best is None or sol.cost < best.cost:
            best = sol
    return best


def _check_points(x: Any, y: Any, values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, v = (np.asarray(a, float).ravel() for a in (x, y, values))
    if not (x.size == y.size == v.size):
        raise ValueError(f"x, y and values must have the same number of points, got {x.size}, {y.size}, {v.size}")
    keep = np.isfinite(v)
    if keep.sum() < 8:
        raise ValueError(f"a fit needs at least 8 finite points, got {int(keep.sum())}")
    return x[keep], y[keep], v[keep]


def _gauss_start(x: np.ndarray, y: np.ndarray, v: np.ndarray) -> tuple[float, float, float, float, float]:
    i = int(np.argmax(v))
    base = float(np.percentile(v, 10))
    amp = max(float(v[i]) - base, 1e-12)
    span = max(np.ptp(x), np.ptp(y), 1e-12)
    return float(x[i]), float(y[i]), amp, base, span


def fit_gaussian(x: Any, y: Any, values: Any, *, anisotropic: bool = False) -> FitResult:
    """Fit a 2-D Gaussian bump plus baseline.

    Parameters
    ----------
    x, y : (N,) arrays of point coordinates
    values : (N,) array of responses (NaN points are skipped)
    anisotropic : bool
        Fit separate widths along a rotated pair of axes.

    Returns
    -------
    FitResult; params ``A, x0, y0, baseline`` and ``sigma`` (isotropic) or
    ``sigma_major, sigma_minor, angle_deg, ratio`` (anisotropic; ``angle_deg`` of the major
    axis from the x axis, in [-90, 90)).
    """
    x, y, v = _check_points(x, y, values)
    x0, y0, amp, base, span = _gauss_start(x, y, v)
    vscale = max(np.ptp(v), 1e-12)

    def model(p: np.ndarray, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
        dx, dy = xx - p[1], yy - p[2]
        if not anisotropic:
            return p[0] * np.exp(-(dx ** 2 + dy ** 2) / (2 * p[3] ** 2)) + p[4]
        c, s = np.cos(p[5]), np.sin(p[5])
        pp, qq = c * dx + s * dy, -s * dx + c * dy
        return p[0] * np.exp(-0.5 * (pp ** 2 / p[3] ** 2 + qq ** 2 / p[4] ** 2)) + p[6]

    tiny = span * 1e-4
    if anisotropic:
        lower = np.array([0, -np.inf, -np.inf, tiny, tiny, -np.inf, -np.inf])
        upper = np.array([np.inf, np.inf, np.inf, 50 * span, 50 * span, np.inf, np.inf])
        starts = [np.array([amp, x0, y0, span * f1, span * f2, ang, base])
                  for f1, f2 in ((0.15, 0.15), (0.3, 0.1), (0.1, 0.3)) for ang in (0.0, np.pi / 4)]
    else:
        lower = np.array([0, -np.inf, -np.inf, tiny, -np.inf])
        upper = np.array([np.inf, np.inf, np.inf, 50 * span, np.inf])
        starts = [np.array([amp, x0, y0, span * f, base]) for f in (0.05, 0.15, 0.4)]
    sol = _best_fit(lambda p: (model(p, x, y) - v) / vscale, starts, lower, upper)
    p = sol.x
    r2, rmse = _r2(v, model(p, x, y))
    if anisotropic:
        s1, s2, ang = p[3], p[4], p[5]
        if s2 > s1:
            s1, s2, ang = s2, s1, ang + np.pi / 2
        ang_deg = (np.rad2deg(ang) + 90.0) % 180.0 - 90.0
        params = {"A": p[0], "x0": p[1], "y0": p[2], "sigma_major": s1, "sigma_minor": s2,
                  "angle_deg": ang_deg, "ratio": s1 / s2, "baseline": p[6]}
        name = "anisotropic_gaussian"
    else:
        params = {"A": p[0], "x0": p[1], "y0": p[2], "sigma": p[3], "baseline": p[4]}
        name = "isotropic_gaussian"
    return FitResult(name, params, r2, rmse, int(v.size), bool(sol.success),
                     lambda xx, yy, _p=p.copy(): model(_p, np.asarray(xx, float), np.asarray(yy, float)))


def sphere_points(theta_deg: Any, phi_deg: Any) -> np.ndarray:
    """Unit vectors ``(cos t cos p, sin t cos p, sin p)`` for matching angle arrays (degrees); shape (..., 3)."""
    t, p = np.deg2rad(np.asarray(theta_deg, float)), np.deg2rad(np.asarray(phi_deg, float))
    return np.stack([np.cos(t) * np.cos(p), np.sin(t) * np.cos(p), np.sin(p)], axis=-1)


def kent_frame(theta0: float, phi0: float, psi: float) -> np.ndarray:
    """Orthonormal Kent frame ``(mu1, mu2, mu3)`` as rows of a (3, 3) array (angles in radians)."""
    mu1 = np.array([np.cos(theta0) * np.cos(phi0), np.sin(theta0) * np.cos(phi0), np.sin(phi0)])
    e_theta = np.array([-np.sin(theta0), np.cos(theta0), 0.0])
    e_phi = np.array([-np.cos(theta0) * np.sin(phi0), -np.sin(theta0) * np.sin(phi0), np.cos(phi0)])
    mu2 = np.cos(psi) * e_theta + np.sin(psi) * e_phi
    mu3 = np.cross(mu1, mu2)
    return np.stack([mu1, mu2, mu3])


def kent_function(theta_deg: Any, phi_deg: Any, *, theta0: float, phi0: float, psi: float, kappa: float,
                  beta: float, A: float, baseline: float = 0.0) -> np.ndarray:
    """``A exp(kappa mu1.Z + beta((mu2.Z)^2 - (mu3.Z)^2)) + baseline``; angles in degrees.

    Parameters
    ----------
    theta_deg, phi_deg : arrays of matching shape
        Where to evaluate.
    theta0, phi0, psi : float
        Frame angles in degrees (see the module docstring).

    Returns
    -------
    values : array of the inputs' shape
    """
    return _kent_normalised(sphere_points(theta_deg, phi_deg), np.deg2rad(theta0), np.deg2rad(phi0),
                            np.deg2rad(psi), kappa, beta, A * np.exp(kappa), baseline)


def _kent_normalised(Z: np.ndarray, theta0: float, phi0: float, psi: float, kappa: float, beta: float,
                     peak: float, baseline: float) -> np.ndarray:
    mu = kent_frame(theta0, phi0, psi)
    proj = Z @ mu.T
    return peak * np.exp(kappa * (proj[..., 0] - 1.0) + beta * (proj[..., 1] ** 2 - proj[..., 2] ** 2)) + baseline


#: upper bound on the Kent concentration (a bump of about 2 degrees)
KENT_KAPPA_MAX = 2000.0


KENT_BOUNDS = ("project", "reference")


def fit_kent(theta_deg: Any, phi_deg: Any, values: Any, *, bounds: str = "project",
             baseline: bool = True) -> FitResult:
    """Fit the Kent function to responses at sphere points.

    Parameters
    ----------
    theta_deg, phi_deg : (N,) arrays of point angles in degrees
    values : (N,) array (NaN skipped)
    bounds : {"project", "reference"}
        The project's bounded multi-start fit, or the reference's exactly (module docstring).
    baseline : bool
        Reference only: fit a baseline (``fit_Kent_w_baseline``) or not (``fit_Kent``). The
        project's fit always has one.

    Returns
    -------
    FitResult with params ``theta0, phi0, psi`` (degrees; psi in [0, 180)), ``kappa, beta, A,
    baseline, peak_amplitude`` (= A exp(kappa), the height of the bump above baseline at mu1) and
    ``ellipticity`` (= 2 beta / kappa: in [0, 1] for the project's fits; above 1, or with a
    negative kappa, a reference fit is a ridge or a ring, not a bump). ``convention`` says which.
    """
    if bounds not in KENT_BOUNDS:
        raise ValueError(f"bounds must be one of {', '.join(KENT_BOUNDS)}, got {bounds!r}")
    if bounds == "reference":
        return _fit_kent_reference(theta_deg, phi_deg, values, baseline)
    t, p, v = _check_points(theta_deg, phi_deg, values)
    Z = sphere_points(t, p)
    vscale = max(np.ptp(v), 1e-12)
    i = int(np.argmax(v))
    base = float(np.percentile(v, 10))
    amp = max(float(v[i]) - base, 1e-12)

    # q = 2 beta / kappa keeps beta within [0, kappa/2] with plain box bounds
    def model(x: np.ndarray, ZZ: np.ndarray) -> np.ndarray:
        return _kent_normalised(ZZ, x[0], x[1], x[2], x[3], x[4] * x[3] / 2, x[5], x[6])

    lower = np.array([-np.inf, -np.pi / 2, -np.inf, 0.0, 0.0, 0.0, -np.inf])
    upper = np.array([np.inf, np.pi / 2, np.inf, KENT_KAPPA_MAX, 1.0, np.inf, np.inf])
    t0, p0 = np.deg2rad(t[i]), np.deg2rad(p[i])
    starts = [np.array([t0, p0, psi, kappa, q, amp, base])
              for kappa in (1.0, 8.0) for q in (0.2, 0.8) for psi in (0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)]
    sol = _best_fit(lambda x: (model(x, Z) - v) / vscale, starts, lower, upper)
    x = sol.x
    r2, rmse = _r2(v, model(x, Z))
    kappa, beta = float(x[3]), float(x[4] * x[3] / 2)
    psi_deg = float(np.rad2deg(x[2]) % 180.0)
    params = {"theta0": float((np.rad2deg(x[0]) + 180.0) % 360.0 - 180.0), "phi0": float(np.rad2deg(x[1])),
              "psi": psi_deg, "kappa": kappa, "beta": beta, "A": float(x[5] * np.exp(-kappa)),
              "baseline": float(x[6]), "peak_amplitude": float(x[5]), "ellipticity": float(x[4])}
    return FitResult("kent", params, r2, rmse, int(v.size), bool(sol.success),
                     lambda tt, pp, _x=x.copy(): model(_x, sphere_points(tt, pp)))


def _fit_kent_reference(theta_deg: Any, phi_deg: Any, values: Any, baseline: bool) -> FitResult:
    from scipy.optimize import least_squares

    t, p, v = _check_points(theta_deg, phi_deg, values)
    Z = sphere_points(t, p)

    def model(x: np.ndarray, ZZ: np.ndarray) -> np.ndarray:
        proj = ZZ @ kent_frame(x[0], x[1], x[2]).T
        with np.errstate(over="ignore"):
            f = x[5] * np.exp(x[3] * proj[..., 0] + x[4] * (proj[..., 1] ** 2 - proj[..., 2] ** 2))
        return f + (x[6] if baseline else 0.0)

    x0 = np.array([0.0, 0.0, np.pi / 2, 0.1, 0.1, 0.1] + ([0.01] if baseline else []))
    lower = np.array([-np.pi, -np.pi / 2, 0.0, -np.inf, 0.0, 0.0] + ([0.0] if baseline else []))
    upper = np.array([np.pi, np.pi / 2, np.pi, np.inf, np.inf, np.inf] + ([np.inf] if baseline else []))
    try:  # the reference also returns NaN parameters when its fit fails
        sol = least_squares(lambda x: model(x, Z) - v, x0, bounds=(lower, upper), method="trf")
        x, ok = sol.x, bool(sol.success)
        if not np.all(np.isfinite(model(x, Z))):
            raise ValueError("the fitted function overflows")
    except ValueError:
        x, ok = np.full(x0.size, np.nan), False
    pred = model(x, Z)
    r2, rmse = _r2(v, pred) if ok else (float("nan"), float("nan"))
    params = {"theta0": float(np.rad2deg(x[0])), "phi0": float(np.rad2deg(x[1])), "psi": float(np.rad2deg(x[2])),
              "kappa": float(x[3]), "beta": float(x[4]), "A": float(x[5]),
              "baseline": float(x[6]) if baseline else 0.0}
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        params["peak_amplitude"] = float(x[5] * np.exp(x[3]))
        params["ellipticity"] = float(2 * x[4] / x[3]) if x[3] != 0 else float("inf")
    return FitResult("kent", params, r2, rmse, int(v.size), ok,
                     lambda tt, pp, _x=x.copy(): model(_x, sphere_points(tt, pp)), convention="reference")


def map_points(tuning_map: Any, poles: str = "once") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates and values of a map's points, flattened.

    Parameters
    ----------
    poles : {"once", "reference"}
        ``"once"``: a sphere's pole rows contribute one point each (the project's fits).
        ``"reference"``: every grid point, each pole row set to its mean (so each pole counts
        once per column), as the reference Kent fit does.

    Returns
    -------
    x, y, values : (N,) arrays; ``(theta_deg, phi_deg)`` or ``(a, b)``
    """
    from landscape.maps.grids import pole_rows

    if poles not in ("once", "reference"):
        raise ValueError(f"poles must be 'once' or 'reference', got {poles!r}")
    if tuning_map.kind == "sphere":
        cx, cy = tuning_map.coords["theta_deg"], tuning_map.coords["phi_deg"]
    else:
        cx, cy = tuning_map.coords["a"], tuning_map.coords["b"]
    xx, yy = np.meshgrid(cx, cy)
    keep = np.ones(tuning_map.shape, bool)
    values = np.array(tuning_map.values, dtype=float)
    if tuning_map.kind == "sphere":
        rows = pole_rows(cy)
        if poles == "once":
            keep[rows, 1:] = False
        else:
            for r in np.atleast_1d(rows):
                values[r] = np.nanmean(values[r])
    return xx[keep], yy[keep], values[keep]


def fit_map(tuning_map: Any, bounds: str = "project") -> dict[str, FitResult]:
    """Isotropic and anisotropic Gaussians (and Kent on spheres) fitted to a map.

    Parameters
    ----------
    bounds : {"project", "reference"}
        The Kent fit's convention (module docstring); the Gaussians are the project's either way.

    Returns
    -------
    dict with keys ``isotropic_gaussian``, ``anisotropic_gaussian`` and, for spheres, ``kent``
    """
    if bounds not in KENT_BOUNDS:
        raise ValueError(f"bounds must be one of {', '.join(KENT_BOUNDS)}, got {bounds!r}")
    x, y, v = map_points(tuning_map)
    out = {"isotropic_gaussian": fit_gaussian(x, y, v), "anisotropic_gaussian": fit_gaussian(x, y, v, anisotropic=True)}
    if tuning_map.kind == "sphere":
        out["kent"] = (fit_kent(*map_points(tuning_map, poles="reference"), bounds="reference")
                       if bounds == "reference" else fit_kent(x, y, v))
    return out
