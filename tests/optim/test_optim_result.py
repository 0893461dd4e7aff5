"""pycma-style ``result`` and ``stop()`` on every optimizer, and evolve ending a run on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from landscape import optim
from optim_helpers import shifted_sphere

D = 6


def _drive(opt, f, gens: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    codes_seen, scores_seen = [], []
    for _ in range(gens):
        x = opt.ask()
        s = f(x)
        opt.tell(x, s)
        codes_seen.append(x.detach().double())
        scores_seen.append(s.detach().double())
    return codes_seen, scores_seen


@pytest.mark.parametrize("name", optim.BUILTIN)
def test_result_is_the_best_told_code_and_counts_everything(name):
    f, _ = shifted_sphere(D, seed=1)
    opt = optim.make(name, D, seed=3)
    assert opt.result.best_code is None and opt.result.best_score == -math.inf and opt.result.evaluations == 0
    codes, scores = _drive(opt, f, 5)
    allc, alls = torch.cat(codes), torch.cat(scores)
    i = int(alls.argmax())
    r = opt.result
    assert r.best_score == pytest.approx(float(alls[i]))
    assert torch.allclose(r.best_code.double(), allc[i], atol=1e-6)
    assert r.evaluations == allc.shape[0] and r.generations == 5
    assert r.best_generation == int(np.searchsorted(np.cumsum([len(s) for s in scores]), i, side="right"))
    assert r.stop == {}  # no criterion is on by default


def test_nan_scores_never_become_the_best_and_state_keeps_the_result():
    opt = optim.make("cma", D, seed=0, nan_policy="worst")
    x = opt.ask()
    s = torch.linspace(0, 1, x.shape[0], dtype=torch.float64)
    s[-1] = float("nan")  # would be the best if NaN were ranked high
    opt.tell(x, s)
    assert opt.result.best_score == pytest.approx(float(s[-2]))
    assert torch.equal(opt.result.best_code, x[-2])
    again = optim.make("cma", D, seed=0, nan_policy="worst")
    again.load_state_dict(opt.state_dict())
    assert again.result.best_score == opt.result.best_score and torch.equal(again.result.best_code, x[-2])
    assert again.result.evaluations == x.shape[0]


def test_maxiter_and_tolfun():
    opt = optim.make("ga", D, seed=0).stop_when(maxiter=3)
    flat = lambda x: torch.zeros(x.shape[0], dtype=torch.float64)  # noqa: E731
    _drive(opt, flat, 2)
    assert opt.stop() == {}
    _drive(opt, flat, 1)
    assert opt.stop() == {"maxiter": 3}
    # a flat landscape stagnates: tolfun is met once the window is full, not before
    opt = optim.make("nes", D, seed=0).stop_when(tolfun=1e-9, tolfun_generations=4)
    _drive(opt, flat, 3)
    assert "tolfun" not in opt.stop()
    _drive(opt, flat, 1)
    assert opt.stop() == {"tolfun": 1e-9}
    # an improving search does not stagnate
    f, _ = shifted_sphere(D, seed=2, scale=5.0)
    opt = optim.make("cma", D, seed=0).stop_when(tolfun=1e-9, tolfun_generations=4)
    _drive(opt, f, 6)
    assert "tolfun" not in opt.stop()


def test_tolx_follows_the_step_size_and_needs_one():
    f, _ = shifted_sphere(D, seed=0)
    opt = optim.make("cma", D, seed=0, sigma0=1.0).stop_when(tolx=0.3)
    gens = 0
    while not opt.stop() and gens < 300:
        _drive(opt, f, 1)
        gens += 1
    assert opt.stop() == {"tolx": 0.3} and opt.sigma_ < 0.3 and gens > 1
    with pytest.raises(ValueError, match="no step size for tolx"):
        optim.make("ga", D).stop_when(tolx=0.1)
    with pytest.raises(ValueError, match="maxiter"):
        optim.make("ga", D).stop_when(maxiter=0)


def test_evolve_ends_a_run_when_the_optimizer_says_stop(tmp_path):
    from landscape.record import Run
    from landscape.runs import evolve
    from landscape.units import Unit

    class Mean(Unit):
        def clean(self, images):
            return images.mean((1, 2, 3))

    class Gen:  # a tiny generator: codes are images' pixel offsets
        name, dim, image_size, prior_scale, device = "tiny", 12, 2, 1.0, torch.device("cpu")

        def describe(self):
            return {"name": self.name}

        def render(self, codes, batch_size=None):
            return torch.sigmoid(codes.reshape(-1, 3, 2, 2))

    opt = optim.make("ga", 12, seed=0, population=5).stop_when(maxiter=2)
    run = evolve(Gen(), Mean(), opt, budget=100, out=tmp_path / "r", progress=False)
    assert run.n_generations == 2 and run.meta["status"] == "stopped" and run.meta["stop"] == {"maxiter": 2}
    assert Run.load(tmp_path / "r").best_score == pytest.approx(opt.result.best_score)
