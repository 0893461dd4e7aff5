"""Fault injection for tests/live/test_live_faults.py (run as a script, not collected by pytest).

Runs one live experiment uninterrupted (REF) and the same experiment (KILLED) in processes
that are killed with SIGKILL at random moments and resumed, ``--kills`` times, then once more
to completion. A simulated rig in another process (started by the test) answers both.

Each experiment process is forked from this one, which has loaded the generator with torch
limited to one thread (no OpenMP worker threads exist to be lost in the fork): a new Python +
torch start costs seconds on a 2-core machine, a fork costs milliseconds, and the killed
process is still a separate process that dies with SIGKILL mid-whatever-it-was-doing.

Kill times are random, uniform over a window of a few generation-times after the process is
ready; the window adapts so that the killed run neither finishes before the last kill nor
stalls, and a process is killed early once it has written two more generations (or the
last but one). Prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import sys
import time
import traceback
from pathlib import Path

import torch  # noqa: F401  (imported once here, inherited by every forked experiment)

import landscape.live.experiment  # noqa: F401  (pyflakes: preloaded for the forked experiments)
from landscape import optim, zoo


def references(size: int = 64):
    """One fixed reference image: colour ramps."""
    ramp = torch.linspace(0, 1, size)
    a = torch.stack([ramp[None, :].expand(size, size), ramp[:, None].expand(size, size) * 0.5,
                     torch.full((size, size), 0.25)])
    return a[None]


def experiment(G, out: Path, args: argparse.Namespace, ready_fd: int) -> None:
    """Body of a forked experiment process."""
    from landscape.live.experiment import run_experiment

    opt = optim.make("ga", G.dim, population=args.population, seed=args.seed, nan_policy="worst")
    refs = references(G.image_size)
    try:
        os.write(ready_fd, b"r")
        os.close(ready_fd)
    except OSError:
        pass  # nobody is listening (the last, unkilled run)
    run_experiment(G, opt, args.budget, out, seed=args.seed, references=refs, repeats=2, channels="all",
                   missing="requeue", max_requeue=2, timeout=120, poll_interval=0.005, settle=0.0,
                   resume=(out / "meta.json").exists(), progress=False)


def spawn(G, out: Path, args: argparse.Namespace) -> tuple[int, int]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            experiment(G, out, args, w)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def wait_ready(fd: int, timeout: float) -> bool:
    ok = bool(select.select([fd], [], [], timeout)[0]) and os.read(fd, 1) == b"r"
    os.close(fd)
    return ok


def pace(ref: Path, default: float = 1.0) -> float:
    """Seconds per generation now (median of the reference run's last three), so that kills land
    inside the loop whatever the machine's load."""
    try:
        rows = (ref / "scores.csv").read_text().splitlines()[1:]
        walls = sorted(float(r.split(",")[-1]) for r in rows[-3:])
    except (OSError, ValueError, IndexError):
        walls = []
    return walls[len(walls) // 2] if walls else default


def phase(out: Path) -> str:
    """Where the killed run stood: no block yet, waiting for the rig, or past the rig's answer."""
    stim = out / "stimuli"
    manifests = sorted(stim.glob("block??????.json")) if stim.is_dir() else []
    if not manifests:
        return "before the first block"
    last = manifests[-1].stem
    if not any((out / "responses" / f"{last}{s}").exists() for s in (".csv", ".json", ".h5")):
        return "waiting for the rig"
    return "reading, committing or showing the next block"


def generations_on_disk(out: Path) -> int:
    return len(list((out / "generations").glob("gen_*.npz"))) if (out / "generations").is_dir() else 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("ref", type=Path)
    p.add_argument("killed", type=Path)
    p.add_argument("--kills", type=int, default=22)
    p.add_argument("--budget", type=int, default=80)
    p.add_argument("--population", type=int, default=4)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--window", type=float, default=2.0,
                   help="kill at most this many generation-times after the process is ready")
    p.add_argument("--rng", type=int, default=0, help="seed of the kill times")
    args = p.parse_args()
    rng = random.Random(args.rng)
    torch.set_num_threads(1)
    G = zoo.load("digiface-dcgan64")
    G.render(G.sample(2, seed=0))  # warm up once, here, instead of in every forked process
    t0 = time.monotonic()
    ref_pid, ref_fd = spawn(G, args.ref, args)
    n_gens = args.budget // args.population
    per_kill = (n_gens - 2) / args.kills  # progress wanted between kills
    stretch = 1.0
    kills, early, finished_early, gens_at_kill, phases = 0, 0, 0, [], {}
    while kills < args.kills:
        pid, fd = spawn(G, args.killed, args)
        if rng.random() < 0.1:  # sometimes while it is still setting up
            time.sleep(rng.uniform(0, 0.02))
            early += 1
        else:
            if not wait_ready(fd, 120):
                print(json.dumps({"error": "experiment process never got ready"}))
                return 1
            fd = None
            deadline = time.monotonic() + rng.uniform(0, args.window * stretch * min(max(pace(args.ref), 0.05), 10.0))
            # never more than two generations per process, and never the last one: the run must outlive the kills
            limit = min(generations_on_disk(args.killed) + 2, n_gens - 1)
            while time.monotonic() < deadline and generations_on_disk(args.killed) < limit:
                time.sleep(0.005)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status = os.waitpid(pid, 0)
        if fd is not None:
            os.close(fd)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            kills += 1
            gens = generations_on_disk(args.killed)
            gens_at_kill.append(gens)
            where = phase(args.killed)
            phases[where] = phases.get(where, 0) + 1
            ahead = gens - kills * per_kill
            stretch = min(4.0, stretch * 1.4) if ahead < 0 else max(0.3, stretch * 0.7)
        else:  # it finished (or failed) before the kill landed
            finished_early += 1
            if os.WEXITSTATUS(status) != 0:
                print(json.dumps({"error": f"experiment process exited with {os.WEXITSTATUS(status)}"}))
                return 1
            break
    pid, fd = spawn(G, args.killed, args)  # the last resume, left to finish
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    final_ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    _, ref_status = os.waitpid(ref_pid, 0)
    os.close(ref_fd)
    print(json.dumps({"kills": kills, "kills_while_starting": early, "finished_before_kill": finished_early,
                      "generations_on_disk_at_each_kill": gens_at_kill, "phase_at_kill": phases, "final_ok": final_ok,
                      "reference_ok": os.WIFEXITED(ref_status) and os.WEXITSTATUS(ref_status) == 0,
                      "seconds": round(time.monotonic() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
