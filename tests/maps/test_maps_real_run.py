"""A real evolution (digiface DCGAN + CIFAR ResNet-20) mapped on its PC sphere, by the API and the CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from landscape import optim, zoo
from landscape.cli import main
from landscape.maps import TuningMap, map_from_run
from landscape.pipeline import load_run_models
from landscape.runs import evolve
from landscape.units import CNNUnit

pytestmark = pytest.mark.slow  # every test here runs real models end to end

BUDGET = 600


@pytest.fixture(scope="module")
def evolved(tmp_path_factory, weights_dir):
    gen = zoo.load("digiface-dcgan64")
    unit = CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5)
    out = tmp_path_factory.mktemp("maps") / "run"
    run = evolve(gen, unit, optim.make("cma", gen.dim, seed=1), BUDGET, out=out, seed=1, progress=False,
                 save_images=False)
    tm = map_from_run(run, gen, unit, axes="pc", grid="sphere:11", progress=False)
    return run, gen, unit, tm


def great_circle_deg(theta, phi):
    return np.rad2deg(np.arccos(np.cos(np.deg2rad(theta)) * np.cos(np.deg2rad(phi))))


def test_pc_sphere_of_an_evolution_peaks_near_its_centre(evolved):
    run, _, _, tm = evolved
    assert tm.shape == (11, 11) and tm.meta["n_images"] == 9 * 11 + 2
    pk = tm.peak()
    # the evolved codes sit at theta = phi = 0 (PC1 signed by the last generation);
    # within two 18-degree steps of it, never on the far side of the hemisphere
    assert great_circle_deg(pk["theta_deg"], pk["phi_deg"]) <= 36.0
    assert pk["value"] >= 0.7 * run.best_score
    # the unit is tuned around that point: the map's central third beats its rim
    centre = tm.values[3:8, 3:8].mean()
    rim = np.r_[tm.values[:, 0], tm.values[:, -1], tm.values[0], tm.values[-1]].mean()
    assert centre > 2 * rim


def test_run_meta_rebuilds_the_run_models(evolved):
    run, gen, unit, _ = evolved
    gen2, unit2 = load_run_models(run.meta)
    assert gen2.name == gen.name and unit2.describe() == unit.describe()
    z = torch.as_tensor(run.best_code[None], dtype=torch.float32)
    with torch.no_grad():
        assert float(unit2(gen2(z))[0]) == pytest.approx(run.best_score, rel=1e-4, abs=1e-4)


def test_cli_map_writes_map_png_html_and_analysis(evolved, tmp_path):
    run, _, _, tm = evolved
    out = tmp_path / "m" / "pcmap.npz"
    assert main(["map", str(run.dir), "--axes", "pc", "--grid", "sphere:11", "--out", str(out), "--no-progress",
                 "--device", "cpu"]) == 0
    back = TuningMap.load(out)
    np.testing.assert_allclose(back.values, tm.values, rtol=1e-5, atol=1e-5)  # same run, same unit
    assert back.unit == tm.unit and back.generator == "digiface-dcgan64"
    from PIL import Image

    with Image.open(out.with_suffix(".png")) as im:
        assert im.format == "PNG" and im.width > 300 and im.height > 300
        px = np.asarray(im.convert("RGB"))
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 20  # a heatmap, not a blank page
    html = out.with_suffix(".html").read_text()
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js embedded
    assert re.findall(r"<script[^>]*\bsrc=", html) == []  # nothing fetched from a CDN
    ana = json.loads((tmp_path / "m" / "pcmap.analysis.json").read_text())
    assert set(ana["fits"]) == {"isotropic_gaussian", "anisotropic_gaussian", "kent"}
    assert ana["level_sets"]["angular"]["local"] in ("isotropic", "anisotropic", "undetermined")
    assert ana["peak"]["value"] == pytest.approx(tm.peak()["value"], rel=1e-5)


def test_cli_errors_are_one_clear_line(evolved, tmp_path, capsys):
    run = evolved[0]
    assert main(["map", str(run.dir), "--grid", "sphere:0", "--out", str(tmp_path / "x")]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["map", str(run.dir), "--axes", "hessian", "--hessian", str(tmp_path / "none.npz"),
                 "--out", str(tmp_path / "x")]) == 2
    assert "none.npz" in capsys.readouterr().err


def test_cli_hessian_axes_from_a_file_and_latent_level_sets(evolved, tmp_path):
    run, gen, unit, _ = evolved
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((gen.dim, 6)))[0]  # (d, k) columns
    np.savez(tmp_path / "h.npz", eigvals=np.arange(6.0)[::-1], eigvecs=q)
    out = tmp_path / "hmap"
    assert main(["map", str(run.dir), "--axes", "hessian:1,2", "--grid", "plane:5:-2:2", "--out", str(out),
                 "--hessian", str(tmp_path / "h.npz"), "--latent-level-sets", "--latent-rays", "4",
                 "--no-progress", "--device", "cpu"]) == 0
    tm = TuningMap.load(out)
    np.testing.assert_allclose(tm.axes, q[:, [1, 2]].T)
    np.testing.assert_allclose(tm.center, run.best_code, rtol=1e-6)
    np.testing.assert_allclose(tm.values[2, 2], run.best_score, rtol=1e-4, atol=1e-4)
    ana = json.loads((tmp_path / "hmap.analysis.json").read_text())
    lls = ana["latent_level_sets"]
    assert lls["directions"] == 4 + 4 and lls["peak"] == pytest.approx(run.best_score, rel=1e-4, abs=1e-4)
    assert set(lls["verdicts"]) == {"euclidean", "angular"}
