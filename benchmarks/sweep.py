"""Sweep throughput: the same sweep serially, on 1 Dask worker and on 2, and Dask's per-task overhead.

    python benchmarks/sweep.py                 # 32 tasks (4 channels x 2 optimizers x 4 seeds), budget 200
    python benchmarks/sweep.py --budget 100 --repeats 5   # alternate 1 and 2 workers five times

Prints one table: wall time, tasks per second and speed-up over 1 worker for each mode, then
the scheduling overhead per task (a no-op task's round trip through the scheduler, and the
gap between the sweep's wall time and the time its tasks spent working) against the mean
task run time, and the cost this projects for the ActMax-sized benchmark (7 layers x 10 units
x 5 optimizers x 5 seeds x 3 noise levels = 5250 runs of 3000 evaluations).

Workers are started and their models loaded before timing (a sweep pays that once per
worker, not per task). Needs LANDSCAPE_HOME pointing at the model files (the test weights do).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ACTMAX_RUNS = 7 * 10 * 5 * 5 * 3
ACTMAX_BUDGET = 3000


def make_spec(budget: int, seeds: int, channels: int) -> dict:
    return {
        "sweep": {"budget": budget, "seeds": seeds, "noise": ["none"], "device": "cpu"},
        "units": [{"model": "resnet20-cifar10", "layers": ["layer3"], "channels": f"random {channels}"}],
        "optimizers": {"ga": {"population": 20}, "cma": {"population": 20}},
    }


def _warm(generator: str, model: str) -> int:
    from landscape.sweep.worker import cached_references, cached_zoo

    cached_zoo(generator, "cpu")
    cached_zoo(model, "cpu")
    cached_references("skimage")
    return os.getpid()


def _noop(i: int) -> int:
    return i


def timed_sweep(spec: dict, client, out: Path, serial: bool = False):
    from landscape.sweep import sweep

    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    res = sweep(spec, client, out=out, serial=serial, progress=False)
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=int, default=200, help="evaluations per task (default: %(default)s)")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--channels", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3,
                    help="alternate 1-worker and 2-worker sweeps this many times (default: %(default)s)")
    ap.add_argument("--noop-tasks", type=int, default=400, help="no-op tasks timed for the overhead")
    ap.add_argument("--skip-serial", action="store_true")
    args = ap.parse_args()

    import logging

    import torch
    from distributed import wait

    # the scheduler lives in this process; its INFO lines at cluster shutdown would bury the table
    logging.getLogger("distributed").setLevel(logging.ERROR)

    from landscape.sweep import start_local_client
    from landscape.sweep.worker import cached_references, cached_zoo

    spec = make_spec(args.budget, args.seeds, args.channels)
    n_tasks = args.seeds * args.channels * 2
    tmp = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    print(f"{n_tasks} tasks, budget {args.budget}, digiface-dcgan64 -> resnet20-cifar10 layer3, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    print("(wall times and speed-ups need an otherwise idle machine; CPU s/task does not)")
    rows = []
    if not args.skip_serial:
        threads = torch.get_num_threads()
        cached_zoo("digiface-dcgan64", "cpu"), cached_zoo("resnet20-cifar10", "cpu"), cached_references("skimage")
        timed_sweep(make_spec(20, 1, 1), None, tmp / "warm", serial=True)
        wall, res = timed_sweep(spec, None, tmp / "serial", serial=True)
        torch.set_num_threads(threads)
        rows.append(("serial (no Dask)", 1, wall, res))
    clients = {n: start_local_client(n, dashboard_address=":0") for n in (1, 2)}
    try:
        for n, client in clients.items():
            # load models inside each worker's task thread, where tasks will find them, then run
            # a full-budget sweep of two tasks per worker, so that every code path is warm and each
            # worker's memory arenas have grown to their working size before timing (the first
            # full-size sweep on a fresh worker pays ~40% more CPU time in page faults)
            wait([client.submit(_warm, "digiface-dcgan64", "resnet20-cifar10", workers=[a], pure=False,
                                allow_other_workers=False) for a in client.scheduler_info()["workers"]])
            timed_sweep(make_spec(args.budget, n, 1), client, tmp / f"warm{n}")
        # alternate the two, so that a change of the machine's load hits both alike
        pairs = []
        for rep in range(args.repeats):
            pair = {}
            for n, client in clients.items():
                wall, res = timed_sweep(spec, client, tmp / f"dask{n}")
                rows.append((f"Dask, {n} worker{'s' if n > 1 else ''}", n, wall, res))
                pair[n] = wall
            pairs.append(pair[1] / pair[2])
        wait(clients[2].map(_noop, range(20), pure=False))  # warm the code paths
        t0 = time.perf_counter()
        wait(clients[2].map(_noop, range(20, 20 + args.noop_tasks), pure=False))
        overhead = (time.perf_counter() - t0) / args.noop_tasks
    finally:
        for client in clients.values():
            client.close()
            client.cluster.close()

    one = statistics.median(wall for name, n, wall, _ in rows if name.startswith("Dask, 1"))
    print()
    print(f"{'mode':22s} {'workers':>7s} {'wall s':>8s} {'tasks/s':>8s} {'speed-up vs 1 worker':>21s} "
          f"{'CPU s/task':>11s}")
    for name, n, wall, res in rows:
        assert len(res.rows) == n_tasks
        cpu = statistics.mean(r["cpu_time_s"] for r in res.rows)
        print(f"{name:22s} {n:7d} {wall:8.1f} {n_tasks / wall:8.3f} {one / wall:21.2f} {cpu:11.3f}")
    print(f"2 workers vs 1, run by run: {', '.join(f'{x:.2f}x' for x in pairs)} "
          f"(median {statistics.median(pairs):.2f}x; target 1.7x)")
    wall2, res2 = next((wall, res) for name, n, wall, res in reversed(rows) if n == 2)
    task_times = [r["task_time_s"] for r in res2.rows]
    mean_task = statistics.mean(task_times)
    gap = (wall2 * 2 - sum(task_times)) / n_tasks  # worker-seconds per task not spent inside tasks
    evals = sum(r["evaluations"] for r in res2.rows)
    # CPU seconds, not wall seconds: on a shared machine other processes inflate wall time
    core_s_per_eval = sum(r["cpu_time_s"] for r in res2.rows) / evals
    print()
    print(f"{'per task (last 2-worker sweep)':44s} {'seconds':>9s} {'% of task time':>15s}")
    print(f"{'mean task run time':44s} {mean_task:9.3f} {100.0:14.1f}%")
    mean_cpu = statistics.mean(r["cpu_time_s"] for r in res2.rows)
    print(f"{'  of which CPU time of the worker process':44s} {mean_cpu:9.3f} {100 * mean_cpu / mean_task:14.1f}%")
    print(f"{'no-op task round trip':44s} {overhead:9.4f} {100 * overhead / mean_task:14.2f}%")
    print(f"{'idle worker time per task (wall x 2 - work)':44s} {gap:9.3f} {100 * gap / mean_task:14.1f}%")
    print()
    total_core_h = ACTMAX_RUNS * ACTMAX_BUDGET * core_s_per_eval / 3600
    print(f"measured cost: {1000 * core_s_per_eval:.2f} CPU-ms per evaluation (digiface-dcgan64 + resnet20 on CPU, "
          f"including writing the run's files)")
    print(f"ActMax-sized benchmark ({ACTMAX_RUNS} runs x {ACTMAX_BUDGET} evaluations) at that rate: "
          f"{total_core_h:.0f} core-hours; e.g. {total_core_h / 64:.1f} h on 64 single-thread workers; "
          f"scheduling adds {ACTMAX_RUNS * overhead:.0f} s in total")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
