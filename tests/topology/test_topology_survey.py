"""The layer survey on a real CIFAR-10 ResNet, kept tiny: two layers, one unit each, short runs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from landscape.pipeline import survey
from landscape.topology import SUMMARY_KEYS
from landscape.topology.hierarchy import default_layers


def test_default_layers():
    assert default_layers("resnet32-cifar10") == ["layer1", "layer2", "layer3", "linear"]
    assert default_layers("darknet-tiny-imagenet")[-1] == "global_average_pooling2d_1"
    with pytest.raises(ValueError, match="pass layers"):
        default_layers("alexnet-imagenet")


@pytest.mark.slow
def test_survey_end_to_end_and_resume(tmp_path, weights_dir):
    out = tmp_path / "survey"
    kw = dict(out=out, channels={"layer1": [3], "linear": [7]}, budget=34, grid="sphere:5", progress=False,
              optimizer_settings={"population": 17})
    res = survey("resnet20-cifar10", ["layer1", "linear"], **kw)
    assert [u["layer"] for u in res.units] == ["layer1", "linear"]
    assert [u["channel"] for u in res.units] == [3, 7]
    for u in res.units:
        assert np.isfinite(u["best_score"])
        assert all(u[k] is not None for k in SUMMARY_KEYS)
        assert u["n_maxima"] >= 1 and u["n_maxima"] - u["n_saddles"] + u["n_minima"] == 1  # a hemisphere
    # the map was measured around the evolved code: its peak is at least the evolution's best
    from landscape.maps import TuningMap

    tm = TuningMap.load(out / "layer1" / "ch0003" / "map")
    assert tm.kind == "sphere" and tm.values.shape == (5, 5)
    for name in ("units.csv", "layers.csv", "trends.csv", "survey.png", "survey.html", "survey.json"):
        assert (out / name).is_file(), name
    with open(out / "units.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and set(SUMMARY_KEYS) <= set(rows[0])
    table = res.layer_table()
    assert [r["layer"] for r in table] == ["layer1", "linear"] and table[0]["n_units"] == 1
    rec = json.loads((out / "layer1" / "ch0003" / "topology" / "signature.json").read_text())
    assert rec["domain"]["poles"] == [True, True]
    # a second call reads every finished unit back instead of evolving again
    stamp = (out / "layer1" / "ch0003" / "map.npz").stat().st_mtime_ns
    again = survey("resnet20-cifar10", ["layer1", "linear"], **kw)
    assert (out / "layer1" / "ch0003" / "map.npz").stat().st_mtime_ns == stamp
    assert [u["loops_auc"] for u in again.units] == [u["loops_auc"] for u in res.units]


def test_survey_rejects_unknown_layers(tmp_path, weights_dir):
    with pytest.raises(ValueError, match="unknown layers"):
        survey("resnet20-cifar10", ["layer9"], out=tmp_path, progress=False)
