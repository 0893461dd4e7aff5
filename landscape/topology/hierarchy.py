"""Topological signatures across the layers of a CNN: :func:`survey`.

For every layer, ``units_per_layer`` channels (drawn with the survey's seed) are each

1. evolved (``landscape.runs.evolve``: a zoo generator, an optimizer from
   ``landscape.optim``, ``budget`` evaluations; the spatial centre of a convolutional map);
2. mapped around the result (``landscape.maps.map_from_run``: by default a 21 x 21 sphere,
   -90 to 90 degrees, through PC1-3 of the evolution's codes, as the in silico experiments);
3. analysed: :class:`~landscape.topology.signature.TopologySignature` (all ``SUMMARY_KEYS``),
   :class:`~landscape.topology.morse.MorseAnalysis` (critical point counts) and, for
   isotropy, :class:`landscape.maps.MapLevelSets` (max/min level-set radius around the peak at
   80% and 50% of the way from the map's minimum to its peak; 1 = isotropic).

Output folder
-------------
``<layer>/ch<channel>/run/`` (the evolution, ``landscape-run/1``), ``.../map.npz`` +
``map.json`` (the ``TuningMap``), ``.../topology/`` (``signature.json``, ``diagrams.npz``);
``units.csv`` (one row per unit: layer, depth, channel, best score, every signature component,
critical point counts, isotropy ratios, notes), ``layers.csv`` (per layer: number of units,
mean and standard error of every numeric column), ``trends.csv`` (per component: Spearman
correlation with layer depth over units, and its p-value), ``survey.png`` and
``survey.html`` (per-layer means with standard errors). An interrupted survey resumes: units
whose folder holds a finished signature are read back, runs continue where they stopped.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from landscape.topology.signature import SUMMARY_KEYS, TopologySignature

#: layers surveyed when none are given: stage outputs and the output layer
DEFAULT_LAYERS = {
    "resnet": ["layer1", "layer2", "layer3", "linear"],
    "darknet-tiny-imagenet": ["leaky_re_lu_2", "leaky_re_lu_6", "leaky_re_lu_10", "leaky_re_lu_14",
                              "global_average_pooling2d_1"],
}
EXTRA_KEYS = ("n_maxima", "n_saddles", "n_minima", "anisotropy_80", "anisotropy_50")
ISOTROPY_LEVELS = (0.8, 0.5)


def default_layers(model_name: str) -> list[str]:
    """Layers surveyed by default for a zoo classifier (raises for models without a default)."""
    if model_name.startswith("resnet") and model_name.endswith("-cifar10"):
        return list(DEFAULT_LAYERS["resnet"])
    if model_name in DEFAULT_LAYERS:
        return list(DEFAULT_LAYERS[model_name])
    raise ValueError(f"no default layers for model {model_name!r} (defaults exist for resnet*-cifar10 and "
                     "darknet-tiny-imagenet); pass layers=[...] (see `landscape layers MODEL`)")


@dataclass
class SurveyResult:
    """Per-unit and per-layer signatures of a survey.

    Attributes
    ----------
    units : list of dict
        One row per unit (columns as ``units.csv``).
    layers : list of str
        Surveyed layers, shallow to deep.
    out : Path
    """

    units: list[dict[str, Any]]
    layers: list[str]
    out: Path
    columns: tuple[str, ...] = field(default=SUMMARY_KEYS + EXTRA_KEYS)

    def column(self, name: str) -> np.ndarray:
        """One numeric column over units; shape (n_units,)."""
        return np.array([float(u[name]) if u[name] is not None else np.nan for u in self.units])

    def layer_table(self) -> list[dict[str, Any]]:
        """Per layer: ``layer``, ``depth``, ``n_units``, ``<col>_mean`` and ``<col>_sem`` for every column."""
        rows = []
        depth = np.array([u["depth"] for u in self.units])
        for d, layer in enumerate(self.layers):
            sel = depth == d
            row: dict[str, Any] = {"layer": layer, "depth": d, "n_units": int(sel.sum())}
            for c in ("best_score",) + self.columns:
                x = self.column(c)[sel]
                x = x[np.isfinite(x)]
                row[f"{c}_mean"] = float(x.mean()) if x.size else float("nan")
                row[f"{c}_sem"] = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
            rows.append(row)
        return rows

    def trends(self) -> dict[str, tuple[float, float]]:
        """Spearman correlation of each column with layer depth over units: ``{col: (rho, p)}``."""
        from scipy.stats import spearmanr

        depth = np.array([u["depth"] for u in self.units], float)
        out = {}
        for c in self.columns:
            x = self.column(c)
            ok = np.isfinite(x)
            if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(depth[ok]) == 0:
                out[c] = (float("nan"), float("nan"))
                continue
            r = spearmanr(depth[ok], x[ok])
            out[c] = (float(r.statistic), float(r.pvalue))
        return out

    def format(self) -> str:
        """Text table: per layer the mean of the main components, then the depth trends."""
        show = ("loops_auc", "lines_auc", "isolation_level", "n_peaks", "second_peak_prominence", "n_maxima",
                "anisotropy_80", "anisotropy_50")
        head = f"{'layer':28s} {'n':>3s} " + " ".join(f"{c[:14]:>14s}" for c in show)
        lines = [head]
        for row in self.layer_table():
            lines.append(f"{row['layer']:28s} {row['n_units']:3d} " +
                         " ".join(f"{row[c + '_mean']:14.3g}" for c in show))
        lines.append("")
        lines.append("Spearman correlation with depth (rho, p):")
        for c, (rho, p) in self.trends().items():
            lines.append(f"  {c:24s} {rho:+.3f}  p={p:.3g}")
        return "\n".join(lines)

    def save(self) -> dict[str, Path]:
        """Write ``units.csv``, ``layers.csv``, ``trends.csv``, ``survey.png``, ``survey.html`` into ``out``."""
        self.out.mkdir(parents=True, exist_ok=True)
        paths = {k: self.out / f"{k}.csv" for k in ("units", "layers", "trends")}
        _write_csv(paths["units"], self.units)
        _write_csv(paths["layers"], self.layer_table())
        _write_csv(paths["trends"], [{"component": c, "spearman_rho": r, "p_value": p}
                                     for c, (r, p) in self.trends().items()])
        paths["png"] = self.out / "survey.png"
        paths["html"] = self.out / "survey.html"
        _survey_png(self).save(paths["png"])
        _survey_figure(self).write_html(paths["html"], include_plotlyjs=True, full_html=True)
        return paths


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        if not rows:
            return
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _isotropy(tmap: Any) -> tuple[float, float, str]:
    from landscape.maps import MapLevelSets

    try:
        ls = MapLevelSets(levels=ISOTROPY_LEVELS, baseline="min").fit(tmap)
    except ValueError as e:  # a flat map has no peak to measure; the row records why
        return float("nan"), float("nan"), f"isotropy: {e}"
    ratio = ls.ratio_["angular" if "angular" in ls.ratio_ else "euclidean"]
    return float(ratio[0]), float(ratio[1]), ""


def _analyse_unit(tmap: Any, out: Path, signature_params: dict, morse_sigma: float) -> dict[str, Any]:
    from landscape.topology.morse import MorseAnalysis

    kw = dict(signature_params)
    kw.setdefault("nan_policy", "harmonic")  # a map may miss a few points if the unit returned NaN
    sig = TopologySignature(**kw).fit(tmap)
    sig.save(out)
    morse = MorseAnalysis(sigma=morse_sigma, nan_policy=kw["nan_policy"]).fit(tmap)
    a80, a50, note = _isotropy(tmap)
    row = {**sig.summary_, "n_maxima": morse.n_maxima_, "n_saddles": morse.n_saddles_,
           "n_minima": morse.n_minima_, "anisotropy_80": a80, "anisotropy_50": a50, "notes": note}
    (out / "unit.json").write_text(json.dumps({k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                                               for k, v in row.items()}, indent=2))
    return row


def survey(model: str = "resnet20-cifar10", layers: Sequence[str] | None = None, *, out: str | Path,
           units_per_layer: int = 5, channels: dict[str, Sequence[int]] | None = None,
           generator: str = "digiface-dcgan64", optimizer: str = "cma",
           optimizer_settings: dict[str, Any] | None = None, budget: int = 1200, grid: str = "sphere:21",
           axes: str = "pc", signature_params: dict[str, Any] | None = None, morse_sigma: float = 1.0,
           seed: int = 0, device: str | None = None, progress: bool = True) -> SurveyResult:
    """Evolve, map and analyse units across the layers of a zoo classifier.

    Parameters
    ----------
    model : str
        Zoo classifier, e.g. ``"resnet20-cifar10"`` or ``"darknet-tiny-imagenet"``.
    layers : list of str or None
        Layers shallow to deep; None = :func:`default_layers` (stages and output).
    out : path
        Survey folder (module docstring); an existing one is resumed.
    units_per_layer : int
        Channels per layer, drawn at random (seeded) unless ``channels`` is given.
    channels : dict layer -> channels, or None
        Explicit channels for some or all layers.
    generator : str
        Zoo generator.
    optimizer : str
        ``landscape.optim`` name; ``optimizer_settings`` go to :func:`landscape.optim.make`.
    budget : int
        Evaluations per evolution.
    grid, axes : str
        Map grid and axes (see :func:`landscape.maps.map_from_run`).
    signature_params : dict or None
        For :class:`TopologySignature` (``levels``, ``threshold``, ``connectivity``,
        ``nan_policy``; default ``nan_policy="harmonic"``).
    morse_sigma : float
        Smoothing (pixels) before the critical point count.
    seed : int
        Seeds channel choice and every evolution (unit k gets ``seed + k``).
    device : str or None
        Where the networks run (default CPU).
    progress : bool
        A progress bar over units.

    Returns
    -------
    SurveyResult (already saved to ``out``)
    """
    import torch
    from tqdm.auto import tqdm

    from landscape import optim, zoo
    from landscape.maps import TuningMap, map_from_run
    from landscape.runs import Run, evolve
    from landscape.units import CNNUnit
    from landscape.units import layers as layer_names

    if not isinstance(units_per_layer, int) or units_per_layer < 1:
        raise ValueError(f"units_per_layer must be a positive integer, got {units_per_layer!r}")
    out = Path(out)
    layers = list(layers) if layers is not None else default_layers(model)
    if not layers:
        raise ValueError("layers is empty: give at least one layer")
    net = zoo.load(model, device=device)
    valid = layer_names(net)
    bad = [ly for ly in layers if ly not in valid]
    if bad:
        raise ValueError(f"unknown layers {bad} for {model!r}; valid layers: {', '.join(valid)}")
    gen = zoo.load(generator, device=device)
    rng = np.random.default_rng(seed)
    plan: list[tuple[int, str, int]] = []
    for d, layer in enumerate(layers):
        n_ch = CNNUnit(net, layer, 0).n_channels
        if channels and layer in channels:
            chosen = [int(c) for c in channels[layer]]
        else:
            chosen = sorted(rng.choice(n_ch, size=min(units_per_layer, n_ch), replace=False).tolist())
        plan += [(d, layer, c) for c in chosen]
    (out).mkdir(parents=True, exist_ok=True)
    (out / "survey.json").write_text(json.dumps({
        "schema": "landscape.topology.survey", "version": 1, "model": model, "layers": layers,
        "generator": generator, "optimizer": optimizer, "optimizer_settings": optimizer_settings or {},
        "budget": budget, "grid": grid, "axes": axes, "signature_params": signature_params or {},
        "morse_sigma": morse_sigma, "seed": seed, "units": [[ly, c] for _, ly, c in plan]}, indent=2, default=str))
    rows = []
    for k, (d, layer, ch) in enumerate(tqdm(plan, desc=f"survey {model}", disable=not progress)):
        udir = out / layer / f"ch{ch:04d}"
        done = udir / "topology" / "unit.json"
        if done.is_file():
            row = json.loads(done.read_text())
            row = {key: (float("nan") if v is None and key != "notes" else v) for key, v in row.items()}
            best = Run.load(udir / "run").best_score
        else:
            unit = CNNUnit(net, layer, ch, position="center")
            run_dir = udir / "run"
            meta = run_dir / "meta.json"
            if meta.is_file() and json.loads(meta.read_text()).get("status") == "complete":
                run = Run.load(run_dir)
            else:
                opt = optim.make(optimizer, gen.dim, seed=seed + k, device=device or "cpu",
                                 **(optimizer_settings or {}))
                run = evolve(gen, unit, opt, budget, run_dir, seed=seed + k, resume=meta.is_file(),
                             progress=False)
            map_path = udir / "map"
            if (udir / "map.json").is_file():
                tmap = TuningMap.load(map_path)
            else:
                with torch.no_grad():
                    tmap = map_from_run(run, gen, unit, axes=axes, grid=grid, seed=seed + k, progress=False)
                tmap.save(map_path)
            row = _analyse_unit(tmap, udir / "topology", signature_params or {}, morse_sigma)
            best = run.best_score
        rows.append({"layer": layer, "depth": d, "channel": ch, "best_score": float(best), **row})
    result = SurveyResult(rows, layers, out)
    result.save()
    return result


def _survey_png(res: SurveyResult, panel: int = 230) -> Any:
    """Small multiples: per-layer mean +- sem of the main columns (PIL image)."""
    from PIL import Image, ImageDraw

    show = ("loops_auc", "lines_auc", "branches_auc", "isolation_level", "n_peaks", "second_peak_prominence",
            "betti1_auc", "n_maxima", "anisotropy_80", "anisotropy_50")
    table = res.layer_table()
    cols = 5
    rows_n = int(np.ceil(len(show) / cols))
    img = Image.new("RGB", (cols * (panel + 40) + 20, rows_n * (panel + 60) + 30), "white")
    draw = ImageDraw.Draw(img)
    names = ", ".join(f"{d}={ly}" for d, ly in enumerate(res.layers))
    draw.text((10, 6), f"survey: per-layer mean +- sem over units; x = depth ({names})", fill="black")
    x = np.arange(len(table))
    for i, c in enumerate(show):
        ox = 40 + (i % cols) * (panel + 40)
        oy = 40 + (i // cols) * (panel + 60)
        mean = np.array([r[f"{c}_mean"] for r in table])
        sem = np.nan_to_num(np.array([r[f"{c}_sem"] for r in table]))
        ok = np.isfinite(mean)
        draw.rectangle([ox, oy, ox + panel, oy + panel], outline="black")
        draw.text((ox + 4, oy - 14), c, fill="black")
        if not ok.any():
            continue
        lo_v = float(np.min((mean - sem)[ok]))
        hi_v = float(np.max((mean + sem)[ok]))
        if hi_v <= lo_v:
            hi_v = lo_v + 1.0
        px = ox + 15 + x * (panel - 30) / max(1, len(x) - 1)
        py = oy + panel - 10 - (mean - lo_v) / (hi_v - lo_v) * (panel - 20)
        for j in np.flatnonzero(ok):
            e = sem[j] / (hi_v - lo_v) * (panel - 20)
            draw.line([px[j], py[j] - e, px[j], py[j] + e], fill=(31, 119, 180), width=2)
            draw.ellipse([px[j] - 3, py[j] - 3, px[j] + 3, py[j] + 3], fill=(31, 119, 180))
        pts = [(px[j], py[j]) for j in np.flatnonzero(ok)]
        if len(pts) > 1:
            draw.line(pts, fill=(31, 119, 180), width=1)
        for j in range(len(x)):
            draw.text((px[j] - 3, oy + panel + 2), str(j), fill="black")
        draw.text((ox + 2, oy + panel + 16), f"y: {lo_v:.3g} .. {hi_v:.3g}", fill=(90, 90, 90))
    return img


def _survey_figure(res: SurveyResult) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    show = ("loops_auc", "lines_auc", "branches_auc", "isolation_level", "n_peaks", "second_peak_prominence",
            "betti1_auc", "n_maxima", "anisotropy_80", "anisotropy_50")
    table = res.layer_table()
    fig = make_subplots(rows=2, cols=5, subplot_titles=show)
    names = [r["layer"] for r in table]
    for i, c in enumerate(show):
        fig.add_trace(go.Scatter(x=names, y=[r[f"{c}_mean"] for r in table], mode="lines+markers", name=c,
                                 error_y=dict(type="data", array=[r[f"{c}_sem"] for r in table]),
                                 showlegend=False), i // 5 + 1, i % 5 + 1)
        d = np.array([u["depth"] for u in res.units])
        fig.add_trace(go.Scatter(x=[names[k] for k in d], y=res.column(c), mode="markers", opacity=0.35,
                                 marker=dict(size=5, color="gray"), showlegend=False,
                                 text=[f"{u['layer']} ch{u['channel']}" for u in res.units]), i // 5 + 1, i % 5 + 1)
    fig.update_layout(width=1600, height=700, title="topological signature across layers (mean +- sem; dots: units)")
    return fig
