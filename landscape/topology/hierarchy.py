"""Topological signatures across the layers of a CNN: the survey's analysis and aggregation.

:func:`landscape.pipeline.survey` runs it (it loads the models); this module only analyses maps
(:func:`analyse_unit`) and aggregates the rows (:class:`SurveyResult`). For every layer,
``units_per_layer`` channels (drawn with the survey's seed) are each

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
``survey.html`` (per-layer means with standard errors, drawn by :class:`landscape.plots.SurveyDisplay`). An interrupted survey resumes: units
whose folder holds a finished signature are read back, runs continue where they stopped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from landscape.io import write_json_with_digest
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
        """Write ``units.csv``, ``layers.csv`` and ``trends.csv`` into ``out`` (the pictures,
        ``survey.png`` and ``survey.html``, are :class:`landscape.plots.SurveyDisplay`'s)."""
        self.out.mkdir(parents=True, exist_ok=True)
        paths = {k: self.out / f"{k}.csv" for k in ("units", "layers", "trends")}
        _write_csv(paths["units"], self.units)
        _write_csv(paths["layers"], self.layer_table())
        _write_csv(paths["trends"], [{"component": c, "spearman_rho": r, "p_value": p}
                                     for c, (r, p) in self.trends().items()])
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


def analyse_unit(tmap: Any, out: Path, signature_params: dict, morse_sigma: float) -> dict[str, Any]:
    """One unit's survey row from its map: every signature component, critical point counts and
    isotropy ratios; writes ``out/signature.json``, ``diagrams.npz`` and ``unit.json``."""
    from landscape.topology.morse import MorseAnalysis

    kw = dict(signature_params)
    kw.setdefault("nan_policy", "harmonic")  # a map may miss a few points if the unit returned NaN
    sig = TopologySignature(**kw).fit(tmap)
    sig.save(out)
    morse = MorseAnalysis(sigma=morse_sigma, nan_policy=kw["nan_policy"]).fit(tmap)
    a80, a50, note = _isotropy(tmap)
    row = {**sig.summary_, "n_maxima": morse.n_maxima_, "n_saddles": morse.n_saddles_,
           "n_minima": morse.n_minima_, "anisotropy_80": a80, "anisotropy_50": a50, "notes": note}
    write_json_with_digest(out / "unit.json", row)  # a survey's resume reads it back (digest checked)
    return row
