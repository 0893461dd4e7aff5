"""Relative activation, by its definition and by its reference set.

Evolves units of the CIFAR-10 ResNet-20 (``layer3``) through the DigiFace DCGAN with XDream's
GA and with CMA-ES, noise-free and with Poisson noise calibrated as XDream's figure 6 (the best
of 100 prior images fires ``--spikes`` spikes on average), and prints, per reference set:

* XDream's relative activation (:func:`landscape.measures.relative_activation`: the last
  generation's best image by observed score, its clean response, over the best reference);
* ``best_clean_ever`` over the best reference (the oracle this project used to call relative
  activation);

as the median (and range) over units, per optimizer and noise condition; then how much the
magnitude changes between sets (per run, the ratio of the relative activations against two
sets is the ratio of their best reference scores).

    python benchmarks/relative_activation.py [--channels 5 12 20 33 40 57] [--budget 2000] [--seed 0]
        [--sets skimage cifar cifar+imagenet+photos photo-crops:1000] [--json out.json]

Needs the DigiFace DCGAN (``pip install --no-deps gan-face-generate==1.1.1``), foolbox's sample
images (``pip install --no-deps foolbox==3.3.4``) and the CIFAR-10 ResNet weights in the model
cache (``LANDSCAPE_HOME``; ../shared/weights is used when present).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared_weights import use_shared_weights  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="resnet20-cifar10")
    ap.add_argument("--layer", default="layer3")
    ap.add_argument("--channels", type=int, nargs="+", default=[5, 12, 20, 33, 40, 57])
    ap.add_argument("--optimizers", nargs="+", default=["ga", "cma"])
    ap.add_argument("--budget", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spikes", type=float, default=10.0, help="expected spikes of the best of 100 prior images")
    ap.add_argument("--sets", nargs="+", default=["skimage", "cifar", "cifar+imagenet+photos", "photo-crops:1000"])
    ap.add_argument("--json", default=None, help="write every run's numbers here")
    args = ap.parse_args()
    use_shared_weights()
    os.environ.setdefault("LANDSCAPE_OFFLINE", "1")
    torch.set_num_threads(1)

    from landscape import optim, zoo
    from landscape.measures import relative_activation_of_run
    from landscape.references import load_reference_set, reference_scores
    from landscape.runs import evolve
    from landscape.units import CNNUnit, calibrated_poisson

    G = zoo.load("digiface-dcgan64", device="cpu")
    model = zoo.load(args.model, device="cpu")
    sets = {s: load_reference_set(s, size=32) for s in args.sets}
    records = []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for ch in args.channels:
            clean_unit = CNNUnit(model, args.layer, ch)
            ref = {s: reference_scores(clean_unit, rs.images) for s, rs in sets.items()}
            for noise in ("none", f"poisson-spikes:{args.spikes:g}"):
                for name in args.optimizers:
                    unit = clean_unit if noise == "none" else calibrated_poisson(clean_unit, G, args.spikes,
                                                                                 seed=args.seed + 1)
                    opt = optim.make(name, G.dim, seed=args.seed)
                    run = evolve(G, unit, opt, args.budget, out=Path(tmp) / f"{ch}_{noise}_{name}", seed=args.seed,
                                 progress=False)
                    rec = {"channel": ch, "noise": noise, "optimizer": name}
                    for s in sets:
                        ra = relative_activation_of_run(run, ref[s])
                        rec[s] = {"relative_activation": ra.value, "best_clean_ever_over_reference":
                                  ra.best_clean_ever_over_reference, "best_reference_score": ra.best_reference_score,
                                  "optimized_response": ra.response, "best_clean_ever": ra.best_clean_ever}
                    records.append(rec)
                    print(f"  {args.layer}:{ch} {noise:18s} {name:4s} optimized {rec[args.sets[0]]['optimized_response']:.3g} "
                          f"best_clean_ever {rec[args.sets[0]]['best_clean_ever']:.3g} ({time.time() - t0:.0f} s)",
                          flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "records": records}, indent=1))

    print(f"\n{args.model} {args.layer} channels {args.channels}, digiface DCGAN, budget {args.budget}, seed {args.seed}; "
          f"median (min-max) over {len(args.channels)} units\n")
    print("| reference set | images | optimizer | noise | relative activation (XDream) | best_clean_ever / best reference |")
    print("|---|---|---|---|---|---|")

    def cell(v: np.ndarray) -> str:
        return f"{np.median(v):.2f} ({v.min():.2f}-{v.max():.2f})"

    for s, rs in sets.items():
        for noise in ("none", f"poisson-spikes:{args.spikes:g}"):
            for name in args.optimizers:
                rows = [r for r in records if r["noise"] == noise and r["optimizer"] == name]
                xd = np.array([r[s]["relative_activation"] for r in rows])
                oc = np.array([r[s]["best_clean_ever_over_reference"] for r in rows])
                print(f"| {s} | {rs.n} | {name} | {noise} | {cell(xd)} | {cell(oc)} |")
    base = args.sets[0]
    print(f"\nmagnitude against {base!r} over magnitude against each set (per unit: ratio of best reference scores):")
    for s in args.sets[1:]:
        r = np.array([records[i][s]["best_reference_score"] / records[i][base]["best_reference_score"]
                      for i in range(0, len(records), 2 * len(args.optimizers))])
        print(f"  {base} / {s}: median {np.median(r):.2f} (range {r.min():.2f}-{r.max():.2f})")


if __name__ == "__main__":
    main()
