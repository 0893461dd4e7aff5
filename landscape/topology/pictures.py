"""Pictures of a signature: level sets over the map, persistence diagram, count curves.

PNGs are drawn with Pillow (no plotting library needed); the HTML page is one standalone
plotly figure with plotly.js embedded (works offline). Maps are drawn with row 0 at the
bottom (latitude -90 / the lowest ``b`` at the bottom).

Files written by :func:`write_pictures`:

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

from landscape.topology.contours import trace_level_set

_VIRIDIS = np.array([(68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
                     (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)], float)
LOOP_RGB, LINE_RGB = (255, 255, 255), (230, 30, 60)
DIM_RGB = {0: (31, 119, 180), 1: (255, 127, 14), 2: (44, 160, 44)}
_CURVES = (("loops", (31, 119, 180), False), ("lines", (214, 39, 40), False), ("branches", (60, 60, 60), False),
           ("b0", (44, 160, 44), True), ("b1", (148, 103, 189), True))


def colormap(x: np.ndarray) -> np.ndarray:
    """Viridis colours for values in [0, 1]; shape (..., 3) uint8."""
    x = np.clip(np.nan_to_num(x), 0, 1) * (len(_VIRIDIS) - 1)
    i = np.minimum(x.astype(int), len(_VIRIDIS) - 2)
    t = (x - i)[..., None]
    return (_VIRIDIS[i] * (1 - t) + _VIRIDIS[i + 1] * t).round().astype(np.uint8)


def _level_sets(sig: Any) -> list[Any]:
    lo, hi = sig.range_
    return [trace_level_set(sig.field_, c) for c in sig.contours_.levels_ if lo < c < hi]


def level_sets_image(sig: Any, size: int = 600) -> Any:
    """The map with its level-set curves.

    Parameters
    ----------
    sig : fitted TopologySignature
    size : int
        Approximate side of the map area in pixels.

    Returns
    -------
    PIL.Image.Image
    """
    from PIL import Image, ImageDraw

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


def _axes(draw: Any, box: tuple[int, int, int, int], xr: tuple[float, float], yr: tuple[float, float],
          xlabel: str, ylabel: str) -> Any:
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline="black")
    for frac in (0.0, 0.5, 1.0):
        xv = xr[0] + frac * (xr[1] - xr[0])
        yv = yr[0] + frac * (yr[1] - yr[0])
        px = x0 + frac * (x1 - x0)
        py = y1 - frac * (y1 - y0)
        draw.line([px, y1, px, y1 + 4], fill="black")
        draw.text((px - 12, y1 + 6), f"{xv:.3g}", fill="black")
        draw.line([x0 - 4, py, x0, py], fill="black")
        draw.text((4, py - 6), f"{yv:.3g}", fill="black")
    draw.text(((x0 + x1) / 2 - 3 * len(xlabel), y1 + 22), xlabel, fill="black")
    draw.text((4, y0 - 18), ylabel, fill="black")

    def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sx = (x1 - x0) / ((xr[1] - xr[0]) or 1.0)
        sy = (y1 - y0) / ((yr[1] - yr[0]) or 1.0)
        return x0 + (np.asarray(x) - xr[0]) * sx, y1 - (np.asarray(y) - yr[0]) * sy
    return to_px


def diagram_image(sig: Any, size: int = 420) -> Any:
    """Persistence diagram of the super-level sets (PIL image)."""
    from PIL import Image, ImageDraw

    lo, hi = sig.range_
    pad = 0.08 * (hi - lo if hi > lo else 1.0)
    never = lo - pad
    img = Image.new("RGB", (size + 70, size + 60), "white")
    draw = ImageDraw.Draw(img)
    box = (60, 25, size + 50, size + 15)
    to_px = _axes(draw, box, (lo, hi), (never, hi), "birth (peak / ring appears)", "death")
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


def counts_image(sig: Any, size: int = 420) -> Any:
    """Count and Betti curves over the level fraction (PIL image)."""
    from PIL import Image, ImageDraw

    t = sig.table()
    x = t["level_fraction"]
    if not np.all(np.isfinite(x)):
        x = np.linspace(0, 1, x.size)
    ymax = max(1, int(max(t[k].max() for k, _, _ in _CURVES)))
    img = Image.new("RGB", (size + 70, size + 60), "white")
    draw = ImageDraw.Draw(img)
    box = (60, 25, size + 50, size + 15)
    to_px = _axes(draw, box, (0.0, 1.0), (0.0, float(ymax)), "level fraction", "count")
    for i, (name, rgb, dashed) in enumerate(_CURVES):
        px, py = to_px(x, t[name])
        pts = list(zip(px, py))
        for k, (a, b) in enumerate(zip(pts[:-1], pts[1:])):
            if not dashed or k % 2 == 0:
                draw.line([a, b], fill=rgb, width=2)
        draw.text((box[2] - 70, box[1] + 4 + 12 * i), name, fill=rgb)
    draw.text((box[0] + 4, 6), "level-set curves (solid) and Betti numbers (dashed)", fill="black")
    return img


def figure(sig: Any) -> Any:
    """Interactive plotly figure: map with level sets, persistence diagram, count curves."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

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


def write_pictures(sig: Any, out: str | Path) -> dict[str, Path]:
    """Write ``level_sets.png``, ``diagram.png``, ``counts.png`` and ``topology.html`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"level_sets": out / "level_sets.png", "diagram": out / "diagram.png", "counts": out / "counts.png",
             "html": out / "topology.html"}
    level_sets_image(sig).save(paths["level_sets"])
    diagram_image(sig).save(paths["diagram"])
    counts_image(sig).save(paths["counts"])
    figure(sig).write_html(paths["html"], include_plotlyjs=True, full_html=True)
    return paths
