"""Topology drawn: a signature's level sets over the map, persistence diagram and count curves, and a
survey's signatures across layers.

PNGs are drawn with Pillow (no plotting library needed); the HTML pages are plotly figures with
plotly.js embedded (they open offline). Maps are drawn with row 0 at the bottom (latitude -90 /
the lowest ``b`` at the bottom).

Files written by :meth:`SignatureDisplay.write` (``landscape topology`` writes them):

``level_sets.png``
    The map (viridis) with its level-set curves at every level: loops white, lines ending on
    the border red.
``diagram.png``
    Super-level persistence diagram: birth (x) against death (y), H0 blue, H1 orange,
    H2 green; classes that never die sit on the dashed line below the minimum.
``counts.png``
    Loops, lines and branches (solid) and Betti numbers b0, b1 (dashed) over the level
    fraction.
``topology.html``
    The three panels, interactive.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from landscape.io import save_png
from landscape.plots.display import Display, register, write_html
from landscape.plots.raster import colormap, plot_axes
from landscape.topology.contours import trace_level_set
from landscape.topology.hierarchy import SurveyResult
from landscape.topology.signature import TopologySignature

LOOP_RGB, LINE_RGB = (255, 255, 255), (230, 30, 60)
DIM_RGB = {0: (31, 119, 180), 1: (255, 127, 14), 2: (44, 160, 44)}
_CURVES = (("loops", (31, 119, 180), False), ("lines", (214, 39, 40), False), ("branches", (60, 60, 60), False),
           ("b0", (44, 160, 44), True), ("b1", (148, 103, 189), True))


def _level_sets(sig: Any) -> list[Any]:
    lo, hi = sig.range_
    return [trace_level_set(sig.field_, c) for c in sig.contours_.levels_ if lo < c < hi]


@register(TopologySignature)
class SignatureDisplay(Display):
    """A fitted :class:`~landscape.topology.signature.TopologySignature`: :meth:`figure` (three
    panels), :meth:`image` (the level sets), :meth:`diagram_figure`, and :meth:`write` (all files)."""

    def image(self) -> Any:
        """The map with its level-set curves (PIL image)."""
        return self.level_sets_image()

    def level_sets_image(self, size: int = 600) -> Any:
        """The map with its level-set curves.

        Parameters
        ----------
        size : int
            Approximate side of the map area in pixels.

        Returns
        -------
        PIL.Image.Image
        """
        from PIL import Image, ImageDraw

        sig = self.result
        v = sig.field_.values
        n, m = v.shape
        lo, hi = sig.range_
        s = max(2, int(np.ceil(size / max(n, m))))
        rgb = colormap((v - lo) / (hi - lo) if hi > lo else np.zeros_like(v))[::-1]
        margin = 28
        img = Image.new("RGB", (m * s + 2 * margin, n * s + 2 * margin), "white")
        img.paste(Image.fromarray(rgb).resize((m * s, n * s), Image.NEAREST), (margin, margin))
        draw = ImageDraw.Draw(img)
        width = max(1, s // 12)
        for ls in _level_sets(sig):
            for seg, comp in zip(ls.segments, ls.component):
                (r0, c0), (r1, c1) = seg
                xy = [margin + (c0 + 0.5) * s, margin + (n - 0.5 - r0) * s,
                      margin + (c1 + 0.5) * s, margin + (n - 0.5 - r1) * s]
                draw.line(xy, fill=LOOP_RGB if ls.closed[comp] else LINE_RGB, width=width)
        dom = sig.field_.domain
        draw.text((margin, 6), f"{dom.kind} map {n}x{m}: level sets at {len(sig.contours_.levels_)} levels "
                               f"(white loops, red lines)", fill="black")
        if dom.kind == "sphere" and "theta_deg" in dom.coords:
            t, p = dom.coords["theta_deg"], dom.coords["phi_deg"]
            draw.text((margin, n * s + margin + 6), f"theta {t[0]:.0f} .. {t[-1]:.0f} deg (left to right), "
                                                    f"phi {p[0]:.0f} .. {p[-1]:.0f} deg (bottom to top)", fill="black")
        return img

    def diagram_image(self, size: int = 420) -> Any:
        """Persistence diagram of the super-level sets (PIL image)."""
        from PIL import Image, ImageDraw

        sig = self.result
        lo, hi = sig.range_
        pad = 0.08 * (hi - lo if hi > lo else 1.0)
        never = lo - pad
        img = Image.new("RGB", (size + 70, size + 60), "white")
        draw = ImageDraw.Draw(img)
        box = (60, 25, size + 50, size + 15)
        to_px = plot_axes(draw, box, (lo, hi), (never, hi), "birth (peak / ring appears)", "death")
        x0, y0 = to_px(np.array([lo, hi]), np.array([lo, hi]))
        draw.line([x0[0], y0[0], x0[1], y0[1]], fill=(150, 150, 150))
        nx, ny = to_px(np.array([lo, hi]), np.array([never, never]))
        for k in range(0, int(nx[1] - nx[0]), 8):
            draw.line([nx[0] + k, ny[0], nx[0] + k + 4, ny[0]], fill=(120, 120, 120))
        draw.text((box[0] + 4, ny[0] - 14), "never dies", fill=(120, 120, 120))
        for dim in (2, 1, 0):
            d = sig.diagrams_[dim]
            if not d.size:
                continue
            death = np.where(np.isfinite(d[:, 1]), d[:, 1], never)
            px, py = to_px(d[:, 0], death)
            r = 4 if dim == 0 else 3
            for x, y in zip(px, py):
                draw.ellipse([x - r, y - r, x + r, y + r], outline=DIM_RGB[dim], width=2)
        draw.text((box[0] + 4, 6), "super-level persistence: H0 blue, H1 orange, H2 green", fill="black")
        return img

    def counts_image(self, size: int = 420) -> Any:
        """Count and Betti curves over the level fraction (PIL image)."""
        from PIL import Image, ImageDraw

        sig = self.result
        t = sig.table()
        x = t["level_fraction"]
        if not np.all(np.isfinite(x)):
            x = np.linspace(0, 1, x.size)
        ymax = max(1, int(max(t[k].max() for k, _, _ in _CURVES)))
        img = Image.new("RGB", (size + 70, size + 60), "white")
        draw = ImageDraw.Draw(img)
        box = (60, 25, size + 50, size + 15)
        to_px = plot_axes(draw, box, (0.0, 1.0), (0.0, float(ymax)), "level fraction", "count")
        for i, (name, rgb, dashed) in enumerate(_CURVES):
            px, py = to_px(x, t[name])
            pts = list(zip(px, py))
            for k, (a, b) in enumerate(zip(pts[:-1], pts[1:])):
                if not dashed or k % 2 == 0:
                    draw.line([a, b], fill=rgb, width=2)
            draw.text((box[2] - 70, box[1] + 4 + 12 * i), name, fill=rgb)
        draw.text((box[0] + 4, 6), "level-set curves (solid) and Betti numbers (dashed)", fill="black")
        return img

    def figure(self) -> Any:
        """Interactive plotly figure: map with level sets, persistence diagram, count curves."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        sig = self.result
        fig = make_subplots(rows=1, cols=3, subplot_titles=("level sets (loops white, lines red)",
                                                            "persistence diagram", "counts over level fraction"))
        v = sig.field_.values
        fig.add_trace(go.Heatmap(z=v, colorscale="Viridis", colorbar=dict(x=0.28, len=0.9), name="map"), 1, 1)
        for closed, rgb, name in ((True, LOOP_RGB, "loops"), (False, LINE_RGB, "lines")):
            xs: list[float | None] = []
            ys: list[float | None] = []
            for ls in _level_sets(sig):
                keep = ls.closed[ls.component] == closed
                for (r0, c0), (r1, c1) in ls.segments[keep]:
                    xs += [c0, c1, None]
                    ys += [r0, r1, None]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=f"rgb{rgb}", width=1.5), name=name,
                                     hoverinfo="skip"), 1, 1)
        lo, hi = sig.range_
        never = lo - 0.08 * (hi - lo if hi > lo else 1.0)
        for dim in (0, 1, 2):
            d = sig.diagrams_[dim]
            if d.size:
                death = np.where(np.isfinite(d[:, 1]), d[:, 1], never)
                fig.add_trace(go.Scatter(x=d[:, 0], y=death, mode="markers", name=f"H{dim}",
                                         marker=dict(color=f"rgb{DIM_RGB[dim]}")), 1, 2)
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="gray", dash="dot"),
                                 showlegend=False), 1, 2)
        t = sig.table()
        for name, rgb, dashed in _CURVES:
            fig.add_trace(go.Scatter(x=t["level_fraction"], y=t[name], mode="lines+markers", name=name,
                                     line=dict(color=f"rgb{rgb}", dash="dash" if dashed else "solid")), 1, 3)
        fig.update_xaxes(title_text="birth", row=1, col=2)
        fig.update_yaxes(title_text="death (bottom: never)", row=1, col=2)
        fig.update_xaxes(title_text="level fraction", row=1, col=3)
        fig.update_layout(width=1500, height=520, title="topological signature")
        return fig

    def write(self, out: str | Path) -> dict[str, Path]:
        """Write ``level_sets.png``, ``diagram.png``, ``counts.png`` and ``topology.html`` into ``out``."""
        out = Path(out)
        paths = {"level_sets": out / "level_sets.png", "diagram": out / "diagram.png", "counts": out / "counts.png",
                 "html": out / "topology.html"}
        save_png(paths["level_sets"], np.asarray(self.level_sets_image()))
        save_png(paths["diagram"], np.asarray(self.diagram_image()))
        save_png(paths["counts"], np.asarray(self.counts_image()))
        write_html(self.figure(), paths["html"])
        return paths

    def diagram_figure(self) -> Any:
        """The persistence diagram alone (death level x, birth level y; the peak that never dies
        is drawn at the minimum as a triangle)."""
        import plotly.graph_objects as go

        sig = self.result
        lo, hi = sig.range_
        fig = go.Figure()
        for dim, colour, label in ((0, "royalblue", "H0 peaks"), (1, "darkorange", "H1 rings")):
            d = np.asarray(sig.diagrams_.get(dim, np.zeros((0, 2))))
            if not d.size:
                continue
            death = np.where(np.isfinite(d[:, 1]), d[:, 1], lo)
            fig.add_trace(go.Scatter(x=death, y=d[:, 0], mode="markers", name=label,
                                     marker=dict(color=colour, size=9,
                                                 symbol=np.where(np.isfinite(d[:, 1]), "circle", "triangle-up")),
                                     hovertemplate="birth %{y:.4g}<br>death %{x:.4g}<extra></extra>"))
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color="grey", dash="dot"),
                                 showlegend=False, hoverinfo="skip"))
        fig.update_layout(title="persistence diagram (super-level sets)", xaxis_title="death level",
                          yaxis_title="birth level", height=380, width=420, legend=dict(orientation="h", y=-0.25))
        return fig


#: the survey's columns drawn per layer
SURVEY_COLUMNS = ("loops_auc", "lines_auc", "branches_auc", "isolation_level", "n_peaks", "second_peak_prominence",
                  "betti1_auc", "n_maxima", "anisotropy_80", "anisotropy_50")


@register(SurveyResult)
class SurveyDisplay(Display):
    """A :class:`~landscape.topology.hierarchy.SurveyResult`: per-layer mean +- sem of the main
    signature components (:meth:`figure`, :meth:`image`); :meth:`write` writes ``survey.png``
    and ``survey.html`` into the survey folder."""

    def write(self, out: str | Path | None = None) -> dict[str, Path]:
        out = Path(out) if out is not None else self.result.out
        paths = {"png": out / "survey.png", "html": out / "survey.html"}
        self.save_png(paths["png"])
        self.write_html(paths["html"])
        return paths

    def image(self, panel: int = 230) -> Any:
        """Small multiples: per-layer mean +- sem of the main columns (PIL image)."""
        from PIL import Image, ImageDraw

        res = self.result
        show = SURVEY_COLUMNS
        table = res.layer_table()
        cols = 5
        rows_n = int(np.ceil(len(show) / cols))
        img = Image.new("RGB", (cols * (panel + 40) + 20, rows_n * (panel + 60) + 30), "white")
        draw = ImageDraw.Draw(img)
        names = ", ".join(f"{d}={ly}" for d, ly in enumerate(res.layers))
        draw.text((10, 6), f"survey: per-layer mean +- sem over units; x = depth ({names})", fill="black")
        x = np.arange(len(table))
        for i, c in enumerate(show):
            ox = 40 + (i % cols) * (panel + 40)
            oy = 40 + (i // cols) * (panel + 60)
            mean = np.array([r[f"{c}_mean"] for r in table])
            sem = np.nan_to_num(np.array([r[f"{c}_sem"] for r in table]))
            ok = np.isfinite(mean)
            draw.rectangle([ox, oy, ox + panel, oy + panel], outline="black")
            draw.text((ox + 4, oy - 14), c, fill="black")
            if not ok.any():
                continue
            lo_v = float(np.min((mean - sem)[ok]))
            hi_v = float(np.max((mean + sem)[ok]))
            if hi_v <= lo_v:
                hi_v = lo_v + 1.0
            px = ox + 15 + x * (panel - 30) / max(1, len(x) - 1)
            py = oy + panel - 10 - (mean - lo_v) / (hi_v - lo_v) * (panel - 20)
            for j in np.flatnonzero(ok):
                e = sem[j] / (hi_v - lo_v) * (panel - 20)
                draw.line([px[j], py[j] - e, px[j], py[j] + e], fill=(31, 119, 180), width=2)
                draw.ellipse([px[j] - 3, py[j] - 3, px[j] + 3, py[j] + 3], fill=(31, 119, 180))
            pts = [(px[j], py[j]) for j in np.flatnonzero(ok)]
            if len(pts) > 1:
                draw.line(pts, fill=(31, 119, 180), width=1)
            for j in range(len(x)):
                draw.text((px[j] - 3, oy + panel + 2), str(j), fill="black")
            draw.text((ox + 2, oy + panel + 16), f"y: {lo_v:.3g} .. {hi_v:.3g}", fill=(90, 90, 90))
        return img

    def figure(self) -> Any:
        """Per-layer mean +- sem of the main columns, every unit a grey dot."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        res = self.result
        show = SURVEY_COLUMNS
        table = res.layer_table()
        fig = make_subplots(rows=2, cols=5, subplot_titles=show)
        names = [r["layer"] for r in table]
        for i, c in enumerate(show):
            fig.add_trace(go.Scatter(x=names, y=[r[f"{c}_mean"] for r in table], mode="lines+markers", name=c,
                                     error_y=dict(type="data", array=[r[f"{c}_sem"] for r in table]),
                                     showlegend=False), i // 5 + 1, i % 5 + 1)
            d = np.array([u["depth"] for u in res.units])
            fig.add_trace(go.Scatter(x=[names[k] for k in d], y=res.column(c), mode="markers", opacity=0.35,
                                     marker=dict(size=5, color="gray"), showlegend=False,
                                     text=[f"{u['layer']} ch{u['channel']}" for u in res.units]), i // 5 + 1, i % 5 + 1)
        fig.update_layout(width=1600, height=700, title="topological signature across layers (mean +- sem; dots: units)")
        return fig
