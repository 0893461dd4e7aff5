"""Time of a full grating set on a ResNet-20 unit: one batched pass against per-image calls.

The set is OrientationTuning's default grid at 32 px: 12 orientations x 8 frequencies x
4 phases = 384 gratings. Compared in the same run, alternating so that load from other
processes hits every mode alike (medians over ``--repeats``):

* ``one pass``     - all 384 images in one call (what ``OrientationTuning.fit`` does);
* ``chunks of 64`` - 6 calls of 64 (CNNUnit's default batch size);
* ``per image``    - 384 calls of one image (a loop over stimuli, the peer);

plus ``fit total``: the whole ``OrientationTuning().fit(unit)`` (drawing the stimuli, the one
pass with the grey baseline, and the von Mises fit; the unit is noise-free, so no bootstrap).

    python benchmarks/characterise.py [--device cuda] [--layer layer1.2] [--repeats 7]

Needs the CIFAR-10 ResNet-20 weights in the model cache (``LANDSCAPE_HOME``; the repository's
tests use ``../shared/weights``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from shared_weights import use_shared_weights


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--layer", default="layer1.2")
    ap.add_argument("--channel", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    use_shared_weights()

    from landscape import zoo
    from landscape.characterise import OrientationTuning
    from landscape.units import CNNUnit

    dev = torch.device(args.device)
    model = zoo.load("resnet20-cifar10", device=dev)
    unit = CNNUnit(model, args.layer, args.channel, batch_size=512)
    analysis = OrientationTuning(size=32)
    images, params = analysis.stimuli(dev)
    n = images.shape[0]

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    @torch.no_grad()
    def one_pass():
        return unit(images)

    @torch.no_grad()
    def chunks():
        return torch.cat([unit(images[i:i + 64]) for i in range(0, n, 64)])

    @torch.no_grad()
    def per_image():
        return torch.cat([unit(images[i:i + 1]) for i in range(n)])

    def fit_total():
        return OrientationTuning(size=32).fit(unit)

    modes = {"one pass": one_pass, "chunks of 64": chunks, "per image": per_image, "fit total": fit_total}
    calls = {"one pass": 1, "chunks of 64": -(-n // 64), "per image": n, "fit total": 1}
    ref = one_pass()
    assert torch.allclose(per_image(), ref, atol=1e-4, rtol=1e-4), "per-image and batched responses differ"
    for f in modes.values():  # warm-up
        f()
    times: dict[str, list[float]] = {k: [] for k in modes}
    for _ in range(args.repeats):
        for name, f in modes.items():
            sync()
            t = time.perf_counter()
            f()
            sync()
            times[name].append(time.perf_counter() - t)

    base = statistics.median(times["per image"])
    print(f"ResNet-20 {args.layer} channel {args.channel}, {n} gratings "
          f"({params.shape[0]} orientations x {params.shape[1]} frequencies x {params.shape[2]} phases), "
          f"32 px, device {dev}, torch threads {torch.get_num_threads()}, median of {args.repeats}")
    print(f"{'mode':<14}{'calls':>7}{'total ms':>11}{'ms/image':>10}{'vs per image':>14}")
    for name in modes:
        med = statistics.median(times[name])
        print(f"{name:<14}{calls[name]:>7}{1e3 * med:>11.1f}{1e3 * med / n:>10.3f}{base / med:>13.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
