"""Gradient-free optimizers of :mod:`landscape.optim` against each other and against pycma.

Part 1, ``overhead``: milliseconds per ask + tell (the optimizer's own cost, objective
excluded) at d = 4096 and d = 100 with 40 codes per generation, for GA, CMAES, SphereCMA,
NES, FDGD, the published presets and pycma (``landscape.optim.PyCMA``), in the same process. Target: CMAES
<= 20 ms per generation at d = 4096 on a 2-core CPU, where pycma 4.x needs about 550 ms.

Part 2, ``scores``: units of the CIFAR-10 ResNet-20 and ResNet-32 (several layers and
channels) seen through the DigiFace DCGAN, each optimizer with its default settings and a
budget of 3000 images, for several seeds, without noise and with XDream's Poisson noise
(rate = max(0, a) * scale, with ``scale`` set per unit so that the best of 200 prior images
fires about 10 spikes). Every run goes through :func:`landscape.runs.evolve`. Printed per
optimizer and noise condition:

* normalised score: a run's best clean score over the best clean score any run reached on
  that unit (ActMax-Optimizer-Dev's protocol), mean ± s.e.m. over units and seeds;
* ratio to GA: per unit, mean best clean score over GA's, averaged over units;
* fraction of the GradientAscent optimum: best clean score over the best score of Adam on the
  code (white-box, :class:`landscape.optim.gradient.GradientAscent`, default settings);
* optimizer ms per generation next to generator + unit ms per generation.

    python benchmarks/optimizers.py overhead [--dims 4096 100] [--generations 75] [--floor] [--device cuda]
    python benchmarks/optimizers.py scores [--quick] [--budget 3000] [--seeds 0 1] [--json out.json [--resume]]

Needs ``pip install cma`` (pycma) and, for the scores, the DigiFace DCGAN
(``pip install --no-deps gan-face-generate==1.1.1``) and the CIFAR-10 ResNet weights in the
model cache (``LANDSCAPE_HOME``; ../shared/weights is used when present).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared_weights import use_shared_weights  # noqa: E402

from landscape import optim  # noqa: E402
from landscape.optim.base import Optimizer  # noqa: E402

NAMES = ("ga", "ga-actmax", "ga-project", "cholcma", "cma", "spherecma", "nes", "nes-auto", "fdgd", "fdgd-auto",
         "pycma")


def build(name: str, dim: int, seed: int, device: str, population: int | None = None) -> Optimizer:
    """An optimizer with default settings (``population`` overrides the population size)."""
    settings: dict[str, Any] = {"seed": seed, "device": device}
    if population is not None:
        settings["population"] = population
    return optim.make(name, dim, **settings)  # pycma: numpy on the CPU, codes moved to ``device``


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


# ------------------------------------------------------------------------------------------
# part 1: overhead
# ------------------------------------------------------------------------------------------
def dense_floor(dim: int, population: int, generations: int, device: str) -> tuple[list[float], list[float]]:
    """Seconds per generation of the two products any exact per-generation update of a dense
    full-covariance factor must make: drawing λ samples (λ×d times d×d) and a rank-(λ+1) update
    of the d×d factor (active CMA-ES weights every sample, plus the evolution path). Random
    data; no CMA-ES logic. A lower bound for CMAES once its factor is dense."""
    g = torch.Generator(device=device).manual_seed(0)
    b = torch.eye(dim, device=device)
    m = population + 1
    times, cpu = [], []
    for _ in range(generations):
        z = torch.randn(population, dim, generator=g, device=device)
        p = torch.randn(m, dim, generator=g, device=device) * 1e-4
        v = torch.randn(m, dim, generator=g, device=device)
        sync(device)
        t, c = time.perf_counter(), time.process_time()
        y = b @ z.T  # the faster of the two layouts on the project's CPU (as CMAES._apply)
        b.addmm_(p.T, v)
        sync(device)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        del y
    return times, cpu


def ask_tell_times(opt: Optimizer, generations: int, device: str) -> tuple[list[float], list[float], int]:
    """Wall and process-CPU seconds of each generation's ask + tell (the objective, a quadratic
    around a fixed random target, excluded), and the codes per generation."""
    target = torch.randn(opt.dim, generator=torch.Generator().manual_seed(1)).to(device)
    wall, cpu, n_codes = [], [], 0
    for _ in range(generations):
        sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        codes = opt.ask()
        sync(device)
        t1, c1 = time.perf_counter(), time.process_time()
        scores = -((codes.float() - target) ** 2).sum(1)
        sync(device)
        t2, c2 = time.perf_counter(), time.process_time()
        opt.tell(codes, scores)
        sync(device)
        wall.append((t1 - t0) + (time.perf_counter() - t2))
        cpu.append((c1 - c0) + (time.process_time() - c2))
        n_codes = int(codes.shape[0])
    return wall, cpu, n_codes


def overhead(args: argparse.Namespace) -> list[dict]:
    records = []
    for dim in args.dims:
        for name in args.optimizers + (["floor"] if args.floor else []):
            per_gen, cpu = [], []
            if name == "floor":
                per_gen, cpu = dense_floor(dim, args.population, args.generations, args.device)
                n_codes = args.population
            else:
                opt = build(name, dim, seed=0, device=args.device, population=args.population)
                per_gen, cpu, n_codes = ask_tell_times(opt, args.generations, args.device)
            ms = np.asarray(per_gen) * 1e3
            rec = {"optimizer": name, "dim": dim, "population": n_codes, "generations": len(ms),
                   "mean_ms": float(ms.mean()), "median_ms": float(np.median(ms)),
                   "first10_ms": float(ms[:10].mean()), "last10_ms": float(ms[-10:].mean()), "max_ms": float(ms.max()),
                   "max_over_median": float(ms.max() / np.median(ms)), "cpu_ms": float(np.mean(cpu) * 1e3),
                   "cpu_median_ms": float(np.median(cpu) * 1e3), "cpu_max_ms": float(np.max(cpu) * 1e3),
                   "load_average": os.getloadavg()[0]}
            records.append(rec)
            print(f"  {name:>9s} d={dim:<5d} mean {rec['mean_ms']:8.2f} ms/gen (load {rec['load_average']:.1f})",
                  file=sys.stderr, flush=True)
    rows = []
    for rec in records:
        ref = next((r for r in records if r["dim"] == rec["dim"] and r["optimizer"] == "pycma"), None)
        speedup = f"{ref['mean_ms'] / rec['mean_ms']:.1f}x" if ref else "-"
        rows.append([rec["optimizer"], rec["dim"], rec["population"], rec["generations"], f"{rec['mean_ms']:.2f}",
                     f"{rec['median_ms']:.2f}", f"{rec['first10_ms']:.2f}", f"{rec['last10_ms']:.2f}",
                     f"{rec['max_ms']:.1f}", f"{rec['max_over_median']:.1f}", f"{rec['cpu_ms']:.2f}",
                     f"{rec['cpu_median_ms']:.2f}", f"{rec['cpu_max_ms']:.1f}", speedup])
    print(f"\nOptimizer overhead, ms per ask+tell (device {args.device}, {torch.get_num_threads()} torch threads, "
          f"load average {os.getloadavg()[0]:.1f}); cpu = process CPU time over all threads, which other "
          "processes on a shared machine do not inflate"
          + ("; floor = the two dense products of an exact full-covariance generation (see dense_floor)"
             if args.floor else ""))
    print(table(rows, ["optimizer", "d", "codes/gen", "gens", "mean", "median", "first 10", "last 10", "max",
                       "max/med", "cpu", "cpu med", "cpu max", "pycma/this"]))
    return records


# ------------------------------------------------------------------------------------------
# part 2: scores
# ------------------------------------------------------------------------------------------
# 5 units x 6 optimizers x 2 seeds x 2 noise conditions x 3000 images = 360,000 images: about
# half an hour on an idle 2-core CPU (the DCGAN costs ~5 ms per image there)
FULL_UNITS = [("resnet20-cifar10", "layer2", 3), ("resnet20-cifar10", "layer3", 5),
              ("resnet20-cifar10", "layer3", 40), ("resnet32-cifar10", "layer3", 20),
              ("resnet32-cifar10", "linear", 7)]
QUICK_UNITS = [("resnet20-cifar10", "layer3", 5), ("resnet32-cifar10", "linear", 7)]


def timed(opt: Optimizer) -> dict:
    """Wrap ``opt.ask``/``opt.tell`` to accumulate their wall time (seconds) in the returned dict."""
    clock = {"seconds": 0.0}
    ask, tell = opt.ask, opt.tell

    def timed_ask():
        t = time.perf_counter()
        try:
            return ask()
        finally:
            clock["seconds"] += time.perf_counter() - t

    def timed_tell(codes, scores):
        t = time.perf_counter()
        try:
            return tell(codes, scores)
        finally:
            clock["seconds"] += time.perf_counter() - t

    opt.ask, opt.tell = timed_ask, timed_tell
    return clock


def poisson_scale(generator, unit, n: int = 200, spikes: float = 10.0) -> float:
    """Spikes per unit of activation so that the best of ``n`` prior images fires ``spikes``."""
    with torch.no_grad():
        a = unit.clean(generator.render(generator.sample(n, seed=12345)))
    top = float(a.max())
    return spikes / top if top > 0 else spikes


def scores(args: argparse.Namespace) -> tuple[list[dict], dict]:
    """Run (or, with ``--resume``, finish) the score benchmark; returns (records, references)."""
    import shutil

    from landscape import zoo
    from landscape.optim.gradient import GradientAscent
    from landscape.runs import evolve
    from landscape.units import CNNUnit, PoissonNoise

    units = [tuple(u.split(":")) for u in args.units] if args.units else (QUICK_UNITS if args.quick else FULL_UNITS)
    units = [(m, layer, int(c)) for m, layer, c in units]
    budget, seeds = args.budget, args.seeds
    records: list[dict] = []
    references: dict[str, dict] = {}
    progress = Path(args.json) if args.json else None
    if args.resume and progress is not None and progress.exists():
        saved = json.loads(progress.read_text())
        if saved.get("budget") == budget:
            records, references = saved.get("scores", []), saved.get("references", {})

    def save() -> None:
        if progress is not None:
            progress.write_text(json.dumps({"budget": budget, "device": args.device,
                                            "threads": torch.get_num_threads(), "scores": records,
                                            "references": references}, indent=1))

    generator = zoo.load("digiface-dcgan64", device=args.device)
    models: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="optim-bench-"))
    total = len(units) * 2 * len(args.optimizers) * len(seeds)
    done = {(r["unit"], r["noise"], r["optimizer"], r["seed"]) for r in records}
    n_new, start = 0, time.perf_counter()
    for model_name, layer, channel in units:
        model = models.setdefault(model_name, zoo.load(model_name, device=args.device))
        unit = CNNUnit(model, layer, channel)
        key = f"{model_name}:{layer}:{channel}"
        if key not in references:
            ga_ref = GradientAscent(generator, unit.clean, generator.dim, seed=0,
                                    **({"steps": 60} if args.quick else {}))
            _, ref_score = ga_ref.run()
            references[key] = {"gradient_ascent": float(ref_score), "poisson_scale": poisson_scale(generator, unit)}
            save()
        ref_score, scale = references[key]["gradient_ascent"], references[key]["poisson_scale"]
        for noise in ("none", "poisson"):
            for name in args.optimizers:
                for seed in seeds:
                    if (key, noise, name, seed) in done:
                        continue
                    observed = unit if noise == "none" else PoissonNoise(unit, scale=scale, seed=1000 + seed)
                    opt = build(name, generator.dim, seed=seed, device=args.device)
                    clock = timed(opt)
                    out = root / f"{key.replace(':', '_')}_{noise}_{name}_{seed}"
                    run = evolve(generator, observed, opt, budget, out=out, seed=seed, progress=False,
                                 save_images=False)
                    n_gen = run.n_generations
                    opt_ms = clock["seconds"] / n_gen * 1e3
                    wall_ms = float(run.wall_time.mean()) * 1e3
                    records.append({"unit": key, "noise": noise, "optimizer": name, "seed": seed,
                                    "best_clean": float(run.best_score), "generations": n_gen,
                                    "evaluations": int(sum(len(s) for s in run.gen_scores)),
                                    "codes_per_gen": int(len(run.gen_scores[-1])),
                                    "optimizer_ms_per_gen": opt_ms, "model_ms_per_gen": wall_ms - opt_ms})
                    shutil.rmtree(out, ignore_errors=True)
                    save()
                    n_new += 1
                    remaining = total - len(records)
                    eta = (time.perf_counter() - start) / n_new * remaining
                    print(f"  [{len(records)}/{total}] {key} {noise:7s} {name:9s} seed {seed}: best clean "
                          f"{run.best_score:.4g} (GradientAscent {ref_score:.4g}); eta {eta / 60:.1f} min",
                          file=sys.stderr, flush=True)
    shutil.rmtree(root, ignore_errors=True)
    report_scores(records, references, budget, seeds, args)
    return records, references


def report_scores(records: list[dict], references: dict, budget: int, seeds: list[int], args) -> None:
    best_any = {}
    for r in records:
        best_any[r["unit"]] = max(best_any.get(r["unit"], -math.inf), r["best_clean"])
    names = [n for n in args.optimizers]
    print(f"\nScores: {len(references)} units x {len(names)} optimizers x {len(seeds)} seeds x 2 noise conditions, "
          f"budget {budget} images, DigiFace DCGAN (d = 100), device {args.device}")
    for noise in ("none", "poisson"):
        rows = []
        for name in names:
            rs = [r for r in records if r["optimizer"] == name and r["noise"] == noise]
            norm = [r["best_clean"] / best_any[r["unit"]] for r in rs if best_any[r["unit"]] > 0]
            frac = [r["best_clean"] / references[r["unit"]]["gradient_ascent"] for r in rs
                    if references[r["unit"]]["gradient_ascent"] > 0]
            ratios = []
            for unit in references:
                mine = [r["best_clean"] for r in rs if r["unit"] == unit]
                ga = [r["best_clean"] for r in records if r["unit"] == unit and r["noise"] == noise
                      and r["optimizer"] == "ga"]
                if mine and ga and statistics.mean(ga) > 0:
                    ratios.append(statistics.mean(mine) / statistics.mean(ga))
            sem = statistics.stdev(norm) / math.sqrt(len(norm)) if len(norm) > 1 else float("nan")
            rows.append([name, f"{statistics.mean(norm):.3f} ± {sem:.3f}",
                         f"{statistics.mean(ratios):.2f}" if ratios else "-",
                         f"{statistics.mean(frac):.3f}" if frac else "-",
                         f"{statistics.mean(r['codes_per_gen'] for r in rs):.0f}",
                         f"{statistics.mean(r['optimizer_ms_per_gen'] for r in rs):.2f}",
                         f"{statistics.mean(r['model_ms_per_gen'] for r in rs):.1f}"])
        print(f"\nnoise: {noise}")
        print(table(rows, ["optimizer", "normalised score", "ratio to GA", "of GradientAscent", "codes/gen",
                           "optimizer ms/gen", "generator+unit ms/gen"]))
    rows = []
    for unit, ref in references.items():
        row = [unit, f"{ref['gradient_ascent']:.3g}"]
        for noise in ("none", "poisson"):
            for name in names:
                vals = [r["best_clean"] for r in records if r["unit"] == unit and r["noise"] == noise
                        and r["optimizer"] == name]
                row.append(f"{statistics.mean(vals):.3g}" if vals else "-")
        rows.append(row)
    header = ["unit", "GradAscent"] + [f"{n}{'' if noise == 'none' else '+P'}" for noise in ("none", "poisson")
                                       for n in names]
    print("\nMean best clean score per unit (+P: Poisson noise)")
    print(table(rows, header))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["overhead", "scores", "all"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--optimizers", nargs="+", default=list(NAMES), choices=NAMES)
    ap.add_argument("--dims", nargs="+", type=int, default=[4096, 100], help="overhead: code dimensions")
    ap.add_argument("--population", type=int, default=40, help="overhead: codes per generation (default 40)")
    ap.add_argument("--generations", type=int, default=75,
                    help="overhead: generations per optimizer (default 75 = 3000 images / 40)")
    ap.add_argument("--floor", action="store_true",
                    help="overhead: also time the two dense products an exact full-covariance generation needs")
    ap.add_argument("--quick", action="store_true", help="scores: 2 units, 1 seed, budget 400 (a smoke run)")
    ap.add_argument("--budget", type=int, default=None, help="scores: images per run (default 3000)")
    ap.add_argument("--seeds", nargs="+", type=int, default=None, help="scores: seeds (default 0 1)")
    ap.add_argument("--units", nargs="+", default=None, metavar="MODEL:LAYER:CHANNEL",
                    help="scores: units to use instead of the default five")
    ap.add_argument("--json", default=None, help="write every measurement to this JSON file (scores: after "
                                                 "every run, so that --resume can finish an interrupted benchmark)")
    ap.add_argument("--resume", action="store_true", help="scores: skip the runs already in --json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    use_shared_weights()
    result: dict[str, Any] = {"device": args.device, "threads": torch.get_num_threads(),
                              "torch": torch.__version__}
    if args.part in ("overhead", "all"):
        result["overhead"] = overhead(args)
    args.budget = args.budget or (400 if args.quick else 3000)
    args.seeds = args.seeds or ([0] if args.quick else [0, 1])
    if args.part in ("scores", "all"):
        result["scores"], result["references"] = scores(args)
        result["budget"] = args.budget
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
