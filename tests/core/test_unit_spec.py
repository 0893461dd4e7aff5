"""landscape.units.spec: a unit from words and words from a unit, in every form the toolkit uses."""

from __future__ import annotations

import pytest
import torch

from landscape import zoo
from landscape.units import CNNUnit, GaussianNoise, PoissonNoise
from landscape.units.spec import (build_unit, parse_position, parse_unit_id, unit_from_description, unit_id)


@pytest.fixture(scope="module")
def resnet20(weights_dir):
    return zoo.load("resnet20-cifar10")


def test_positions():
    assert parse_position("center") == "center"
    assert parse_position("mean") is None and parse_position(None) is None
    assert parse_position("2,3") == (2, 3) and parse_position([2, 3]) == (2, 3)
    for bad in ("middle", "1,2,3", [1.5, 2], "a,b"):
        with pytest.raises(ValueError, match="'center', 'mean'"):
            parse_position(bad)


def test_unit_ids_round_trip():
    for desc in ({"model": "resnet20-cifar10", "layer": "layer3", "channel": 5, "position": "center"},
                 {"model": "alexnet-imagenet", "layer": "features.3", "channel": 12, "position": "mean"},
                 {"model": "m", "layer": "a/b", "channel": 0, "position": "1,2"}):
        assert parse_unit_id(unit_id(desc)) == desc
    assert unit_id({"model": "m", "layer": "l", "channel": 3, "position": [1, 2]}) == "m/l/3@1,2"
    assert unit_id({"model": "m", "layer": "l", "channel": 3, "position": None}) == "m/l/3@mean"
    with pytest.raises(ValueError, match="MODEL/LAYER/CHANNEL"):
        parse_unit_id("resnet20-cifar10:layer3")


@pytest.mark.parametrize("noise", ["none", "poisson:5:2", "gaussian:0.3", "poisson-spikes:20:1:8"])
def test_build_then_rebuild_from_the_description(resnet20, noise):
    G = zoo.load("digiface-dcgan64")
    unit = build_unit("resnet20-cifar10", "layer3", 5, "2,3", noise, seed=4, model=resnet20, generator=G)
    desc = unit.describe()
    again = unit_from_description(desc, model=resnet20)
    assert again.describe() == desc  # noise model, seed and calibration included
    assert isinstance(again, {"none": CNNUnit, "gaussian": GaussianNoise}.get(noise.split(":")[0], PoissonNoise))
    x = G(G.sample(3, seed=0))
    with torch.no_grad():
        assert torch.allclose(unit.clean(x), again.clean(x))
    clean = unit_from_description(desc, model=resnet20, noise=False)
    assert isinstance(clean, CNNUnit) and clean.describe() == {k: v for k, v in desc.items() if k != "noise"}


def test_a_combination_is_rebuilt_term_by_term(resnet20):
    G = zoo.load("digiface-dcgan64")
    a = build_unit("resnet20-cifar10", "layer3", 1, "center", "none", model=resnet20)
    b = build_unit("resnet20-cifar10", "layer3", 2, "center", "gaussian:0.3", seed=7, model=resnet20)
    combo = a - 0.5 * b
    desc = combo.describe()
    again = unit_from_description(desc)  # loads resnet20 from the zoo, once for both terms
    assert again.describe() == desc
    assert again.terms[0][1].model is again.terms[1][1].unit.model
    x = G(G.sample(3, seed=0))
    with torch.no_grad():
        assert torch.allclose(combo.clean(x), again.clean(x))
        assert torch.allclose(again.clean(x), a.clean(x) - 0.5 * b.clean(x))
    clean = unit_from_description(desc, model=resnet20, noise=False)
    assert not clean.noisy and [w for w, _ in clean.terms] == [1.0, -0.5]
    with pytest.raises(ValueError, match="'terms'"):
        unit_from_description({"type": "UnitCombination", "terms": []})
    other = {"type": "UnitCombination", "terms": [desc["terms"][0], {"weight": 1.0, "unit": {
        **desc["terms"][0]["unit"], "model": "resnet32-cifar10"}}]}
    with pytest.raises(ValueError, match="model=None"):
        unit_from_description(other, model=resnet20)


def test_bad_descriptions_are_named(resnet20):
    with pytest.raises(ValueError, match="not a CNN unit of a zoo classifier"):
        unit_from_description({"type": "GaborEnergyUnit"})
    with pytest.raises(ValueError, match="lacks"):
        unit_from_description({"type": "CNNUnit", "model": "resnet20-cifar10"}, model=resnet20)
    with pytest.raises(ValueError, match="noise must be"):
        build_unit("resnet20-cifar10", "layer3", 5, "center", "poison:5", model=resnet20)
    with pytest.raises(ValueError, match="pass the generator"):
        build_unit("resnet20-cifar10", "layer3", 5, "center", "poisson-spikes:20", model=resnet20)
