"""One writer per run folder (and per sweep folder): a second one is refused with the holder named; the
lock of a writer killed with -9 is free at once; live runs take the same lock and refuse a lost checkpoint."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from landscape.io import folder_lock, lock_holder
from landscape.record import Run, RunError, RunRecord
from reliability_support import run, same, snapshot

sys.path.insert(0, str(Path(__file__).parents[1] / "live"))


def fork_run(out, seed_budget=400, delay=0.02) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            run(out, budget=seed_budget, delay=delay)
            code = 0
        except RunError:
            code = 2
        finally:
            os._exit(code)
    return pid


def wait_for(path, pid, timeout=60.0):
    t0 = time.monotonic()
    while not path.exists():
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        assert os.waitpid(pid, os.WNOHANG)[0] == 0, "the writer ended early"
        time.sleep(0.01)


def test_a_second_writer_in_the_same_process_is_refused(tmp_path):
    out = tmp_path / "r"
    run(out, budget=24)
    before = snapshot(out)
    with RunRecord(out).lock():
        with pytest.raises(RunError, match=f"in use by process {os.getpid()} on {socket.gethostname()}"):
            run(out, budget=48, resume=True)
    assert snapshot(out) == before
    assert lock_holder(out) is None  # released and emptied


@pytest.mark.slow
def test_a_second_process_is_refused_then_a_kill_minus_nine_frees_the_lock(tmp_path):
    ref = run(tmp_path / "ref", budget=400)
    out = tmp_path / "r"
    pid = fork_run(out)
    wait_for(out / "manifest.jsonl", pid)
    with pytest.raises(RunError) as e:
        run(out, budget=400, resume=True)
    assert f"in use by process {pid} on {socket.gethostname()}" in str(e.value) and "since" in str(e.value)
    with pytest.raises(RunError, match=f"in use by process {pid}"):
        run(out, budget=400)  # a new run into the same folder
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert lock_holder(out)["pid"] == pid  # the dead writer's note is still there: the lock itself is free
    assert same(run(out, budget=400, resume=True), ref)


@pytest.mark.slow
def test_two_runs_started_together_on_one_folder_one_wins(tmp_path):
    out = tmp_path / "r"
    a, b = fork_run(out, 160), fork_run(out, 160)
    codes = sorted(os.WEXITSTATUS(os.waitpid(p, 0)[1]) for p in (a, b))
    assert codes == [0, 2]  # one finished, the other was refused (lock, or "already holds a run")
    ref = run(tmp_path / "ref", budget=160)
    assert same(Run.load(out, verify=True), ref)  # one run's generations, not a mix


def test_a_sweep_folder_has_one_writer(tmp_path):
    from landscape.sweep import SweepError, sweep

    spec = {"sweep": {"budget": 16, "seeds": [0], "noise": ["none"]},
            "units": [{"model": "resnet20-cifar10", "layers": ["layer3"], "channels": [5]}],
            "optimizers": {"ga": {"population": 8}}}
    with folder_lock(tmp_path / "sweep", what="sweep"):
        with pytest.raises(SweepError, match=f"in use by process {os.getpid()}"):
            sweep(spec, out=tmp_path / "sweep", serial=True, progress=False)
    assert not (tmp_path / "sweep" / "runs").exists()


def test_a_live_run_takes_the_lock_and_refuses_to_replay_a_lost_checkpoint(tmp_path):
    from live_support import ThreadRig
    from test_live_experiment import live, sim

    out = tmp_path / "r"
    with ThreadRig(out, sim().respond):
        live(out)
    with RunRecord(out).lock():
        with pytest.raises(RunError, match="in use by process"):
            live(out, resume=True)
    (out / "state" / "checkpoint.pt").unlink()
    before = snapshot(out)
    with pytest.raises(RunError) as e:
        live(out, resume=True)
    msg = str(e.value)
    assert "state/checkpoint.pt is missing" in msg and "live neuron cannot" in msg and "--init" in msg
    assert snapshot(out) == before
