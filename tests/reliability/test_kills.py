"""kill -9 anywhere: at every write of a run's first generations, and at random times again and again.
Each time the folder reads back intact, and the resumed run ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from landscape.record import Run
from reliability_support import run, same

pytestmark = pytest.mark.slow  # forks a writer per kill

#: the figures of the README's reliability section come from these runs
KILL_BUDGET, FULL_BUDGET, RANDOM_KILLS = 40, 80, 20


def fork(target) -> int:
    """Run ``target()`` in a forked child that always ends with os._exit (never returns into pytest)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            target()
            code = 0
        except BaseException:  # noqa: BLE001
            code = 3
        finally:
            os._exit(code)
    return pid


def killed_at_write(out, k: int) -> None:
    """The child dies (exit 137, no clean-up, like SIGKILL) just before its k-th fsync or rename."""
    n = {"calls": 0}
    real_fsync, real_replace = os.fsync, os.replace

    def hook(real):
        def f(*a, **kw):
            n["calls"] += 1
            if n["calls"] == k:
                os._exit(137)
            return real(*a, **kw)
        return f

    os.fsync, os.replace = hook(real_fsync), hook(real_replace)
    run(out, budget=KILL_BUDGET)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return Run.load(run(tmp_path_factory.mktemp("ref") / "r", budget=FULL_BUDGET).dir)


def test_a_kill_at_every_write_point_resumes_identical(reference, tmp_path):
    kills = 0
    for k in range(1, 200):
        out = tmp_path / f"k{k}"
        _, status = os.waitpid(fork(lambda: killed_at_write(out, k)), 0)
        if os.WEXITSTATUS(status) == 0:
            break  # k is past the last write of the run: every write point was hit
        assert os.WEXITSTATUS(status) == 137, f"the writer failed by itself before kill point {k}"
        kills += 1
        if (out / "meta.json").exists():
            Run.load(out, verify=True)  # a killed folder reads back intact (its committed part)
        resumed = run(out, budget=FULL_BUDGET, resume=True)
        assert same(resumed, reference), f"kill point {k}"
        assert not list(out.rglob(".*.tmp*")), f"temporaries left after kill point {k}"
    print(f"\n[reliability] kill -9 at each of {kills} write points (fsync/rename) of a {KILL_BUDGET}-evaluation "
          "run: all resumed bit-identical")
    assert kills >= 40  # 5 generations x (4 atomic files + manifest line + rename) and meta.json writes


def test_random_sigkills_then_resume_identical(reference, tmp_path):
    rnd = random.Random(16)
    out = tmp_path / "r"
    landed = attempts = 0
    while landed < RANDOM_KILLS and attempts < 200:
        attempts += 1
        resume = (out / "meta.json").exists()
        pid = fork(lambda: run(out, budget=FULL_BUDGET, resume=resume, delay=0.01))
        time.sleep(rnd.uniform(0.0, 0.25))
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            landed += 1
    assert landed == RANDOM_KILLS
    final = run(out, budget=FULL_BUDGET, resume=True)
    assert same(final, reference) and final.meta["status"] == "complete"
    print(f"\n[reliability] {landed} random SIGKILLs of one run: resumed bit-identical")
