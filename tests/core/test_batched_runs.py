"""Batched evolution: N runs advanced together leave the folders N separate runs leave, bit for bit on CPU
with one torch thread (with several, oneDNN's transposed convolution splits its work by batch size: the
images agree to float32 rounding, tested below)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from landscape import optim, zoo
from landscape.runs import Run, RunError, RunSpec, evolve, evolve_many
from landscape.scorer import UnitScorer
from landscape.units import CNNUnit, GaussianNoise, PoissonNoise
from landscape.units.cnn import layer_outputs
from landscape.units.measure import MIN_PASS_ROWS, forward_in_chunks, measure_images, measure_images_many

sys.path.insert(0, os.path.dirname(__file__))
from test_runs import Flaky, LocalSearch  # noqa: E402

#: what differs between two runs of the same computation: timings
TIMES = {"wall_time", "time"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Bit-for-bit equality holds with one torch thread per process (as sweep workers run)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def nets():
    return zoo.load("digiface-dcgan64"), zoo.load("resnet20-cifar10")


def three_runs(net, out, resume=False):
    """Different units (two share layer3, one reads layer1.0.conv1), noise, seeds, optimizers and budgets;
    LocalSearch's 8 codes are fewer than a padded pass's rows."""
    return [
        RunSpec(PoissonNoise(CNNUnit(net, "layer3", 5), scale=20, seed=5), optim.make("cma", 100, seed=1), 60,
                out / "a", seed=1, resume=resume),
        RunSpec(CNNUnit(net, "layer3", 7), optim.make("ga", 100, seed=2, population=12), 100, out / "b", seed=2,
                resume=resume),
        RunSpec(GaussianNoise(CNNUnit(net, "layer1.0.conv1", 2), sigma=0.3, seed=3), LocalSearch(100, seed=3), 40,
                out / "c", seed=3, resume=resume),
    ]


def separate(gen, net, out):
    for spec in three_runs(net, out):
        evolve(gen, spec.scorer, spec.optimizer, spec.budget, spec.out, seed=spec.seed, progress=False)


def assert_same_folder(a, b):
    """Every generation array (timings aside), csv row (wall time aside), best image and the meta agree."""
    names = sorted(p.name for p in (a / "generations").iterdir())
    assert names == sorted(p.name for p in (b / "generations").iterdir()) and names
    for n in names:
        with np.load(a / "generations" / n) as x, np.load(b / "generations" / n) as y:
            assert set(x.files) == set(y.files)
            for k in set(x.files) - TIMES:
                assert np.array_equal(x[k], y[k], equal_nan=x[k].dtype.kind == "f"), (a, n, k)
    for n in sorted(p.name for p in (a / "best").iterdir()):
        assert (a / "best" / n).read_bytes() == (b / "best" / n).read_bytes(), (a, n)

    def rows(p):
        with open(p / "scores.csv", newline="") as f:
            return [r[:-1] for r in csv.reader(f)]  # the last column is the wall time

    assert rows(a) == rows(b)
    ma, mb = (json.loads((p / "meta.json").read_text()) for p in (a, b))
    for m in (ma, mb):
        m.pop("created")
    assert ma == mb
    ca, cb = (torch.load(p / "state" / "checkpoint.pt", weights_only=True) for p in (a, b))
    assert ca["generation"] == cb["generation"] and ca["evaluations"] == cb["evaluations"]
    assert torch.equal(ca["optimizer"]["rng"], cb["optimizer"]["rng"])
    if "rng" in ca["unit"]:
        assert torch.equal(ca["unit"]["rng"], cb["unit"]["rng"])


@pytest.fixture(scope="module")
def reference(nets, tmp_path_factory):
    """The three runs made one at a time by evolve."""
    out = tmp_path_factory.mktemp("separate")
    separate(*nets, out)
    return out


@pytest.mark.slow
def test_three_batched_runs_equal_three_separate_runs_bit_for_bit(nets, reference, tmp_path):
    gen, net = nets
    results = evolve_many(gen, three_runs(net, tmp_path), progress=False)
    assert all(isinstance(r, Run) for r in results)
    # the budgets differ, so the runs finished after different numbers of generations
    assert [r.n_generations for r in results] == [4, 9, 5]
    for name in "abc":
        assert_same_folder(reference / name, tmp_path / name)
        assert json.loads((tmp_path / name / "meta.json").read_text())["status"] == "complete"


@pytest.mark.slow
def test_a_shared_pass_that_fails_is_redone_run_by_run(nets, reference, tmp_path, monkeypatch):
    """The noise generators are put back before the retry: the folders still equal the separate runs."""
    gen, net = nets
    real = UnitScorer.score_many

    def flaky_many(scorers, images):
        if len(scorers) > 1:
            for s in scorers:  # draw noise first, as a pass failing half way would have
                if s.unit.noisy:
                    s.unit.observe(torch.ones(3))
            raise RuntimeError("out of memory")
        return real(scorers, images)

    monkeypatch.setattr(UnitScorer, "score_many", staticmethod(flaky_many))
    results = evolve_many(gen, three_runs(net, tmp_path), progress=False)
    assert all(isinstance(r, Run) for r in results)
    for name in "abc":
        assert_same_folder(reference / name, tmp_path / name)


@pytest.mark.slow
def test_one_failing_run_is_recorded_in_its_folder_and_the_others_finish(nets, reference, tmp_path):
    gen, net = nets
    a, b, c = three_runs(net, tmp_path)
    with pytest.raises(ValueError, match="share a folder"):  # refused before anything runs
        evolve_many(gen, [a, RunSpec(CNNUnit(net, "layer3", 1), LocalSearch(100), 50, tmp_path / "a")])
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "stray.txt").write_text("not a run")
    cannot_resume = RunSpec(CNNUnit(net, "layer3", 1), LocalSearch(100), 50, tmp_path / "x", resume=True)
    flaky = RunSpec(Flaky(CNNUnit(net, "layer3", 7), fail_at=3), optim.make("ga", 100, seed=2, population=12),
                    100, tmp_path / "b", seed=2)
    results = evolve_many(gen, [cannot_resume, a, flaky, c], progress=False)
    assert isinstance(results[0], RunError) and "no meta.json" in str(results[0])
    assert isinstance(results[2], RunError) and "generations 0..1" in str(results[2])
    failed = Run.load(tmp_path / "b")
    assert failed.meta["status"] == "failed" and "electrode lost" in failed.meta["error"]
    assert failed.n_generations == 2
    assert np.load(tmp_path / "b" / "failed" / "gen_000002.npz")["codes"].shape == (12, 100)
    assert isinstance(results[1], Run) and isinstance(results[3], Run)
    assert_same_folder(reference / "a", tmp_path / "a")
    assert_same_folder(reference / "c", tmp_path / "c")


@pytest.mark.slow
def test_kill_minus_nine_of_a_batched_run_then_resume_equals_separate_runs(reference, tmp_path):
    """SIGKILL the batched process after run a committed generation 2 and before b and c did; resume."""
    script = textwrap.dedent(f"""
        import pathlib, sys, time, torch
        torch.set_num_threads(1)
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_batched_runs import three_runs
        from landscape import zoo
        from landscape.runs import evolve_many

        out, resume = pathlib.Path(sys.argv[1]), sys.argv[2] == "1"
        runs = three_runs(zoo.load("resnet20-cifar10"), out, resume=resume)

        def hold(g, *_):
            if g == 2 and not resume:
                (out / "holding").touch()
                time.sleep(3600)  # until the SIGKILL

        runs[0].callback = hold
        evolve_many(zoo.load("digiface-dcgan64"), runs, progress=False)
    """)
    path = tmp_path / "job.py"
    path.write_text(script)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    p = subprocess.Popen([sys.executable, str(path), str(tmp_path), "0"], env=env)
    deadline = time.monotonic() + 600
    while not (tmp_path / "holding").exists():
        assert p.poll() is None, "the batched run ended before it was killed"
        assert time.monotonic() < deadline, "the batched run never reached generation 2"
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert [len(list((tmp_path / n / "generations").glob("gen_*.npz"))) for n in "abc"] == [3, 2, 2]
    subprocess.run([sys.executable, str(path), str(tmp_path), "1"], check=True, env=env)
    for name in "abc":
        assert_same_folder(reference / name, tmp_path / name)


@pytest.mark.slow
def test_with_two_threads_batched_images_and_scores_agree_to_float32_rounding(nets):
    """The measured gap of several threads: the same codes rendered and scored alone and beside others."""
    gen, net = nets
    torch.set_num_threads(2)
    try:
        codes = gen.sample(37, seed=0)
        unit = CNNUnit(net, "layer3", 5)
        with torch.no_grad():
            together = forward_in_chunks(gen, codes, 64)
            alone = forward_in_chunks(gen, codes[:17], 64)
            assert (together[:17] - alone).abs().max() <= 1e-6
            s_alone = measure_images_many([unit], [alone])[0].trials
            s_together = measure_images_many([unit, unit], [together[:17], together[17:]])[0].trials
        # measured on the 2-core CPU: images 1.8e-7 apart, scores 2e-6 (of a best score of 1.35)
        assert np.abs(s_alone - s_together).max() <= 1e-5 * np.abs(s_alone).max()
    finally:
        torch.set_num_threads(1)


def test_padded_chunks_give_each_row_the_output_it_has_in_any_batch():
    """A Linear layer's rows, alone or in any company, once every pass has MIN_PASS_ROWS rows."""
    torch.manual_seed(0)
    lin = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 64))
    x = torch.randn(70, 256)
    with torch.no_grad():
        ref = forward_in_chunks(lin, x, 70)
        for chunk in (1, 3, 16, 33, 64):
            assert torch.equal(forward_in_chunks(lin, x, chunk), ref), chunk
        assert torch.equal(forward_in_chunks(lin, x[5:6], 64), ref[5:6])
        # a list-valued pass is cut the same way
        two = forward_in_chunks(lambda t: [lin(t), 2 * t], x[:5], 4)
        assert [t.shape[0] for t in two] == [5, 5] and torch.equal(two[1], 2 * x[:5])
    assert MIN_PASS_ROWS >= 16


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.b = torch.nn.Conv2d(4, 5, 3, padding=1)
        self.c = torch.nn.Conv2d(5, 6, 3, padding=1)
        self.calls = []
        for name in "abc":
            getattr(self, name).register_forward_pre_hook(lambda m, i, name=name: self.calls.append(name))

    def forward(self, x):
        return self.c(torch.relu(self.b(torch.relu(self.a(x)))))


def test_layer_outputs_stop_after_the_deepest_layer_asked_for():
    net = Net()
    x = torch.rand(2, 3, 8, 8)
    outs = layer_outputs(net, [net.b, net.a, net.b], x)
    assert net.calls == ["a", "b"]  # c never ran
    assert torch.equal(outs[1], net.a(x)) and torch.equal(outs[0], net.b(torch.relu(net.a(x))))
    assert outs[2] is outs[0]
    with pytest.raises(RuntimeError, match="did not run"):
        layer_outputs(net, [torch.nn.Conv2d(3, 3, 1)], x)


def test_measure_images_many_equals_measure_images_unit_by_unit():
    """CNN units of one net and layer share a pass; each noisy one draws from its own generator."""
    net = Net().eval()
    net.calls.clear()
    units = [PoissonNoise(CNNUnit(net, "b", 1, position=None), scale=3, seed=0), CNNUnit(net, "b", 4),
             GaussianNoise(CNNUnit(net, "c", 2), sigma=0.5, seed=1)]
    alone = [PoissonNoise(CNNUnit(net, "b", 1, position=None), scale=3, seed=0), CNNUnit(net, "b", 4),
             GaussianNoise(CNNUnit(net, "c", 2), sigma=0.5, seed=1)]
    g = torch.Generator().manual_seed(0)
    imgs = [torch.rand(n, 3, 8, 8, generator=g) for n in (20, 17, 18)]
    net.calls.clear()
    together = measure_images_many(units, imgs)
    assert net.calls.count("a") == 2  # one pass for layer b's two units, one for layer c
    for m, u, x in zip(together, alone, imgs):
        ref = measure_images(u, x)
        assert np.allclose(m.trials, ref.trials, rtol=1e-6) and m.noisy == ref.noisy
        if m.noisy:
            assert np.allclose(m.clean, ref.clean, rtol=1e-6)
    for u, a in zip(units, alone):  # the same noise draws: the generators moved alike
        if u.noisy:
            assert torch.equal(u.rng.get_state(), a.rng.get_state())
