"""An evolution run drawn: the score per generation."""

from __future__ import annotations

from typing import Any

from landscape.plots.display import Display, register
from landscape.record import Run


@register(Run)
class RunDisplay(Display):
    """Best and mean observed score per generation, and the best clean score when the unit is noisy."""

    def figure(self) -> Any:
        import plotly.graph_objects as go

        run = self.result
        fig = go.Figure([go.Scatter(y=run.best_per_generation(), name="best (observed)"),
                         go.Scatter(y=run.mean_per_generation(), name="mean (observed)")])
        if run.has_clean_scores and run.meta.get("unit", {}).get("noise"):
            fig.add_trace(go.Scatter(y=run.best_clean_per_generation(), name="best (clean)", line=dict(dash="dot")))
        fig.update_layout(title="score per generation", xaxis_title="generation", yaxis_title="score", height=380)
        return fig
