"""Does the white-box reference bound the gradient-free optimizers from above?

For units of the CIFAR-10 ResNets seen through the DigiFace DCGAN, runs
:class:`landscape.optim.gradient.GradientAscent` with plain prior starts (``init_pool=1``) and
with its default start pool (the best 8 of 128 prior samples), and GA and CMA-ES with their
defaults at 3000 images, and prints each unit's scores, the fraction of prior samples that leave
the unit silent, and the ratio of the best gradient-free score to each reference (a ratio above
1 means the "reference" was beaten, so it is no reference).

    python benchmarks/gradient_reference.py [--units resnet20-cifar10:layer3:5 ...] [--budget 3000]

Needs the DigiFace DCGAN (``pip install --no-deps gan-face-generate==1.1.1``) and the CIFAR-10
ResNet weights in the model cache (``LANDSCAPE_HOME``; ../shared/weights is used when present).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from shared_weights import use_shared_weights

UNITS = ["resnet20-cifar10:layer3:5", "resnet20-cifar10:layer2:3", "resnet32-cifar10:layer3:20",
         "resnet32-cifar10:linear:7", "resnet20-cifar10:layer3:0", "resnet20-cifar10:layer3:9"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", nargs="+", default=UNITS, help="MODEL:LAYER:CHANNEL (default: %(default)s)")
    ap.add_argument("--budget", type=int, default=3000, help="images per evolution (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    use_shared_weights()

    import torch

    from landscape import optim, zoo
    from landscape.optim.gradient import GradientAscent
    from landscape.runs import evolve
    from landscape.units import CNNUnit

    G = zoo.load("digiface-dcgan64")
    models: dict = {}
    out = Path(tempfile.mkdtemp(prefix="gradient-reference-"))
    print(f"digiface-dcgan64 (d = {G.dim}); GA and CMA-ES at {args.budget} images, seed {args.seed}; "
          f"{torch.get_num_threads()} threads")
    head = (f"{'unit':30s} {'silent':>6s} {'grad, plain':>11s} {'grad, pool':>10s} {'GA':>7s} {'CMA-ES':>7s} "
            f"{'best/plain':>10s} {'best/pool':>9s} {'s':>5s}")
    print(head)
    for spec in args.units:
        model_name, layer, channel = spec.rsplit(":", 2)
        net = models.setdefault(model_name, zoo.load(model_name))
        unit = CNNUnit(net, layer, int(channel))
        t0 = time.perf_counter()
        with torch.no_grad():
            silent = float((unit.clean(G(G.sample(256, seed=12345))) <= 0).float().mean())
        plain = GradientAscent(G, unit.clean, G.dim, seed=args.seed, init_pool=1).run()[1]
        pooled = GradientAscent(G, unit.clean, G.dim, seed=args.seed).run()[1]
        free = {}
        for name in ("ga", "cma"):
            run = evolve(G, unit, optim.make(name, G.dim, seed=args.seed), args.budget,
                         out=out / f"{spec.replace(':', '_')}_{name}", seed=args.seed, progress=False)
            free[name] = run.best_score
        best = max(free.values())
        print(f"{spec:30s} {silent:6.0%} {plain:11.3f} {pooled:10.3f} {free['ga']:7.3f} {free['cma']:7.3f} "
              f"{best / plain:10.2f} {best / pooled:9.2f} {time.perf_counter() - t0:5.0f}", flush=True)
    print("silent: fraction of 256 prior samples for which the unit reads <= 0")


if __name__ == "__main__":
    main()
