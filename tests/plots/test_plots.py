"""Displays: one per result type, found by type; standalone pages; pictures with the right pixels."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PIL import Image
from plotly.offline import get_plotlyjs

from landscape import characterise, plots
from landscape.maps import TuningMap
from landscape.plots import display
from landscape.units.model_neurons import GaborEnergyUnit


def plane_map(values: np.ndarray) -> TuningMap:
    n, m = values.shape
    return TuningMap("plane", values, {"a": np.linspace(-1, 1, m), "b": np.linspace(-1, 1, n)}, np.eye(4)[:2],
                     np.eye(4)[0], unit={"model": "m", "layer": "l", "channel": 3}, generator="g")


def sphere_map(n: int = 11, m: int = 11) -> TuningMap:
    theta, phi = np.linspace(-90, 90, m), np.linspace(-90, 90, n)
    vals = np.cos(np.deg2rad(phi))[:, None] * np.cos(np.deg2rad(theta))[None]
    return TuningMap("sphere", vals, {"theta_deg": theta, "phi_deg": phi}, np.eye(8)[:3], np.eye(8)[0], radius=1.0)


def offline_page(html: str) -> bool:
    # the installed plotly.js embedded once, and nothing fetched from elsewhere
    return html.count(get_plotlyjs()) == 1 and not re.search(r"<script[^>]*\bsrc=", html)


def _display_for_type(cls: type) -> type:
    for t in cls.__mro__:
        if t in plots.DISPLAYS:
            return plots.DISPLAYS[t]
    raise AssertionError(f"no display registered for {cls.__name__}")


def test_every_analysis_result_has_a_display():
    from geometry.homogeneity import Homogeneity
    from geometry.spectrum import SpectrumStats
    from landscape.characterise.base import Analysis
    from landscape.record import Run
    from landscape.topology import SurveyResult, TopologySignature

    analyses = [c for c in vars(characterise).values()
                if isinstance(c, type) and issubclass(c, Analysis) and c is not Analysis]
    assert len(analyses) == 7  # found by scanning: a new analysis without a display fails below
    for cls in analyses + [TuningMap, TopologySignature, SurveyResult, characterise.EvolutionComparison,
                           characterise.OpponencySurvey, SpectrumStats, Homogeneity, Run]:
        assert issubclass(_display_for_type(cls), plots.Display), cls


def test_dispatch_by_type_and_a_clear_error():
    class Tuning(characterise.OrientationTuning):  # a subclass finds its base's display
        pass

    assert type(display(Tuning(orientations=4))) is plots.OrientationTuningDisplay
    with pytest.raises(TypeError, match=r"no display for ndarray; displays exist for: .*TuningMap"):
        display(np.zeros(3))


def test_tuning_displays_draw_the_fitted_curves(tmp_path):
    unit = GaborEnergyUnit(30.0, 4.0)
    ori = characterise.OrientationTuning(size=32, orientations=12).fit(unit)
    fig = display(ori).figure()
    measured, fit = fig.data[0], fig.data[1]
    assert np.allclose(measured.y, ori.curve_) and fit.name == "von Mises fit"
    assert abs(fit.x[int(np.argmax(fit.y))] - ori.preferred_orientation_) < 1.0  # the fit peaks where it says
    assert "preferred 30" in fig.layout.title.text
    page = display(ori).write_html(tmp_path / "ori.html").read_text()
    assert offline_page(page)
    with pytest.raises(characterise.NotFittedError):
        display(characterise.OrientationTuning()).figure()
    opp = characterise.Opponency(size=32).fit(unit)
    fig = display(opp).figure()
    discs = [t for t in fig.data if t.name.endswith(" disc")]
    assert discs and np.allclose(discs[0].x, opp.radii_)  # a public result, not a private method


def test_map_picture_marks_the_peak_and_keeps_rows_upright(tmp_path):
    values = np.zeros((9, 15))
    values[7, 11] = 1.0  # high row index = top of the picture
    values[0, 0] = np.nan
    disp = display(plane_map(values), cell=10)
    path = disp.save_png(tmp_path / "m.png")
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    left, top = 70, 40  # the heatmap's corner in the picture
    peak = img[top + (9 - 1 - 7) * 10 + 5, left + 11 * 10 + 5]
    assert peak.tolist() == [253, 231, 37]  # viridis' top at the peak cell's centre
    nan_cell = img[top + 8 * 10 + 5, left + 5]
    assert nan_cell.tolist() == [128, 128, 128]  # no value: grey, bottom-left
    ring = img[top + (9 - 1 - 7) * 10 + 5, left + 11 * 10 + 5 - 5]
    assert ring.tolist() == [255, 255, 255]  # the white ring around the peak


def test_map_figures_plane_sphere_and_smoothed():
    from landscape.maps import smooth_sphere

    plane = display(plane_map(np.random.default_rng(0).random((5, 7))), name="p.npz").figure()
    assert [t.type for t in plane.data] == ["heatmap", "contour"] and "p.npz" in plane.layout.title.text
    tm = sphere_map()
    sphere = display(tm).figure()
    assert [t.type for t in sphere.data] == ["surface"]
    x, y, z = (np.asarray(getattr(sphere.data[0], k), float) for k in "xyz")
    assert np.allclose(x ** 2 + y ** 2 + z ** 2, 1.0)  # drawn on the unit sphere
    smoothed = smooth_sphere(tm)
    flat = display(tm, smoothed=smoothed).heatmap_figure()
    assert len(flat.data) == 2 and flat.layout.annotations[1].text.startswith("smoothed")


def test_signature_display_writes_its_files(tmp_path):
    from landscape.topology import TopologySignature

    y, x = np.mgrid[-1:1:31j, -1:1:31j]
    two = np.exp(-((x + 0.5) ** 2 + y ** 2) / 0.05) + np.exp(-((x - 0.5) ** 2 + y ** 2) / 0.05)
    sig = TopologySignature(levels=11).fit(two)
    paths = display(sig).write(tmp_path)
    assert sorted(p.name for p in paths.values()) == ["counts.png", "diagram.png", "level_sets.png", "topology.html"]
    assert offline_page(paths["html"].read_text())
    diagram = display(sig).diagram_figure()
    h0 = next(t for t in diagram.data if t.name == "H0 peaks")
    assert len(h0.y) == 2  # two peaks, two H0 points


def test_spectrum_overlay_and_homogeneity(tmp_path):
    from geometry.homogeneity import Homogeneity
    from geometry.spectrum import SpectrumStats

    w = np.stack([np.r_[np.ones(3) * s, np.zeros(7)] for s in (1.0, 2.0, 3.0)])
    st = SpectrumStats().fit(w)
    fig = plots.SpectrumDisplay(st, label="trained").figure()
    plots.SpectrumDisplay(SpectrumStats().fit(w * 0.5), label="shuffled").figure(fig)
    assert [t.name for t in fig.data] == ["trained 5-95%", "trained median", "trained cumulative",
                                         "shuffled 5-95%", "shuffled median", "shuffled cumulative"]
    assert fig.data[2].y[2] == pytest.approx(1.0)  # three equal eigenvalues hold the whole sum
    assert offline_page(plots.SpectrumDisplay(st).write_html(tmp_path / "s.html").read_text())
    rng = np.random.default_rng(0)
    vals = np.sort(rng.random((4, 6)), axis=1)[:, ::-1]
    vecs = np.stack([np.linalg.qr(rng.standard_normal((6, 6)))[0] for _ in range(4)])
    hom = Homogeneity(top=3).fit(vals, vecs)
    heat = display(hom).figure()
    assert np.allclose(np.asarray(heat.data[0].z, float), hom.corr_log_)


def test_sweep_display_groups_by_noise(tmp_path):
    summary = [{"noise": n, "optimizer": o, "model": "m", "layer": "l", "mean_normalised_score": v,
                "sem_normalised_score": float("nan"), "ratio_to_reference": 1.0}
               for n, o, v in (("none", "ga", 0.5), ("none", "cma", 0.7), ("poisson", "ga", 0.4))]
    rows = [{"noise": "none", "optimizer": "ga", "model": "m", "layer": "l", "normalised_score": 0.5, "unit": "u",
             "seed": 0}]
    fig = plots.SweepDisplay(summary, rows).figure()
    assert [a.text for a in fig.layout.annotations] == ["noise: none", "noise: poisson"]
    bars = [t for t in fig.data if t.type == "bar" and t.y[0] is not None]
    assert sorted((t.name, t.y[0]) for t in bars) == [("cma", 0.7), ("ga", 0.4), ("ga", 0.5)]
    assert offline_page(plots.SweepDisplay(summary, rows).write_html(tmp_path / "s.html").read_text())


def test_run_display_shows_best_and_mean(tmp_path):
    from torch import nn

    from landscape import optim
    from landscape.generators import Generator
    from landscape.runs import evolve

    torch.manual_seed(0)
    G = Generator(nn.Sequential(nn.Linear(4, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4))), 4, "tiny", 4, torch.sigmoid)
    run = evolve(G, GaborEnergyUnit(0.0, 1.0), optim.make("ga", 4, seed=0, population=8), budget=24,
                 out=tmp_path / "r", progress=False)
    fig = display(run).figure()
    assert np.allclose(fig.data[0].y, run.best_per_generation()) and np.allclose(fig.data[1].y,
                                                                                  run.mean_per_generation())
