"""Opponency survey of real resnet20 layers; agrees with the single-unit test through CNNUnit."""

from __future__ import annotations

import csv
import json
import re

import pytest

from landscape import zoo
from landscape.characterise import CLASSES, NotFittedError, Opponency, OpponencySurvey
from landscape.units import CNNUnit


@pytest.fixture(scope="module")
def resnet20(weights_dir):
    return zoo.load("resnet20-cifar10", device="cpu")


@pytest.fixture(scope="module")
def survey(resnet20):
    return OpponencySurvey(["conv1", "layer2.0.conv1"]).fit(resnet20)


def test_survey_counts_every_channel(survey):
    assert [sum(survey.counts_[layer].values()) for layer in survey.layers] == [16, 32]
    for layer in survey.layers:
        assert set(survey.fractions_[layer]) == set(CLASSES)
        assert sum(survey.fractions_[layer].values()) == pytest.approx(1.0)
    assert len(survey.table_) == 48


@pytest.mark.slow
def test_survey_matches_single_unit_classification(survey, resnet20):
    rows = {(r["layer"], r["channel"]): r for r in survey.table_}
    for layer, channel in [("conv1", 5), ("layer2.0.conv1", 20)]:
        op = Opponency(size=32).fit(CNNUnit(resnet20, layer, channel))
        assert op.class_ == rows[(layer, channel)]["class"]
        assert op.baseline_ == pytest.approx(rows[(layer, channel)]["baseline"], rel=1e-4, abs=1e-5)


def test_trained_network_has_both_kinds_of_opponency(survey):
    # the slides' claim, on real weights: colour opponency early, spatial opponency in both
    colour = sum(survey.counts_["conv1"][k] for k in ("double-opponent", "color-opponent"))
    spatial = sum(survey.counts_[layer][k] for layer in survey.layers
                  for k in ("double-opponent", "spatially-opponent"))
    assert colour > 0 and spatial > 0


def test_survey_files(survey, tmp_path):
    paths = survey.write(tmp_path)
    with paths["channels"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 48 and rows[0]["layer"] == "conv1" and rows[0]["class"] in CLASSES
    with paths["fractions"].open() as fh:
        frac = list(csv.DictReader(fh))
    assert [r["layer"] for r in frac] == ["conv1", "layer2.0.conv1"]
    assert sum(float(frac[0][k]) for k in CLASSES) == pytest.approx(1.0)
    meta = json.loads(paths["json"].read_text())
    assert meta["model"] == "resnet20-cifar10" and meta["counts"]["conv1"] == survey.counts_["conv1"]
    from plotly.offline import get_plotlyjs

    from landscape.plots import OpponencySurveyDisplay, display

    assert "html" not in paths  # the analysis writes data; its figure is a display's
    html = display(survey).write_html(tmp_path / "survey.html").read_text()
    assert isinstance(display(survey), OpponencySurveyDisplay)
    assert not re.search(r"<script[^>]*\bsrc=", html)  # no CDN: plotly.js is embedded
    assert "Plotly.newPlot" in html and html.count(get_plotlyjs()) == 1
    fig = display(survey).figure()
    assert [t.name for t in fig.data] == list(CLASSES)
    for layer in survey.layers:  # the stacked bars of a layer add up to all its channels
        assert sum(t.y[survey.layers.index(layer)] for t in fig.data) == pytest.approx(1.0)


def test_survey_errors(resnet20):
    with pytest.raises(ValueError, match="non-empty list"):
        OpponencySurvey("conv1")
    with pytest.raises(ValueError, match="unknown layer"):
        OpponencySurvey(["conv9"]).fit(resnet20)
    with pytest.raises(NotFittedError):
        OpponencySurvey(["conv1"]).write("/nonexistent")
