"""A sweep drawn: mean normalised score per optimizer, by layer, one panel per noise level.

The display takes the sweep's summary and task rows (plain lists of dicts, as
:mod:`landscape.sweep.table` writes them), so the sweep engine calls it without the figures
knowing the engine.
"""

from __future__ import annotations

import math
from typing import Any

from landscape.plots.display import Display

#: one colour per optimizer, in spec order (plotly's default qualitative palette)
PALETTE = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880",
           "#FF97FF", "#FECB52")


class SweepDisplay(Display):
    """Bars of the mean normalised score (with its standard error) per optimizer and layer, every
    task's normalised score as a dot.

    Parameters
    ----------
    result : list of dict
        Summary rows of :func:`landscape.sweep.table.summarise`.
    rows : list of dict
        Task rows (with ``normalised_score``).
    """

    def __init__(self, result: list[dict], rows: list[dict]) -> None:
        super().__init__(result)
        self.rows = rows

    def figure(self) -> Any:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        summary, rows = self.result, self.rows
        noises = list(dict.fromkeys(s["noise"] for s in summary))
        optimizers = list(dict.fromkeys(s["optimizer"] for s in summary))
        layers = list(dict.fromkeys(f"{s['model']}/{s['layer']}" for s in summary))
        fig = make_subplots(rows=1, cols=max(1, len(noises)), shared_yaxes=True,
                            subplot_titles=[f"noise: {n}" for n in noises])
        for j, noise in enumerate(noises):
            for k, opt in enumerate(optimizers):
                colour = PALETTE[k % len(PALETTE)]
                ss = {f"{s['model']}/{s['layer']}": s for s in summary if s["noise"] == noise and s["optimizer"] == opt}
                ys = [ss[x]["mean_normalised_score"] if x in ss else None for x in layers]
                err = [ss[x]["sem_normalised_score"] if x in ss and not math.isnan(ss[x]["sem_normalised_score"])
                       else 0.0 for x in layers]
                ratio = [ss[x]["ratio_to_reference"] if x in ss else None for x in layers]
                fig.add_trace(go.Bar(
                    x=layers, y=ys, name=opt, legendgroup=opt, showlegend=j == 0, marker_color=colour,
                    error_y={"type": "data", "array": err, "visible": True}, customdata=ratio,
                    hovertemplate=f"{opt}<br>%{{x}}<br>mean normalised %{{y:.3f}}<br>ratio to reference "
                                  "%{customdata:.2f}<extra></extra>"), row=1, col=j + 1)
                pts = [r for r in rows if r["noise"] == noise and r["optimizer"] == opt]
                fig.add_trace(go.Scatter(
                    x=[f"{r['model']}/{r['layer']}" for r in pts], y=[r["normalised_score"] for r in pts],
                    mode="markers", name=f"{opt} runs", legendgroup=opt, showlegend=False, offsetgroup=opt,
                    marker={"color": "black", "size": 4, "opacity": 0.5},
                    text=[f"{r['unit']} seed {r['seed']}" for r in pts],
                    hovertemplate="%{text}<br>normalised %{y:.3f}<extra></extra>"), row=1, col=j + 1)
        fig.update_layout(barmode="group", scattermode="group", title="Sweep: best clean score / best on the unit",
                          yaxis_title="normalised score", template="plotly_white", legend_title="optimizer")
        return fig
