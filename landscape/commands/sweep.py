"""``landscape sweep SPEC.toml --out DIR [--scheduler ADDRESS]``: many evolutions on Dask."""

from __future__ import annotations

import argparse

from .checks import positive_int


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
    p.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes of the local cluster (default: the spec's sweep.workers, else the cores)")
    p.add_argument("--serial", action="store_true", help="run the tasks one by one in this process, without Dask")
    p.add_argument("--batch", type=positive_int, default=None, metavar="N",
                   help="most evolutions of one generator, model and layer that one worker call advances together "
                        "(one generator call and one network pass per generation for all of them; default 16; "
                        "1 runs each on its own). Results do not depend on it")
    p.add_argument("--dashboard-address", default="127.0.0.1:8787",
                   help="where a local cluster serves the Dask dashboard (default: %(default)s, this machine only; "
                        "':0' any free port; 0.0.0.0:8787 to let other machines reach it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..sweep import sweep
    from ..sweep.engine import BATCH_RUNS
    from ..sweep.spec import load_spec
    from . import checks

    if args.serial and args.scheduler:
        raise ValueError("--serial runs without Dask; it cannot be combined with --scheduler")
    checks.check_input_file(args.spec, "SPEC", (".toml",))
    spec = load_spec(args.spec)  # the structure; sweep() then checks every task against the zoo before Dask starts
    folder = args.out if args.out is not None else spec.out
    if folder is None:
        raise ValueError("no output folder: pass --out DIR or set sweep.out in the spec")
    checks.check_out_folder(folder, "--out" if args.out is not None else "sweep.out")
    if not args.serial and args.scheduler is None:
        check_dashboard_address(args.dashboard_address)
    if args.scheduler is not None:
        checks.check_scheduler(args.scheduler)
    # a failed task raises SweepError after the tables are written: the CLI reports it in one line, exit 1
    sweep(spec, args.scheduler, out=folder, workers=args.workers, serial=args.serial,
          dashboard_address=args.dashboard_address, batch=BATCH_RUNS if args.batch is None else args.batch)
    return 0


def check_dashboard_address(address: str) -> None:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` with 0 <= PORT < 65536."""
    import re

    m = re.match(r"^(?:([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:]+\])?:)?(\d+)$", str(address).strip())
    if not m or int(m.group(2)) > 65535:
        raise ValueError(f"--dashboard-address {address!r} is not an address (valid: HOST:PORT, :PORT or PORT, "
                         "e.g. 127.0.0.1:8787 or :0 for any free port)")
