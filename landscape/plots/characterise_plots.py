"""Characterisation results drawn: tuning curves with their fits, receptive-field maps, opponency
curves, the parametric / natural / evolved comparison, and a network's opponency survey.

Each analysis class has its display (:func:`landscape.plots.display` finds it by type), so
``display(OrientationTuning().fit(unit)).figure()`` is the tuning curve with its von Mises fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from landscape.characterise.classify import CLASSES
from landscape.characterise.color_tuning import ColorTuning
from landscape.characterise.compare import KINDS, EvolutionComparison
from landscape.characterise.grating_tuning import ContrastResponse, FrequencyTuning, OrientationTuning
from landscape.characterise.opponency import Opponency
from landscape.characterise.receptive_field import SparseNoiseRF
from landscape.characterise.size_tuning import SizeTuning
from landscape.characterise.survey import OpponencySurvey
from landscape.estimator import check_is_fitted
from landscape.io import image_to_uint8, save_png
from landscape.plots.display import Display, register
from landscape.plots.raster import image_pil


class TuningDisplay(Display):
    """A fitted characterisation analysis as one plotly figure (white template, responses on y)."""

    def figure(self) -> Any:
        import plotly.graph_objects as go

        check_is_fitted(self.result, hint="fit(unit)")
        fig = go.Figure()
        layout = self.draw(fig) or {}
        fig.update_layout(template="plotly_white", yaxis_title="response", **layout)
        return fig

    def draw(self, fig: Any) -> dict[str, Any] | None:
        """Add the traces of the result to ``fig``; return layout settings."""
        raise NotImplementedError

    def baseline(self, fig: Any, y: float) -> None:
        fig.add_hline(y=y, line_dash="dot", line_color="grey", annotation_text="baseline (grey field)")

    def curve_with_fit(self, fig: Any, x: np.ndarray, grid: np.ndarray, fit_name: str) -> None:
        """The measured curve over ``x``, the fitted function over ``grid`` (when the fit
        converged), and the baseline."""
        a = self.result
        fig.add_scatter(x=x, y=a.curve_, mode="markers+lines", name="measured")
        if a.fit_.success:
            fig.add_scatter(x=grid, y=a.fit_(grid), mode="lines", name=fit_name)
        self.baseline(fig, a.baseline_)


@register(OrientationTuning)
class OrientationTuningDisplay(TuningDisplay):
    """Response against grating orientation, with the von Mises fit."""

    def draw(self, fig: Any) -> dict[str, Any]:
        a = self.result
        self.curve_with_fit(fig, a.orientations_, np.linspace(0, 180, 361), "von Mises fit")
        return dict(title=f"Orientation at {a.peak_frequency_:.3g} c/img: preferred {a.preferred_orientation_:.1f} deg, "
                          f"CV {a.circular_variance_:.2f}, HWHH {a.bandwidth_:.1f} deg",
                    xaxis_title="orientation (deg)")


@register(FrequencyTuning)
class FrequencyTuningDisplay(TuningDisplay):
    """Response against spatial frequency (log axis), with the log-Gaussian fit."""

    def draw(self, fig: Any) -> dict[str, Any]:
        a = self.result
        self.curve_with_fit(fig, a.frequencies_, np.geomspace(a.frequencies_.min(), a.frequencies_.max(), 200),
                            "log-Gaussian fit")
        return dict(title=f"Spatial frequency at {a.peak_orientation_:.3g} deg: preferred "
                          f"{a.preferred_frequency_:.3g} c/img, bandwidth {a.bandwidth_octaves_:.2f} oct",
                    xaxis=dict(title="cycles per image", type="log"))


@register(ContrastResponse)
class ContrastResponseDisplay(TuningDisplay):
    """Response against contrast, with the Naka-Rushton fit."""

    def draw(self, fig: Any) -> dict[str, Any]:
        a = self.result
        self.curve_with_fit(fig, a.contrasts_, np.linspace(0, 1, 200), "Naka-Rushton fit")
        return dict(title=f"Contrast response: c50 {a.c50_:.3g}, n {a.exponent_:.2f}", xaxis_title="contrast")


@register(SizeTuning)
class SizeTuningDisplay(TuningDisplay):
    """Response against stimulus radius (log axis), one curve per stimulus."""

    def draw(self, fig: Any) -> dict[str, Any]:
        a = self.result
        for label, curve in zip(a.labels_, a.curves_):
            fig.add_scatter(x=a.radii_, y=curve, mode="markers+lines", name=label)
        self.baseline(fig, a.baseline_)
        return dict(title=f"Size tuning: preferred radius {a.preferred_radius_:.3g}, "
                          f"suppression index {a.suppression_index_:.2f}",
                    xaxis=dict(title="radius (fraction of image side)", type="log"))


@register(ColorTuning)
class ColorTuningDisplay(TuningDisplay):
    """Response around the fixed-luminance hue circle, each point in its colour."""

    def draw(self, fig: Any) -> dict[str, Any]:
        a = self.result
        colors = [f"rgb({int(255 * r)},{int(255 * g)},{int(255 * b)})" for r, g, b in a.rgb_]
        fig.add_scatter(x=a.hues_, y=a.curve_, mode="markers+lines", name="hue",
                        marker=dict(color=colors, size=12, line=dict(color="black", width=1)))
        self.baseline(fig, a.baseline_)
        return dict(title=f"Colour (luminance {a.luminance}): {a.color_class_}", xaxis_title="hue (deg)")


@register(SparseNoiseRF)
class SparseNoiseRFDisplay(Display):
    """One map (response - baseline) per square colour, on a shared diverging scale."""

    def figure(self) -> Any:
        from plotly.subplots import make_subplots

        a = self.result
        check_is_fitted(a, "maps_", hint="fit(unit)")
        fig = make_subplots(1, len(a.labels_), subplot_titles=[f"{c} squares" for c in a.labels_])
        lim = float(np.abs(a.maps_).max()) or 1.0
        for i, m in enumerate(a.maps_):
            fig.add_heatmap(z=m, x=(np.arange(m.shape[1]) + 0.5) / m.shape[1] - 0.5,
                            y=0.5 - (np.arange(m.shape[0]) + 0.5) / m.shape[0], zmin=-lim, zmax=lim,
                            colorscale="RdBu_r", row=1, col=i + 1, showscale=i == 0)
        fig.update_layout(template="plotly_white", title=f"Sparse-noise map (response - baseline); centre "
                                                         f"({a.center_[0]:.3f}, {a.center_[1]:.3f})")
        return fig


@register(Opponency)
class OpponencyDisplay(Display):
    """Hue curves (left) and disc / annulus curves per colour over radius (right)."""

    def figure(self) -> Any:
        from plotly.subplots import make_subplots

        a = self.result
        check_is_fitted(a, "class_", hint="fit(unit)")
        fig = make_subplots(1, 2, subplot_titles=["hue (fixed luminance)", "discs (solid) and annuli (dashed)"])
        for k, curve in enumerate(a.hue_curves_):
            fig.add_scatter(x=np.asarray(a.parameter_table()["hue"][:curve.size], float), y=curve,
                            name=f"hue, aperture {a.hue_radii[k] or 'full'}", row=1, col=1)
        for name, d, an in zip(a.spatial_classes_, a.disc_curves_, a.annulus_curves_):
            fig.add_scatter(x=a.radii_, y=d, name=f"{name} disc", row=1, col=2)
            fig.add_scatter(x=a.radii_, y=an, name=f"{name} annulus", line_dash="dash", row=1, col=2)
        fig.add_hline(y=a.baseline_, line_dash="dot", line_color="grey")
        fig.update_xaxes(type="log", row=1, col=2)
        fig.update_layout(template="plotly_white", title=f"Opponency: {a.class_} (colour {a.color_class_}, "
                                                         f"spatial {a.spatial_class_})")
        return fig


def unit_title(description: dict) -> str:
    """A unit's description in one line (long arrays left out)."""
    skip = {"type", "noise", "target_code", "template_shape", "rgb_weights", "center_rgb_weights",
            "surround_rgb_weights"}
    return description.get("type", "unit") + " " + ", ".join(
        f"{k}={v}" for k, v in description.items() if k not in skip)


@register(EvolutionComparison)
class ComparisonDisplay(Display):
    """The best parametric stimulus, best natural image and evolved image with their activations.

    Parameters
    ----------
    result : EvolutionComparison
    title : str or None
        Default: the unit's type and description.
    panel_size : int
        Side of each image in :meth:`image`, pixels.
    """

    def __init__(self, result: Any, *, title: str | None = None, panel_size: int = 192) -> None:
        super().__init__(result)
        self.title = unit_title(result.unit) if title is None else title
        self.panel_size = panel_size

    def image(self) -> Any:
        """The three images side by side with activations and relative activations (PIL image)."""
        from PIL import Image, ImageDraw, ImageFont

        result, panel_size = self.result, self.panel_size
        pad, text_h, title_h = 12, 44, 28
        w = len(KINDS) * (panel_size + pad) + pad
        h = title_h + panel_size + text_h + 2 * pad
        canvas = Image.new("RGB", (w, h), "white")
        draw = ImageDraw.Draw(canvas)
        font = ImageFont.load_default()
        draw.text((pad, pad // 2), self.title[:120], fill="black", font=font)
        for k, kind in enumerate(KINDS):
            x = pad + k * (panel_size + pad)
            canvas.paste(image_pil(result.images[kind], panel_size), (x, title_h))
            rel = result.relative[kind]
            rel_s = "n/a" if not np.isfinite(rel) else f"{rel:.2f}"
            draw.text((x, title_h + panel_size + 4), f"{kind}", fill="black", font=font)
            draw.text((x, title_h + panel_size + 18), f"act {result.activations[kind]:.3g}  rel {rel_s}",
                      fill="black", font=font)
        return canvas

    def figure(self) -> Any:
        """The three images and a bar chart of their relative activations."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        result = self.result
        ns = getattr(result, "natural_set", {}) or {}
        ratio_title = (f"activation / best of '{ns.get('name', 'natural')}' ({ns.get('n_images', '?')} images)"
                       + ("<br>evolved: XDream's optimized image" if getattr(result, "evolved_choice", "") == "optimized"
                          else "<br>evolved: best given image by clean score"))
        fig = make_subplots(1, 4, subplot_titles=[*KINDS, ratio_title], column_widths=[0.22, 0.22, 0.22, 0.34])
        for k, kind in enumerate(KINDS):
            fig.add_trace(go.Image(z=image_to_uint8(result.images[kind]), name=kind), row=1, col=k + 1)
            fig.update_xaxes(visible=False, row=1, col=k + 1)
            fig.update_yaxes(visible=False, row=1, col=k + 1)
        rel = [result.relative[k] for k in KINDS]
        fig.add_bar(x=list(KINDS), y=[r if np.isfinite(r) else None for r in rel],
                    text=[f"{a:.3g}" for a in (result.activations[k] for k in KINDS)], name="relative activation",
                    row=1, col=4)
        fig.add_hline(y=1.0, line_dash="dot", line_color="grey", row=1, col=4)
        fig.update_layout(template="plotly_white", title=self.title + ("" if np.isfinite(rel[1]) else
                                                                       " (best natural activation <= 0: no relative scale)"),
                          showlegend=False)
        return fig

    def write(self, out: str | Path) -> dict[str, Path]:
        """Write ``comparison.png`` (:meth:`image`) and ``comparison.html`` (:meth:`figure`) into
        ``out``; their paths are added to ``result.paths``."""
        out = Path(out)
        paths = {"png": save_png(out / "comparison.png", np.asarray(self.image())),
                 "html": self.write_html(out / "comparison.html")}
        self.result.paths.update(paths)
        return paths


@register(OpponencySurvey)
class OpponencySurveyDisplay(Display):
    """Stacked bars of the opponency class fractions per layer."""

    #: one colour per class
    PALETTE = {"double-opponent": "#7b3294", "color-opponent": "#d7191c", "spatially-opponent": "#2c7bb6",
               "non-opponent": "#fdae61", "unresponsive": "#bababa"}

    def figure(self) -> Any:
        import plotly.graph_objects as go

        s = self.result
        check_is_fitted(s, "table_", hint="fit(model)")
        fig = go.Figure()
        for k in CLASSES:
            fig.add_bar(name=k, x=s.layers, y=[s.fractions_[layer][k] for layer in s.layers],
                        marker_color=self.PALETTE[k], customdata=[s.counts_[layer][k] for layer in s.layers],
                        hovertemplate="%{x}<br>" + k + ": %{y:.1%} (%{customdata} channels)<extra></extra>")
        fig.update_layout(barmode="stack", title=f"Opponency classes per layer: {s.model_name_}",
                          yaxis=dict(title="fraction of channels", tickformat=".0%", range=[0, 1]),
                          xaxis=dict(title="layer"), template="plotly_white")
        return fig
