"""A plotly figure as a light notebook widget: small saved state, incremental edits, click events.

Why not ``plotly.graph_objects.FigureWidget``: plotly 7 makes it an anywidget whose module is
the whole 5 MB plotly.js bundle, stored in every widget's state, so each FigureWidget adds 5 MB
to a saved notebook and the browser evaluates 5 MB per widget. Several of them loading at once
on a busy machine also come up empty (0 traces, plotly's default 700 px width): the figure is
sent after the widget opens, and that update can be lost while the big module is still loading.

:class:`PlotPane` sends the figure with the widget and a 10 KB module that takes plotly.js from
JupyterLab's plotly extension (or, elsewhere, once from the kernel). Python edits go out as
``Plotly.restyle`` / ``Plotly.relayout`` messages holding only what changed.

A widget whose front end took more than 2 s to start (anywidget 0.11's limit; a page busy
drawing a 3-D scene on a loaded machine can take that long) never receives another message.
Widgets here are built with their final first picture, so that nothing depends on messages
sent right after creation. Each view also checks that the kernel reaches it: when the kernel is
idle and does not answer, the view asks for a replacement model (sending still works), which
this class makes as a *mirror* that receives every later edit and forwards clicks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import anywidget
import numpy as np
import traitlets

_PLOTLY_JS: bytes | None = None


def jsonable(value: Any) -> Any:
    """Plain JSON values: numpy arrays to (nested) lists, NaN and infinities to None.

    Widget messages must be strict JSON; plotly draws None as a gap.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            a = value.astype(float)
            return np.where(np.isfinite(a), a, None).tolist()
        return value.tolist()
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _set_path(obj: dict, path: str, value: Any) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        if not isinstance(obj.get(k), dict):
            obj[k] = {}
        obj = obj[k]
    obj[keys[-1]] = value


_MISSING = object()


def _get_path(obj: dict, path: str, default: Any = None) -> Any:
    for k in path.split("."):
        if not isinstance(obj, dict) or k not in obj:
            if default is None:
                raise KeyError(path)
            return default
        obj = obj[k]
    return obj


@dataclass(frozen=True)
class Click:
    """One clicked point: its trace index, plotly's point number (an int, or [row, col] for grids),
    and its data coordinates (``z`` for 3-D traces and heatmaps, else None)."""

    trace: int
    point: Any
    x: float | None
    y: float | None
    z: float | None


class PlotPane(anywidget.AnyWidget):
    """A plotly figure shown in a notebook, edited from Python.

    Parameters
    ----------
    figure : plotly ``go.Figure`` (or anything ``go.Figure`` accepts)
        Validated by plotly once, then kept as plain JSON.
    config : dict
        plotly.js config (``responsive`` and no logo by default).
    **kwargs
        ipywidgets layout etc. (e.g. ``layout=ipywidgets.Layout(width="100%")``).

    Attributes
    ----------
    traces : list of dict, the figure's traces as plain JSON
    figure_layout : dict, the figure's layout as plain JSON
    """

    _esm = Path(__file__).with_name("plotpane.js")
    traces = traitlets.List().tag(sync=True)
    figure_layout = traitlets.Dict().tag(sync=True)
    config = traitlets.Dict().tag(sync=True)
    #: set on a mirror: the token of the view it replaces the model of
    adopts = traitlets.Unicode("").tag(sync=True)

    #: most mirrors one pane makes (each a front-end model; a page that keeps failing gets no more)
    MAX_MIRRORS = 4

    def __init__(self, figure: Any = None, config: dict | None = None, **kwargs: Any) -> None:
        import plotly.graph_objects as go
        import plotly.io as pio

        if "traces" in kwargs:  # a mirror (see _revive): the figure is already plain JSON
            super().__init__(config=dict(config or {}), **kwargs)
        else:
            fig = figure if isinstance(figure, go.Figure) else go.Figure(figure)
            plain = json.loads(pio.to_json(fig, validate=True, remove_uids=True, engine="json"))
            super().__init__(traces=plain.get("data", []), figure_layout=plain.get("layout", {}),
                             config=dict(config or {}), **kwargs)
        self._click_handlers: list[Callable[[Click], Any]] = []
        self._mirrors: list[PlotPane] = []
        self._source: PlotPane = self
        self.on_msg(self._handle_message)

    # -- edits from Python ---------------------------------------------------------------
    def restyle(self, trace: int, props: dict[str, Any]) -> None:
        """Set properties of trace ``trace``; dotted names reach nested ones (``"marker.color"``).

        Only ``props`` travel to the browser, where ``Plotly.restyle`` applies them.
        """
        if not 0 <= trace < len(self.traces):
            raise IndexError(f"trace {trace} outside 0..{len(self.traces) - 1}")
        changed = {}
        for k, v in jsonable(dict(props)).items():
            if _get_path(self.traces[trace], k, _MISSING) != v:
                _set_path(self.traces[trace], k, v)
                changed[k] = v
        if changed:  # nothing travels when nothing changed (e.g. a widget setting its initial state)
            self._send_all({"type": "restyle", "trace": int(trace), "props": changed})

    def relayout(self, props: dict[str, Any]) -> None:
        """Set layout properties (dotted names, as in ``Plotly.relayout``)."""
        changed = {}
        for k, v in jsonable(dict(props)).items():
            if _get_path(self.figure_layout, k, _MISSING) != v:
                _set_path(self.figure_layout, k, v)
                changed[k] = v
        if changed:
            self._send_all({"type": "relayout", "props": changed})

    def _send_all(self, msg: dict) -> None:
        self.send(msg)
        for m in self._mirrors:
            m.send(msg)

    def get(self, trace: int, prop: str) -> Any:
        """The current value of a (dotted) property of trace ``trace``."""
        return _get_path(self.traces[trace], prop)

    # -- events from the browser ---------------------------------------------------------
    def on_click(self, callback: Callable[[Click], Any]) -> None:
        """Call ``callback(click)`` with the first point of each click on the plot."""
        self._click_handlers.append(callback)

    def click(self, trace: int, point: Any = None, x: float | None = None, y: float | None = None,
              z: float | None = None) -> None:
        """Act as if the point were clicked in the browser (for scripts and tests)."""
        self._dispatch(Click(trace, point, x, y, z))

    def _dispatch(self, click: Click) -> None:
        for handler in self._source._click_handlers:
            handler(click)

    def _revive(self, token: str) -> None:
        """A view of this pane gets no messages: make a mirror model for it to draw from."""
        if not token or len(self._mirrors) >= self.MAX_MIRRORS:
            return
        mirror = PlotPane(traces=self.traces, figure_layout=self.figure_layout, config=self.config, adopts=token)
        mirror._source = self
        self._mirrors.append(mirror)

    def _handle_message(self, _widget: Any, content: dict, buffers: Sequence[bytes]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            self.send({"type": "pong", "id": content.get("id")})
        elif kind == "revive":
            self._source._revive(str(content.get("token", "")))
        elif kind == "unneeded" and self in self._source._mirrors:
            self._source._mirrors.remove(self)
            self.close()
        elif kind == "need plotly.js":
            self.send({"type": "plotly.js"}, buffers=[plotly_js()])
        elif kind == "click" and content.get("points"):
            p = content["points"][0]
            self._dispatch(Click(int(p["trace"]), p.get("point"), p.get("x"), p.get("y"), p.get("z")))


def plotly_js() -> bytes:
    """plotly.min.js of the installed plotly (read once)."""
    global _PLOTLY_JS
    if _PLOTLY_JS is None:
        from plotly.offline import get_plotlyjs

        _PLOTLY_JS = get_plotlyjs().encode()
    return _PLOTLY_JS
