"""Speed of a 21 x 21 sphere map against the pure generator + unit forward rate (the limit).

Target: the map's rendered images per second >= 90% of the rate of a bare loop of
``unit(generator(codes[i:i + batch]))`` over the same 441 codes in the same batches.
Runs alternate (limit, map, limit, map, ...) so that load from other processes hits both
alike; the table shows medians. A sphere map renders 401 distinct images for its 441 grid
points (each pole row is one image), so it also reports grid points per second.

    python benchmarks/maps.py [--device cuda] [--batch-size 64] [--repeats 7]

Needs the digiface DCGAN (``pip install --no-deps gan-face-generate==1.1.1``) and the
CIFAR-10 ResNet-20 weights in the model cache (``LANDSCAPE_HOME``; the repository's tests use
``../shared/weights``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from shared_weights import use_shared_weights


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--layer", default="layer3")
    ap.add_argument("--channel", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    use_shared_weights()

    from landscape import zoo
    from landscape.maps import random_axes, sphere_angles, sphere_codes, sphere_map
    from landscape.units import CNNUnit

    dev = torch.device(args.device)
    gen = zoo.load("digiface-dcgan64", device=dev)
    unit = CNNUnit(zoo.load("resnet20-cifar10", device=dev), args.layer, args.channel)
    axes = random_axes(gen.dim, 3, seed=0)
    radius = float(np.sqrt(gen.dim))  # the prior's typical norm
    theta, phi = sphere_angles(21)
    codes = torch.as_tensor(sphere_codes(theta, phi, axes, radius).reshape(-1, gen.dim), dtype=torch.float32,
                            device=dev)
    bs = args.batch_size

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    @torch.no_grad()
    def limit() -> float:
        sync()
        t0 = time.perf_counter()
        out = [unit(gen(codes[i:i + bs])) for i in range(0, codes.shape[0], bs)]
        torch.cat(out).cpu()
        sync()
        return time.perf_counter() - t0

    def mapping(progress: bool) -> float:
        sync()
        t0 = time.perf_counter()
        tm = sphere_map(gen, unit, axes, radius, n=21, batch_size=bs, progress=progress)
        sync()
        dt = time.perf_counter() - t0
        assert tm.meta["n_images"] == 401
        return dt

    limit(), mapping(False)  # warm-up: allocator, kernels, lazy imports
    t_lim, t_map, t_bar = [], [], []
    for _ in range(args.repeats):
        t_lim.append(limit())
        t_map.append(mapping(False))
        t_bar.append(mapping(True))
    lim, mp, bar = (statistics.median(t) for t in (t_lim, t_map, t_bar))
    n = codes.shape[0]
    rate_lim = n / lim
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"21 x 21 sphere map, digiface-dcgan64 -> resnet20-cifar10 {args.layer}:{args.channel}, "
          f"batch {bs}, {name}, median of {args.repeats}")
    print(f"{'what':<34}{'seconds':>9}{'images/s':>10}{'points/s':>10}{'vs limit':>10}")
    print(f"{'limit: bare gen+unit, 441 images':<34}{lim:>9.4f}{rate_lim:>10.1f}{n / lim:>10.1f}{1.0:>10.2f}")
    for label, t in (("sphere_map, 401 images", mp), ("sphere_map + tqdm bar", bar)):
        print(f"{label:<34}{t:>9.4f}{401 / t:>10.1f}{n / t:>10.1f}{(401 / t) / rate_lim:>10.2f}")
    ok = (401 / mp) / rate_lim >= 0.9
    print(f"target images/s >= 90% of the limit: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
