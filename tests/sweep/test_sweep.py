"""Sweeps on Dask: same table as a serial run, nothing lost when a worker dies, nothing redone on re-run."""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import threading
import time

import cloudpickle
import numpy as np
import pytest

import sweep_helpers
from landscape.sweep import (COLUMNS, SweepError, equal_results, read_table, register_optimizer,
                             start_local_client, sweep, unregister_optimizer)
from landscape.sweep.worker import cache_info

pytestmark = pytest.mark.slow  # every test here runs real models end to end

# The optimizers under test travel to the worker processes by value, whatever their sys.path.
cloudpickle.register_pickle_by_value(sweep_helpers)

SPEC = {  # 2 units x 2 noise levels x 2 optimizers x 2 seeds = 16 tasks of 2 generations
    "sweep": {"budget": 16, "seeds": [0, 1], "noise": ["none", "gaussian:0.3"]},
    "units": [{"model": "resnet20-cifar10", "layers": ["layer2", "layer3"], "channels": [5]}],
    "optimizers": {"ga": {"population": 8}, "cma": {"population": 8}},
}

KILL_SPEC = {  # 4 tasks of 16 generations each: long enough to be killed in the middle
    "sweep": {"budget": 64, "seeds": [0, 1], "noise": ["poisson:20"]},
    "units": [{"model": "resnet20-cifar10", "layers": ["layer3"], "channels": [3, 5]}],
    "optimizers": {"local": {"algorithm": "localsearch", "population": 4}},
}


@pytest.fixture(scope="module")
def hooks():
    register_optimizer("localsearch", sweep_helpers.LocalSearch)
    register_optimizer("failsonseed", sweep_helpers.FailsOnSeed)
    yield
    unregister_optimizer("localsearch")
    unregister_optimizer("failsonseed")


@pytest.fixture(scope="module")
def client():
    """One 2-worker LocalCluster for the module (starting one costs seconds of the 2 cores)."""
    c = start_local_client(2, dashboard_address=":0")
    yield c
    c.close()
    c.cluster.close()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return sweep(SPEC, out=out, serial=True, progress=False)


def test_serial_table_files_and_normalisation(serial):
    rows = serial.rows
    assert len(rows) == 16 and serial.n_started == 16 and not serial.failures
    # the table on disk: parquet and csv with the documented columns, equal to the returned rows
    assert equal_results(read_table(serial.files["table.parquet"]), rows)
    header = serial.files["table.csv"].read_text().splitlines()[0].split(",")
    assert header == [c for c, _, _ in COLUMNS]
    for r in rows:
        run_dir = serial.out / r["run_dir"]
        meta = json.loads((run_dir / "meta.json").read_text())
        assert meta["status"] == "complete" and meta["seed"] == r["seed"]
        assert r["evaluations"] == 16 and r["generations"] == 2 and r["status"] == "complete"
        # XDream's relative activation: the clean response of the last generation's best by observed score
        last = np.load(run_dir / "generations" / f"gen_{r['generations'] - 1:06d}.npz")
        i = int(np.nanargmax(last["scores"]))
        assert r["optimized_response"] == pytest.approx(float(last["clean_scores"][i]))
        assert r["optimized_response_kind"] == "clean"
        assert r["relative_activation"] == pytest.approx(r["optimized_response"] / r["best_reference_score"])
        assert r["best_clean_ever_over_reference"] == pytest.approx(r["best_clean_ever"] / r["best_reference_score"])
        assert r["best_clean_ever"] >= r["optimized_response"]
        assert (r["reference_set"], r["n_reference_images"]) == ("cifar", 40)
    # ActMax normalisation: per unit and noise level, the best task scores exactly 1
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        groups.setdefault((r["unit"], r["noise"]), []).append(r["normalised_score"])
    assert len(groups) == 4
    for v in groups.values():
        assert max(v) == 1.0 and all(0 < x <= 1 for x in v)
    # summary: one row per model x layer x noise x optimizer; GA's ratio to itself is 1
    assert len(serial.summary) == 8
    for s in serial.summary:
        mine = [r["normalised_score"] for r in rows
                if (r["layer"], r["noise"], r["optimizer"]) == (s["layer"], s["noise"], s["optimizer"])]
        assert s["mean_normalised_score"] == pytest.approx(np.mean(mine)) and s["n_tasks"] == 2
        ga = next(x for x in serial.summary if (x["layer"], x["noise"], x["optimizer"]) ==
                  (s["layer"], s["noise"], "ga"))
        assert s["ratio_to_reference"] == pytest.approx(s["mean_normalised_score"] / ga["mean_normalised_score"])
    html = serial.files["summary.html"].read_text()
    assert '<script src="http' not in html and len(html) > 1_000_000  # plotly.js embedded, no CDN


def test_two_workers_equal_serial_and_rerun_does_nothing(serial, client, tmp_path, monkeypatch, capsys):
    from landscape.cli import main

    # through the command line, on a running cluster given by its address
    out = tmp_path / "dask"
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(_toml(SPEC))
    rc = main(["sweep", str(spec_file), "--out", str(out), "--scheduler", client.scheduler.address])
    printed = capsys.readouterr()
    assert rc == 0, printed
    assert "16 to start" in printed.out and "Dask dashboard: http" in printed.out and "normalised score (ActMax)" in printed.out
    par = read_table(out / "table.parquet")
    assert equal_results(par, serial.rows)
    workers = sorted(r["worker"] for r in par)
    assert set(workers) == set(client.scheduler_info()["workers"]), workers  # both workers took tasks

    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and "runs" in p.parts}
    monkeypatch.setattr("landscape.sweep.engine.start_local_client",
                        lambda *a, **k: pytest.fail("a re-run of a finished sweep started a cluster"))
    again = sweep(SPEC, out=out, progress=False)
    assert (again.n_finished_before, again.n_resumed, again.n_started) == (16, 0, 0)
    assert again.rows == par  # provenance included: read back, not redone
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and "runs" in p.parts}


def test_maps_follow_their_units_evolutions_on_the_default_cluster(client, tmp_path, monkeypatch):
    from distributed import Client

    from landscape.maps import TuningMap
    from landscape.topology import SUMMARY_KEYS

    spec = copy.deepcopy(SPEC)
    spec["sweep"].update(seeds=[0], noise=["poisson:10"], workers=3)
    spec["units"][0]["layers"] = ["layer3"]
    spec["map"] = {"grid": "sphere:7", "reps": 2}
    spec["topology"] = {"levels": 11}
    serial_res = sweep(spec, out=tmp_path / "serial", serial=True, progress=False)
    # client=None asks start_local_client for a cluster (here: the module's) and closes what it got
    made = []
    monkeypatch.setattr("landscape.sweep.engine.start_local_client",
                        lambda n, addr: made.append((n, addr)) or Client(client.scheduler.address))
    res = sweep(spec, out=tmp_path / "dask", progress=False, dashboard_address=":0")
    assert made == [(3, ":0")] and len(res.rows) == 2 and len(res.maps) == 1
    assert equal_results(res.rows, serial_res.rows) and equal_results(res.maps, serial_res.maps)
    m = res.maps[0]
    best = max(res.rows, key=lambda r: r["best_clean_ever"])
    assert m["source_key"] == best["key"] and m["source_best_clean_ever"] == best["best_clean_ever"]
    tmap = TuningMap.load(res.out / m["map_dir"] / "map")
    assert tmap.values.shape == (7, 7) and tmap.trials.shape[0] == 2  # noisy unit: 2 repetitions
    assert m["peak_value"] == pytest.approx(np.nanmax(tmap.values))
    assert all(math.isfinite(m[f"topology_{k}"]) for k in SUMMARY_KEYS)
    assert (res.out / m["map_dir"] / "topology" / "signature.json").is_file()
    header = (res.out / "maps.csv").read_text().splitlines()[0].split(",")
    assert header[-len(SUMMARY_KEYS) - 1:] == [f"topology_{k}" for k in SUMMARY_KEYS] + ["topology_contour_convention"]
    assert m["topology_contour_convention"] == "project"


def _toml(spec: dict) -> str:
    lines = []
    for section in ("sweep",):
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in spec[section].items()]
    for u in spec["units"]:
        lines.append("[[units]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in u.items()]
    for label, settings in spec["optimizers"].items():
        lines.append(f"[optimizers.{label}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def test_rerun_resumes_a_partial_run(serial, tmp_path):
    import torch

    from landscape import optim, zoo
    from landscape.units.spec import build_unit
    from landscape.runs import evolve

    # two tasks of SPEC (same configs, so the same keys and results)
    spec = copy.deepcopy(SPEC)
    spec["sweep"]["noise"] = ["gaussian:0.3"]
    spec["units"][0]["layers"] = ["layer3"]
    spec["optimizers"] = {"cma": SPEC["optimizers"]["cma"]}
    out = tmp_path / "partial"
    full = {r["key"]: r for r in serial.rows}
    task = next(t for t in serial.tasks if t.config["noise"] != "none" and t.config["layer"] == "layer3"
                and t.config["optimizer"]["label"] == "cma")
    cfg = task.config
    # the task stopped after its first generation, as a killed worker leaves it
    G = zoo.load(cfg["generator"])
    unit = build_unit(cfg["model"], cfg["layer"], cfg["channel"], cfg["position"], cfg["noise"], cfg["seed"], "cpu")
    opt = optim.make(cfg["optimizer"]["algorithm"], G.dim, seed=cfg["seed"], device="cpu",
                     **cfg["optimizer"]["settings"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the sweep's tasks run
    try:
        evolve(G, unit, opt, 8, out=out / "runs" / task.key, seed=cfg["seed"], progress=False)
    finally:
        torch.set_num_threads(threads)
    res = sweep(spec, out=out, serial=True, progress=False)
    assert (res.n_finished_before, res.n_resumed, res.n_started) == (0, 1, 1)
    assert {r["key"]: r["resumed_from_generation"] for r in res.rows}[task.key] == 1
    for r in res.rows:  # normalised scores differ: this sweep has fewer tasks per unit
        assert equal_results([{**r, "normalised_score": 0}], [{**full[r["key"]], "normalised_score": 0}])


def test_tasks_evolved_one_by_one_equal_tasks_evolved_together(serial, tmp_path):
    """The serial fixture evolves each layer's 8 tasks in one worker call; batch=1 evolves them one at a time."""
    from landscape.sweep.engine import batches
    from landscape.sweep.spec import load_spec, plan
    from landscape.sweep.worker import TaskPayload

    payloads = [TaskPayload(t.key, t.config, str(tmp_path)) for t in plan(load_spec(SPEC))]
    together = batches(payloads, 16)
    assert sorted(len(g) for g in together) == [8, 8]
    assert all(len({p.config["layer"] for p in g}) == 1 for g in together)
    assert sorted(len(g) for g in batches(payloads, 16, n_workers=2)) == [4, 4, 4, 4]  # every worker gets work
    assert sorted(len(g) for g in batches(payloads, 3)) == [2, 2, 3, 3, 3, 3]
    one = sweep(SPEC, out=tmp_path, serial=True, progress=False, batch=1)
    assert equal_results(one.rows, serial.rows)


def test_failed_task_is_reported_and_others_finish(tmp_path, hooks):
    spec = copy.deepcopy(KILL_SPEC)
    spec["sweep"].update(budget=12, seeds=[0, 1, 2])
    spec["units"][0]["channels"] = [3]
    spec["optimizers"] = {"f": {"algorithm": "failsonseed", "population": 4}}
    with pytest.raises(SweepError, match="1 of 3 tasks failed.*optimizer diverged") as e:
        sweep(spec, out=tmp_path, serial=True, progress=False)
    assert "run the same spec again" in str(e.value)
    failures = json.loads((tmp_path / "failures.json").read_text())
    assert len(failures) == 1 and "optimizer diverged" in next(iter(failures.values()))
    assert [r["seed"] for r in read_table(tmp_path / "table.parquet")] == [0, 2]


@pytest.fixture(scope="module")
def kill_baseline(tmp_path_factory, hooks):
    return sweep(KILL_SPEC, out=tmp_path_factory.mktemp("kill_serial"), serial=True, progress=False)


def test_killed_worker_still_gives_the_complete_identical_table(tmp_path, kill_baseline, client):
    # Runs on the module's cluster, whose nanny restarts the killed worker.
    out = tmp_path / "killed"
    keys = [t.key for t in kill_baseline.tasks]
    result: dict = {}

    def run() -> None:
        try:
            result["sweep"] = sweep(KILL_SPEC, client, out=out, progress=False)
        except BaseException as e:  # surfaced by the assertions below
            result["error"] = e

    th = threading.Thread(target=run)
    th.start()
    victim, deadline = None, time.monotonic() + 300
    # wait until some task has committed 3 generations and is still running, then kill its worker
    while victim is None and th.is_alive() and time.monotonic() < deadline:
        for key in keys:
            if (out / "runs" / key / "generations" / "gen_000002.npz").exists() and \
                    not (out / "results" / f"{key}.json").exists():
                # a worker call evolves a group of tasks; its Dask key names them all
                holders = [w for w, ks in client.processing().items()
                           if any(k.startswith("landscape-sweep-") and key in k for k in ks)]
                if holders:
                    victim = holders[0]
                    break
        time.sleep(0.02)
    assert victim is not None, "no task was caught running"
    os.kill(client.run(os.getpid)[victim], signal.SIGKILL)
    th.join(timeout=600)
    assert not th.is_alive() and "error" not in result, result.get("error")
    killed = result["sweep"]
    assert len(killed.rows) == 4 and not killed.failures
    assert equal_results(killed.rows, kill_baseline.rows)
    # the killed task really was resumed from its committed generations, not restarted
    assert max(r["resumed_from_generation"] for r in killed.rows) >= 2
    # models load at most once per worker process (the restarted worker once too, if the killed
    # group of tasks went back to it rather than to the other worker)
    loaded = list(client.run(cache_info).values())
    assert any(loaded), loaded
    for counts in loaded:
        assert all(n == 1 for n in counts.values()), counts


def test_cli_serial_sweep(tmp_path, capsys):
    from landscape.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\nbudget = 8\nseeds = 1\n[[units]]\nmodel = "resnet20-cifar10"\nlayers = ["layer3"]\n'
                    'channels = [1, 2]\n[optimizers.ga]\npopulation = 4\n')
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--serial"]) == 0
    text = capsys.readouterr().out
    assert "2 to start" in text and "normalised score (ActMax)" in text and "cifar (40)" in text
    rows = read_table(tmp_path / "o" / "table.parquet")
    assert [r["channel"] for r in rows] == [1, 2] and all(r["normalised_score"] == 1.0 for r in rows)
    assert not any(math.isnan(r["relative_activation"]) for r in rows)
    # --batch 1: each task on its own, the same table; a bad value is refused before anything is written
    assert main(["sweep", str(spec), "--out", str(tmp_path / "one"), "--serial", "--batch", "1"]) == 0
    alone = read_table(tmp_path / "one" / "table.parquet")
    assert [r["best_score"] for r in alone] == [r["best_score"] for r in rows]
    capsys.readouterr()
    assert main(["sweep", str(spec), "--out", str(tmp_path / "bad"), "--serial", "--batch", "0"]) == 2
    assert "--batch" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_spherecma_tasks_with_ragged_populations(tmp_path):
    """SphereCMA scores its mean beside its samples, so its generations differ in size."""
    spec = {"sweep": {"budget": 41, "seeds": [0], "noise": ["poisson:20"]},
            "units": [{"model": "resnet20-cifar10", "layers": ["layer3"], "channels": [5]}],
            "optimizers": {"spherecma": {"population": 10}, "ga": {"population": 10}}}
    res = sweep(spec, out=tmp_path, serial=True, progress=False)
    assert not res.failures and len(res.rows) == 2
    sphere = next(r for r in res.rows if r["optimizer"] == "spherecma")
    # whole generations: 10, then 11 a generation, until the budget is reached
    assert sphere["evaluations"] == 43 and sphere["generations"] == 4
    assert not math.isnan(sphere["best_clean_ever"])
    assert {r["optimizer"] for r in res.rows if r["normalised_score"] == 1.0}
