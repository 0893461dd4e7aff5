"""The report is one offline HTML page holding the run's curve, images, and a map's topology."""

from __future__ import annotations

import numpy as np

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
    assert "n_peaks" in page and "contour convention: project" in page
    assert "best_clean_ever (best noise-free score of any image)" in page
    assert len(Run.load(tmp_path / "run").gen_scores) == 3


def test_report_of_a_missing_run_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "no meta.json" in capsys.readouterr().err
