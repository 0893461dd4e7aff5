"""End to end in a real browser: JupyterLab on 127.0.0.1, driven by Playwright with Debian's chromium.

Opens a copy of notebook 02, runs all its cells, moves a slider of its latent explorer with the
keyboard, and checks that the generated image and the response plot changed. A screenshot is
kept in ``test-artifacts/`` (git-ignored). The browser is the system's ``/usr/bin/chromium``
(``.ci/run`` installs it); this test never downloads one, and it fails — it does not skip — when
chromium or the ``playwright`` package is missing.
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
from notebook_helpers import NOTEBOOKS, REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
NOTEBOOK = "02_generator_geometry"
ARTIFACTS = REPO / "test-artifacts"
#: JupyterLab settings: every cell in the DOM (no virtual scrolling), no news or update checks
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                          "checkForUpdates": False},
}
SERVER_START_S = 60
RUN_ALL_S = 150
WIDGET_UPDATE_S = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _log_tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else "(no log)"


@pytest.fixture
def jupyterlab(tmp_path: Path, notebook_env: dict[str, str]):
    """A JupyterLab server on a free port of 127.0.0.1 serving a folder with a copy of the notebook."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOKS / f"{NOTEBOOK}.ipynb", root)
    settings = tmp_path / "lab-settings"
    for rel, value in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(value))
    port = _free_port()
    log_path = tmp_path / "jupyterlab.log"
    env = dict(notebook_env, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
           "--ServerApp.password=", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={root}",
           f"--LabServerApp.user_settings_dir={settings}", f"--LabServerApp.workspaces_dir={tmp_path / 'workspaces'}"]
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
        try:  # shut the kernels down through the server, then the server itself
            for k in _get_json(f"{url}/api/kernels"):
                req = urllib.request.Request(f"{url}/api/kernels/{k['id']}", method="DELETE")
                urllib.request.urlopen(req, timeout=10).close()
        except Exception:
            pass
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


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


def _kernels_idle(url: str) -> bool:
    kernels = _get_json(f"{url}/api/kernels")
    return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


def _wait_for_run_all(page, url: str, n_code_cells: int) -> None:
    """Until every code cell has an execution count and the kernel is idle; fail at the first error."""
    deadline = time.monotonic() + RUN_ALL_S
    settled = 0
    while True:
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
        if errors.count():
            pytest.fail(f"a cell failed in the browser:\n{errors.first.inner_text()[-3000:]}")
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        done = sum(bool(re.fullmatch(r"\[\d+\]:", p.strip())) for p in prompts)
        settled = settled + 1 if done == n_code_cells and _kernels_idle(url) else 0
        if settled >= 2:  # idle twice in a row: not just a gap between two queued cells
            return
        if time.monotonic() > deadline:
            pytest.fail(f"run-all did not finish within {RUN_ALL_S} s: {done} of {n_code_cells} code cells ran "
                        f"(prompts: {prompts})")
        time.sleep(1.0)


def _wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.25)


@pytest.mark.browser
@pytest.mark.slow
def test_jupyterlab_runs_notebook_and_slider_moves_image_and_plot(jupyterlab):
    sync_playwright = _require_browser()
    url, root, log_path = jupyterlab
    import nbformat

    n_code = sum(c.cell_type == "code" for c in nbformat.read(root / f"{NOTEBOOK}.ipynb", as_version=4).cells)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{NOTEBOOK}.ipynb")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
            _wait_until(lambda: _kernels_idle(url), 60, "the notebook's kernel starting")

            # Run > Run All Cells (JupyterLab has no default shortcut for it)
            page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            _wait_for_run_all(page, url, n_code)

            # the latent explorer is the last cell's output: its sliders, image and response plot
            explorer = page.locator(".jp-Notebook .jp-CodeCell").last
            explorer.scroll_into_view_if_needed()
            handle = explorer.locator(".noUi-handle").first
            image = explorer.locator(".widget-image").first
            plot = explorer.locator(".js-plotly-plot").first
            for element, name in ((handle, "slider"), (image, "image"), (plot, "response plot")):
                _wait_until(lambda e=element: e.count() > 0 and e.is_visible(), 30, f"the explorer's {name} showing")
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
            _wait_until(lambda: _kernels_idle(url), WIDGET_UPDATE_S, "the kernel settling")
            page.wait_for_timeout(500)  # let plotly finish drawing before the screenshot
            assert float(readout.inner_text()) > float(before["readout"])
            assert image.screenshot() != before["image"], "the generated image looks the same after moving the slider"
            assert plot.screenshot() != before["plot"], "the response plot looks the same after moving the slider"
            page.screenshot(path=str(ARTIFACTS / "notebook_browser.png"))
        finally:
            browser.close()
    assert "Traceback" not in _log_tail(log_path, 100_000), _log_tail(log_path)
