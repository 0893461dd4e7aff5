"""The documented NaN policies (raise, worst, drop) hold for every optimizer."""

from __future__ import annotations

import math

import pytest
import torch
from optim_helpers import shifted_sphere

from landscape import optim


D = 10


def warmed(name: str, policy: str):
    """An optimizer past its first generation, plus the test function."""
    f, _ = shifted_sphere(D, seed=0)
    opt = optim.make(name, D, seed=1, nan_policy=policy, dtype="float64")
    for _ in range(2):
        c = opt.ask()
        opt.tell(c, f(c))
    return opt, f


@pytest.mark.parametrize("name", optim.names())
def test_raise_names_the_rows_and_changes_nothing(name):
    opt, f = warmed(name, "raise")
    codes = opt.ask()
    scores = f(codes)
    scores[[1, 3]] = math.nan
    before = opt.state_dict()
    with pytest.raises(ValueError, match=r"rows \[1, 3\]"):
        opt.tell(codes, scores)
    after = opt.state_dict()
    assert after["generation"] == before["generation"]
    assert torch.equal(after["rng"], before["rng"])
    scores[[1, 3]] = math.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        opt.tell(codes, scores)


@pytest.mark.parametrize("name", optim.names())
def test_worst_ranks_the_rows_below_every_finite_score(name):
    worst, f = warmed(name, "worst")
    same, _ = warmed(name, "raise")
    codes = worst.ask()
    assert torch.equal(codes, same.ask())
    scores = f(codes)
    bad = torch.tensor([0, 2])
    good = torch.ones(len(scores), dtype=torch.bool)
    good[bad] = False
    filled = scores.clone()
    filled[bad] = scores[good].min() - scores[good].std()
    scores[bad] = math.nan
    worst.tell(codes, scores)
    same.tell(codes, filled)
    assert torch.equal(worst.ask(), same.ask())


@pytest.mark.parametrize("name", optim.names())
def test_drop_learns_from_the_remaining_rows(name):
    opt, f = warmed(name, "drop")
    codes = opt.ask()
    scores = f(codes)
    scores[-3:] = math.nan
    opt.tell(codes, scores)
    nxt = opt.ask()
    assert torch.isfinite(nxt).all()
    assert nxt.shape[0] == codes.shape[0]  # population sizes are kept
    assert opt.generation == 3
    everything_bad = torch.full_like(scores, math.nan)
    with pytest.raises(ValueError, match="every score"):
        opt.tell(nxt, everything_bad[: nxt.shape[0]])


def test_ga_never_keeps_a_dropped_or_worst_row_as_elite():
    for policy in ("drop", "worst"):
        ga = optim.make("ga", 4, population=6, n_elites=2, seed=0, nan_policy=policy)
        codes = ga.ask()
        scores = torch.tensor([math.nan, 1.0, 2.0, 3.0, 4.0, 5.0])
        ga.tell(codes, scores)
        nxt = ga.ask()
        assert torch.equal(nxt[:2], codes[[5, 4]])
        assert not (nxt == codes[0]).all(1).any()
