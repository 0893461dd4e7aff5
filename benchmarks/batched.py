"""Batched evolution: images per second of N runs advanced together vs the same N runs one after another.

    OMP_NUM_THREADS=2 python benchmarks/batched.py                  # 16 runs, budget 400, 2 torch threads
    python benchmarks/batched.py --runs 16 --budget 400 --repeats 3 --threads 1
    python benchmarks/batched.py --device cuda                      # on a GPU machine

The runs: ``--runs`` units of resnet20-cifar10 (layer3 channels, or ``--layers`` to spread them over
several layers; ``layer_k`` units share a pass only with units of the same layer), on the
digiface-dcgan64 generator, optimizers alternating CMA-ES and the GA, seeds 0..N-1, each to
``--budget`` evaluations. *Sequential* is :func:`landscape.runs.evolve` called once per run (as
``survey`` and ``sweep`` did before), *batched* is :func:`landscape.runs.evolve_many` over all of
them (one generator call and one truncated network pass per layer and generation). Both write
their run folders (into a temporary directory), so the figure includes the per-generation
files. Rounds alternate sequential and batched; the table shows each round and the median, in wall
time and in process CPU time (which other jobs on a shared machine do not inflate).
Before timing, both paths run once on a small budget (to load kernels and caches), and the
batched folders are checked to equal the sequential ones (wall times aside) on CPU with one
thread. Needs LANDSCAPE_HOME pointing at the model files (the test weights do).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def make_runs(net, layers: list[str], n: int, budget: int, out: Path, device: str):
    from landscape import optim
    from landscape.runs import RunSpec
    from landscape.units import CNNUnit

    runs = []
    for k in range(n):
        layer = layers[k % len(layers)]
        unit = CNNUnit(net, layer, (7 * k + 3) % CNNUnit(net, layer, 0).n_channels)
        name = "cma" if k % 2 == 0 else "ga"
        runs.append(RunSpec(unit, optim.make(name, 100, seed=k, device=device), budget, out / f"run{k:02d}", seed=k))
    return runs


def sequential(gen, runs) -> None:
    from landscape.runs import evolve

    for r in runs:
        evolve(gen, r.scorer, r.optimizer, r.budget, r.out, seed=r.seed, progress=False)


def batched(gen, runs) -> None:
    from landscape.runs import evolve_many

    results = evolve_many(gen, runs, progress=False)
    bad = [r for r in results if isinstance(r, BaseException)]
    if bad:
        raise bad[0]


def images(out: Path) -> int:
    import numpy as np

    n = 0
    for f in out.glob("run*/generations/gen_*.npz"):
        with np.load(f) as z:
            n += z["scores"].shape[0]
    return n


def largest_difference(a: Path, b: Path, keys: tuple[str, ...] = ("codes", "scores", "clean_scores")) -> float:
    """The largest absolute difference between the generation files of two sweeps of run folders
    (``inf`` where a file of ``a`` is missing from ``b`` or the shapes differ)."""
    import numpy as np

    worst = 0.0
    for fa in sorted(a.glob("run*/generations/gen_*.npz")):
        fb = b / fa.relative_to(a)
        if not fb.exists():
            return float("inf")
        with np.load(fa) as x, np.load(fb) as y:
            for k in keys:
                if x[k].shape != y[k].shape:
                    return float("inf")
                if x[k].size:
                    worst = max(worst, float(np.max(np.abs(x[k].astype(np.float64) - y[k]))))
    return worst


def same_folders(a: Path, b: Path) -> bool:
    return largest_difference(a, b) == 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--budget", type=int, default=400)
    ap.add_argument("--layers", default="layer3", help="comma-separated layers of resnet20-cifar10")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: OMP_NUM_THREADS or 2)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    import torch

    from landscape import zoo

    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS", 2))
    torch.set_num_threads(threads)
    layers = args.layers.split(",")
    gen = zoo.load("digiface-dcgan64", device=args.device)
    net = zoo.load("resnet20-cifar10", device=args.device)
    tmp = Path(tempfile.mkdtemp(prefix="bench-batched-"))
    load0 = os.getloadavg()
    try:
        # warm-up, and the exactness check (one thread: see landscape.units.measure.MIN_PASS_ROWS)
        torch.set_num_threads(1)
        sequential(gen, make_runs(net, layers, args.runs, 60, tmp / "ws", args.device))
        batched(gen, make_runs(net, layers, args.runs, 60, tmp / "wb", args.device))
        exact = same_folders(tmp / "ws", tmp / "wb")
        torch.set_num_threads(threads)
        rows = []
        for r in range(args.repeats):
            times = {}
            for mode, fn in (("sequential", sequential), ("batched", batched)):
                out = tmp / f"{mode}{r}"
                runs = make_runs(net, layers, args.runs, args.budget, out, args.device)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                t0, c0 = time.perf_counter(), time.process_time()
                fn(gen, runs)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                times[mode] = (time.perf_counter() - t0, images(out), time.process_time() - c0)
                shutil.rmtree(out)
            rows.append(times)
        load1 = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{args.runs} runs x budget {args.budget} (resnet20-cifar10 {args.layers}, digiface-dcgan64, CMA-ES/GA "
          f"alternating), device {args.device}, torch threads {threads}, {os.cpu_count()} CPUs")
    print(f"load average (1 min) {load0[0]:.2f} at the start, {load1[0]:.2f} at the end")
    print(f"batched folders equal sequential ones (codes, scores, clean scores; 1 thread, CPU): {exact}")
    print()
    print("| round | sequential wall (s) | img/s | CPU (s) | img/CPU-s | batched wall (s) | img/s | CPU (s) | img/CPU-s "
          "| speed-up (wall) | speed-up (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ups, cpu_ups, seq_ips, bat_ips = [], [], [], []
    for r, t in enumerate(rows):
        (ts, ns, cs), (tb, nb, cb) = t["sequential"], t["batched"]
        seq_ips.append(ns / ts)
        bat_ips.append(nb / tb)
        ups.append((nb / tb) / (ns / ts))
        cpu_ups.append((nb / cb) / (ns / cs))
        print(f"| {r} | {ts:.1f} | {ns / ts:.0f} | {cs:.1f} | {ns / cs:.0f} | {tb:.1f} | {nb / tb:.0f} | {cb:.1f} | "
              f"{nb / cb:.0f} | {ups[-1]:.2f}x | {cpu_ups[-1]:.2f}x |")
    print(f"| median | | {statistics.median(seq_ips):.0f} | | | | {statistics.median(bat_ips):.0f} | | | "
          f"{statistics.median(ups):.2f}x | {statistics.median(cpu_ups):.2f}x |")

if __name__ == "__main__":
    main()
