"""Evolution dashboard: run an optimizer live, with start / pause / stop, writing the Run as it goes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .images import image_strip, png_bytes


class EvolutionDashboard:
    """Evolve images for a unit generation by generation, with a live score curve.

    Every generation is committed to ``out`` by :func:`landscape.runs.evolve` before the widgets
    update, so closing the browser tab (or the kernel dying) loses nothing: ``start`` again, or
    ``landscape.evolve(..., resume=True)``, continues the run.

    Parameters
    ----------
    generator : Generator
    unit : Unit
    optimizer : str, Optimizer, or callable(dim) -> Optimizer
        A short name (``"ga"``, ``"cma"``, ``"spherecma"``, ...) is built with
        ``landscape.optim.make(name, generator.dim, seed=seed)``.
    budget : int
        Image evaluations.
    out : path
        Run folder.
    seed : int
    strip_size : int
        How many of the best images of the current generation the population strip shows.
    scale : int
        Display enlargement of images.

    Attributes
    ----------
    widget : ipywidgets.VBox
    best, mean : lists of per-generation best and mean observed scores
    run : landscape.runs.Run or None (after the run ends or stops)
    """

    def __init__(self, generator: Any, unit: Any, optimizer: Any = "cma", budget: int = 1000,
                 out: str | Path = "runs/dashboard", seed: int = 0, strip_size: int = 8, scale: int = 2) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        from .. import optim

        self.generator, self.unit, self.budget, self.out, self.seed = generator, unit, int(budget), Path(out), seed
        if isinstance(optimizer, str):
            self.optimizer = optim.make(optimizer, generator.dim, seed=seed, device=generator.device)
        elif isinstance(optimizer, optim.Optimizer):
            self.optimizer = optimizer
        elif callable(optimizer):
            self.optimizer = optimizer(generator.dim)
        else:
            raise TypeError(f"optimizer must be a name ({', '.join(optim.names())}), an Optimizer or a factory")
        self.strip_size, self.scale = strip_size, scale
        self.best: list[float] = []
        self.mean: list[float] = []
        self.run = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._go = threading.Event()
        self._go.set()
        self._stop = False

        self.figure = go.FigureWidget(
            data=[go.Scatter(y=[], mode="lines", name="best"), go.Scatter(y=[], mode="lines", name="mean")],
            layout=dict(height=260, width=460, margin=dict(l=40, r=10, t=30, b=35),
                        title=f"{self.optimizer.name}: score per generation", xaxis_title="generation",
                        yaxis_title="observed score"))
        self.best_image = W.Image(format="png")
        self.strip = W.Image(format="png")
        self.status = W.HTML(f"ready: {self.out}")
        self.progress = W.IntProgress(min=0, max=self.budget, description="images")
        self.start_button = W.Button(description="start", button_style="success")
        self.pause_button = W.Button(description="pause")
        self.stop_button = W.Button(description="stop", button_style="danger")
        self.start_button.on_click(lambda _: self.start())
        self.pause_button.on_click(lambda _: self.pause())
        self.stop_button.on_click(lambda _: self.stop())
        self.widget = W.VBox([W.HBox([self.start_button, self.pause_button, self.stop_button, self.progress]),
                              self.status,
                              W.HBox([self.figure, W.VBox([W.HTML("best of generation"), self.best_image])]),
                              W.HTML("population (best first)"), self.strip])

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start (or continue) the run in a background thread; returns at once."""
        if self._thread is not None and self._thread.is_alive():
            self._go.set()  # start while paused means resume
            self.status.value = "running"
            return
        self._stop = False
        self._go.set()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Pause after the current generation (press start to continue)."""
        self._go.clear()
        self.status.value = "paused (the run so far is on disk)"

    def stop(self) -> None:
        """Stop after the current generation; the run stays on disk and can be continued."""
        self._stop = True
        self._go.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background run ends (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise self.error

    def run_blocking(self, callback: Callable[[int], Any] | None = None) -> Any:
        """Run in the calling thread (no buttons needed); ``callback(generation)`` after each one."""
        self._extra = callback
        self._stop = False
        self._run()
        if self.error is not None:
            raise self.error
        return self.run

    # -- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        from ..runs import evolve

        self.error = None
        self.status.value = "running"
        try:
            self.run = evolve(self.generator, self.unit, self.optimizer, self.budget, out=self.out, seed=self.seed,
                              resume=(self.out / "meta.json").exists(), progress=False, callback=self._on_generation)
            self.status.value = (f"{self.run.meta['status']}: best clean score {self.run.best_score:.4g} "
                                 f"after {self.run.n_generations} generations; data in {self.out}")
        except BaseException as e:  # shown in the widget; wait()/run_blocking re-raise it
            self.error = e
            self.status.value = f"<span style='color:red'>failed: {type(e).__name__}: {e}</span> (data so far in {self.out})"

    def _on_generation(self, g: int, codes: torch.Tensor, scores: torch.Tensor, clean: torch.Tensor) -> bool:
        s = scores.numpy()
        self.best.append(float(np.nanmax(s)))
        self.mean.append(float(np.nanmean(s)))
        with self.figure.batch_update():
            self.figure.data[0].y = self.best
            self.figure.data[1].y = self.mean
        order = np.argsort(-np.nan_to_num(s, nan=-np.inf))[: self.strip_size]
        with torch.no_grad():
            images = self.generator(codes[torch.as_tensor(order.copy())].to(self.generator.device))
        self.best_image.value = png_bytes(images[0], self.scale * 2)
        self.strip.value = png_bytes(image_strip(images.cpu()), self.scale)
        self.progress.value = min(self.progress.max, self.progress.value + int(codes.shape[0]))
        self.status.value = f"generation {g}: best {self.best[-1]:.4g}, mean {self.mean[-1]:.4g}"
        extra = getattr(self, "_extra", None)
        if extra is not None:
            extra(g)
        self._go.wait()  # paused: the generation is already on disk
        return not self._stop

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
