"""Objective algebra and readouts, and activation hooks on plain and zoo models."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn

from landscape.featviz import as_objective, channel, deepdream, diversity, neuron, record_activations, unit
from landscape.units.base import Unit


@pytest.fixture
def acts():
    g = torch.Generator().manual_seed(0)
    return {"a": torch.randn(3, 4, 5, 6, generator=g), "b": torch.randn(3, 2, 7, 7, generator=g),
            "fc": torch.randn(3, 10, generator=g)}


def test_readouts(acts):
    a = acts["a"]
    images = torch.zeros(3, 3, 8, 8)
    assert torch.allclose(channel("a", 2)(acts, images), a[:, 2].mean(dim=(1, 2)))
    assert torch.allclose(neuron("a", 1)(acts, images), a[:, 1, 2, 3])  # centre (H//2, W//2)
    assert torch.allclose(neuron("a", 1, y=0, x=5)(acts, images), a[:, 1, 0, 5])
    assert torch.allclose(deepdream("b")(acts, images), (acts["b"] ** 2).mean(dim=(1, 2, 3)))
    assert torch.allclose(channel("fc", 7)(acts, images), acts["fc"][:, 7])
    assert torch.allclose(neuron("fc", 7)(acts, images), acts["fc"][:, 7])


def test_algebra_evaluates_the_right_combination(acts):
    images = torch.zeros(3, 3, 8, 8)
    a, b, c = channel("a", 0), neuron("b", 1), deepdream("a")
    va, vb, vc = a(acts, images), b(acts, images), c(acts, images)
    assert torch.allclose((2 * a - b)(acts, images), 2 * va - vb)
    assert torch.allclose((a * 2 - b / 4 + c)(acts, images), 2 * va - vb / 4 + vc)
    assert torch.allclose((-a)(acts, images), -va)
    assert torch.allclose((-(a - 3 * b))(acts, images), -va + 3 * vb)
    assert torch.allclose(sum([a, b, c])(acts, images), va + vb + vc)
    assert (2 * a - b).layers == {"a", "b"}
    assert repr(2 * a - b) == "2*channel('a', 0) - neuron('b', 1)"
    assert repr(-a + b) == "-channel('a', 0) + neuron('b', 1)"
    assert channel("a", 0) == a and hash(channel("a", 0)) == hash(a)
    with pytest.raises(TypeError):
        a * a
    with pytest.raises(TypeError):
        a + 1.5


def test_diversity_is_batch_similarity():
    same = {"l": torch.rand(1, 4, 3, 3).repeat(3, 1, 1, 1)}
    assert torch.allclose(diversity("l")(same, None), torch.ones(3), atol=1e-6)
    disjoint = torch.zeros(2, 4, 3, 3)
    disjoint[0, :2] = torch.rand(2, 3, 3)
    disjoint[1, 2:] = torch.rand(2, 3, 3)
    assert torch.allclose(diversity("l")({"l": disjoint}, None), torch.zeros(2), atol=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        diversity("l")({"l": torch.rand(1, 4, 3, 3)}, None)


def test_out_of_range_and_bad_indices_name_valid_choices(acts):
    with pytest.raises(IndexError, match="valid: 0 to 3"):
        channel("a", 4)(acts, None)
    with pytest.raises(IndexError, match="0 <= y < 5"):
        neuron("a", 0, y=5, x=0)(acts, None)
    with pytest.raises(KeyError, match="recorded"):
        channel("zz", 0)(acts, None)
    with pytest.raises(TypeError, match="integer"):
        channel("a", 1.5)
    with pytest.raises(ValueError, match="layer:channel"):
        as_objective("layer3")
    assert as_objective("layer3.0:5") == channel("layer3.0", 5)


class Brightness(Unit):
    def clean(self, images):
        return images.mean(dim=(1, 2, 3))


def test_unit_objective_wraps_any_unit():
    images = torch.rand(2, 3, 4, 4)
    obj = unit(Brightness())
    assert torch.allclose(obj({}, images), images.mean(dim=(1, 2, 3)))
    assert obj.layers == frozenset()
    assert as_objective(Brightness()).layers == frozenset()
    combo = 2 * obj - channel("a", 0)
    assert combo.layers == {"a"}
    with pytest.raises(TypeError, match="Unit"):
        unit(lambda x: x)


def inplace_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 4, 3), relu=nn.ReLU(inplace=True),
                                     pool=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(4, 2)))


def test_hooks_read_what_a_manual_forward_gives_despite_inplace_relu():
    net = inplace_net()
    x = torch.rand(2, 3, 8, 8)
    rec = record_activations(net, x, ["conv", "fc"])
    manual = net.conv(x)
    assert torch.allclose(rec["conv"], manual)
    assert float(rec["conv"].detach().min()) < 0  # the in-place ReLU did not overwrite the copy
    assert torch.allclose(rec["fc"], net(x))


def test_hooks_keep_gradients_and_stop_early():
    net = inplace_net()
    calls = []
    net.fc.register_forward_hook(lambda *a: calls.append(1))
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    rec = record_activations(net, x, ["conv"])
    assert calls == []  # the pass stopped after conv
    rec["conv"].sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_unknown_layer_lists_valid_names():
    with pytest.raises(ValueError, match=r"valid layers: conv, relu, pool, flat, fc"):
        record_activations(inplace_net(), torch.rand(1, 3, 8, 8), ["conv9"])


def test_zoo_model_layers_are_names_in_net_and_images_are_preprocessed():
    from landscape import zoo
    from landscape.units import layers

    model = zoo.load("resnet20-cifar10")
    x = torch.rand(2, 3, 40, 40)  # not the input size: the zoo model resizes
    rec = record_activations(model, x, ["conv1", "layer2.1"])
    net = model.net
    pre = model.preprocess(x)
    assert torch.allclose(rec["conv1"], net.conv1(pre), atol=1e-5)
    expected = net.layer2[1](net.layer2[0](net.layer1(net.relu(net.bn1(net.conv1(pre))))))
    assert torch.allclose(rec["layer2.1"], expected, atol=1e-5)
    from landscape.featviz import layer_names
    assert layer_names(model) == layers(model)
