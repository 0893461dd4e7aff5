"""`TuningMap`: a unit's responses over a 2-D grid of latent codes, and its file format.

File format
-----------
``TuningMap.save("out/map")`` (or ``"out/map.npz"``) writes two files a person can open
without this library:

``map.npz`` (``numpy.load``; no pickles):

============  ==============  =====================================================
name          shape           meaning
============  ==============  =====================================================
values        (n, m) float64  mean response per grid point; NaN = not measured
trials        (r, n, m)       every repetition (noisy units only)
sem           (n, m)          standard error of the mean over ``trials`` (r >= 2)
clean         (n, m)          noise-free responses of a noisy unit
axes          (k, d)          map axes, one per row: (e1, e2, e3) for a sphere,
                              (u, v) for a plane
center        (d,)            the code at the middle of the map: ``origin + r e1``
                              (theta = phi = 0) for a sphere, ``center`` for a plane
origin        (d,)            sphere only: the sphere's centre (zeros for the
                              experiments' spheres through the origin)
theta_deg     (m,)            sphere only: longitudes of the columns, degrees
phi_deg       (n,)            sphere only: latitudes of the rows, degrees, increasing
                              (row 0 = phi -90 on a full grid)
a             (m,)            plane only: offsets along ``axes[0]`` (columns)
b             (n,)            plane only: offsets along ``axes[1]`` (rows)
============  ==============  =====================================================

Grid point ``(i, j)`` is the code ``origin + radius * (cos t cos p e1 + sin t cos p e2 +
sin p e3)`` with ``t = theta_deg[j]``, ``p = phi_deg[i]`` (sphere) or ``center + a[j] u +
b[i] v`` (plane).

``map.json``: ``{"schema": "landscape.TuningMap", "version": 1, "kind": "sphere"|"plane",
"shape": [n, m], "dim": d, "radius": float or null, "generator": name, "unit": {unit
description}, "arrays": [names present in the npz], "meta": {free-form: axes source, PCs,
seed, repetitions, ...}}``.

``map.npz.sha256``, ``map.json.sha256``: each file's sha256 (``sha256sum -c`` reads them),
checked by :meth:`TuningMap.load` before the file is read; a damaged file raises
:class:`landscape.io.DamagedFile` naming it. Maps saved before these existed load unchecked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from landscape.io import load_npz_checked, read_json_checked, save_npz_with_digest, write_json_with_digest
from landscape.maps.grids import check_sphere_angles, plane_codes, sphere_codes

MAP_KINDS = ("sphere", "plane")
SCHEMA = "landscape.TuningMap"
VERSION = 1
_OPTIONAL = ("trials", "sem", "clean", "origin")


def map_paths(path: str | Path) -> tuple[Path, Path]:
    """``(stem.npz, stem.json)`` for ``path`` given with or without either suffix."""
    p = Path(path)
    if p.suffix in (".npz", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".npz"), p.with_name(p.name + ".json")


def _selection(sel: Any, n: int, what: str) -> np.ndarray:
    idx = np.arange(n)
    if sel is None:
        return idx
    try:
        out = idx[sel]
    except IndexError as e:
        raise IndexError(f"{what} selection {sel!r} is out of range for {n} {what}") from e
    return np.atleast_1d(out)


class TuningMap:
    """Responses of a unit over a sphere or plane of latent codes.

    Parameters
    ----------
    kind : {"sphere", "plane"}
    values : (n, m) array
        Mean response per grid point (NaN = not measured).
    coords : dict
        Sphere: ``theta_deg (m,)`` and ``phi_deg (n,)``; plane: ``a (m,)`` and ``b (n,)``.
    axes : (k, d) array
        (e1, e2, e3) for a sphere, (u, v) for a plane.
    center : (d,) array
        Code at the middle of the map (sphere: ``origin + radius * e1``).
    radius : float or None
        Sphere radius (required for spheres).
    origin : (d,) array or None
        Sphere centre (zeros when None).
    trials : (r, n, m) array or None
        Every repetition (noisy units).
    sem : (n, m) array or None
        Standard errors; computed from ``trials`` when they hold 2 or more repetitions.
    clean : (n, m) array or None
        Noise-free responses of a noisy unit.
    unit : dict
        Unit description (``Unit.describe()``).
    generator : str
        Generator name.
    meta : dict
        Free-form JSON-able provenance.
    """

    def __init__(self, kind: str, values: Any, coords: dict[str, Any], axes: Any, center: Any, *,
                 radius: float | None = None, origin: Any = None, trials: Any = None, sem: Any = None,
                 clean: Any = None, unit: dict | None = None, generator: str = "",
                 meta: dict | None = None) -> None:
        if kind not in MAP_KINDS:
            raise ValueError(f"kind must be one of {MAP_KINDS}, got {kind!r}")
        self.kind = kind
        self.values = np.asarray(values, dtype=np.float64)
        if self.values.ndim != 2 or self.values.size == 0:
            raise ValueError(f"values must be a non-empty (n, m) array, got shape {self.values.shape}")
        n, m = self.values.shape
        names = ("theta_deg", "phi_deg") if kind == "sphere" else ("a", "b")
        missing = [k for k in names if k not in coords]
        if missing:
            raise ValueError(f"a {kind} map needs coords {names}, missing {missing}")
        self.coords = {k: np.asarray(coords[k], dtype=np.float64) for k in names}
        col, row = self.coords[names[0]], self.coords[names[1]]
        if col.shape != (m,) or row.shape != (n,):
            raise ValueError(f"coords {names} must have shapes ({m},) and ({n},) to match values {self.values.shape}, "
                             f"got {col.shape} and {row.shape}")
        if kind == "sphere":
            check_sphere_angles(col, row)
            if radius is None or not radius > 0:
                raise ValueError(f"a sphere map needs a positive radius, got {radius!r}")
        self.axes = np.asarray(axes, dtype=np.float64)
        k_needed = 3 if kind == "sphere" else 2
        if self.axes.ndim != 2 or self.axes.shape[0] != k_needed:
            raise ValueError(f"a {kind} map needs axes of shape ({k_needed}, d), got {self.axes.shape}")
        d = self.axes.shape[1]
        self.center = np.asarray(center, dtype=np.float64).reshape(-1)
        if self.center.shape != (d,):
            raise ValueError(f"center must have shape ({d},) to match the axes, got {self.center.shape}")
        self.radius = None if radius is None else float(radius)
        self.origin = (np.zeros(d) if origin is None else np.asarray(origin, np.float64).reshape(-1)
                       ) if kind == "sphere" else None
        if self.origin is not None and self.origin.shape != (d,):
            raise ValueError(f"origin must have shape ({d},), got {self.origin.shape}")
        self.trials = None if trials is None else np.asarray(trials, dtype=np.float64)
        if self.trials is not None and (self.trials.ndim != 3 or self.trials.shape[1:] != (n, m)):
            raise ValueError(f"trials must have shape (r, {n}, {m}), got {self.trials.shape}")
        if sem is None and self.trials is not None and self.trials.shape[0] >= 2:
            sem = self.trials.std(axis=0, ddof=1) / np.sqrt(self.trials.shape[0])
        self.sem = None if sem is None else np.asarray(sem, dtype=np.float64)
        self.clean = None if clean is None else np.asarray(clean, dtype=np.float64)
        for name in ("sem", "clean"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != (n, m):
                raise ValueError(f"{name} must have shape ({n}, {m}), got {arr.shape}")
        self.unit = dict(unit or {})
        self.generator = str(generator)
        self.meta = dict(meta or {})

    # -- geometry -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def dim(self) -> int:
        return self.axes.shape[1]

    def codes(self) -> np.ndarray:
        """The code of every grid point.

        Returns
        -------
        codes : (n, m, d) float64 array
        """
        if self.kind == "sphere":
            return sphere_codes(self.coords["theta_deg"], self.coords["phi_deg"], self.axes,
                                self.radius, self.origin)
        return plane_codes(self.coords["a"], self.coords["b"], self.axes, self.center)

    def images(self, generator: Any, rows: Any = None, cols: Any = None,
               batch_size: int | None = None) -> Any:
        """Render the images of a block of the map.

        Parameters
        ----------
        generator : landscape.generators.Generator
            Must have the map's code dimension (normally the generator named in ``self.generator``).
        rows, cols : int, slice, sequence of int or None
            Which rows (latitudes / ``b``) and columns (longitudes / ``a``); None = all.

        Returns
        -------
        images : (len(rows), len(cols), 3, H, W) float tensor in [0, 1]
        """
        import torch

        if getattr(generator, "dim", self.dim) != self.dim:
            raise ValueError(f"generator {getattr(generator, 'name', generator)!r} takes {generator.dim}-d "
                             f"codes but this map lives in {self.dim}-d")
        n, m = self.shape
        r, c = _selection(rows, n, "rows"), _selection(cols, m, "columns")
        codes = self.codes()[np.ix_(r, c)].reshape(-1, self.dim)
        imgs = generator.render(torch.as_tensor(codes, dtype=torch.float32, device=generator.device),
                                batch_size)
        return imgs.reshape(len(r), len(c), *imgs.shape[1:])

    def peak(self) -> dict[str, Any]:
        """Grid point with the highest (finite) mean response.

        Returns
        -------
        dict with ``row``, ``col``, ``value`` and the two coordinates by name
        """
        if not np.isfinite(self.values).any():
            raise ValueError("the map holds no finite value")
        i, j = np.unravel_index(np.nanargmax(self.values), self.shape)
        names = ("theta_deg", "phi_deg") if self.kind == "sphere" else ("a", "b")
        return {"row": int(i), "col": int(j), "value": float(self.values[i, j]),
                names[0]: float(self.coords[names[0]][j]), names[1]: float(self.coords[names[1]][i])}

    # -- files --------------------------------------------------------------------------
    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``path.npz`` and ``path.json`` (schema in the module docstring).

        Returns
        -------
        (npz_path, json_path)
        """
        npz_path, json_path = map_paths(path)
        npz_path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"values": self.values, "axes": self.axes, "center": self.center, **self.coords}
        for name in _OPTIONAL:
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        save_npz_with_digest(npz_path, arrays)
        header = {"schema": SCHEMA, "version": VERSION, "kind": self.kind, "shape": list(self.shape),
                  "dim": self.dim, "radius": self.radius, "generator": self.generator, "unit": self.unit,
                  "arrays": sorted(arrays), "meta": self.meta}
        write_json_with_digest(json_path, header)
        return npz_path, json_path

    @classmethod
    def load(cls, path: str | Path) -> "TuningMap":
        """Read a map written by :meth:`save` (``path`` with or without a suffix)."""
        npz_path, json_path = map_paths(path)
        for p in (npz_path, json_path):
            if not p.is_file():
                raise FileNotFoundError(f"tuning map file {p} not found (a map is a .npz plus a .json)")
        header = read_json_checked(json_path)
        if header.get("schema") != SCHEMA:
            raise ValueError(f"{json_path} is not a tuning map (schema {header.get('schema')!r}, expected {SCHEMA!r})")
        if header.get("version", 0) > VERSION:
            raise ValueError(f"{json_path} has format version {header['version']}; this library reads up to {VERSION}")
        arrays = load_npz_checked(npz_path)
        kind = header["kind"]
        names = ("theta_deg", "phi_deg") if kind == "sphere" else ("a", "b")
        return cls(kind, arrays["values"], {k: arrays[k] for k in names}, arrays["axes"], arrays["center"],
                   radius=header.get("radius"), origin=arrays.get("origin"), trials=arrays.get("trials"),
                   sem=arrays.get("sem"), clean=arrays.get("clean"), unit=header.get("unit"),
                   generator=header.get("generator", ""), meta=header.get("meta"))

    def __repr__(self) -> str:
        n, m = self.shape
        extra = f", radius={self.radius:.4g}" if self.radius is not None else ""
        reps = f", reps={self.trials.shape[0]}" if self.trials is not None else ""
        return (f"TuningMap(kind={self.kind!r}, shape=({n}, {m}), dim={self.dim}{extra}{reps}, "
                f"generator={self.generator!r})")
