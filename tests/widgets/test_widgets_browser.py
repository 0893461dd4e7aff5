"""Every widget kind, used in a real browser: JupyterLab on 127.0.0.1, driven by Playwright with Debian's chromium.

One server, one browser and one small notebook (``widget_notebook.py``: tiny generator, formula
maps, no weights) serve all the tests of this module. Each test moves a control the way a
person does (keyboard on a slider, a mouse click on a plot or button) and checks what is drawn:
screenshots that must change (or must not, while paused), plotly's own state in the page, the
image elements, and that no panel sticks out of the notebook's output area. Screenshots are
kept in ``test-artifacts/`` (git-ignored; CI keeps them). The browser is ``/usr/bin/chromium``
(``.ci/run`` installs it); nothing is downloaded, and a missing browser fails the tests.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_lab import JupyterLab, LabError, launch_chromium, open_notebook, run_all, wait_for_cells, wait_until
from widget_notebook import OWN_CELLS, write_widget_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
UPDATE_S = 45  # generous: a software-WebGL redraw takes ~1 s on a busy 2-core machine


class WidgetPage:
    def __init__(self, page: Any, lab: JupyterLab, names: list[str]) -> None:
        self.page, self.lab, self.names = page, lab, names
        self.errors: list[str] = []
        self.current = ""

    def cell(self, name: str) -> Any:
        self.current = name
        cell = self.page.locator(".jp-Notebook .jp-CodeCell").nth(1 + self.names.index(name))
        cell.scroll_into_view_if_needed()
        return cell

    def shot(self, cell: Any, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        cell.screenshot(path=str(ARTIFACTS / f"widget_{name}.png"))


def plots(cell: Any) -> list[dict]:
    """What plotly drew in each plot of the cell: trace count, title, width."""
    return cell.locator(".js-plotly-plot").evaluate_all(
        "els => els.map(e => ({n: (e.data || []).length, width: e.offsetWidth,"
        " title: e.layout && e.layout.title && (e.layout.title.text || e.layout.title) || ''}))")


def trace_value(plot: Any, trace: int, key: str) -> Any:
    return plot.evaluate(f"(gd) => gd.data[{trace}] && gd.data[{trace}].{key}")


def drawn(plot: Any) -> int:
    """How many times the PlotPane holding this plot finished drawing (set by plotpane.js)."""
    return int(plot.evaluate("(gd) => Number(gd.closest('.landscape-plotpane').dataset.drawn || 0)"))


def wait_drawn(plot: Any, after: int, what: str) -> None:
    wait_until(lambda: drawn(plot) > after, UPDATE_S, what)


def assert_fits(cell: Any, name: str) -> None:
    """No panel of the widget sticks out of the output area (nothing to scroll sideways)."""
    out = cell.locator(".jp-OutputArea-output").last
    box = out.bounding_box()
    scroll, client = out.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert scroll <= client + 1, f"{name}: the output area scrolls sideways ({scroll} px of content in {client} px)"
    right = box["x"] + box["width"] + 1
    for el in out.locator(".js-plotly-plot, .widget-image, .widget-slider, .widget-dropdown, .widget-html").all():
        b = el.bounding_box()
        if b is not None and b["width"] > 0:
            assert b["x"] + b["width"] <= right, f"{name}: a panel ends at {b['x'] + b['width']:.0f} px, " \
                                                 f"the output area at {right:.0f} px"


def assert_no_empty_plot(cell: Any, name: str, expected: int) -> None:
    got = plots(cell)
    assert len(got) == expected, f"{name}: {len(got)} plots drawn, expected {expected}"
    for p in got:
        assert p["n"] > 0 and p["title"], f"{name}: an empty plot (traces {p['n']}, title {p['title']!r})"


def slider_step(page: Any, handle: Any, key: str = "ArrowRight", times: int = 1) -> None:
    handle.focus()
    for _ in range(times):
        page.keyboard.press(key)


def click_at(page: Any, plot: Any, x: float, y: float) -> None:
    """A click as a person makes it: the pointer arrives, rests until plotly reports what is under it
    (3-D scenes find that in a separate picking pass), then presses."""
    plot.evaluate("(gd) => { gd.__hovered = false; gd.__clicks = 0;"
                  " gd.on('plotly_hover', () => { gd.__hovered = true; });"
                  " gd.on('plotly_click', () => { gd.__clicks += 1; }); }")
    page.mouse.move(x - 8, y)
    page.wait_for_timeout(200)
    page.mouse.move(x, y)
    hovered = lambda: plot.evaluate("(gd) => gd.__hovered")  # noqa: E731
    try:
        wait_until(hovered, UPDATE_S, "plotly finding the point under the pointer")
    except LabError:
        page.mouse.move(x + 3, y + 3)  # one nudge: a pick pass may have run before the scene was ready
        wait_until(hovered, UPDATE_S, "plotly finding the point under the pointer")
    page.wait_for_timeout(300)
    page.mouse.down()
    page.wait_for_timeout(60)
    page.mouse.up()
    wait_until(lambda: plot.evaluate("(gd) => gd.__clicks > 0"), UPDATE_S, "plotly reporting the click")


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install playwright "
                    "(do not run `playwright install`: the tests use /usr/bin/chromium)")
    work = tmp_path_factory.mktemp("widget-lab")
    with JupyterLab(work) as lab:
        names = write_widget_notebook(lab.root / "widgets.ipynb")
        with sync_playwright() as pw:
            try:
                browser = launch_chromium(pw)
            except LabError as e:
                pytest.fail(str(e))
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 950})
                page.set_default_timeout(30_000)
                w = WidgetPage(page, lab, names)
                page.on("pageerror", lambda e: w.errors.append(str(e)))
                open_notebook(page, lab, "widgets.ipynb")
                first_own = 1 + names.index(OWN_CELLS[0])  # the cells tests run themselves come last
                run_all(page, lab, 1 + len(names), timeout_s=180, above=first_own)
                yield w
            finally:
                browser.close()
        log = lab.log_tail(200_000)
    assert "Traceback" not in log, log[-5000:]


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest, ui: WidgetPage):
    yield
    if getattr(request.node, "failed_call", False) and ui.current:
        ARTIFACTS.mkdir(exist_ok=True)
        ui.page.locator(".jp-Notebook .jp-CodeCell").nth(1 + ui.names.index(ui.current)).screenshot(
            path=str(ARTIFACTS / f"FAILED_{request.node.name}.png"))


def test_latent_explorer_slider_moves_image_and_plot_and_axis_switch_resets(ui):
    cell = ui.cell("explorer")
    assert_no_empty_plot(cell, "explorer", 1)
    image, plot = cell.locator(".widget-image").first, cell.locator(".js-plotly-plot").first
    readouts = cell.locator(".widget-readout")
    before = {"src": image.get_attribute("src"), "plot": plot.screenshot(), "n": len(trace_value(plot, 0, "y"))}
    n_drawn = drawn(plot)
    slider_step(ui.page, cell.locator(".noUi-handle").first, times=4)
    wait_until(lambda: image.get_attribute("src") != before["src"], UPDATE_S, "the image updating")
    wait_drawn(plot, n_drawn, "the response plot redrawing")
    wait_until(lambda: len(trace_value(plot, 0, "y")) > before["n"], UPDATE_S, "the response plot gaining points")
    assert float(readouts.first.inner_text()) > 0
    assert plot.screenshot() != before["plot"], "the response plot looks the same after moving the slider"
    assert_fits(cell, "explorer")
    cell.locator("select").first.select_option("code coordinates")
    wait_until(lambda: float(readouts.first.inner_text()) == 0.0, UPDATE_S, "the offsets resetting on a new axis set")
    labels = cell.locator(".widget-slider .widget-label").all_inner_texts()
    assert labels[0] == "code coordinates 0" and all(not t.endswith("…") for t in labels), labels
    label_boxes = cell.locator(".widget-slider .widget-label").evaluate_all(
        "els => els.map(e => [e.scrollWidth, e.clientWidth])")
    assert all(s <= c + 1 for s, c in label_boxes), f"slider labels are cut: {label_boxes}"
    ui.shot(cell, "explorer")


def test_spectrum_viewer_log_axis_is_legible_and_slider_moves_the_strip(ui):
    cell = ui.cell("spectrum")
    assert_no_empty_plot(cell, "spectrum", 1)
    plot, strip = cell.locator(".js-plotly-plot").first, cell.locator(".widget-image").first
    ticks = plot.locator(".ytick text").evaluate_all("els => els.map(e => e.textContent)")
    assert ticks, "no y ticks"
    for t in ticks:  # powers of ten, not SI prefixes ("100n", "10f") or "1e-12"
        tick = t.replace("\u200b", "").replace(" ", "").strip()  # plotly puts zero-width spaces around exponents
        assert re.fullmatch(r"10[\u2212-]?\d*|1", tick), f"y tick {t!r} is not a power of ten"
    names = plot.evaluate("(gd) => gd.data.map(t => t.name)")
    assert any(n.startswith("negative") for n in names) and any("max" in n for n in names), names
    before, n_drawn = {"src": strip.get_attribute("src"), "plot": plot.screenshot()}, drawn(plot)
    slider_step(ui.page, cell.locator(".noUi-handle").first, times=3)
    wait_until(lambda: strip.get_attribute("src") != before["src"], UPDATE_S, "the image strip updating")
    wait_drawn(plot, n_drawn, "the selected eigenvalue moving")
    assert trace_value(plot, 3, "x") == [3]
    assert plot.screenshot() != before["plot"]
    assert_fits(cell, "spectrum")
    ui.shot(cell, "spectrum")


def _threshold_changes_the_picture(ui: WidgetPage, cell: Any, name: str) -> None:
    plot = cell.locator(".js-plotly-plot").first
    counts = cell.locator(".widget-html-content").first
    pictures = [plot.screenshot()]
    texts = [counts.inner_text()]
    for key in ("PageUp", "PageUp"):  # a big step each: ~10% of the range
        n_drawn = drawn(plot)
        slider_step(ui.page, cell.locator(".noUi-handle").first, key)
        wait_until(lambda: counts.inner_text() not in texts, UPDATE_S, f"{name}: the counts updating")
        wait_drawn(plot, n_drawn, f"{name}: the map redrawing")
        pictures.append(plot.screenshot())
        texts.append(counts.inner_text())
    assert len(set(pictures)) == len(pictures), f"{name}: moving the threshold did not change the picture"


def _click_selects_a_cell(ui: WidgetPage, cell: Any, name: str, where: tuple[float, float], marker: str) -> None:
    image = cell.locator(".widget-image").first
    assert not image.is_visible(), f"{name}: an (empty) image shows before any cell was chosen"
    plot = cell.locator(".js-plotly-plot").first
    label = cell.locator(".widget-html-content").nth(1)
    before = label.inner_text()
    area = plot.locator(".nsewdrag")  # the plot area of 2-D axes; a 3-D scene fills the plot
    box = (area.first if area.count() else plot).bounding_box()
    click_at(ui.page, plot, box["x"] + where[0] * box["width"], box["y"] + where[1] * box["height"])
    wait_until(lambda: label.inner_text() != before, UPDATE_S, f"{name}: a click selecting a cell")
    assert re.search(r"cell \(\d+, \d+\)", label.inner_text())
    wait_until(lambda: image.is_visible() and image.evaluate("i => i.complete && i.naturalWidth > 0"), UPDATE_S,
               f"{name}: the cell's image showing")
    wait_until(lambda: len(trace_value(plot, 1, "x") or []) == 1, UPDATE_S, f"{name}: the selected cell marked")
    assert trace_value(plot, 1, "type") == marker


def test_plane_map_viewer_threshold_redraws_and_click_shows_the_cell(ui):
    cell = ui.cell("plane")
    assert_no_empty_plot(cell, "plane map", 1)
    _threshold_changes_the_picture(ui, cell, "plane map")
    _click_selects_a_cell(ui, cell, "plane map", (0.27, 0.5), "scatter")
    assert_fits(cell, "plane map")
    ui.shot(cell, "plane_map")


def test_sphere_map_viewer_threshold_redraws_and_click_shows_the_cell(ui):
    cell = ui.cell("sphere")
    assert_no_empty_plot(cell, "sphere map", 1)
    plot = cell.locator(".js-plotly-plot").first
    assert plot.evaluate("(gd) => gd.data.filter(t => t.type === 'surface').length") == 1, \
        "a second surface (a shell) is drawn over the sphere"
    _threshold_changes_the_picture(ui, cell, "sphere map")
    _click_selects_a_cell(ui, cell, "sphere map", (0.4, 0.55), "scatter3d")
    assert_fits(cell, "sphere map")
    ui.shot(cell, "sphere_map")


def test_persistence_viewer_bar_selection_paints_its_region(ui):
    cell = ui.cell("persistence")
    assert_no_empty_plot(cell, "persistence", 3)
    diagram, _curves, region = cell.locator(".js-plotly-plot").all()
    n = 21 * 21
    painted = lambda: region.evaluate(  # noqa: E731
        "(gd) => gd.data[1].z.flat().filter(v => v !== null && v !== undefined).length")
    first = painted()
    assert 0 < first < n, f"the bar selected at start paints {first} of {n} cells (none, or the whole map)"
    before, n_drawn = region.screenshot(), drawn(region)
    # the never-dying H0 bar is the first point of the H0 trace: click it in the diagram
    point = diagram.locator(".scatterlayer .trace").first.locator(".point").first
    b = point.bounding_box()
    click_at(ui.page, diagram, b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    wait_drawn(region, n_drawn, "the region redrawing after a click on a bar")
    wait_until(lambda: painted() == n, UPDATE_S, "the never-dying bar painting the whole map")
    assert region.screenshot() != before
    assert "never" in cell.locator("select").first.evaluate("s => s.options[s.selectedIndex].text")
    assert_fits(cell, "persistence")
    ui.shot(cell, "persistence")


def _status(cell: Any) -> str:
    return cell.locator(".widget-html-content").first.inner_text()


def _generation(cell: Any) -> int:
    m = re.search(r"generation (\d+)", _status(cell))
    return int(m.group(1)) if m else -1


def test_dashboard_pause_and_stop_work_while_the_cell_runs(ui):
    cell = ui.cell("dashboard")
    cell.locator(".jp-InputPrompt").click()
    ui.page.keyboard.press("Shift+Enter")  # await run_async(): the cell runs until the run ends
    wait_until(lambda: _generation(cell) >= 3, 90, "the dashboard running three generations")
    plot = cell.locator(".js-plotly-plot").first
    assert_no_empty_plot(cell, "dashboard", 1)

    cell.locator("button", has_text="pause").click()
    wait_until(lambda: "paused after generation" in _status(cell), UPDATE_S, "pause taking effect while the cell runs")
    status = _status(cell)
    points = len(trace_value(plot, 0, "y"))
    picture = plot.screenshot()
    time.sleep(2.5)
    assert _status(cell) == status and len(trace_value(plot, 0, "y")) == points, "the run went on while paused"
    assert plot.screenshot() == picture
    ui.shot(cell, "dashboard_paused")

    cell.locator("button", has_text="start").click()
    wait_until(lambda: len(trace_value(plot, 0, "y")) > points + 2, UPDATE_S, "start resuming the paused run")
    stopped_at = len(trace_value(plot, 0, "y")) - 1  # the last generation drawn when stop is pressed
    cell.locator("button", has_text="stop").click()
    wait_until(lambda: _status(cell).startswith("stopped"), UPDATE_S, "stop ending the run and the cell")
    wait_for_cells(ui.page, ui.lab, 1 + ui.names.index("dashboard") + 1, UPDATE_S)  # the cell finished
    out = cell.locator(".jp-OutputArea-output").all_inner_texts()
    m = re.search(r"run_async returned: stopped (\d+)", "\n".join(out))
    assert m, out
    # the click travels to the kernel while generations go on (~0.1 s each here): a few more, not dozens
    assert int(m.group(1)) <= stopped_at + 10, f"stop pressed at generation {stopped_at}, the run went to {m.group(1)}"
    assert len(trace_value(plot, 0, "y")) == int(m.group(1)) + 1
    assert_fits(cell, "dashboard")
    ui.shot(cell, "dashboard_stopped")


def test_a_plot_whose_widget_failed_to_start_recovers(ui):
    """anywidget gives a model 2 s to start and then drops every message to it (a busy page can
    take that long): the view must notice and draw from a replacement model."""
    page = ui.page
    errors_before = len(ui.errors)
    page.evaluate("() => { window.__timeout = AbortSignal.timeout;"
                  " AbortSignal.timeout = (ms) => window.__timeout.call(AbortSignal, ms === 2000 ? 1 : ms); }")
    cell = ui.cell("deaf")
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")
    wait_for_cells(page, ui.lab, 1 + ui.names.index("deaf") + 1, UPDATE_S)
    plot = cell.locator(".js-plotly-plot").first
    wait_until(lambda: plot.count() and plot.evaluate("(gd) => !!gd._fullLayout"), UPDATE_S, "the plot drawing")
    page.evaluate("() => { AbortSignal.timeout = window.__timeout; }")  # the replacement starts normally
    assert trace_value(plot, 0, "y") == [1, 2, 3], "the model was not deaf: the test proves nothing"
    pane = cell.locator(".landscape-plotpane").first
    wait_until(lambda: pane.get_attribute("data-adopted") == "1", 60, "the view adopting a replacement model")
    wait_until(lambda: trace_value(plot, 0, "y") == [3, 2, 1], UPDATE_S, "the lost edit showing")
    point = plot.locator(".scatterlayer .point").first
    b = point.bounding_box()
    click_at(page, plot, b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    wait_until(lambda: trace_value(plot, 0, "marker.color") == "red", UPDATE_S,
               "a click on the recovered plot reaching the kernel and its answer coming back")
    ui.shot(cell, "recovered")
    ui.errors[errors_before:] = [e for e in ui.errors[errors_before:]  # the failure this test caused
                                 if "Failed to initialize model" not in e]


def test_no_script_errors_in_the_page(ui):
    assert not ui.errors, ui.errors
