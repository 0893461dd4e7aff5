"""One standalone HTML page per run: score curve, best images, tuning maps and their topology.

This module assembles the page; its figures are :mod:`landscape.plots` displays.

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

from .io import read_json


def _find_maps(run_dir: Path) -> list[Path]:
    found = []
    for p in sorted(list(run_dir.glob("*.npz")) + list((run_dir / "maps").glob("*.npz"))):
        if p.with_suffix(".json").exists():
            found.append(p)
    return found


#: plain-language meaning of each number of the topology signature (shown beside it in the report)
TOPOLOGY_EXPLANATIONS = {
    "n_peaks": "Separate hills: peaks that stand out from the rest by more than the significance threshold "
               "(10% of the response range by default). 1 means one preferred region.",
    "n_rings": "Ridges that close around a lower region (a crater). Usually 0 for a single preferred image.",
    "second_peak_prominence": "How far (fraction of the range) you must descend from the second-best hill "
                              "before climbing to the best one; near 0 means one dominant peak.",
    "loops_auc": "How much of the threshold range the contour lines form closed loops around a peak "
                 "(area under the loop count); high for an isolated peak.",
    "lines_auc": "How much of the range contour lines run off the edge of the map; high when the tuning "
                 "extends beyond the mapped region (not on a full sphere, which has no edge).",
    "branches_auc": "Area under the count of all contour curves; grows with the number of separate "
                    "features.",
    "isolation_level": "Lowest threshold (fraction of the range) above which the super-level set is one "
                       "closed loop around the peak; low means the peak is isolated even far down.",
    "betti0_auc": "Area under the count of separate regions above threshold (Betti 0) as the threshold "
                  "sweeps the range; 1 for a single hill, more for several.",
    "betti1_auc": "Area under the count of holes in the regions above threshold (Betti 1).",
    "euler_auc": "Area under regions minus holes (plus enclosed spheres) over the threshold range.",
}


def _gallery_image(run: Any, g: int) -> str | None:
    from PIL import Image

    from .widgets.images import data_uri

    p = run.dir / "best" / f"gen_{g:06d}.png"
    if not p.exists():
        return None
    arr = np.asarray(Image.open(p).convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
    return data_uri(arr, scale=max(1, 128 // arr.shape[-1]))


def _gallery(run: Any, n: int = 10) -> list[tuple[int, str, str]]:
    """Best image of ~n log-spaced generations (early changes are fastest), always with the best one.

    Returns
    -------
    list of (generation, data URI, caption)
    """
    gens = set(np.unique(np.geomspace(1, run.n_generations, num=min(n, run.n_generations)).astype(int) - 1).tolist())
    best_obs = run.best_per_generation()
    top = int(np.nanargmax(best_obs))
    special = {top: f"best image: gen {top}, score {best_obs[top]:.4g}"}
    if run.has_clean_scores:
        g_clean = int(run.generation_index[run.best_index])
        if g_clean != top:
            special[g_clean] = (f"gen {g_clean}: holds the best clean score {run.best_score:.4g} "
                                f"(shown: its best observed image)")
    out = []
    for g in sorted(gens | set(special)):
        uri = _gallery_image(run, g)
        if uri is not None:
            out.append((int(g), uri, special.get(g, f"gen {g}: {best_obs[g]:.4g}")))
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
    from plotly.offline import get_plotlyjs

    from .maps import TuningMap
    from .plots import RunDisplay, SignatureDisplay, TuningMapDisplay
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
        s = read_json(summary)
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

    fig = RunDisplay(run).figure()
    parts.append("<h2>Scores</h2>" + fig.to_html(full_html=False, include_plotlyjs=False))

    gallery = _gallery(run)
    parts.append("<h2>Best image over generations</h2><div class='gallery'>" + "".join(
        f"<figure class='{'best' if caption.startswith('best') else ''}'><img src='{uri}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>" for g, uri, caption in gallery) + "</div>")

    for p in map_paths:
        tm = TuningMap.load(p)
        sig = TopologySignature(nan_policy="harmonic").fit(tm)
        rows_html = []
        for k, v in sig.summary_.items():
            value = f"{v:.4g}" if isinstance(v, float) else str(v)
            rows_html.append(f"<tr><th>{html.escape(k)}</th><td>{value}</td>"
                             f"<td class='why'>{html.escape(TOPOLOGY_EXPLANATIONS.get(k, ''))}</td></tr>")
        filled = int(sig.field_.filled.sum()) if sig.field_.filled is not None else 0
        if filled:
            rows_html.append(f"<tr><th>missing cells</th><td>{filled}</td><td class='why'>cells without a "
                             "measurement, filled by harmonic interpolation for the topology</td></tr>")
        parts.append(f"<h2>Tuning map {html.escape(p.name)}</h2><div class='row'>"
                     + TuningMapDisplay(tm, name=p.name).figure().to_html(full_html=False, include_plotlyjs=False)
                     + SignatureDisplay(sig).diagram_figure().to_html(full_html=False, include_plotlyjs=False)
                     + "</div>"
                     + "<h3>Topology signature</h3><p class='why'>The map's super-level sets {f &ge; c} are "
                     "followed as the threshold c comes down from the maximum. In the diagram each point is a "
                     "feature: a peak (H0) or a ring (H1), born at one level and gone at a lower one; far from "
                     "the diagonal means persistent, near it means noise. The highest peak never dies (drawn "
                     "at the minimum, triangle).</p>"
                     f"<p>contour convention: {sig.contour_convention} (the project's: 8-connected super-level "
                     "sets, AUCs over the level fraction)</p>"
                     f"<table>{''.join(rows_html)}</table>")

    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>landscape report</title>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}"
            "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:90%}"
            ".gallery{display:flex;flex-wrap:wrap}.gallery figure{margin:4px;text-align:center}"
            ".gallery img{width:128px;image-rendering:pixelated}.gallery figure.best{outline:3px solid #d62728}"
            ".row{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}.why{color:#444;font-size:85%}"
            "</style></head><body>" + "\n".join(parts) + "</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
