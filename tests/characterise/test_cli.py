"""``landscape characterise`` end to end on real resnet20 weights, and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from landscape.cli import main


@pytest.mark.slow
def test_cli_survey(weights_dir, tmp_path, capsys):
    rc = main(["characterise", "--model", "resnet20-cifar10", "--layer", "conv1", "--device", "cpu",
               "--out", str(tmp_path)])
    assert rc == 0
    assert "conv1" in capsys.readouterr().out
    meta = json.loads((tmp_path / "survey.json").read_text())
    assert sum(meta["counts"]["conv1"].values()) == 16
    assert (tmp_path / "survey.html").stat().st_size > 1_000_000


@pytest.mark.slow
def test_cli_single_unit(weights_dir, tmp_path):
    rc = main(["characterise", "--model", "resnet20-cifar10", "--layer", "layer1.0.conv1", "--channel", "3",
               "--device", "cpu", "--out", str(tmp_path)])
    assert rc == 0
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["unit"]["layer"] == "layer1.0.conv1" and s["unit"]["channel"] == 3
    assert set(s) >= {"orientation", "frequency", "contrast", "size", "color", "receptive_field", "opponency"}
    assert 0.0 <= s["orientation"]["preferred_orientation"] < 180.0
    assert "Plotly.newPlot" in (tmp_path / "report.html").read_text()


def test_cli_bad_input_is_a_clear_error(weights_dir, tmp_path, capsys):
    rc = main(["characterise", "--layer", "nope", "--channel", "0", "--device", "cpu", "--out", str(tmp_path)])
    assert rc == 2 and "unknown layer 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_imports_stay_light():
    code = ("import sys, landscape.stimuli, landscape.characterise, landscape.units.model_neurons;"
            "from landscape.characterise import OrientationTuning, OpponencySurvey, compare_with_evolution;"
            "bad = [m for m in ('plotly', 'ipywidgets', 'landscape.zoo', 'PIL.Image') if m in sys.modules];"
            "print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True)
