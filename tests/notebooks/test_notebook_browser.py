"""End to end in a real browser: every teaching notebook opened in JupyterLab and Run All, as a
workshop student would, driven by Playwright with Debian's chromium.

One JupyterLab server (127.0.0.1, a free port) and one browser serve all six notebooks (copies of
the student versions, exercises unsolved). For each notebook: Run > Run All Cells, wait until
every code cell has run and the kernel is idle, then check what a person would see:

* no error output (nor any text on stderr) except in the exercise cells (tagged
  ``raises-exception``), and those show the exercise's own ``NotImplementedError("exercise:
  ...")`` — and Run All went on past them;
* no "Error displaying widget" anywhere;
* every plotly figure on the page holds at least one trace (no empty plot), and every notebook
  shows at least one;
* notebook 01's report link opens the report in a new browser tab with its plots drawn;
* notebook 02's latent explorer: moving a slider with the keyboard changes the image and the plot.

A screenshot of each notebook is kept in ``test-artifacts/`` (git-ignored). The browser is the
system's ``/usr/bin/chromium`` (``.ci/run`` installs it); this test never downloads one, and it
fails — it does not skip — when chromium or the ``playwright`` package is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from notebook_helpers import ALL_NOTEBOOK_NAMES, NOTEBOOKS, REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"
#: JupyterLab settings: every cell in the DOM (no virtual scrolling), no news or update checks
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                          "checkForUpdates": False},
}
SERVER_START_S = 60
RUN_ALL_S = 240
WIDGET_UPDATE_S = 30
#: an error output (JupyterLab renders a traceback as stderr text) or any other text on stderr
ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
#: every plotly graph div on the page with its number of traces (plotly keeps them on the div as .data)
PLOTLY_TRACES = "() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => (g.data || []).length)"
#: the same in a notebook, with the index of the code cell each figure is in
PLOTLY_TRACES_BY_CELL = """() => {
  const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'));
  return Array.from(document.querySelectorAll('.jp-Notebook .js-plotly-plot')).map(
    g => [cells.indexOf(g.closest('.jp-CodeCell')), (g.data || []).length]);
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _log_tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else "(no log)"


def _require_browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium "
                    "(apt-get update && apt-get install -y --no-install-recommends chromium; .ci/run does this)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install playwright "
                    "(do not run `playwright install`: the test uses /usr/bin/chromium)")
    return sync_playwright


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory, notebook_env: dict[str, str]):
    """One JupyterLab server on a free port of 127.0.0.1, serving copies of all the student notebooks."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "root"
    root.mkdir()
    for name in ALL_NOTEBOOK_NAMES:
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", root)
    settings = tmp / "lab-settings"
    for rel, value in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    port = _free_port()
    log_path = tmp / "jupyterlab.log"
    env = dict(notebook_env, JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}",
           f"--LabServerApp.user_settings_dir={settings}", f"--LabServerApp.workspaces_dir={tmp / 'workspaces'}"]
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {server.returncode}:\n{_log_tail(log_path)}")
            try:
                _get_json(f"{url}/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer on {url} within {SERVER_START_S} s:\n{_log_tail(log_path)}")
                time.sleep(0.5)
        yield url, root, log_path
    finally:
        _shutdown_kernels(url)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    # module scope: playwright's sync API keeps an event loop running while it is open, which would
    # break every later test that starts one (asyncio.run, the widgets' own browser tests)
    sync_playwright = _require_browser()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _shutdown_kernels(url: str) -> None:
    """End every session and kernel through the server (frees CPU and memory for the next notebook)."""
    try:
        for sess in _get_json(f"{url}/api/sessions"):
            req = urllib.request.Request(f"{url}/api/sessions/{sess['id']}", method="DELETE")
            urllib.request.urlopen(req, timeout=10).close()
        for k in _get_json(f"{url}/api/kernels"):
            req = urllib.request.Request(f"{url}/api/kernels/{k['id']}", method="DELETE")
            urllib.request.urlopen(req, timeout=10).close()
    except (urllib.error.URLError, OSError):
        pass


def _kernel_idle(url: str, notebook: str) -> bool:
    """Whether the kernel of ``notebook``'s session has started and is idle."""
    for sess in _get_json(f"{url}/api/sessions"):
        if sess.get("path", "").endswith(notebook) and sess.get("kernel"):
            return sess["kernel"]["execution_state"] == "idle"
    return False


def _wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.25)


def _exercise_cells(path: Path) -> list[int]:
    """Indices among the code cells of the cells allowed to raise (the unsolved exercises)."""
    import nbformat

    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return [i for i, c in enumerate(code) if "raises-exception" in c.metadata.get("tags", [])]


def _run_all(page, url: str, notebook: str, n_code: int, allowed: list[int]) -> None:
    """Run > Run All Cells; wait until every code cell has a prompt number and the kernel is idle.

    Fails at once on an error output in a cell that is not an exercise.
    """
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt")
    _wait_until(lambda: any(p.strip() != "[ ]:" for p in prompts.all_inner_texts()), 60,
                "Run All starting (a cell prompt leaving '[ ]:')")
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    deadline = time.monotonic() + RUN_ALL_S
    settled = 0
    while True:
        for i in range(cells.count()):
            if i not in allowed and cells.nth(i).locator(ERROR_OUTPUT).count():
                pytest.fail(f"code cell {i} failed in the browser:\n"
                            f"{cells.nth(i).locator(ERROR_OUTPUT).first.inner_text()[-3000:]}")
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        done = sum(bool(re.fullmatch(r"\[\d+\]:", p.strip())) for p in prompts)
        settled = settled + 1 if done == n_code and _kernel_idle(url, notebook) else 0
        if settled >= 2:  # idle twice in a row: not just a gap between two queued cells
            return
        if time.monotonic() > deadline:
            pytest.fail(f"run-all did not finish within {RUN_ALL_S} s: {done} of {n_code} code cells ran "
                        f"(prompts: {prompts})")
        time.sleep(1.0)


def _check_page(page, name: str, allowed: list[int]) -> None:
    """What a person sees after Run All: exercise errors only, no widget error, no empty plot."""
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    for i in allowed:
        err = cells.nth(i).locator(ERROR_OUTPUT)
        assert err.count() == 1, f"{name}: exercise cell {i} should show its NotImplementedError"
        text = err.first.inner_text()
        assert "NotImplementedError" in text and "exercise:" in text, \
            f"{name}: exercise cell {i} failed otherwise:\n{text}"
    body = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in body, f"{name}: a widget failed to display"
    figures = page.evaluate(PLOTLY_TRACES_BY_CELL)
    assert figures, f"{name}: no plotly figure was drawn"
    empty = [cell for cell, n in figures if n == 0]
    if empty:
        page.locator(".jp-Notebook .jp-CodeCell").nth(empty[0]).scroll_into_view_if_needed()
        pytest.fail(f"{name}: an empty plotly figure (no trace) in code cell(s) {empty}; "
                    f"(code cell, traces) of every figure: {figures}")


def _check_report_tab(page, context) -> None:
    """Notebook 01's report link opens the report itself (not JupyterLab's untrusted viewer) in a new tab."""
    link = page.locator(".landscape-report-link a").first
    assert link.count(), "notebook 01 shows no report link"
    assert link.get_attribute("target") == "_blank"
    with context.expect_page() as popup:
        link.click()
    report = popup.value
    try:
        report.wait_for_load_state("load", timeout=60_000)
        report.wait_for_selector(".js-plotly-plot", timeout=30_000)
        traces = report.evaluate(PLOTLY_TRACES)
        assert traces and all(n > 0 for n in traces), f"the report's plots are empty: {traces}"
        report.screenshot(path=str(ARTIFACTS / "notebook_01_report_tab.png"))
    finally:
        report.close()


def _check_explorer_slider(page, url: str, notebook: str) -> None:
    """Notebook 02's last cell: a latent explorer whose slider moves the image and the response plot."""
    explorer = page.locator(".jp-Notebook .jp-CodeCell").last
    explorer.scroll_into_view_if_needed()
    handle = explorer.locator(".noUi-handle").first
    image = explorer.locator(".widget-image").first
    plot = explorer.locator(".js-plotly-plot").first
    for element, what in ((handle, "slider"), (image, "image"), (plot, "response plot")):
        _wait_until(lambda e=element: e.count() > 0 and e.is_visible(), 30, f"the explorer's {what} showing")
    readout = explorer.locator(".widget-readout").first
    before = {"src": image.get_attribute("src"), "image": image.screenshot(), "plot": plot.screenshot(),
              "points": plot.locator(".scatterlayer .point").count(), "readout": readout.inner_text()}
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    _wait_until(lambda: readout.inner_text() != before["readout"], WIDGET_UPDATE_S, "the slider moving")
    _wait_until(lambda: image.get_attribute("src") != before["src"], WIDGET_UPDATE_S, "the image updating")
    _wait_until(lambda: plot.locator(".scatterlayer .point").count() > before["points"], WIDGET_UPDATE_S,
                "the response plot gaining points")
    _wait_until(lambda: _kernel_idle(url, notebook), WIDGET_UPDATE_S, "the kernel settling")
    page.wait_for_timeout(500)  # let plotly finish drawing before the screenshot
    assert float(readout.inner_text()) > float(before["readout"])
    assert image.screenshot() != before["image"], "the generated image looks the same after moving the slider"
    assert plot.screenshot() != before["plot"], "the response plot looks the same after moving the slider"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_NOTEBOOK_NAMES)
def test_notebook_run_all_in_jupyterlab(name, jupyterlab, browser):
    url, root, log_path = jupyterlab
    import nbformat

    n_code = sum(c.cell_type == "code" for c in nbformat.read(root / f"{name}.ipynb", as_version=4).cells)
    allowed = _exercise_cells(root / f"{name}.ipynb")
    ARTIFACTS.mkdir(exist_ok=True)
    _shutdown_kernels(url)  # nothing left running from an earlier notebook
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{url}/lab/tree/{name}.ipynb?reset")  # ?reset: restore no tab of an earlier notebook
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
        _wait_until(lambda: _kernel_idle(url, f"{name}.ipynb"), 90, "the notebook's kernel starting")
        _run_all(page, url, f"{name}.ipynb", n_code, allowed)
        _check_page(page, name, allowed)
        if name == "01_evolve_a_neuron":
            _check_report_tab(page, context)
        if name == "02_generator_geometry":
            _check_explorer_slider(page, url, f"{name}.ipynb")
        if allowed:  # the first exercise, as a student sees it after Run All
            page.locator(".jp-Notebook .jp-CodeCell").nth(allowed[0]).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"notebook_{name}.png"))
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / f"notebook_{name}_failed.png"))
        raise
    finally:
        context.close()
        _shutdown_kernels(url)
    assert "Traceback" not in _log_tail(log_path, 100_000), _log_tail(log_path)
