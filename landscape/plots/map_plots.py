"""Tuning maps drawn: the map's shape (heatmap with contours, or the sphere as a sphere), heatmaps in
map coordinates beside the smoothed sphere, and a PNG heatmap drawn with Pillow.

The PNG puts rows with the lowest latitude / ``b`` at the bottom, NaN cells grey, the peak
marked with a white ring, and a colour bar on the right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from landscape.maps.tuning_map import TuningMap
from landscape.plots.display import Display, register
from landscape.plots.raster import colormap


def sphere_xyz(theta_deg: np.ndarray, phi_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, m) Cartesian coordinates of a (phi rows x theta columns) grid on the unit sphere."""
    th, ph = np.meshgrid(np.deg2rad(theta_deg), np.deg2rad(phi_deg))
    return np.cos(th) * np.cos(ph), np.sin(th) * np.cos(ph), np.sin(ph)


def _axis_names(tm: Any) -> tuple[str, str, np.ndarray, np.ndarray]:
    if tm.kind == "sphere":
        return "theta (deg)", "phi (deg)", tm.coords["theta_deg"], tm.coords["phi_deg"]
    return "a (axis 1)", "b (axis 2)", tm.coords["a"], tm.coords["b"]


def map_title(tm: Any) -> str:
    """``model layer chN | generator | kind map``."""
    u = tm.unit
    who = f"{u.get('model', u.get('type', 'unit'))} {u.get('layer', '')} ch{u.get('channel', '')}".strip()
    return f"{who} | {tm.generator} | {tm.kind} map"


@register(TuningMap)
class TuningMapDisplay(Display):
    """A tuning map.

    Parameters
    ----------
    result : TuningMap
    name : str or None
        Shown in the title of :meth:`figure` (e.g. the file name).
    smoothed : SmoothedSphere or None
        Shown beside the measured map by :meth:`heatmap_figure`.
    cell : int or None
        Pixels per grid cell of :meth:`image` (default: about 420 pixels for the larger side).
    """

    def __init__(self, result: Any, *, name: str | None = None, smoothed: Any = None, cell: int | None = None) -> None:
        super().__init__(result)
        self.name, self.smoothed, self.cell = name, smoothed, cell

    def figure(self) -> Any:
        """A plane map as a heatmap with contour lines; a sphere map as a 3-D surface."""
        import plotly.graph_objects as go

        tm = self.result
        title = " ".join(["tuning map", *([self.name] if self.name else []), f"({tm.kind}, {tm.shape[0]}x{tm.shape[1]})"])
        if tm.kind == "plane":
            fig = go.Figure(go.Heatmap(z=tm.values, x=tm.coords["a"], y=tm.coords["b"], colorscale="Viridis",
                                       colorbar=dict(title=dict(text="response"))))
            fig.add_trace(go.Contour(z=tm.values, x=tm.coords["a"], y=tm.coords["b"], showscale=False,
                                     contours=dict(coloring="none"), line=dict(color="white")))
            fig.update_layout(xaxis_title="a (axis 1)", yaxis_title="b (axis 2)")
        else:
            X, Y, Z = sphere_xyz(tm.coords["theta_deg"], tm.coords["phi_deg"])
            gap = ~np.isfinite(tm.values)  # a surface is drawn wherever it has x/y/z: leave holes where no value
            X, Y, Z = (np.where(gap, np.nan, a) for a in (X, Y, Z))
            fig = go.Figure(go.Surface(x=X, y=Y, z=Z, surfacecolor=tm.values, colorscale="Viridis",
                                       colorbar=dict(title=dict(text="response")),
                                       hovertemplate="response %{surfacecolor:.4g}<extra></extra>"))
            fig.update_layout(scene=dict(xaxis_title="e1 (axis 1)", yaxis_title="e2 (axis 2)",
                                         zaxis_title="e3 (axis 3)", aspectmode="cube"),
                              margin=dict(l=0, r=0, t=40, b=0))
        fig.update_layout(title=title, height=460, width=520)
        return fig

    def heatmap_figure(self) -> Any:
        """The measured values (hover: response and sem) in map coordinates, and the smoothed
        sphere beside them when given."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        tm, smoothed = self.result, self.smoothed
        xname, yname, xs, ys = _axis_names(tm)
        cols = 2 if smoothed is not None else 1
        fig = make_subplots(rows=1, cols=cols, subplot_titles=("measured", f"smoothed (s = {smoothed.s:.3g})")
                            if smoothed is not None else ("measured",))
        extra = tm.sem if tm.sem is not None else np.full(tm.shape, np.nan)
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=tm.values, customdata=extra, colorscale="Viridis",
                                 colorbar={"title": "response"},
                                 hovertemplate=f"{xname}=%{{x:.4g}}<br>{yname}=%{{y:.4g}}<br>response=%{{z:.4g}}"
                                               "<br>sem=%{customdata:.3g}<extra></extra>"), row=1, col=1)
        if smoothed is not None:
            fig.add_trace(go.Heatmap(x=smoothed.theta_deg, y=smoothed.phi_deg, z=smoothed.values,
                                     colorscale="Viridis", showscale=False,
                                     hovertemplate="theta=%{x:.1f}<br>phi=%{y:.1f}<br>smoothed=%{z:.4g}<extra></extra>"),
                          row=1, col=2)
        for c in range(1, cols + 1):
            fig.update_xaxes(title_text=xname, row=1, col=c)
            fig.update_yaxes(title_text=yname, row=1, col=c, scaleanchor=f"x{'' if c == 1 else c}")
        fig.update_layout(title=map_title(tm), width=520 * cols, height=560)
        return fig

    def image(self) -> Any:
        """The values as a heatmap with axes, the peak ringed and a colour bar (PIL image)."""
        from PIL import Image, ImageDraw, ImageFont

        tm = self.result
        vals = tm.values
        n, m = vals.shape
        cell = self.cell or max(2, 420 // max(n, m))
        lo, hi = (np.nanmin(vals), np.nanmax(vals)) if np.isfinite(vals).any() else (0.0, 1.0)
        norm = (vals - lo) / (hi - lo) if hi > lo else np.zeros_like(vals)
        rgb = colormap(norm[::-1])  # row 0 (lowest latitude) at the bottom
        heat = Image.fromarray(rgb, "RGB").resize((m * cell, n * cell), Image.NEAREST)
        left, right, top, bottom = 70, 110, 40, 55
        W, H = left + heat.width + right, top + heat.height + bottom
        img = Image.new("RGB", (W, H), "white")
        img.paste(heat, (left, top))
        draw = ImageDraw.Draw(img)
        font = ImageFont.load_default()
        xname, yname, xs, ys = _axis_names(tm)
        draw.text((left, 10), map_title(tm), fill="black", font=font)
        for j in sorted({0, m // 2, m - 1}):
            x = left + j * cell + cell // 2
            draw.line([(x, top + heat.height), (x, top + heat.height + 5)], fill="black")
            draw.text((x - 12, top + heat.height + 8), f"{xs[j]:g}", fill="black", font=font)
        for i in sorted({0, n // 2, n - 1}):
            y = top + (n - 1 - i) * cell + cell // 2
            draw.line([(left - 5, y), (left, y)], fill="black")
            draw.text((left - 40, y - 6), f"{ys[i]:g}", fill="black", font=font)
        draw.text((left + heat.width // 2 - 30, H - 22), xname, fill="black", font=font)
        box = draw.textbbox((0, 0), yname, font=font)
        label = Image.new("RGB", (box[2] + 2, box[3] + 2), "white")
        ImageDraw.Draw(label).text((1, 0), yname, fill="black", font=font)
        label = label.rotate(90, expand=True)
        img.paste(label, (8, top + heat.height // 2 - label.height // 2))
        if np.isfinite(vals).any():
            i, j = np.unravel_index(np.nanargmax(vals), vals.shape)
            cx, cy, rad = left + j * cell + cell // 2, top + (n - 1 - i) * cell + cell // 2, max(3, cell // 2)
            draw.ellipse([cx - rad, cy - rad, cx + rad, cy + rad], outline="white", width=2)
        bar_x, bar_w = left + heat.width + 20, 18
        grad = colormap(np.linspace(1, 0, heat.height)[:, None].repeat(bar_w, axis=1))
        img.paste(Image.fromarray(grad, "RGB"), (bar_x, top))
        draw.rectangle([bar_x, top, bar_x + bar_w, top + heat.height], outline="black")
        draw.text((bar_x + bar_w + 5, top - 4), f"{hi:.3g}", fill="black", font=font)
        draw.text((bar_x + bar_w + 5, top + heat.height - 8), f"{lo:.3g}", fill="black", font=font)
        return img
