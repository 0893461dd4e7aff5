"""A small notebook that builds one of each widget from tiny data (no model weights), for browser tests.

The generator is a random linear map from 8-d codes to 16x16 images; the unit is its template
correlation; the maps are formulas. Each widget is the last output of its own cell, tagged in
the cell's metadata (``widget``) so a test can find it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

SETUP = '''\
import time
import numpy as np
import torch
from torch import nn
from IPython.display import display
from landscape.generators import Generator
from landscape.maps import TuningMap
from landscape.units.model_neurons import TemplateUnit
from landscape.widgets import EvolutionDashboard, LatentExplorer, MapViewer, PersistenceViewer, SpectrumViewer

torch.manual_seed(0)
G = Generator(nn.Sequential(nn.Linear(8, 3 * 16 * 16), nn.Unflatten(1, (3, 16, 16))), dim=8,
              name="tiny-linear", image_size=16, postprocess=torch.sigmoid)
target = G.sample(1, seed=1)[0]
with torch.no_grad():
    unit = TemplateUnit(G(target[None])[0], metric="correlation")
n = 21
a = np.linspace(-3, 3, n)
A, B = np.meshgrid(a, a)
two_peaks = np.exp(-((A + 1.4) ** 2 + B ** 2) / 0.6) + 0.7 * np.exp(-((A - 1.4) ** 2 + B ** 2) / 0.6)
plane = TuningMap("plane", two_peaks, {"a": a, "b": a}, np.eye(8)[:2], np.zeros(8))
theta, phi = np.linspace(-180, 180, 19), np.linspace(-90, 90, 13)
T, P = np.meshgrid(np.deg2rad(theta), np.deg2rad(phi))
on_sphere = np.exp(2 * np.cos(P) * np.cos(T)) + 0.8 * np.exp(2 * np.cos(P) * np.cos(T - 2.4))
sphere = TuningMap("sphere", on_sphere, {"theta_deg": theta, "phi_deg": phi}, np.eye(8)[:3], np.eye(8)[0],
                   radius=1.0)
'''

CELLS = {
    "explorer": '''\
explorer = LatentExplorer(G, unit, center=G.sample(1, seed=0)[0],
                          axes={"random directions": np.linalg.qr(np.random.default_rng(0).normal(size=(8, 3)))[0].T,
                                "code coordinates": np.eye(8)[:2]}, n_sliders=3, span=3.0)
display(explorer)''',
    "spectrum": '''\
z0 = G.sample(1, seed=2)[0]
J = torch.autograd.functional.jacobian(lambda z: G(z[None]).flatten(), z0)
lam, V = np.linalg.eigh((J.T @ J).double().numpy())
lam, V = lam[::-1].copy(), V[:, ::-1].copy()
lam[-2], lam[-1] = -1e-3 * lam[0], 1e-25  # show a negative and a numerically-zero eigenvalue
spectrum = SpectrumViewer(lam, V, G, z0, steps=np.linspace(-3, 3, 5))
display(spectrum)''',
    "plane": '''\
plane_viewer = MapViewer(plane, generator=G)
display(plane_viewer)''',
    "sphere": '''\
sphere_viewer = MapViewer(sphere, generator=G)
display(sphere_viewer)''',
    "persistence": '''\
persistence = PersistenceViewer(plane)
display(persistence)''',
    # from here on, not run by "run all above": each test runs its cell
    "dashboard": '''\
class SlowUnit(TemplateUnit):
    def clean(self, images):
        time.sleep(0.04)  # a recorded neuron is slow: generations take long enough to press buttons
        return super().clean(images)

with torch.no_grad():
    slow = SlowUnit(G(target[None])[0], metric="correlation")
dashboard = EvolutionDashboard(G, slow, "ga", budget=200_000, out="runs/dashboard", seed=0)
display(dashboard)
run = await dashboard.run_async()
print("run_async returned:", dashboard.state, dashboard.generation)''',
    # the test makes the browser give up on this widget's start (anywidget's 2 s limit): the view
    # must notice that the kernel does not reach it and recover through a replacement model
    "deaf": '''\
import plotly.graph_objects as go
from landscape.widgets.plotpane import PlotPane
deaf = PlotPane(go.Figure(go.Scatter(y=[1, 2, 3], mode="markers", marker=dict(size=14)),
                          layout=dict(title="recovers", height=260)))
deaf.on_click(lambda click: deaf.restyle(0, {"marker.color": "red"}))
display(deaf)
deaf.restyle(0, {"y": [3, 2, 1]})  # sent after display: lost by a model that failed to start''',
}

#: cells run by the tests themselves, not by the set-up's "run all above"
OWN_CELLS = ("dashboard", "deaf")


def write_widget_notebook(path: Path) -> list[str]:
    """Write the notebook; returns the widget names in cell order (cell 0 is the set-up)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    for name, source in CELLS.items():
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["widget"] = name
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return list(CELLS)
