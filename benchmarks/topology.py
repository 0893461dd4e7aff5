"""Speed of the topological signature against the bare gudhi persistence call it wraps.

The full signature (contour counts at 21 levels, H0/H1 diagrams, Betti and Euler curves,
significant peaks, all summaries) of a 201 x 201 map, against
``gudhi.CubicalComplex(top_dimensional_cells=-f).persistence()`` on the same map, timed
alternately in the same process. Target: signature <= 1.5 x bare gudhi.

Extra rows (information, no target): the same on a sphere map whose seam is joined (gudhi's
simplex tree instead of the cubical complex), and the Morse analysis.

Run: ``python benchmarks/topology.py [--repeats 15] [--size 201]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _maps(size: int) -> dict[str, np.ndarray]:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    y, x = np.mgrid[-1:1:complex(0, size), -1:1:complex(0, size)]
    bumps = np.exp(-((x - 0.3) ** 2 + y ** 2) / 0.1) + 0.7 * np.exp(-((x + 0.4) ** 2 + (y - 0.3) ** 2) / 0.05)
    return {
        # an interpolated in vivo map: smooth (the paper's spline gives 181 x 181)
        "smooth two peaks": gaussian_filter(bumps + 0.02 * rng.standard_normal(x.shape), 3),
        # the same with pixel noise left in: thousands of small peaks and rings
        "two peaks + noise": bumps + 0.02 * rng.standard_normal(x.shape),
        "white noise": rng.standard_normal(x.shape),
    }


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main() -> None:
    import gudhi

    from landscape.topology import MorseAnalysis, TopologySignature

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--size", type=int, default=201)
    args = ap.parse_args()

    def bare(f: np.ndarray) -> None:
        gudhi.CubicalComplex(top_dimensional_cells=-f).persistence()

    print(f"{args.size} x {args.size} map, median of {args.repeats} alternating repeats, gudhi {gudhi.__version__}")
    print(f"{'map':22s} {'bare gudhi (ms)':>16s} {'signature (ms)':>15s} {'ratio':>7s} {'target':>7s}")
    for name, f in _maps(args.size).items():
        TopologySignature().fit(f)  # warm caches and imports
        bare(f)
        tb, ts = [], []
        for _ in range(args.repeats):  # alternate so load changes hit both equally
            tb.append(_median_ms(lambda: bare(f), 1))
            ts.append(_median_ms(lambda: TopologySignature().fit(f), 1))
        b, s = float(np.median(tb)), float(np.median(ts))
        print(f"{name:22s} {b:16.1f} {s:15.1f} {s / b:7.2f} {'<= 1.5':>7s}  {'ok' if s / b <= 1.5 else 'MISSED'}")

    f = _maps(args.size)["smooth two peaks"]
    theta = np.arange(args.size) * 360.0 / args.size
    print("")
    print("information, no target:")
    b = _median_ms(lambda: bare(f), 5)
    s = _median_ms(lambda: TopologySignature(domain="sphere", theta_deg=theta).fit(f), 3)
    print(f"{'sphere, seam joined':22s} {b:16.1f} {s:15.1f} {s / b:7.2f}   (simplex tree of the glued sphere)")
    m = _median_ms(lambda: MorseAnalysis().fit(f), 3)
    print(f"{'Morse analysis':22s} {b:16.1f} {m:15.1f} {m / b:7.2f}   (critical points + merge tree)")


if __name__ == "__main__":
    main()
