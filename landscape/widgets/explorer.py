"""Latent explorer: sliders along chosen axes around a code."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from .images import png_bytes


def _axes_array(axes: Any, dim: int, name: str) -> np.ndarray:
    a = np.asarray(axes.detach().cpu() if torch.is_tensor(axes) else axes, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise ValueError(f"axis set {name!r} must be a (k, d) array, got shape {a.shape}")
    if a.shape[1] != dim and a.shape[0] == dim:
        a = a.T  # (d, k) columns, as geometry returns eigenvectors
    if a.shape[1] != dim:
        raise ValueError(f"axis set {name!r} has vectors of length {a.shape[1]}, the generator's codes have {dim}")
    return a / np.linalg.norm(a, axis=1, keepdims=True)


class LatentExplorer:
    """Move a code along latent axes and watch the image and the unit's response.

    Parameters
    ----------
    generator : Generator
    unit : Unit or None
        When given, its clean response to the current image is shown and plotted.
    center : (d,) array or tensor
        The code the sliders move around.
    axes : mapping name -> (k, d) array (or (d, k), e.g. Hessian eigenvectors)
        Switchable axis sets (e.g. ``{"hessian": H.eigvecs[:, :5], "pc": pcs, "random": r}``).
        Vectors are normalised to unit length. Switching the set puts every slider back to 0.
    n_sliders : int
        How many axes of the current set get a slider.
    span : float
        Sliders move from -span to +span along each unit axis (code units).
    scale : int
        Display enlargement of the image.

    Attributes
    ----------
    widget : ipywidgets.VBox
    figure : :class:`~landscape.widgets.plotpane.PlotPane`, the response after each update
    code : (d,) current code, response : float or None
    """

    def __init__(self, generator: Any, unit: Any, center: Any, axes: Mapping[str, Any], n_sliders: int = 4,
                 span: float = 3.0, scale: int = 3) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        from .plotpane import PlotPane

        if not axes:
            raise ValueError("axes must hold at least one named axis set")
        self.generator, self.unit = generator, unit
        self.center = np.asarray(center.detach().cpu() if torch.is_tensor(center) else center,
                                 dtype=np.float64).reshape(-1)
        if self.center.size != generator.dim:
            raise ValueError(f"center has {self.center.size} entries, the generator's codes have {generator.dim}")
        self.axes = {k: _axes_array(v, generator.dim, k) for k, v in axes.items()}
        self.scale = scale
        self.n_sliders = n_sliders
        self.axis_set = W.Dropdown(options=list(self.axes), description="axes", style={"description_width": "initial"},
                                   layout=W.Layout(width="auto", max_width="360px"))
        wide = max(len(f"{name} {i}") for name in self.axes for i in range(n_sliders))
        self.sliders = [W.FloatSlider(value=0.0, min=-span, max=span, step=span / 20, description=f"axis {i}",
                                      continuous_update=True, readout_format=".2f",
                                      style={"description_width": f"{max(7, int(wide * 0.62) + 1)}em"},
                                      layout=W.Layout(width="100%", min_width="300px", max_width="520px"))
                        for i in range(n_sliders)]
        self.image_widget = W.Image(format="png")
        self.label = W.HTML()
        self.history: list[float] = []
        self.figure = None
        self._quiet = False
        self._switch()  # the first image and response, before the plot exists: it starts with them
        self.figure = PlotPane(go.Figure(
            [go.Scatter(x=list(range(len(self.history))), y=self.history, mode="lines+markers", name="response")],
            layout=dict(height=230, margin=dict(l=55, r=10, t=35, b=40), title="response as you move",
                        xaxis_title="update", yaxis_title="response")),
            layout=W.Layout(width="100%", max_width="520px"))
        reset = W.Button(description="reset")
        reset.on_click(lambda _: self.reset())
        for s in self.sliders:
            s.observe(lambda _change: self._moved(), names="value")
        self.axis_set.observe(lambda _change: self._switch(), names="value")
        self.widget = W.VBox([W.HBox([self.axis_set, reset]),
                              W.HBox([W.VBox(self.sliders, layout=W.Layout(flex="1 1 340px", min_width="300px")),
                                      W.VBox([self.image_widget, self.label])],
                                     layout=W.Layout(flex_flow="row wrap", width="100%")),
                              self.figure], layout=W.Layout(width="100%", max_width="900px"))

    # -- logic the tests drive ----------------------------------------------------------
    @property
    def offsets(self) -> np.ndarray:
        return np.array([s.value for s in self.sliders])

    @property
    def code(self) -> np.ndarray:
        """(d,) the current code: center + sum_i offset_i * axis_i."""
        A = self.axes[self.axis_set.value]
        k = min(len(self.sliders), A.shape[0])
        return self.center + self.offsets[:k] @ A[:k]

    def set_offset(self, i: int, value: float) -> None:
        """Move slider ``i`` to ``value`` (updates the image and response)."""
        self.sliders[i].value = value

    def reset(self) -> None:
        """All offsets back to 0 (one update)."""
        self._quiet = True
        try:
            for s in self.sliders:
                s.value = 0.0
        finally:
            self._quiet = False
        self.update()

    def _moved(self) -> None:
        if not self._quiet:
            self.update()

    def _switch(self) -> None:
        """A new axis set: offsets along the old axes mean nothing along the new ones, so they reset."""
        A = self.axes[self.axis_set.value]
        self._quiet = True
        try:
            for i, s in enumerate(self.sliders):
                s.value = 0.0
                s.disabled = i >= A.shape[0]
                s.description = f"{self.axis_set.value} {i}" if i < A.shape[0] else "(no axis)"
        finally:
            self._quiet = False
        self.update()

    def update(self) -> None:
        z = torch.as_tensor(self.code, dtype=torch.float32, device=self.generator.device)[None]
        with torch.no_grad():
            image = self.generator(z)
            self.response = float(self.unit.clean(image)[0]) if self.unit is not None else None
        self.image = image[0]
        self.image_widget.value = png_bytes(self.image, self.scale)
        if self.response is not None:
            self.history.append(self.response)
            if self.figure is not None:
                self.figure.restyle(0, {"y": self.history[-200:],
                                        "x": list(range(max(0, len(self.history) - 200), len(self.history)))})
            self.label.value = f"<b>response</b> {self.response:.4g}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
