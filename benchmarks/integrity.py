"""What the run folder's integrity checks cost: commits and reads with the sha256 manifest vs. without.

Peer (same process, alternating rounds): a :class:`~landscape.record.RunRecord` whose ``seal`` writes no
manifest line (the commit otherwise identical), and a plain ``np.load`` of every generation file.

    OMP_NUM_THREADS=1 python benchmarks/integrity.py [--dim 4096] [--pop 40] [--generations 60]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from landscape.record import Run, RunRecord


class NoManifest(RunRecord):
    def seal(self, generation, paths):  # the peer: no digests, no manifest line
        self._digests.clear()


def commit_times(cls, out: Path, dim: int, pop: int, n: int, state_floats: int) -> list[float]:
    rec = cls(out)
    with rec.lock():
        rec.open(False)
        rec.begin({"generator": {}, "unit": {}, "optimizer": {}, "budget": n * pop, "seed": 0}, None)
        rec.write_meta()
        rng = torch.Generator().manual_seed(0)
        state = {"optimizer": {"population": torch.randn(state_floats, generator=rng)}, "unit": {}}
        times = []
        for g in range(n):
            codes = torch.randn(pop, dim, generator=rng)
            scores = torch.rand(pop, generator=rng, dtype=torch.float64)
            images = torch.rand(pop, 3, 64, 64, generator=rng)
            t0 = time.perf_counter()
            rec.commit(g, codes, scores, scores.clone(), 0.0, (g + 1) * pop, state, images=images)
            times.append(time.perf_counter() - t0)
        rec.close("complete", evaluations=n * pop)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=4096)
    ap.add_argument("--pop", type=int, default=40)
    ap.add_argument("--generations", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    state_floats = args.pop * args.dim  # a GA's population, roughly
    base = Path(tempfile.mkdtemp())
    res = {"manifest": [], "none": [], "load": [], "load_verify": [], "np_load": []}
    try:
        for r in range(args.rounds):
            for name, cls in (("manifest", RunRecord), ("none", NoManifest)):
                out = base / f"{name}{r}"
                res[name] += commit_times(cls, out, args.dim, args.pop, args.generations, state_floats)
            d = base / f"manifest{r}"
            for name, f in (("load", lambda: Run.load(d)), ("load_verify", lambda: Run.load(d, verify=True)),
                            ("np_load", lambda: [dict(np.load(p)) for p in sorted((d / "generations").glob("*.npz"))])):
                t0 = time.perf_counter()
                f()
                res[name].append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    med = {k: statistics.median(v) * 1e3 for k, v in res.items()}
    print(f"dim {args.dim}, population {args.pop}, {args.generations} generations, {args.rounds} rounds "
          f"(checkpoint {state_floats * 4 / 2**20:.1f} MiB)")
    print(f"{'what':44s} {'median ms':>10s} {'vs peer':>8s}")
    print(f"{'commit, with sha256 manifest line':44s} {med['manifest']:10.2f} {med['manifest'] / med['none']:8.2f}")
    print(f"{'commit, no manifest (peer)':44s} {med['none']:10.2f} {1.0:8.2f}")
    print(f"{'Run.load (generation digests, sizes)':44s} {med['load']:10.1f} {med['load'] / med['np_load']:8.2f}")
    print(f"{'Run.load(verify=True) (every file hashed)':44s} {med['load_verify']:10.1f} "
          f"{med['load_verify'] / med['np_load']:8.2f}")
    print(f"{'np.load of every generation file (peer)':44s} {med['np_load']:10.1f} {1.0:8.2f}")


if __name__ == "__main__":
    main()
