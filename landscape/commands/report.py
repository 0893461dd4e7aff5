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

    path = build_report(args.run_dir, maps=args.maps, out=args.out)
    print(f"report written to {path}")
    return 0
