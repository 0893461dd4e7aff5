"""One prepared run for a GPU machine (issue #18): every device path exercised and the GPU figures measured.

    python benchmarks/gpu_check.py --device cuda --out gpu-check       # about 3-6 min on an H100 (limit 8)
    python benchmarks/gpu_check.py --device cpu --small --out /tmp/gc  # the same steps on small sizes (~20 s)

Steps, each timed; a table is printed and everything goes to ``OUT/gpu_check.json``:

1. ``tests``: ``pytest -m cuda --device cuda`` on the test files that hold CUDA tests, which
   fail instead of skipping when a GPU is expected and torch sees none (cuda only).
2. ``evolve``: every optimizer of ``landscape.optim.names()`` with default settings for
   ``--budget`` images (3000) on an fc6-shaped generator (the DeePSiM fc6 architecture of
   ``landscape.models.deepsim`` with random weights rescaled layer by layer, d = 4096, 256 px)
   against an AlexNet-shaped unit (``geometry.trunks.AlexNet`` random weights, conv5 channel 10
   at the centre): optimizer ms per generation (ask + tell) beside generator + network ms per
   generation, and the whole run's seconds.
3. ``hessian``: the full metric Hessian of that generator under an LPIPS-shaped distance
   (LPIPS-alex over a random-weight trunk) with its eigendecomposition (on cuda by both routes:
   batched HVPs and the Jacobian ``2 Jᵀ W J`` with up to ``--jacobian-gb``), then the top ``k``
   (100) by each method (``block``, ``lanczos``, ``fd``) beside the anchor's one-vector
   double-backward ARPACK (GAN-Geometry's approach), each with its agreement with the full one.
4. ``map``: a 21 x 21 sphere map (``landscape.maps.sphere_map``) of the unit around a prior code.
5. ``batched`` (issue #17, item 4): ``--batched-runs`` runs (16; small: 4) of that generator on units of
   that layer (channels spread over it), optimizers alternating CMA-ES and the GA, ``--batched-budget``
   images each (400; small: 60), made one after another by ``landscape.runs.evolve`` and then together by
   ``evolve_many`` (one generator call and one truncated network pass per generation), after a warm-up
   of both; images per second of each, the speed-up, and the largest difference between the two ways'
   recorded scores (equal on a CPU with one thread; a GPU's summation order may differ).
6. ``cma`` (issue #17, item 1): CMA-ES at d = 4096 with 40 codes per generation for ``--cma-generations``
   (150, past the factor's folding phase; small: 20) generations beside pycma in the same process (pycma
   on the host CPU, as it runs), ms per ask + tell.
7. ``agreement``: the same computations on the CPU and on the device: Hessian-vector products of
   the fc6-shaped metric and the full Hessian of a small generator, a 9 x 9 sphere map, and 10
   generations of every optimizer (same seed; optimizers draw their random numbers on the CPU,
   so the paths agree up to float rounding). Relative differences are reported and checked
   against ``--tol`` (1e-3).

``--small`` swaps the generator for a 64 px DCGAN with random weights (d = 64), the distance
for pixel MSE, the budget for 120 images, k for 8 (blocks of 4) and the map for 11 x 11; with
``--device cpu`` the agreement step
compares the CPU with itself (the code path only). The exit status is 1 when a check fails.

JSON schema (``gpu_check.json``): ``{"device", "device_name", "torch", "small", "seconds",
"failures": [str], "steps": {"tests": {"rc", "summary", "seconds", "files"}, "evolve": [{"optimizer",
"generations", "codes_per_gen", "optimizer_ms_per_gen", "optimizer_ms_max", "model_ms_per_gen",
"run_seconds", "best_score"}], "hessian": {"dim", "distance", "full": {"seconds", "n_hvp",
"backend", "top"}, "full_other_route" (cuda): {"backend", "seconds", "eig_rel_err", "overlap_min",
"overlap_mean"}, "top_k": [{"method", "seconds", "n_hvp", "eig_rel_err", "overlap_min",
"overlap_mean"}]},
"map": {"n", "seconds", "n_images", "max", "min"}, "batched": {"runs", "budget", "images",
"sequential_seconds", "batched_seconds", "sequential_images_per_s", "batched_images_per_s", "speedup",
"max_score_difference", "threads"}, "cma": [{"optimizer", "dim", "codes_per_gen", "generations", "mean_ms", "median_ms",
"max_ms"}], "agreement": {"other_device", "hvp_rel",
"small_hessian_rel", "map_rel", "optimizers": {name: rel}}}}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import hessian as hessian_bench  # noqa: E402  (benchmarks/hessian.py: the fc6 generator, LPIPS, the anchor)

from geometry.hessian import MetricHVP, hessian  # noqa: E402
from landscape import optim  # noqa: E402
from landscape.generators import Generator, tanh_to_unit  # noqa: E402
from landscape.units import CNNUnit  # noqa: E402


# ------------------------------------------------------------------------------ models
SMALL_DIM = 64


def build_distance(name: str, device: str):
    """``benchmarks/hessian.py``'s distance, its random trunk seeded (a CPU and a device copy agree)."""
    torch.manual_seed(2)
    return hessian_bench.make_distance(name, device)


def build_generator(small: bool, device: str) -> tuple[Generator, torch.Tensor]:
    """The fc6-shaped generator (or a small DCGAN) and a code to work around, on ``device``.

    Deterministic: two calls give the same weights, so a CPU and a device copy can be compared.
    """
    if not small:
        return hessian_bench.make_generator("fc6", device)
    from landscape.models.dcgan import DCGANGenerator

    torch.manual_seed(0)
    net = DCGANGenerator(nz=SMALL_DIM, ngf=16)
    G = Generator(net, dim=SMALL_DIM, name="dcgan64 (random weights)", image_size=64, postprocess=tanh_to_unit,
                  code_shape=(SMALL_DIM, 1, 1)).to(device)
    return G, G.sample(1, seed=0, device=device)[0]


def build_unit(device: str) -> CNNUnit:
    """An AlexNet-shaped unit (random weights): conv5 (``features.10``), channel 10, centre."""
    from geometry.trunks import AlexNet

    torch.manual_seed(1)
    net = AlexNet().eval().to(device)
    for p in net.parameters():
        p.requires_grad_(False)
    return CNNUnit(net, "features.10", 10)


def sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    sync(device)
    t = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - t


# ------------------------------------------------------------------------------ steps
def step_tests(args) -> dict:
    if not args.device.startswith("cuda"):
        return {"rc": None, "summary": "not run: --device is not cuda", "seconds": 0.0, "files": []}
    # only the files that hold CUDA tests: collecting the whole suite would need every test dependency
    files = sorted(str(f.relative_to(REPO)) for f in (REPO / "tests").rglob("test_*.py")
                   if "pytest.mark.cuda" in f.read_text())
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "cuda", "--device", "cuda", "-p", "no:cacheprovider", *files]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=args.tests_timeout)
        lines = [ln for ln in (p.stdout + p.stderr).strip().splitlines() if ln.strip()]
        rc, summary = p.returncode, (lines[-1] if lines else "")
        if rc != 0:
            print("\n".join(lines[-40:]), file=sys.stderr)
    except subprocess.TimeoutExpired:
        rc, summary = -1, f"timed out after {args.tests_timeout} s"
    return {"rc": rc, "summary": summary, "seconds": time.perf_counter() - t, "files": files}


def run_optimizer(name: str, G: Generator, unit: CNNUnit, budget: int, device: str, seed: int = 0) -> dict:
    opt = optim.make(name, G.dim, seed=seed, device=device)
    opt_s, model_s, gens, n_codes, best = [], [], 0, 0, -math.inf
    evaluations = 0
    start = time.perf_counter()
    while evaluations < budget:
        codes, t_ask = timed(device, opt.ask)
        with torch.no_grad():
            scores, t_model = timed(device, lambda: unit(G(codes)))
        _, t_tell = timed(device, lambda: opt.tell(codes, scores))
        opt_s.append(t_ask + t_tell)
        model_s.append(t_model)
        evaluations += int(codes.shape[0])
        n_codes = int(codes.shape[0])
        best = max(best, float(scores.max()))
        gens += 1
    ms = np.asarray(opt_s) * 1e3
    return {"optimizer": name, "generations": gens, "codes_per_gen": n_codes, "optimizer_ms_per_gen": float(ms.mean()),
            "optimizer_ms_max": float(ms.max()), "model_ms_per_gen": float(np.mean(model_s) * 1e3),
            "run_seconds": time.perf_counter() - start, "best_score": best}


def step_evolve(args, G, unit) -> list[dict]:
    with torch.no_grad():  # warm-up: kernels, cuDNN choices, allocator
        unit(G(G.sample(40, seed=1, device=args.device)))
    rows = []
    for name in optim.names():
        rows.append(run_optimizer(name, G, unit, args.budget, args.device))
        r = rows[-1]
        print(f"  evolve {name:>10s}: optimizer {r['optimizer_ms_per_gen']:7.2f} ms/gen, generator+network "
              f"{r['model_ms_per_gen']:7.2f} ms/gen, run {r['run_seconds']:.2f} s", file=sys.stderr, flush=True)
    return rows


def agreement(w, V, ref_w, ref_V) -> dict:
    k = min(len(w), len(ref_w))
    rel = float(np.max(np.abs(w[:k] - ref_w[:k]) / np.abs(ref_w[:k])))
    ov = np.abs(np.sum(V[:, :k] * ref_V[:, :k], axis=0))
    return {"eig_rel_err": rel, "overlap_min": float(ov.min()), "overlap_mean": float(ov.mean())}


def step_hessian(args, G, z) -> dict:
    D = build_distance(args.distance, args.device)
    d = z.numel()
    MetricHVP(G, z, D, chunk_size=2).matmat(torch.eye(d, device=args.device)[:2])  # warm-up
    full, t_full = timed(args.device, lambda: hessian(G, z, D, "full"))
    out: dict[str, Any] = {"dim": d, "distance": args.distance,
           "full": {"seconds": t_full, "n_hvp": full.n_hvp, "backend": full.backend,
                    "top": full.eigvals[:5].tolist()}, "top_k": []}
    print(f"  hessian full (d={d}, {full.backend}): {t_full:.2f} s", file=sys.stderr, flush=True)
    if args.device.startswith("cuda"):
        out["full_other_route"] = other_full_route(args, G, z, D, full)
    k = args.k
    ref_w, ref_V = full.eigvals[:k], full.eigvecs[:, :k]
    runs = [("full (top k of the above)", lambda: (full.eigvals[:k], full.eigvecs[:, :k], full.n_hvp), t_full)]
    # small sizes: blocks of 4, so that block Lanczos runs rather than the complete matrix
    block = 4 if args.small else None
    for method in ("block", "lanczos", "fd"):
        runs.append((method, lambda m=method: _top_k(G, z, D, m, k, block), None))
    runs.append(("anchor lanczos (one double backward per vector)",
                 lambda: hessian_bench.anchor_lanczos(G, z, D, k, maxiter=ARPACK_MAXITER), None))
    for label, fn, given in runs:
        try:
            (w, V, n), t = timed(args.device, fn)
        except Exception as e:  # e.g. ARPACK out of iterations: record it, keep the other rows
            out["top_k"].append({"method": label, "error": f"{type(e).__name__}: {str(e)[:300]}"})
            print(f"  top-{k} {label}: failed: {type(e).__name__}: {str(e)[:200]}", file=sys.stderr, flush=True)
            continue
        row = {"method": label, "seconds": given if given is not None else t, "n_hvp": int(n),
               **agreement(np.asarray(w), np.asarray(V), ref_w, ref_V)}
        out["top_k"].append(row)
        print(f"  top-{k} {label}: {row['seconds']:.2f} s, {n} products, eigval rel err {row['eig_rel_err']:.1e}, "
              f"overlap min {row['overlap_min']:.4f}", file=sys.stderr, flush=True)
    return out


def other_full_route(args, G, z, D, full) -> dict:
    """The full matrix by the route ``"full"`` did not take (HVPs or the Jacobian), for comparison."""
    import geometry.hessian as gh

    limit = gh.JACOBIAN_BYTES
    try:
        if full.backend == "jacobian":
            alt, t = timed(args.device, lambda: hessian(G, z, D, "full", backend="func"))
        else:
            gh.JACOBIAN_BYTES = int(args.jacobian_gb * (1 << 30))
            alt, t = timed(args.device, lambda: hessian(G, z, D, "full"))
    except Exception as e:  # e.g. out of memory for the Jacobian
        return {"error": f"{type(e).__name__}: {str(e)[:300]}"}
    finally:
        gh.JACOBIAN_BYTES = limit
    row = {"backend": alt.backend, "seconds": t, **agreement(alt.eigvals, alt.eigvecs, full.eigvals[:100],
                                                              full.eigvecs[:, :100])}
    print(f"  hessian full by {alt.backend}: {t:.2f} s", file=sys.stderr, flush=True)
    return row


#: ARPACK restarts allowed (each about k new products): bounds the Lanczos rows' time if they cannot converge
ARPACK_MAXITER = 30


def _top_k(G, z, D, method: str, k: int, block: int | None):
    # finite differences carry ~1e-4 relative noise: ARPACK's default 1e-8 would never be reached
    kw = {"block": {"block_size": block}, "lanczos": {"maxiter": ARPACK_MAXITER},
          "fd": {"maxiter": ARPACK_MAXITER, "tol": 1e-4}}[method]
    r = hessian(G, z, D, method, k=k, **{key: v for key, v in kw.items() if v is not None})
    return r.eigvals, r.eigvecs, r.n_hvp


def step_map(args, G, unit, z) -> dict:
    from landscape.maps import sphere_map
    from landscape.maps.axes import random_axes

    axes = random_axes(G.dim, 3, seed=0)
    radius = float(z.norm())
    tm, t = timed(args.device, lambda: sphere_map(G, unit, axes, radius, n=args.map_n, progress=False))
    v = np.asarray(tm.values)
    return {"n": args.map_n, "seconds": t, "n_images": int(tm.meta["n_images"]), "max": float(v.max()),
            "min": float(v.min())}


def step_batched(args, G, unit) -> dict:
    """N runs one after another (``evolve``) and together (``evolve_many``): images per second.

    The two ways and the folder comparison are ``benchmarks/batched.py``'s; the runs here are
    this check's generator and units of its unit's layer, optimizers alternating CMA-ES and the GA."""
    import shutil
    import tempfile

    from batched import batched, images, largest_difference, sequential

    from landscape.runs import RunSpec

    def specs(out: Path, budget: int) -> list:
        return [RunSpec(CNNUnit(unit.model, unit.layer, (7 * k + 3) % unit.n_channels),
                        optim.make("cma" if k % 2 == 0 else "ga", G.dim, seed=k, device=args.device), budget,
                        out / f"run{k:02d}", seed=k) for k in range(args.batched_runs)]

    tmp = Path(tempfile.mkdtemp(prefix="gpu_check_batched_"))
    try:
        sequential(G, specs(tmp / "warm_seq", 2 * 40))  # kernels, allocator, cuDNN choices
        batched(G, specs(tmp / "warm_bat", 2 * 40))
        _, t_seq = timed(args.device, lambda: sequential(G, specs(tmp / "seq", args.batched_budget)))
        _, t_bat = timed(args.device, lambda: batched(G, specs(tmp / "bat", args.batched_budget)))
        n_seq, n_bat = images(tmp / "seq"), images(tmp / "bat")
        if n_seq != n_bat:
            raise RuntimeError(f"batched runs recorded {n_bat} images, sequential {n_seq}")
        diff = largest_difference(tmp / "seq", tmp / "bat", keys=("scores",))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"runs": args.batched_runs, "budget": args.batched_budget, "images": n_seq,
           "sequential_seconds": t_seq, "batched_seconds": t_bat, "sequential_images_per_s": n_seq / t_seq,
           "batched_images_per_s": n_bat / t_bat, "speedup": t_seq / t_bat, "max_score_difference": diff,
           "threads": torch.get_num_threads()}
    print(f"  batched: {out['runs']} runs x {out['budget']} images: sequential {out['sequential_images_per_s']:.0f} "
          f"img/s, batched {out['batched_images_per_s']:.0f} img/s ({out['speedup']:.2f}x); largest score "
          f"difference {diff:.2e}", file=sys.stderr, flush=True)
    return out


def step_cma(args) -> list[dict]:
    """CMA-ES ask + tell at d = 4096, 40 codes per generation, beside pycma in the same process."""
    from optimizers import ask_tell_times  # benchmarks/optimizers.py's measurement

    dim = SMALL_DIM if args.small else 4096
    rows = []
    for name in ("cma", "pycma"):
        opt = optim.make(name, dim, seed=0, device=args.device, population=40)
        wall, _, n_codes = ask_tell_times(opt, args.cma_generations, args.device)
        ms = np.asarray(wall) * 1e3
        rows.append({"optimizer": name, "dim": dim, "codes_per_gen": n_codes, "generations": len(ms),
                     "mean_ms": float(np.mean(ms)), "median_ms": float(np.median(ms)), "max_ms": float(np.max(ms))})
        print(f"  cma step: {name:>6s} d={dim} mean {rows[-1]['mean_ms']:.2f} ms/gen", file=sys.stderr, flush=True)
    return rows


def _rel(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    a = torch.as_tensor(np.asarray(a.detach().cpu() if torch.is_tensor(a) else a), dtype=torch.float64)
    b = torch.as_tensor(np.asarray(b.detach().cpu() if torch.is_tensor(b) else b), dtype=torch.float64)
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


def step_agreement(args, G, unit, z) -> dict:
    """The device results against the CPU's, on copies built with the same seeds."""
    from landscape.maps import sphere_map
    from landscape.maps.axes import random_axes

    other = "cpu"
    G_cpu, z_cpu = build_generator(args.small, other)
    unit_cpu = build_unit(other)
    out: dict[str, Any] = {"other_device": other}
    D_dev = build_distance(args.distance, args.device)
    D_cpu = build_distance(args.distance, other)
    V = torch.randn(4, G.dim, generator=torch.Generator().manual_seed(3))
    hv_dev = MetricHVP(G, z, D_dev).matmat(V.to(args.device))
    hv_cpu = MetricHVP(G_cpu, z_cpu, D_cpu).matmat(V)
    out["hvp_rel"] = _rel(hv_dev, hv_cpu)
    Gs_dev, zs_dev = build_generator(True, args.device)
    Gs_cpu, zs_cpu = build_generator(True, other)
    h_dev = hessian(Gs_dev, zs_dev, "mse", "full", return_matrix=True)
    h_cpu = hessian(Gs_cpu, zs_cpu, "mse", "full", return_matrix=True)
    out["small_hessian_rel"] = _rel(h_dev.matrix, h_cpu.matrix)
    axes, radius = random_axes(G.dim, 3, seed=1), float(z_cpu.norm())
    m_dev = sphere_map(G, unit, axes, radius, n=9, progress=False)
    m_cpu = sphere_map(G_cpu, unit_cpu, axes, radius, n=9, progress=False)
    out["map_rel"] = _rel(m_dev.values, m_cpu.values)
    target = torch.randn(G.dim, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    out["optimizers"] = {}
    for name in optim.names():
        paths = []
        for dev in (args.device, other):
            opt = optim.make(name, G.dim, seed=5, device=dev)
            codes_seen = []
            for _ in range(10):
                codes = opt.ask()
                codes_seen.append(codes.detach().cpu().double())
                opt.tell(codes, -((codes.detach().cpu().double() - target) ** 2).sum(1))  # same scores on both
            paths.append(torch.cat(codes_seen))
        out["optimizers"][name] = _rel(paths[0], paths[1])
    return out


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--small", action="store_true", help="small sizes (a 64 px DCGAN, d = 64); for CPU checks")
    ap.add_argument("--out", type=Path, required=True, help="folder for gpu_check.json")
    ap.add_argument("--budget", type=int, default=None, help="images per evolution (3000; small: 120)")
    ap.add_argument("--k", type=int, default=None, help="top-k eigenpairs (100; small: 8)")
    ap.add_argument("--map-n", type=int, default=None, help="sphere map grid (21; small: 11)")
    ap.add_argument("--distance", default=None, choices=["lpips-alex", "mse"],
                    help="the metric's image distance (lpips-alex; small: mse)")
    ap.add_argument("--tol", type=float, default=1e-3, help="largest relative CPU/device difference accepted")
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["tests", "evolve", "hessian", "map", "batched", "cma", "agreement"])
    ap.add_argument("--batched-runs", type=int, default=None, help="runs in the batched step (16; small: 4)")
    ap.add_argument("--batched-budget", type=int, default=None, help="images per batched-step run (400; small: 60)")
    ap.add_argument("--cma-generations", type=int, default=None, help="generations in the cma step (150; small: 20)")
    ap.add_argument("--tests-timeout", type=int, default=300)
    ap.add_argument("--jacobian-gb", type=float, default=24.0,
                    help="cuda: memory allowed for the Jacobian route of the full Hessian when timing it")
    args = ap.parse_args(argv)
    args.budget = args.budget or (120 if args.small else 3000)
    args.k = args.k or (8 if args.small else 100)
    args.map_n = args.map_n or (11 if args.small else 21)
    args.distance = args.distance or ("mse" if args.small else "lpips-alex")
    args.batched_runs = args.batched_runs or (4 if args.small else 16)
    args.batched_budget = args.batched_budget or (60 if args.small else 400)
    args.cma_generations = args.cma_generations or (20 if args.small else 150)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but torch sees no CUDA device (torch.cuda.is_available() is False)")
    if not args.device.startswith("cuda") and args.device != "cpu":
        raise SystemExit(f"--device must be cpu or cuda[:i], got {args.device!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    name = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else \
        f"CPU ({torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f})"
    print(f"torch {torch.__version__}, device {args.device}: {name}", file=sys.stderr, flush=True)
    result: dict[str, Any] = {"device": args.device, "device_name": name, "torch": torch.__version__,
                              "small": args.small, "steps": {}, "failures": []}
    path = args.out / "gpu_check.json"

    def save() -> None:
        path.write_text(json.dumps(result, indent=1))

    start = time.perf_counter()
    G, z = build_generator(args.small, args.device)
    unit = build_unit(args.device)
    steps = [("tests", lambda: step_tests(args)), ("evolve", lambda: step_evolve(args, G, unit)),
             ("hessian", lambda: step_hessian(args, G, z)), ("map", lambda: step_map(args, G, unit, z)),
             ("batched", lambda: step_batched(args, G, unit)), ("cma", lambda: step_cma(args)),
             ("agreement", lambda: step_agreement(args, G, unit, z))]
    for key, fn in steps:
        if key in args.skip:
            continue
        t = time.perf_counter()
        try:
            result["steps"][key] = fn()
        except Exception as e:  # one broken step must not hide the others' figures
            result["steps"][key] = {"error": f"{type(e).__name__}: {e}"}
            result["failures"].append(f"{key}: {type(e).__name__}: {e}")
        print(f"[{key}] {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
        save()
    check(result, args.tol)
    result["seconds"] = time.perf_counter() - start
    save()
    print(report(result))
    print(f"\nwritten: {path}")
    return 1 if result["failures"] else 0


def check(result: dict, tol: float) -> None:
    """Add a failure for every check that did not pass."""
    s, fail = result["steps"], result["failures"]
    tests = s.get("tests", {})
    if tests.get("rc") not in (None, 0):
        fail.append(f"tests: pytest -m cuda exited {tests.get('rc')}: {tests.get('summary')}")
    b = s.get("batched", {})
    if result["device"] == "cpu" and b.get("threads") == 1 and b.get("max_score_difference", 0) != 0:
        fail.append(f"batched: runs made together differ from runs made alone by {b['max_score_difference']:.2e} "
                    "on a CPU with one thread (they must be equal)")
    ag = s.get("agreement", {})
    for key in ("hvp_rel", "small_hessian_rel", "map_rel"):
        if key in ag and not ag[key] <= tol:
            fail.append(f"agreement: {key} = {ag[key]:.2e} > {tol:g}")
    for name, rel in ag.get("optimizers", {}).items():
        if not rel <= tol:
            fail.append(f"agreement: optimizer {name} codes differ by {rel:.2e} > {tol:g} after 10 generations")


def report(result: dict) -> str:
    s = result["steps"]
    lines = [f"\nGPU check on {result['device_name']} (torch {result['torch']}{', small sizes' if result['small'] else ''})"]
    if "tests" in s:
        lines.append(f"\ntests (pytest -m cuda): {s['tests'].get('summary', s['tests'].get('error'))}")
    if isinstance(s.get("evolve"), list):
        lines.append("\n| optimizer | gens | codes/gen | optimizer ms/gen | max | generator+network ms/gen | run s |"
                     "\n|---|---|---|---|---|---|---|")
        for r in s["evolve"]:
            lines.append(f"| {r['optimizer']} | {r['generations']} | {r['codes_per_gen']} | {r['optimizer_ms_per_gen']:.2f} "
                         f"| {r['optimizer_ms_max']:.1f} | {r['model_ms_per_gen']:.2f} | {r['run_seconds']:.2f} |")
    h = s.get("hessian", {})
    if "full" in h:
        lines.append(f"\nHessian (d = {h['dim']}, {h['distance']}): full {h['full']['seconds']:.2f} s "
                     f"({h['full']['backend']}, {h['full']['n_hvp']} products, with eigendecomposition)")
        alt = h.get("full_other_route")
        if alt:
            lines.append(f"  the other route: {alt.get('backend', '')} {alt['seconds']:.2f} s, top-100 eigval rel err "
                         f"{alt['eig_rel_err']:.1e}" if "seconds" in alt else f"  the other route failed: {alt['error']}")
        lines.append("\n| top-k method | s | products | eigval rel err | overlap min | overlap mean |\n|---|---|---|---|---|---|")
        for r in h["top_k"]:
            if "error" in r:
                lines.append(f"| {r['method']} | failed: {r['error'][:80]} | | | | |")
                continue
            lines.append(f"| {r['method']} | {r['seconds']:.2f} | {r['n_hvp']} | {r['eig_rel_err']:.1e} | "
                         f"{r['overlap_min']:.4f} | {r['overlap_mean']:.4f} |")
    m = s.get("map", {})
    if "seconds" in m:
        lines.append(f"\nsphere map {m['n']} x {m['n']}: {m['seconds']:.2f} s for {m['n_images']} images")
    b = s.get("batched", {})
    if "speedup" in b:
        lines.append(f"\nbatched evolution, {b['runs']} runs x {b['budget']} images: one after another "
                     f"{b['sequential_images_per_s']:.0f} img/s, together {b['batched_images_per_s']:.0f} img/s "
                     f"({b['speedup']:.2f}x); largest score difference {b['max_score_difference']:.1e}")
    if isinstance(s.get("cma"), list):
        rows = {r["optimizer"]: r for r in s["cma"]}
        lines.append("\n| CMA-ES, 40 codes/gen | d | gens | mean ms/gen | median | max |\n|---|---|---|---|---|---|")
        for r in s["cma"]:
            lines.append(f"| {r['optimizer']} | {r['dim']} | {r['generations']} | {r['mean_ms']:.2f} | "
                         f"{r['median_ms']:.2f} | {r['max_ms']:.1f} |")
        if "cma" in rows and "pycma" in rows:
            lines.append(f"pycma / cma: {rows['pycma']['mean_ms'] / rows['cma']['mean_ms']:.1f}x")
    ag = s.get("agreement", {})
    if "hvp_rel" in ag:
        lines.append(f"\nagreement with {ag['other_device']} (max relative difference): HVPs {ag['hvp_rel']:.1e}, "
                     f"small full Hessian {ag['small_hessian_rel']:.1e}, map {ag['map_rel']:.1e}, optimizers "
                     + ", ".join(f"{k} {v:.1e}" for k, v in ag["optimizers"].items()))
    for key, step in s.items():
        if isinstance(step, dict) and "error" in step:
            lines.append(f"\n[{key}] failed: {step['error']}")
    lines.append("\nchecks: " + ("all passed" if not result["failures"] else "FAILED:\n  " + "\n  ".join(result["failures"])))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
