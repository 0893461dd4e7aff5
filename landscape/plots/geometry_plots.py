"""The generator's geometry drawn: metric spectra (with a control beside them) and metric homogeneity.

:mod:`geometry` computes and draws nothing; these displays draw its results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geometry.homogeneity import Homogeneity
from geometry.spectrum import SpectrumStats
from landscape.plots.display import Display, register


@register(SpectrumStats)
class SpectrumDisplay(Display):
    """Sorted eigenvalues (log scale, median with a 5-95% band) and their cumulative fraction.

    Parameters
    ----------
    result : fitted SpectrumStats
    title : str
    label : str
        Names the traces, so that spectra overlay legibly (``figure(fig=...)``).

    Examples
    --------
    >>> fig = SpectrumDisplay(trained, label="trained").figure()                    # doctest: +SKIP
    >>> SpectrumDisplay(shuffled, label="shuffled").figure(fig).show()              # doctest: +SKIP
    """

    def __init__(self, result: Any, *, title: str = "Metric spectrum", label: str = "spectrum") -> None:
        super().__init__(result)
        self.title, self.label = title, label

    def figure(self, fig: Any = None) -> Any:
        """The figure, or these traces added to ``fig`` from an earlier call (e.g. to overlay a control)."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        st, label = self.result, self.label
        if fig is None:
            fig = make_subplots(rows=1, cols=2, subplot_titles=("eigenvalue (log scale)",
                                                                "fraction of eigenvalue sum"))
        x = np.arange(1, st.dim_ + 1)
        floor = max(st.spectrum_median_[st.spectrum_median_ > 0].min(initial=1e-30) * 1e-3, 1e-30)
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[np.maximum(st.spectrum_high_, floor),
                                                              np.maximum(st.spectrum_low_, floor)[::-1]],
                                 fill="toself", opacity=0.25, line=dict(width=0), name=f"{label} 5-95%",
                                 showlegend=False), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=np.maximum(st.spectrum_median_, floor), name=f"{label} median"),
                      row=1, col=1)
        cum = np.cumsum(st.spectrum_mean_) / max(st.spectrum_mean_.sum(), 1e-300)
        fig.add_trace(go.Scatter(x=x, y=cum, name=f"{label} cumulative"), row=1, col=2)
        # "power" ticks read 10^-4, where plotly's default SI prefixes read "100µ", "10f"
        fig.update_yaxes(type="log", exponentformat="power", title_text="eigenvalue", row=1, col=1)
        fig.update_yaxes(title_text="cumulative fraction", range=[0, 1.02], row=1, col=2)
        fig.update_xaxes(title_text="eigen-dimension (sorted)")
        fig.update_layout(title=self.title)
        return fig


@register(Homogeneity)
class HomogeneityDisplay(Display):
    """Heatmaps of the log correlation and the entry correlation between positions' metrics."""

    def __init__(self, result: Any, *, title: str = "Metric homogeneity") -> None:
        super().__init__(result)
        self.title = title

    def figure(self) -> Any:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        h = self.result
        fig = make_subplots(rows=1, cols=2, subplot_titles=(
            f"corr(log v_i'H_j v_i, log lambda_j), mean {h.summary_['corr_log']['mean']:.3f}",
            f"corr of entries H_i, H_j, mean {h.summary_['entry_corr']['mean']:.3f}"))
        fig.add_trace(go.Heatmap(z=h.corr_log_, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                                 showscale=False), row=1, col=1)
        fig.add_trace(go.Heatmap(z=h.entry_corr_, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                                 colorbar=dict(title="correlation")),
                      row=1, col=2)
        fig.update_xaxes(title_text="position j (code)", dtick=1)
        fig.update_yaxes(title_text="position i (code)", dtick=1, autorange="reversed")
        fig.update_layout(title=self.title)
        return fig
