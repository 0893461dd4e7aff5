"""Widget callbacks, driven from Python: move a control, check the image or figure changed as it should."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from landscape import zoo
from landscape.maps import TuningMap
from landscape.units import CNNUnit
from landscape.widgets import EvolutionDashboard, LatentExplorer, MapViewer, PersistenceViewer, SpectrumViewer


@pytest.fixture(scope="module")
def gen_unit():
    return zoo.load("digiface-dcgan64"), CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5)


def _plane_map(values: np.ndarray, d: int = 100) -> TuningMap:
    n, m = values.shape
    axes = np.eye(d)[:2]
    return TuningMap("plane", values, {"a": np.linspace(-3, 3, m), "b": np.linspace(-3, 3, n)}, axes, np.zeros(d))


def _two_peaks(n: int = 41) -> np.ndarray:
    y, x = np.mgrid[-1:1:n * 1j, -1:1:n * 1j]
    return np.exp(-((x + 0.5) ** 2 + y ** 2) / 0.05) + 0.8 * np.exp(-((x - 0.5) ** 2 + y ** 2) / 0.05)


def _annulus(n: int = 41) -> np.ndarray:
    y, x = np.mgrid[-1:1:n * 1j, -1:1:n * 1j]
    return np.exp(-((np.hypot(x, y) - 0.5) ** 2) / 0.02)


def test_latent_explorer_moves_the_code_image_and_response(gen_unit):
    G, cnn = gen_unit
    unit = CNNUnit(cnn.model, "layer3", 5, position=None)  # spatial mean: never exactly zero
    center = G.sample(1, seed=0)[0]
    axes = {"random": np.linalg.qr(np.random.default_rng(0).normal(size=(100, 3)))[0].T,
            "coordinate": np.eye(100)[:2]}
    ex = LatentExplorer(G, unit, center, axes, n_sliders=3, span=4.0)
    before_png, before_response = ex.image_widget.value, ex.response
    ex.set_offset(0, 2.5)
    assert np.allclose(ex.code, center.numpy() + 2.5 * ex.axes["random"][0], atol=1e-6)
    assert ex.image_widget.value != before_png
    with torch.no_grad():
        expected = float(unit.clean(G(torch.as_tensor(ex.code, dtype=torch.float32)[None]))[0])
    assert ex.response == pytest.approx(expected, rel=1e-5, abs=1e-6) and ex.response != before_response
    assert len(ex.figure.get(0, "y")) == 2
    ex.axis_set.value = "coordinate"  # a new axis set: offsets along the old axes reset to 0; the third is off
    assert ex.sliders[2].disabled and np.allclose(ex.offsets, 0.0) and np.allclose(ex.code, center.numpy())
    assert len(ex.figure.get(0, "y")) == 3  # one update for the switch, not one per slider
    ex.set_offset(1, 1.5)
    assert np.allclose(ex.code, center.numpy() + 1.5 * np.eye(100)[1], atol=1e-6)
    with pytest.raises(ValueError, match="length 5"):
        LatentExplorer(G, unit, center, {"bad": np.ones((2, 5))})


@pytest.mark.slow
def test_dashboard_pauses_stops_resumes_and_says_when_complete(gen_unit, tmp_path):
    G, unit = gen_unit
    dash = EvolutionDashboard(G, unit, "ga", budget=100, out=tmp_path / "run", seed=0)
    seen, states, resumed = [], [], []

    def control(g):
        seen.append((g, time.monotonic()))
        states.append(dash.state)
        if g == 0:  # pause as the button would, and press start from another thread 0.6 s later
            dash.pause()
            threading.Timer(0.6, lambda: (resumed.append(time.monotonic()), dash.start())).start()
        if g == 2:
            dash.stop()

    run = dash.run_blocking(control)
    assert run.meta["status"] == "stopped" and run.n_generations == 3 and dash.state == "stopped"
    assert resumed and seen[1][1] >= resumed[0] - 1e-3, "generation 1 ran while the dashboard was paused"
    assert seen[1][1] - seen[0][1] >= 0.55
    assert list(dash.figure.get(0, "y")) == pytest.approx(run.best_per_generation().tolist())
    assert dash.best_image.value[:4] == b"\x89PNG" and dash.strip.value[:4] == b"\x89PNG"
    # start continues the stopped run from disk in the background, to the end of the budget
    dash.start()
    dash.wait(timeout=120)
    from landscape.runs import Run

    final = Run.load(tmp_path / "run")
    assert final.meta["status"] == "complete" and final.n_generations == 5 and dash.state == "complete"
    assert list(dash.figure.get(0, "x")) == [0, 1, 2, 3, 4]
    # start after the end is not a silent no-op: no thread, and a message that says what to do
    dash.start()
    assert dash.state == "complete" and "complete" in dash.status.value and "out=" in dash.status.value
    assert Run.load(tmp_path / "run").n_generations == 5
    dash.pause()
    assert "nothing to pause" in dash.status.value


def test_dashboard_run_async_pauses_and_stops_while_paused(gen_unit, tmp_path):
    import asyncio

    G, unit = gen_unit
    dash = EvolutionDashboard(G, unit, "cma", budget=400, out=tmp_path / "run", seed=1)
    seen = []

    def control(g):  # runs in the worker thread, as a button click would act from the kernel's loop
        seen.append(g)
        if g == 1:
            dash.pause()
            threading.Timer(0.4, dash.stop).start()  # stop while paused: no further generation

    run = asyncio.run(dash.run_async(control))
    assert seen == [0, 1] and run.meta["status"] == "stopped" and run.n_generations == 2
    assert dash.state == "stopped" and "press start to continue" in dash.status.value


def test_map_viewer_counts_components_and_holes_and_shows_cells(gen_unit):
    G, _ = gen_unit
    viewer = MapViewer(_plane_map(_two_peaks()), generator=G)
    assert viewer.image_widget.layout.display == "none"  # no broken image before a cell is chosen
    viewer.threshold.value = 0.5
    assert viewer.counts == (2, 0)
    assert viewer.in_superlevel_set().sum() == (viewer.map.values >= 0.5).sum()
    assert viewer.figure.get(2, "contours")["start"] == pytest.approx(0.5)  # the red contour at the threshold
    scale_half = viewer.figure.get(0, "colorscale")
    viewer.threshold.value = 0.004  # below the saddle between the peaks (~0.012)
    assert viewer.counts == (1, 0) and viewer.figure.get(0, "colorscale") != scale_half
    ring = MapViewer(_plane_map(_annulus()))
    ring.threshold.value = 0.5
    assert ring.counts == (1, 1)
    viewer.figure.click(0, [10, 20], x=-1.5, y=0.0)  # a click in the browser arrives as data coordinates
    assert viewer.selected == (20, 10) and viewer.image_widget.value[:4] == b"\x89PNG"
    assert viewer.image_widget.layout.display is None
    assert viewer.figure.get(1, "x") == [pytest.approx(-1.5)]
    with pytest.raises(ValueError, match="outside"):
        viewer.select_cell(99, 0)


def test_threshold_colorscale_keeps_the_superlevel_set_in_colour():
    from landscape.widgets.map_viewer import threshold_colorscale

    cs = threshold_colorscale(0.4)
    pos = [p for p, _ in cs]
    assert pos[0] == 0 and pos[-1] == 1 and all(b >= a for a, b in zip(pos, pos[1:]))
    below = [c for p, c in cs if p < 0.4]
    above = [c for p, c in cs if p > 0.4]
    grey = lambda c: np.ptp([int(v) for v in c[4:-1].split(",")])  # noqa: E731 (colour spread)
    assert max(map(grey, below)) < min(map(grey, above[1:]))  # washed out below, full colour above
    from plotly.colors import sample_colorscale

    assert threshold_colorscale(0.0)[0][1] == sample_colorscale("Viridis", [0.0])[0]  # threshold at the minimum



def test_map_viewer_sphere_surface_threshold_and_click():
    theta = np.linspace(-90, 90, 11)
    phi = np.linspace(-90, 90, 11)
    vals = np.cos(np.deg2rad(phi))[:, None] * np.cos(np.deg2rad(theta))[None]
    tm = TuningMap("sphere", vals, {"theta_deg": theta, "phi_deg": phi}, np.eye(10)[:3], np.eye(10)[0], radius=1.0)
    viewer = MapViewer(tm)
    assert [t["type"] for t in viewer.figure.traces] == ["surface", "scatter3d"]  # no second surface on top
    before = viewer.figure.get(0, "colorscale")
    viewer.threshold.value = 0.7
    assert viewer.counts[0] == 1 and viewer.figure.get(0, "colorscale") != before
    assert viewer.in_superlevel_set().sum() == (vals >= 0.7).sum()
    # a click on the surface reports its 3-D point: theta = 36 deg, phi = -18 deg is cell (4, 7)
    th, ph = np.deg2rad(36), np.deg2rad(-18)
    viewer.figure.click(0, None, x=np.cos(th) * np.cos(ph), y=np.sin(th) * np.cos(ph), z=np.sin(ph))
    assert viewer.selected == (4, 7)
    assert "response" in viewer.cell_label.value


def test_spectrum_viewer_strip_follows_the_selected_axis():
    torch.manual_seed(0)
    A = torch.randn(3 * 8 * 8, 6)

    def G(z):
        return torch.sigmoid(z @ A.T).reshape(-1, 3, 8, 8)

    H = 2 * (A.T @ A).double().numpy()
    lam, V = np.linalg.eigh(H)
    lam, V = lam[::-1], V[:, ::-1]
    sv = SpectrumViewer(lam, V, G, np.zeros(6), steps=np.linspace(-2, 2, 5))
    first = sv.strip.value
    assert sv.images.shape == (5, 3, 8, 8)
    sv.index.value = 3
    assert sv.strip.value != first and sv.figure.get(3, "x") == [3]
    expected = G(torch.as_tensor(2.0 * V[:, 3], dtype=torch.float32)[None])[0]
    assert torch.allclose(sv.images[-1], expected, atol=1e-5)


def test_persistence_viewer_links_bars_to_regions():
    values = _two_peaks()
    pv = PersistenceViewer(values)
    assert pv.persistence.n_peaks_ == 2
    h0 = [i for i, b in enumerate(pv.bars) if b[0] == 0]
    # at start: the most persistent bar that dies (the second peak), not the whole map
    assert pv.selected == h0[1] and pv.region[20, 30] and not pv.region[20, 10] and not pv.region.all()
    pv.select(h0[0])  # the essential class (global maximum) never dies: its region is the whole map
    assert pv.region.all()
    pv.diagram.click(0, 1)  # clicking the second H0 point in the diagram selects that bar
    assert pv.selected == h0[1] and pv.bar.value == h0[1]
    assert pv.diagram.get(3, "y") == [pytest.approx(pv.bars[h0[1]][1])]
    pv.bar.value = None
    assert pv.selected is None and not pv.region.any()
    ring = PersistenceViewer(_annulus())
    h1 = [i for i, b in enumerate(ring.bars) if b[0] == 1]
    assert len(h1) == 1
    ring.select(h1[0])
    assert ring.region[20, 20] and not ring.region[0, 0]


def test_bar_region_joins_the_longitude_seam():
    from landscape.widgets.persistence_viewer import bar_region

    v = np.zeros((9, 12))
    v[4, 0], v[4, 11], v[4, 1] = 1.0, 0.9, 0.8  # one peak straddling the seam
    v[4, 6] = 0.5
    flat = bar_region(v, 0, 1.0, 0.1)
    seam = bar_region(v, 0, 1.0, 0.1, wrap=True)
    assert not flat[4, 11] and seam[4, 11] and seam[4, 1] and not seam[4, 6]
