"""Run All of every teaching notebook on a machine kept busy by a second job: wall time per notebook
and time to its first picture.

Target (issue 14): every notebook's Run All under 60 s on the 2-core CPU while another process
keeps one core busy, and its first picture (an image, a plotly figure or a widget) within 5 s of
Run All. Each notebook runs in a fresh kernel (nbclient, this venv's Python) in a temporary folder,
exactly as committed: the notebook's own first cell (``landscape.notebook_setup``) picks the torch
threads. The peer in the same run is torch's default (``--peer-threads 2`` runs every notebook a
second time with 2 threads, one per core, and OpenMP's default spin-waiting, alternating with the
first so that load from other processes hits both alike).

    python benchmarks/notebooks.py [--solutions] [--only 01 05] [--busy 1] [--peer-threads 2]

Columns: ``kernel`` seconds to start the kernel (before Run All; JupyterLab starts it when the
notebook opens), ``run all`` from the first cell's start to the last cell's end, ``kernel CPU``
the kernel process's CPU seconds during Run All (with one thread this is about the wall time the
notebook takes when it has one core to itself, whatever else loads the machine), ``first picture``
from Run All to the arrival of the first output that is a picture (an image, a plotly figure, or
a widget other than a progress bar) and the kernel's CPU seconds by then, the slowest cell, and
the size of the executed notebook as nbclient saves it (outputs and widget state). The 1-minute
load average is printed before
and after: other processes on a shared machine count as load too.

Needs the digiface DCGAN and the CIFAR-10 ResNet-20 weights (``LANDSCAPE_HOME``; default
``../shared/weights`` beside the checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared_weights import use_shared_weights

REPO = Path(__file__).resolve().parents[1]
PICTURES = ("image/png", "application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json")
#: a widget that is only a progress bar is not a picture
PROGRESS_TEXT = ("%|", "it/s", "s/it")
TARGET_RUN_ALL_S = 60.0
TARGET_FIRST_PICTURE_S = 5.0


def _kernel_dir(tmp: Path) -> Path:
    """A Jupyter data folder whose python3 kernel is this interpreter (first on JUPYTER_PATH)."""
    spec = tmp / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (benchmark)", "language": "python"}))
    return tmp / "jupyter"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _is_picture(output: dict) -> bool:
    data = output.get("data", {})
    if not any(k in data for k in PICTURES):
        return False
    if set(data) & set(PICTURES) == {"application/vnd.jupyter.widget-view+json"}:
        text = data.get("text/plain", "")
        return not any(t in text for t in PROGRESS_TEXT)  # a tqdm bar's text repr shows its rate
    return True


def _client_class():
    from nbclient import NotebookClient

    class TimedClient(NotebookClient):
        """Records when each output arrives, so a picture shown early in a long cell counts then."""

        arrivals: list[tuple[float, dict]]

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is not None:
                self.arrivals.append((time.monotonic(), _cpu_seconds(self.km.provisioner.pid), out))
            return out

    return TimedClient


def run_notebook(path: Path, threads: str | None, default_wait: bool = False) -> dict:
    """Execute one notebook in a fresh kernel; timings in seconds."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nb-bench-") as work:
        # an explicit count goes to OMP_NUM_THREADS too, for kernels that never call notebook_setup;
        # the peer (default_wait) waits as OpenMP does by default, spinning (libgomp's documented
        # default spin count), as a kernel that never called notebook_setup would
        env_before = {k: os.environ.get(k) for k in ("LANDSCAPE_THREADS", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
        for k in env_before:
            os.environ.pop(k, None)
        if threads is not None:
            os.environ["LANDSCAPE_THREADS"] = os.environ["OMP_NUM_THREADS"] = threads
        if default_wait:
            os.environ["GOMP_SPINCOUNT"] = "300000"
        ends: dict[int, float] = {}
        client = _client_class()(nb, kernel_name="python3", timeout=900, startup_timeout=120, allow_errors=True,
                                 resources={"metadata": {"path": work}},
                                 on_cell_executed=lambda cell, cell_index, **_: ends.__setitem__(cell_index,
                                                                                                 time.monotonic()))
        client.arrivals = []
        t0 = time.monotonic()
        try:
            with client.setup_kernel():
                t_kernel = time.monotonic()
                pid = client.km.provisioner.pid
                cpu0 = _cpu_seconds(pid)
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
                t_end = time.monotonic()
                cpu = _cpu_seconds(pid) - cpu0
                client.set_widgets_metadata()  # what a saved notebook carries, as nbclient's execute() does
        finally:
            for k, v in env_before.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    errors = [(i, o.get("ename")) for i, c in code for o in c.outputs if o.output_type == "error"
              and "raises-exception" not in c.metadata.get("tags", [])]
    first, first_cpu = next(((t - t_kernel, c - cpu0) for t, c, out in client.arrivals if _is_picture(out)),
                            (float("nan"), float("nan")))
    starts = [t_kernel] + [ends[i] for i, _ in code[:-1]]
    durations = [(ends[i] - s, i) for (i, _), s in zip(code, starts)]
    slowest = max(durations)
    setup = next((o.get("text", "") for _, c in code[:1] for o in c.outputs if o.output_type == "stream"), "")
    threads_line = next((line for line in setup.splitlines() if line.startswith("torch CPU threads")), "?")
    saved_mb = len(nbformat.writes(nb).encode()) / 1e6  # as saved: outputs and widget state included
    return {"saved_mb": saved_mb, "kernel": t_kernel - t0, "run_all": t_end - t_kernel, "cpu": cpu,
            "first_picture": first,
            "first_picture_cpu": first_cpu,
            "cells": durations, "slowest": slowest, "errors": errors, "threads": threads_line}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--solutions", action="store_true", help="also run notebooks/solutions/*.ipynb")
    ap.add_argument("--only", nargs="*", default=None, help="notebook number prefixes, e.g. 01 05")
    ap.add_argument("--busy", type=int, default=1, help="busy-loop processes kept running (default 1)")
    ap.add_argument("--threads", default=None, help="LANDSCAPE_THREADS for the kernels (default: the notebook's "
                                                    "own automatic choice)")
    ap.add_argument("--peer-threads", default=None, help="also run each notebook with this LANDSCAPE_THREADS")
    ap.add_argument("--cells", action="store_true", help="also list each notebook's slowest cells")
    args = ap.parse_args()
    use_shared_weights()
    os.environ.setdefault("LANDSCAPE_OFFLINE", "1")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # let each notebook choose its own threads
        os.environ.pop(var, None)

    paths = sorted((REPO / "notebooks").glob("*.ipynb"))
    if args.solutions:
        paths += sorted((REPO / "notebooks" / "solutions").glob("*.ipynb"))
    if args.only:
        paths = [p for p in paths if any(p.name.startswith(k) for k in args.only)]
    if not paths:
        names = ", ".join(p.name for p in sorted((REPO / "notebooks").glob("*.ipynb")))
        print(f"no notebook matches {args.only}; notebooks: {names}")
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="nb-bench-kernel-"))
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(_kernel_dir(tmp)), os.environ.get("JUPYTER_PATH", "")])
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    print(f"{len(busy)} busy-loop process(es) running; load average before: {_load()} "
          f"({os.cpu_count()} cores); torch threads: {args.threads or 'the notebook chooses'}")
    rows = []
    try:
        for path in paths:
            configs = [(args.threads, False)] + ([(args.peer_threads, True)] if args.peer_threads else [])
            for threads, peer in configs:
                r = run_notebook(path, threads, default_wait=peer)
                r["name"] = str(path.relative_to(REPO / "notebooks"))
                r["config"] = (threads or "auto") + (", OpenMP default wait" if peer else "")
                rows.append(r)
                print(f"  {r['name']} [{r['config']}]: run all {r['run_all']:.1f} s, first picture "
                      f"{r['first_picture']:.1f} s, load {_load()}", flush=True)
    finally:
        for p in busy:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nload average after: {_load()}")
    head = ("| notebook | threads | kernel s | run all s | kernel CPU s | first picture s | (kernel CPU s) | "
            f"slowest cell (index: s) | saved MB | "
            f"< {TARGET_RUN_ALL_S:.0f} s | picture < {TARGET_FIRST_PICTURE_S:.0f} s |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        ok_run = "yes" if r["run_all"] < TARGET_RUN_ALL_S else "NO"
        ok_pic = "yes" if r["first_picture"] < TARGET_FIRST_PICTURE_S else "NO"
        threads = r["threads"].split(":", 1)[-1].strip().split(" ")[0] if r["threads"] != "?" else r["config"]
        print(f"| {r['name']} | {threads} ({r['config']}) | {r['kernel']:.1f} | {r['run_all']:.1f} | {r['cpu']:.1f} | "
              f"{r['first_picture']:.1f} | {r['first_picture_cpu']:.1f} | {r['slowest'][1]}: {r['slowest'][0]:.1f} | "
              f"{r['saved_mb']:.1f} | {ok_run} | {ok_pic} |")
        if r["errors"]:
            print(f"|   errors in {r['name']}: {r['errors']} |")
    if args.cells:
        for r in rows:
            slow = sorted(r["cells"], reverse=True)[:6]
            print(f"{r['name']} [{r['config']}] slowest cells: " + ", ".join(f"{i}: {t:.1f} s" for t, i in slow))
    failed = [r for r in rows if r["errors"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
