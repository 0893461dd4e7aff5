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
- files for people: :func:`save_map_png`, :func:`save_html`

Names resolve on first use, so ``from landscape.maps import TuningMap`` loads neither torch
nor scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "TuningMap": "tuning_map", "map_paths": "tuning_map",
    "TuningCurves": "curves",
    "TrajectoryPCA": "axes", "pc_axes": "axes", "hessian_axes": "axes", "random_axes": "axes",
    "check_axes": "axes", "orthonormalize": "axes",
    "sphere_angles": "grids", "sphere_codes": "grids", "plane_codes": "grids", "parse_grid": "grids",
    "GridSpec": "grids",
    "sphere_map": "build", "plane_map": "build", "tuning_curves": "build", "map_from_run": "build",
    "run_axes": "build",
    "smooth_sphere": "smoothing", "SmoothedSphere": "smoothing",
    "fit_map": "fits", "fit_gaussian": "fits", "fit_kent": "fits", "kent_function": "fits", "FitResult": "fits",
    "LatentLevelSets": "levelsets", "MapLevelSets": "levelsets", "IsotropyVerdict": "levelsets",
    "scorer": "levelsets",
    "save_map_png": "plots", "save_html": "plots",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"landscape.maps.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'landscape.maps' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


__all__ = sorted(_LAZY)
