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

Figures that are not interactive are :mod:`landscape.plots` displays.
"""

from __future__ import annotations

from landscape.widgets.dashboard import EvolutionDashboard
from landscape.widgets.explorer import LatentExplorer
from landscape.widgets.images import image_strip, png_bytes
from landscape.widgets.map_viewer import MapViewer
from landscape.widgets.persistence_viewer import PersistenceViewer
from landscape.widgets.plotpane import PlotPane
from landscape.widgets.spectrum_viewer import SpectrumViewer

__all__ = ["EvolutionDashboard", "LatentExplorer", "MapViewer", "PersistenceViewer", "PlotPane", "SpectrumViewer",
           "image_strip", "png_bytes"]
