"""Speed of the topological signature and the Morse analysis against the bare gudhi call.

For each domain (a plane; a full sphere: seam joined, both poles), each size and each map,
three things are timed alternately in the same process, so that load from other processes
hits them alike (median of ``--repeats``):

* bare gudhi: ``gudhi.CubicalComplex(top_dimensional_cells=-f).persistence()`` on the same
  array (the peer);
* the signature: ``TopologySignature().fit`` (contour counts at 21 levels, H0/H1/H2 diagrams,
  Betti and Euler curves, significant peaks, all summaries);
* the Morse analysis: ``MorseAnalysis().fit`` (smoothing at sigma = 1 pixel, critical points,
  merge tree);
* for information, the part of the signature that counts level-set curves
  (``count_level_sets`` at the same 21 levels, in ``landscape/topology/contours.py``).

Targets (issue #17): plane signature <= 1.5 x bare; sphere signature <= 2 x bare; Morse
analysis <= 2 x bare on both. ``--before`` also times the implementations of before issue
#17, kept as slow references in ``tests/topology/reference_topology.py`` (gudhi's SimplexTree
for glued spheres, the pure-Python merge tree), swapped in for the same calls.

Run: ``python benchmarks/topology.py [--sizes 101 201 301] [--repeats 7] [--before]``
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

TARGETS = {("plane", "signature"): 1.5, ("sphere", "signature"): 2.0, ("plane", "morse"): 2.0,
           ("sphere", "morse"): 2.0}


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


def _seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@contextmanager
def _before() -> Iterator[None]:
    """Swap in the implementations of before issue #17 (tests/topology/reference_topology.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "topology"))
    import reference_topology as ref

    # the package exports a function named `signature`, so fetch the modules themselves
    morse = importlib.import_module("landscape.topology.morse")
    signature = importlib.import_module("landscape.topology.signature")

    saved = signature.superlevel_diagrams, morse._merge_tree
    signature.superlevel_diagrams = lambda field, connectivity: ref.reference_diagrams(field, connectivity)
    morse._merge_tree = ref._merge_tree
    try:
        yield
    finally:
        signature.superlevel_diagrams, morse._merge_tree = saved


def main() -> None:
    import gudhi
    import scipy

    from landscape.topology import MorseAnalysis, TopologySignature, as_field, count_level_sets
    from landscape.topology.contours import level_values

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sizes", type=int, nargs="+", default=[101, 201, 301])
    ap.add_argument("--domains", nargs="+", default=["plane", "sphere"], choices=["plane", "sphere"])
    ap.add_argument("--before", action="store_true",
                    help="also time the implementations of before issue #17 (slow: seconds per sphere map)")
    ap.add_argument("--before-repeats", type=int, default=3)
    args = ap.parse_args()

    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"gudhi {gudhi.__version__}, {os.cpu_count()} CPUs, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print(f"load average at start (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"median of {args.repeats} alternating repeats; ratios are to the bare gudhi call on the same array")
    head = (f"{'domain':7s} {'size':>4s} {'map':18s} {'bare gudhi':>10s} {'signature':>10s} {'ratio':>6s} "
            f"{'target':>6s} {'Morse':>8s} {'ratio':>6s} {'target':>6s} {'contours':>8s} {'ratio':>6s}")
    if args.before:
        head += f" | {'sig. before':>11s} {'ratio':>6s} {'Morse before':>12s} {'ratio':>6s}"
    print(head + "   (ms)")
    missed = 0
    for domain in args.domains:
        for size in args.sizes:
            # a full sphere: longitudes cover the circle (seam joined), latitudes -90 ... 90 (poles)
            kw = {"domain": "sphere", "theta_deg": np.arange(size) * 360.0 / size} if domain == "sphere" else {}
            for name, f in _maps(size).items():
                def bare() -> None:
                    gudhi.CubicalComplex(top_dimensional_cells=-f).persistence()

                def sig() -> None:
                    TopologySignature(**kw).fit(f)

                def morse() -> None:
                    MorseAnalysis(**kw).fit(f)

                field = as_field(f, **kw)
                levels = level_values(field, 21)

                def contours() -> None:
                    count_level_sets(field, levels)

                for fn in (bare, sig, morse, contours):  # warm imports and caches
                    fn()
                times = np.array([[_seconds(fn) for fn in (bare, sig, morse, contours)] for _ in range(args.repeats)])
                b, s, m, c = 1e3 * np.median(times, axis=0)
                ts, tm = TARGETS[(domain, "signature")], TARGETS[(domain, "morse")]
                ok = s / b <= ts and m / b <= tm
                missed += not ok
                row = (f"{domain:7s} {size:4d} {name:18s} {b:10.1f} {s:10.1f} {s / b:6.2f} {'<=' + str(ts):>6s} "
                       f"{m:8.1f} {m / b:6.2f} {'<=' + str(tm):>6s} {c:8.1f} {c / b:6.2f}")
                if args.before:
                    with _before():
                        old = np.array([[_seconds(fn) for fn in (bare, sig, morse)]
                                        for _ in range(args.before_repeats)])
                    ob, os_, om = 1e3 * np.median(old, axis=0)
                    row += f" | {os_:11.1f} {os_ / ob:6.2f} {om:12.1f} {om / ob:6.2f}"
                print(row + ("" if ok else "   MISSED"), flush=True)
    print(f"load average at end (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("all targets met" if not missed else f"{missed} rows missed a target")


if __name__ == "__main__":
    main()
