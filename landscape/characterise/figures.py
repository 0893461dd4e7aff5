"""Figures of characterisation results: plotly (standalone HTML) and a PIL image panel.

plotly is imported inside the functions, so importing the analyses never pulls it in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch


def _go():
    import plotly.graph_objects as go
    return go


def tuning_figure(analysis):
    """A plotly Figure of one fitted analysis (tuning curve with its fit, map, or opponency curves)."""
    go = _go()
    from landscape.characterise.color_tuning import ColorTuning
    from landscape.characterise.grating_tuning import ContrastResponse, FrequencyTuning, OrientationTuning
    from landscape.characterise.opponency import Opponency
    from landscape.characterise.receptive_field import SparseNoiseRF
    from landscape.characterise.size_tuning import SizeTuning

    fig = go.Figure()
    layout = dict(template="plotly_white", yaxis_title="response")

    def baseline(y):
        fig.add_hline(y=y, line_dash="dot", line_color="grey", annotation_text="baseline (grey field)")

    if isinstance(analysis, OrientationTuning):
        a = analysis
        fig.add_scatter(x=a.orientations_, y=a.curve_, mode="markers+lines", name="measured")
        if a.fit_.success:
            t = np.linspace(0, 180, 361)
            fig.add_scatter(x=t, y=a.fit_(t), mode="lines", name="von Mises fit")
        baseline(a.baseline_)
        layout.update(title=f"Orientation at {a.peak_frequency_:.3g} c/img: preferred {a.preferred_orientation_:.1f} deg, "
                            f"CV {a.circular_variance_:.2f}, HWHH {a.bandwidth_:.1f} deg",
                      xaxis_title="orientation (deg)")
    elif isinstance(analysis, FrequencyTuning):
        a = analysis
        fig.add_scatter(x=a.frequencies_, y=a.curve_, mode="markers+lines", name="measured")
        if a.fit_.success:
            f = np.geomspace(a.frequencies_.min(), a.frequencies_.max(), 200)
            fig.add_scatter(x=f, y=a.fit_(f), mode="lines", name="log-Gaussian fit")
        baseline(a.baseline_)
        layout.update(title=f"Spatial frequency at {a.peak_orientation_:.3g} deg: preferred "
                            f"{a.preferred_frequency_:.3g} c/img, bandwidth {a.bandwidth_octaves_:.2f} oct",
                      xaxis=dict(title="cycles per image", type="log"))
    elif isinstance(analysis, ContrastResponse):
        a = analysis
        fig.add_scatter(x=a.contrasts_, y=a.curve_, mode="markers+lines", name="measured")
        if a.fit_.success:
            c = np.linspace(0, 1, 200)
            fig.add_scatter(x=c, y=a.fit_(c), mode="lines", name="Naka-Rushton fit")
        baseline(a.baseline_)
        layout.update(title=f"Contrast response: c50 {a.c50_:.3g}, n {a.exponent_:.2f}", xaxis_title="contrast")
    elif isinstance(analysis, SizeTuning):
        a = analysis
        for label, curve in zip(a.labels_, a.curves_):
            fig.add_scatter(x=a.radii_, y=curve, mode="markers+lines", name=label)
        baseline(a.baseline_)
        layout.update(title=f"Size tuning: preferred radius {a.preferred_radius_:.3g}, "
                            f"suppression index {a.suppression_index_:.2f}",
                      xaxis=dict(title="radius (fraction of image side)", type="log"))
    elif isinstance(analysis, ColorTuning):
        a = analysis
        colors = [f"rgb({int(255 * r)},{int(255 * g)},{int(255 * b)})" for r, g, b in a.rgb_]
        fig.add_scatter(x=a.hues_, y=a.curve_, mode="markers+lines", name="hue",
                        marker=dict(color=colors, size=12, line=dict(color="black", width=1)))
        baseline(a.baseline_)
        layout.update(title=f"Colour (luminance {a.luminance}): {a.color_class_}", xaxis_title="hue (deg)")
    elif isinstance(analysis, SparseNoiseRF):
        a = analysis
        from plotly.subplots import make_subplots
        fig = make_subplots(1, len(a.labels_), subplot_titles=[f"{c} squares" for c in a.labels_])
        lim = float(np.abs(a.maps_).max()) or 1.0
        for i, m in enumerate(a.maps_):
            fig.add_heatmap(z=m, x=(np.arange(m.shape[1]) + 0.5) / m.shape[1] - 0.5,
                            y=0.5 - (np.arange(m.shape[0]) + 0.5) / m.shape[0], zmin=-lim, zmax=lim,
                            colorscale="RdBu_r", row=1, col=i + 1, showscale=i == 0)
        layout = dict(template="plotly_white", title=f"Sparse-noise map (response - baseline); centre "
                                                     f"({a.center_[0]:.3f}, {a.center_[1]:.3f})")
    elif isinstance(analysis, Opponency):
        a = analysis
        from plotly.subplots import make_subplots
        fig = make_subplots(1, 2, subplot_titles=["hue (fixed luminance)", "discs (solid) and annuli (dashed)"])
        for k, curve in enumerate(a.hue_curves_):
            fig.add_scatter(x=np.asarray(a.parameter_table()["hue"][:curve.size], float), y=curve,
                            name=f"hue, aperture {a.hue_radii[k] or 'full'}", row=1, col=1)
        radii = a._radius_levels()
        for name, d, an in zip(a.spatial_classes_, a.disc_curves_, a.annulus_curves_):
            fig.add_scatter(x=radii, y=d, name=f"{name} disc", row=1, col=2)
            fig.add_scatter(x=radii, y=an, name=f"{name} annulus", line_dash="dash", row=1, col=2)
        fig.add_hline(y=a.baseline_, line_dash="dot", line_color="grey")
        fig.update_xaxes(type="log", row=1, col=2)
        layout = dict(template="plotly_white", title=f"Opponency: {a.class_} (colour {a.color_class_}, "
                                                     f"spatial {a.spatial_class_})")
    else:
        raise TypeError(f"no figure for {type(analysis).__name__}")
    fig.update_layout(**layout)
    return fig


def write_report(figures: Sequence, path: str | Path, title: str = "Characterisation") -> Path:
    """Write several plotly figures into one standalone HTML file (plotly.js embedded once)."""
    path = Path(path)
    parts = [f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"]
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
    return path


def _to_pil(image: torch.Tensor, side: int):
    from PIL import Image
    arr = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    im = Image.fromarray(arr)
    # small stimuli keep their pixels; large ones are smoothed down
    return im.resize((side, side), Image.NEAREST if max(im.size) < side else Image.BILINEAR)


def comparison_panel(result, title: str = "", panel_size: int = 192):
    """A PIL image: the three best images side by side with activations and relative activations."""
    from PIL import Image, ImageDraw, ImageFont

    from landscape.characterise.compare import KINDS

    pad, text_h, title_h = 12, 44, 28
    w = len(KINDS) * (panel_size + pad) + pad
    h = title_h + panel_size + text_h + 2 * pad
    canvas = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    draw.text((pad, pad // 2), title[:120], fill="black", font=font)
    for k, kind in enumerate(KINDS):
        x = pad + k * (panel_size + pad)
        canvas.paste(_to_pil(result.images[kind], panel_size), (x, title_h))
        rel = result.relative[kind]
        rel_s = "n/a" if not np.isfinite(rel) else f"{rel:.2f}"
        draw.text((x, title_h + panel_size + 4), f"{kind}", fill="black", font=font)
        draw.text((x, title_h + panel_size + 18), f"act {result.activations[kind]:.3g}  rel {rel_s}", fill="black",
                  font=font)
    return canvas


def comparison_figure(result, title: str = ""):
    """Plotly figure: the three images and a bar chart of relative activation."""
    go = _go()
    from plotly.subplots import make_subplots

    from landscape.characterise.compare import KINDS

    ns = getattr(result, "natural_set", {}) or {}
    ratio_title = (f"activation / best of '{ns.get('name', 'natural')}' ({ns.get('n_images', '?')} images)"
                   + ("<br>evolved: XDream's optimized image" if getattr(result, "evolved_choice", "") == "optimized"
                      else "<br>evolved: best given image by clean score"))
    fig = make_subplots(1, 4, subplot_titles=[*KINDS, ratio_title],
                        column_widths=[0.22, 0.22, 0.22, 0.34])
    for k, kind in enumerate(KINDS):
        arr = (result.images[kind].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        fig.add_trace(go.Image(z=arr, name=kind), row=1, col=k + 1)
        fig.update_xaxes(visible=False, row=1, col=k + 1)
        fig.update_yaxes(visible=False, row=1, col=k + 1)
    rel = [result.relative[k] for k in KINDS]
    fig.add_bar(x=list(KINDS), y=[r if np.isfinite(r) else None for r in rel],
                text=[f"{a:.3g}" for a in (result.activations[k] for k in KINDS)], name="relative activation",
                row=1, col=4)
    fig.add_hline(y=1.0, line_dash="dot", line_color="grey", row=1, col=4)
    fig.update_layout(template="plotly_white", title=title + ("" if np.isfinite(rel[1]) else
                                                              " (best natural activation <= 0: no relative scale)"),
                      showlegend=False)
    return fig
