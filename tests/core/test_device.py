"""The evolution loop, units and noise models on a CUDA device: the same run as on the CPU, and a
run folder written on a GPU that resumes on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from landscape import optim
from landscape.generators import Generator, tanh_to_unit
from landscape.models.dcgan import DCGANGenerator
from landscape.runs import Run, evolve
from landscape.units import CNNUnit, GaussianNoise


def small_generator(device) -> Generator:
    torch.manual_seed(0)
    return Generator(DCGANGenerator(nz=16, ngf=8), dim=16, name="dcgan (random)", image_size=64,
                     postprocess=tanh_to_unit, code_shape=(16, 1, 1)).to(device)


def small_unit(device) -> CNNUnit:
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 8, 5, stride=2), nn.ReLU(), nn.Conv2d(8, 4, 3)).to(device)
    return CNNUnit(net, "2", 1)


@pytest.mark.cuda
def test_a_run_on_cuda_equals_the_run_on_the_cpu(cuda, tmp_path):
    runs = []
    for i, device in enumerate((cuda, torch.device("cpu"))):
        unit = GaussianNoise(small_unit(device), sigma=0.2, seed=4)
        opt = optim.make("cma", 16, seed=2, device=device, dtype="float64")
        runs.append(evolve(small_generator(device), unit, opt, budget=60, out=tmp_path / f"run{i}", seed=0,
                           progress=False))
    a, b = runs
    assert a.n_generations == b.n_generations
    np.testing.assert_allclose(np.concatenate(a.gen_codes), np.concatenate(b.gen_codes), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.concatenate(a.gen_scores), np.concatenate(b.gen_scores), rtol=1e-3, atol=1e-5)


@pytest.mark.cuda
def test_a_gpu_run_folder_resumes_on_the_cpu(cuda, tmp_path):
    out = tmp_path / "run"
    evolve(small_generator(cuda), small_unit(cuda), optim.make("ga", 16, seed=1, device=cuda, dtype="float64"),
           budget=40, out=out, seed=0, progress=False)
    resumed = evolve(small_generator("cpu"), small_unit("cpu"), optim.make("ga", 16, seed=1, dtype="float64"),
                     budget=80, out=out, seed=0, resume=True, progress=False)
    straight = evolve(small_generator("cpu"), small_unit("cpu"), optim.make("ga", 16, seed=1, dtype="float64"),
                      budget=80, out=tmp_path / "cpu", seed=0, progress=False)
    assert resumed.n_generations == straight.n_generations == 4
    np.testing.assert_allclose(np.concatenate(resumed.gen_codes), np.concatenate(straight.gen_codes),
                               rtol=1e-4, atol=1e-5)
    assert isinstance(Run.load(out), Run)


@pytest.mark.cuda
def test_units_return_scores_on_the_images_device(cuda):
    unit = small_unit(cuda)
    images = small_generator(cuda).render(torch.randn(5, 16, generator=torch.Generator().manual_seed(0)))
    assert images.device.type == cuda.type
    scores = unit(images)
    assert scores.device.type == cuda.type and scores.shape == (5,)
    cpu_scores = small_unit("cpu")(images.cpu())
    torch.testing.assert_close(scores.cpu(), cpu_scores, rtol=1e-4, atol=1e-5)
