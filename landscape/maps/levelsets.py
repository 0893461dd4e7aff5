"""Level-set geometry of a peak: is the unit an isotropic radial basis function, locally and globally?

From the peak, along many directions, find the distance ``r_f(u)`` at which the response
falls to ``baseline + f (peak - baseline)``; the level set {response = that value} is the
surface ``peak + r_f(u) u``. For an isotropic radial basis function every ``r_f(u)`` is
the same, so ``ratio(f) = max_u r_f(u) / min_u r_f(u)`` is 1; an anisotropic Gaussian with
widths sigma_1 > sigma_2 gives sigma_1 / sigma_2 at every level along its principal axes.

Two settings share the verdict logic:

- :class:`LatentLevelSets`: rays in the full latent space from a centre code (random
  directions plus any given ones, e.g. Hessian eigenvectors), scored through the generator
  and the unit. Paths are great circles on the sphere of the centre's norm (default, as the
  sphere maps) or straight lines. Distances of each crossing point ``x`` from the centre
  ``c`` are reported in three coordinates: ``euclidean`` ``|x - c|``, ``angular`` (degrees
  between ``x`` and ``c``) and, given a metric ``H`` (the Hessian of the generator's image
  distance from ``geometry.hessian``, or of the response at the peak), ``whitened``
  ``sqrt((x - c)^T |H| (x - c))``.
- :class:`MapLevelSets`: rays in a measured map from its peak: straight lines in ``(a, b)``
  on a plane (``euclidean``, latent units), great circles on a sphere (``angular`` degrees,
  and ``euclidean`` chord length ``2 r sin(alpha / 2)``), read from the spherical spline
  of :func:`~landscape.maps.smoothing.smooth_sphere` or by linear interpolation.

Verdict (documented thresholds)
-------------------------------
A level ``f`` is *local* when ``f >= local_cut`` (default 0.75: the top quarter of the bump)
and *global* otherwise. At one level the peak is called

- ``isotropic`` when ``ratio(f) <= threshold`` (default 1.5: no radius more than 50% longer
  than another) and every ray reached the level;
- ``anisotropic`` when ``ratio(f) > threshold`` (rays that never reached the level within
  the search range count with the range's end, so the ratio is then a lower bound and the
  call stays safe);
- ``undetermined`` when some ray never reached the level and the lower bound is within the
  threshold, or when no ray reached it.

A scale (local or global) is ``isotropic`` when all its levels are, ``anisotropic`` when
any is, and ``undetermined`` otherwise. The seed abstract's hypothesis for higher-order
units is ``local = isotropic, global = anisotropic``.

Random directions in high dimension under-report anisotropy (their quadratic forms
concentrate near the mean curvature); include eigen-directions of a Hessian through
``directions`` to probe the extremes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from landscape.estimator import Estimator, check_is_fitted
from landscape.maps.fits import FitResult, _best_fit, _r2

DEFAULT_LEVELS = (0.9, 0.8, 0.5, 0.3)
#: levels at or above this fraction of the peak are "local"
LOCAL_CUT = 0.75
#: max/min level-set radius ratio up to which a level set counts as isotropic
RATIO_THRESHOLD = 1.5
VERDICTS = ("isotropic", "anisotropic", "undetermined")


@dataclass
class IsotropyVerdict:
    """Local and global isotropy call for one coordinate system.

    Attributes
    ----------
    local, global_ : {"isotropic", "anisotropic", "undetermined"}
    coords : str
        Coordinate system the ratios were measured in.
    threshold : float
    local_cut : float
    per_level : dict
        ``{f: (ratio, censored_any, call)}``.
    """

    local: str
    global_: str
    coords: str
    threshold: float
    local_cut: float
    per_level: dict = field(default_factory=dict)

    @property
    def locally_isotropic_not_globally(self) -> bool:
        """The seed abstract's hypothesis for higher-order units holds for this peak."""
        return self.local == "isotropic" and self.global_ == "anisotropic"

    def summary(self) -> str:
        lines = [f"{self.coords}: local {self.local}, global {self.global_} "
                 f"(ratio threshold {self.threshold:g}, local levels f >= {self.local_cut:g})"]
        for f, (ratio, cens, call) in sorted(self.per_level.items(), reverse=True):
            mark = " (lower bound: some rays never reached the level)" if cens else ""
            lines.append(f"  f = {f:.2f}: max/min radius {ratio:.3g} -> {call}{mark}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"local": self.local, "global": self.global_, "coords": self.coords, "threshold": self.threshold,
                "local_cut": self.local_cut,
                "per_level": {f"{f:g}": {"ratio": float(r), "censored": bool(c), "call": k}
                              for f, (r, c, k) in self.per_level.items()}}


def first_crossing(t: np.ndarray, profiles: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Where each profile first drops below ``level``, by linear interpolation.

    Parameters
    ----------
    t : (s,) increasing path parameters, ``t[0]`` at the peak
    profiles : (n, s) responses along ``n`` paths
    level : float

    Returns
    -------
    t_cross : (n,) path parameter of the first crossing (``t[-1]`` when none)
    censored : (n,) bool, True where the profile never fell below the level
    """
    below = profiles < level
    below[:, 0] = False
    hit = below.any(axis=1)
    k = np.where(hit, below.argmax(axis=1), t.size - 1)
    t_cross = np.full(profiles.shape[0], t[-1], dtype=float)
    rows = np.flatnonzero(hit)
    if rows.size:
        kk = k[rows]
        y0, y1 = profiles[rows, kk - 1], profiles[rows, kk]
        frac = np.clip((y0 - level) / np.where(y0 != y1, y0 - y1, 1.0), 0.0, 1.0)
        t_cross[rows] = t[kk - 1] + frac * (t[kk] - t[kk - 1])
    return t_cross, ~hit


def isotropy_verdict(levels: Sequence[float], radii: np.ndarray, censored: np.ndarray, *, coords: str,
                     threshold: float = RATIO_THRESHOLD, local_cut: float = LOCAL_CUT
                     ) -> tuple[np.ndarray, IsotropyVerdict]:
    """Max/min ratio per level and the local/global call (rules in the module docstring).

    Parameters
    ----------
    levels : (L,) fractions of the peak
    radii : (n, L) distances (censored ones at the search range's end)
    censored : (n, L) bool

    Returns
    -------
    ratio : (L,) array (NaN where no ray reached the level)
    verdict : IsotropyVerdict
    """
    ratio = np.full(len(levels), np.nan)
    per_level = {}
    for i, f in enumerate(levels):
        reached = ~censored[:, i]
        if reached.any():
            lo = radii[reached, i].min()
            ratio[i] = radii[:, i].max() / lo if lo > 0 else np.inf
        cens = bool(censored[:, i].any())
        if not reached.any():
            call = "undetermined"
        elif ratio[i] > threshold:
            call = "anisotropic"
        else:
            call = "undetermined" if cens else "isotropic"
        per_level[float(f)] = (float(ratio[i]), cens, call)

    def scale(calls: list[str]) -> str:
        if not calls:
            return "undetermined"
        if "anisotropic" in calls:
            return "anisotropic"
        return "isotropic" if all(c == "isotropic" for c in calls) else "undetermined"

    local = scale([c for f, (_, _, c) in per_level.items() if f >= local_cut])
    glob = scale([c for f, (_, _, c) in per_level.items() if f < local_cut])
    return ratio, IsotropyVerdict(local, glob, coords, float(threshold), float(local_cut), per_level)


def _check_levels(levels: Sequence[float]) -> np.ndarray:
    lv = np.asarray(levels, float).ravel()
    if lv.size == 0 or np.any((lv <= 0) | (lv >= 1)):
        raise ValueError(f"levels must be fractions of the peak strictly between 0 and 1, got {list(levels)}")
    return lv


def _abs_metric(metric: Any, d: int) -> Callable[[np.ndarray], np.ndarray]:
    """``delta (..., d) -> delta^T |H| delta`` for a (d, d) matrix or an (eigvals, eigvecs) pair."""
    if isinstance(metric, (tuple, list)) and len(metric) == 2:
        from landscape.maps.axes import _as_array

        lam = np.abs(_as_array(metric[0], "metric eigenvalues")).ravel()
        vec = _as_array(metric[1], "metric eigenvectors")
        if vec.shape == (d, lam.size) and vec.shape != (lam.size, d):
            vec = vec.T
        elif vec.shape != (lam.size, d):
            raise ValueError(f"metric eigenvectors must be ({lam.size}, {d}) or ({d}, {lam.size}), got {vec.shape}")
        return lambda delta: ((delta @ vec.T) ** 2) @ lam
    h = np.asarray(metric.detach().cpu() if hasattr(metric, "detach") else metric, float)
    if h.shape != (d, d):
        raise ValueError(f"metric must be a ({d}, {d}) matrix or an (eigenvalues, eigenvectors) pair, got {h.shape}")
    lam, vec = np.linalg.eigh((h + h.T) / 2)
    return lambda delta: ((delta @ vec) ** 2) @ np.abs(lam)


def scorer(generator: Any, unit: Any, *, batch_size: int | None = None, progress: bool = False
           ) -> Callable[[np.ndarray], np.ndarray]:
    """A ``codes (B, d) -> responses (B,)`` function through ``generator`` and ``unit``.

    Level sets describe the tuning function, so a noisy unit is scored by its ``clean``
    responses. ``progress`` shows a tqdm bar over the images of each call.
    """
    from landscape.units.measure import measure_codes

    def f(codes: np.ndarray) -> np.ndarray:
        return measure_codes(generator, unit, codes, batch_size=batch_size, progress=progress, desc="level sets",
                             clean_only=True).mean

    return f


def _radial_fits(dist: np.ndarray, profiles: np.ndarray) -> dict[str, FitResult]:
    """Isotropic (one width) and per-direction (one width per ray) Gaussians of distance.

    ``dist``, ``profiles``: (n, s) distance and response of every sample.
    """
    n = profiles.shape[0]
    y = profiles.ravel()
    vscale = max(np.ptp(y), 1e-12)
    amp0 = max(profiles[:, 0].mean() - np.percentile(y, 5), 1e-12)
    base0 = float(np.percentile(y, 5))
    span = max(float(dist.max()), 1e-12)
    out = {}
    for name, k in (("isotropic_gaussian", 1), ("anisotropic_gaussian", n)):
        def model(p: np.ndarray, r: np.ndarray = dist, _k: int = k) -> np.ndarray:
            sig = p[2:2 + _k][:, None] if _k > 1 else p[2]
            return p[0] * np.exp(-r ** 2 / (2 * sig ** 2)) + p[1]

        lower = np.r_[0.0, -np.inf, np.full(k, span * 1e-4)]
        upper = np.r_[np.inf, np.inf, np.full(k, span * 100)]
        starts = [np.r_[amp0, base0, np.full(k, span * f)] for f in (0.2, 0.6)]
        sol = _best_fit(lambda p: (model(p) - profiles).ravel() / vscale, starts, lower, upper)
        r2, rmse = _r2(y, model(sol.x).ravel())
        sig = sol.x[2:]
        params = {"A": sol.x[0], "baseline": sol.x[1]}
        if k == 1:
            params["sigma"] = sig[0]
        else:
            params.update(sigma_max=sig.max(), sigma_min=sig.min(), ratio=sig.max() / sig.min())
        # predict(r (n, s)) -> responses; one row per ray for the per-direction model
        out[name] = FitResult(name, params, r2, rmse, int(y.size), bool(sol.success),
                              lambda r, _p=sol.x.copy(), _m=model: _m(_p, np.asarray(r, float)))
    return out


class _LevelSetsBase(Estimator):
    def __init__(self, levels: Sequence[float], baseline: float | str, threshold: float, local_cut: float) -> None:
        self.levels = tuple(float(f) for f in _check_levels(levels))
        self.baseline = baseline
        self.threshold = float(threshold)
        self.local_cut = float(local_cut)

    def _level_values(self, peak: float, samples: np.ndarray) -> tuple[float, np.ndarray]:
        if isinstance(self.baseline, str):
            if self.baseline != "min":
                raise ValueError(f"baseline must be a number or 'min', got {self.baseline!r}")
            base = float(np.nanmin(samples))
        else:
            base = float(self.baseline)
        if not peak > base:
            raise ValueError(f"the peak response {peak:.6g} is not above the baseline {base:.6g}; level sets "
                             "need a bump: pass baseline='min' or a baseline below the peak")
        return base, base + np.asarray(self.levels) * (peak - base)

    def _finish(self, radii: dict[str, np.ndarray], censored: np.ndarray) -> None:
        self.radii_ = radii
        self.censored_ = censored
        self.ratio_ = {}
        self.verdicts_ = {}
        for coords, r in radii.items():
            self.ratio_[coords], self.verdicts_[coords] = isotropy_verdict(
                self.levels, r, censored, coords=coords, threshold=self.threshold, local_cut=self.local_cut)

    def summary(self) -> str:
        """Text report: the call per coordinate system and level."""
        check_is_fitted(self, "verdicts_", hint="fit(...)")
        n_rays = self.censored_.shape[0]
        lines = [f"peak {self.peak_:.6g}, baseline {self.baseline_:.6g}, {n_rays} rays"]
        lines += [v.summary() for v in self.verdicts_.values()]
        for name, fit in getattr(self, "fits_", {}).items():
            ps = ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())
            lines.append(f"{name}: R^2 = {fit.r2:.4f} ({ps})")
        return "\n".join(lines)


class LatentLevelSets(_LevelSetsBase):
    """Level sets around a code in the full latent space.

    Parameters
    ----------
    levels : sequence of float
        Fractions ``f`` of the peak (above ``baseline``), each in (0, 1).
    n_random : int
        Random directions drawn (seeded), besides any given to :meth:`fit`.
    path : {"great_circle", "line"}
        ``great_circle``: ``cos(a) c + sin(a) |c| u`` with ``u`` orthogonal to ``c`` (the
        code norm stays fixed, as on the sphere maps; directions are projected off ``c``);
        ``line``: ``c + t u``.
    max_distance : float or None
        End of each path: radians for great circles (default pi/2, the sphere maps' range),
        latent units for lines (default the centre's norm).
    n_steps : int
        Samples per path (evenly spaced); crossings are interpolated linearly between them.
    baseline : float or "min"
        Level ``f`` is ``baseline + f (peak - baseline)``; ``"min"`` takes the lowest
        response sampled.
    threshold, local_cut : float
        Verdict rules (module docstring).
    seed : int or None
        For the random directions.

    Attributes
    ----------
    peak_ : float
        Response at the centre.
    baseline_ : float
    directions_ : (n, d) unit directions used
    t_ : (s,) path parameters sampled (``t_[0] = 0``)
    profiles_ : (n, s) responses along each path
    crossings_ : (n, L, d) crossing codes (path end where censored)
    radii_ : dict coords -> (n, L) distances (``euclidean``, ``angular`` [degrees] and, with a
        metric, ``whitened``)
    censored_ : (n, L) bool
    ratio_ : dict coords -> (L,) max/min radius
    verdicts_ : dict coords -> IsotropyVerdict
    fits_ : dict with ``isotropic_gaussian`` and ``anisotropic_gaussian`` (one width per
        ray) fitted to response against Euclidean distance
    """

    def __init__(self, levels: Sequence[float] = DEFAULT_LEVELS, *, n_random: int = 32,
                 path: str = "great_circle", max_distance: float | None = None, n_steps: int = 24,
                 baseline: float | str = 0.0, threshold: float = RATIO_THRESHOLD, local_cut: float = LOCAL_CUT,
                 seed: int | None = 0) -> None:
        super().__init__(levels, baseline, threshold, local_cut)
        if path not in ("great_circle", "line"):
            raise ValueError(f"path must be 'great_circle' or 'line', got {path!r}")
        if n_random < 0 or n_steps < 2:
            raise ValueError(f"need n_random >= 0 and n_steps >= 2, got {n_random} and {n_steps}")
        self.n_random = int(n_random)
        self.path = path
        self.max_distance = max_distance
        self.n_steps = int(n_steps)
        self.seed = seed

    def fit(self, score: Callable[[np.ndarray], np.ndarray], center: Any, *, directions: Any = None,
            metric: Any = None) -> "LatentLevelSets":
        """Sample every path and measure the level sets.

        Parameters
        ----------
        score : callable
            ``codes (B, d) array -> responses (B,)``; :func:`scorer` builds one from a
            generator and a unit.
        center : (d,) array
            The peak (for a run, its best code).
        directions : (k, d) array or None
            Extra directions (e.g. Hessian eigenvectors), normalised here.
        metric : (d, d) array, (eigvals, eigvecs) pair or None
            For ``whitened`` distances.
        """
        c = np.asarray(center.detach().cpu() if hasattr(center, "detach") else center, float).ravel()
        d = c.size
        cnorm = float(np.linalg.norm(c))
        rng = np.random.default_rng(self.seed)
        dirs = [rng.standard_normal((self.n_random, d))]
        if directions is not None:
            extra = np.asarray(directions.detach().cpu() if hasattr(directions, "detach") else directions, float)
            extra = extra[None] if extra.ndim == 1 else extra
            if extra.ndim != 2 or extra.shape[1] != d:
                raise ValueError(f"directions must have shape (k, {d}), got {extra.shape}")
            dirs.append(extra)
        u = np.vstack(dirs)
        if u.shape[0] < 2:
            raise ValueError("need at least 2 directions to compare level-set radii")
        if self.path == "great_circle":
            if cnorm == 0:
                raise ValueError("great-circle paths need a non-zero centre; use path='line'")
            u = u - np.outer(u @ c, c) / cnorm ** 2
        norms = np.linalg.norm(u, axis=1)
        if np.any(norms < 1e-8):
            bad = np.flatnonzero(norms < 1e-8).tolist()
            why = " or parallel to the centre" if self.path == "great_circle" else ""
            raise ValueError(f"directions {bad} are zero{why}")
        u = u / norms[:, None]
        if self.max_distance is not None:
            tmax = float(self.max_distance)
        elif self.path == "great_circle":
            tmax = np.pi / 2
        elif cnorm > 0:
            tmax = cnorm
        else:
            raise ValueError("the centre is the origin: give max_distance for line paths")
        if not tmax > 0:
            raise ValueError(f"max_distance must be positive, got {self.max_distance}")
        t = np.linspace(0.0, tmax, self.n_steps + 1)
        pts = self._points(c, u, t[1:])  # (n, s-1, d)
        values = np.asarray(score(np.vstack([c[None], pts.reshape(-1, d)])), float).ravel()
        if values.size != 1 + pts.shape[0] * pts.shape[1]:
            raise ValueError(f"score returned {values.size} values for {1 + pts.shape[0] * pts.shape[1]} codes")
        peak = float(values[0])
        profiles = np.concatenate([np.full((u.shape[0], 1), peak), values[1:].reshape(pts.shape[:2])], axis=1)
        base, lv = self._level_values(peak, profiles)
        t_cross = np.empty((u.shape[0], lv.size))
        censored = np.empty_like(t_cross, dtype=bool)
        for i, level in enumerate(lv):
            t_cross[:, i], censored[:, i] = first_crossing(t, profiles, level)
        crossings = self._points(c, u, t_cross)  # (n, L, d)
        delta = crossings - c
        radii = {"euclidean": np.linalg.norm(delta, axis=-1)}
        if cnorm > 0:
            cos = (crossings @ c) / (np.linalg.norm(crossings, axis=-1) * cnorm).clip(1e-300)
            radii["angular"] = np.rad2deg(np.arccos(np.clip(cos, -1.0, 1.0)))
        if metric is not None:
            radii["whitened"] = np.sqrt(_abs_metric(metric, d)(delta))
        self.peak_, self.baseline_ = peak, base
        self.directions_, self.t_, self.profiles_, self.crossings_ = u, t, profiles, crossings
        self._finish(radii, censored)
        all_pts = np.concatenate([np.zeros((u.shape[0], 1)), np.linalg.norm(pts - c, axis=-1)], axis=1)
        self.fits_ = _radial_fits(all_pts, profiles)
        return self

    def _points(self, c: np.ndarray, u: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Codes at path parameters ``t`` ((s,) shared or (n, L) per direction) along each ``u``."""
        t = np.broadcast_to(t, (u.shape[0], t.shape[-1])) if t.ndim == 1 else t
        if self.path == "line":
            return c + t[..., None] * u[:, None, :]
        cn = np.linalg.norm(c)
        return np.cos(t)[..., None] * c + np.sin(t)[..., None] * cn * u[:, None, :]


class MapLevelSets(_LevelSetsBase):
    """Level sets of a measured map around its peak, in map coordinates.

    Parameters
    ----------
    levels, baseline, threshold, local_cut
        As in :class:`LatentLevelSets`.
    n_directions : int
        Rays evenly spaced in angle around the peak.
    step : float or None
        Ray sampling step: degrees on a sphere (default 0.5), latent units on a plane
        (default a quarter of the finer grid spacing).
    smooth : bool
        Spheres only: read values from the spherical spline of
        :func:`~landscape.maps.smoothing.smooth_sphere` (and take the peak there) instead of
        linear interpolation of the grid.

    Attributes
    ----------
    peak_ : float
    peak_coords_ : (2,) array: ``(theta_deg, phi_deg)`` or ``(a, b)`` of the peak
    baseline_ : float
    angles_deg_ : (n,) ray directions in the map (0 = along theta / a, 90 = along phi / b)
    radii_ : dict coords -> (n, L): ``angular`` (degrees) and ``euclidean`` (latent chord)
        on a sphere, ``euclidean`` (latent units) on a plane
    censored_, ratio_, verdicts_
        As in :class:`LatentLevelSets`; a ray that leaves the map before reaching a level is
        censored.
    """

    def __init__(self, levels: Sequence[float] = DEFAULT_LEVELS, *, n_directions: int = 36,
                 step: float | None = None, smooth: bool = True, baseline: float | str = 0.0,
                 threshold: float = RATIO_THRESHOLD, local_cut: float = LOCAL_CUT) -> None:
        super().__init__(levels, baseline, threshold, local_cut)
        if n_directions < 2:
            raise ValueError(f"n_directions must be at least 2, got {n_directions}")
        self.n_directions = int(n_directions)
        self.step = step
        self.smooth = smooth

    def fit(self, tuning_map: Any) -> "MapLevelSets":
        """Measure level-set radii of ``tuning_map`` (a :class:`TuningMap`)."""
        vals = tuning_map.values
        if not np.isfinite(vals).any():
            raise ValueError("the map holds no finite value")
        ang = np.linspace(0.0, 360.0, self.n_directions, endpoint=False)
        self.angles_deg_ = ang
        if tuning_map.kind == "sphere":
            t, profiles, radii_of = self._sphere_rays(tuning_map, np.deg2rad(ang))
        else:
            t, profiles, radii_of = self._plane_rays(tuning_map, np.deg2rad(ang))
        peak = float(profiles[0, 0])
        base, lv = self._level_values(peak, profiles[np.isfinite(profiles)])
        # leaving the map ends a ray: NaN samples count as "not below", then censor
        t_cross = np.empty((ang.size, lv.size))
        censored = np.empty_like(t_cross, dtype=bool)
        prof = np.where(np.isfinite(profiles), profiles, np.inf)
        last_inside = t[np.isfinite(profiles).cumprod(axis=1).sum(axis=1) - 1]
        for i, level in enumerate(lv):
            t_cross[:, i], censored[:, i] = first_crossing(t, prof, level)
            t_cross[censored[:, i], i] = last_inside[censored[:, i]]
        self.peak_, self.baseline_, self.t_, self.profiles_ = peak, base, t, profiles
        self._finish(radii_of(t_cross), censored)
        return self

    def _plane_rays(self, tm: Any, ang: np.ndarray):
        from scipy.interpolate import RegularGridInterpolator

        a, b = tm.coords["a"], tm.coords["b"]
        if a.size < 2 or b.size < 2:
            raise ValueError("map level sets need at least 2 x 2 grid points")
        interp = RegularGridInterpolator((b, a), tm.values, bounds_error=False, fill_value=np.nan)
        i, j = np.unravel_index(np.nanargmax(tm.values), tm.shape)
        a0, b0 = a[j], b[i]
        self.peak_coords_ = np.array([a0, b0])
        step = self.step or min(np.diff(a).min(), np.diff(b).min()) / 4
        t = np.arange(0.0, np.hypot(np.ptp(a), np.ptp(b)) + step, step)
        aa = a0 + np.cos(ang)[:, None] * t
        bb = b0 + np.sin(ang)[:, None] * t
        profiles = interp(np.stack([bb, aa], axis=-1))
        return t, profiles, lambda tc: {"euclidean": tc}

    def _sphere_rays(self, tm: Any, ang: np.ndarray):
        from scipy.interpolate import RegularGridInterpolator

        from landscape.maps.fits import sphere_points
        from landscape.maps.smoothing import smooth_sphere

        theta, phi = tm.coords["theta_deg"], tm.coords["phi_deg"]
        if self.smooth:
            sm = smooth_sphere(tm)
            i, j = np.unravel_index(np.argmax(sm.values), sm.values.shape)
            t0, p0 = sm.theta_deg[j], sm.phi_deg[i]
            lookup = sm
        else:
            if not np.all(np.isfinite(tm.values)):
                raise ValueError("linear interpolation of a sphere map with NaN values is not supported")
            interp = RegularGridInterpolator((phi, theta), tm.values, bounds_error=False, fill_value=np.nan)
            i, j = np.unravel_index(np.argmax(tm.values), tm.shape)
            t0, p0 = theta[j], phi[i]
            lookup = lambda tt, pp: interp(np.stack([pp, tt], axis=-1))  # noqa: E731
        self.peak_coords_ = np.array([t0, p0])
        step = np.deg2rad(self.step or 0.5)
        alpha = np.arange(0.0, np.pi + step / 2, step)
        p = sphere_points(t0, p0)
        tr, pr = np.deg2rad(t0), np.deg2rad(p0)
        e_t = np.array([-np.sin(tr), np.cos(tr), 0.0])
        e_p = np.array([-np.cos(tr) * np.sin(pr), -np.sin(tr) * np.sin(pr), np.cos(pr)])
        w = np.cos(ang)[:, None] * e_t + np.sin(ang)[:, None] * e_p  # (n, 3) tangents
        pts = np.cos(alpha)[None, :, None] * p + np.sin(alpha)[None, :, None] * w[:, None, :]
        pp = np.rad2deg(np.arcsin(np.clip(pts[..., 2], -1, 1)))
        tt = np.rad2deg(np.arctan2(pts[..., 1], pts[..., 0]))
        tt = (tt - theta[0]) % 360.0 + theta[0]  # into the map's longitude turn
        inside = (tt >= theta[0] - 1e-9) & (tt <= theta[-1] + 1e-9) & (pp >= phi[0] - 1e-9) & (pp <= phi[-1] + 1e-9)
        inside[:, 0] = True
        profiles = np.where(inside, lookup(np.clip(tt, theta[0], theta[-1]), np.clip(pp, phi[0], phi[-1])), np.nan)
        # a ray ends where it first leaves the map, even if it would re-enter further on
        outside_seen = np.cumsum(~inside, axis=1) > 0
        profiles[outside_seen] = np.nan
        r = tm.radius
        return alpha, profiles, lambda tc: {"angular": np.rad2deg(tc), "euclidean": 2 * r * np.sin(tc / 2)}
