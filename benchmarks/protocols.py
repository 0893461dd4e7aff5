"""The two protocol reproductions of issue 13, beside the published values, with bootstrap CIs.

Reads the task tables written by ``landscape sweep`` (``table.parquet`` of each sweep folder),
computes the papers' own summary statistics with 95% bootstrap confidence intervals, writes
them as CSV files (schema: ``benchmarks/results/README.md``) and prints markdown tables beside
the published values of ``../shared/reference-figures``.

(a) XDream figure 6 (Xiao & Kreiman 2020): mean of XDream's ``relative_activation`` per
    optimizer (GA, NES, FDGD), noise-free and under Poisson noise, and the noisy/noiseless
    ratio of those means, as XDream's pooled rows report it (genetic 0.972 / 1.462 = 0.66).
(b) ActMax-Optimizer-Dev (Wang & Ponce 2022): mean ``normalised_score`` per optimizer and
    noise level (0, 0.2, 0.5 multiplicative), and the ratio of means to the GA baselines, as
    their analysis script computes it (``CholeskyCMAES`` mean over ``Genetic`` mean per noise).

Confidence intervals: a two-stage (cluster) bootstrap. Each replicate draws the units with
replacement, then, within each drawn unit, the seeds with replacement; the same draw is used
for every optimizer and noise level, so ratios are paired (a unit that is hard for one
optimizer is hard for all). 95% percentile intervals; the resampling unit is the *unit*
(neuron), not the run, because runs on one unit share its difficulty.

    python benchmarks/protocols.py xdream SWEEP_DIR [--boot 4000] [--out benchmarks/results]
    python benchmarks/protocols.py actmax SWEEP_DIR [--boot 4000] [--out benchmarks/results]

The sweeps are ``benchmarks/protocols/xdream_fig6.toml`` and ``benchmarks/protocols/actmax.toml``.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO.parent / "shared" / "reference-figures"
RESULTS = REPO / "benchmarks" / "results"

#: the project's preset names and the published optimizers they stand for
XDREAM_NAMES = {"ga": "genetic", "nes": "NES", "fdgd": "FDGD"}
ACTMAX_NAMES = {"ga-actmax": "Genetic", "cholcma": "CholeskyCMAES", "pycma": "pycma", "spherecma": "ZOHA_Sphere_exp",
                "ga": None, "cma": None}
#: ActMax's multiplicative noise levels and the sweep's noise strings for them
ACTMAX_NOISE = {"none": 0.0, "gaussian:0.2": 0.2, "gaussian:0.5": 0.5}
Z95 = 1.959963984540054


# --------------------------------------------------------------------------------------
# the cluster bootstrap
# --------------------------------------------------------------------------------------
@dataclass
class Cube:
    """Values of one measure arranged by unit, seed and condition.

    Attributes
    ----------
    values : (n_units, n_seeds, n_conditions) float array
        NaN where a run is missing or its value undefined.
    units : list of str
    seeds : list of int
    conditions : list of tuple
        Each condition is a tuple of the grouping columns (e.g. ``(optimizer, noise)``).
    """

    values: np.ndarray
    units: list[str]
    seeds: list[int]
    conditions: list[tuple]

    def index(self, condition: tuple) -> int:
        try:
            return self.conditions.index(condition)
        except ValueError:
            raise KeyError(f"condition {condition!r} not in the table; conditions: {self.conditions}") from None


def cube(rows: Sequence[dict], measure: str, by: Sequence[str]) -> Cube:
    """Arrange ``rows[measure]`` into a :class:`Cube` over unit x seed x ``by`` columns.

    Units are ``generator`` + ``unit`` (the sweep's ``model/layer/channel@position``).
    Raises ``ValueError`` when two rows claim one cell (a table with duplicate tasks).
    """
    if not rows:
        raise ValueError("no rows: the sweep table is empty")
    missing = [c for c in (measure, "unit", "seed", *by) if c not in rows[0]]
    if missing:
        raise ValueError(f"the table has no column(s) {missing}; columns: {sorted(rows[0])}")

    def uid(r: dict) -> str:
        return f"{r['generator']}:{r['unit']}" if "generator" in r else str(r["unit"])

    units = list(dict.fromkeys(uid(r) for r in rows))
    seeds = sorted({int(r["seed"]) for r in rows})
    conds = list(dict.fromkeys(tuple(r[c] for c in by) for r in rows))
    ui, si, ci = ({u: i for i, u in enumerate(units)}, {s: i for i, s in enumerate(seeds)},
                  {c: i for i, c in enumerate(conds)})
    v = np.full((len(units), len(seeds), len(conds)), np.nan)
    seen = np.zeros(v.shape, bool)
    for r in rows:
        at = (ui[uid(r)], si[int(r["seed"])], ci[tuple(r[c] for c in by)])
        if seen[at]:
            raise ValueError(f"two rows for unit {uid(r)}, seed {r['seed']}, {dict(zip(by, at[2:]))}")
        seen[at] = True
        x = r[measure]
        v[at] = math.nan if x is None else float(x)
    return Cube(v, units, seeds, conds)


def unit_means(values: np.ndarray) -> np.ndarray:
    """(..., U, S, C) -> (..., C): mean over every finite run (each run weighs the same, as the papers' means)."""
    v = np.asarray(values, float)
    with np.errstate(invalid="ignore"):
        return np.nanmean(v.reshape(*v.shape[:-3], -1, v.shape[-1]), axis=-2)


def bootstrap(values: np.ndarray, n_boot: int = 4000, seed: int = 0,
              statistic: Callable[[np.ndarray], np.ndarray] = unit_means, chunk: int = 500) -> np.ndarray:
    """Two-stage bootstrap replicates of ``statistic``: units with replacement, then seeds within each.

    Parameters
    ----------
    values : (U, S, C) array
    n_boot : int
    seed : int
    statistic : callable (B, U, S, C) -> (B, C) array
    chunk : int
        Replicates computed at once (memory: chunk x U x S x C floats).

    Returns
    -------
    (n_boot, C) array of the statistic on resampled tables (one draw shared by all C conditions).
    """
    v = np.asarray(values, float)
    if v.ndim != 3:
        raise ValueError(f"values must be (units, seeds, conditions), got shape {v.shape}")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    U, S, _ = v.shape
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, int(n_boot), chunk):
        b = min(chunk, int(n_boot) - start)
        u = rng.integers(0, U, (b, U))
        s = rng.integers(0, S, (b, U, S))
        out.append(statistic(v[u[:, :, None], s]))
    return np.concatenate(out)


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 (NaN replicates ignored)."""
    a = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        return np.nanquantile(samples, a, axis=0), np.nanquantile(samples, 1 - a, axis=0)


def mean_and_ci(c: Cube, n_boot: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per condition: the mean, its 95% CI, and the bootstrap replicates ((n_boot, C))."""
    reps = bootstrap(c.values, n_boot, seed)
    lo, hi = percentile_ci(reps)
    return unit_means(c.values), lo, hi, reps


def ratio_and_ci(mean: np.ndarray, reps: np.ndarray, num: int, den: int) -> tuple[float, float, float]:
    """Ratio of two conditions' means with the CI of the paired replicates' ratios."""
    point = mean[num] / mean[den] if mean[den] != 0 else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        r = reps[:, num] / reps[:, den]
    r[~np.isfinite(r)] = np.nan
    lo, hi = percentile_ci(r[:, None])
    return float(point), float(lo[0]), float(hi[0])


# --------------------------------------------------------------------------------------
# published values
# --------------------------------------------------------------------------------------
def _read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        raise FileNotFoundError(f"published table {path} not found; pass --published FOLDER (the folder of "
                                f"../shared/reference-figures) or --no-published")
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def published_xdream(folder: Path = PUBLISHED) -> dict[tuple[str, bool], dict]:
    """XDream fig. 6 pooled rows (``all,all``): {(optimizer, noisy): {mean, median, sem, n}}."""
    out = {}
    for r in _read_csv(folder / "xdream_fig6_optimizers_summary.csv"):
        if r["classifier"] == "all" and r["layer"] == "all":
            out[(r["optimizer"], r["noisy"] == "True")] = {"mean": float(r["rel_act_mean"]),
                                                           "median": float(r["rel_act_median"]),
                                                           "sem": float(r["rel_act_sem"]), "n": int(r["n_units"])}
    if not out:
        raise ValueError(f"{folder / 'xdream_fig6_optimizers_summary.csv'} has no 'all,all' rows")
    return out


def published_actmax(folder: Path = PUBLISHED) -> dict[tuple[str, float], dict]:
    """ActMax's normalised scores pooled over its 7 AlexNet layers: {(optimizer, noise): {mean, sem}}.

    The pooled mean is the mean of the 7 layer means (each layer has the same number of runs);
    its standard error ``sqrt(sum sem_l^2) / 7`` treats the layers as independent samples.
    """
    means = _read_csv(folder / "actmax_CMA_benchmark_export_summary_norm.csv")
    sems = _read_csv(folder / "actmax_CMA_benchmark_export_summary_norm_sem.csv")
    opts = [k for k in means[0] if k not in ("layershortname", "noise_level")]
    out = {}
    for noise in sorted({float(r["noise_level"]) for r in means}):
        m = [r for r in means if float(r["noise_level"]) == noise]
        s = [r for r in sems if float(r["noise_level"]) == noise]
        for o in opts:
            mv = np.array([float(r[o]) for r in m])
            sv = np.array([float(r[o]) for r in s])
            out[(o, noise)] = {"mean": float(mv.mean()), "sem": float(np.sqrt((sv ** 2).sum()) / len(sv)),
                               "n_layers": len(mv)}
    return out


# --------------------------------------------------------------------------------------
# the two protocols
# --------------------------------------------------------------------------------------
def _noisy(noise: str) -> bool:
    return noise != "none"


def xdream_table(rows: Sequence[dict], n_boot: int = 4000, seed: int = 0,
                 published: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Protocol (a): relative activation per optimizer x noise, and noisy/noiseless ratios.

    Returns
    -------
    cells : list of dict
        One per (scope, optimizer, noise); scope ``"all"`` pools every unit, else ``model/layer``.
    ratios : list of dict
        One per optimizer: noisy mean / noiseless mean with its paired CI (pooled units).
    """
    noises = list(dict.fromkeys(r["noise"] for r in rows))
    if len(noises) != 2 or sum(not _noisy(n) for n in noises) != 1:
        raise ValueError(f"protocol (a) needs exactly one noise-free and one noisy condition, got {noises}")
    cells, ratios = [], []
    scopes = [("all", list(rows))] + [(f"{m}/{l}", [r for r in rows if (r["model"], r["layer"]) == (m, l)])
                                      for m, l in dict.fromkeys((r["model"], r["layer"]) for r in rows)]
    for scope, rs in scopes:
        c = cube(rs, "relative_activation", ("optimizer", "noise"))
        mean, lo, hi, reps = mean_and_ci(c, n_boot, seed)
        with np.errstate(invalid="ignore"):
            med = np.nanmedian(c.values.reshape(-1, c.values.shape[-1]), axis=0)
        first = (mean_and_ci(cube(rs, "first_generation_relative_activation", ("optimizer", "noise")), n_boot, seed)
                 if "first_generation_relative_activation" in rs[0] else None)
        norm = unit_means(cube(rs, "final_code_norm", ("optimizer", "noise")).values) \
            if "final_code_norm" in rs[0] else np.full(len(c.conditions), math.nan)
        for j, (opt, noise) in enumerate(c.conditions):
            pub = (published or {}).get((XDREAM_NAMES.get(opt), _noisy(noise)), {}) if scope == "all" else {}
            n = int(np.isfinite(c.values[:, :, j]).sum())
            cells.append({"scope": scope, "optimizer": opt, "published_optimizer": XDREAM_NAMES.get(opt) or "",
                          "noise": noise, "noisy": _noisy(noise), "n_units": len(c.units), "n_seeds": len(c.seeds),
                          "n_runs": n, "mean_relative_activation": mean[j], "ci_low": lo[j], "ci_high": hi[j],
                          "median_relative_activation": med[j],
                          "mean_first_generation": first[0][j] if first else math.nan,
                          "first_generation_ci_low": first[1][j] if first else math.nan,
                          "first_generation_ci_high": first[2][j] if first else math.nan,
                          "mean_final_code_norm": norm[j],
                          "reference_set": _sets(rs),
                          "published_mean": pub.get("mean", math.nan), "published_median": pub.get("median", math.nan),
                          "published_ci_low": pub.get("mean", math.nan) - Z95 * pub.get("sem", math.nan),
                          "published_ci_high": pub.get("mean", math.nan) + Z95 * pub.get("sem", math.nan),
                          "published_n_units": pub.get("n", 0)})
        if scope != "all":
            continue
        clean = next(n for n in noises if not _noisy(n))
        noisy = next(n for n in noises if _noisy(n))
        for opt in dict.fromkeys(o for o, _ in c.conditions):
            r, rlo, rhi = ratio_and_ci(mean, reps, c.index((opt, noisy)), c.index((opt, clean)))
            p = published or {}
            name = XDREAM_NAMES.get(opt)
            pub = (p[(name, True)]["mean"] / p[(name, False)]["mean"]) if (name, True) in p and (name, False) in p \
                else math.nan
            ratios.append({"optimizer": opt, "published_optimizer": name or "", "noise": noisy,
                           "ratio_noisy_to_noiseless": r, "ci_low": rlo, "ci_high": rhi,
                           "published_ratio": pub})
    return cells, ratios


def actmax_table(rows: Sequence[dict], n_boot: int = 4000, seed: int = 0, published: dict | None = None,
                 baselines: Sequence[str] = ("ga-actmax", "ga")) -> list[dict]:
    """Protocol (b): normalised score per optimizer x noise, ratio of means to each GA baseline.

    One row per (scope, optimizer, noise); scope ``"all"`` pools every unit, else ``model/layer``.
    """
    out = []
    scopes = [("all", list(rows))] + [(f"{m}/{l}", [r for r in rows if (r["model"], r["layer"]) == (m, l)])
                                      for m, l in dict.fromkeys((r["model"], r["layer"]) for r in rows)]
    for scope, rs in scopes:
        c = cube(rs, "normalised_score", ("optimizer", "noise"))
        mean, lo, hi, reps = mean_and_ci(c, n_boot, seed)
        for j, (opt, noise) in enumerate(c.conditions):
            name = ACTMAX_NAMES.get(opt)
            level = ACTMAX_NOISE.get(noise, math.nan)
            pub = (published or {}).get((name, level), {}) if scope == "all" and name else {}
            row = {"scope": scope, "optimizer": opt, "published_optimizer": name or "", "noise": noise,
                   "noise_level": level, "n_units": len(c.units), "n_seeds": len(c.seeds),
                   "n_runs": int(np.isfinite(c.values[:, :, j]).sum()),
                   "mean_normalised_score": mean[j], "ci_low": lo[j], "ci_high": hi[j]}
            for b in baselines:
                key = b.replace("-", "_")
                if (b, noise) in c.conditions:
                    r, rlo, rhi = ratio_and_ci(mean, reps, j, c.index((b, noise)))
                else:
                    r = rlo = rhi = math.nan
                row.update({f"ratio_to_{key}": r, f"ratio_to_{key}_ci_low": rlo, f"ratio_to_{key}_ci_high": rhi})
            pm = pub.get("mean", math.nan)
            gen = (published or {}).get(("Genetic", level), {}).get("mean", math.nan) if scope == "all" else math.nan
            row.update({"published_mean": pm, "published_ci_low": pm - Z95 * pub.get("sem", math.nan),
                        "published_ci_high": pm + Z95 * pub.get("sem", math.nan),
                        "published_ratio_to_genetic": pm / gen if gen > 0 else math.nan})
            out.append(row)
    return out


def _sets(rows: Sequence[dict]) -> str:
    return ", ".join(sorted({f"{r.get('reference_set')} ({r.get('n_reference_images')})" for r in rows
                             if r.get("reference_set")}))


# --------------------------------------------------------------------------------------
# files and printing
# --------------------------------------------------------------------------------------
def read_sweep(folder: str | Path) -> list[dict]:
    """The task table of a finished sweep (``table.parquet``), with every task's normalised score."""
    p = Path(folder) / "table.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found: run (or re-run, which does no new work) `landscape sweep SPEC --out "
                                f"{folder}` so that it writes the table")
    sys.path.insert(0, str(REPO))
    from landscape.sweep.table import read_table

    rows = read_table(p)
    bad = sorted({r["status"] for r in rows} - {"complete"})
    if bad:
        raise ValueError(f"{p} holds runs with status {bad}; finish the sweep first")
    return rows


def add_run_measures(rows: Sequence[dict], folder: str | Path) -> None:
    """Add two columns read from each task's run folder (in place).

    ``first_generation_relative_activation``: XDream's measure with the same rule as the run's
    own (the generation's best image by observed score, its clean response, over the best
    reference), applied to generation 0 instead of the last: where the run started.
    ``final_code_norm``: the mean Euclidean norm of the last generation's codes; codes of the
    DCGAN's N(0, I) prior have norms near sqrt(d) (10 for d = 100), so a much larger value means
    the search left the region the generator was trained on.
    """
    sys.path.insert(0, str(REPO))
    from landscape.measures import relative_activation
    from landscape.record import generation_path

    for r in rows:
        gens = Path(folder) / r["run_dir"] / "generations"
        first = generation_path(gens, 0)
        if not first.is_file():
            raise FileNotFoundError(f"{first} not found: the sweep folder lacks the run folder of task {r['key']}")
        with np.load(first) as z:
            r["first_generation_relative_activation"] = relative_activation(
                z["scores"], [r["best_reference_score"]], z["clean_scores"] if "clean_scores" in z else None)
        last = generation_path(gens, int(r.get("generations", 1)) - 1)
        with np.load(last if last.is_file() else first) as z:
            r["final_code_norm"] = float(np.linalg.norm(z["codes"], axis=1).mean())


def write_csv(rows: Sequence[dict], path: Path) -> Path:
    """Write ``rows`` (dicts with the same keys) as CSV; floats keep 6 significant digits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(rows[0])
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in (r[c] for c in cols)])
    return path


def _ci(m: float, lo: float, hi: float, digits: int = 3) -> str:
    if not math.isfinite(m):
        return "–"
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" if math.isfinite(lo) else f"{m:.{digits}f}"


def xdream_markdown(cells: Sequence[dict], ratios: Sequence[dict]) -> str:
    """Table (a) as markdown: ours (mean [95% CI]) beside XDream's (mean [mean ± 1.96 s.e.m.])."""
    lines = ["| optimizer (XDream name) | relative activation, noise-free | XDream fig. 6 | relative activation, "
             "Poisson | XDream fig. 6 | noisy / noiseless | XDream fig. 6 |", "|---|---|---|---|---|---|---|"]
    allc = [c for c in cells if c["scope"] == "all"]
    for r in ratios:
        opt = r["optimizer"]
        clean = next(c for c in allc if c["optimizer"] == opt and not c["noisy"])
        noisy = next(c for c in allc if c["optimizer"] == opt and c["noisy"])
        lines.append(f"| `{opt}` ({r['published_optimizer'] or '–'}) | "
                     f"{_ci(clean['mean_relative_activation'], clean['ci_low'], clean['ci_high'])} | "
                     f"{_ci(clean['published_mean'], clean['published_ci_low'], clean['published_ci_high'])} | "
                     f"{_ci(noisy['mean_relative_activation'], noisy['ci_low'], noisy['ci_high'])} | "
                     f"{_ci(noisy['published_mean'], noisy['published_ci_low'], noisy['published_ci_high'])} | "
                     f"{_ci(r['ratio_noisy_to_noiseless'], r['ci_low'], r['ci_high'], 2)} | "
                     f"{_ci(r['published_ratio'], math.nan, math.nan, 2)} |")
    c0 = allc[0]
    lines.append(f"\n{c0['n_units']} units x {c0['n_seeds']} seeds; relative activation against "
                 f"{c0['reference_set']}; noise {ratios[0]['noise']}.")
    return "\n".join(lines)


def actmax_markdown(rows: Sequence[dict], baseline: str = "ga-actmax") -> str:
    """Table (b) as markdown: two tables, the normalised scores and their ratios to ``baseline``.

    Ours (mean [95% CI]) beside ActMax's (pooled over its 7 layers; ratio to its ``Genetic``).
    """
    allr = [r for r in rows if r["scope"] == "all"]
    noises = sorted(dict.fromkeys(r["noise"] for r in allr), key=lambda n: ACTMAX_NOISE.get(n, math.inf))
    opts = list(dict.fromkeys(r["optimizer"] for r in allr))
    b = "ratio_to_" + baseline.replace("-", "_")

    def cell(opt: str, noise: str) -> dict:
        return next(x for x in allr if x["optimizer"] == opt and x["noise"] == noise)

    def table(title: str, ours: Callable[[dict], str], theirs: Callable[[dict], str]) -> list[str]:
        head = [title] + [h for n in noises for h in (f"σ = {ACTMAX_NOISE.get(n, n)}: ours", "ActMax")]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for opt in opts:
            name = ACTMAX_NAMES.get(opt) or "–"
            lines.append(f"| `{opt}` ({name}) | " + " | ".join(f"{ours(cell(opt, n))} | {theirs(cell(opt, n))}"
                                                            for n in noises) + " |")
        return lines

    scores = table("normalised score", lambda r: _ci(r["mean_normalised_score"], r["ci_low"], r["ci_high"]),
                   lambda r: _ci(r["published_mean"], r["published_ci_low"], r["published_ci_high"]))
    ratios = table(f"ratio to `{baseline}` (ActMax: to Genetic)",
                   lambda r: _ci(r[b], r[b + "_ci_low"], r[b + "_ci_high"], 2),
                   lambda r: _ci(r["published_ratio_to_genetic"], math.nan, math.nan, 2))
    r0 = allr[0]
    note = (f"{r0['n_units']} units x {r0['n_seeds']} seeds; normalised score = best clean score / the best any run "
            f"reached on the unit (any optimizer, seed and noise level), as ActMax's analysis; ratios of means.")
    return "\n".join(scores) + "\n\n" + "\n".join(ratios) + "\n\n" + note


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("protocol", choices=("xdream", "actmax"))
    ap.add_argument("sweep", help="the sweep folder (holds table.parquet)")
    ap.add_argument("--boot", type=int, default=4000, help="bootstrap replicates (default 4000)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the bootstrap draws")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder of the CSV files (default benchmarks/results)")
    ap.add_argument("--published", type=Path, default=PUBLISHED, help="folder of the published tables")
    ap.add_argument("--no-published", action="store_true", help="leave the published columns empty (NaN)")
    ap.add_argument("--name", help="stem of the CSV file(s) (default protocol_xdream_fig6 / protocol_actmax)")
    ap.add_argument("--baselines", nargs="+", default=["ga-actmax", "ga"],
                    help="actmax: optimizer labels to give a ratio_to_<label> column (default ga-actmax ga)")
    a = ap.parse_args(argv)
    if a.boot < 100:
        ap.error(f"--boot must be >= 100 for a 95% interval, got {a.boot}")
    rows = read_sweep(a.sweep)
    if a.protocol == "xdream":
        add_run_measures(rows, a.sweep)
        pub = None if a.no_published else published_xdream(a.published)
        cells, ratios = xdream_table(rows, a.boot, a.seed, pub)
        stem = a.name or "protocol_xdream_fig6"
        p1 = write_csv(cells, a.out / f"{stem}.csv")
        p2 = write_csv(ratios, a.out / f"{stem}_ratios.csv")
        print(xdream_markdown(cells, ratios))
        print(f"\nwrote {p1} and {p2}")
    else:
        pub = None if a.no_published else published_actmax(a.published)
        table = actmax_table(rows, a.boot, a.seed, pub, a.baselines)
        p = write_csv(table, a.out / f"{a.name or 'protocol_actmax'}.csv")
        print(actmax_markdown(table, a.baselines[0]))
        print(f"\nwrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
