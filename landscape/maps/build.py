"""Measure tuning maps: sphere and plane grids of codes through a generator and a unit.

:func:`sphere_map` and :func:`plane_map` take explicit arrays (axes, radius, centre);
:func:`map_from_run` builds a map around an evolution's result from a short axes request
(``"pc"``, ``"pc:1,49,50"``, ``"pc1-random"``, ``"hessian:0,1"`` ...) as the command line does.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from landscape.maps.axes import (TrajectoryPCA, check_axes, hessian_axes, orthonormalize, random_axes,
                                 trajectory_codes)
from landscape.maps.curves import TuningCurves
from landscape.maps.grids import (GridSpec, check_sphere_angles, line_codes, parse_grid, plane_codes,
                                  pole_rows, sphere_angles, sphere_codes)
from landscape.maps.tuning_map import TuningMap
from landscape.units.measure import NOISY_REPS, measure_codes, resolve_reps

#: number of PCs fitted when a run's axes are requested (the control sphere uses PC49 and PC50)
RUN_PCS = 50


def _describe(unit: Any) -> dict:
    return unit.describe() if hasattr(unit, "describe") else {"type": type(unit).__name__}


def _measure_grid(generator: Any, unit: Any, codes: np.ndarray, source: np.ndarray, *, reps: int | None,
                  batch_size: int | None, progress: bool, desc: str) -> dict[str, np.ndarray | None]:
    """Measure the distinct codes of a grid once each and spread the results over the grid.

    ``codes`` is (n, m, d); ``source[i, j]`` is the flat index of the grid point whose
    measurement (i, j) shares (itself, except on sphere poles).
    """
    n, m, d = codes.shape
    flat = codes.reshape(-1, d)
    unique, inverse = np.unique(source.reshape(-1), return_inverse=True)
    meas = measure_codes(generator, unit, flat[unique], reps=reps, batch_size=batch_size,
                         progress=progress, desc=desc)
    spread = lambda a: None if a is None else a[..., inverse].reshape(*a.shape[:-1], n, m)  # noqa: E731
    return {"values": spread(meas.mean), "trials": spread(meas.trials if meas.noisy else None),
            "clean": spread(meas.clean),
            "sem": spread(meas.sem), "n_measured": int(unique.size)}


def sphere_map(generator: Any, unit: Any, axes: Any, radius: float, *, n: int = 21,
               theta_deg: Any = None, phi_deg: Any = None, origin: Any = None, reps: int | None = None,
               batch_size: int | None = None, progress: bool = True, meta: dict | None = None) -> TuningMap:
    """Measure a unit over a sphere of codes (Wang & Ponce's "manifold" experiment).

    ``code = origin + radius * (cos t cos p e1 + sin t cos p e2 + sin p e3)``. Each pole row
    (phi = +-90) is one image: measured once and filled across the row.

    Parameters
    ----------
    generator : landscape.generators.Generator
    unit : landscape.units.Unit
    axes : (3, d) orthonormal array (e1, e2, e3); e1 points at the map's centre
    radius : float
        Usually the mean code norm of the run's last generation.
    n : int
        Grid size n x n from -90 to 90 degrees when no angles are given (21: the in silico
        protocol, 9 degree steps; 11: the in vivo one, 18 degree steps).
    theta_deg, phi_deg : (m,), (n,) arrays or None
        Explicit longitudes and latitudes in degrees (increasing).
    origin : (d,) array or None
        Sphere centre; zeros (the experiments' spheres pass through codes of norm r).
    reps : int or None
        Repetitions per image for a noisy unit (see :mod:`landscape.units.measure`).
    batch_size : int or None
        Images per forward pass.
    progress : bool
        tqdm bar.
    meta : dict or None
        Extra provenance stored in the map.

    Returns
    -------
    TuningMap of kind "sphere"
    """
    axes = check_axes(axes, generator.dim, k=3, name="sphere axes")
    if theta_deg is None and phi_deg is None:
        theta_deg, phi_deg = sphere_angles(n)
    elif theta_deg is None or phi_deg is None:
        raise ValueError("give both theta_deg and phi_deg, or neither (then n x n from -90 to 90)")
    theta_deg, phi_deg = np.asarray(theta_deg, float).reshape(-1), np.asarray(phi_deg, float).reshape(-1)
    check_sphere_angles(theta_deg, phi_deg)
    if origin is not None:
        origin = np.asarray(origin, float).reshape(-1)
        if origin.shape != (generator.dim,):
            raise ValueError(f"origin must have shape ({generator.dim},), got {origin.shape}")
    reps = resolve_reps(unit, reps, NOISY_REPS["maps"])
    codes = sphere_codes(theta_deg, phi_deg, axes, float(radius), origin)
    rows, cols = codes.shape[:2]
    source = np.arange(rows * cols).reshape(rows, cols)
    for i in pole_rows(phi_deg):
        source[i] = i * cols
    res = _measure_grid(generator, unit, codes, source, reps=reps, batch_size=batch_size,
                        progress=progress, desc="sphere map")
    center = axes[0] * float(radius) + (0 if origin is None else origin)
    info = {"reps": reps, "n_images": res["n_measured"], **(meta or {})}
    return TuningMap("sphere", res["values"], {"theta_deg": theta_deg, "phi_deg": phi_deg}, axes, center,
                     radius=float(radius), origin=origin, trials=res["trials"], sem=res["sem"],
                     clean=res["clean"], unit=_describe(unit), generator=getattr(generator, "name", ""),
                     meta=info)


def plane_map(generator: Any, unit: Any, center: Any, axes: Any, *, n: int = 21,
              extent: tuple[float, float] = (-3.0, 3.0), a: Any = None, b: Any = None,
              orthonormal: bool = True, reps: int | None = None, batch_size: int | None = None,
              progress: bool = True, meta: dict | None = None) -> TuningMap:
    """Measure a unit over the plane ``center + a u + b v``.

    Parameters
    ----------
    generator, unit
        As in :func:`sphere_map`.
    center : (d,) array
        Code at ``a = b = 0`` (usually the run's best code).
    axes : (2, d) array (u, v)
    n : int
        n x n offsets spanning ``extent`` when ``a``/``b`` are not given.
    extent : (float, float)
        Offset range in latent units.
    a, b : (m,), (n,) arrays or None
        Explicit offsets along u (columns) and v (rows).
    orthonormal : bool
        Require orthonormal axes (set False to map along scaled or oblique directions).

    Returns
    -------
    TuningMap of kind "plane"
    """
    axes = check_axes(axes, generator.dim, k=2, orthonormal=orthonormal, name="plane axes")
    center = np.asarray(center.detach().cpu() if hasattr(center, "detach") else center, float).reshape(-1)
    if center.shape != (generator.dim,):
        raise ValueError(f"center must have shape ({generator.dim},), got {center.shape}")
    if a is None and b is None:
        a, b = GridSpec("plane", n, n, *extent).coordinates()
    elif a is None or b is None:
        raise ValueError("give both a and b offsets, or neither (then n x n over extent)")
    a, b = np.asarray(a, float).reshape(-1), np.asarray(b, float).reshape(-1)
    reps = resolve_reps(unit, reps, NOISY_REPS["maps"])
    codes = plane_codes(a, b, axes, center)
    source = np.arange(codes.shape[0] * codes.shape[1]).reshape(codes.shape[:2])
    res = _measure_grid(generator, unit, codes, source, reps=reps, batch_size=batch_size,
                        progress=progress, desc="plane map")
    info = {"reps": reps, "n_images": res["n_measured"], **(meta or {})}
    return TuningMap("plane", res["values"], {"a": a, "b": b}, axes, center, trials=res["trials"],
                     sem=res["sem"], clean=res["clean"], unit=_describe(unit),
                     generator=getattr(generator, "name", ""), meta=info)


def tuning_curves(generator: Any, unit: Any, center: Any, axes: Any, offsets: Any, *,
                  reps: int | None = None, batch_size: int | None = None, progress: bool = True,
                  meta: dict | None = None) -> TuningCurves:
    """1-D tuning curves ``center + t axis_k`` along each of ``k`` axes.

    Parameters
    ----------
    center : (d,) array
    axes : (k, d) array, one direction per row (not required to be orthogonal)
    offsets : (m,) array of ``t`` values in latent units

    Returns
    -------
    TuningCurves with ``values (k, m)``
    """
    axes = check_axes(axes, generator.dim, orthonormal=False, name="curve axes")
    center = np.asarray(center.detach().cpu() if hasattr(center, "detach") else center, float).reshape(-1)
    if center.shape != (generator.dim,):
        raise ValueError(f"center must have shape ({generator.dim},), got {center.shape}")
    offsets = np.asarray(offsets, float).reshape(-1)
    reps = resolve_reps(unit, reps, NOISY_REPS["maps"])
    codes = line_codes(offsets, axes, center)
    # every curve passes through the centre at t = 0: measure that image once
    source = np.arange(codes.shape[0] * codes.shape[1]).reshape(codes.shape[:2])
    zero = np.flatnonzero(offsets == 0)
    if zero.size:
        source[:, zero[0]] = zero[0]
    res = _measure_grid(generator, unit, codes, source, reps=reps, batch_size=batch_size,
                        progress=progress, desc="tuning curves")
    info = {"reps": reps, "n_images": res["n_measured"], **(meta or {})}
    return TuningCurves(res["values"], offsets, axes, center, trials=res["trials"], sem=res["sem"],
                        clean=res["clean"], unit=_describe(unit), generator=getattr(generator, "name", ""),
                        meta=info)


def axes_indices(spec: str, default: Sequence[int]) -> list[int]:
    """The indices of an axes request (``pc:1,49,50`` -> [1, 49, 50]); ``default`` without any."""
    if ":" not in spec:
        return list(default)
    try:
        return [int(s) for s in spec.split(":", 1)[1].split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"cannot read the indices in axes request {spec!r}: expected e.g. 'pc:1,49,50'") from None


AXES_USAGE = ("axes must be 'pc' or 'pc:I,J[,K]' (1-based PCs of the run), 'pc1-random' (PC1 and random "
              "axes orthogonal to the PCs: the control sphere), 'random' (random axes orthogonal to the PCs), "
              "or 'hessian' / 'hessian:I,J[,K]' (0-based Hessian eigenvectors; needs a Hessian)")


def run_axes(spec: str, pca: TrajectoryPCA, k: int, *, hessian: Any = None, seed: int | None = 0) -> np.ndarray:
    """Axes for a map of a run from a short request.

    Parameters
    ----------
    spec : str
        ``pc`` (PCs 1..k), ``pc:I,J[,K]`` (1-based), ``pc1-random`` (PC1 then random axes
        orthogonal to every fitted PC), ``random`` (k random axes orthogonal to the PCs),
        ``hessian`` or ``hessian:I,J[,K]`` (0-based eigenvectors of ``hessian``). On a sphere
        (``k = 3``) two Hessian indices give (PC1, h_I, h_J), orthonormalised keeping PC1.
    pca : TrajectoryPCA
        Fitted on the run's codes.
    k : int
        3 for a sphere, 2 for a plane.
    hessian : (k', d) or (d, k') eigenvector array, or None
    seed : int or None
        For the random axes.

    Returns
    -------
    axes : (k, d) orthonormal array
    """
    kind = spec.split(":", 1)[0]
    d = pca.components_.shape[1]
    if kind == "pc":
        axes = pca.axes(axes_indices(spec, range(1, k + 1)))
    elif kind == "pc1-random":
        axes = np.vstack([pca.axes([1]), random_axes(d, k - 1, exclude=pca.components_, seed=seed)])
    elif kind == "random":
        axes = random_axes(d, k, exclude=pca.components_, seed=seed)
    elif kind == "hessian":
        if hessian is None:
            raise ValueError("axes 'hessian' need Hessian eigenvectors: pass hessian=... (an array or the "
                             "eigenvectors saved by geometry), or on the command line --hessian FILE.npz")
        idx = axes_indices(spec, range(2))
        axes = hessian_axes(hessian, idx, dim=d)
        if k == 3 and len(idx) == 2:
            axes = orthonormalize(np.vstack([pca.axes([1]), axes]))
    else:
        raise ValueError(f"unknown axes request {spec!r}. {AXES_USAGE}")
    what = "a sphere needs 3 (or, for Hessian axes, 2 added to PC1)" if k == 3 else "a plane needs 2"
    if axes.shape[0] != k:
        raise ValueError(f"axes request {spec!r} gives {axes.shape[0]} directions; {what}: exactly {k} directions")
    return check_axes(axes, d, k=k, name=f"axes {spec!r}")


def map_from_run(run: Any, generator: Any, unit: Any, *, axes: str | Any = "pc",
                 grid: str | GridSpec = "sphere:21", hessian: Any = None, radius: float | None = None,
                 seed: int | None = 0, reps: int | None = None, batch_size: int | None = None,
                 progress: bool = True) -> TuningMap:
    """Map a unit around an evolution's result.

    Parameters
    ----------
    run : landscape.runs.Run
        Uses its generations' codes (``gen_codes``, or ``codes (n_gen, pop, d)``) and
        ``best_code (d,)``.
    generator, unit
        Normally those the run used (:func:`landscape.pipeline.load_run_models`).
    axes : str or (k, d) array
        A request understood by :func:`run_axes`, or explicit axes.
    grid : str or GridSpec
        ``sphere:N``, ``sphere:N:LO:HI``, ``plane:N:LO:HI`` (see :func:`landscape.maps.grids.parse_grid`).
        A sphere passes through codes of norm ``radius`` (default: the last generation's mean
        norm); a plane is centred on the run's best code.
    hessian : eigenvector array or None
        For ``axes="hessian..."``.

    Returns
    -------
    TuningMap
    """
    spec = parse_grid(grid) if isinstance(grid, str) else grid
    k = 3 if spec.kind == "sphere" else 2
    flat, _ = trajectory_codes(run)
    d = flat.shape[1]
    pca = TrajectoryPCA(n_components=min(RUN_PCS, *flat.shape)).fit(run)
    if isinstance(axes, str):
        ax = run_axes(axes, pca, k, hessian=hessian, seed=seed)
        axes_meta: Any = axes
    else:
        ax = check_axes(axes, d, k=k)
        axes_meta = "user"
    meta = {"run": str(getattr(run, "dir", "")), "axes": axes_meta, "grid": _grid_text(spec), "seed": seed,
            "pc_explained_variance_ratio": pca.explained_variance_ratio_[:10].round(6).tolist()}
    first, second = spec.coordinates()
    if spec.kind == "sphere":
        r = pca.last_norm_ if radius is None else float(radius)
        return sphere_map(generator, unit, ax, r, theta_deg=first, phi_deg=second, reps=reps,
                          batch_size=batch_size, progress=progress, meta=meta)
    return plane_map(generator, unit, np.asarray(run.best_code, float), ax, a=first, b=second, reps=reps,
                     batch_size=batch_size, progress=progress, meta=meta)


def _grid_text(spec: GridSpec) -> str:
    if spec.kind == "plane":
        return f"plane:{spec.rows}:{spec.lo:g}:{spec.hi:g}"
    return f"sphere:{spec.rows}:{spec.cols}:{spec.lo:g}:{spec.hi:g}"
