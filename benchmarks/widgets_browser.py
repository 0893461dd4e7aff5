"""A threshold step of the sphere MapViewer in a real browser, against plotly's FigureWidget way.

JupyterLab on 127.0.0.1, Debian's chromium through Playwright (the harness of the widget tests,
``tests/widgets/browser_lab.py``). One notebook shows the same sphere map twice:

* ``MapViewer``    - the toolkit's viewer: one surface; a step sends a new colour scale
  (``PlotPane.restyle``) and plotly.js restyles that one trace;
* ``FigureWidget`` - the peer, the way the viewer worked before: plotly's ``go.FigureWidget``
  with a second, slightly larger surface whose ``surfacecolor`` is set to the super-level mask
  at each step (NaN outside it).

For each, the slider handle gets a key press and the time runs until the counts label changed
and plotly finished redrawing (two animation frames after its restyle). Steps alternate between
the two so that load from other processes hits both alike. Also reported: whether the pictures
differ from step to step (screenshots), and the saved widget state per figure (what a saved
notebook holds for it). The WebGL here is software (``--disable-gpu``), so absolute times are
far above a laptop's; the ratio is the point.

    python benchmarks/widgets_browser.py [--grid 21] [--steps 6]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "widgets"))

NOTEBOOK = '''\
import json, numpy as np, ipywidgets as W, plotly.graph_objects as go
from IPython.display import display
from landscape.maps import TuningMap
from landscape.widgets import MapViewer
from landscape.widgets.map_viewer import plotly_grid, sphere_xyz, superlevel_counts
n = {grid}
theta, phi = np.linspace(-180, 180, n), np.linspace(-90, 90, n)
T, P = np.meshgrid(np.deg2rad(theta), np.deg2rad(phi))
v = np.exp(2 * np.cos(P) * np.cos(T)) + 0.8 * np.exp(2 * np.cos(P) * np.cos(T - 2.4))
tm = TuningMap("sphere", v, {{"theta_deg": theta, "phi_deg": phi}}, np.eye(8)[:3], np.eye(8)[0], radius=1.0)
viewer = MapViewer(tm)

# the peer: plotly's FigureWidget, the super-level set drawn as a second surface
X, Y, Z = sphere_xyz(theta, phi)
lo, hi = float(v.min()), float(v.max())
peer = go.FigureWidget([go.Surface(x=X, y=Y, z=Z, surfacecolor=plotly_grid(v), colorscale="Viridis"),
                        go.Surface(x=X * 1.01, y=Y * 1.01, z=Z * 1.01,
                                   surfacecolor=plotly_grid(np.full_like(v, np.nan)),
                                   colorscale=[[0, "red"], [1, "red"]], opacity=0.5, showscale=False)],
                       layout=dict(height=460, width=480, title="FigureWidget"))
slider = W.FloatSlider(value=lo + 0.5 * (hi - lo), min=lo, max=hi, step=(hi - lo) / 100, description="threshold")
label = W.HTML()
def step(_=None):
    c = slider.value
    peer.data[1].surfacecolor = plotly_grid(np.where(v >= c, 1.0, np.nan))
    b0, b1 = superlevel_counts(tm, c)
    label.value = f"super-level set at {{c:.3g}}: {{b0}} component(s), {{b1}} hole(s)"
slider.observe(step, names="value")
step()
display(viewer)
display(W.VBox([slider, label, peer]))
state = {{"MapViewer": len(json.dumps(viewer.figure.get_state(), default=str)),
          "FigureWidget": len(json.dumps(peer.get_state(), default=str))}}
print("STATE", json.dumps(state))
'''


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=21, help="n x n sphere map")
    ap.add_argument("--steps", type=int, default=6, help="threshold steps per viewer")
    args = ap.parse_args()
    import nbformat
    from browser_lab import JupyterLab, LabError, launch_chromium, open_notebook, run_all, wait_until
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, JupyterLab(Path(tmp)) as lab:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(NOTEBOOK.format(grid=args.grid))]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, lab.root / "bench.ipynb")
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            open_notebook(page, lab, "bench.ipynb")
            run_all(page, lab, 1, timeout_s=300)
            out = page.locator(".jp-OutputArea-output")
            state = json.loads(out.filter(has_text="STATE").inner_text().split("STATE", 1)[1])
            plots = page.locator(".js-plotly-plot")
            wait_until(lambda: plots.count() == 2 and all(p.evaluate("g => !!g._fullLayout") for p in plots.all()),
                       120, "both plots drawing")
            time.sleep(2)
            handles = page.locator(".noUi-handle")
            labels = [page.locator(".widget-html-content").first, page.locator(".widget-html-content").nth(2)]
            names = ["MapViewer", "FigureWidget"]
            for gd in plots.all():
                gd.evaluate("gd => { gd.__t = []; gd.on('plotly_restyle', () => requestAnimationFrame(() =>"
                            " requestAnimationFrame(() => gd.__t.push(performance.now())))); }")
            times: dict[str, list[float]] = {n: [] for n in names}
            failed = {n: 0 for n in names}
            traces = {n: plots.nth(i).evaluate("g => g.data.length") for i, n in enumerate(names)}
            pictures: dict[str, list[bytes]] = {n: [plots.nth(i).screenshot()] for i, n in enumerate(names)}
            for _ in range(args.steps):
                for i, name in enumerate(names):
                    gd, label = plots.nth(i), labels[i]
                    text = label.inner_text()
                    gd.evaluate("gd => { gd.__t = []; }")
                    t0 = page.evaluate("() => performance.now()")
                    handles.nth(i).focus()
                    page.keyboard.press("ArrowRight")
                    try:
                        wait_until(lambda: label.inner_text() != text and gd.evaluate("g => g.__t.length > 0"), 60,
                                   f"{name} step")
                    except LabError:  # e.g. a FigureWidget that came up empty never redraws
                        failed[name] += 1
                        continue
                    t_label = page.evaluate("() => performance.now()")
                    t_draw = gd.evaluate("g => g.__t[g.__t.length - 1]")
                    times[name].append(max(t_label, t_draw) - t0)
                    pictures[name].append(gd.screenshot())
            browser.close()
    print(f"sphere map {args.grid} x {args.grid}, {args.steps} threshold steps each, load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (before), headless chromium with software WebGL\n")
    print(f"{'viewer':<14} {'traces':>6} {'median step ms':>15} {'min':>7} {'max':>7} {'no update':>10} "
          f"{'distinct pictures':>18} {'saved state KB':>15}")
    for name in names:
        t = times[name] or [float("nan")]
        print(f"{name:<14} {traces[name]:>6} {statistics.median(t):>15.0f} {min(t):>7.0f} {max(t):>7.0f} "
              f"{failed[name]:>10} {len(set(pictures[name])):>11} of {len(pictures[name]):<4} "
              f"{state[name] / 1e3:>15.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
