"""render(): real resnet20 channels driven far past natural images; a known grating optimum found."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from landscape import featviz
from landscape.featviz import FourierImage, PixelImage, channel, deepdream, diversity, evaluate, neuron, render
from landscape.units.base import Unit


@pytest.fixture(scope="module")
def resnet20():
    from landscape import zoo

    return zoo.load("resnet20-cifar10")


@pytest.fixture(scope="module")
def cifar_images(weights_dir):
    files = sorted((weights_dir / "images").glob("cifar10_*.png"))
    assert len(files) == 20
    return torch.stack([torch.from_numpy(np.array(Image.open(f).convert("RGB"))).permute(2, 0, 1).float() / 255
                        for f in files])


@pytest.mark.slow
@pytest.mark.parametrize("layer,c", [("layer3", 5), ("layer2.1", 7)])
def test_rendered_image_drives_a_real_channel_far_above_natural_images(resnet20, cifar_images, layer, c):
    obj = channel(layer, c)
    natural = evaluate(resnet20, obj, cifar_images)
    start = evaluate(resnet20, obj, FourierImage(32, 1, seed=0)())  # render's own start for seed 0
    images, history = render(resnet20, obj, steps=48, seed=0)
    assert images.shape == (1, 3, 32, 32) and history.shape == (48, 1)
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    final = float(evaluate(resnet20, obj, images)[0])
    assert final > 2.0 * float(natural.max()), (final, natural.max())
    assert final > float(start[0]) + 1.0
    assert history[-8:].mean() > history[:8].mean()


def grating_net(theta_deg: float, period: float = 6.0, k: int = 11) -> nn.Module:
    """conv (one Gabor kernel, equal on R, G, B) -> ReLU: its optimum is a grating at theta_deg."""
    r = torch.arange(k) - (k - 1) / 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    th = math.radians(theta_deg)
    gabor = torch.cos(2 * math.pi / period * (xx * math.cos(th) + yy * math.sin(th)))
    gabor = gabor * torch.exp(-(xx ** 2 + yy ** 2) / (2 * (k / 4) ** 2))
    conv = nn.Conv2d(3, 1, k, bias=False)
    with torch.no_grad():
        conv.weight.copy_((gabor - gabor.mean()).expand(1, 3, k, k) / 3)
    return nn.Sequential(OrderedDict(conv=conv, relu=nn.ReLU()))


def dominant_orientation(image: torch.Tensor, f0: float) -> tuple[float, float]:
    """Orientation (degrees mod 180) of the wave vector carrying the power near frequency f0,
    and the fraction of the image's AC power in that band."""
    grey = image.mean(0).double()
    grey = grey - grey.mean()
    n = grey.shape[-1]
    power = torch.fft.fft2(grey).abs() ** 2
    fy = torch.fft.fftfreq(n, dtype=torch.float64)[:, None].expand(n, n)
    fx = torch.fft.fftfreq(n, dtype=torch.float64)[None, :].expand(n, n)
    f = torch.sqrt(fx ** 2 + fy ** 2)
    band = power * ((f > 0.5 * f0) & (f < 1.5 * f0))
    phi = torch.atan2(fy, fx)
    # doubled angles: a wave vector and its negative are the same orientation
    angle = 0.5 * torch.atan2((band * torch.sin(2 * phi)).sum(), (band * torch.cos(2 * phi)).sum())
    return math.degrees(float(angle)) % 180, float(band.sum() / power[f > 0].sum())


def angle_gap(a: float, b: float) -> float:
    d = abs(a - b) % 180
    return min(d, 180 - d)


@pytest.mark.parametrize("theta", [30.0, 120.0])
def test_grating_unit_gets_an_image_with_its_orientation(theta):
    net = grating_net(theta)
    images, _ = render(net, channel("relu", 0), size=32, steps=48, seed=1)
    found, band_share = dominant_orientation(images[0], 1 / 6)
    assert angle_gap(found, theta) < 8, (found, theta)
    assert band_share > 0.3
    # and the other orientation's unit barely responds to it, while its own does strongly
    own = float(evaluate(net, channel("relu", 0), images))
    other = float(evaluate(grating_net(theta + 90), channel("relu", 0), images))
    assert own > 3 * other


class LinearPixelUnit(Unit):
    """score = <w, image>: a white-box unit whose optimum is known (pixels 1 where w > 0)."""

    def __init__(self, w: torch.Tensor) -> None:
        self.w = w

    def clean(self, images):
        return (images * self.w).flatten(1).sum(1)


def test_unit_objective_needs_no_model_and_reaches_the_known_optimum():
    w = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    u = LinearPixelUnit(w)
    param = PixelImage(8, 1, decorrelate=False, squash="sigmoid", seed=0)
    images, history = render(None, featviz.unit(u), param=param, transforms=None, steps=150, lr=0.1)
    optimum = (w > 0).float()
    assert float((images.round() == optimum).float().mean()) > 0.97
    assert history[-1, 0] > 0.9 * float(u.clean(optimum))


def test_seeded_render_is_reproducible_and_objects_compose(resnet20):
    obj = channel("layer3", 5) - 0.5 * diversity("layer3") + 0.1 * deepdream("layer2") + neuron("layer3", 2)
    a, ha = render(resnet20, obj, steps=4, seed=3, batch=2)
    b, hb = render(resnet20, obj, steps=4, seed=3, batch=2)
    assert a.shape == (2, 3, 32, 32) and ha.shape == (4, 2)
    assert torch.equal(a, b) and np.array_equal(ha, hb)
    c, _ = render(resnet20, obj, steps=4, seed=4, batch=2)
    assert not torch.equal(a, c)


def test_training_flags_are_restored_and_weights_untouched(resnet20):
    resnet20.net.layer1.train()  # a deliberately mixed state
    before = {k: v.clone() for k, v in resnet20.state_dict().items()}
    render(resnet20, channel("layer1", 0), steps=3, seed=0)
    assert resnet20.net.layer1.training and not resnet20.net.layer2.training
    resnet20.net.layer1.eval()
    after = resnet20.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in resnet20.parameters())


def test_bad_inputs_raise_clear_errors(resnet20):
    with pytest.raises(ValueError, match="valid layers: conv1, bn1, relu, layer1"):
        render(resnet20, channel("layer9", 0), steps=2)
    with pytest.raises(IndexError, match="valid: 0 to 63"):
        render(resnet20, channel("layer3", 64), steps=2)
    with pytest.raises(ValueError, match="pass the model"):
        render(None, channel("layer3", 0), steps=2, size=32)
    with pytest.raises(ValueError, match="size"):
        render(nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 1, 3))), channel("conv", 0), steps=2)
    with pytest.raises(ValueError, match="steps"):
        render(resnet20, channel("layer3", 0), steps=0)
    with pytest.raises(ValueError, match="transforms"):
        render(resnet20, channel("layer3", 0), steps=2, transforms="heavy")


def _biased_net(bias: float) -> nn.Module:
    """relu(sum of a 3x3 patch + bias): responds only to images brighter than -bias / 27."""
    net = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 1, 3), relu=nn.ReLU(inplace=True)))
    with torch.no_grad():
        net.conv.weight.fill_(1.0)
        net.conv.bias.fill_(bias)
    return net


def test_a_dead_unit_raises_instead_of_returning_noise():
    net = _biased_net(-100.0)  # dead for every image in [0, 1]
    with pytest.raises(RuntimeError, match="zero gradient"):
        render(net, channel("relu", 0), size=16, steps=30, redirect_relu=False)
    with pytest.raises(RuntimeError, match="never responded"):
        render(net, channel("relu", 0), size=16, steps=30)


def test_redirected_relu_starts_a_unit_silent_for_the_grey_start():
    net = _biased_net(-20.0)  # silent for the grey start (27 x 0.5 < 20), driven by bright images
    obj = channel("relu", 0)
    with pytest.raises(RuntimeError, match="Try redirect_relu=True"):
        render(net, obj, size=16, steps=30, redirect_relu=False, transforms=None)
    images, history = render(net, obj, size=16, steps=60, transforms=None)
    assert history[0, 0] == 0 and history[-1, 0] > 0.5  # it responds, and climbs towards 7 (a white image)
    assert history[-1, 0] > history[-10, 0]
    assert float(evaluate(net, obj, images)) == pytest.approx(history[-1, 0], rel=0.05)
    assert type(net.relu).forward is nn.ReLU.forward and "forward" not in vars(net.relu)  # unpatched


def test_redirected_relu_gradient_matches_lucid():
    from landscape.featviz.relu import RedirectedReLU

    x = torch.tensor([[-1.0, -2.0, 3.0], [-1.0, -2.0, -3.0]], requires_grad=True)
    y = RedirectedReLU.apply(x)
    assert torch.equal(y, torch.relu(x))
    g = torch.tensor([[1.0, -1.0, 2.0], [1.0, -1.0, 2.0]])
    (gx,) = torch.autograd.grad(y, x, g)
    # row 0: the ReLU passes a gradient (x = 3), so the true one; row 1: nothing passes, so the
    # gradient is redirected, except where descent (-g) would push a negative input lower
    assert torch.equal(gx, torch.tensor([[0.0, 0.0, 2.0], [0.0, -1.0, 0.0]]))


def test_render_runs_under_a_callers_no_grad():
    net = grating_net(45.0)
    with torch.no_grad():
        _, history = render(net, channel("relu", 0), size=16, steps=10, seed=0, transforms=None)
    assert history[-1, 0] > history[0, 0]
