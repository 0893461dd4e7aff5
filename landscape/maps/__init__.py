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
shared 2-core machine at load 10). The imports under ``TYPE_CHECKING`` are the table
(:mod:`landscape.lazy`): static tools read them, ``__getattr__`` resolves the same names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from landscape.lazy import lazy_exports

if TYPE_CHECKING:
    from landscape.maps.axes import TrajectoryPCA, check_axes, hessian_axes, orthonormalize, pc_axes, random_axes
    from landscape.maps.build import map_from_run, plane_map, run_axes, sphere_map, tuning_curves
    from landscape.maps.curves import TuningCurves
    from landscape.maps.fits import FitResult, fit_gaussian, fit_kent, fit_map, kent_function
    from landscape.maps.grids import GridSpec, parse_grid, plane_codes, sphere_angles, sphere_codes
    from landscape.maps.levelsets import IsotropyVerdict, LatentLevelSets, MapLevelSets, scorer
    from landscape.maps.smoothing import SmoothedSphere, smooth_sphere
    from landscape.maps.tuning_map import TuningMap, map_paths


__getattr__, __dir__, __all__ = lazy_exports(__name__, __file__, globals())
