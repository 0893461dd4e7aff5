"""The sweep's figure: mean normalised score per optimizer, by layer, one panel per noise level."""

from __future__ import annotations

import math
from pathlib import Path

#: one colour per optimizer, in spec order (plotly's default qualitative palette)
_PALETTE = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880",
            "#FF97FF", "#FECB52")


def summary_figure(summary: list[dict], rows: list[dict]):
    """A plotly figure of the summary, with every task's normalised score as a dot.

    Parameters
    ----------
    summary : rows of :func:`landscape.sweep.table.summarise`
    rows : task rows (with ``normalised_score``)

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    noises = list(dict.fromkeys(s["noise"] for s in summary))
    optimizers = list(dict.fromkeys(s["optimizer"] for s in summary))
    layers = list(dict.fromkeys(f"{s['model']}/{s['layer']}" for s in summary))
    fig = make_subplots(rows=1, cols=max(1, len(noises)), shared_yaxes=True,
                        subplot_titles=[f"noise: {n}" for n in noises])
    for j, noise in enumerate(noises):
        for k, opt in enumerate(optimizers):
            colour = _PALETTE[k % len(_PALETTE)]
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


def write_figure(summary: list[dict], rows: list[dict], path: Path) -> Path:
    """Write :func:`summary_figure` as standalone HTML (plotly.js embedded: works offline)."""
    from ..io import atomic_write_bytes

    html = summary_figure(summary, rows).to_html(include_plotlyjs=True, full_html=True)
    atomic_write_bytes(path, html.encode())
    return path
