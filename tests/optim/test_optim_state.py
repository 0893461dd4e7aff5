"""Every optimizer, restored from its state_dict (through a torch.save file, as runs do),
continues bit-for-bit; configs rebuild equal optimizers through ``make``."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from optim_helpers import rotated_ellipsoid

from landscape import optim
from landscape.optim import CMAES, Subspace


CASES = {
    "ga": ("ga", 16, {"n_elites": 2}),
    "cma-dense": ("cma", 6, {}),
    "cma-lowrank": ("cma", 40, {}),  # low rank, folded in the first generations, then dense
    "cma-folding": ("cma", 100, {"population": 8}),  # restored while folding its low rank
    "cma-init": ("cma", 12, {"population": 8}),
    "spherecma": ("spherecma", 16, {"population": 12, "select": 6}),
    "nes": ("nes", 16, {"learning_rate": 0.01, "search_radius_learning_rate": 0.001}),
    "nes-auto": ("nes-auto", 16, {}),
    "nes-onesided": ("nes-auto", 16, {"antithetic": False, "population": 9}),
    "fdgd": ("fdgd", 16, {"learning_rate": 0.01}),
    "fdgd-auto": ("fdgd-auto", 16, {}),
    "ga-actmax": ("ga-actmax", 16, {}),
    "ga-project": ("ga-project", 16, {}),
    "cholcma": ("cholcma", 16, {"population": 10, "refresh_every": 2}),  # factor refreshed before and after
    "pycma": ("pycma", 16, {}),
}


def through_file(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("between_ask_and_tell", [False, True])
def test_restored_optimizer_continues_bit_for_bit(case, between_ask_and_tell):
    name, d, settings = CASES[case]
    f, _ = rotated_ellipsoid(d, condition=100.0, seed=1)
    a = optim.make(name, d, seed=3, **settings)
    if case == "cma-init":
        a.initialize(torch.randn(5, d, generator=torch.Generator().manual_seed(2)))
    for _ in range(7):
        codes = a.ask()
        a.tell(codes, f(codes))
    if case == "cma-folding":
        assert a._B is not None and a._rank > a._lo  # a dense part and low-rank rows, both restored
    pending = a.ask() if between_ask_and_tell else None
    b = optim.make(**json.loads(json.dumps(a.config())))
    assert b.config() == a.config()
    b.load_state_dict(through_file(a.state_dict()))
    if pending is not None:
        a.tell(pending, f(pending))
        b.tell(pending, f(pending))
    for _ in range(6):
        ca, cb = a.ask(), b.ask()
        assert torch.equal(ca, cb)
        a.tell(ca, f(ca))
        b.tell(cb, f(cb))
    if case == "cma-lowrank":
        assert a._B is not None and a._rank == 0  # the dense factor was restored
    sa, sb = a.state_dict(), b.state_dict()
    for key, value in sa.items():
        if key == "pycma":  # pycma's pickle also holds its timers: compare what the search uses
            assert np.array_equal(a.es.mean, b.es.mean) and a.es.sigma == b.es.sigma
            assert np.array_equal(a.es.sm.C, b.es.sm.C) and np.array_equal(a.es.pc, b.es.pc)
        elif torch.is_tensor(value):
            assert torch.equal(value, sb[key]), key


def test_subspace_state_round_trip():
    d, k = 20, 4
    q, _ = torch.linalg.qr(torch.randn(d, k, generator=torch.Generator().manual_seed(0)))
    f, _ = rotated_ellipsoid(d, condition=10.0, seed=2)
    a = Subspace(CMAES(k, seed=1), q.T, center=torch.ones(d))
    for _ in range(5):
        c = a.ask()
        a.tell(c, f(c))
    b = Subspace(CMAES(k, seed=99), q.T, center=torch.ones(d))
    b.load_state_dict(through_file(a.state_dict()))
    for _ in range(4):
        ca, cb = a.ask(), b.ask()
        assert torch.equal(ca, cb)
        a.tell(ca, f(ca))
        b.tell(cb, f(cb))
    other = Subspace(CMAES(k, seed=1), torch.eye(d)[:k], center=torch.ones(d))
    with pytest.raises(ValueError, match="different subspace basis"):
        other.load_state_dict(a.state_dict())


def test_state_of_another_optimizer_is_refused():
    ga = optim.make("ga", 5, seed=0)
    with pytest.raises(ValueError, match="not 'cma'"):
        optim.make("cma", 5, seed=0).load_state_dict(ga.state_dict())


@pytest.mark.parametrize("name", optim.names())
def test_config_is_json_and_rebuilds_an_equal_optimizer(name):
    opt = optim.make(name, 8, seed=4, dtype="float64", nan_policy="worst")
    cfg = json.loads(json.dumps(opt.config()))
    assert cfg["name"] == name and cfg["dim"] == 8 and cfg["seed"] == 4 and cfg["dtype"] == "float64"
    again = optim.make(**cfg)
    assert again.config() == opt.config()
    assert torch.equal(again.ask(), opt.ask())
