"""Spectrum and axes viewer for a Hessian of the generator's metric."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .images import image_strip, png_bytes

#: eigenvalues smaller than this fraction of the largest |eigenvalue| are numerically zero
RELATIVE_FLOOR = 1e-12


def spectrum_points(eigvals: np.ndarray, floor: float = RELATIVE_FLOOR) -> dict[str, np.ndarray]:
    """Split a spectrum for a log plot of |eigenvalue| without hiding signs or zeros.

    Parameters
    ----------
    eigvals : (k,) array
    floor : float, relative to max |eigenvalue|

    Returns
    -------
    dict with ``floor`` (absolute, float) and index arrays ``positive``, ``negative`` (|value|
    above the floor) and ``zero`` (|value| at or below it, drawn at the floor).
    """
    lam = np.asarray(eigvals, dtype=float)
    top = float(np.nanmax(np.abs(lam))) if lam.size and np.isfinite(lam).any() else 1.0
    cut = (top or 1.0) * floor
    big = np.abs(lam) > cut
    return {"floor": cut, "positive": np.flatnonzero(big & (lam > 0)), "negative": np.flatnonzero(big & (lam < 0)),
            "zero": np.flatnonzero(~big)}


class SpectrumViewer:
    """The eigenvalue spectrum on a log scale, and the images along the selected eigenvector.

    |eigenvalue| is plotted on a log axis (ticks as powers of ten); negative eigenvalues are
    open red markers, and eigenvalues below ``1e-12 x`` the largest (numerically zero) sit on
    the bottom edge as grey triangles instead of stretching the axis over 20 decades.

    Parameters
    ----------
    eigvals : (k,) array, descending (e.g. ``HessianResult.eigvals``)
    eigvecs : (d, k) array, columns are eigenvectors (``HessianResult.eigvecs``)
    generator : callable (B, d) -> (B, 3, H, W), e.g. a :class:`landscape.generators.Generator`
    code : (d,) array or tensor, where the Hessian was taken
    steps : (s,) code-space offsets along the eigenvector (default 7 steps over +-2 x |code| / 10)
    scale : int, display enlargement

    Attributes
    ----------
    widget, figure (:class:`~landscape.widgets.plotpane.PlotPane`; trace 3 marks the selection),
    index (IntSlider), strip (ipywidgets.Image), images : (s, 3, H, W) of the selected axis
    """

    def __init__(self, eigvals: Any, eigvecs: Any, generator: Any, code: Any, steps: Any = None,
                 scale: int = 2) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        from .plotpane import PlotPane

        self.eigvals = np.asarray(eigvals, dtype=float).reshape(-1)
        self.eigvecs = np.asarray(eigvecs, dtype=float)
        if self.eigvecs.ndim != 2 or self.eigvecs.shape[1] != self.eigvals.size:
            raise ValueError(f"eigvecs must be (d, k) with k = {self.eigvals.size} columns, got {self.eigvecs.shape}")
        self.generator = generator
        self.code = np.asarray(code.detach().cpu() if torch.is_tensor(code) else code, dtype=float).reshape(-1)
        if self.code.size != self.eigvecs.shape[0]:
            raise ValueError(f"code has {self.code.size} entries, eigenvectors have {self.eigvecs.shape[0]}")
        norm = float(np.linalg.norm(self.code)) or 1.0
        self.steps = np.asarray(steps if steps is not None else np.linspace(-0.2, 0.2, 7) * norm, dtype=float)
        self.scale = scale
        parts = spectrum_points(self.eigvals)
        self._floor = parts["floor"]
        lam = np.abs(self.eigvals)

        def trace(idx: np.ndarray, name: str, **marker: Any) -> Any:
            y = np.maximum(lam[idx], self._floor)
            return go.Scatter(x=idx, y=y, mode="markers", name=f"{name} ({idx.size})", marker=dict(size=5, **marker),
                              customdata=self.eigvals[idx],
                              hovertemplate="rank %{x}<br>eigenvalue %{customdata:.3e}<extra></extra>")

        top = float(lam.max()) if lam.size else 1.0
        self.figure = PlotPane(go.Figure(
            [trace(parts["positive"], "positive", color="royalblue"),
             trace(parts["negative"], "negative: |value|", color="crimson", symbol="circle-open"),
             trace(parts["zero"], f"|value| < {RELATIVE_FLOOR:.0e} x max", color="grey", symbol="triangle-down"),
             go.Scatter(x=[0], y=[max(lam[0], self._floor)] if lam.size else [], mode="markers", name="selected",
                        hoverinfo="skip",
                        marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(color="red", width=2.5)))],
            layout=dict(height=330, title="spectrum of the metric (|eigenvalue|, log scale)",
                        xaxis_title="rank", margin=dict(l=65, r=10, t=35, b=85),
                        yaxis=dict(type="log", title=dict(text="|eigenvalue|"), exponentformat="power",
                                   showexponent="all", range=[np.log10(self._floor) - 0.3, np.log10(top) + 0.3]),
                        legend=dict(orientation="h", y=-0.3, x=0))),
            layout=W.Layout(width="100%", max_width="640px"))
        self.index = W.IntSlider(value=0, min=0, max=self.eigvals.size - 1, description="eigenvector (rank)",
                                 style={"description_width": "initial"},
                                 layout=W.Layout(width="100%", max_width="520px"))
        self.strip = W.Image(format="png")
        self.label = W.HTML()
        self.index.observe(lambda _c: self.show(self.index.value), names="value")
        self.figure.on_click(self._clicked)
        self.widget = W.VBox([self.figure, self.index, self.label, self.strip], layout=W.Layout(width="100%"))
        self.show(0)

    def _clicked(self, click: Any) -> None:
        if click.trace in (0, 1, 2) and click.x is not None:
            self.index.value = int(round(click.x))

    def show(self, i: int) -> None:
        """Select eigenvector ``i``: mark it and render the strip of images along it."""
        if not 0 <= i < self.eigvals.size:
            raise ValueError(f"eigenvector index {i} outside 0..{self.eigvals.size - 1}")
        from geometry.axis_walks import axis_walk

        v = self.eigvecs[:, i]
        codes = axis_walk(torch.as_tensor(self.code), torch.as_tensor(v), self.steps)
        with torch.no_grad():
            dev = getattr(self.generator, "device", torch.device("cpu"))
            self.images = self.generator(codes.float().to(dev)).cpu()
        self.strip.value = png_bytes(image_strip(self.images), self.scale)
        lam = float(self.eigvals[i])
        self.figure.restyle(3, {"x": [i], "y": [max(abs(lam), self._floor)]})
        self.label.value = (f"eigenvector {i}: eigenvalue {lam:.3e}; images at steps {self.steps[0]:.3g} .. "
                            f"{self.steps[-1]:.3g} along it (left to right)")
        if self.index.value != i:
            self.index.value = i

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
