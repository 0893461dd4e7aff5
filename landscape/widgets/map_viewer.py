"""Tuning-map viewer: heatmap or sphere, the super-level set at a threshold, the image of a clicked cell."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..plots.map_plots import sphere_xyz
from .images import png_bytes

#: how much the colour of cells below the threshold is washed out toward light grey
FADE = 0.72
_FADE_TO = np.array([235.0, 235.0, 235.0])


def superlevel_counts(tuning_map: Any, threshold: float, connectivity: int = 8) -> tuple[int, int]:
    """Components and holes of ``{f >= threshold}`` on the map's own domain (sphere seams and poles included).

    Read off the super-level persistence diagrams of :mod:`landscape.topology`, so the viewer and the
    signature always agree. Returns ``(b0, b1)``.
    """
    from ..topology import betti_curves, superlevel_diagrams

    b = betti_curves(superlevel_diagrams(tuning_map, connectivity), np.array([threshold]))
    return int(b[0, 0]), int(b[1, 0])


def plotly_grid(values: np.ndarray) -> list:
    """An (n, m) array as nested lists with None for NaN and infinities (strict JSON; plotly draws a gap)."""
    a = np.asarray(values, dtype=float)
    return np.where(np.isfinite(a), a, None).tolist()


def threshold_colorscale(fraction: float, name: str = "Viridis", n: int = 24) -> list[list[Any]]:
    """A colour scale that shows ``{f >= c}`` in full colour and washes out the rest.

    Parameters
    ----------
    fraction : float
        The threshold as a fraction of the colour range (``(c - cmin) / (cmax - cmin)``).
    name : plotly colour scale name
    n : int, colour stops on each side of the threshold

    Returns
    -------
    plotly colour scale (``[[position, "rgb(...)"], ...]``, positions non-decreasing from 0 to 1)
    """
    from plotly.colors import sample_colorscale, unlabel_rgb

    f = float(np.clip(fraction, 0.0, 1.0))

    def faded(p: float) -> str:
        rgb = np.array(unlabel_rgb(sample_colorscale(name, [p])[0]), dtype=float)
        r, g, b = ((1 - FADE) * rgb + FADE * _FADE_TO).round().astype(int)
        return f"rgb({r},{g},{b})"

    below = [[float(p), faded(p)] for p in np.linspace(0.0, f, n)] if f > 0 else []
    above_pos = np.linspace(f, 1.0, n) if f < 1 else np.array([1.0])
    above = [[float(p), c] for p, c in zip(above_pos, sample_colorscale(name, list(above_pos)))]
    scale = below + above
    if f >= 1.0:  # only the maximum itself is in the set
        scale = below[:-1] + [[1.0, sample_colorscale(name, [1.0])[0]]]
    return scale


class MapViewer:
    """Look at a :class:`landscape.maps.TuningMap`: move the threshold, click a cell.

    The super-level set ``{f >= threshold}`` keeps its colours while the rest of the map is
    washed out (on a plane a red contour also marks the threshold); the label counts its
    components and holes on the map's own domain. A threshold step sends only a new colour
    scale to the browser.

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
    figure : :class:`~landscape.widgets.plotpane.PlotPane` (trace 0 the map, trace 1 the selected cell;
        on a plane trace 2 the threshold contour and trace 3 level-set contours)
    threshold : ipywidgets.FloatSlider
    counts : (components, holes) of the super-level set at the current threshold
    selected : (row, col) of the last selected cell or None
    """

    def __init__(self, tuning_map: Any, generator: Any = None, connectivity: int = 8, scale: int = 3) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        from ..topology import superlevel_diagrams
        from .plotpane import PlotPane

        self.map, self.generator, self.connectivity, self.scale = tuning_map, generator, connectivity, scale
        v = np.asarray(tuning_map.values, dtype=float)
        if not np.isfinite(v).any():
            raise ValueError("the tuning map has no finite value to show")
        self._lo, self._hi = float(np.nanmin(v)), float(np.nanmax(v))
        lo, hi = self._lo, self._hi
        # the diagrams do not depend on the threshold: compute them once, count per step
        self._diagrams = superlevel_diagrams(tuning_map, connectivity)
        self.threshold = W.FloatSlider(value=lo + 0.5 * (hi - lo), min=lo, max=hi, step=(hi - lo) / 100 or 1.0,
                                       description="threshold", continuous_update=True, readout_format=".3g",
                                       style={"description_width": "initial"}, layout=W.Layout(width="420px"))
        self.counts_label = W.HTML()
        self.image_widget = W.Image(format="png", layout=W.Layout(display="none"))
        self.cell_label = W.HTML("click a cell to see its image" if generator is not None
                                 else "click a cell to see its value (pass generator= to see its image)")
        self.selected: tuple[int, int] | None = None
        cs = threshold_colorscale(self._fraction(self.threshold.value))
        if tuning_map.kind == "plane":
            x, y = tuning_map.coords["a"], tuning_map.coords["b"]
            fig = go.Figure(
                data=[go.Heatmap(z=plotly_grid(v), x=x, y=y, colorscale=cs, zmin=lo, zmax=hi, name="response",
                                 colorbar=dict(title=dict(text="response"), exponentformat="e"),
                                 hovertemplate="a=%{x:.3g}, b=%{y:.3g}<br>response %{z:.4g}<extra></extra>"),
                      go.Scatter(x=[], y=[], mode="markers", name="selected", hoverinfo="skip", showlegend=False,
                                 marker=dict(symbol="square-open", size=14, color="red", line=dict(width=2))),
                      go.Contour(z=plotly_grid(v), x=x, y=y, showscale=False, hoverinfo="skip", name="threshold",
                                 autocontour=False,
                                 contours=self._contour_at(self.threshold.value), line=dict(color="red", width=2.5)),
                      go.Contour(z=plotly_grid(v), x=x, y=y, showscale=False, hoverinfo="skip", name="level sets",
                                 contours=dict(coloring="none"), ncontours=10, line=dict(color="white", width=0.7))],
                layout=dict(height=420, xaxis_title="a (axis 1)", yaxis_title="b (axis 2)", showlegend=False,
                            margin=dict(l=55, r=10, t=35, b=45), title="tuning map (red: the threshold)"))
        else:
            X, Y, Z = sphere_xyz(tuning_map.coords["theta_deg"], tuning_map.coords["phi_deg"])
            self._xyz = np.stack([X, Y, Z], axis=-1)
            gap = ~np.isfinite(v)  # a surface is drawn wherever it has x/y/z: leave holes where no value
            X, Y, Z = (np.where(gap, np.nan, a) for a in (X, Y, Z))
            fig = go.Figure(
                data=[go.Surface(x=plotly_grid(X), y=plotly_grid(Y), z=plotly_grid(Z), surfacecolor=plotly_grid(v),
                                 colorscale=cs, cmin=lo, cmax=hi, name="response",
                                 colorbar=dict(title=dict(text="response"), exponentformat="e"),
                                 contours=dict(x=dict(highlight=False), y=dict(highlight=False),
                                               z=dict(highlight=False)),
                                 hovertemplate="response %{surfacecolor:.4g}<extra></extra>"),
                      go.Scatter3d(x=[], y=[], z=[], mode="markers", name="selected", hoverinfo="skip",
                                   showlegend=False, marker=dict(size=7, color="red", symbol="diamond"))],
                layout=dict(height=460, margin=dict(l=0, r=0, t=35, b=0), title="tuning map on the sphere",
                            scene=dict(xaxis_title="e1 (axis 1)", yaxis_title="e2 (axis 2)",
                                       zaxis_title="e3 (axis 3)", aspectmode="cube")))
        self.figure = PlotPane(fig, layout=W.Layout(width="100%", min_width="300px", max_width="560px",
                                                    flex="1 1 440px"))
        self.figure.on_click(self._clicked)
        self.threshold.observe(lambda _c: self.update_threshold(), names="value")
        side = W.VBox([self.cell_label, self.image_widget], layout=W.Layout(min_width="200px", flex="0 1 260px"))
        self.widget = W.VBox([self.threshold, self.counts_label,
                              W.HBox([self.figure, side], layout=W.Layout(flex_flow="row wrap", width="100%"))],
                             layout=W.Layout(width="100%", max_width="860px"))
        self.update_threshold()

    def _fraction(self, c: float) -> float:
        return (c - self._lo) / ((self._hi - self._lo) or 1.0)

    def _contour_at(self, c: float) -> dict:
        return dict(coloring="none", start=c, end=c, size=1.0, showlabels=False)

    def update_threshold(self) -> None:
        """Show ``{f >= threshold}`` in full colour and count its components and holes."""
        from ..topology import betti_curves

        c = float(self.threshold.value)
        self.figure.restyle(0, {"colorscale": threshold_colorscale(self._fraction(c))})
        if self.map.kind == "plane":
            self.figure.restyle(2, {"contours": self._contour_at(c)})
        b = betti_curves(self._diagrams, np.array([c]))
        self.counts = int(b[0, 0]), int(b[1, 0])
        self.counts_label.value = (f"super-level set {{f &ge; {c:.3g}}} ({self._fraction(c):.0%} of the range), "
                                   f"in full colour: <b>{self.counts[0]}</b> component(s), <b>{self.counts[1]}</b> "
                                   f"hole(s) ({self.connectivity}-connectivity)")

    def in_superlevel_set(self) -> np.ndarray:
        """(n, m) bool: the cells at or above the threshold (what the picture shows in full colour)."""
        v = np.asarray(self.map.values, dtype=float)
        return np.nan_to_num(v, nan=-np.inf) >= float(self.threshold.value)

    def select_cell(self, row: int, col: int) -> None:
        """Show the image and value of cell (row, col), and mark it on the map."""
        n, m = self.map.shape
        if not (0 <= row < n and 0 <= col < m):
            raise ValueError(f"cell ({row}, {col}) is outside the {n} x {m} map")
        self.selected = (int(row), int(col))
        value = float(self.map.values[row, col])
        names = ("theta_deg", "phi_deg") if self.map.kind == "sphere" else ("a", "b")
        where = (f"{names[0]}={float(self.map.coords[names[0]][col]):.3g}, "
                 f"{names[1]}={float(self.map.coords[names[1]][row]):.3g}")
        self.cell_label.value = f"cell ({row}, {col}): {where}<br>response <b>{value:.4g}</b>"
        if self.map.kind == "plane":
            self.figure.restyle(1, {"x": [float(self.map.coords["a"][col])], "y": [float(self.map.coords["b"][row])]})
        else:
            x, y, z = self._xyz[row, col] * 1.03
            self.figure.restyle(1, {"x": [float(x)], "y": [float(y)], "z": [float(z)]})
        if self.generator is not None:
            import torch

            with torch.no_grad():
                img = self.map.images(self.generator, rows=[row], cols=[col])[0, 0]
            self.image_widget.value = png_bytes(img, self.scale)
            self.image_widget.layout.display = None

    def cell_at(self, x: float, y: float, z: float | None = None) -> tuple[int, int]:
        """The grid cell nearest to a point of the plot (plane: (a, b); sphere: a point in 3-D)."""
        if self.map.kind == "plane":
            return (int(np.argmin(np.abs(np.asarray(self.map.coords["b"]) - y))),
                    int(np.argmin(np.abs(np.asarray(self.map.coords["a"]) - x))))
        p = np.array([x, y, z], dtype=float)
        p /= np.linalg.norm(p) or 1.0
        d = ((self._xyz - p) ** 2).sum(-1)
        return tuple(int(i) for i in np.unravel_index(np.argmin(d), d.shape))  # type: ignore[return-value]

    def _clicked(self, click: Any) -> None:
        if click.x is None or click.y is None or (self.map.kind == "sphere" and click.z is None):
            return
        self.select_cell(*self.cell_at(click.x, click.y, click.z))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
