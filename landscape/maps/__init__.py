"""Tuning maps and landscapes of a unit over latent axes (Wang & Ponce 2022's "manifold" maps).

- axes: :class:`TrajectoryPCA`, :func:`pc_axes`, :func:`hessian_axes`, :func:`random_axes`,
  :func:`check_axes`, :func:`orthonormalize`
- grids and measurement: :func:`sphere_map`, :func:`plane_map`, :func:`tuning_curves`,
  :func:`map_from_run` (the run's own generator and unit: :func:`landscape.pipeline.load_run_models`)
- results: :class:`TuningMap` (``values (n, m)``, ``trials``, ``sem``, ``coords``, ``axes``,
  ``center``, ``radius``; npz + json files), :class:`TuningCurves`
- analyses: :func:`smooth_sphere` (spherical spline on a 1-degree grid), :func:`fit_map`,
  :func:`fit_gaussian`, :func:`fit_kent`, :class:`LatentLevelSets`, :class:`MapLevelSets`
  (level-set radii and the local/global isotropy verdict)
- figures: :class:`landscape.plots.TuningMapDisplay`

``from landscape.maps import TuningMap`` loads neither torch nor scipy: the names below resolve
on first use (measured: reading a map's module takes 0.4 s, all of them with torch 3.0 s, on the
shared 2-core machine at load 10). The imports under ``TYPE_CHECKING`` are the table: static
tools (type checkers, import-linter) read them as the package's imports, and ``__getattr__``
resolves the same names at run time.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from landscape.maps.axes import TrajectoryPCA, check_axes, hessian_axes, orthonormalize, pc_axes, random_axes
    from landscape.maps.build import map_from_run, plane_map, run_axes, sphere_map, tuning_curves
    from landscape.maps.curves import TuningCurves
    from landscape.maps.fits import FitResult, fit_gaussian, fit_kent, fit_map, kent_function
    from landscape.maps.grids import GridSpec, parse_grid, plane_codes, sphere_angles, sphere_codes
    from landscape.maps.levelsets import IsotropyVerdict, LatentLevelSets, MapLevelSets, scorer
    from landscape.maps.smoothing import SmoothedSphere, smooth_sphere
    from landscape.maps.tuning_map import TuningMap, map_paths


def _static_imports() -> dict[str, str]:
    # name -> module, read from the TYPE_CHECKING block above (one table, not two)
    tree = ast.parse(Path(__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {a.asname or a.name: node.module for node in block.body for a in node.names}


_LAZY = _static_imports()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'landscape.maps' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = sorted(_LAZY)
