"""``landscape report RUN_DIR``: one standalone HTML page for people who would rather look than read."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a standalone HTML report of a run (scores, images, maps, topology)")
    p.add_argument("run_dir")
    p.add_argument("--map", dest="maps", action="append", default=None,
                   help="tuning map .npz to include (repeatable; default: maps found in the run folder)")
    p.add_argument("--out", default=None, help="HTML file (default: RUN_DIR/report.html)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report import build_report
    from . import checks

    checks.check_run_folder(args.run_dir)
    for m in args.maps or []:
        path = checks.check_input_file(m, "--map", (".npz",))
        if not path.with_suffix(".json").is_file():
            raise FileNotFoundError(f"--map {m}: a tuning map is an .npz with its .json header beside it, and "
                                    f"{path.with_suffix('.json')} does not exist")
        checks.read_npz_arrays(path, "--map")
    if args.out is not None:
        checks.check_out_file(args.out, "--out", ".html")
    path = build_report(args.run_dir, maps=args.maps, out=args.out)
    print(f"report written to {path}")
    return 0
