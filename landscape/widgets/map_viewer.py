"""Tuning-map viewer: heatmap or sphere, contours, cell images, super-level set at a threshold."""

from __future__ import annotations

from typing import Any

import numpy as np

from .images import png_bytes


def superlevel_counts(tuning_map: Any, threshold: float, connectivity: int = 8) -> tuple[int, int]:
    """Components and holes of ``{f >= threshold}`` on the map's own domain (sphere seams and poles included).

    Read off the super-level persistence diagrams of :mod:`landscape.topology`, so the viewer and the
    signature always agree. Returns ``(b0, b1)``.
    """
    from ..topology import betti_curves, superlevel_diagrams

    diagrams = superlevel_diagrams(tuning_map, connectivity)
    b = betti_curves(diagrams, np.array([threshold]))
    return int(b[0, 0]), int(b[1, 0])


def plotly_grid(values: np.ndarray) -> list:
    """An (n, m) array as nested lists with None for NaN and infinities.

    Widget messages must be strict JSON (a NaN makes jupyter_client warn and send the string
    'nan'); plotly draws None as a gap, as it draws NaN in a static figure.
    """
    a = np.asarray(values, dtype=float)
    return np.where(np.isfinite(a), a, None).tolist()


def sphere_xyz(theta_deg: np.ndarray, phi_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, m) Cartesian coordinates of a (phi rows x theta columns) grid on the unit sphere."""
    th, ph = np.meshgrid(np.deg2rad(theta_deg), np.deg2rad(phi_deg))
    return np.cos(th) * np.cos(ph), np.sin(th) * np.cos(ph), np.sin(ph)


class MapViewer:
    """Look at a :class:`landscape.maps.TuningMap`.

    Parameters
    ----------
    tuning_map : TuningMap
    generator : Generator or None
        Needed to show the image of a clicked cell.
    connectivity : {8, 4}
        Of the super-level sets whose components and holes are counted.
    scale : int
        Display enlargement of cell images.

    Attributes
    ----------
    widget : ipywidgets.VBox
    figure : plotly FigureWidget (heatmap + contours + highlighted super-level set, or sphere surface)
    threshold : ipywidgets.FloatSlider
    counts : (components, holes) of the super-level set at the current threshold
    selected : (row, col) of the last selected cell or None
    """

    def __init__(self, tuning_map: Any, generator: Any = None, connectivity: int = 8, scale: int = 3) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        self.map, self.generator, self.connectivity, self.scale = tuning_map, generator, connectivity, scale
        v = np.asarray(tuning_map.values, dtype=float)
        lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        self.threshold = W.FloatSlider(value=lo + 0.5 * (hi - lo), min=lo, max=hi, step=(hi - lo) / 100 or 1.0,
                                       description="threshold", continuous_update=False, readout_format=".3g")
        self.counts_label = W.HTML()
        self.image_widget = W.Image(format="png")
        self.cell_label = W.HTML("click a cell to see its image")
        self.selected: tuple[int, int] | None = None
        if tuning_map.kind == "plane":
            x, y = tuning_map.coords["a"], tuning_map.coords["b"]
            self.figure = go.FigureWidget(
                data=[go.Heatmap(z=plotly_grid(v), x=x, y=y, colorscale="Viridis", colorbar=dict(title="response"),
                                 name="response"),
                      go.Contour(z=plotly_grid(v), x=x, y=y, contours=dict(coloring="none", showlabels=True),
                                 ncontours=10, line=dict(color="white", width=1), showscale=False, hoverinfo="skip",
                                 name="level sets"),
                      go.Heatmap(z=plotly_grid(np.full_like(v, np.nan)), x=x, y=y, colorscale=[[0, "red"], [1, "red"]],
                                 opacity=0.35, showscale=False, hoverinfo="skip", name="super-level set")],
                layout=dict(height=420, width=480, xaxis_title="a (axis 1)", yaxis_title="b (axis 2)",
                            margin=dict(l=50, r=10, t=30, b=40), title="tuning map"))
        else:
            X, Y, Z = sphere_xyz(tuning_map.coords["theta_deg"], tuning_map.coords["phi_deg"])
            self.figure = go.FigureWidget(
                data=[go.Surface(x=X, y=Y, z=Z, surfacecolor=plotly_grid(v), colorscale="Viridis", name="response",
                                 colorbar=dict(title="response"),
                                 contours=dict(z=dict(show=False))),
                      go.Surface(x=X * 1.01, y=Y * 1.01, z=Z * 1.01, surfacecolor=plotly_grid(np.full_like(v, np.nan)),
                                 colorscale=[[0, "red"], [1, "red"]], opacity=0.5, showscale=False,
                                 name="super-level set", hoverinfo="skip")],
                layout=dict(height=460, width=480, margin=dict(l=0, r=0, t=30, b=0),
                            title="tuning map on the sphere (PC1 toward x)",
                            scene=dict(xaxis_title="e1", yaxis_title="e2", zaxis_title="e3")))
        self.figure.data[0].on_click(self._clicked)
        self.threshold.observe(lambda _c: self.update_threshold(), names="value")
        self.widget = W.VBox([self.threshold, self.counts_label,
                              W.HBox([self.figure, W.VBox([self.cell_label, self.image_widget])])])
        self.update_threshold()

    def update_threshold(self) -> None:
        """Highlight ``{f >= threshold}`` and count its components and holes."""
        c = float(self.threshold.value)
        v = np.asarray(self.map.values, dtype=float)
        mask = plotly_grid(np.where(v >= c, 1.0, np.nan))
        if self.map.kind == "plane":
            self.figure.data[2].z = mask
        else:
            self.figure.data[1].surfacecolor = mask
        self.counts = superlevel_counts(self.map, c, self.connectivity)
        frac = (c - np.nanmin(v)) / (np.nanmax(v) - np.nanmin(v) or 1.0)
        self.counts_label.value = (f"super-level set at {c:.3g} ({frac:.0%} of the range): "
                                   f"<b>{self.counts[0]}</b> component(s), <b>{self.counts[1]}</b> hole(s) "
                                   f"({self.connectivity}-connectivity)")

    def select_cell(self, row: int, col: int) -> None:
        """Show the image and value of cell (row, col)."""
        n, m = self.map.shape
        if not (0 <= row < n and 0 <= col < m):
            raise ValueError(f"cell ({row}, {col}) is outside the {n} x {m} map")
        self.selected = (int(row), int(col))
        value = self.map.values[row, col]
        names = ("theta_deg", "phi_deg") if self.map.kind == "sphere" else ("a", "b")
        where = f"{names[0]}={self.map.coords[names[0]][col]:.3g}, {names[1]}={self.map.coords[names[1]][row]:.3g}"
        self.cell_label.value = f"cell ({row}, {col}): {where}, response {value:.4g}"
        if self.generator is not None:
            import torch

            with torch.no_grad():
                img = self.map.images(self.generator, rows=[row], cols=[col])[0, 0]
            self.image_widget.value = png_bytes(img, self.scale)

    def _clicked(self, trace: Any, points: Any, state: Any) -> None:
        if not points.point_inds:
            return
        idx = points.point_inds[0]
        if isinstance(idx, (list, tuple)):
            row, col = idx
        else:  # heatmaps report coordinates: find the nearest grid cell
            x, y = points.xs[0], points.ys[0]
            row = int(np.argmin(np.abs(self.map.coords["b"] - y)))
            col = int(np.argmin(np.abs(self.map.coords["a"] - x)))
        self.select_cell(int(row), int(col))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
