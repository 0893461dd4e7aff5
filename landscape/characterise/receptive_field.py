"""Receptive-field mapping: sparse noise, and gradient-free search of a probe's position."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from landscape.characterise.base import Analysis, check_common
from landscape.characterise.resampling import bootstrap_means, percentile_ci
from landscape.units.measure import measure_images, unit_device
from landscape.estimator import Estimator, check_is_fitted
from landscape.stimuli import ParamTable, discs, gabors, sparse_noise
from landscape.stimuli.colors import ColorLike


def _map_center(response_map: np.ndarray, grid: int) -> tuple[float, float]:
    """Centroid (x, y) of the part of a map above half its maximum (fractions of the image side)."""
    m = np.asarray(response_map, dtype=np.float64)
    top = m.max()
    if not top > 0:
        return float("nan"), float("nan")
    w = np.clip(m - 0.5 * top, 0, None)
    rows, cols = np.mgrid[0:grid, 0:grid]
    xs = (cols + 0.5) / grid - 0.5
    ys = 0.5 - (rows + 0.5) / grid
    return float((w * xs).sum() / w.sum()), float((w * ys).sum() / w.sum())


class SparseNoiseRF(Analysis):
    """Receptive-field map from sparse noise: one square at a time on a grey background.

    Parameters
    ----------
    size : int
    grid : int
        Squares per image side.
    colors : list of colours
        One map per colour (default white and black: ON and OFF subfields).
    background : colour
        Background and baseline field.
    reps, n_boot, ci, batch_size, device, seed, progress
        See :class:`landscape.characterise.base.Analysis`.

    Attributes
    ----------
    labels_ : list of str, the colours
    maps_ : (n_colors, grid, grid) array
        Mean response minus baseline; row 0 is the top of the image.
    response_map_ : (grid, grid) array
        Sum over colours of the absolute maps: where anything drives the unit.
    baseline_ : float
    center_ : (2,) array
        (x, y) centroid of ``response_map_`` above half its maximum, fractions of the image
        side (y up).
    peak_ : (2,) array
        (x, y) centre of the square with the largest ``response_map_``.
    center_ci_ : (2, 2) array
        Bootstrap intervals of x (row 0) and y (row 1).
    """

    def __init__(self, size: int = 32, grid: int = 8, colors: Sequence[ColorLike] = ("white", "black"),
                 background: ColorLike = "grey", reps: int | None = None, n_boot: int = 200, ci: float = 0.95,
                 batch_size: int = 512, device: str | torch.device | None = None, seed: int = 0,
                 progress: bool = False) -> None:
        check_common(size, reps, n_boot, ci, batch_size)
        self.size, self.grid, self.colors, self.background = size, grid, colors, background
        self.reps, self.n_boot, self.ci = reps, n_boot, ci
        self.batch_size, self.device, self.seed, self.progress = batch_size, device, seed, progress
        self.parameter_table()  # bad parameters fail here, before anything is measured

    @property
    def baseline_color(self):
        return self.background

    def stimuli(self, device=None) -> tuple[torch.Tensor, ParamTable]:
        return sparse_noise(self.size, self.grid, self.colors, self.background, device=device)

    def fit_responses(self, responses, baseline) -> "SparseNoiseRF":
        table = self.parameter_table()
        r, b = self._read(responses, baseline, len(table))
        g = table.grid(r)  # (reps, color, row, col)
        self.labels_ = [str(c) for c in table.axes["color"]]
        self.baseline_ = float(b.mean())
        self.maps_ = g.mean(0) - self.baseline_
        self.response_map_ = np.abs(self.maps_).sum(0)
        self.center_ = np.array(_map_center(self.response_map_, self.grid))
        i, j = np.unravel_index(int(np.argmax(self.response_map_)), self.response_map_.shape)
        self.peak_ = np.array([(j + 0.5) / self.grid - 0.5, 0.5 - (i + 0.5) / self.grid])
        if r.shape[0] < 2 or self.n_boot == 0:
            self.center_ci_ = np.stack([self.center_, self.center_], 1)
        else:
            rng = self._rng()
            boot = bootstrap_means(g, self.n_boot, rng)
            bb = bootstrap_means(b[:, None], self.n_boot, rng)[:, 0]
            c = np.array([_map_center(np.abs(boot[k] - bb[k]).sum(0), self.grid) for k in range(self.n_boot)])
            self.center_ci_ = np.stack([percentile_ci(c[:, 0], self.ci), percentile_ci(c[:, 1], self.ci)])
        return self

    def summary(self) -> dict:
        self._check_fitted("maps_")
        return {"analysis": "sparse_noise_rf", "center": self.center_.tolist(), "center_ci": self.center_ci_.tolist(),
                "peak": self.peak_.tolist(), "baseline": self.baseline_, "labels": self.labels_,
                "maps": self.maps_.tolist()}


PROBES = ("disc", "gabor")
METHODS = ("cma", "nelder-mead")


class PositionSearch(Estimator):
    """Find where in the image a small probe stimulus drives a unit best, without gradients.

    A coarse ``start_grid x start_grid`` sweep (one batch) picks the start; then either CMA-ES
    from :mod:`landscape.optim` (ask/tell, one batch per generation) or scipy's Nelder-Mead
    (one position per call) refines the position. Each position is shown as every variant of
    the probe (both disc colours, or every Gabor phase) and scored by the best of them, so
    ON, OFF and phase-sensitive units are all found.

    Parameters
    ----------
    size : int
    probe : {"disc", "gabor"} or callable
        A callable takes ``xs, ys`` ((n,) arrays, fractions of the image side) and returns
        ``(k * n, 3, size, size)`` images: ``k`` variants per position, variant-major (image
        ``v * n + i`` shows variant ``v`` at position ``i``); ``k`` is read from the
        callable's attribute ``variants`` (default 1).
    probe_params : dict or None
        For ``disc``: ``radius`` (default 0.08), ``colors`` (default white and black),
        ``background``. For ``gabor``: ``orientation``, ``frequency`` (required), ``sigma``
        (default 0.08), ``phases`` (default 4).
    method : {"cma", "nelder-mead"}
    budget : int
        Positions scored in the refinement (after the start grid).
    start_grid : int
        Positions per side of the start sweep (0 starts at the image centre).
    sigma0 : float
        Initial step of the refinement, fraction of the image side.
    population : int or None
        CMA-ES population (``None``: its default for 2-D).
    seed : int
    batch_size : int
    device : str, torch.device or None

    Attributes
    ----------
    position_ : (2,) array
        Best (x, y) found, fractions of the image side (y up).
    response_ : float
        Its (observed) score.
    start_ : (2,) array
        Start of the refinement.
    history_ : (n, 3) array
        Every scored position and its score, in order.
    n_evals_ : int
        Positions scored (start grid included).
    """

    def __init__(self, size: int = 32, probe: str | Callable = "disc", probe_params: dict | None = None,
                 method: str = "cma", budget: int = 120, start_grid: int = 5, sigma0: float = 0.1,
                 population: int | None = None, seed: int = 0, batch_size: int = 512,
                 device: str | torch.device | None = None) -> None:
        if not callable(probe) and probe not in PROBES:
            raise ValueError(f"probe must be one of {PROBES} or a callable, got {probe!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if not isinstance(budget, (int, np.integer)) or budget < 1:
            raise ValueError(f"budget must be a positive integer, got {budget!r}")
        if not isinstance(start_grid, (int, np.integer)) or start_grid < 0:
            raise ValueError(f"start_grid must be a non-negative integer, got {start_grid!r}")
        if not 0 < sigma0 <= 0.5:
            raise ValueError(f"sigma0 must be in (0, 0.5] (fraction of the image side), got {sigma0!r}")
        self.size, self.probe, self.probe_params = size, probe, probe_params
        self.method, self.budget, self.start_grid, self.sigma0 = method, budget, start_grid, sigma0
        self.population, self.seed, self.batch_size, self.device = population, seed, batch_size, device
        if probe == "gabor":
            p = probe_params or {}
            if "orientation" not in p or "frequency" not in p:
                raise ValueError("probe='gabor' needs probe_params with 'orientation' and 'frequency'")

    def render(self, xs: np.ndarray, ys: np.ndarray, device=None) -> tuple[torch.Tensor, int]:
        """Probe images for positions: ``(k * n, 3, size, size)`` variant-major, and ``k``."""
        xs = np.clip(np.asarray(xs, dtype=np.float64), -0.5, 0.5)
        ys = np.clip(np.asarray(ys, dtype=np.float64), -0.5, 0.5)
        p = dict(self.probe_params or {})
        if callable(self.probe):
            images = self.probe(xs, ys)
            return images, int(getattr(self.probe, "variants", 1))
        pos = np.column_stack([xs, ys])
        if self.probe == "disc":
            colors = p.get("colors", ("white", "black"))
            images, table = discs(self.size, p.get("radius", 0.08), colors, background=p.get("background", "grey"),
                                  positions=pos, device=device)
            # grid (radius=1, position, color) -> variant-major (color, position)
            images = images.reshape(len(xs), len(colors), *images.shape[1:]).transpose(0, 1)
            return images.reshape(-1, *images.shape[2:]), len(colors)
        images, table = gabors(self.size, [float(p["orientation"])], [float(p["frequency"])], p.get("phases", 4),
                               p.get("sigma", 0.08), positions=pos, device=device)
        k = table.shape[2]  # phases; grid (1, 1, phase, 1, position, 1) is already variant-major
        return images, k

    def _score(self, unit, xy: np.ndarray, device) -> np.ndarray:
        images, k = self.render(xy[:, 0], xy[:, 1], device)
        r = measure_images(unit, images, batch_size=self.batch_size).trials[0]
        s = r.reshape(k, len(xy)).max(0)
        self._hist.extend(np.column_stack([np.clip(xy, -0.5, 0.5), s]).tolist())
        return s

    def fit(self, unit) -> "PositionSearch":
        """Search the best position of the probe for ``unit``; returns self."""
        device = unit_device(unit, self.device)
        self._hist: list[list[float]] = []
        if self.start_grid > 0:
            g = (np.arange(self.start_grid) + 0.5) / self.start_grid - 0.5
            xy = np.array([(x, y) for y in g[::-1] for x in g])
            s = self._score(unit, xy, device)
            start = xy[int(np.argmax(s))]
        else:
            start = np.zeros(2)
        self.start_ = np.asarray(start, dtype=np.float64)
        if self.method == "cma":
            self._cma(unit, device)
        else:
            self._nelder_mead(unit, device)
        h = np.asarray(self._hist)
        self.history_ = h
        self.n_evals_ = int(h.shape[0])
        best = int(np.argmax(h[:, 2]))
        self.position_ = h[best, :2].copy()
        self.response_ = float(h[best, 2])
        del self._hist
        return self

    def _cma(self, unit, device) -> None:
        from landscape.optim import make

        opt = make("cma", dim=2, sigma0=self.sigma0, mean=self.start_, population=self.population, seed=self.seed,
                   dtype="float64")
        used = 0
        while used < self.budget:
            codes = opt.ask()
            xy = codes.cpu().numpy()[: self.budget - used]
            s = self._score(unit, xy, device)
            if xy.shape[0] < codes.shape[0]:
                break  # the budget ran out inside a generation; the optimizer needs whole ones
            opt.tell(codes, s)
            used += xy.shape[0]

    def _nelder_mead(self, unit, device) -> None:
        from scipy.optimize import minimize

        simplex = np.array([self.start_, self.start_ + [self.sigma0, 0], self.start_ + [0, self.sigma0]])
        minimize(lambda v: -float(self._score(unit, np.asarray(v)[None], device)[0]), self.start_,
                 method="Nelder-Mead", options={"maxfev": self.budget, "initial_simplex": simplex,
                                                "xatol": 1e-3, "fatol": 0.0})

    def summary(self) -> dict[str, Any]:
        check_is_fitted(self, "position_", hint="fit(unit)")
        return {"analysis": "position_search", "method": self.method, "position": self.position_.tolist(),
                "response": self.response_, "start": self.start_.tolist(), "n_evals": self.n_evals_}
