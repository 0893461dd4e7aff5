"""Benchmark: the generator metric's Hessian, this project's methods beside the anchor's.

For each generator x distance it times, in one process on one device:

* ``full``            geometry.hessian(method="full"): 2 Jᵀ W J from batched jvps where the distance is a
                      quadratic form (mse, LPIPS), else batched HVPs (torch.func vmap of jvp-of-grad)
* ``lanczos``         geometry.hessian(method="lanczos", k): ARPACK on exact HVPs
* ``block``           geometry.hessian(method="block", k): block Lanczos on batched exact HVPs
* ``fd``              geometry.hessian(method="fd"): central differences of batched gradients
* ``anchor-lanczos``  GAN-Geometry's approach: one retained-graph double-backward HVP per ARPACK matvec
* ``anchor-full``     GAN-Geometry's "BP": the full matrix one double-backward pass per column

and reports wall and CPU seconds, HVPs, ms per HVP and agreement with ``full`` (eigenvalue
relative error over the top 50, correlation of the matrices' entries, and the mean overlap
|v_i . v_i_full| of the top eigenvectors). Where a full Hessian is out of the time budget
(``--budget quick`` for d > 512, meant for a CPU) the full-matrix rows (full, fd, anchor-full)
time a slice of the HVPs and extrapolate to all d, marked ``est`` (``--skip-full`` leaves them
out), the Lanczos and block rows find ``--quick-k`` eigenpairs, and agreement is measured
against ``lanczos``.

Generators: ``digiface`` (digiface-dcgan64 from the zoo, real weights, d = 100) and ``fc6``
(the DeePSiM fc6 architecture with random weights, d = 4096, 256x256). Distances: ``mse``
and ``lpips-alex`` (LPIPS over an AlexNet trunk with random weights - the same cost as the
calibrated metric, whose trunk weights cannot be downloaded here; v0.1 linear weights when
found in $LANDSCAPE_HOME/lpips-v0.1).

``--anisotropy N`` also computes the full metric at N random codes of digiface and of its
weight-shuffled control and prints their anisotropy and homogeneity.

Usage::

    python benchmarks/hessian.py                      # CPU, quick budget (a few minutes)
    python benchmarks/hessian.py --generators fc6 --quick-k 50 --skip-full   # top-50 at d = 4096
    python benchmarks/hessian.py --device cuda --budget full
    python benchmarks/hessian.py --generators digiface --anisotropy 8
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if "LANDSCAPE_HOME" not in os.environ and (REPO.parent / "shared" / "weights").is_dir():
    os.environ["LANDSCAPE_HOME"] = str(REPO.parent / "shared" / "weights")

from geometry.distances import LPIPS, PixelMSE  # noqa: E402
from geometry.hessian import FiniteDifferenceHVP, MetricHVP, hessian  # noqa: E402


# ------------------------------------------------------------------------------ anchor
def anchor_hvp(G, z, D):
    """GAN-Geometry's GANHVPOperator: gradient graph built once, one double-backward per vector."""
    ref = G(z[None]).detach()
    dz = torch.zeros_like(z[None]).requires_grad_(True)
    dist = D(ref, G(z[None] + dz)).sum()
    (g,) = torch.autograd.grad(dist, dz, create_graph=True)
    g = g.view(-1)

    def apply(v: torch.Tensor) -> torch.Tensor:
        return torch.autograd.grad(g, dz, grad_outputs=v.view(-1), retain_graph=True)[0].view(-1)

    return g, dz, apply


def anchor_lanczos(G, z, D, k, maxiter=None):
    from scipy.sparse.linalg import LinearOperator, eigsh

    _, _, apply = anchor_hvp(G, z, D)
    count = [0]

    def matvec(v):
        count[0] += 1
        t = torch.from_numpy(np.asarray(v, dtype=np.float32).reshape(-1)).to(z.device)
        return apply(t).detach().double().cpu().numpy()

    A = LinearOperator((z.numel(), z.numel()), matvec=matvec, dtype=np.float64)
    w, V = eigsh(A, k=k, which="LM", tol=1e-6, maxiter=maxiter)  # the anchor's settings
    order = np.argsort(w)[::-1]
    return w[order], V[:, order], count[0]


def anchor_full(G, z, D, n_cols=None):
    """Column-by-column Hessian (get_full_hessian); ``n_cols`` limits the columns for timing."""
    g, dz, _ = anchor_hvp(G, z, D)
    d = z.numel()
    cols = d if n_cols is None else min(n_cols, d)
    H = torch.zeros(cols, d, dtype=torch.float64)
    for i in range(cols):
        H[i] = torch.autograd.grad(g[i], dz, retain_graph=True)[0].view(-1).double().cpu()
    return H.numpy(), cols


# ------------------------------------------------------------------------------ setup
def make_generator(name: str, device: str):
    from landscape import zoo
    from landscape.generators import Generator, caffe_bgr_to_unit

    if name == "digiface":
        G = zoo.load("digiface-dcgan64", device=device)
        return G, G.sample(1, seed=0, device=device)[0]
    if name == "fc6":
        g = torch.Generator().manual_seed(0)
        z = torch.randn(4096, generator=g).clamp_min(0) * 3.0
        net = scaled_random_deepsim(z)
        G = Generator(net, dim=4096, name="deepsim-fc6 (random weights)", image_size=256,
                      postprocess=caffe_bgr_to_unit).to(device)
        return G, z.to(device)
    raise SystemExit(f"unknown generator {name!r}; valid: digiface, fc6")


@torch.no_grad()
def scaled_random_deepsim(z: torch.Tensor, out_std: float = 40.0):
    """DeePSiM fc6 with random weights rescaled layer by layer (on code ``z``) so activations keep
    unit scale and the output varies by ``out_std`` on Caffe's 0-255 scale: with PyTorch's default
    initialisation the signal vanishes and every image is one flat colour (a degenerate metric)."""
    from landscape.models.deepsim import DeePSiMGenerator

    torch.manual_seed(0)
    net = DeePSiMGenerator(4096).eval()
    layers = [m for m in net.G if isinstance(m, (torch.nn.Linear, torch.nn.ConvTranspose2d))]
    for i, layer in enumerate(layers):
        if layer.bias is not None:
            layer.bias.zero_()
        out = {}
        h = layer.register_forward_hook(lambda m, a, o: out.setdefault("o", o))
        net(z[None])
        h.remove()
        layer.weight.mul_((out_std if i == len(layers) - 1 else 1.0) / out["o"].std())
    return net


def make_distance(name: str, device: str):
    if name == "mse":
        return PixelMSE()
    if name == "lpips-alex":
        try:
            return LPIPS("alex", trunk_weights="random", lin_weights="v0.1", device=device)
        except FileNotFoundError:
            print("  (v0.1 linear weights not found: lpips-alex runs uncalibrated; same cost)")
            return LPIPS("alex", trunk_weights="random", lin_weights=None, device=device)
    raise SystemExit(f"unknown distance {name!r}; valid: mse, lpips-alex")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


class Timer:
    def __init__(self, device: str) -> None:
        self.device = device

    def __enter__(self):
        sync(self.device)
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        sync(self.device)
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c


def agreement(w, V, M, ref_w, ref_V, ref_M, top=50):
    k = min(top, len(w), len(ref_w))
    rel = float(np.max(np.abs(w[:k] - ref_w[:k]) / np.abs(ref_w[:k])))
    overlaps = np.abs(np.sum(V[:, :k] * ref_V[:, :k], axis=0))
    corr = float(np.corrcoef(M.ravel(), ref_M.ravel())[0, 1]) if M is not None and ref_M is not None else None
    return rel, corr, float(overlaps.mean()), float(overlaps.min())


# ------------------------------------------------------------------------------ runs
def bench_pair(gname, dname, args, rows):
    device = args.device
    G, z = make_generator(gname, device)
    D = make_distance(dname, device)
    d = z.numel()
    quick_big = args.budget == "quick" and d > 512
    k = min(args.quick_k if quick_big else args.k, d - 1)
    print(f"\n== {gname} (d={d}) x {dname} on {device}" + (" [quick budget: full matrices extrapolated]"
                                                          if quick_big else ""), flush=True)

    def row(method, t, n_hvp, est=False, agree=(None, None, None, None), ref="full"):
        r = dict(generator=gname, d=d, distance=dname, method=method, wall_s=t.wall, cpu_s=t.cpu, n_hvp=n_hvp,
                 ms_per_hvp=1e3 * t.wall / max(n_hvp, 1), estimated=est, eig_rel_err=agree[0],
                 matrix_corr=agree[1], eigvec_overlap=agree[2], eigvec_overlap_min=agree[3], reference=ref,
                 load_average=os.getloadavg()[0])
        rows.append(r)
        print(fmt_row(r), flush=True)

    # warm-up so one-time costs (torch.func set-up, kernel caches) are not charged to a method
    with torch.no_grad():
        D(G(z[None]), G(z[None]))
    MetricHVP(G, z, D, chunk_size=2).matmat(torch.eye(d, device=device)[:2])
    torch.func.jvp(lambda c: G(c[None]), (z,), (z,))  # forward mode (the Jacobian route of "full")

    ref = None
    if not quick_big:
        with Timer(device) as t:
            full = hessian(G, z, D, "full", return_matrix=True, chunk_size=args.chunk)
        ref = (full.eigvals, full.eigvecs, full.matrix)
        row(f"full ({full.backend}, chunk {args.chunk or 'auto'})", t, full.n_hvp, agree=(0.0, 1.0, 1.0, 1.0))
    elif not args.skip_full:
        n = args.quick_hvps
        op = MetricHVP(G, z, D, chunk_size=args.chunk or n)
        with Timer(device) as t:
            op.matmat(torch.eye(d, device=device)[:n])
        t.wall, t.cpu = t.wall * d / n, t.cpu * d / n
        row(f"full ({op.backend}, chunk {op.chunk_size})", t, d, est=True)

    with Timer(device) as t:
        lz = hessian(G, z, D, "lanczos", k=k)
    lz_M = (lz.eigvecs * lz.eigvals) @ lz.eigvecs.T
    if ref is None:
        ref = (lz.eigvals, lz.eigvecs, None)
        row(f"lanczos k={k} ({lz.backend})", t, lz.n_hvp, agree=(0.0, None, 1.0, 1.0), ref="lanczos")
    else:
        row(f"lanczos k={k} ({lz.backend})", t, lz.n_hvp, agree=agreement(lz.eigvals, lz.eigvecs, lz_M, *ref))

    with Timer(device) as t:
        bl = hessian(G, z, D, "block", k=k, chunk_size=args.chunk, block_size=args.block)
    bl_M = (bl.eigvecs * bl.eigvals) @ bl.eigvecs.T if ref[2] is not None else None
    label = f"block k={k} ({bl.meta['strategy']}, {bl.backend}, block {bl.meta.get('block_size', '-')})"
    row(label, t, bl.n_hvp, agree=agreement(bl.eigvals, bl.eigvecs, bl_M, *ref),
        ref="full" if ref[2] is not None else "lanczos")

    if quick_big and args.skip_full:
        pass
    elif quick_big:
        n = args.quick_hvps
        op = FiniteDifferenceHVP(G, z, D, chunk_size=args.chunk or n)
        with Timer(device) as t:
            op.matmat(torch.eye(d, device=device)[:n])
        t.wall, t.cpu = t.wall * d / n, t.cpu * d / n
        row(f"fd rel_step={op.rel_step:g} (chunk {op.chunk_size})", t, d, est=True)
    else:
        for step in args.fd_steps:
            with Timer(device) as t:
                fd = hessian(G, z, D, "fd", rel_step=step, return_matrix=True, chunk_size=args.chunk)
            row(f"fd rel_step={step:g}", t, fd.n_hvp, agree=agreement(fd.eigvals, fd.eigvecs, fd.matrix, *ref))

    with Timer(device) as t:
        aw, aV, n = anchor_lanczos(G, z, D, k)
    aM = (aV * aw) @ aV.T
    row(f"anchor-lanczos k={k}", t, n, agree=agreement(aw, aV, aM if ref[2] is not None else None, *ref),
        ref="full" if ref[2] is not None else "lanczos")

    if args.repeats > 1:
        side_by_side(G, z, D, k, args, rows, gname, dname)

    if quick_big and args.skip_full:
        return
    cols = None if not quick_big else args.anchor_cols
    with Timer(device) as t:
        H, done = anchor_full(G, z, D, cols)
    if done < d:
        t.wall, t.cpu = t.wall * d / done, t.cpu * d / done
        row("anchor-full (column loop)", t, d, est=True)
    else:
        H = (H + H.T) / 2
        w, V = np.linalg.eigh(H)
        row("anchor-full (column loop)", t, d, agree=agreement(w[::-1], V[:, ::-1], H, *ref))


def side_by_side(G, z, D, k, args, rows, gname, dname):
    """Block and anchor-Lanczos timed ``--repeats`` times, alternating, so that a busy shared
    machine slows both alike; prints the medians and the median of the per-repeat ratios."""
    times = {"block": [], "anchor": []}
    for _ in range(args.repeats):
        with Timer(args.device) as t:
            hessian(G, z, D, "block", k=k, chunk_size=args.chunk, block_size=args.block)
        times["block"].append((t.wall, t.cpu))
        with Timer(args.device) as t:
            anchor_lanczos(G, z, D, k)
        times["anchor"].append((t.wall, t.cpu))
    b, a = np.asarray(times["block"]), np.asarray(times["anchor"])
    ratio_wall, ratio_cpu = a[:, 0] / b[:, 0], a[:, 1] / b[:, 1]
    rec = dict(generator=gname, d=z.numel(), distance=dname, method=f"side by side x{args.repeats}", k=k,
               block_wall_median=float(np.median(b[:, 0])), block_cpu_median=float(np.median(b[:, 1])),
               anchor_wall_median=float(np.median(a[:, 0])), anchor_cpu_median=float(np.median(a[:, 1])),
               ratio_wall_median=float(np.median(ratio_wall)), ratio_wall_range=[float(ratio_wall.min()),
                                                                                  float(ratio_wall.max())],
               ratio_cpu_median=float(np.median(ratio_cpu)), ratio_cpu_range=[float(ratio_cpu.min()),
                                                                               float(ratio_cpu.max())],
               threads=torch.get_num_threads(), load_average=os.getloadavg()[0])
    rows.append(rec)
    print(f"  side by side, {args.repeats} alternating repeats, {torch.get_num_threads()} thread(s): block k={k} "
          f"median {rec['block_wall_median']:.3f} s wall / {rec['block_cpu_median']:.3f} CPU-s, anchor-lanczos "
          f"{rec['anchor_wall_median']:.3f} / {rec['anchor_cpu_median']:.3f}; anchor/block "
          f"{rec['ratio_wall_median']:.2f}x wall [{ratio_wall.min():.2f}, {ratio_wall.max():.2f}], "
          f"{rec['ratio_cpu_median']:.2f}x CPU [{ratio_cpu.min():.2f}, {ratio_cpu.max():.2f}] "
          f"(load {rec['load_average']:.1f})", flush=True)


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def fmt_row(r):
    est = " est" if r["estimated"] else ""
    return (f"| {r['generator']} | {r['distance']} | {r['method']} | {r['wall_s']:.2f}{est} | {r['cpu_s']:.2f}{est} | "
            f"{r['n_hvp']} | {r['ms_per_hvp']:.1f} | {fmt(r['eig_rel_err'], '.1e')} | {fmt(r['matrix_corr'], '.6f')} | "
            f"{fmt(r['eigvec_overlap'], '.4f')} ({fmt(r.get('eigvec_overlap_min'), '.4f')}) |")


HEADER = ("| generator | distance | method | wall s | cpu s | HVPs | ms/HVP (wall) | top-k eigval rel err | "
          "matrix corr | eigvec overlap mean (min) |\n|---|---|---|---|---|---|---|---|---|---|")


def anisotropy_report(n, device, seed=0, save_dir=None):
    from landscape import zoo

    from geometry.control import shuffled_control
    from geometry.hessian import hessians
    from geometry.homogeneity import Homogeneity
    from geometry.spectrum import SpectrumStats

    G = zoo.load("digiface-dcgan64", device=device)
    codes = G.sample(n, seed=seed, device=device)
    out = {}
    for label, gen in (("digiface-dcgan64", G), ("weight-shuffled control", shuffled_control(G, seed=seed))):
        st = hessians(gen, codes, "mse", "full")
        if save_dir is not None:
            st.save(Path(save_dir) / f"hessians_{label.split()[0]}.npz")
        spec = SpectrumStats().fit(st.eigvals)
        hom = Homogeneity().fit(st)
        out[label] = {"spectrum": spec.summary(), "homogeneity": hom.summary_,
                      "seconds_per_hessian": float(np.mean(st.meta["seconds"]))}
    print(f"\n== anisotropy and homogeneity, pixel MSE, {n} codes ~ N(0, I) (same codes for both)")
    print("| generator | dims for 99% | 99.9% | 99.99% | effective rank | log corr (mean) | lin corr | "
          "entry corr | traceless cosine | top-10 subspace overlap | s / Hessian |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|")
    for label, r in out.items():
        s, h = r["spectrum"], r["homogeneity"]
        print(f"| {label} | {s['dims_0.99']['mean']:.1f} ({s['dims_0.99']['min']}-{s['dims_0.99']['max']}) | "
              f"{s['dims_0.999']['mean']:.1f} | {s['dims_0.9999']['mean']:.1f} | {s['effective_rank_mean']:.1f} | "
              f"{h['corr_log']['mean']:.3f} | {h['corr_lin']['mean']:.3f} | {h['entry_corr']['mean']:.3f} | "
              f"{h['traceless_cosine']['mean']:.3f} | "
              f"{h['subspace_overlap']['mean']:.3f} (chance {h['chance_subspace_overlap']:.2f}) | "
              f"{r['seconds_per_hessian']:.1f} |")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--generators", default="digiface,fc6")
    p.add_argument("--distances", default="mse,lpips-alex")
    p.add_argument("--budget", choices=["quick", "full"], default="quick",
                   help="quick: extrapolate full matrices for d > 512 (CPU); full: compute everything")
    p.add_argument("--k", type=int, default=50, help="eigenpairs for the Lanczos and block rows")
    p.add_argument("--quick-k", type=int, default=3,
                   help="eigenpairs for the Lanczos and block rows under the quick budget, d > 512")
    p.add_argument("--chunk", type=int, default=None, help="HVPs per batch (default: geometry's)")
    p.add_argument("--block", type=int, default=None, help="vectors per block of the block method (default: chunk)")
    p.add_argument("--quick-hvps", type=int, default=16, help="HVPs timed for an extrapolated full matrix")
    p.add_argument("--anchor-cols", type=int, default=4, help="columns timed for an extrapolated anchor-full")
    p.add_argument("--fd-steps", type=float, nargs="*", default=[1e-2, 1e-3])
    p.add_argument("--skip-full", action="store_true",
                   help="d > 512 under the quick budget: leave out the extrapolated full, fd and anchor-full rows")
    p.add_argument("--anisotropy", type=int, default=0, help="also report digiface anisotropy at N codes")
    p.add_argument("--save-dir", type=Path, default=None, help="keep the anisotropy Hessian stacks (.npz) here")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--repeats", type=int, default=1,
                   help="also time block and anchor-lanczos this many times, alternating (median ratio)")
    p.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but torch sees no CUDA device")
    dev = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU ({torch.get_num_threads()} threads)"
    print(f"torch {torch.__version__}, device {dev}")
    rows = []
    for g in args.generators.split(","):
        for dname in args.distances.split(","):
            bench_pair(g.strip(), dname.strip(), args, rows)
    print("\n" + HEADER)
    for r in rows:
        if "ratio_wall_median" not in r:  # the side-by-side records were printed as they came
            print(fmt_row(r))
    extra = anisotropy_report(args.anisotropy, args.device, save_dir=args.save_dir) if args.anisotropy else None
    if args.json:
        args.json.write_text(json.dumps({"device": dev, "rows": rows, "anisotropy": extra}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
