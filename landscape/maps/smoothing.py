"""Smooth a sphere map as the in vivo analysis does: a spherical spline on a 1-degree grid.

scipy's :class:`~scipy.interpolate.RectSphereBivariateSpline` works in colatitude
``u in (0, pi)`` (open: the poles are passed separately as ``pole_values``) and longitude
``v`` with ``v[0] in [-pi, pi)`` and ``v[-1] <= v[0] + 2 pi``. A map's rows are latitudes
``phi`` from low to high, so ``u = pi/2 - phi`` runs the other way: the interior rows are
reversed before fitting, and the pole rows (``phi = +90`` is ``u = 0``, ``phi = -90`` is
``u = pi``) become the pole values. Longitudes ``theta`` map to ``v = theta`` in radians,
shifted by whole turns so the first lies in [-180, 180).

The smoothing factor ``s`` bounds the spline's sum of squared residuals. With repeated
measurements the expected residual of a spline that follows the true tuning function is the
sum of the squared standard errors of the fitted (interior) points, which is the default;
a noise-free map (no standard errors) is interpolated (``s = 0``).

``clip_at_zero=True`` then sets negative spline values to 0, as the reference analysis does
(``Animadversio/Tuning-Manifold-Level-Sets``, ``invivo_analysis/Manif_interp_lib.py``:
``np.maximum(data_interp, 0.0)``; firing rates are not negative, and a spline undershoots near
steep flanks). Off by default: CNN activations may be negative, and clipping makes flat
regions whose level sets are plateaus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from landscape.maps.grids import pole_rows


@dataclass
class SmoothedSphere:
    """A sphere map evaluated on a regular fine grid.

    Attributes
    ----------
    values : (n', m') array
        Smoothed responses; rows are latitudes ``phi_deg``, columns longitudes ``theta_deg``.
    theta_deg : (m',) array
    phi_deg : (n',) array
    s : float
        Smoothing factor used.
    spline : scipy.interpolate.RectSphereBivariateSpline
        The fitted spline (evaluate at other points with :meth:`__call__`).
    theta_shift : float
        Whole turns (degrees) added to the longitudes before fitting.
    clip_at_zero : bool
        Whether ``values`` (and :meth:`__call__`) were clipped at 0 (the reference's rule).
    """

    values: np.ndarray
    theta_deg: np.ndarray
    phi_deg: np.ndarray
    s: float
    spline: Any
    theta_shift: float
    clip_at_zero: bool = False

    def __call__(self, theta_deg: Any, phi_deg: Any) -> np.ndarray:
        """Spline values at matching arrays of angles (degrees), same shape as the inputs."""
        t, p = np.broadcast_arrays(np.asarray(theta_deg, float), np.asarray(phi_deg, float))
        u = np.clip(np.deg2rad(90.0 - p), 0.0, np.pi)
        v = np.deg2rad(t + self.theta_shift)
        out = self.spline.ev(u.ravel(), v.ravel()).reshape(t.shape)
        return np.maximum(out, 0.0) if self.clip_at_zero else out


def smooth_sphere(tuning_map: Any, *, step_deg: float = 1.0, s: float | None = None,
                  clip_at_zero: bool = False) -> SmoothedSphere:
    """Fit a spherical spline to a sphere map and evaluate it every ``step_deg`` degrees.

    Parameters
    ----------
    tuning_map : TuningMap of kind "sphere"
        At least 3 interior latitudes and 3 longitudes, no NaN.
    step_deg : float
        Output grid step; 1 degree gives 181 x 181 for the experiments' -90..90 grids.
    s : float or None
        Smoothing factor; ``None`` uses the sum of squared standard errors of the interior
        points, or 0 (interpolation) when the map has no standard errors.
    clip_at_zero : bool
        Set negative values to 0, as the reference analysis does (module docstring).

    Returns
    -------
    SmoothedSphere
    """
    from scipy.interpolate import RectSphereBivariateSpline

    if getattr(tuning_map, "kind", None) != "sphere":
        raise ValueError(f"smooth_sphere needs a sphere map, got kind {getattr(tuning_map, 'kind', None)!r}")
    if not step_deg > 0:
        raise ValueError(f"step_deg must be positive, got {step_deg}")
    values = tuning_map.values
    if not np.all(np.isfinite(values)):
        raise ValueError("the map has NaN (unmeasured) values; a spline needs every grid point")
    theta = tuning_map.coords["theta_deg"]
    phi = tuning_map.coords["phi_deg"]
    poles = pole_rows(phi)
    interior = np.setdiff1d(np.arange(phi.size), poles)
    if interior.size < 3 or theta.size < 3:
        raise ValueError(f"a spherical spline needs at least 3 interior latitudes and 3 longitudes, got "
                         f"{interior.size} and {theta.size}")
    shift = -360.0 * np.floor((theta[0] + 180.0) / 360.0)
    u = np.deg2rad(90.0 - phi[interior])[::-1]
    v = np.deg2rad(theta + shift)
    data = values[interior][::-1]
    if s is None:
        sem = getattr(tuning_map, "sem", None)
        s = float(np.sum(sem[interior] ** 2)) if sem is not None else 0.0
    if s < 0:
        raise ValueError(f"smoothing factor s must be >= 0, got {s}")
    north = values[poles[phi[poles] > 0][0]].mean() if np.any(phi[poles] > 0) else None
    south = values[poles[phi[poles] < 0][0]].mean() if np.any(phi[poles] < 0) else None
    spline = RectSphereBivariateSpline(u, v, data, s=s, pole_values=(north, south), pole_exact=False)
    theta_out = np.arange(theta[0], theta[-1] + 1e-9, step_deg)
    phi_out = np.arange(phi[0], phi[-1] + 1e-9, step_deg)
    out = SmoothedSphere(values=np.empty((phi_out.size, theta_out.size)), theta_deg=theta_out,
                         phi_deg=phi_out, s=float(s), spline=spline, theta_shift=shift,
                         clip_at_zero=bool(clip_at_zero))
    tt, pp = np.meshgrid(theta_out, phi_out)
    out.values = out(tt, pp)
    return out
