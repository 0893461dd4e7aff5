"""Persistence viewer: diagram and Betti curves linked to the map (select a bar, see its region)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .map_viewer import plotly_grid

#: one line per number the viewer shows, in plain words (also used by the HTML report)
EXPLANATIONS = {
    "bar": "A bar is one feature of the super-level sets {f >= c} as the threshold c comes down from the "
           "maximum: it is born at one level and dies at a lower one.",
    "H0": "H0 (peaks): a component appears at a peak's height (birth) and merges into a higher one at a "
          "saddle (death); birth - death is the peak's prominence.",
    "H1": "H1 (rings): a ring closes around a lower region (birth) and disappears when that region fills "
          "(death).",
    "persistence": "Persistence = birth - death, in response units: how far the threshold must move for the "
                   "feature to exist. Points far from the diagonal are real features, points near it noise.",
    "never dies": "The highest peak's component never dies (death -inf); it is drawn at the map's minimum.",
}


def _label(mask: np.ndarray, wrap: bool, poles: tuple[bool, bool], diagonal: bool) -> tuple[np.ndarray, int]:
    """Connected components of ``mask`` with the longitude seam joined and pole rows as single points."""
    from scipy import ndimage

    structure = np.ones((3, 3)) if diagonal else None
    labels, n = ndimage.label(mask, structure=structure)
    parent = list(range(n + 1))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        if a and b:
            parent[find(a)] = find(b)

    rows, m = labels.shape
    if wrap:
        for r in range(rows):
            union(labels[r, 0], labels[r, m - 1])
            if diagonal:
                for dr in (-1, 1):
                    if 0 <= r + dr < rows:
                        union(labels[r, 0], labels[r + dr, m - 1])
    for r, is_pole in zip((0, rows - 1), poles):
        if is_pole:
            ids = [i for i in np.unique(labels[r]) if i]
            for i in ids[1:]:
                union(ids[0], i)
    roots = np.array([find(i) for i in range(n + 1)])
    return roots[labels], n


def bar_region(values: np.ndarray, dim: int, birth: float, death: float, *, wrap: bool = False,
               poles: tuple[bool, bool] = (False, False), connectivity: int = 8) -> np.ndarray:
    """The region of the map that a persistence bar describes.

    H0 bar (a peak born at ``birth``, merging at ``death``): the component of ``{f > death}``
    holding the peak. H1 bar (a ring closing at ``birth``, filled at ``death``): the hole of
    ``{f >= (birth + death) / 2}`` whose lowest value is nearest ``death``. Components follow the
    map's domain: ``wrap`` joins the longitude seam, ``poles`` make the first / last row one point;
    sets are ``connectivity``-connected and their complements use the dual connectivity.

    Parameters
    ----------
    values : (n, m) array
    dim : 0 or 1
    birth, death : float (``death = -inf`` for the class that never dies)

    Returns
    -------
    mask : (n, m) bool array
    """
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=-np.inf)
    diagonal = connectivity == 8
    if dim == 0:
        inside = v > death if np.isfinite(death) else np.ones(v.shape, bool)
        labels, _ = _label(inside, wrap, poles, diagonal)
        peak = np.unravel_index(np.argmin(np.where(inside, np.abs(v - birth), np.inf)), v.shape)
        return labels == labels[peak]
    level = (birth + death) / 2 if np.isfinite(death) else birth
    holes, n = _label(v < level, wrap, poles, not diagonal)
    edge_rows = [r for r, p in zip((0, v.shape[0] - 1), poles) if not p]
    border = set(np.unique(holes[edge_rows])) if edge_rows else set()
    if not wrap:
        border |= set(np.unique(np.r_[holes[:, 0], holes[:, -1]]))
    border -= {0}
    best, best_gap = None, np.inf
    for k in np.unique(holes):
        if k == 0 or k in border:
            continue
        gap = abs(float(v[holes == k].min()) - death)
        if gap < best_gap:
            best, best_gap = k, gap
    return holes == best if best is not None else np.zeros(v.shape, bool)


class PersistenceViewer:
    """Persistence diagram (H0 peaks, H1 rings) and Betti curves of a map's super-level sets.

    Choose a bar in the list or click its point in the diagram: its region is painted on the
    map and its lifetime shaded on the Betti curves. At start the most persistent bar that dies
    is selected (the highest peak's bar never dies and would paint the whole map).

    Parameters
    ----------
    data : TuningMap or (n, m) array
    connectivity : {8, 4}
    levels : int, thresholds of the Betti curves

    Attributes
    ----------
    widget, diagram, curves, map_figure : :class:`~landscape.widgets.plotpane.PlotPane` panels
    bars : list of (dim, birth, death) Python floats, most persistent first
    bar : ipywidgets.Dropdown (value: index into ``bars``, or None)
    region : (n, m) bool mask of the selected bar (all False when none is selected)
    selected : index of the selected bar or None
    """

    def __init__(self, data: Any, connectivity: int = 8, levels: int = 41) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        from ..topology import SuperlevelPersistence
        from ..topology.domain import as_field
        from .plotpane import PlotPane

        self.persistence = SuperlevelPersistence(connectivity=connectivity, levels=levels).fit(data)
        field = as_field(data)
        self.connectivity = connectivity
        self.values = np.asarray(field.values, dtype=float)
        self._wrap, self._poles = bool(field.domain.wrap), tuple(bool(p) for p in field.domain.poles)
        lo, hi = self.persistence.range_
        self._lo, self._hi = lo, hi
        self.bars: list[tuple[int, float, float]] = []
        for dim in (0, 1):
            for b, d in np.asarray(self.persistence.diagrams_.get(dim, np.zeros((0, 2)))):
                self.bars.append((dim, float(b), float(d)))
        self.bars.sort(key=lambda t: -(t[1] - self._death_for_plot(t[2])))

        finite = [i for i, (_, _, d) in enumerate(self.bars) if np.isfinite(d)]
        first = finite[0] if finite else None
        self.region = self._region(first)
        sel = ([self._death_for_plot(self.bars[first][2])], [self.bars[first][1]]) if first is not None else ([], [])

        traces = []
        for dim, colour, label in ((0, "royalblue", "H0 peaks"), (1, "darkorange", "H1 rings")):
            pts = [(b, d) for k, b, d in self.bars if k == dim]
            traces.append(go.Scatter(
                x=[self._death_for_plot(d) for _, d in pts], y=[b for b, _ in pts], mode="markers", name=label,
                marker=dict(color=colour, size=9,
                            symbol=["triangle-up" if not np.isfinite(d) else "circle" for _, d in pts]),
                customdata=[[b - self._death_for_plot(d)] for b, d in pts],
                hovertemplate="birth %{y:.4g}<br>death %{x:.4g}<br>persistence %{customdata[0]:.4g}<extra></extra>"))
        traces.append(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="grey", dash="dot"),
                                 showlegend=False, hoverinfo="skip"))
        traces.append(go.Scatter(x=sel[0], y=sel[1], mode="markers", name="selected", hoverinfo="skip",
                                 marker=dict(size=18, symbol="circle-open", color="red", line=dict(width=2.5))))
        panel = dict(height=330, margin=dict(l=55, r=10, t=35, b=80),
                     legend=dict(orientation="h", y=-0.28, x=0))
        self.diagram = PlotPane(go.Figure(traces, layout=dict(
            title="persistence diagram", xaxis_title="death level", yaxis_title="birth level", **panel)),
            layout=self._panel_layout(W))
        x = self.persistence.level_fraction_
        self.curves = PlotPane(go.Figure(
            [go.Scatter(x=x, y=self.persistence.betti_[0], name="b0 components", line=dict(shape="hv")),
             go.Scatter(x=x, y=self.persistence.betti_[1], name="b1 holes", line=dict(shape="hv")),
             go.Scatter(x=x, y=self.persistence.euler_, name="Euler b0-b1+b2", line=dict(dash="dot", shape="hv"))],
            layout=dict(title="Betti curves", xaxis_title="threshold (fraction of range)",
                        yaxis_title="count", shapes=self._span(first), **panel)), layout=self._panel_layout(W))
        coords = field.domain.coords or {}
        if "theta_deg" in coords:
            cx, cy, xt, yt = coords["theta_deg"], coords["phi_deg"], "theta (deg)", "phi (deg)"
        elif "a" in coords:
            cx, cy, xt, yt = coords["a"], coords["b"], "a (axis 1)", "b (axis 2)"
        else:
            cx, cy, xt, yt = np.arange(self.values.shape[1]), np.arange(self.values.shape[0]), "column", "row"
        cx, cy = np.asarray(cx, float)[: self.values.shape[1]], np.asarray(cy, float)[: self.values.shape[0]]
        self.map_figure = PlotPane(go.Figure(
            [go.Heatmap(z=plotly_grid(self.values), x=cx, y=cy, colorscale="Viridis", showscale=False,
                        hovertemplate="response %{z:.4g}<extra></extra>"),
             go.Heatmap(z=plotly_grid(np.where(self.region, 1.0, np.nan)), x=cx, y=cy, showscale=False,
                        colorscale=[[0, "red"], [1, "red"]], opacity=0.5, hoverinfo="skip")],
            layout=dict(title="region of the selected bar", xaxis_title=xt, yaxis_title=yt,
                        height=330, margin=dict(l=55, r=10, t=35, b=80))), layout=self._panel_layout(W))

        options = [("(none)", None)] + [
            (f"H{k} {'peak' if k == 0 else 'ring'}: birth {b:.3g}, death "
             f"{'never' if not np.isfinite(d) else f'{d:.3g}'}, persistence {b - self._death_for_plot(d):.3g}", i)
            for i, (k, b, d) in enumerate(self.bars)]
        self.bar = W.Dropdown(options=options, value=first, description="bar",
                              style={"description_width": "initial"}, layout=W.Layout(width="100%", max_width="640px"))
        self.bar.observe(lambda c: self.select(c["new"]), names="value")
        self.diagram.on_click(self._clicked)
        self.summary = W.HTML(
            f"significant peaks: <b>{self.persistence.n_peaks_}</b>, rings: <b>{self.persistence.n_rings_}</b> "
            f"(persistence above {self.persistence.threshold:.0%} of the range; {connectivity}-connectivity). "
            f"<details><summary>what the numbers mean</summary><ul>"
            + "".join(f"<li>{t}</li>" for t in EXPLANATIONS.values()) + "</ul></details>")
        self.selected: int | None = first
        self.widget = W.VBox([self.summary, self.bar,
                              W.HBox([self.diagram, self.curves, self.map_figure],
                                     layout=W.Layout(flex_flow="row wrap", width="100%"))],
                             layout=W.Layout(width="100%"))

    @staticmethod
    def _panel_layout(W: Any) -> Any:
        return W.Layout(flex="1 1 300px", min_width="260px", max_width="440px")

    def _death_for_plot(self, d: float) -> float:
        return d if np.isfinite(d) else self._lo

    def _region(self, i: int | None) -> np.ndarray:
        if i is None:
            return np.zeros(self.values.shape, bool)
        dim, b, d = self.bars[i]
        return bar_region(self.values, dim, b, d, wrap=self._wrap, poles=self._poles, connectivity=self.connectivity)

    def _span(self, i: int | None) -> list[dict]:
        """The selected bar's lifetime, shaded on the Betti curves."""
        if i is None:
            return []
        _, b, d = self.bars[i]
        span = self._hi - self._lo or 1.0
        return [dict(type="rect", xref="x", yref="paper", y0=0, y1=1, x0=(self._death_for_plot(d) - self._lo) / span,
                     x1=(b - self._lo) / span, fillcolor="red", opacity=0.12, line=dict(width=0))]

    def select(self, i: int | None) -> None:
        """Select bar ``i`` (index into ``bars``; None for none): mark it and paint its region."""
        if i is not None and not 0 <= i < len(self.bars):
            raise ValueError(f"bar index {i} outside 0..{len(self.bars) - 1}")
        self.selected = i
        self.region = self._region(i)
        if i is None:
            self.diagram.restyle(3, {"x": [], "y": []})
        else:
            _, b, d = self.bars[i]
            self.diagram.restyle(3, {"x": [self._death_for_plot(d)], "y": [b]})
        self.curves.relayout({"shapes": self._span(i)})
        self.map_figure.restyle(1, {"z": plotly_grid(np.where(self.region, 1.0, np.nan))})
        if self.bar.value != i:
            self.bar.value = i

    def _clicked(self, click: Any) -> None:
        if click.trace not in (0, 1) or click.point is None:
            return
        self.select([i for i, bar in enumerate(self.bars) if bar[0] == click.trace][int(click.point)])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
