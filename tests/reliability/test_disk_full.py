"""A full disk (ENOSPC) or a file size limit (EFBIG) at any write: a one-line error, no partial or temporary
file left, the committed generations intact, and the run resumes later to the same end."""

from __future__ import annotations

import errno
import os
import resource
import signal

import pytest

from landscape.record import Run, RunError
from reliability_support import run, same

BUDGET = 80


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return Run.load(run(tmp_path_factory.mktemp("ref") / "r", budget=BUDGET).dir)


def fill_disk_at(monkeypatch, k: int) -> None:
    """The k-th flush to disk (of an atomic write's temporary or a manifest append) fails with ENOSPC."""
    n = {"calls": 0}
    real = os.fsync

    def fsync(fd):
        n["calls"] += 1
        if n["calls"] == k:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 25, 40])
def test_disk_full_at_any_write(reference, tmp_path, monkeypatch, k):
    out = tmp_path / "r"
    fill_disk_at(monkeypatch, k)
    with pytest.raises(RunError) as e:
        run(out, budget=BUDGET)
    monkeypatch.undo()
    msg = str(e.value)
    assert "No space left on device" in msg and "free space, then resume" in msg and "\n" not in msg
    assert not list(out.rglob(".*.tmp*")) and not list(out.rglob("*.next.pt"))  # nothing partial left
    if (out / "meta.json").exists():
        kept = Run.load(out, verify=True)  # what was committed is intact
        assert same(kept, Run.load(reference.dir).__class__(
            kept.dir, kept.meta, reference.gen_codes[:kept.n_generations], reference.gen_scores[:kept.n_generations],
            reference.gen_clean[:kept.n_generations], reference.wall_time[:kept.n_generations]))
        assert kept.meta["status"] == "failed"
    resumed = run(out, budget=BUDGET, resume=(out / "meta.json").exists())
    assert same(resumed, reference)


@pytest.mark.slow
def test_a_real_file_size_limit_in_a_child_process(tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse to grow the manifest (EFBIG) partway through the run."""
    reference = run(tmp_path / "ref", budget=400, opt="ga")
    sizes = [p.stat().st_size for p in reference.dir.rglob("*") if p.is_file() and p.name != "manifest.jsonl"]
    limit = max(sizes) + 64
    assert (reference.dir / "manifest.jsonl").stat().st_size > limit  # the manifest outgrows it mid-run
    out = tmp_path / "r"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(r)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            try:
                run(out, budget=400, opt="ga")
                code = 0
            except RunError as e:
                os.write(w, str(e).encode())
                code = 2
        finally:
            os._exit(code)
    os.close(w)
    message = os.read(r, 10000).decode()
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 2, message
    assert "File too large" in message and "manifest.jsonl" in message and "resume" in message
    kept = Run.load(out, verify=True)
    assert 0 < kept.n_generations < reference.n_generations and kept.meta["status"] == "failed"
    lines = (out / "manifest.jsonl").read_bytes()
    assert lines.endswith(b"\n")  # the failed append was cut back: no torn line
    assert same(run(out, budget=400, opt="ga", resume=True), reference)
