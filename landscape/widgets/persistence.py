"""Persistence viewer: diagram and Betti curves linked to the map (select a bar, see its region)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .map_viewer import plotly_grid


def bar_region(values: np.ndarray, dim: int, birth: float, death: float) -> np.ndarray:
    """The region of the map that a persistence bar describes (planar 8/4-connectivity).

    H0 bar (a peak born at ``birth``, merging at ``death``): the component of ``{f > death}``
    holding the peak. H1 bar (a ring closing at ``birth``, filled at ``death``): the hole of
    ``{f >= (birth + death) / 2}`` that holds the lowest value nearest ``death``.

    Returns
    -------
    mask : (n, m) bool array
    """
    from scipy import ndimage

    v = np.nan_to_num(np.asarray(values, dtype=float), nan=-np.inf)
    if dim == 0:
        inside = v > death if np.isfinite(death) else np.ones(v.shape, bool)
        labels, _ = ndimage.label(inside, structure=np.ones((3, 3)))
        peak = np.unravel_index(np.argmin(np.abs(v - birth)), v.shape)
        return labels == labels[peak]
    level = (birth + death) / 2 if np.isfinite(death) else birth
    holes, n = ndimage.label(v < level)  # 4-connected complement, dual to 8-connected sets
    border = set(np.unique(np.r_[holes[0], holes[-1], holes[:, 0], holes[:, -1]])) - {0}
    best, best_gap = None, np.inf
    for k in range(1, n + 1):
        if k in border:
            continue
        gap = abs(float(v[holes == k].min()) - death)
        if gap < best_gap:
            best, best_gap = k, gap
    return holes == best if best is not None else np.zeros(v.shape, bool)


class PersistenceViewer:
    """Persistence diagrams (H0 peaks, H1 rings) and Betti curves of a map's super-level sets.

    Parameters
    ----------
    data : TuningMap or (n, m) array
    connectivity : {8, 4}
    levels : int, thresholds of the Betti curves

    Attributes
    ----------
    widget, diagram (FigureWidget), curves (FigureWidget), map_figure (FigureWidget),
    bars : list of (dim, birth, death); bar (Dropdown); region : (n, m) bool mask of the selected bar
    """

    def __init__(self, data: Any, connectivity: int = 8, levels: int = 41) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        from ..topology import SuperlevelPersistence

        self.values = np.asarray(getattr(data, "values", data), dtype=float)
        self.persistence = SuperlevelPersistence(connectivity=connectivity, levels=levels).fit(data)
        lo, hi = self.persistence.range_
        self.bars: list[tuple[int, float, float]] = []
        for dim in (0, 1):
            for b, d in np.asarray(self.persistence.diagrams_.get(dim, np.zeros((0, 2)))):
                self.bars.append((dim, float(b), float(d)))
        self.bars.sort(key=lambda t: -(t[1] - (t[2] if np.isfinite(t[2]) else lo)))

        def death_for_plot(d: float) -> float:
            return d if np.isfinite(d) else lo

        traces = []
        for dim, colour in ((0, "royalblue"), (1, "darkorange")):
            pts = [(b, death_for_plot(d)) for k, b, d in self.bars if k == dim]
            traces.append(go.Scatter(x=[p[1] for p in pts], y=[p[0] for p in pts], mode="markers",
                                     name=f"H{dim} ({'peaks' if dim == 0 else 'rings'})",
                                     marker=dict(color=colour, size=8)))
        traces.append(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="grey", dash="dot"),
                                 showlegend=False, hoverinfo="skip"))
        traces.append(go.Scatter(x=[], y=[], mode="markers", marker=dict(size=16, symbol="circle-open",
                                                                          color="red"), name="selected"))
        self.diagram = go.FigureWidget(data=traces, layout=dict(
            height=320, width=340, title="persistence (super-level)", xaxis_title="death level",
            yaxis_title="birth level", margin=dict(l=50, r=10, t=30, b=40)))
        x = self.persistence.level_fraction_
        self.curves = go.FigureWidget(data=[go.Scatter(x=x, y=self.persistence.betti_[0], name="b0 components"),
                                            go.Scatter(x=x, y=self.persistence.betti_[1], name="b1 holes"),
                                            go.Scatter(x=x, y=self.persistence.euler_, name="Euler", line=dict(dash="dot"))],
                                      layout=dict(height=320, width=360, title="Betti curves",
                                                  xaxis_title="threshold (fraction of range)",
                                                  margin=dict(l=40, r=10, t=30, b=40)))
        self.map_figure = go.FigureWidget(
            data=[go.Heatmap(z=plotly_grid(self.values), colorscale="Viridis", showscale=False),
                  go.Heatmap(z=plotly_grid(np.full_like(self.values, np.nan)), colorscale=[[0, "red"], [1, "red"]],
                             opacity=0.45, showscale=False, hoverinfo="skip")],
            layout=dict(height=320, width=320, title="selected region", margin=dict(l=30, r=10, t=30, b=30)))
        options = [(f"H{k}: birth {b:.3g}, death {d:.3g}, persistence {(b - death_for_plot(d)):.3g}", i)
                   for i, (k, b, d) in enumerate(self.bars)]
        self.bar = W.Dropdown(options=options, description="bar", layout=W.Layout(width="520px"))
        self.bar.observe(lambda _c: self.select(self.bar.value), names="value")
        for t in (0, 1):
            self.diagram.data[t].on_click(self._clicked)
        self.summary = W.HTML(f"significant peaks: <b>{self.persistence.n_peaks_}</b>, rings: "
                              f"<b>{self.persistence.n_rings_}</b> ({connectivity}-connectivity)")
        self.widget = W.VBox([self.summary, self.bar, W.HBox([self.diagram, self.curves, self.map_figure])])
        self._death_for_plot = death_for_plot
        if self.bars:
            self.select(0)

    def select(self, i: int) -> None:
        """Select bar ``i`` (index into ``bars``): mark it and highlight its region of the map."""
        dim, b, d = self.bars[i]
        self.region = bar_region(self.values, dim, b, d)
        self.map_figure.data[1].z = plotly_grid(np.where(self.region, 1.0, np.nan))
        self.diagram.data[3].x = [self._death_for_plot(d)]
        self.diagram.data[3].y = [b]
        if self.bar.value != i:
            self.bar.value = i

    def _clicked(self, trace: Any, points: Any, state: Any) -> None:
        if not points.point_inds:
            return
        dim = 0 if trace is self.diagram.data[0] else 1
        idx = [i for i, bar in enumerate(self.bars) if bar[0] == dim][points.point_inds[0]]
        self.select(idx)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
