"""A JupyterLab server and a headless Chromium for widget tests (and for measuring widgets by hand).

One server on a free port of 127.0.0.1 serves a folder; its kernels run this venv's Python with the
test environment (shared weights, no downloads, one torch thread). The browser is Debian's
``/usr/bin/chromium`` driven by the ``playwright`` package; nothing is ever downloaded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
#: every cell in the DOM (no virtual scrolling); no news or update toasts; widget state saved with the
#: notebook (what a teacher who hands out executed notebooks turns on)
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                          "checkForUpdates": False},
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
}


class LabError(RuntimeError):
    """The server or the page did not do what was asked, with the reason."""


def kernel_environment() -> dict[str, str]:
    env = {"LANDSCAPE_OFFLINE": "1"}
    if "LANDSCAPE_HOME" in os.environ:
        env["LANDSCAPE_HOME"] = os.environ["LANDSCAPE_HOME"]
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread: a shared 2-core machine
        env[var] = os.environ.get(var, "1")
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise LabError(f"{what} did not happen within {timeout_s} s")
        time.sleep(every_s)


class JupyterLab:
    """``with JupyterLab(workdir) as lab:`` a server whose root is ``workdir / "root"``."""

    def __init__(self, workdir: Path, start_timeout_s: float = 90) -> None:
        self.workdir = Path(workdir)
        self.root = self.workdir / "root"
        self.log_path = self.workdir / "jupyterlab.log"
        self.start_timeout_s = start_timeout_s
        self.url = ""
        self._server: subprocess.Popen | None = None

    def __enter__(self) -> "JupyterLab":
        self.root.mkdir(parents=True, exist_ok=True)
        settings = self.workdir / "lab-settings"
        for rel, value in LAB_SETTINGS.items():
            (settings / rel).parent.mkdir(parents=True, exist_ok=True)
            (settings / rel).write_text(json.dumps(value))
        data = self.workdir / "jupyter-data"
        spec_dir = data / "kernels" / "python3"
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (tuning-landscapes tests)", "language": "python",
                "env": kernel_environment()}
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
        env = dict(os.environ, **kernel_environment(), JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"))
        env["JUPYTER_PATH"] = os.pathsep.join([str(data), *[p for p in env.get("JUPYTER_PATH", "").split(os.pathsep)
                                                             if p]])
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
               "--ServerApp.password=", "--ServerApp.open_browser=False", f"--ServerApp.root_dir={self.root}",
               f"--LabServerApp.user_settings_dir={settings}",
               f"--LabServerApp.workspaces_dir={self.workdir / 'workspaces'}"]
        with open(self.log_path, "w") as log:
            self._server = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self._server.poll() is not None:
                raise LabError(f"JupyterLab exited with code {self._server.returncode}:\n{self.log_tail()}")
            try:
                get_json(f"{self.url}/api/status")
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise LabError(f"JupyterLab did not answer within {self.start_timeout_s} s:\n{self.log_tail()}")
                time.sleep(0.3)

    def __exit__(self, *exc: Any) -> None:
        if self._server is None:
            return
        self._server.send_signal(signal.SIGTERM)  # the server shuts its kernels down
        try:
            self._server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._server.kill()
            self._server.wait(timeout=10)
        self._server = None

    def log_tail(self, n: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path.exists() else "(no log)"

    def kernels_idle(self) -> bool:
        try:
            kernels = get_json(f"{self.url}/api/kernels")
        except (urllib.error.URLError, OSError):  # the server answers 500 while a kernel is starting
            return False
        return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


def launch_chromium(pw: Any) -> Any:
    if not CHROMIUM.exists():
        raise LabError(f"{CHROMIUM} not found: install Debian's chromium "
                       "(apt-get update && apt-get install -y --no-install-recommends chromium; .ci/run does this)")
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def open_notebook(page: Any, lab: JupyterLab, name: str) -> None:
    page.goto(f"{lab.url}/lab/tree/{name}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
    wait_until(lab.kernels_idle, 90, "the notebook's kernel starting", every_s=0.25)


def run_all(page: Any, lab: JupyterLab, n_code_cells: int, timeout_s: float = 150, above: int | None = None) -> None:
    """Run > Run All Cells (or, with ``above``, every cell above code cell number ``above``), until
    those cells have prompt numbers and the kernel is idle twice in a row."""
    if above is not None:
        page.locator(".jp-Notebook .jp-CodeCell").nth(above).locator(".jp-InputPrompt").click()
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    label = "Run All Above Selected Cell" if above is not None else "Run All Cells"
    page.get_by_role("menuitem", name=label, exact=True).click()
    wait_for_cells(page, lab, above if above is not None else n_code_cells, timeout_s)


def wait_for_cells(page: Any, lab: JupyterLab, n: int, timeout_s: float) -> None:
    """Until the first ``n`` code cells have prompt numbers and the kernel is idle; fail at a cell error."""
    deadline = time.monotonic() + timeout_s
    settled = 0
    while True:
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
        if errors.count():
            raise LabError(f"a cell failed in the browser:\n{errors.first.inner_text()[-3000:]}")
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()[:n]
        done = sum(bool(re.fullmatch(r"\[\d+\]:", p.strip())) for p in prompts)
        settled = settled + 1 if done == n and lab.kernels_idle() else 0
        if settled >= 2:
            return
        if time.monotonic() > deadline:
            raise LabError(f"the cells did not finish within {timeout_s} s: {done} of {n} ran")
        time.sleep(0.3)
