"""``landscape verify RUN [RUN ...]``: check run folders against their sha256 manifests."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check run folders against their sha256 manifests (every committed file)")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s)")
    p.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    import warnings

    from ..record import DamagedRun, Run, RunError, UnmanifestedRunWarning, read_manifest

    bad = 0
    for path in args.runs:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnmanifestedRunWarning)
            try:
                run = Run.load(path, verify=True)
            except DamagedRun as e:
                bad += 1
                print(f"DAMAGED {path}: " + "; ".join(f"{f}: {what}" for f, what in e.problems))
                continue
        if any(issubclass(w.category, UnmanifestedRunWarning) for w in caught):
            print(f"UNCHECKED {path}: written before manifests ({run.n_generations} generations; resume it once "
                  "to add one)")
            continue
        m = read_manifest(path)
        n_files = sum(len(e["files"]) for e in m.entries) if m else 0
        print(f"OK {path}: {run.n_generations} committed generations; all {n_files} recorded digests match")
    if bad:
        # exit 1 (the input was readable, the check failed), as sha256sum -c exits on a mismatch
        raise RunError(f"{bad} of {len(args.runs)} run folders are damaged (listed above)")
    return 0
