"""Grid geometry: angles or offsets in, latent codes out.

Sphere (the in vivo "manifold" experiments of Wang & Ponce 2022)::

    code(theta, phi) = origin + r * (cos(theta) cos(phi) e1 + sin(theta) cos(phi) e2 + sin(phi) e3)

``theta`` is the longitude (columns), ``phi`` the latitude (rows, ordered from the lowest to
the highest, normally -90 to 90 degrees). ``theta = phi = 0`` is ``origin + r e1``. The in
vivo protocol is 11 x 11 at 18 degrees, the in silico one 21 x 21 at 9 degrees. The rows at
``phi = +-90`` are single points (every theta gives ``+-r e3``): :func:`pole_rows` finds them so
they are measured once.

Plane::

    code(a, b) = center + a u + b v

``a`` along the columns, ``b`` along the rows, in latent units.

A grid spec string, as the command line takes it (:func:`parse_grid`):
``sphere:N`` (N x N from -90 to 90 degrees), ``sphere:N:LO:HI`` (both angles from LO to HI,
within [-90, 90]),
``sphere:NPHI:NTHETA:LO:HI``, ``plane:N:LO:HI`` (N x N offsets from LO to HI).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GRID_KINDS = ("sphere", "plane")
#: the most points a parsed grid request may have (each is an image measured, some several times)
MAX_GRID_POINTS = 250_000


def _linspace(n: int, lo: float, hi: float, what: str) -> np.ndarray:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} needs a positive number of points, got {n!r}: the grid would be empty")
    if n > 1 and not hi > lo:
        raise ValueError(f"{what} range must increase, got {lo} to {hi}")
    return np.linspace(lo, hi, int(n)) if n > 1 else np.array([float(lo)])


def sphere_angles(n_phi: int = 21, n_theta: int | None = None, *,
                  theta_range: tuple[float, float] = (-90.0, 90.0),
                  phi_range: tuple[float, float] = (-90.0, 90.0)) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced sphere angles in degrees.

    Parameters
    ----------
    n_phi : int
        Number of latitudes (rows).
    n_theta : int or None
        Number of longitudes (columns); defaults to ``n_phi``.
    theta_range, phi_range : (float, float)
        Inclusive ranges in degrees; latitude within [-90, 90], longitude spanning at most 360.

    Returns
    -------
    theta_deg : (m,) array
    phi_deg : (n,) array
    """
    n_theta = n_phi if n_theta is None else n_theta
    theta = _linspace(n_theta, *theta_range, what="theta (longitude)")
    phi = _linspace(n_phi, *phi_range, what="phi (latitude)")
    check_sphere_angles(theta, phi)
    return theta, phi


def check_sphere_angles(theta_deg: np.ndarray, phi_deg: np.ndarray) -> None:
    """Raise a clear error unless the angles make a valid, non-empty sphere grid."""
    theta_deg, phi_deg = np.asarray(theta_deg, float), np.asarray(phi_deg, float)
    if theta_deg.ndim != 1 or phi_deg.ndim != 1 or theta_deg.size == 0 or phi_deg.size == 0:
        raise ValueError(f"a sphere grid needs non-empty 1-D angle arrays, got theta {theta_deg.shape} "
                         f"and phi {phi_deg.shape}")
    if np.any(np.diff(theta_deg) <= 0) or np.any(np.diff(phi_deg) <= 0):
        raise ValueError("sphere angles must be strictly increasing")
    if phi_deg[0] < -90 or phi_deg[-1] > 90:
        raise ValueError(f"latitudes phi must lie in [-90, 90] degrees, got {phi_deg[0]} to {phi_deg[-1]}")
    if theta_deg[-1] - theta_deg[0] > 360:
        raise ValueError(f"longitudes theta may span at most 360 degrees, got {theta_deg[0]} to {theta_deg[-1]}")


def pole_rows(phi_deg: np.ndarray) -> np.ndarray:
    """Indices of the rows at phi = +-90 degrees, where every theta is the same point."""
    return np.flatnonzero(np.isclose(np.abs(np.asarray(phi_deg, float)), 90.0, atol=1e-9))


def sphere_coefficients(theta_deg: np.ndarray, phi_deg: np.ndarray) -> np.ndarray:
    """Unit-sphere coordinates of every grid point in the (e1, e2, e3) frame.

    Returns
    -------
    coef : (n, m, 3) array; ``coef[i, j] = (cos t cos p, sin t cos p, sin p)`` for
        ``t = theta[j]``, ``p = phi[i]``; pole rows are exactly ``(0, 0, +-1)``.
    """
    t = np.deg2rad(np.asarray(theta_deg, float))[None, :]
    p = np.deg2rad(np.asarray(phi_deg, float))[:, None]
    cp = np.cos(p)
    cp[pole_rows(phi_deg)] = 0.0  # cos(pi/2) is 6e-17, not 0: make the poles single points
    sp = np.sin(p)
    sp[pole_rows(phi_deg)] = np.sign(sp[pole_rows(phi_deg)])
    coef = np.stack(np.broadcast_arrays(np.cos(t) * cp, np.sin(t) * cp, sp + 0 * t), axis=-1)
    return coef


def sphere_codes(theta_deg: np.ndarray, phi_deg: np.ndarray, axes: np.ndarray, radius: float,
                 origin: np.ndarray | None = None) -> np.ndarray:
    """Codes of a sphere grid.

    Parameters
    ----------
    theta_deg : (m,) array
    phi_deg : (n,) array
    axes : (3, d) orthonormal array (e1, e2, e3)
    radius : float
    origin : (d,) array or None (zeros)

    Returns
    -------
    codes : (n, m, d) array
    """
    if not radius > 0:
        raise ValueError(f"sphere radius must be positive, got {radius}")
    coef = sphere_coefficients(theta_deg, phi_deg)
    codes = radius * coef @ np.asarray(axes, float)
    if origin is not None:
        codes = codes + np.asarray(origin, float)
    return codes


def plane_codes(a: np.ndarray, b: np.ndarray, axes: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Codes of a plane grid ``center + a u + b v``.

    Parameters
    ----------
    a : (m,) array, offsets along ``axes[0]`` (columns)
    b : (n,) array, offsets along ``axes[1]`` (rows)
    axes : (2, d) array
    center : (d,) array

    Returns
    -------
    codes : (n, m, d) array
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.ndim != 1 or b.ndim != 1 or a.size == 0 or b.size == 0:
        raise ValueError(f"a plane grid needs non-empty 1-D offset arrays, got a {a.shape} and b {b.shape}")
    axes = np.asarray(axes, float)
    return (np.asarray(center, float)[None, None, :] + a[None, :, None] * axes[0][None, None, :]
            + b[:, None, None] * axes[1][None, None, :])


def line_codes(offsets: np.ndarray, axes: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Codes of 1-D tuning curves ``center + t axis_k``.

    Parameters
    ----------
    offsets : (m,) array
    axes : (k, d) array
    center : (d,) array

    Returns
    -------
    codes : (k, m, d) array
    """
    t = np.asarray(offsets, float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"tuning curves need a non-empty 1-D array of offsets, got shape {t.shape}")
    axes = np.asarray(axes, float)
    return np.asarray(center, float)[None, None, :] + t[None, :, None] * axes[:, None, :]


@dataclass(frozen=True)
class GridSpec:
    """A parsed grid request.

    Attributes
    ----------
    kind : {"sphere", "plane"}
    rows, cols : int
        Number of latitudes/``b`` offsets and of longitudes/``a`` offsets.
    lo, hi : float
        Range in degrees (sphere) or latent units (plane).
    """

    kind: str
    rows: int
    cols: int
    lo: float
    hi: float

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """``(theta_deg, phi_deg)`` for a sphere, ``(a, b)`` for a plane."""
        if self.kind == "sphere":
            return sphere_angles(self.rows, self.cols, theta_range=(self.lo, self.hi),
                                 phi_range=(self.lo, self.hi))
        return (_linspace(self.cols, self.lo, self.hi, "a"), _linspace(self.rows, self.lo, self.hi, "b"))


def parse_grid(spec: str) -> GridSpec:
    """Parse ``sphere:21``, ``sphere:11:-90:90``, ``sphere:21:41:-90:90`` or ``plane:21:-3:3``."""
    usage = ("grid must be 'sphere:N', 'sphere:N:LO:HI', 'sphere:NPHI:NTHETA:LO:HI' (degrees) or "
             "'plane:N:LO:HI' (latent units)")
    parts = str(spec).split(":")
    kind = parts[0]
    if kind not in GRID_KINDS:
        raise ValueError(f"unknown grid kind {kind!r} in {spec!r}; valid kinds: {GRID_KINDS}. {usage}")
    try:
        nums = [float(p) for p in parts[1:]]
    except ValueError:
        raise ValueError(f"cannot read numbers in grid {spec!r}. {usage}") from None
    if kind == "sphere" and len(nums) in (1, 3):
        n = nums[0]
        rows = cols = n
        lo, hi = (-90.0, 90.0) if len(nums) == 1 else nums[1:]
    elif kind == "sphere" and len(nums) == 4:
        rows, cols, lo, hi = nums
    elif kind == "plane" and len(nums) == 3:
        rows = cols = nums[0]
        lo, hi = nums[1:]
    else:
        raise ValueError(f"wrong number of fields in grid {spec!r}. {usage}")
    if not all(math.isfinite(v) for v in nums):
        raise ValueError(f"grid {spec!r} holds a number that is not finite. {usage}")
    if rows != int(rows) or cols != int(cols) or rows < 1 or cols < 1:
        raise ValueError(f"grid sizes must be positive integers, got {spec!r}: the grid would be empty")
    if rows * cols > MAX_GRID_POINTS:
        raise ValueError(f"grid {spec!r} has {int(rows) * int(cols)} points; at most {MAX_GRID_POINTS} (e.g. "
                         f"sphere:{math.isqrt(MAX_GRID_POINTS)}), one image each")
    g = GridSpec(kind, int(rows), int(cols), float(lo), float(hi))
    g.coordinates()  # validate ranges now, with the message naming the bad value
    return g
