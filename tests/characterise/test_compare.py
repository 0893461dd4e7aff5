"""Parametric vs natural vs evolved comparison: right winners, right ratios, readable files."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from landscape.characterise import compare_with_evolution
from landscape.stimuli import gabors, gratings
from landscape.units.model_neurons import GaborEnergyUnit, LuminanceUnit


def test_comparison_picks_best_of_each_set_and_writes_files(tmp_path):
    unit = GaborEnergyUnit(30.0, 4.0)
    params_set = gratings(32, 12, [2.0, 4.0, 8.0], 4)
    torch.manual_seed(0)
    natural = torch.rand(6, 3, 32, 32)
    evolved = torch.cat([gabors(32, [30.0], [4.0], [0.0], 0.15)[0], torch.full((1, 3, 32, 32), 0.5)])
    res = compare_with_evolution(unit, params_set, natural, evolved, out=tmp_path)
    assert res.parametric_params["orientation"] == 30.0 and res.parametric_params["frequency"] == 4.0
    assert res.best_index["evolved"] == 0
    nat_scores = unit(natural).numpy()
    assert res.best_index["natural"] == int(np.argmax(nat_scores))
    assert res.relative["natural"] == 1.0
    assert res.relative["parametric"] == pytest.approx(res.activations["parametric"] / nat_scores.max(), rel=1e-6)
    from landscape.plots import display

    assert set(res.paths) == {"json"}  # the analysis writes numbers; its pictures are a display's
    display(res, title="test unit").write(tmp_path)
    png = Image.open(res.paths["png"])
    assert png.size[0] > 3 * 192 and png.mode == "RGB"
    html = res.paths["html"].read_text()
    assert not re.search(r"<script[^>]*\bsrc=", html) and "Plotly.newPlot" in html and "test unit" in html
    saved = json.loads(res.paths["json"].read_text())
    assert saved["activations"]["evolved"] == pytest.approx(res.activations["evolved"])


def test_relative_activation_undefined_without_positive_natural_reference():
    unit = LuminanceUnit(baseline=-5.0)
    res = compare_with_evolution(unit, torch.rand(2, 3, 16, 16), torch.rand(3, 3, 16, 16), torch.rand(3, 16, 16))
    assert all(np.isnan(v) for v in res.relative.values())
    assert res.activations["natural"] < 0 and res.paths == {}


def test_comparison_input_errors():
    unit = LuminanceUnit()
    with pytest.raises(ValueError, match="natural must have shape"):
        compare_with_evolution(unit, torch.rand(2, 3, 8, 8), torch.rand(3, 8, 8, 8), torch.rand(3, 8, 8))
    with pytest.raises(TypeError, match="evolved must be an image tensor"):
        compare_with_evolution(unit, torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8), np.zeros((3, 8, 8)))


def test_comparison_of_a_run_uses_xdreams_optimized_image_and_names_the_set():
    """Given a run, the evolved image is the last generation's best by observed score, not the best ever."""
    from pathlib import Path

    from landscape.references import ReferenceSet
    from landscape.runs import Run

    class Painter:  # a generator whose code is a grey level
        device = torch.device("cpu")

        def render(self, codes):
            return codes.float().reshape(-1, 1, 1, 1).expand(-1, 3, 8, 8).clone()

    unit = LuminanceUnit()
    # generation 0 holds the brightest image ever (0.9); the last generation's observed best is code 0.5
    # (observed 0.6, though code 0.7 is brighter: noise misled the experimenter)
    run = Run(Path("mem"), {}, [np.array([[0.9]]), np.array([[0.5], [0.7]])],
              [np.array([0.9]), np.array([0.6, 0.55])], [np.array([0.9]), np.array([0.5, 0.7])], np.zeros(2))
    refs = ReferenceSet("greys", torch.full((2, 3, 8, 8), 0.25), ["a", "b"])
    res = compare_with_evolution(unit, torch.rand(2, 3, 8, 8), refs, run, generator=Painter())
    assert res.evolved_choice == "optimized"
    assert res.activations["evolved"] == pytest.approx(float(unit(torch.full((1, 3, 8, 8), 0.5))[0]))
    assert res.natural_set["name"] == "greys" and res.natural_set["n_images"] == 2 and res.natural_set["warning"]
    with pytest.raises(ValueError, match="pass generator"):
        compare_with_evolution(unit, torch.rand(2, 3, 8, 8), refs, run)
