"""The report is one offline HTML page holding the run's curve, images, and a map's topology."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.cli import main
from landscape.maps import TuningMap
from landscape.runs import Run


def _make_run(tmp_path):
    from landscape import optim, zoo
    from landscape.runs import evolve
    from landscape.units import CNNUnit

    G = zoo.load("digiface-dcgan64")
    unit = CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5)
    return evolve(G, unit, optim.make("ga", G.dim, seed=0), budget=60, out=tmp_path / "run", progress=False)


@pytest.mark.slow
def test_report_embeds_everything(tmp_path):
    run = _make_run(tmp_path)
    y, x = np.mgrid[-1:1:21j, -1:1:21j]
    values = np.exp(-((x + 0.5) ** 2 + y ** 2) / 0.05) + np.exp(-((x - 0.5) ** 2 + y ** 2) / 0.05)
    TuningMap("plane", values, {"a": x[0], "b": y[:, 0]}, np.eye(100)[:2], run.best_code).save(
        tmp_path / "run" / "maps" / "plane")
    assert main(["report", str(tmp_path / "run")]) == 0
    page = (tmp_path / "run" / "report.html").read_text()
    import re

    assert not re.search(r"<script[^>]*src=", page)  # offline: plotly.js inline, no CDN
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()) == 1  # the installed plotly.js itself is embedded, once
    assert page.count("data:image/png;base64,") >= 3
    assert "score per generation" in page and "Topology signature" in page
    assert "n_peaks" in page and "Separate hills" in page  # each number comes with its meaning
    assert "persistence diagram" in page
    assert "contour convention: project" in page
    assert "best_clean_ever (best noise-free score of any image)" in page
    assert len(Run.load(tmp_path / "run").gen_scores) == 3


def test_report_of_a_missing_run_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err


class _PeakAtGeneration:
    """A unit whose responses jump at one generation (one call per generation): its best image is there."""

    noisy = False

    def __init__(self, generation: int) -> None:
        self.generation, self.calls = generation, 0

    def clean(self, images):
        import torch

        self.calls += 1
        bonus = 10.0 if self.calls - 1 == self.generation else 0.0
        return images.mean(dim=(1, 2, 3)) + bonus + 0.01 * self.calls * torch.ones(len(images))

    __call__ = clean

    def describe(self):
        return {"type": "PeakAtGeneration", "generation": self.generation}

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


@pytest.mark.slow
def test_report_always_shows_the_best_image_and_sphere_maps_in_3d(tmp_path):
    import torch
    from torch import nn

    from landscape import optim
    from landscape.generators import Generator
    from landscape.report import build_report
    from landscape.runs import evolve

    torch.manual_seed(0)
    G = Generator(nn.Sequential(nn.Linear(8, 3 * 8 * 8), nn.Unflatten(1, (3, 8, 8))), 8, "tiny", 8, torch.sigmoid)
    opt = optim.make("ga", 8, seed=0)
    pop = opt.ask().shape[0]
    opt = optim.make("ga", 8, seed=0)
    run = evolve(G, _PeakAtGeneration(18), opt, budget=30 * pop, out=tmp_path / "run", progress=False)
    assert run.n_generations == 30 and int(np.argmax(run.best_per_generation())) == 18
    theta, phi = np.linspace(-180, 180, 13), np.linspace(-90, 90, 9)
    vals = np.cos(np.deg2rad(phi))[:, None] * np.cos(np.deg2rad(theta))[None]
    TuningMap("sphere", vals, {"theta_deg": theta, "phi_deg": phi}, np.eye(8)[:3], np.eye(8)[0], radius=1.0).save(
        tmp_path / "run" / "maps" / "sphere")
    page = build_report(tmp_path / "run").read_text()
    assert "best image: gen 18" in page  # not one of the log-spaced generations (0, 1, 2, 3, 5, 8, 13, 19, 29)
    assert page.count("data:image/png;base64,") >= 10
    # the sphere as a sphere (a 3-D surface), not a flattened theta/phi heatmap
    assert '"surfacecolor"' in page and "e3 (axis 3)" in page and "theta (deg)" not in page
