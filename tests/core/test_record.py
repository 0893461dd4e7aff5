"""The run record and the scorer interface: what a scorer adds is stored, checkpointed and restored;
a damaged folder is refused before any new work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from landscape import optim
from landscape.record import RunError, RunRecord
from landscape.runs import evolve
from landscape.scorer import Scored, Scorer


class Gen:
    """A tiny generator: a code is its image's pixels."""

    name, dim, image_size, prior_scale, device = "tiny", 12, 2, 1.0, torch.device("cpu")

    def describe(self):
        return {"name": self.name}

    def render(self, codes, batch_size=None):
        return torch.sigmoid(codes.reshape(-1, 3, 2, 2))


class Counting(Scorer):
    """Scores mean brightness and adds a per-image array and a counter to the record."""

    label = "count"

    def __init__(self):
        self.shown = 0
        self.opened = self.closed = 0

    def describe(self):
        return {"type": "Counting"}

    def score(self, codes, images, generation):
        n = images.shape[0]
        ids = np.arange(self.shown, self.shown + n)
        self.shown += n
        s = images.mean((1, 2, 3)).double()
        return Scored(s, torch.full_like(s, float("nan")), {"image_number": ids})

    def state_dict(self):
        return {"unit": {}, "counting": {"shown": self.shown}}

    def load_state_dict(self, checkpoint):
        self.shown = int(checkpoint["counting"]["shown"])

    def open(self, record):
        self.opened += 1

    def close(self):
        self.closed += 1


def test_a_scorer_stores_its_arrays_and_resumes_its_state(tmp_path):
    sc = Counting()
    evolve(Gen(), sc, optim.make("ga", 12, seed=0, population=4), budget=8, out=tmp_path / "r", progress=False)
    assert sc.opened == sc.closed == 1
    with np.load(tmp_path / "r" / "generations" / "gen_000001.npz") as z:
        assert z["image_number"].tolist() == [4, 5, 6, 7] and np.isnan(z["clean_scores"]).all()
    again = Counting()
    run = evolve(Gen(), again, optim.make("ga", 12, seed=0, population=4), budget=16, out=tmp_path / "r",
                 resume=True, progress=False)
    assert again.shown == 16 and run.n_generations == 4 and run.meta["unit"] == {"type": "Counting"}
    with np.load(tmp_path / "r" / "generations" / "gen_000003.npz") as z:
        assert z["image_number"].tolist() == [12, 13, 14, 15]


def test_a_gap_in_the_generations_is_refused_before_new_work(tmp_path):
    evolve(Gen(), Counting(), optim.make("ga", 12, seed=0, population=4), budget=12, out=tmp_path / "r",
           progress=False)
    (tmp_path / "r" / "generations" / "gen_000001.npz").unlink()
    before = sorted(p.name for p in (tmp_path / "r" / "generations").iterdir())
    with pytest.raises(RunError, match="missing generation 1"):
        evolve(Gen(), Counting(), optim.make("ga", 12, seed=0, population=4), budget=20, out=tmp_path / "r",
               resume=True, progress=False)
    assert sorted(p.name for p in (tmp_path / "r" / "generations").iterdir()) == before


def test_record_statuses_and_errors(tmp_path):
    rec = RunRecord(tmp_path / "r")
    assert rec.open(resume=False) is None
    rec.begin({"generator": {}, "unit": {}, "optimizer": {}, "budget": 1, "seed": None}, None)
    rec.write_meta()
    with pytest.raises(ValueError, match="status must be one of"):
        rec.close("done")
    rec.close("failed", error=RuntimeError("boom"))
    from landscape.io import read_json

    meta = read_json(tmp_path / "r" / "meta.json")
    assert meta["status"] == "failed" and meta["error"] == "RuntimeError: boom"
    with pytest.raises(RunError, match="already holds a run"):
        RunRecord(tmp_path / "r").open(resume=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    with pytest.raises(RunError, match="no meta.json"):
        RunRecord(tmp_path / "other").open(resume=True)


def test_resume_compares_optimizer_settings_not_their_documentation(tmp_path):
    cfg = optim.make("ga", 4, seed=0).config()
    record = RunRecord(tmp_path / "run")
    record.meta = {"generator": {"g": 1}, "unit": {"u": 1}, "optimizer": {**cfg, "reference": {"source": "old"}}}
    call = {"generator": {"g": 1}, "unit": {"u": 1}, "optimizer": cfg}
    record.check_config(call)  # a reworded citation does not lock the folder
    without_ref = {k: v for k, v in cfg.items() if k != "reference"}
    record.meta["optimizer"] = without_ref
    record.check_config(call)  # nor does one written before configs carried it
    # a run of the former 'ga' (no score_clip, no code_scale, 0 elites) is refused, saying why
    record.meta["optimizer"] = {k: v for k, v in without_ref.items() if k not in ("score_clip", "code_scale")}
    record.meta["optimizer"]["n_elites"] = 0
    with pytest.raises(RunError, match="lack code_scale, score_clip: the run was started by an earlier version"):
        record.check_config(call)
