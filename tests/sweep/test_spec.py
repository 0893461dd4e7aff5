"""Sweep specs: malformed ones are rejected before any task starts, naming the field; keys are stable."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from landscape import sweep as sweep_mod
from landscape.sweep import SpecError, load_spec, plan, task_key
from landscape.sweep.spec import random_channels

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sweep_small.toml"

GOOD = {
    "sweep": {"budget": 20, "seeds": [0, 1], "noise": ["none", "poisson:5"]},
    "units": [{"model": "resnet20-cifar10", "layers": ["layer3"], "channels": [5]}],
    "optimizers": {"ga": {"population": 10}, "cma": {}},
}


def _bad(path: str, value, drop: bool = False) -> dict:
    """GOOD with the field at dotted ``path`` set to ``value`` (or removed)."""
    spec = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = spec
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if drop:
        del node[last]
    else:
        node[last] = value
    return spec


@pytest.mark.parametrize("path, value, field, words", [
    ("units.0.model", "resnet21-cifar10", "units[0].model", "resnet20-cifar10"),
    ("units.0.layers", ["layer3", "layer9"], "units[0].layers[1]", "layer2.0"),
    ("optimizers.adam", {}, "optimizers.adam", "spherecma"),
    ("sweep.budget", -5, "sweep.budget", "positive"),
    ("sweep.budget", 0, "sweep.budget", "positive"),
    ("sweep.budget", 2.5, "sweep.budget", "positive"),
    ("sweep.noise", ["none", "gauss:0.2"], "sweep.noise[1]", "gaussian:SIGMA"),
    ("sweep.noise", ["poisson:-1"], "sweep.noise[0]", "SCALE > 0"),
    ("sweep.noise", ["poisson-spikes:0"], "sweep.noise[0]", "SPIKES > 0"),
    ("sweep.references", "cifar11", "sweep.references", "cifar, cifar10"),
    ("sweep.references", 3, "sweep.references", "named set"),
    ("units.0.channels", [5, 64], "units[0].channels", "0 to 63"),
    ("units.0.channels", "random 65", "units[0].channels", "(64)"),
    ("units.0.channels", "some", "units[0].channels", "random N"),
    ("units.0.position", "corner", "units[0].position", "center"),
    ("sweep.budjet", 20, "sweep.budjet", "budget"),
    ("sweep.seeds", [0, 0], "sweep.seeds", "repeat"),
    ("sweep.generators", ["resnet20-cifar10"], "sweep.generators[0]", "digiface-dcgan64"),
    ("optimizers.ga", {"populaton": 10}, "optimizers.ga", "population"),
    ("optimizers.ga", {"seed": 3}, "optimizers.ga.seed", "sweep.seeds"),
    ("sweep.reference_optimizer", "nes", "sweep.reference_optimizer", "ga, cma"),
    ("map", {"grid": "cube:5"}, "map.grid", "sphere:N"),
    ("map", {"axes": "hessian:0,1"}, "map.axes", "landscape map"),
    ("map", {"axes": "pc:1,2", "grid": "sphere:9"}, "map.axes", "exactly 3"),
    ("map", {"reps": 0}, "map.reps", "positive"),
])
def test_malformed_spec_names_the_field(tmp_path, monkeypatch, path, value, field, words):
    # Nothing may start: no cluster, no folder.
    monkeypatch.setattr("landscape.sweep.engine.start_local_client",
                        lambda *a, **k: pytest.fail("a cluster was started for a malformed spec"))
    with pytest.raises(SpecError) as e:
        sweep_mod.sweep(_bad(path, value), out=tmp_path / "out", progress=False)
    assert e.value.field == field
    assert repr(field) in str(e.value) and words in str(e.value)
    assert not (tmp_path / "out").exists()


def test_missing_required_fields():
    with pytest.raises(SpecError, match="sweep.budget"):
        load_spec(_bad("sweep.budget", None, drop=True))
    with pytest.raises(SpecError, match="'units'"):
        load_spec(_bad("units", None, drop=True))
    with pytest.raises(SpecError, match="'optimizers'"):
        load_spec(_bad("optimizers", {}))
    with pytest.raises(SpecError, match="'topology'.*map"):
        load_spec({**GOOD, "topology": {}})
    with pytest.raises(SpecError, match="'topology.levels'"):
        load_spec({**GOOD, "map": {}, "topology": {"levels": 1}})


def test_cli_rejects_a_malformed_spec(tmp_path, capsys):
    from landscape.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nbudget = -1\n[[units]]\nmodel = "resnet20-cifar10"\nlayers = ["layer3"]\n'
                   'channels = [0]\n[optimizers.ga]\n')
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o"), "--serial"]) == 2
    assert "'sweep.budget'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_plan_expands_the_product_with_stable_distinct_keys():
    tasks = plan(load_spec(GOOD))
    assert len(tasks) == 1 * 2 * 2 * 2  # unit x noise x optimizer x seed
    assert len({t.key for t in tasks}) == len(tasks)
    assert [t.key for t in plan(load_spec(copy.deepcopy(GOOD)))] == [t.key for t in tasks]
    cfg = tasks[0].config
    assert task_key(cfg) == tasks[0].key
    # every field of the config is part of the key
    for change in ({"seed": 7}, {"budget": 21}, {"noise": "gaussian:0.2"}, {"channel": 6},
                   {"optimizer": {**cfg["optimizer"], "settings": {"population": 12}}}):
        assert task_key({**cfg, **change}) != tasks[0].key
    assert cfg["optimizer"] == {"label": "ga", "algorithm": "ga", "settings": {"population": 10}}
    assert cfg["references"] == "cifar"  # "default": the CIFAR network's domain set


def test_reference_sets_and_calibrated_noise_in_specs():
    spec = copy.deepcopy(GOOD)
    spec["sweep"].update({"references": "cifar10+photos", "noise": ["poisson-spikes:10:1:50"]})
    tasks = plan(load_spec(spec))
    assert {t.config["references"] for t in tasks} == {"cifar10+photos"}
    assert {t.config["noise"] for t in tasks} == {"poisson-spikes:10:1:50"}


def test_one_map_task_per_unit_and_noise_level():
    from landscape.sweep import plan_maps

    spec = load_spec({**GOOD, "map": {"grid": "sphere:9"}, "topology": {}})
    tasks = plan(spec)
    maps = plan_maps(spec, tasks)
    assert len(maps) == 2 and plan_maps(load_spec(GOOD), tasks) == []
    for m in maps:
        mine = [t.key for t in tasks if t.config["noise"] == m.config["noise"]]
        assert m.config["tasks"] == mine and m.config["topology"]["levels"] == 21
    assert len({m.key for m in maps} | {t.key for t in tasks}) == len(maps) + len(tasks)


def test_random_and_all_channels():
    a = random_channels(64, 5, 0, "resnet20-cifar10", "layer3")
    assert a == random_channels(64, 5, 0, "resnet20-cifar10", "layer3")
    assert len(set(a)) == 5 and all(0 <= c < 64 for c in a) and a == sorted(a)
    assert a != random_channels(64, 5, 1, "resnet20-cifar10", "layer3")
    spec = _bad("units.0.channels", "random 3")
    spec["units"].append({"model": "resnet20-cifar10", "layer": "layer1.0.conv1", "channels": "all"})
    tasks = plan(load_spec(spec))
    per_unit = len(GOOD["sweep"]["seeds"]) * len(GOOD["sweep"]["noise"]) * len(GOOD["optimizers"])
    assert len(tasks) == (3 + 16) * per_unit
    chans = sorted({t.config["channel"] for t in tasks if t.config["layer"] == "layer3"})
    assert chans == random_channels(64, 3, 0, "resnet20-cifar10", "layer3")


def test_example_spec_parses_from_toml():
    spec = load_spec(EXAMPLE)
    tasks = plan(spec)
    assert len(tasks) == 2 * 2 * 2 * 3 * 2 and spec.reference_label == "ga"
    assert {t.config["optimizer"]["label"] for t in tasks} == {"ga", "cma", "spherecma"}
    text = EXAMPLE.read_text()
    assert [t.key for t in plan(load_spec(text))] == [t.key for t in tasks]  # TOML text works too


def test_actmax_example_names_real_layers_and_valid_settings():
    """The cluster-sized example needs weights this machine lacks, so check it piece by piece."""
    from landscape.models.imagenet import build_imagenet_classifier
    from landscape.sweep.optimizers import make_optimizer
    from landscape.units import layers

    spec = load_spec(EXAMPLE.parent / "sweep_actmax.toml")
    (grp,) = spec.units
    assert set(grp.layers) <= set(layers(build_imagenet_classifier("alexnet")))
    n = len(grp.layers) * grp.channels[1] * len(spec.optimizers) * len(spec.seeds) * len(spec.noise)
    assert n == 7 * 10 * 5 * 5 * 3 and spec.budget == 3000
    for o in spec.optimizers:  # DeePSiM fc6 codes are 4096-d
        make_optimizer(o.algorithm, 4096, seed=0, device="cpu", settings=o.settings)
