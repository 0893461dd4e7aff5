"""Fault injection, bad input (issue #16 item 8): every case of the catalogue in
``benchmarks/bad_input.py`` runs for real and is refused in one line before any work.

Before issue #16, 19 of these gave tracebacks and 12 were accepted or hung.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
try:
    import bad_input as bi
finally:
    sys.path.remove(str(REPO / "benchmarks"))

from landscape.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def ws(tmp_path_factory, weights_dir):
    w = bi.make_workspace(tmp_path_factory.mktemp("bad-input"))
    bi.prepare_extra(w)
    yield w
    for d in (w.root / "readonly_run", Path(w["readonly_dir"])):
        os.chmod(d, 0o755)


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", bi.CATALOGUE, ids=[f"{c.category}: {c.name}" for c in bi.CATALOGUE])
def test_bad_input_is_refused_in_one_line_before_any_work(ws, case):
    reason = case.skip()
    if reason:
        pytest.skip(reason)
    before = _snapshot(ws.root)
    argv = case.argv(ws)
    a = bi.run_inprocess(argv)
    assert a.verdict == "rejected", f"{argv}\nrc={a.rc}\n{a.err}"
    command = argv[0] if argv[0] in bi.option_table(ws) else None
    assert a.lines[0].startswith(f"landscape {command}: error: " if command else "landscape: error: ")
    # nothing was written: no run folder, no generation, no table, and the inputs are untouched
    after = _snapshot(ws.root)
    assert after == before, sorted(set(after.items()) ^ set(before.items()))
    for p in (ws.root / "new").glob("*") if (ws.root / "new").exists() else []:
        assert not any(p.rglob("gen_*.npz")), p


def test_the_issues_cases_are_all_in_the_catalogue():
    names = " | ".join(c.name for c in bi.CATALOGUE)
    for needle in ("--device cuda without a GPU", "junk image", "--init empty.npz", "sweep --out <a file>",
                   "report --out", "topology --out <a file>", "characterise --out <a file>", "featviz --out <a file>",
                   "sphere:100000", "topology <garbage npz>", "report <a damaged run>", "map <a damaged run>",
                   "--init a damaged run", "seeds = 1000000000", "<unreachable>", "<read-only run>", "--out ''",
                   "--resume <missing folder>", "--resume <empty folder>", "different --init",
                   "2000 codes with --budget 40", "--size 0", "--batch-size 0", "1,024,000 tasks", "poisson:inf"):
        assert needle in names, needle


def test_a_junk_reference_image_is_found_before_the_run(ws, capsys):
    out = Path(ws.fresh("junkrefs"))
    assert main([*bi.E, "--references", ws["junk_images"], "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "photo.png" in err and "--references" in err
    assert not out.exists()  # before: the whole evolution ran, then the error


def test_resume_of_nothing_starts_nothing(ws, capsys):
    missing = Path(ws.fresh("missing"))
    assert main([*bi.E, "--resume", "--out", str(missing)]) == 2
    assert not missing.exists()
    assert main([*bi.E, "--resume", "--out", ws["empty_dir"]]) == 2
    assert list(Path(ws["empty_dir"]).iterdir()) == []
    assert "drop --resume" in capsys.readouterr().err


def test_a_huge_sweep_is_refused_without_loading_a_model(ws, monkeypatch, capsys):
    import landscape.zoo

    def no(*a, **k):
        raise AssertionError("a model was loaded for a spec that the structure check refuses")

    monkeypatch.setattr(landscape.zoo, "load", no)
    for spec in ("spec_1e6_tasks.toml", "spec_seeds_1e9.toml"):
        assert main(["sweep", ws[spec], "--serial", "--out", ws.fresh("s")]) == 2
        assert "at most 100000" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_named(ws, capsys):
    port = bi.closed_port()
    assert main(["sweep", ws["spec_ok.toml"], "--scheduler", f"tcp://127.0.0.1:{port}", "--out", ws.fresh("s")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err and "cannot reach" in err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["evolve --device tpu", "--init empty.npz", "topology <garbage npz>",
                                  "sweep seeds = 1000000000", "map --grid sphere:100000"])
def test_a_real_process_prints_one_line(ws, name):
    case = next(c for c in bi.CATALOGUE if c.name == name)
    a = bi.run_subprocess(case.argv(ws))
    assert a.clean and len(a.err.splitlines()) == 1, a.err
