"""Tuning maps measured on a CUDA device equal the CPU's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from landscape.generators import Generator, tanh_to_unit
from landscape.maps import sphere_map
from landscape.maps.axes import random_axes
from landscape.models.dcgan import DCGANGenerator
from landscape.units import CNNUnit


@pytest.mark.cuda
def test_sphere_map_on_cuda_equals_the_cpu_map(cuda):
    maps = []
    for device in (cuda, torch.device("cpu")):
        torch.manual_seed(0)
        G = Generator(DCGANGenerator(nz=16, ngf=8), dim=16, name="dcgan (random)", image_size=64,
                      postprocess=tanh_to_unit, code_shape=(16, 1, 1)).to(device)
        torch.manual_seed(1)
        unit = CNNUnit(nn.Sequential(nn.Conv2d(3, 8, 5, stride=2), nn.ReLU(), nn.Conv2d(8, 4, 3)).to(device), "2", 1)
        maps.append(sphere_map(G, unit, random_axes(16, 3, seed=0), 4.0, n=7, progress=False))
    a, b = maps
    assert a.values.shape == (7, 7) and np.ptp(b.values) > 0
    np.testing.assert_allclose(a.values, b.values, rtol=1e-4, atol=1e-5 * np.abs(b.values).max())
