"""``landscape sweep SPEC.toml --out DIR [--scheduler ADDRESS]``: many evolutions on Dask."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="run a sweep of evolutions (units x optimizers x seeds x noise) on Dask",
                       description="Run every task of a sweep spec on a Dask cluster and write one table: "
                                   "DIR/table.parquet (+ .csv), DIR/summary.csv and DIR/summary.html. Re-running "
                                   "the same spec skips finished tasks and resumes partial ones.")
    p.add_argument("spec", help="sweep spec (TOML); see examples/sweep_small.toml")
    p.add_argument("--out", default=None, help="sweep folder (default: the spec's sweep.out)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                        "(default: start a local cluster)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the local cluster (default: the spec's sweep.workers, else the cores)")
    p.add_argument("--serial", action="store_true", help="run the tasks one by one in this process, without Dask")
    p.add_argument("--dashboard-address", default="127.0.0.1:8787",
                   help="where a local cluster serves the Dask dashboard (default: %(default)s, this machine only; "
                        "':0' any free port; 0.0.0.0:8787 to let other machines reach it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..sweep import SweepError, sweep

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.serial and args.scheduler:
        raise ValueError("--serial runs without Dask; it cannot be combined with --scheduler")
    try:
        sweep(args.spec, args.scheduler, out=args.out, workers=args.workers, serial=args.serial,
              dashboard_address=args.dashboard_address)
    except SweepError as e:
        print(f"landscape sweep: {e}")
        return 1
    return 0
