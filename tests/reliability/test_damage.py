"""Every kind of file a run folder holds, truncated, bit-flipped or deleted: found before any new work,
named with what is wrong, nothing changed on disk; a lost checkpoint is the one loss that is rebuilt."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from landscape.cli import main as cli
from landscape.record import DamagedRun, Run, RunError
from reliability_support import run, same, snapshot

#: (file, fault) -> what the error must say about that file
CASES = {
    ("generations/gen_000003.npz", "truncate"): "truncated",
    ("generations/gen_000003.npz", "flip"): "digest mismatch",
    ("generations/gen_000003.npz", "delete"): "missing generation 3",
    ("generations/gen_000004.npz", "delete"): "missing generation 4",  # the last committed one
    ("best/gen_000002.png", "truncate"): "truncated",
    ("best/gen_000002.png", "flip"): "digest mismatch",
    ("best/gen_000002.png", "delete"): "missing",
    ("scores.csv", "truncate"): "truncated",
    ("scores.csv", "flip"): "digest mismatch",
    ("scores.csv", "delete"): "missing",
    ("state/checkpoint.pt", "truncate"): "truncated",
    ("state/checkpoint.pt", "flip"): "digest mismatch",
    ("state/checkpoint.pt", "garble"): "digest mismatch",  # 64 random bytes (issue 16, case 2)
    ("generations/gen_000001.npz", "garble"): "digest mismatch",
    ("manifest.jsonl", "truncate"): "lines were lost",
    ("manifest.jsonl", "flip"): "does not match its own digest",
    ("manifest.jsonl", "delete"): "missing",
    ("meta.json", "truncate"): "not valid JSON",
    ("meta.json", "flip"): "digest mismatch in its fixed fields",
}


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """A run stopped after 5 committed generations, and the same run carried on without interruption."""
    base = tmp_path_factory.mktemp("damage")
    run(base / "full", budget=80)
    run(base / "part", budget=48)
    return base


def damage(path, fault):
    data = path.read_bytes()
    if fault == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif fault == "delete":
        path.unlink()
    elif fault == "garble":
        i = len(data) // 3
        path.write_bytes(data[:i] + np.random.default_rng(2).bytes(64) + data[i + 64:])
    elif path.name == "meta.json":  # a flip inside a value fixed at the start (the creation time)
        i = data.index(b'"created": "') + 14
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:])
    else:
        i = len(data) // 2
        path.write_bytes(data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1:])


@pytest.mark.parametrize("rel,fault", list(CASES))
def test_damage_is_named_before_any_work_and_nothing_is_changed(partial, tmp_path, rel, fault):
    out = tmp_path / "r"
    shutil.copytree(partial / "part", out)
    damage(out / rel, fault)
    before = snapshot(out)
    with pytest.raises(RunError) as e:
        run(out, budget=80, resume=True)
    msg = str(e.value)
    assert rel in msg and CASES[rel, fault] in msg, msg
    assert "Nothing was changed" in msg and "\n" not in msg
    assert snapshot(out) == before  # no new work, no repair, no deletion
    # reading it finds the damage too (generation files and manifest always, the rest with verify=True)
    with pytest.raises(DamagedRun) as e2:
        Run.load(out, verify=True)
    assert rel in str(e2.value)
    assert snapshot(out) == before


def test_the_cli_verifies_a_folder_in_one_line_per_damaged_run(partial, tmp_path, capsys):
    out = tmp_path / "r"
    shutil.copytree(partial / "part", out)
    assert cli(["verify", str(out)]) == 0
    assert "OK" in capsys.readouterr().out
    damage(out / "best" / "gen_000001.png", "flip")
    assert cli(["verify", str(out)]) == 1
    printed = capsys.readouterr()
    assert "DAMAGED" in printed.out and "best/gen_000001.png: digest mismatch" in printed.out
    assert printed.err.count("\n") == 1


def test_a_lost_checkpoint_is_rebuilt_by_replay_and_the_run_ends_identical(partial, tmp_path):
    out = tmp_path / "r"
    shutil.copytree(partial / "part", out)
    (out / "state" / "checkpoint.pt").unlink()
    committed = {k: v for k, v in snapshot(out).items() if k.startswith(("generations/", "best/"))}
    resumed = run(out, budget=80, resume=True)
    assert same(resumed, Run.load(partial / "full"))
    kept = snapshot(out)
    assert all(kept[k] == v for k, v in committed.items())  # not one committed file rewritten
    Run.load(out, verify=True)


def test_an_older_checkpoint_is_replayed_forward(partial, tmp_path):
    out = tmp_path / "r"
    run(out, budget=24)
    old = (out / "state" / "checkpoint.pt").read_bytes()
    run(out, budget=48, resume=True)
    (out / "state" / "checkpoint.pt").write_bytes(old)  # e.g. restored from an older backup
    assert same(run(out, budget=80, resume=True), Run.load(partial / "full"))


def test_replay_refuses_when_the_recorded_codes_cannot_be_reproduced(partial, tmp_path):
    import torch

    from landscape.runs import evolve
    from reliability_support import Pixels, optimizer, unit

    out = tmp_path / "r"
    shutil.copytree(partial / "part", out)
    (out / "state" / "checkpoint.pt").unlink()
    before = snapshot(out)
    with pytest.raises(RunError, match="replaying generation 0 the optimizer asks for other codes"):
        evolve(Pixels(), unit(), optimizer(), 80, out, seed=0, resume=True, init=torch.zeros(20, 12),
               progress=False)
    assert snapshot(out) == before


def test_a_folder_from_before_manifests_loads_with_a_warning_and_resumes_exactly(partial, tmp_path):
    from landscape.record import UnmanifestedRunWarning

    out = tmp_path / "r"
    shutil.copytree(partial / "part", out)
    (out / "manifest.jsonl").unlink()  # as landscape-run/1 folders were written before manifests
    meta = json.loads((out / "meta.json").read_text())
    del meta["integrity"]
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    with pytest.warns(UnmanifestedRunWarning, match="before run folders carried a sha256 manifest"):
        old = Run.load(out)
    assert old.n_generations == 5
    resumed = run(out, budget=80, resume=True)
    assert same(resumed, Run.load(partial / "full"))
    lines = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert [x.get("adopted", False) for x in lines] == [True] * 5 + [False] * 4
    Run.load(out, verify=True)  # no warning now: every file is checked


def test_an_old_folder_with_a_lost_checkpoint_is_replayed_not_deleted(partial, tmp_path):
    out = tmp_path / "r"
    shutil.copytree(partial / "part", out)
    (out / "manifest.jsonl").unlink()
    (out / "state" / "checkpoint.pt").unlink()
    meta = json.loads((out / "meta.json").read_text())
    del meta["integrity"]
    (out / "meta.json").write_text(json.dumps(meta))
    assert same(run(out, budget=80, resume=True), Run.load(partial / "full"))


@pytest.mark.parametrize("opt", ["ga", "cma", "spherecma", "nes", "fdgd"])
def test_every_optimizer_replays_a_lost_checkpoint_bit_identical(tmp_path, opt):
    full = run(tmp_path / "full", budget=160, opt=opt)
    out = tmp_path / "r"
    run(out, budget=80, opt=opt)
    (out / "state" / "checkpoint.pt").unlink()
    assert same(run(out, budget=160, opt=opt, resume=True), full)


def test_a_deleted_meta_json_is_refused_by_name(partial, tmp_path):
    out = tmp_path / "r"
    shutil.copytree(partial / "part", out)
    (out / "meta.json").unlink()
    before = snapshot(out)
    with pytest.raises(RunError, match="has no meta.json"):
        run(out, budget=80, resume=True)
    with pytest.raises(FileNotFoundError, match="no meta.json"):
        Run.load(out)
    assert snapshot(out) == before


def test_manifest_lines_record_the_committed_bytes(partial):
    import hashlib

    d = partial / "full"
    lines = (d / "manifest.jsonl").read_text().splitlines()
    prev = None
    for g, raw in enumerate(lines):
        e = json.loads(raw)
        assert e["generation"] == g and e["prev"] == prev
        body = {k: v for k, v in e.items() if k != "sha256"}
        assert e["sha256"] == hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        for rel in (f"generations/gen_{g:06d}.npz", f"best/gen_{g:06d}.png"):
            data = (d / rel).read_bytes()
            assert e["files"][rel] == [hashlib.sha256(data).hexdigest(), len(data)]
        prev = e["sha256"]
    last = json.loads(lines[-1])["files"]
    for rel in ("scores.csv", "state/checkpoint.pt"):  # rewritten by every commit: the last line has them
        data = (d / rel).read_bytes()
        assert last[rel] == [hashlib.sha256(data).hexdigest(), len(data)]
    assert json.loads((d / "meta.json").read_text())["integrity"] == "sha256-manifest/1"
