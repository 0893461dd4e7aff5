"""landscape.notebook: the threads a notebook takes on a shared machine, the environment check,
and the link that opens a report in a new browser tab."""

from __future__ import annotations

import json
import re

import pytest
import torch

from landscape import notebook
from landscape.notebook import NotebookSetupError, choose_threads, notebook_setup, report_link


@pytest.fixture(autouse=True)
def keep_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("cores, load, expected", [
    (2, 0.0, 2),     # a quiet 2-core laptop: both cores
    (2, 0.3, 1),     # one core partly busy: it is not idle
    (2, 1.0, 1),     # one busy loop beside us (the benchmark's condition)
    (2, 7.5, 1),     # a loaded workshop server: never fewer than one
    (16, 0.0, 4),    # many idle cores: at most 4, small notebook batches gain little more
    (16, 14.2, 1),
])
def test_automatic_threads_count_only_idle_cores(cores, load, expected):
    n, why = choose_threads(environ={}, cores=cores, load=load)
    assert n == expected
    assert f"load {load:.1f}" in why


def test_explicit_choices_win_in_order():
    env = {"LANDSCAPE_THREADS": "3", "OMP_NUM_THREADS": "2"}
    assert choose_threads(5, environ=env, cores=2, load=9)[0] == 5
    assert choose_threads(None, environ=env, cores=2, load=9) == (3, "LANDSCAPE_THREADS=3")
    assert choose_threads("auto", environ={"OMP_NUM_THREADS": "2"}, cores=2, load=9) == (2, "OMP_NUM_THREADS=2")
    # 'auto' in the variable means the automatic choice
    assert choose_threads(None, environ={"LANDSCAPE_THREADS": "auto"}, cores=2, load=9)[0] == 1


@pytest.mark.parametrize("bad", ["0", "two", "-1", "1.5"])
def test_bad_thread_counts_name_the_value_and_the_choices(bad):
    with pytest.raises(NotebookSetupError, match=rf"LANDSCAPE_THREADS='{re.escape(bad)}'.*whole number >= 1.*'auto'"):
        choose_threads(None, environ={"LANDSCAPE_THREADS": bad})


def test_setup_sets_torch_threads_and_reports(monkeypatch, capsys, weights_dir):
    monkeypatch.setenv("LANDSCAPE_THREADS", "1")
    env = notebook_setup(needs=["resnet20-cifar10"])
    assert torch.get_num_threads() == 1 and env.threads == 1
    assert env.device == "cpu" or torch.cuda.is_available()
    assert "resnet20-cifar10" in env.models and env.downloads == ()
    out = capsys.readouterr().out
    assert "torch CPU threads: 1 (LANDSCAPE_THREADS=1" in out
    assert "versions: landscape" in out and "torch " in out
    assert len(out.splitlines()) <= 5, "the message is short"
    monkeypatch.setenv("LANDSCAPE_THREADS", "2")
    assert notebook_setup(quiet=True).threads == 2 and torch.get_num_threads() == 2


def test_missing_weights_offline_raise_one_error_listing_everything(monkeypatch, tmp_path):
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    monkeypatch.setenv("LANDSCAPE_OFFLINE", "1")
    with pytest.raises(NotebookSetupError) as e:
        notebook_setup(needs=["resnet20-cifar10", "darknet-tiny-imagenet", "resnet200"], threads=1)
    msg = str(e.value)
    assert "resnet20-12fca82f.th" in msg and "darknet-tiny-imagenet" in msg  # every missing piece at once
    assert "unknown zoo entry 'resnet200'; valid names:" in msg
    assert "LANDSCAPE_HOME" in msg and "run this cell again" in msg


def test_missing_weights_online_are_announced_as_downloads(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    monkeypatch.delenv("LANDSCAPE_OFFLINE", raising=False)
    env = notebook_setup(needs=["resnet20-cifar10"], threads=1)
    assert env.downloads == ("resnet20-cifar10",)
    assert "will download on first use: resnet20-cifar10" in capsys.readouterr().out


def test_bad_device_names_the_choices():
    with pytest.raises(NotebookSetupError, match=r"unknown device 'gpu'; valid choices: 'cpu', 'cuda'"):
        notebook_setup(device="gpu", threads=1)
    if not torch.cuda.is_available():
        with pytest.raises(NotebookSetupError, match="torch sees no CUDA GPU"):
            notebook_setup(device="cuda", threads=1)


def test_report_link_opens_the_file_through_the_server_in_a_new_tab(tmp_path, monkeypatch):
    import os

    root = tmp_path / "root"
    report = root / "runs" / "my run" / "report.html"
    report.parent.mkdir(parents=True)
    report.write_text("<html></html>")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    # what jupyter_server writes for each running server; a server whose process is gone is ignored
    servers = {"jpserver-1.json": {"pid": os.getpid(), "root_dir": str(tmp_path / "elsewhere"), "base_url": "/"},
               "jpserver-2.json": {"pid": os.getpid(), "root_dir": str(root), "base_url": "/user/ada/"},
               "jpserver-3.json": {"pid": 2 ** 22 + 7, "root_dir": str(report.parent), "base_url": "/dead/"}}
    for fname, info in servers.items():
        (runtime / fname).write_text(json.dumps(info))
    html = report_link(report).data
    # an absolute path: JupyterLab leaves it to the browser instead of its untrusted HTML viewer
    assert 'href="/user/ada/files/runs/my%20run/report.html" target="_blank"' in html
    assert "Trust HTML" in html

    for f in runtime.iterdir():
        f.unlink()
    html = report_link(report).data
    assert "href=" not in html and "Trust HTML" in html and str(report) in html
    with pytest.raises(FileNotFoundError, match="build it first"):
        report_link(tmp_path / "none.html")


def test_importing_landscape_stays_light():
    import subprocess
    import sys

    code = ("import sys, landscape; landscape.notebook; landscape.exercises; "
            "print(json.dumps(['torch' in sys.modules, 'plotly' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, False]
    assert notebook.MAX_AUTO_THREADS == 4


@pytest.mark.parametrize("extra, expected", [({}, "PASSIVE"), ({"GOMP_SPINCOUNT": "300000"}, None),
                                             ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE")])
def test_more_than_one_thread_sleeps_while_waiting_unless_openmp_was_tuned(extra, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    env.update(LANDSCAPE_THREADS="2", **extra)
    code = ("import os, landscape; landscape.notebook_setup(quiet=True); import torch; "
            "print(os.environ.get('OMP_WAIT_POLICY'), torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(expected), "2"]
