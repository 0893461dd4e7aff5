"""CNN units read what a manual forward pass gives; noise models behave as documented."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from landscape import zoo
from landscape.units import CNNUnit, GaussianNoise, PoissonNoise, layers


@pytest.fixture(scope="module")
def resnet20():
    return zoo.load("resnet20-cifar10")


def test_hook_reads_what_a_manual_forward_gives(resnet20):
    x = torch.rand(5, 3, 32, 32)
    net = resnet20.net
    with torch.no_grad():
        h = net.relu(net.bn1(net.conv1(resnet20.preprocess(x))))
        l1 = net.layer1(h)
        l2 = net.layer2(l1)
    unit = CNNUnit(resnet20, "layer2", 7)
    assert torch.allclose(unit(x), l2[:, 7, 8, 8], atol=1e-6)
    unit_mean = CNNUnit(resnet20, "layer1", 3, position=None)
    assert torch.allclose(unit_mean(x), l1[:, 3].mean(dim=(1, 2)), atol=1e-6)
    unit_xy = CNNUnit(resnet20, "layer1", 3, position=(2, 30))
    assert torch.allclose(unit_xy(x), l1[:, 3, 2, 30], atol=1e-6)
    out = CNNUnit(resnet20, "linear", 4)
    assert torch.allclose(out(x), resnet20(x)[:, 4], atol=1e-5)


def test_inplace_relu_does_not_change_what_was_read():
    torch.manual_seed(0)  # unseeded weights sometimes gave no negative pre-activation at this cell
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(4, 2, 1))
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        pre = net[0](x)[:, 1, 4, 4].clone()
    unit = CNNUnit(net, "0", 1)
    got = unit(x)
    assert torch.allclose(got, pre)
    assert (pre < 0).any()  # the in-place ReLU would have zeroed these


def test_batches_equal_one_pass(resnet20):
    x = torch.rand(10, 3, 32, 32)
    assert torch.allclose(CNNUnit(resnet20, "layer3", 1, batch_size=3)(x), CNNUnit(resnet20, "layer3", 1)(x),
                          atol=1e-6)


def test_unit_is_differentiable(resnet20):
    x = torch.rand(2, 3, 40, 40, requires_grad=True)
    CNNUnit(resnet20, "layer3", 2, position=None).clean(x).sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_bad_layer_channel_position_are_named(resnet20):
    with pytest.raises(ValueError, match="valid layers: conv1"):
        CNNUnit(resnet20, "layer4", 0)
    with pytest.raises(ValueError, match="valid: 0 to 63"):
        CNNUnit(resnet20, "layer3", 64)
    with pytest.raises(ValueError, match="outside"):
        CNNUnit(resnet20, "layer3", 0, position=(9, 0))
    with pytest.raises(ValueError, match="no spatial map"):
        CNNUnit(resnet20, "linear", 0, position=(1, 1))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        CNNUnit(resnet20, "layer3", 0)(torch.rand(2, 1, 32, 32))
    assert "layer3.2.relu2" in layers(resnet20)


def test_poisson_noise_is_unbiased_and_seeded(resnet20):
    unit = CNNUnit(resnet20, "linear", 1)
    x = torch.rand(4, 3, 32, 32)
    clean = unit.clean(x).clamp_min(0)
    noisy = PoissonNoise(unit, scale=5.0, reps=2000, seed=0)
    obs = noisy(x)  # reps are drawn from one clean pass: 4 images through the network, not 8000
    assert torch.allclose(obs, clean, rtol=0.05, atol=0.02)
    a = PoissonNoise(unit, scale=1.0, seed=3)
    b = PoissonNoise(unit, scale=1.0, seed=3)
    assert torch.equal(a(x), b(x))
    state = a.state_dict()
    first = a(x)
    a.load_state_dict(state)
    assert torch.equal(a(x), first)
    assert torch.equal(noisy.clean(x), unit.clean(x)) and noisy.layer == "linear"


def test_gaussian_noise_matches_its_model(resnet20):
    unit = CNNUnit(resnet20, "linear", 1)
    x = torch.rand(1, 3, 32, 32)
    a = float(unit.clean(x))
    noisy = GaussianNoise(unit, sigma=0.3, seed=0)
    obs = noisy.observe(torch.full((4000,), a))  # the noise model alone, on a known clean response
    assert abs(float(obs.mean()) / a - 1) < 0.03
    assert abs(float((obs / a).std()) - 0.3) < 0.03
    assert float(noisy(x)) != a and float(noisy.clean(x)) == a
    with pytest.raises(ValueError, match="sigma"):
        GaussianNoise(unit, sigma=-1)
