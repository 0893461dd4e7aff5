"""Spectrum and axes viewer for a Hessian of the generator's metric."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .images import image_strip, png_bytes


class SpectrumViewer:
    """The eigenvalue spectrum on a log scale, and the images along the selected eigenvector.

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
    widget, figure, index (IntSlider), strip (ipywidgets.Image), images : (s, 3, H, W) of the selected axis
    """

    def __init__(self, eigvals: Any, eigvecs: Any, generator: Any, code: Any, steps: Any = None,
                 scale: int = 2) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

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
        lam = np.clip(np.abs(self.eigvals), 1e-12, None)
        self.figure = go.FigureWidget(
            data=[go.Scatter(y=lam, mode="lines+markers", marker=dict(size=4), name="|eigenvalue|"),
                  go.Scatter(x=[0], y=[lam[0]], mode="markers", marker=dict(size=12, color="red"), name="selected")],
            layout=dict(height=300, width=460, yaxis_type="log", xaxis_title="rank", yaxis_title="eigenvalue",
                        title="spectrum of the metric", margin=dict(l=50, r=10, t=30, b=40)))
        self.index = W.IntSlider(value=0, min=0, max=self.eigvals.size - 1, description="eigenvector")
        self.strip = W.Image(format="png")
        self.label = W.HTML()
        self.index.observe(lambda _c: self.show(self.index.value), names="value")
        self.figure.data[0].on_click(lambda tr, pts, st: pts.point_inds and self.index.set_trait(
            "value", int(pts.point_inds[0])))
        self.widget = W.VBox([self.figure, self.index, self.label, self.strip])
        self.show(0)

    def show(self, i: int) -> None:
        """Select eigenvector ``i``: mark it and render the strip of images along it."""
        if not 0 <= i < self.eigvals.size:
            raise ValueError(f"eigenvector index {i} outside 0..{self.eigvals.size - 1}")
        from geometry.axes import axis_walk

        v = self.eigvecs[:, i]
        codes = axis_walk(torch.as_tensor(self.code), torch.as_tensor(v), self.steps)
        with torch.no_grad():
            dev = getattr(self.generator, "device", torch.device("cpu"))
            self.images = self.generator(codes.float().to(dev)).cpu()
        self.strip.value = png_bytes(image_strip(self.images), self.scale)
        lam = float(self.eigvals[i])
        self.figure.data[1].x = [i]
        self.figure.data[1].y = [max(abs(lam), 1e-12)]
        self.label.value = (f"eigenvector {i}: eigenvalue {lam:.3g}; steps {self.steps[0]:.3g} .. "
                            f"{self.steps[-1]:.3g} along it")
        if self.index.value != i:
            self.index.value = i

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
