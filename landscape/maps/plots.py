"""Heatmaps of tuning maps: a PNG drawn with Pillow and a standalone plotly HTML page.

The PNG needs only Pillow (no matplotlib, no browser): rows are drawn with the lowest
latitude / ``b`` at the bottom, NaN cells grey, the peak marked with a white ring, and a
colour bar on the right. The HTML embeds plotly.js (``include_plotlyjs=True``), so it opens
offline; plotly is imported only when this function runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from landscape.io import save_png

# viridis at 9 evenly spaced stops (matplotlib's table), interpolated linearly
_VIRIDIS = np.array([[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
                     [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], float)


def colormap(x: np.ndarray) -> np.ndarray:
    """Viridis colours for values in [0, 1] (NaN -> grey); shape (..., 3) uint8."""
    x = np.asarray(x, float)
    pos = np.clip(np.nan_to_num(x, nan=0.0), 0, 1) * (len(_VIRIDIS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_VIRIDIS) - 2)
    frac = (pos - lo)[..., None]
    rgb = _VIRIDIS[lo] * (1 - frac) + _VIRIDIS[lo + 1] * frac
    rgb[np.isnan(x)] = 128
    return rgb.round().astype(np.uint8)


def _axis_names(tm: Any) -> tuple[str, str, np.ndarray, np.ndarray]:
    if tm.kind == "sphere":
        return "theta (deg)", "phi (deg)", tm.coords["theta_deg"], tm.coords["phi_deg"]
    return "a (axis 1)", "b (axis 2)", tm.coords["a"], tm.coords["b"]


def _title(tm: Any) -> str:
    u = tm.unit
    who = f"{u.get('model', u.get('type', 'unit'))} {u.get('layer', '')} ch{u.get('channel', '')}".strip()
    return f"{who} | {tm.generator} | {tm.kind} map"


def save_map_png(tm: Any, path: str | Path, *, cell: int | None = None) -> Path:
    """Draw ``tm.values`` as a heatmap PNG (a figure; one image is :func:`landscape.io.save_png`).

    Parameters
    ----------
    tm : TuningMap
    path : str or Path
        Output file (``.png``).
    cell : int or None
        Pixels per grid cell (default: about 420 pixels for the larger side).

    Returns
    -------
    Path of the written file
    """
    from PIL import Image, ImageDraw, ImageFont

    vals = tm.values
    n, m = vals.shape
    cell = cell or max(2, 420 // max(n, m))
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
    draw.text((left, 10), _title(tm), fill="black", font=font)
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
    return save_png(path, np.asarray(img.convert("RGB")))


def save_html(tm: Any, path: str | Path, *, smoothed: Any = None) -> Path:
    """Write a standalone interactive heatmap (plotly.js embedded, works offline).

    Parameters
    ----------
    tm : TuningMap
    path : str or Path
        Output file (``.html``).
    smoothed : SmoothedSphere or None
        Shown beside the measured map when given.

    Returns
    -------
    Path of the written file
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

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
    fig.update_layout(title=_title(tm), width=520 * cols, height=560)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(out, include_plotlyjs=True, full_html=True)
    return out
