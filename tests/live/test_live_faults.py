"""kill -9 at random points against a simulated rig in its own process: nothing lost, nothing counted twice.

Also the command line: ``landscape live --simulate`` killed with SIGKILL, then ``--resume``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from landscape.runs import Run
from live_support import assert_same_run, count_response_rows

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
KILLS = 22


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def stop_rigs_named_in(log: Path) -> None:
    """End the simulated rigs a killed experiment left running (by the pids they logged)."""
    if not log.exists():
        return
    for pid in re.findall(r"simrig: ready \(pid (\d+)", log.read_text()):
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_equals_uninterrupted(tmp_path):
    ref, killed = tmp_path / "ref", tmp_path / "killed"
    rig = subprocess.Popen(python("-m", "landscape.live.simrig", str(ref), str(killed), "--channels", "5,6",
                                  "--scale", "20", "--seed", "11", "--drop", "0.15", "--delay", "0,0.005",
                                  "--poll", "0.005", "--idle-exit", "120"),
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        driver = subprocess.run(python(str(HERE / "live_fault_driver.py"), str(ref), str(killed), "--kills", str(KILLS)),
                                cwd=REPO, capture_output=True, text=True, timeout=480)
        assert driver.returncode == 0, driver.stdout + driver.stderr
        figures = json.loads(driver.stdout.strip().splitlines()[-1])
        assert rig.wait(timeout=60) == 0  # it leaves once both runs are complete
    finally:
        if rig.poll() is None:
            rig.kill()
    print(f"\nfault injection: {figures}")
    assert figures["kills"] >= 20 and figures["final_ok"] and figures["reference_ok"]
    assert max(figures["generations_on_disk_at_each_kill"]) > 0  # kills landed inside the loop, not only at start
    counts = assert_same_run(killed, ref)  # same codes, responses, optimizer state, blocks and files
    # no response lost, none counted twice: every row of every response file is in exactly one generation
    assert count_response_rows(killed) == counts["presentations"]
    run = Run.load(killed)
    assert run.meta["status"] == "complete" and run.n_generations == 20
    assert not list(killed.rglob(".*.tmp*"))  # temporaries of killed writes were cleaned up on resume
    print(f"responses recorded {counts['presentations']}, in the rig's files {count_response_rows(killed)}, "
          f"lost 0; generations {counts['generations']}")


@pytest.mark.slow
def test_cli_simulate_killed_then_resumed_loses_nothing(tmp_path):
    """The real command line over HTTP: SIGKILL mid-run, then `landscape live --resume`.

    (Equality with an uninterrupted run is the test above; this one checks the command-line
    path: the saved settings, the HTTP port taken back, the orphaned rig carrying on.)
    """
    b = tmp_path / "b"
    cmd = ["live", "--simulate", "--out", str(b), "--transport", "http", "--budget", "16", "--set", "population=4",
           "--seed", "3", "--repeats", "2", "--rig-drop", "0.2", "--rig-channels", "5,6", "--rig-delay", "0,0.02",
           "--poll", "0.01", "--no-progress", "--device", "cpu"]
    victim = subprocess.Popen(python("-m", "landscape", *cmd), cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.monotonic()
        while not (b / "generations" / "gen_000001.npz").exists():
            assert victim.poll() is None, victim.stdout.read()
            assert time.monotonic() - t0 < 240, "the simulated experiment made no progress"
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        port = json.loads((b / "meta.json").read_text())["live"]["transport"]["port"]
        assert Run.load(b).meta["status"] == "running"  # killed: nobody had a chance to say otherwise
        resumed = subprocess.run(python("-m", "landscape", "live", "--resume", str(b), "--no-progress"), cwd=REPO,
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    finally:
        if victim.poll() is None:
            victim.kill()
        stop_rigs_named_in(b / "simrig.log")
    assert "4 generations, 16 images" in resumed.stdout
    meta = json.loads((b / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["live"]["transport"] == {"kind": "http", "host": "127.0.0.1",
                                                                          "port": port}
    run = Run.load(b)
    assert run.n_generations == 4 and run.codes.shape == (4, 4, 100)
    rows = (b / "scores.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [0, 1, 2, 3]  # each generation committed once
    used = [blk for g in range(4) for blk in np.load(b / "generations" / f"gen_{g:06d}.npz")["blocks"].tolist()]
    answered = sorted(int(p.stem[5:]) for p in (b / "responses").glob("block*"))
    assert sorted(used) == answered == list(range(len(answered)))  # every answered block used, exactly once
    presentations = sum(int(np.load(p)["n_presentations"].sum() + np.load(p)["reference_n"].sum())
                        for p in sorted((b / "generations").glob("*.npz")))
    assert count_response_rows(b) == presentations  # no response lost, none counted twice
    with np.load(b / "generations" / "gen_000003.npz") as z:
        assert z["responses"].shape == (4, 2, 2)  # 4 images, 2 presentations, 2 channels


def test_cli_refuses_bad_requests(tmp_path, capsys):
    from landscape.cli import main

    (tmp_path / "plain").mkdir()
    assert main(["live", "--resume", str(tmp_path / "plain")]) == 2
    assert "no meta.json" in capsys.readouterr().err
    assert main(["live", "--out", str(tmp_path / "x"), "--channels", "left"]) == 2
    assert "channels must be 'all'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
