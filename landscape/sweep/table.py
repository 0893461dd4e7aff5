"""The sweep's result table (one row per task) and its summary (optimizer x layer x noise).

Files
-----
``table.parquet`` / ``table.csv``
    One row per task, columns :data:`COLUMNS` in that order. Columns in
    :data:`PROVENANCE_COLUMNS` record how the task ran (time, worker, resume) and differ
    between repeats of a sweep; every other column is a result, equal between repeats.
``summary.csv`` / ``summary.parquet``
    One row per (model, layer, noise, optimizer): :data:`SUMMARY_COLUMNS`.
``maps.parquet`` / ``maps.csv`` (with a [map] table in the spec)
    One row per (generator, unit, noise): :data:`MAP_COLUMNS`.

Normalised score (the ActMax-Optimizer-Dev protocol, :func:`landscape.measures.normalised_score`):
a task's ``best_clean_ever`` divided by the best any task of the sweep reached on the same
unit (``normalise = "unit-noise"``: at the same noise level; ``"unit"``: at any noise level).
NaN where that best is not positive, since a ratio to a non-positive maximum does not rank
anything. ``relative_activation`` is XDream's (:func:`landscape.measures.relative_activation`),
against the task's ``reference_set``; tables written before these names existed called the
oracle ``best_clean_score`` (:func:`read_table` renames it) and its ratio to the best reference
``relative_activation``.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

#: (name, type, meaning) of every column of the task table, in order
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("key", "string", "task key: sha256 of the task config, 16 hex digits"),
    ("generator", "string", "zoo generator"),
    ("model", "string", "zoo classifier"),
    ("layer", "string", "layer name inside the model"),
    ("channel", "int64", "channel of the layer"),
    ("position", "string", "'center', 'mean' or 'y,x'"),
    ("unit", "string", "model/layer/channel@position"),
    ("noise", "string", "none, poisson:SCALE[:REPS] or gaussian:SIGMA"),
    ("optimizer", "string", "optimizer label of the spec"),
    ("algorithm", "string", "optimizer name (landscape.optim or registered)"),
    ("settings", "string", "optimizer settings as JSON"),
    ("seed", "int64", "seed of the optimizer (noise model: seed + 1)"),
    ("budget", "int64", "image evaluations asked for"),
    ("evaluations", "int64", "image evaluations made"),
    ("generations", "int64", "generations made"),
    ("best_score", "float64", "best observed (noisy) score"),
    ("best_clean_ever", "float64", "best noise-free score of any evaluated image (an oracle under noise)"),
    ("normalised_score", "float64", "ActMax's normalised score: best_clean_ever / best on this unit (module docs)"),
    ("best_reference_score", "float64", "best noise-free score among the reference images"),
    ("best_reference_image", "string", "name of that reference image"),
    ("reference_set", "string", "reference set (landscape.references) or folder"),
    ("n_reference_images", "int64", "images in the reference set"),
    ("relative_activation", "float64", "XDream's: optimized_response / best_reference_score"),
    ("optimized_response", "float64", "response to the last generation's best image by observed score "
                                      "(XDream's optimized image)"),
    ("optimized_response_kind", "string", "'clean' (noise-free, simulated unit) or 'observed'"),
    ("best_clean_ever_over_reference", "float64", "best_clean_ever / best_reference_score (not XDream's measure)"),
    ("run_dir", "string", "the task's run folder, relative to the sweep folder"),
    ("status", "string", "status of the run (complete)"),
    ("wall_time_s", "float64", "seconds the evolution's generations took"),
    ("task_time_s", "float64", "seconds of the task call that finished the run"),
    ("cpu_time_s", "float64", "CPU seconds the worker process spent in that call"),
    ("worker", "string", "Dask worker address (or host:pid) that finished the task"),
    ("resumed_from_generation", "int64", "generations already on disk when the finishing call started"),
    ("finished_utc", "string", "when the task finished (ISO 8601)"),
)
PROVENANCE_COLUMNS = ("wall_time_s", "task_time_s", "cpu_time_s", "worker", "resumed_from_generation",
                      "finished_utc")
RESULT_COLUMNS = tuple(c for c, _, _ in COLUMNS if c not in PROVENANCE_COLUMNS)

#: columns of the map table (``maps.parquet``), one row per (generator, unit, noise), when the
#: spec has a [map] table; with [topology], one ``topology_<name>`` float64 column follows per
#: component of :data:`landscape.topology.SUMMARY_KEYS`
MAP_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("key", "string", "map task key: sha256 of its config (unit, settings, evolution keys)"),
    ("generator", "string", "zoo generator"),
    ("model", "string", "zoo classifier"),
    ("layer", "string", "layer"),
    ("channel", "int64", "channel"),
    ("position", "string", "'center', 'mean' or 'y,x'"),
    ("unit", "string", "model/layer/channel@position"),
    ("noise", "string", "noise model the map was measured with"),
    ("source_key", "string", "key of the evolution mapped: the unit's best at this noise level"),
    ("source_optimizer", "string", "its optimizer label"),
    ("source_seed", "int64", "its seed (the map's noise model uses seed + 1)"),
    ("source_best_clean_ever", "float64", "its best_clean_ever"),
    ("map_kind", "string", "sphere or plane"),
    ("map_axes", "string", "axes request (landscape.maps.run_axes)"),
    ("map_grid", "string", "grid request (landscape.maps.grids.parse_grid)"),
    ("map_dir", "string", "folder with map.npz/map.json (TuningMap) and topology/, relative to the sweep"),
    ("peak_value", "float64", "highest mean response on the map"),
    ("peak_row", "int64", "its row"),
    ("peak_col", "int64", "its column"),
    ("task_time_s", "float64", "seconds of the call that made the map"),
    ("cpu_time_s", "float64", "CPU seconds the worker process spent in it"),
    ("worker", "string", "worker that made it"),
    ("finished_utc", "string", "when it finished (ISO 8601)"),
)


def map_columns(topology: bool) -> tuple[tuple[str, str, str], ...]:
    """:data:`MAP_COLUMNS`, plus the topology components when ``topology``."""
    if not topology:
        return MAP_COLUMNS
    from ..topology import SUMMARY_KEYS

    return MAP_COLUMNS + tuple((f"topology_{k}", "float64", f"topological signature component {k!r} "
                                "(landscape.topology.signature)") for k in SUMMARY_KEYS) + (
        ("topology_contour_convention", "string", "how the contour components were counted: 'project' or "
                                                  "'reference' (the published recipe)"),)

SUMMARY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("model", "string", "zoo classifier"),
    ("layer", "string", "layer"),
    ("noise", "string", "noise model"),
    ("optimizer", "string", "optimizer label"),
    ("n_tasks", "int64", "tasks (units x seeds) averaged"),
    ("mean_normalised_score", "float64", "mean of normalised_score"),
    ("sem_normalised_score", "float64", "standard error of that mean"),
    ("mean_relative_activation", "float64", "mean of XDream's relative_activation"),
    ("median_relative_activation", "float64", "median of XDream's relative_activation"),
    ("reference_set", "string", "the reference set(s) of those relative activations, with their sizes"),
    ("reference_optimizer", "string", "label the ratio divides by (GA by default)"),
    ("ratio_to_reference", "float64", "mean_normalised_score / that of the reference optimizer, same layer and noise"),
)


def normalise(rows: list[dict], within: str = "unit-noise") -> list[dict]:
    """Add ``normalised_score`` to each row (in place) and return the rows.

    Parameters
    ----------
    rows : list of task rows
    within : {"unit-noise", "unit"}
    """
    def group(r: dict) -> tuple:
        g = (r["generator"], r["unit"])
        return g + (r["noise"],) if within == "unit-noise" else g

    from ..measures import normalised_score

    best: dict[tuple, float] = {}
    for r in rows:
        s = r["best_clean_ever"]
        if s is not None and not math.isnan(s):
            best[group(r)] = max(best.get(group(r), -math.inf), s)
    for r in rows:
        s = r["best_clean_ever"]
        r["normalised_score"] = float(normalised_score([math.nan if s is None else s],
                                                       best.get(group(r), math.nan))[0])
    return rows


def summarise(rows: list[dict], reference: str | None) -> list[dict]:
    """Mean normalised score per (model, layer, noise, optimizer), with the ratio to ``reference``.

    Groups appear in the order of their first row.
    """
    import numpy as np

    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["layer"], r["noise"], r["optimizer"]), []).append(r)
    out = []
    for (model, layer, noise, opt), rs in groups.items():
        v = np.array([r["normalised_score"] for r in rs], float)
        ra = np.array([r["relative_activation"] for r in rs], float)
        sets = sorted({f"{r['reference_set']} ({r['n_reference_images']})" for r in rs if r.get("reference_set")})
        fin = v[np.isfinite(v)]
        out.append({"model": model, "layer": layer, "noise": noise, "optimizer": opt, "n_tasks": len(rs),
                    "mean_normalised_score": float(fin.mean()) if fin.size else math.nan,
                    "sem_normalised_score": float(fin.std(ddof=1) / np.sqrt(fin.size)) if fin.size > 1 else math.nan,
                    "mean_relative_activation": float(np.nanmean(ra)) if np.isfinite(ra).any() else math.nan,
                    "median_relative_activation": float(np.nanmedian(ra)) if np.isfinite(ra).any() else math.nan,
                    "reference_set": ", ".join(sets),
                    "reference_optimizer": reference or "", "ratio_to_reference": math.nan})
    if reference is not None:
        ref = {(s["model"], s["layer"], s["noise"]): s["mean_normalised_score"] for s in out
               if s["optimizer"] == reference}
        for s in out:
            b = ref.get((s["model"], s["layer"], s["noise"]), math.nan)
            s["ratio_to_reference"] = s["mean_normalised_score"] / b if b > 0 else math.nan
    return out


# --------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------
def _schema(columns: Sequence[tuple[str, str, str]]):
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64()}
    return pa.schema([pa.field(n, types[t], metadata={"description": d}) for n, t, d in columns])


def to_arrow(rows: list[dict], columns: Sequence[tuple[str, str, str]] = COLUMNS):
    """A ``pyarrow.Table`` of ``rows`` with the documented schema."""
    import pyarrow as pa

    schema = _schema(columns)
    return pa.table({n: pa.array([r.get(n) for r in rows], type=schema.field(n).type) for n, _, _ in columns},
                    schema=schema)


def _csv_text(rows: list[dict], columns: Sequence[tuple[str, str, str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([n for n, _, _ in columns])
    for r in rows:
        # repr keeps every float bit (csv readers parse 'nan' and 'inf' too)
        w.writerow([repr(v) if isinstance(v, float) else v for v in (r.get(n) for n, _, _ in columns)])
    return buf.getvalue()


def write_table(rows: list[dict], folder: Path, stem: str, columns: Sequence[tuple[str, str, str]] = COLUMNS
                ) -> tuple[Path, Path]:
    """Write ``<stem>.parquet`` and ``<stem>.csv`` into ``folder`` (atomically) and return their paths."""
    import pyarrow.parquet as pq

    from ..io import atomic_write_bytes

    pq_path, csv_path = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    buf = io.BytesIO()
    pq.write_table(to_arrow(rows, columns), buf)
    atomic_write_bytes(pq_path, buf.getvalue())
    atomic_write_bytes(csv_path, _csv_text(rows, columns).encode())
    return pq_path, csv_path


def read_table(path: str | Path) -> list[dict]:
    """Rows of a ``table.parquet`` (or ``summary.parquet``) as a list of dicts."""
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    for r in rows:  # tables from before the measures had their names
        for old, new in (("best_clean_score", "best_clean_ever"), ("source_best_clean_score", "source_best_clean_ever")):
            if old in r and new not in r:
                r[new] = r.pop(old)
                if new == "best_clean_ever" and "relative_activation" in r:
                    r["best_clean_ever_over_reference"] = r.pop("relative_activation")
                    r["relative_activation"] = math.nan
    return rows


def format_summary(summary: list[dict]) -> str:
    """The summary as a fixed-width text table."""
    ref = next((s["reference_optimizer"] for s in summary if s["reference_optimizer"]), None)
    head = ["model", "layer", "noise", "optimizer", "n", "normalised score (ActMax)", "sem",
            "relative activation (XDream, mean)", f"/ {ref}" if ref else "ratio"]
    body = [[s["model"], s["layer"], s["noise"], s["optimizer"], str(s["n_tasks"]),
             f"{s['mean_normalised_score']:.3f}", f"{s['sem_normalised_score']:.3f}",
             f"{s['mean_relative_activation']:.3g}", f"{s['ratio_to_reference']:.2f}"] for s in summary]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(x.ljust(w) if i < 4 else x.rjust(w) for i, (x, w) in enumerate(zip(line, widths)))
             for line in [head, *body]]
    sets = sorted({s.get("reference_set", "") for s in summary} - {""})
    note = [f"relative activation against the reference set {', '.join(sets)} (set (images))"] if sets else []
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:], *note])


def equal_results(a: list[dict], b: list[dict]) -> bool:
    """True when two tables (task or map tables) hold the same tasks with equal result columns.

    Provenance columns (times, worker, resume point) are ignored; NaN equals NaN.
    """
    def key(rows: list[dict]) -> dict[str, tuple]:
        return {r["key"]: tuple((c, _nan_safe(v)) for c, v in sorted(r.items()) if c not in PROVENANCE_COLUMNS)
                for r in rows}

    return key(a) == key(b)


def _nan_safe(v: Any) -> Any:
    return "nan" if isinstance(v, float) and math.isnan(v) else v
