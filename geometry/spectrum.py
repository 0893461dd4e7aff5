"""Anisotropy of the metric: how few eigen-dimensions hold the image variation.

For a metric's eigenvalues ``lambda_1 >= ... >= lambda_d >= 0`` this module counts the
dimensions holding a fraction (99%, 99.9%, 99.99%) of the eigenvalue sum, the effective rank
``exp(entropy(lambda / sum lambda))`` (Roy & Vetterli 2007) and the participation ratio
``(sum lambda)^2 / sum lambda^2``. Negative eigenvalues of a PSD metric are numerical noise
and count as 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

FRACTIONS = (0.99, 0.999, 0.9999)


def _as_rows(eigvals: Any) -> np.ndarray:
    w = np.asarray(eigvals, dtype=np.float64)
    if w.ndim == 1:
        w = w[None]
    if w.ndim != 2 or w.shape[1] == 0:
        raise ValueError(f"eigvals must have shape (d,) or (n, d), got {np.shape(eigvals)}")
    if not np.all(np.isfinite(w)):
        raise ValueError("eigvals contain NaN or infinite values")
    return -np.sort(-np.clip(w, 0.0, None), axis=1)


def dims_for_fraction(eigvals: Any, fraction: float = 0.99) -> int | np.ndarray:
    """Smallest number of top eigen-dimensions whose eigenvalues sum to ``fraction`` of the total.

    Parameters
    ----------
    eigvals : (d,) or (n, d) array
    fraction : float in (0, 1]

    Returns
    -------
    int for (d,) input, (n,) int array for (n, d) input. A spectrum summing to 0 gives 0.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    w = _as_rows(eigvals)
    cum = np.cumsum(w, axis=1)
    total = cum[:, -1:]
    # a relative slack keeps fraction=1 from being defeated by rounding in the cumulative sum
    reached = cum >= fraction * total * (1 - 1e-12)
    out = np.where(total[:, 0] > 0, reached.argmax(axis=1) + 1, 0)
    return int(out[0]) if np.ndim(eigvals) == 1 else out


def effective_rank(eigvals: Any) -> float | np.ndarray:
    """``exp(-sum p log p)`` with ``p = lambda / sum lambda``: d for a flat spectrum, 1 for rank one."""
    w = _as_rows(eigvals)
    total = w.sum(axis=1, keepdims=True)
    p = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    logp = np.log(p, out=np.zeros_like(p), where=p > 0)
    out = np.exp(-(p * logp).sum(axis=1))
    return float(out[0]) if np.ndim(eigvals) == 1 else out


def participation_ratio(eigvals: Any) -> float | np.ndarray:
    """``(sum lambda)^2 / sum lambda^2``: d for a flat spectrum, 1 for rank one."""
    w = _as_rows(eigvals)
    num = w.sum(axis=1) ** 2
    den = (w ** 2).sum(axis=1)
    out = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(out[0]) if np.ndim(eigvals) == 1 else out


class SpectrumStats:
    """Anisotropy statistics of metric spectra at one or many positions.

    Parameters
    ----------
    fractions : sequence of float
        Fractions of the eigenvalue sum to count dimensions for.

    Attributes (after :meth:`fit`)
    ------------------------------
    dims_ : (n, len(fractions)) int array
        Dimensions holding each fraction, per position.
    effective_rank_, participation_ratio_ : (n,) arrays
    spectrum_mean_, spectrum_median_ : (d,) arrays
        Mean and median of the sorted spectra across positions.
    spectrum_low_, spectrum_high_ : (d,) arrays
        5th and 95th percentiles.
    n_positions_, dim_ : int
    """

    def __init__(self, fractions: Sequence[float] = FRACTIONS) -> None:
        self.fractions = tuple(float(f) for f in fractions)

    def fit(self, eigvals: Any) -> "SpectrumStats":
        """``eigvals`` : (d,) or (n, d) array (e.g. ``HessianStack.eigvals``)."""
        w = _as_rows(eigvals)
        self.n_positions_, self.dim_ = w.shape
        self.dims_ = np.stack([np.atleast_1d(dims_for_fraction(w, f)) for f in self.fractions], axis=1)
        self.effective_rank_ = np.atleast_1d(effective_rank(w))
        self.participation_ratio_ = np.atleast_1d(participation_ratio(w))
        self.spectrum_mean_ = w.mean(axis=0)
        self.spectrum_median_ = np.median(w, axis=0)
        self.spectrum_low_, self.spectrum_high_ = np.percentile(w, [5, 95], axis=0)
        return self

    def summary(self) -> dict:
        """JSON-ready dict: per fraction the mean/min/max dims, and the mean effective rank."""
        out: dict[str, Any] = {"n_positions": int(self.n_positions_), "dim": int(self.dim_)}
        for j, f in enumerate(self.fractions):
            col = self.dims_[:, j]
            out[f"dims_{f:g}"] = {"mean": float(col.mean()), "min": int(col.min()), "max": int(col.max())}
        out["effective_rank_mean"] = float(self.effective_rank_.mean())
        out["participation_ratio_mean"] = float(self.participation_ratio_.mean())
        return out

    def save(self, path: str | Path) -> Path:
        """Write :meth:`summary` as JSON."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2))
        return path

    def plot(self, path: str | Path | None = None, title: str = "Metric spectrum", label: str = "spectrum",
             fig: Any = None) -> Any:
        """Plot the sorted spectrum (log scale, median with a 5-95% band) and its cumulative fraction.

        Pass ``fig`` from an earlier call to overlay another spectrum (e.g. the shuffled control).
        Writes standalone HTML (plotly embedded, no CDN) when ``path`` is given.

        Returns
        -------
        plotly.graph_objects.Figure
        """
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        if fig is None:
            fig = make_subplots(rows=1, cols=2, subplot_titles=("eigenvalue (log scale)",
                                                                "fraction of eigenvalue sum"))
        x = np.arange(1, self.dim_ + 1)
        floor = max(self.spectrum_median_[self.spectrum_median_ > 0].min(initial=1e-30) * 1e-3, 1e-30)
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[np.maximum(self.spectrum_high_, floor),
                                                              np.maximum(self.spectrum_low_, floor)[::-1]],
                                 fill="toself", opacity=0.25, line=dict(width=0), name=f"{label} 5-95%",
                                 showlegend=False), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=np.maximum(self.spectrum_median_, floor), name=f"{label} median"),
                      row=1, col=1)
        cum = np.cumsum(self.spectrum_mean_) / max(self.spectrum_mean_.sum(), 1e-300)
        fig.add_trace(go.Scatter(x=x, y=cum, name=f"{label} cumulative"), row=1, col=2)
        # "power" ticks read 10^-4, where plotly's default SI prefixes read "100µ", "10f"
        fig.update_yaxes(type="log", exponentformat="power", title_text="eigenvalue", row=1, col=1)
        fig.update_yaxes(title_text="cumulative fraction", range=[0, 1.02], row=1, col=2)
        fig.update_xaxes(title_text="eigen-dimension (sorted)")
        fig.update_layout(title=title)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fig.write_html(str(path), include_plotlyjs=True)
        return fig

    def __repr__(self) -> str:
        return f"SpectrumStats(fractions={self.fractions})"
