"""Optimizers on a CUDA device: the same path as on the CPU (random numbers are drawn on the CPU
from the optimizer's own generator), and a state that moves between devices."""

from __future__ import annotations

import pytest
import torch
from optim_helpers import rotated_ellipsoid

from landscape import optim


def test_random_numbers_come_from_a_cpu_generator():
    # the premise of the CUDA tests below, checkable without a GPU
    for name in optim.names():
        opt = optim.make(name, 8, seed=0)
        assert opt.rng.device.type == "cpu"
        assert opt.state_dict()["rng"].device.type == "cpu"


@pytest.mark.cuda
@pytest.mark.parametrize("name", optim.names())
def test_ten_generations_on_cuda_follow_the_cpu(cuda, name):
    d = 50
    f, _ = rotated_ellipsoid(d, condition=10.0, seed=0)
    paths = []
    for device in (cuda, torch.device("cpu")):
        opt = optim.make(name, d, seed=1, device=device, dtype="float64")
        seen = []
        for _ in range(10):
            codes = opt.ask()
            assert codes.device.type == device.type
            seen.append(codes.cpu())
            opt.tell(codes, f(codes.cpu()))
        paths.append(torch.cat(seen))
    assert torch.allclose(paths[0], paths[1], rtol=1e-9, atol=1e-9)


@pytest.mark.cuda
@pytest.mark.parametrize("name", optim.names())
def test_a_cuda_state_continues_on_the_cpu(cuda, name):
    d = 30
    f, _ = rotated_ellipsoid(d, condition=10.0, seed=2)
    a = optim.make(name, d, seed=3, device=cuda, dtype="float64")
    for _ in range(5):
        codes = a.ask()
        a.tell(codes, f(codes.cpu()))
    b = optim.make(name, d, seed=99, device="cpu", dtype="float64")
    b.load_state_dict(a.state_dict())
    for _ in range(3):
        ca, cb = a.ask(), b.ask()
        assert ca.device.type == cuda.type and cb.device.type == "cpu"
        assert torch.allclose(ca.cpu(), cb, rtol=1e-9, atol=1e-9)
        a.tell(ca, f(ca.cpu()))
        b.tell(cb, f(cb))


@pytest.mark.cuda
def test_cma_at_fc6_size_stays_on_the_device(cuda):
    d = 4096
    opt = optim.make("cma", d, seed=0, device=cuda, population=40)
    target = torch.randn(d, generator=torch.Generator().manual_seed(1)).to(cuda)
    for _ in range(12):
        codes = opt.ask()
        opt.tell(codes, -((codes - target) ** 2).sum(1))
    state = [opt.mean_, opt._ps, opt._pc, opt._pc_z, opt._Pt, opt._Vt] + ([] if opt._B is None else [opt._B])
    assert all(t.device.type == cuda.type for t in state)
