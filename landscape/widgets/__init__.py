"""Interactive ipywidgets + plotly components for notebooks.

- :class:`LatentExplorer`: sliders along latent axes around a code; image and response update live.
- :class:`EvolutionDashboard`: run an optimizer generation by generation with a live score curve,
  best image and population strip, start / pause / stop (``await dashboard.run_async()`` in a
  notebook), writing the Run to disk as it goes.
- :class:`MapViewer`: heatmap (planar) or sphere surface (spherical) of a tuning map, level-set
  contours, the image of a clicked cell, and a threshold slider showing the super-level set with
  its component and hole counts.
- :class:`SpectrumViewer`: a Hessian spectrum on a log scale and the image strip along the
  selected eigenvector.
- :class:`PersistenceViewer`: persistence diagram and Betti curves linked to the map.
- :class:`PlotPane`: the plotly figure widget they all draw with (small saved state, incremental
  edits, clicks back to Python).

ipywidgets and plotly are imported only when a widget is built.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"LatentExplorer": "explorer", "EvolutionDashboard": "dashboard", "MapViewer": "map_viewer",
         "SpectrumViewer": "spectrum", "PersistenceViewer": "persistence", "PlotPane": "plotpane",
         "png_bytes": "images",
         "image_strip": "images"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"landscape.widgets.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'landscape.widgets' has no attribute {name!r}")


__all__ = sorted(_LAZY)
