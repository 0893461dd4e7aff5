"""Evolution dashboard: run an optimizer live, with start / pause / stop, writing the Run as it goes."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..io import read_json
from .images import image_strip, png_bytes

#: widgets are redrawn at most this often (a GPU run makes hundreds of generations a second)
REDRAW_S = 0.25


def in_kernel() -> bool:
    """True inside a Jupyter kernel (where a synchronously running cell blocks widget messages)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class EvolutionDashboard:
    """Evolve images for a unit generation by generation, with a live score curve.

    Every generation is committed to ``out`` by :func:`landscape.runs.evolve` before the widgets
    update, so closing the browser tab (or the kernel dying) loses nothing: ``start`` again, or
    ``landscape.evolve(..., resume=True)``, continues the run.

    Three ways to run it:

    * ``await dashboard.run_async()`` in a notebook cell: the cell (and the cells queued after
      it) waits for the run, and the pause / start / stop buttons work meanwhile. A kernel reads
      widget messages only while a cell awaits: the evolution runs in a worker thread and the
      cell awaits it (ipykernel >= 7.4 hands widget messages to an awaiting cell).
    * ``dashboard.start()`` (or the start button): a background thread; the cell returns at once.
    * ``dashboard.run_blocking()``: for scripts. In a notebook it holds the kernel, so it greys
      out pause and stop (they could not be answered) and says to use ``run_async``.

    After ``stop`` (or pause), ``start`` continues from disk. When the run has used its whole
    budget, ``start`` says so and points to a new ``out`` folder instead of doing nothing.

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
    figure : :class:`~landscape.widgets.plotpane.PlotPane`, best and mean observed score per generation
    best, mean : lists of per-generation best and mean observed scores
    generation : index of the last finished generation (-1 before the first)
    state : "ready", "running", "paused", "stopped", "complete" or "failed"
    run : landscape.runs.Run or None (after the run ends or stops)
    """

    def __init__(self, generator: Any, unit: Any, optimizer: Any = "cma", budget: int = 1000,
                 out: str | Path = "runs/dashboard", seed: int = 0, strip_size: int = 8, scale: int = 2) -> None:
        import ipywidgets as W
        import plotly.graph_objects as go

        from .. import optim
        from .plotpane import PlotPane

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
        self._gens: list[int] = []
        self.generation = -1
        self.state = "ready"
        self.run = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._looping = False
        self._pause = threading.Event()
        self._stop = threading.Event()
        self._last_draw = 0.0
        self._last_codes: torch.Tensor | None = None
        self._last_scores: np.ndarray | None = None
        self._extra: Callable[[int], Any] | None = None
        self._note = ""

        self.figure = PlotPane(go.Figure(
            [go.Scatter(y=[], mode="lines", name="best"), go.Scatter(y=[], mode="lines", name="mean")],
            layout=dict(height=270, margin=dict(l=55, r=10, t=35, b=40),
                        title=f"{self.optimizer.name}: score per generation", xaxis_title="generation",
                        yaxis_title="observed score", legend=dict(orientation="h", y=1.0, x=1, xanchor="right",
                                                                  yanchor="bottom"))),
            layout=W.Layout(flex="1 1 420px", min_width="300px", max_width="560px"))
        self.best_image = W.Image(format="png", layout=W.Layout(display="none"))
        self.strip = W.Image(format="png", layout=W.Layout(display="none"))
        self.status = W.HTML(f"ready: the run will be written to {self.out}")
        self.progress = W.IntProgress(min=0, max=self.budget, description="images",
                                      style={"description_width": "initial"})
        self.start_button = W.Button(description="start", button_style="success", icon="play")
        self.pause_button = W.Button(description="pause", icon="pause")
        self.stop_button = W.Button(description="stop", button_style="danger", icon="stop")
        self.start_button.on_click(lambda _: self.start())
        self.pause_button.on_click(lambda _: self.pause())
        self.stop_button.on_click(lambda _: self.stop())
        self.widget = W.VBox([W.HBox([self.start_button, self.pause_button, self.stop_button, self.progress],
                                     layout=W.Layout(flex_flow="row wrap")),
                              self.status,
                              W.HBox([self.figure, W.VBox([W.HTML("best of generation"), self.best_image])],
                                     layout=W.Layout(flex_flow="row wrap", width="100%")),
                              W.HTML("population (best first)"), self.strip],
                             layout=W.Layout(width="100%", max_width="900px"))

    # -- control ---------------------------------------------------------------------------
    def _complete_on_disk(self) -> bool:
        meta = self.out / "meta.json"
        if not meta.exists():
            return False
        m = read_json(meta)
        return m.get("status") == "complete" and int(m.get("budget", 0)) >= self.budget

    def _say_complete(self) -> None:
        self.state = "complete"
        self.status.value = (f"<span style='color:#b45309'><b>This run is complete</b> ({self.budget} images in "
                             f"{self.out}): there is nothing left to evolve. For another run, make a new "
                             "EvolutionDashboard with another <code>out=</code> folder (and <code>seed=</code>)."
                             "</span>")

    def start(self) -> None:
        """Start the run in a background thread, or continue it after pause or stop; returns at once."""
        if self._looping:
            if self._pause.is_set():
                self._pause.clear()
                self.state = "running"
                self.status.value = "running"
            return
        if self._complete_on_disk():
            self._say_complete()
            return
        self._stop.clear()
        self._pause.clear()
        self._looping = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Pause after the current generation (press start to continue)."""
        if not self._looping:
            self.status.value = f"nothing to pause: the run is {self.state}"
            return
        self._pause.set()
        self.state = "paused"
        self.status.value = "pausing after this generation..."

    def stop(self) -> None:
        """Stop after the current generation; the run stays on disk and ``start`` continues it."""
        if not self._looping:
            self.status.value = f"nothing to stop: the run is {self.state}"
            return
        self._stop.set()
        self._pause.clear()
        self.status.value = "stopping after this generation..."

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background run ends (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise self.error

    def run_blocking(self, callback: Callable[[int], Any] | None = None) -> Any:
        """Run in the calling thread until the run ends; ``callback(generation)`` after each one.

        For scripts. In a notebook use ``await dashboard.run_async()``: a cell that runs
        synchronously holds the kernel, which then reads no button clicks, so here pause and
        stop are greyed out for the duration. Returns the Run.
        """
        if self._looping:
            raise RuntimeError("the dashboard is already running in the background; use pause/stop/wait")
        if self._complete_on_disk():
            return self._complete_run()
        self._extra = callback
        self._stop.clear()
        self._pause.clear()
        self._looping = True
        held = in_kernel()
        if held:
            self.pause_button.disabled = self.stop_button.disabled = True
            self._note = (" (pause and stop cannot answer while run_blocking() holds the kernel: "
                          "use <code>await dashboard.run_async()</code>)")
        try:
            self._run()
        finally:
            self._extra = None
            self._note = ""
            self.pause_button.disabled = self.stop_button.disabled = False
        if self.error is not None:
            raise self.error
        return self.run

    async def run_async(self, callback: Callable[[int], Any] | None = None) -> Any:
        """Run until the run ends while the notebook stays responsive: ``await dashboard.run_async()``.

        The evolution runs in a worker thread (``callback(generation)`` is called there after each
        generation); the awaiting cell lets the kernel answer the pause, start and stop buttons.
        Interrupting the kernel stops the run after the current generation. Returns the Run.
        """
        if self._looping:
            raise RuntimeError("the dashboard is already running in the background; use pause/stop/wait")
        if self._complete_on_disk():
            return self._complete_run()
        self._extra = callback
        self.start()
        try:
            while self._looping:
                await asyncio.sleep(0.05)
        except BaseException:  # interrupted (CancelledError / KeyboardInterrupt): end cleanly, data on disk
            self.stop()
            if self._thread is not None:
                self._thread.join()
            raise
        finally:
            self._extra = None
        if self.error is not None:
            raise self.error
        return self.run

    def _complete_run(self) -> Any:
        from ..runs import Run

        self._say_complete()
        self.run = Run.load(self.out)
        return self.run

    # -- the loop --------------------------------------------------------------------------
    def _run(self) -> None:
        from ..runs import evolve

        self.error = None
        self.state = "running"
        self.status.value = "running" + self._note
        try:
            self.run = evolve(self.generator, self.unit, self.optimizer, self.budget, out=self.out, seed=self.seed,
                              resume=(self.out / "meta.json").exists(), progress=False, callback=self._on_generation)
            self._draw()
            self.state = "stopped" if self.run.meta["status"] == "stopped" else "complete"
            hint = " (press start to continue it)" if self.state == "stopped" else ""
            self.status.value = (f"{self.run.meta['status']}: best clean score {self.run.best_score:.4g} "
                                 f"after {self.run.n_generations} generations; data in {self.out}{hint}")
        except BaseException as e:  # shown in the widget; wait()/run_blocking re-raise it
            self.error = e
            self.state = "failed"
            self.status.value = (f"<span style='color:red'>failed: {type(e).__name__}: {e}</span> "
                                 f"(data so far in {self.out})")
        finally:
            self._looping = False

    def _on_generation(self, g: int, codes: torch.Tensor, scores: torch.Tensor, clean: torch.Tensor) -> bool:
        s = scores.numpy()
        self.best.append(float(np.nanmax(s)))
        self.mean.append(float(np.nanmean(s)))
        self._gens.append(int(g))
        self.generation = int(g)
        self._last_codes, self._last_scores = codes, s
        self.progress.value = min(self.progress.max, self.progress.value + int(codes.shape[0]))
        if time.monotonic() - self._last_draw >= REDRAW_S:
            self._draw()
        if self._extra is not None:
            self._extra(g)
        if self._pause.is_set() and not self._stop.is_set():
            self._draw()
            self.status.value = (f"paused after generation {g} (the run so far is on disk in {self.out}); "
                                 "press start to continue or stop to end")
            while self._pause.is_set() and not self._stop.is_set():
                time.sleep(0.05)
            if not self._stop.is_set():
                self.state = "running"
                self.status.value = "running"
        return not self._stop.is_set()

    def _draw(self) -> None:
        """Show the curve, the best image and the strip of the last generation."""
        self._last_draw = time.monotonic()
        if self._last_codes is None:
            return
        self.figure.restyle(0, {"x": self._gens, "y": self.best})
        self.figure.restyle(1, {"x": self._gens, "y": self.mean})
        s = self._last_scores
        order = np.argsort(-np.nan_to_num(s, nan=-np.inf))[: self.strip_size]
        with torch.no_grad():
            images = self.generator(self._last_codes[torch.as_tensor(order.copy())].to(self.generator.device))
        self.best_image.value = png_bytes(images[0], self.scale * 2)
        self.strip.value = png_bytes(image_strip(images.cpu()), self.scale)
        self.best_image.layout.display = self.strip.layout.display = None
        if self.state == "running":
            self.status.value = (f"generation {self.generation}: best {self.best[-1]:.4g}, "
                                 f"mean {self.mean[-1]:.4g}{self._note}")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
