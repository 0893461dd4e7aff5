"""The project's contour convention beside the published recipe, on real tuning maps.

Evolves resnet20 ``layer3`` units through the DigiFace DCGAN (CMA-ES, 600 images), maps each on
a 21 x 21 sphere through the run's PCs, and prints both conventions of
:class:`landscape.topology.ContourSignature` (``"project"`` and ``"reference"``): loop and line
AUCs, the isolation level and on how many of the 21 levels the loop or line counts differ.

    python benchmarks/contour_conventions.py [--channels 5 20 40] [--budget 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared_weights import use_shared_weights  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels", type=int, nargs="+", default=[5, 20, 40])
    ap.add_argument("--budget", type=int, default=600)
    args = ap.parse_args()
    use_shared_weights()
    os.environ.setdefault("LANDSCAPE_OFFLINE", "1")
    torch.set_num_threads(1)

    from landscape import optim, zoo
    from landscape.maps import map_from_run
    from landscape.runs import evolve
    from landscape.topology import ContourSignature
    from landscape.units import CNNUnit

    G, M = zoo.load("digiface-dcgan64"), zoo.load("resnet20-cifar10")
    print("| unit | loops AUC project / reference | lines AUC | isolation level | levels whose counts differ |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for ch in args.channels:
            unit = CNNUnit(M, "layer3", ch)
            run = evolve(G, unit, optim.make("cma", G.dim, seed=0), args.budget, out=Path(tmp) / str(ch), seed=0,
                         progress=False)
            tm = map_from_run(run, G, unit, axes="pc", grid="sphere:21", progress=False)
            p, r = ContourSignature().fit(tm), ContourSignature(convention="reference").fit(tm.values)
            diff = int(np.sum((p.loops_ != r.loops_) | (p.lines_ != r.lines_)))
            print(f"| layer3:{ch} | {p.loops_auc_:.3f} / {r.loops_auc_:.3f} | {p.lines_auc_:.3f} / {r.lines_auc_:.3f} "
                  f"| {p.isolation_level_:.2f} / {r.isolation_level_:.2f} | {diff} / {p.levels_.size} |")


if __name__ == "__main__":
    main()
