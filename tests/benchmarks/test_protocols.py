"""benchmarks/protocols.py: the cluster bootstrap, the ratios and the published columns, on synthetic tables."""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
try:
    import protocols
finally:
    sys.path.remove(str(REPO / "benchmarks"))


def _rows(values: dict[tuple[str, str], np.ndarray], measure: str) -> list[dict]:
    """Task rows from {(optimizer, noise): (U, S) array}: units u0.., seeds 0.., layer by unit parity."""
    rows = []
    for (opt, noise), v in values.items():
        for u in range(v.shape[0]):
            for s in range(v.shape[1]):
                rows.append({"generator": "g", "model": "m", "layer": f"L{u % 2}", "unit": f"m/L{u % 2}/{u}@center",
                             "seed": s, "optimizer": opt, "noise": noise, measure: float(v[u, s]),
                             "reference_set": "cifar", "n_reference_images": 40})
    return rows


def test_cluster_bootstrap_covers_the_true_mean_at_its_level():
    # Units differ a lot (sd 1) and seeds little (sd 0.2): runs on one unit are not independent,
    # so only a bootstrap that resamples units reaches 95% coverage (one resampling runs would
    # give about 70% here). 300 synthetic studies of 10 units x 3 seeds, true mean 2.
    rng = np.random.default_rng(1)
    hits = 0
    for k in range(300):
        v = 2.0 + rng.normal(0, 1.0, (10, 1, 1)) + rng.normal(0, 0.2, (10, 3, 1))
        lo, hi = protocols.percentile_ci(protocols.bootstrap(v, 400, seed=k))
        hits += bool(lo[0] <= 2.0 <= hi[0])
    assert 0.86 <= hits / 300 <= 0.99


def test_bootstrap_resamples_units_not_runs():
    # All variation is between units: every replicate is a mean of whole units, so a replicate
    # can only take values that are means of 4 unit values (with repetition), never a value a
    # run-level resampling would give (here: unit values 0 and 3 with 3 seeds each).
    v = np.array([[0.0] * 3, [3.0] * 3, [0.0] * 3, [3.0] * 3])[:, :, None]
    reps = protocols.bootstrap(v, 2000, seed=0)[:, 0]
    assert set(np.round(reps, 9)) <= {0.0, 0.75, 1.5, 2.25, 3.0}
    assert len(set(np.round(reps, 9))) == 5


def test_ratio_of_means_and_its_ci():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 1.0, (8, 3))
    values = {("ga", "none"): a, ("cma", "none"): 2.0 * a, ("nes", "none"): a + 0.1}
    c = protocols.cube(_rows(values, "normalised_score"), "normalised_score", ("optimizer", "noise"))
    mean, lo, hi, reps = protocols.mean_and_ci(c, 1000)
    assert mean[c.index(("nes", "none"))] == pytest.approx(a.mean() + 0.1)
    r, rlo, rhi = protocols.ratio_and_ci(mean, reps, c.index(("cma", "none")), c.index(("ga", "none")))
    assert (r, rlo, rhi) == pytest.approx((2.0, 2.0, 2.0))  # exactly twice on every run: no spread
    r, rlo, rhi = protocols.ratio_and_ci(mean, reps, c.index(("nes", "none")), c.index(("ga", "none")))
    assert r == pytest.approx((a.mean() + 0.1) / a.mean())
    assert rlo < r < rhi


def test_cube_rejects_duplicate_tasks_and_missing_columns():
    rows = _rows({("ga", "none"): np.ones((2, 2))}, "normalised_score")
    with pytest.raises(ValueError, match="two rows"):
        protocols.cube(rows + rows[:1], "normalised_score", ("optimizer", "noise"))
    with pytest.raises(ValueError, match="relative_activation"):
        protocols.cube(rows, "relative_activation", ("optimizer", "noise"))


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


@pytest.fixture
def published(tmp_path):
    _write(tmp_path / "xdream_fig6_optimizers_summary.csv",
           ["classifier", "layer", "optimizer", "noisy", "n_units", "rel_act_mean", "rel_act_median", "rel_act_sem"],
           [["caffenet", "fc6", "genetic", "False", 100, 9, 9, 1],
            ["all", "all", "genetic", "False", 500, 1.5, 1.4, 0.01], ["all", "all", "genetic", "True", 500, 0.9, 1.0, 0.02],
            ["all", "all", "NES", "False", 500, 1.6, 1.5, 0.03], ["all", "all", "NES", "True", 500, 0.4, 0.5, 0.04]])
    head = ["layershortname", "noise_level", "Genetic", "CholeskyCMAES"]
    _write(tmp_path / "actmax_CMA_benchmark_export_summary_norm.csv", head,
           [["conv2", 0, 0.4, 0.8], ["fc6", 0, 0.2, 0.6], ["conv2", 0.2, 0.3, 0.5], ["fc6", 0.2, 0.1, 0.3]])
    _write(tmp_path / "actmax_CMA_benchmark_export_summary_norm_sem.csv", head,
           [["conv2", 0.0, 0.03, 0.04], ["fc6", 0.0, 0.04, 0.03], ["conv2", 0.2, 0.01, 0.01], ["fc6", 0.2, 0.01, 0.01]])
    return tmp_path


def test_published_values_are_pooled_as_stated(published):
    x = protocols.published_xdream(published)
    assert x[("genetic", False)] == {"mean": 1.5, "median": 1.4, "sem": 0.01, "n": 500}
    a = protocols.published_actmax(published)
    assert a[("CholeskyCMAES", 0.0)]["mean"] == pytest.approx(0.7)
    assert a[("Genetic", 0.0)]["sem"] == pytest.approx(math.sqrt(0.03 ** 2 + 0.04 ** 2) / 2)


def test_xdream_table_ratios_and_published_columns(published):
    rng = np.random.default_rng(2)
    base = rng.uniform(1.0, 2.0, (6, 3))
    values = {("ga", "none"): base, ("ga", "poisson-spikes:10"): 0.5 * base,
              ("nes", "none"): base + 0.2, ("nes", "poisson-spikes:10"): 0.25 * base}
    cells, ratios = protocols.xdream_table(_rows(values, "relative_activation"), 500, 0,
                                           protocols.published_xdream(published))
    by = {r["optimizer"]: r for r in ratios}
    assert by["ga"]["ratio_noisy_to_noiseless"] == pytest.approx(0.5)
    assert by["nes"]["ratio_noisy_to_noiseless"] == pytest.approx(0.25 * base.mean() / (base.mean() + 0.2))
    assert by["ga"]["published_ratio"] == pytest.approx(0.9 / 1.5)
    assert by["nes"]["published_ratio"] == pytest.approx(0.4 / 1.6)
    ga_noisy = next(c for c in cells if c["scope"] == "all" and c["optimizer"] == "ga" and c["noisy"])
    assert ga_noisy["mean_relative_activation"] == pytest.approx(0.5 * base.mean())
    assert ga_noisy["published_ci_low"] == pytest.approx(0.9 - protocols.Z95 * 0.02)
    assert ga_noisy["ci_low"] < ga_noisy["mean_relative_activation"] < ga_noisy["ci_high"]
    layer = [c for c in cells if c["scope"] == "m/L0" and c["optimizer"] == "ga" and not c["noisy"]]
    assert layer[0]["mean_relative_activation"] == pytest.approx(base[0::2].mean())
    assert math.isnan(layer[0]["published_mean"])  # published values are pooled: only beside "all"
    assert "| `ga` (genetic) |" in protocols.xdream_markdown(cells, ratios)


def test_actmax_table_ratio_to_each_ga(published):
    rng = np.random.default_rng(3)
    g = rng.uniform(0.3, 0.6, (6, 3))
    values = {("ga-actmax", "none"): g, ("cholcma", "none"): 1.5 * g, ("ga", "none"): 0.5 * g,
              ("ga-actmax", "gaussian:0.2"): 0.8 * g, ("cholcma", "gaussian:0.2"): g, ("ga", "gaussian:0.2"): 0.4 * g}
    rows = protocols.actmax_table(_rows(values, "normalised_score"), 500, 0, protocols.published_actmax(published))
    r = next(x for x in rows if x["scope"] == "all" and x["optimizer"] == "cholcma" and x["noise"] == "none")
    assert r["ratio_to_ga_actmax"] == pytest.approx(1.5)
    assert r["ratio_to_ga"] == pytest.approx(3.0)
    assert r["published_optimizer"] == "CholeskyCMAES" and r["noise_level"] == 0.0
    assert r["published_mean"] == pytest.approx(0.7) and r["published_ratio_to_genetic"] == pytest.approx(0.7 / 0.3)
    r = next(x for x in rows if x["scope"] == "all" and x["optimizer"] == "cholcma" and x["noise"] == "gaussian:0.2")
    assert r["ratio_to_ga_actmax"] == pytest.approx(1.25)
    assert r["published_ratio_to_genetic"] == pytest.approx(0.4 / 0.2)
    ga = next(x for x in rows if x["scope"] == "all" and x["optimizer"] == "ga" and x["noise"] == "none")
    assert ga["published_optimizer"] == "" and math.isnan(ga["published_mean"])  # XDream's GA is not in ActMax's table
    assert "`cholcma` (CholeskyCMAES)" in protocols.actmax_markdown(rows)


def test_missing_published_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="--published"):
        protocols.published_xdream(tmp_path)


def test_run_measures_first_generation_by_xdreams_rule_and_final_code_norm(tmp_path):
    # generation 0: the best *observed* image is the second (observed 5.0), whose clean response is 2.0
    gen = tmp_path / "runs" / "k" / "generations"
    gen.mkdir(parents=True)
    np.savez(gen / "gen_000000.npz", scores=np.array([1.0, 5.0, 3.0]), clean_scores=np.array([4.0, 2.0, 3.0]),
             codes=np.zeros((3, 2)))
    np.savez(gen / "gen_000001.npz", scores=np.array([1.0, 5.0]), clean_scores=np.array([4.0, 2.0]),
             codes=np.array([[3.0, 4.0], [0.0, 1.0]]))  # norms 5 and 1
    rows = [{"key": "k", "run_dir": "runs/k", "best_reference_score": 4.0, "generations": 2}]
    protocols.add_run_measures(rows, tmp_path)
    assert rows[0]["first_generation_relative_activation"] == pytest.approx(0.5)
    assert rows[0]["final_code_norm"] == pytest.approx(3.0)
    with pytest.raises(FileNotFoundError, match="run folder"):
        protocols.add_run_measures([{"key": "x", "run_dir": "runs/x", "best_reference_score": 1.0}], tmp_path)
