"""Widget callbacks, driven from Python: move a control, check the image or figure changed as it should."""

from __future__ import annotations

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
    assert len(ex.figure.data[0].y) == 2
    ex.axis_set.value = "coordinate"  # switching sets keeps offsets but reads the new axes; the third is off
    assert ex.sliders[2].disabled and np.allclose(ex.code[:2], center.numpy()[:2] + [2.5, 0.0], atol=1e-6)
    with pytest.raises(ValueError, match="length 5"):
        LatentExplorer(G, unit, center, {"bad": np.ones((2, 5))})


def test_dashboard_runs_pauses_stops_and_resumes_on_disk(gen_unit, tmp_path):
    G, unit = gen_unit
    dash = EvolutionDashboard(G, unit, "ga", budget=100, out=tmp_path / "run", seed=0)
    seen = []
    dash._go.set()

    def stop_after_two(g):
        seen.append(g)
        if g == 1:
            dash.stop()

    run = dash.run_blocking(stop_after_two)
    assert run.meta["status"] == "stopped" and run.n_generations == 2
    assert list(dash.figure.data[0].y) == pytest.approx(run.best_per_generation().tolist())
    assert dash.best_image.value and dash.strip.value
    # start in the background, pause, then continue to the end: the run on disk is complete
    dash.start()
    dash.pause()
    dash.start()
    dash.wait(timeout=120)
    from landscape.runs import Run

    final = Run.load(tmp_path / "run")
    assert final.meta["status"] == "complete" and final.n_generations == 5
    assert len(dash.figure.data[0].y) == 5


def test_map_viewer_counts_components_and_holes_and_shows_cells(gen_unit):
    G, _ = gen_unit
    viewer = MapViewer(_plane_map(_two_peaks()), generator=G)
    viewer.threshold.value = 0.5
    assert viewer.counts == (2, 0)
    mask = viewer.figure.data[2].z
    assert np.isfinite(np.asarray(mask, float)).sum() == (viewer.map.values >= 0.5).sum()
    viewer.threshold.value = 0.004  # below the saddle between the peaks (~0.012)
    assert viewer.counts == (1, 0)
    ring = MapViewer(_plane_map(_annulus()))
    ring.threshold.value = 0.5
    assert ring.counts == (1, 1)
    viewer.select_cell(20, 10)
    assert viewer.selected == (20, 10) and viewer.image_widget.value[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="outside"):
        viewer.select_cell(99, 0)


def test_map_viewer_sphere_surface():
    theta = np.linspace(-90, 90, 11)
    phi = np.linspace(-90, 90, 11)
    vals = np.cos(np.deg2rad(phi))[:, None] * np.cos(np.deg2rad(theta))[None]
    tm = TuningMap("sphere", vals, {"theta_deg": theta, "phi_deg": phi}, np.eye(10)[:3], np.eye(10)[0], radius=1.0)
    viewer = MapViewer(tm)
    viewer.threshold.value = 0.5
    assert viewer.counts[0] == 1
    assert np.isfinite(np.asarray(viewer.figure.data[1].surfacecolor, float)).sum() == (vals >= 0.5).sum()


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
    assert sv.strip.value != first and list(sv.figure.data[1].x) == [3]
    expected = G(torch.as_tensor(2.0 * V[:, 3], dtype=torch.float32)[None])[0]
    assert torch.allclose(sv.images[-1], expected, atol=1e-5)


def test_persistence_viewer_links_bars_to_regions():
    values = _two_peaks()
    pv = PersistenceViewer(values)
    assert pv.persistence.n_peaks_ == 2
    h0 = [i for i, b in enumerate(pv.bars) if b[0] == 0]
    pv.select(h0[0])  # the essential class (global maximum) never dies: its region is the whole map
    assert pv.region.all()
    pv.select(h0[1])  # the second peak, before it merges
    assert pv.region[20, 30] and not pv.region[20, 10]
    ring = PersistenceViewer(_annulus())
    h1 = [i for i, b in enumerate(ring.bars) if b[0] == 1]
    assert len(h1) == 1
    ring.select(h1[0])
    assert ring.region[20, 20] and not ring.region[0, 0]
