"""Runs write every generation as it completes, resume exactly, and keep data when the unit fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from landscape import zoo
from landscape.optim.base import Optimizer
from landscape.runs import Run, RunError, evolve, initial_codes
from landscape.units import CNNUnit, PoissonNoise
from landscape.units.base import Unit


class LocalSearch(Optimizer):
    """A tiny (1, lambda) search used to exercise the run machinery independently of landscape.optim."""

    name = "localsearch"

    def __init__(self, dim, pop=8, step=0.5, **kw):
        super().__init__(dim, **kw)
        self.pop, self.step = pop, step
        self.mean = torch.zeros(dim)

    def initialize(self, codes):
        self.mean = codes.mean(0).clone()

    def ask(self):
        return self.mean + self.step * torch.randn(self.pop, self.dim, generator=self.rng)

    def _tell(self, codes, scores):
        self.mean = codes[int(scores.argmax())].clone()

    def _state(self):
        return {"mean": self.mean.clone()}

    def _load_state(self, s):
        self.mean = s["mean"].clone()


class Flaky(Unit):
    """Fails on its n-th call, to check that earlier generations survive."""

    def __init__(self, inner, fail_at, how="raise"):
        self.inner, self.fail_at, self.calls, self.how = inner, fail_at, 0, how

    def clean(self, images):
        self.calls += 1
        s = self.inner.clean(images)
        if self.calls == self.fail_at:
            if self.how == "raise":
                raise RuntimeError("electrode lost")
            s = s.clone()
            s[1] = float("nan")
        return s


@pytest.fixture(scope="module")
def gen_unit():
    return zoo.load("digiface-dcgan64"), CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5)


def test_run_files_and_load(tmp_path, gen_unit):
    G, unit = gen_unit
    run = evolve(G, unit, LocalSearch(100, seed=1), budget=40, out=tmp_path / "r", progress=False)
    assert run.codes.shape == (5, 8, 100) and run.scores.shape == (5, 8)
    assert run.meta["status"] == "complete" and run.meta["unit"]["layer"] == "layer3"
    assert (tmp_path / "r" / "best" / "gen_000004.png").exists()
    rows = (tmp_path / "r" / "scores.csv").read_text().splitlines()
    assert rows[0].startswith("generation,") and len(rows) == 6
    # best_code really scores best_score
    with torch.no_grad():
        s = unit(G(torch.as_tensor(run.best_code)[None]))
    assert float(s) == pytest.approx(run.best_score, rel=1e-5, abs=1e-6)
    assert run.best_score == pytest.approx(float(run.scores.max()))
    with pytest.raises(RunError, match="resume=True"):
        evolve(G, unit, LocalSearch(100, seed=1), budget=40, out=tmp_path / "r", progress=False)


def test_resume_equals_uninterrupted(tmp_path, gen_unit):
    G, cnn = gen_unit
    full = evolve(G, PoissonNoise(cnn, scale=20, seed=5), LocalSearch(100, seed=2), budget=48,
                  out=tmp_path / "full", progress=False)
    part = evolve(G, PoissonNoise(cnn, scale=20, seed=5), LocalSearch(100, seed=2), budget=24,
                  out=tmp_path / "part", progress=False)
    assert part.n_generations == 3
    # a kill between the generation file and its checkpoint: the extra file is redone
    (tmp_path / "part" / "generations" / "gen_000003.npz").write_bytes(b"garbage")
    resumed = evolve(G, PoissonNoise(cnn, scale=20, seed=5), LocalSearch(100, seed=2), budget=48,
                     out=tmp_path / "part", resume=True, progress=False)
    assert np.array_equal(resumed.codes, full.codes)
    assert np.array_equal(resumed.scores, full.scores)
    assert np.array_equal(resumed.clean_scores, full.clean_scores)


def test_resume_refuses_a_different_configuration(tmp_path, gen_unit):
    G, unit = gen_unit
    evolve(G, unit, LocalSearch(100, seed=1), budget=16, out=tmp_path / "r", progress=False)
    other = CNNUnit(unit.model, "layer3", 6)
    with pytest.raises(RunError, match="unit"):
        evolve(G, other, LocalSearch(100, seed=1), budget=32, out=tmp_path / "r", resume=True, progress=False)


@pytest.mark.parametrize("how", ["raise", "nan"])
def test_failing_unit_keeps_earlier_generations(tmp_path, gen_unit, how):
    G, unit = gen_unit
    with pytest.raises(RunError) as e:
        evolve(G, Flaky(unit, fail_at=4, how=how), LocalSearch(100, seed=1), budget=80, out=tmp_path / "r",
               progress=False)
    assert "generations 0..2" in str(e.value)
    run = Run.load(tmp_path / "r")
    assert run.n_generations == 3 and run.meta["status"] == "failed"
    failed = np.load(tmp_path / "r" / "failed" / "gen_000003.npz")
    assert failed["codes"].shape == (8, 100)
    if how == "nan":
        assert np.isnan(failed["scores"][1]) and np.isfinite(failed["scores"][0])


def test_kill_minus_nine_then_resume_is_exact(tmp_path):
    """SIGKILL a real evolve process mid-run, resume it, compare with an uninterrupted run."""
    script = textwrap.dedent(f"""
        import sys, time, torch
        sys.path.insert(0, {str(os.path.dirname(__file__))!r})
        from test_runs import LocalSearch
        from landscape import zoo
        from landscape.runs import evolve
        from landscape.units import CNNUnit, PoissonNoise

        class Slow(PoissonNoise):
            def observe(self, clean):
                time.sleep(float(sys.argv[3]))
                return super().observe(clean)

        G = zoo.load("digiface-dcgan64")
        unit = Slow(CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5), scale=20, seed=5)
        evolve(G, unit, LocalSearch(100, seed=2), budget=80, out=sys.argv[1], resume=sys.argv[2] == "1",
               progress=False)
    """)
    path = tmp_path / "job.py"
    path.write_text(script)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    subprocess.run([sys.executable, str(path), str(tmp_path / "ref"), "0", "0"], check=True, env=env)
    p = subprocess.Popen([sys.executable, str(path), str(tmp_path / "cut"), "0", "0.15"], env=env)
    gens = tmp_path / "cut" / "generations"
    import time

    deadline = time.time() + 120
    while time.time() < deadline and len(list(gens.glob("gen_*.npz"))) < 4:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert 4 <= len(list(gens.glob("gen_*.npz"))) < 10
    subprocess.run([sys.executable, str(path), str(tmp_path / "cut"), "1", "0"], check=True, env=env)
    ref, cut = Run.load(tmp_path / "ref"), Run.load(tmp_path / "cut")
    assert np.array_equal(ref.codes, cut.codes) and np.array_equal(ref.scores, cut.scores)
    assert json.loads((tmp_path / "cut" / "meta.json").read_text())["status"] == "complete"


def test_initial_codes_from_prior_file_run_and_images(tmp_path, gen_unit):
    G, unit = gen_unit
    z, desc = initial_codes(G, "prior", 5, seed=3)
    assert z.shape == (5, 100) and desc["type"] == "prior"
    np.save(tmp_path / "c.npy", z.numpy())
    z2, _ = initial_codes(G, tmp_path / "c.npy", 5)
    assert torch.equal(z, z2)
    target_codes = G.sample(2, seed=11)
    with torch.no_grad():
        target = G(target_codes)
    inv, desc = initial_codes(G, target, 2, seed=0, inversion_steps=60)
    with torch.no_grad():
        err = float(((G(inv) - target) ** 2).mean())
        start = float(((G(G.sample(2, seed=0)) - target) ** 2).mean())
    assert err < 0.3 * start
    opt = LocalSearch(100, seed=0)
    run = evolve(G, unit, opt, budget=8, out=tmp_path / "r", init=tmp_path / "c.npy", progress=False)
    assert run.meta["init"]["type"] == "file"
    assert torch.allclose(opt.mean, torch.as_tensor(run.best_code))


def test_bad_budget_and_dimension(tmp_path, gen_unit):
    G, unit = gen_unit
    with pytest.raises(ValueError, match="budget"):
        evolve(G, unit, LocalSearch(100), budget=0, out=tmp_path / "x")
    with pytest.raises(ValueError, match="dim 50"):
        evolve(G, unit, LocalSearch(50), budget=10, out=tmp_path / "x")


class Growing(LocalSearch):
    """Asks one more code each generation: ragged populations, as SphereCMA's (it adds its mean)."""

    def ask(self):
        n = self.pop + self.generation
        return self.mean + self.step * torch.randn(n, self.dim, generator=self.rng)


def test_ragged_populations_keep_every_view_but_the_stacked_ones(tmp_path, gen_unit):
    from landscape.report import build_report

    G, cnn = gen_unit
    run = evolve(G, PoissonNoise(cnn, scale=20, seed=0), Growing(100, seed=3), budget=27, out=tmp_path / "r",
                 progress=False)
    assert [len(s) for s in run.gen_scores] == [8, 9, 10]
    with pytest.raises(ValueError, match="population sizes differ"):
        run.clean_scores
    assert run.has_clean_scores and run.all_codes.shape == (27, 100)
    best = run.best_clean_per_generation()
    assert best.shape == (3,) and best.max() == pytest.approx(run.best_score)
    assert best[0] == pytest.approx(np.nanmax(run.gen_clean[0]))
    html = build_report(tmp_path / "r").read_text()
    assert "best (clean)" in html


def test_progress_bar_counts_to_the_images_shown_when_the_last_generation_overshoots(tmp_path, gen_unit, capsys):
    G, unit = gen_unit
    evolve(G, unit, LocalSearch(100, seed=1), budget=20, out=tmp_path / "r", progress=True)  # 3 x 8 = 24 images
    bar = capsys.readouterr().err.replace("\r", "\n").splitlines()
    assert any("24/24" in line for line in bar), bar[-3:]
    assert not any("/?" in line for line in bar), "tqdm lost the total when the count passed the budget"
