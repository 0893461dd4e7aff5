"""Display objects over results (scikit-learn's ``*Display`` classes), their registry and HTML pages.

A :class:`Display` draws one result: ``figure()`` is an interactive plotly figure,
``write_html(path)`` writes it as a standalone page (plotly.js embedded, so it opens offline),
``image()`` is a PIL picture where the result has one, and ``save_png(path)`` writes it.
``display(result)`` finds the display registered for the result's type (:func:`register`), so
a new analysis names its display in one place instead of a chain of ``isinstance`` tests.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from landscape.io import atomic_write_bytes, save_png

#: result type -> display class; filled by :func:`register`
DISPLAYS: dict[type, type[Display]] = {}


class Display:
    """One result drawn: a plotly figure, a standalone HTML page, and (where it has one) a PNG.

    Parameters
    ----------
    result : object
        What to draw (a fitted analysis, a result object).
    **options
        Drawing options of the subclass.
    """

    def __init__(self, result: Any) -> None:
        self.result = result

    @classmethod
    def from_result(cls, result: Any, **options: Any) -> Display:
        """The display of ``result`` (scikit-learn's ``from_estimator`` spelling)."""
        return cls(result, **options)

    def figure(self) -> Any:
        """The interactive figure (a ``plotly.graph_objects.Figure``)."""
        raise NotImplementedError(f"{type(self).__name__} has no interactive figure")

    def image(self) -> Any:
        """The static picture (a ``PIL.Image.Image``)."""
        raise NotImplementedError(f"{type(self).__name__} draws no PNG picture; use write_html")

    def write_html(self, path: str | Path) -> Path:
        """Write :meth:`figure` as a standalone HTML page (plotly.js embedded: works offline)."""
        return write_html(self.figure(), path)

    def save_png(self, path: str | Path) -> Path:
        """Write :meth:`image` as a PNG file."""
        return save_png(path, np.asarray(self.image().convert("RGB")))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.result).__name__})"


def register(*result_types: type) -> Callable[[type[Display]], type[Display]]:
    """Class decorator: ``@register(OrientationTuning)`` makes ``display(tuning)`` use the class."""
    def add(cls: type[Display]) -> type[Display]:
        for t in result_types:
            DISPLAYS[t] = cls
        return cls
    return add


def display_class(result: Any) -> type[Display]:
    """The display class registered for ``type(result)`` or its nearest base class."""
    for t in type(result).__mro__:
        if t in DISPLAYS:
            return DISPLAYS[t]
    known = ", ".join(sorted(t.__name__ for t in DISPLAYS))
    raise TypeError(f"no display for {type(result).__name__}; displays exist for: {known}")


def display(result: Any, **options: Any) -> Display:
    """The display of ``result``: ``display(tuning).figure()``, ``display(signature).save_png(p)``."""
    return display_class(result)(result, **options)


def write_html(fig: Any, path: str | Path) -> Path:
    """Write one plotly figure as a standalone page (plotly.js embedded), atomically."""
    path = Path(path)
    atomic_write_bytes(path, fig.to_html(include_plotlyjs=True, full_html=True).encode())
    return path


def write_figures_html(figures: Sequence[Any], path: str | Path, title: str = "Figures") -> Path:
    """Several plotly figures on one standalone page, plotly.js embedded once."""
    parts = [f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
             f"<h1>{html.escape(title)}</h1>"]
    parts += [fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures)]
    parts.append("</body></html>")
    path = Path(path)
    atomic_write_bytes(path, "\n".join(parts).encode())
    return path
