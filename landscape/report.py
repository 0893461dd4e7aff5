"""One standalone HTML page per run: score curve, best images, tuning maps and their topology.

The page embeds plotly's JavaScript and every image (base64 PNG), so it opens offline and can be
mailed around. Maps are found in the run folder (``maps/*.npz`` or ``*.npz`` written by
``landscape map``) or passed explicitly.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np


def _find_maps(run_dir: Path) -> list[Path]:
    found = []
    for p in sorted(list(run_dir.glob("*.npz")) + list((run_dir / "maps").glob("*.npz"))):
        if p.with_suffix(".json").exists():
            found.append(p)
    return found


def _gallery(run: Any, n: int = 10) -> list[tuple[int, str]]:
    """Data URIs of the best image of ~n generations, log-spaced (early changes are fastest)."""
    from PIL import Image

    from .widgets.images import data_uri

    gens = np.unique(np.geomspace(1, run.n_generations, num=min(n, run.n_generations)).astype(int) - 1)
    out = []
    for g in gens:
        p = run.dir / "best" / f"gen_{g:06d}.png"
        if p.exists():
            arr = np.asarray(Image.open(p).convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
            out.append((int(g), data_uri(arr, scale=max(1, 128 // arr.shape[-1]))))
    return out


def build_report(run_dir: str | Path, maps: Sequence[str | Path] | None = None, out: str | Path | None = None,
                 title: str | None = None) -> Path:
    """Write the report of a run.

    Parameters
    ----------
    run_dir : run folder (``landscape-run/1``)
    maps : tuning-map files (``.npz`` with their ``.json``); default: those found in the run folder
    out : HTML path (default ``run_dir/report.html``)

    Returns
    -------
    Path of the written HTML file.
    """
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    from .maps import TuningMap
    from .runs import Run
    from .topology import TopologySignature

    run_dir = Path(run_dir)
    run = Run.load(run_dir)
    if run.n_generations == 0:
        raise ValueError(f"run {run_dir} has no completed generation to report")
    out = Path(out) if out is not None else run_dir / "report.html"
    map_paths = [Path(m) for m in maps] if maps else _find_maps(run_dir)

    parts: list[str] = []
    meta = run.meta
    unit = meta.get("unit", {})
    parts.append(f"<h1>{html.escape(title or 'Evolution run: ' + run_dir.name)}</h1>")
    rows = {"unit": json.dumps(unit), "generator": meta.get("generator", {}).get("name"),
            "optimizer": json.dumps(meta.get("optimizer")), "status": meta.get("status"),
            "generations": run.n_generations, "evaluations": int(sum(len(s) for s in run.gen_scores)),
            ("best_clean_ever (best noise-free score of any image)" if run.has_clean_scores
             else "best observed score"): f"{run.best_score:.4g}"}
    summary = run_dir / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        if "reference_set" in s:
            ref = s["reference_set"]
            opt = s["optimized_image"]
            rows["relative activation (XDream)"] = (
                f"{s['relative_activation']:.3g}: {opt['response_kind']} response {opt['response']:.4g} of generation "
                f"{opt['generation']}'s best image by observed score, over the best of the reference set "
                f"'{ref['name']}' ({ref['n_images']} images), {s['best_reference_image']}: "
                f"{s['best_reference_score']:.4g}")
            rows["best_clean_ever / best reference"] = f"{s['best_clean_ever_over_reference']:.3g}"
            if ref.get("warning"):
                rows["reference set warning"] = ref["warning"]
        else:  # written before the measures had their names: its ratio is best_clean_ever's
            rows["best score / best reference (older summary; not XDream's relative activation)"] = (
                f"{s['relative_activation']:.3g} (best natural image {s['best_reference_image']}: "
                f"{s['best_reference_score']:.4g})")
    parts.append("<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                                     for k, v in rows.items()) + "</table>")

    fig = go.Figure([go.Scatter(y=run.best_per_generation(), name="best (observed)"),
                     go.Scatter(y=run.mean_per_generation(), name="mean (observed)")])
    if run.has_clean_scores and run.meta.get("unit", {}).get("noise"):
        fig.add_trace(go.Scatter(y=run.best_clean_per_generation(), name="best (clean)", line=dict(dash="dot")))
    fig.update_layout(title="score per generation", xaxis_title="generation", yaxis_title="score", height=380)
    parts.append("<h2>Scores</h2>" + fig.to_html(full_html=False, include_plotlyjs=False))

    gallery = _gallery(run)
    parts.append("<h2>Best image over generations</h2><div class='gallery'>" + "".join(
        f"<figure><img src='{uri}'><figcaption>gen {g}</figcaption></figure>" for g, uri in gallery) + "</div>")

    for p in map_paths:
        tm = TuningMap.load(p)
        if tm.kind == "plane":
            hm = go.Figure(go.Heatmap(z=tm.values, x=tm.coords["a"], y=tm.coords["b"], colorscale="Viridis"))
            hm.update_layout(xaxis_title="a", yaxis_title="b")
        else:
            hm = go.Figure(go.Heatmap(z=tm.values, x=tm.coords["theta_deg"], y=tm.coords["phi_deg"],
                                      colorscale="Viridis"))
            hm.update_layout(xaxis_title="theta (deg)", yaxis_title="phi (deg)")
        hm.add_trace(go.Contour(z=tm.values, x=hm.data[0].x, y=hm.data[0].y, showscale=False,
                                contours=dict(coloring="none"), line=dict(color="white")))
        hm.update_layout(title=f"tuning map {p.name} ({tm.kind}, {tm.shape[0]}x{tm.shape[1]})", height=460,
                         width=520)
        sig = TopologySignature().fit(tm)
        table = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:.4g}</td></tr>" if isinstance(v, float)
                        else f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in sig.summary_.items())
        parts.append(f"<h2>Tuning map {html.escape(p.name)}</h2><div class='row'>"
                     + hm.to_html(full_html=False, include_plotlyjs=False)
                     + f"<div><h3>Topology signature</h3><p>contour convention: {sig.contour_convention} "
                     "(the project's: 8-connected super-level sets, AUCs over the level fraction)</p>"
                     f"<table>{table}</table></div></div>")

    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>landscape report</title>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}"
            "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:90%}"
            ".gallery{display:flex;flex-wrap:wrap}.gallery figure{margin:4px;text-align:center}"
            ".gallery img{width:128px;image-rendering:pixelated}.row{display:flex;gap:2em;align-items:flex-start}"
            "</style></head><body>" + "\n".join(parts) + "</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
