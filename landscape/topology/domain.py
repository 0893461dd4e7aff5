"""The surface a tuning map lives on, and the map's values prepared for topology.

Every analysis in :mod:`landscape.topology` takes a :class:`Field`: finite values on a
:class:`Domain`. :func:`as_field` builds one from a 2-D array, a ``TuningMap`` or a smoothed
sphere map.

Domains
-------
``plane``
    The grid is a rectangle (a disk): its four sides are the map's border.
``sphere``
    Rows are latitudes ``phi_deg`` (increasing), columns longitudes ``theta_deg``.

    * **Poles.** A row at ``phi = +-90`` degrees is a single point (every longitude gives the
      same image). Its values are replaced by their mean (the differences are measurement
      noise), so the whole row acts as one vertex next to every pixel of the adjacent row,
      and it is not part of the border.
    * **Longitude seam.** With evenly spaced longitudes of step ``d``, the first and last
      columns are neighbours when the columns cover the full circle:
      ``theta[-1] - theta[0] + d == 360`` (within 1e-6 degrees), e.g. -180, -170, ..., 170.
      If the last column repeats the first meridian (``theta[-1] - theta[0] == 360``, e.g.
      -180 ... 180), it is averaged into the first column and dropped, then the edges are
      joined. Otherwise (the experiments' hemisphere, theta from -90 to 90) the two outer
      meridians are the map's border and nothing is joined. Unevenly spaced longitudes are
      joined only if they satisfy the same rule with ``d`` the mean step.

    A plain array given with ``domain="sphere"`` and no angles gets the experiments' grid:
    ``phi`` and ``theta`` evenly from -90 to 90 degrees (a hemisphere, poles at the first and
    last rows, no seam).

The surface is then a disk (plane, hemisphere, or a polar cap), a sphere (seam and both
poles) or an annulus (seam, no pole at one end or both).

Missing values
--------------
NaN marks a value that was not measured. ``nan_policy="raise"`` (the default) rejects such
maps with an error naming the missing pixels. ``nan_policy="harmonic"`` fills each missing
pixel with the discrete harmonic interpolation of the measured ones (it solves Laplace's
equation on the map's 4-neighbour graph, seam included, with the measured values fixed). A
harmonic fill has no maximum or minimum inside a missing region, so it adds no peak, pit or
loop of its own: every topological feature comes from measured values. ``Field.filled`` marks
the filled pixels. Infinite values are always rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field, replace
from typing import Any

import numpy as np

DOMAINS = ("plane", "sphere")
NAN_POLICIES = ("raise", "harmonic")
_ANGLE_TOL = 1e-6


@dataclass(frozen=True)
class Domain:
    """Grid connectivity of a map: rectangle, optionally with a longitude seam and pole points.

    Parameters
    ----------
    shape : (n, m)
        Rows and columns after any duplicated seam column was dropped.
    kind : {"plane", "sphere"}
    wrap : bool
        Columns ``m - 1`` and ``0`` are neighbours (longitude seam joined).
    poles : (bool, bool)
        Row 0 / row ``n - 1`` is a single point.
    coords : dict
        Coordinates of rows and columns (``phi_deg``/``theta_deg`` or ``b``/``a``), for pictures.
    """

    shape: tuple[int, int]
    kind: str = "plane"
    wrap: bool = False
    poles: tuple[bool, bool] = (False, False)
    coords: dict = dc_field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n, m = self.shape
        if self.kind not in DOMAINS:
            raise ValueError(f"domain must be one of {DOMAINS}, got {self.kind!r}")
        if n < 2 or m < 2:
            raise ValueError(f"a tuning map needs at least 2 x 2 values for topology, got shape {self.shape}")
        if self.wrap and m < 3:
            raise ValueError(f"joining the longitude seam needs at least 3 columns, got {m}")
        if any(self.poles) and n < 3:
            raise ValueError(f"pole rows need at least 3 rows (a pole and a row beside it), got {n}")

    @property
    def topology(self) -> str:
        """``"disk"``, ``"annulus"`` or ``"sphere"``."""
        if not self.wrap:
            return "disk"
        npoles = int(self.poles[0]) + int(self.poles[1])
        return {0: "annulus", 1: "disk", 2: "sphere"}[npoles]

    @property
    def euler_characteristic(self) -> int:
        """Euler characteristic of the surface: 1 (disk), 0 (annulus), 2 (sphere)."""
        return {"disk": 1, "annulus": 0, "sphere": 2}[self.topology]

    def pole_rows(self) -> list[int]:
        n = self.shape[0]
        return [r for r, p in zip((0, n - 1), self.poles) if p]

    def border_cycles(self) -> list[np.ndarray]:
        """The border as closed walks of pixels, each pole row standing for one point.

        Returns
        -------
        list of (k,) int arrays of flat pixel indices (a pole row is its column-0 pixel); a
        level-set curve ends on the border between each two consecutive pixels on either
        side of the level. A sphere has no border (empty list); an annulus has two cycles.
        """
        n, m = self.shape
        if self.wrap:
            return [np.arange(m) + r * m for r, p in zip((0, n - 1), self.poles) if not p]
        rows = np.concatenate([np.zeros(m - 1, int), np.arange(n - 1), np.full(m - 1, n - 1),
                               np.arange(n - 1, 0, -1)])
        cols = np.concatenate([np.arange(m - 1), np.full(n - 1, m - 1), np.arange(m - 1, 0, -1),
                               np.zeros(n - 1, int)])
        for r in self.pole_rows():
            cols = np.where(rows == r, 0, cols)
        flat = rows * m + cols
        keep = flat != np.roll(flat, 1)
        return [flat[keep]]

    def neighbour_pairs(self, diagonal: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Pairs of adjacent pixels (4-neighbours; with ``diagonal``, 8-neighbours), seam included.

        Returns
        -------
        (k,) int arrays ``a``, ``b`` of flat indices with ``a[i]`` adjacent to ``b[i]``
        """
        n, m = self.shape
        idx = np.arange(n * m).reshape(n, m)
        right = np.roll(idx, -1, axis=1) if self.wrap else idx[:, 1:]
        left = idx if self.wrap else idx[:, :-1]
        pairs = [(left.ravel(), right.ravel()), (idx[:-1].ravel(), idx[1:].ravel())]
        if diagonal:
            rr = np.roll(idx, -1, axis=1) if self.wrap else idx[:, 1:]
            ll = idx if self.wrap else idx[:, :-1]
            pairs += [(ll[:-1].ravel(), rr[1:].ravel()), (rr[:-1].ravel(), ll[1:].ravel())]
        return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": [int(v) for v in self.shape], "wrap": bool(self.wrap),
                "poles": [bool(p) for p in self.poles],
                "topology": self.topology, "euler_characteristic": self.euler_characteristic}


@dataclass(frozen=True)
class Field:
    """Finite values on a :class:`Domain`, ready for topology.

    Attributes
    ----------
    values : (n, m) float64 array
        Finite; pole rows constant.
    domain : Domain
    trials : (r, n, m) array or None
        Every repetition, on the same grid as ``values`` (raw: NaN allowed, poles not merged).
    sem : (n, m) array or None
        Standard error of each mean, if known.
    filled : (n, m) bool array
        Pixels whose value was missing and filled by ``nan_policy="harmonic"``.
    nan_policy : str
    """

    values: np.ndarray
    domain: Domain
    trials: np.ndarray | None = None
    sem: np.ndarray | None = None
    filled: np.ndarray | None = None
    nan_policy: str = "raise"

    @property
    def shape(self) -> tuple[int, int]:
        return self.domain.shape

    @property
    def range(self) -> tuple[float, float]:
        return float(self.values.min()), float(self.values.max())

    def with_values(self, values: np.ndarray) -> "Field":
        """A field on the same domain with other raw values (same pole and NaN rules)."""
        vals, filled = prepare_values(values, self.domain, self.nan_policy)
        return Field(vals, self.domain, None, None, filled, self.nan_policy)

    def normalized(self) -> "Field":
        """The field rescaled to [0, 1] (a constant field becomes all zeros)."""
        lo, hi = self.range
        scale = hi - lo if hi > lo else 1.0
        return Field((self.values - lo) / scale, self.domain, None, None, self.filled, self.nan_policy)


def smooth_field(field: Field, sigma: float) -> Field:
    """Gaussian smoothing in pixel units, the seam joined and pole rows re-averaged.

    Parameters
    ----------
    field : Field
    sigma : float
        Width in pixels (0 returns ``field`` unchanged). Rows (and unjoined columns) are
        extended by their edge values.

    Returns
    -------
    Field on the same domain (without trials)
    """
    from scipy.ndimage import gaussian_filter

    if not sigma >= 0:
        raise ValueError(f"sigma is a width in pixels and must be >= 0, got {sigma!r}")
    if sigma == 0:
        return field
    mode = ("nearest", "wrap" if field.domain.wrap else "nearest")
    return replace(field.with_values(gaussian_filter(field.values, float(sigma), mode=mode)), filled=field.filled)


def _sphere_domain(shape: tuple[int, int], theta_deg: Any, phi_deg: Any) -> tuple[Domain, bool]:
    """Domain of a sphere grid and whether the last column duplicates the first meridian."""
    n, m = shape
    theta = np.linspace(-90.0, 90.0, m) if theta_deg is None else np.asarray(theta_deg, float).ravel()
    phi = np.linspace(-90.0, 90.0, n) if phi_deg is None else np.asarray(phi_deg, float).ravel()
    if theta.shape != (m,) or phi.shape != (n,):
        raise ValueError(f"sphere angles must have shapes theta_deg ({m},) and phi_deg ({n},) to match the "
                         f"values {shape}, got {theta.shape} and {phi.shape}")
    if np.any(np.diff(phi) <= 0) or np.any(np.diff(theta) <= 0):
        raise ValueError("sphere angles must be strictly increasing (rows: phi from low to high latitude, "
                         "columns: theta from low to high longitude)")
    if phi[0] < -90 - _ANGLE_TOL or phi[-1] > 90 + _ANGLE_TOL:
        raise ValueError(f"latitudes phi_deg must lie in [-90, 90], got {phi[0]} to {phi[-1]}")
    span = theta[-1] - theta[0]
    step = span / (m - 1)
    duplicate = bool(abs(span - 360.0) <= _ANGLE_TOL)
    wrap = bool(duplicate or abs(span + step - 360.0) <= _ANGLE_TOL)
    if span > 360.0 + _ANGLE_TOL:
        raise ValueError(f"longitudes theta_deg may span at most 360 degrees, got {theta[0]} to {theta[-1]}")
    poles = (bool(abs(phi[0] + 90.0) <= _ANGLE_TOL), bool(abs(phi[-1] - 90.0) <= _ANGLE_TOL))
    m_eff = m - 1 if duplicate else m
    coords = {"theta_deg": theta[:m_eff], "phi_deg": phi}
    return Domain((n, m_eff), "sphere", wrap, poles, coords), duplicate


def _harmonic_fill(values: np.ndarray, domain: Domain) -> tuple[np.ndarray, np.ndarray]:
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    missing = np.isnan(values)
    if not missing.any():
        return values, missing
    if missing.all():
        raise ValueError("every value of the map is NaN: there is nothing to analyse")
    flat = values.ravel().copy()
    miss = missing.ravel()
    a, b = domain.neighbour_pairs()
    a, b = np.concatenate([a, b]), np.concatenate([b, a])  # both directions
    unknown = np.flatnonzero(miss)
    pos = np.full(flat.size, -1)
    pos[unknown] = np.arange(unknown.size)
    rows = miss[a]
    a_u, b_u = a[rows], b[rows]
    deg = np.bincount(pos[a_u], minlength=unknown.size).astype(float)
    both = miss[b_u]
    lap = sparse.coo_matrix((np.r_[deg, -np.ones(both.sum())],
                             (np.r_[np.arange(unknown.size), pos[a_u[both]]],
                              np.r_[np.arange(unknown.size), pos[b_u[both]]])),
                            shape=(unknown.size, unknown.size)).tocsc()
    rhs = np.bincount(pos[a_u[~both]], weights=flat[b_u[~both]], minlength=unknown.size)
    flat[unknown] = spsolve(lap, rhs) if unknown.size > 1 else rhs / deg
    return flat.reshape(values.shape), missing


def prepare_values(values: Any, domain: Domain, nan_policy: str = "raise") -> tuple[np.ndarray, np.ndarray]:
    """Apply the pole and missing-value rules (module docstring) to raw values.

    Parameters
    ----------
    values : (n, m) array, or (n, m + 1) when the domain dropped a duplicated seam column
    domain : Domain
    nan_policy : {"raise", "harmonic"}

    Returns
    -------
    values : (n, m) float64 array, finite, pole rows constant
    filled : (n, m) bool array
    """
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    v = np.array(values, dtype=np.float64)
    n, m = domain.shape
    if v.shape == (n, m + 1) and domain.wrap:
        # last column repeats the first meridian: average the two measurements of it
        v = np.concatenate([np.nanmean(v[:, [0, m]], axis=1, keepdims=True) if np.isfinite(v[:, [0, m]]).any()
                            else v[:, :1], v[:, 1:m]], axis=1)
    if v.shape != (n, m):
        raise ValueError(f"values must have shape {(n, m)}, got {v.shape}")
    if np.isinf(v).any():
        i, j = np.argwhere(np.isinf(v))[0]
        raise ValueError(f"the map holds infinite values (first at row {i}, column {j}); "
                         "topology needs finite responses")
    for r in domain.pole_rows():
        row = v[r]
        if np.isfinite(row).any():
            v[r] = np.nanmean(row)
    missing = np.isnan(v)
    if missing.any():
        if nan_policy == "raise":
            where = ", ".join(f"({i}, {j})" for i, j in np.argwhere(missing)[:5])
            more = "" if missing.sum() <= 5 else f" and {missing.sum() - 5} more"
            raise ValueError(f"the map has {missing.sum()} NaN (unmeasured) values at (row, column) {where}{more}; "
                             "pass nan_policy='harmonic' to fill them by harmonic interpolation of the "
                             "measured neighbours, or measure them")
        v, missing = _harmonic_fill(v, domain)
        for r in domain.pole_rows():
            v[r] = v[r].mean()
    return v, missing


def as_field(data: Any, domain: str | None = None, *, theta_deg: Any = None, phi_deg: Any = None,
             nan_policy: str = "raise") -> Field:
    """Turn a map or a 2-D array into a :class:`Field`.

    Parameters
    ----------
    data : (n, m) array, TuningMap, smoothed sphere map or Field
        A ``TuningMap`` (duck-typed: ``values``, ``kind``, ``coords``, optional ``trials`` and
        ``sem``) brings its own domain; an object with ``values``, ``theta_deg`` and
        ``phi_deg`` (a smoothed sphere map) is a sphere.
    domain : {"plane", "sphere"} or None
        Required for arrays (None means "plane"); must agree with a map's own kind.
    theta_deg, phi_deg : (m,), (n,) arrays or None
        Sphere angles for an array (default: -90 to 90 degrees, the experiments' grid).
    nan_policy : {"raise", "harmonic"}
        What to do with NaN values (module docstring).

    Returns
    -------
    Field
    """
    if isinstance(data, Field):
        if domain is not None and domain != data.domain.kind:
            raise ValueError(f"domain={domain!r} contradicts the field's own domain {data.domain.kind!r}")
        return data
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS} or None, got {domain!r}")
    trials = sem = None
    if hasattr(data, "values") and hasattr(data, "kind") and hasattr(data, "coords"):
        kind = data.kind
        if domain is not None and domain != kind:
            raise ValueError(f"domain={domain!r} contradicts the map's kind {kind!r}")
        values = np.asarray(data.values, dtype=np.float64)
        trials = getattr(data, "trials", None)
        sem = getattr(data, "sem", None)
        if kind == "sphere":
            theta_deg, phi_deg = data.coords["theta_deg"], data.coords["phi_deg"]
        elif kind == "plane":
            coords = {k: np.asarray(data.coords[k], float) for k in ("a", "b") if k in data.coords}
        else:
            raise ValueError(f"map kind must be one of {DOMAINS}, got {kind!r}")
    elif hasattr(data, "values") and hasattr(data, "theta_deg") and hasattr(data, "phi_deg"):
        if domain not in (None, "sphere"):
            raise ValueError(f"domain={domain!r} contradicts a sphere map (it has theta_deg and phi_deg)")
        kind, values = "sphere", np.asarray(data.values, dtype=np.float64)
        theta_deg, phi_deg = data.theta_deg, data.phi_deg
    else:
        if hasattr(data, "detach"):
            data = data.detach().cpu().numpy()
        values = np.asarray(data, dtype=np.float64)
        kind = domain or "plane"
        coords = {}
    if values.ndim != 2:
        raise ValueError(f"a tuning map must be a 2-D array (rows, columns), got shape {values.shape}")
    if kind == "sphere":
        dom, duplicate = _sphere_domain(values.shape, theta_deg, phi_deg)
    else:
        if theta_deg is not None or phi_deg is not None:
            raise ValueError("theta_deg/phi_deg are sphere angles; pass domain='sphere' with them")
        dom, duplicate = Domain(values.shape, "plane", coords=coords), False
    vals, filled = prepare_values(values, dom, nan_policy)
    if trials is not None:
        trials = np.asarray(trials, dtype=np.float64)
        if trials.ndim != 3 or trials.shape[1:] != values.shape:
            raise ValueError(f"trials must have shape (r, {values.shape[0]}, {values.shape[1]}), got {trials.shape}")
        if duplicate:
            trials = trials[:, :, :-1]
    if sem is not None:
        sem = np.asarray(sem, dtype=np.float64)[:, :dom.shape[1]]
    return Field(vals, dom, trials, sem, filled, nan_policy)
