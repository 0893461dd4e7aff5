"""A Jupyter kernel for the notebook tests: this venv's Python, the test model cache, no downloads."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from notebook_helpers import KERNEL_NAME, kernel_environment


@pytest.fixture(scope="session")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory, weights_dir: Path) -> Path:
    """A Jupyter data folder whose ``python3`` kernel runs ``sys.executable`` with the test environment.

    Put first on ``JUPYTER_PATH`` (for nbclient here, and for a JupyterLab server), its spec wins
    over any other ``python3`` one, so notebooks always run in this venv with the test weights.
    """
    data = tmp_path_factory.mktemp("jupyter-data")
    spec_dir = data / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (tuning-landscapes tests)", "language": "python",
            "env": kernel_environment()}
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return data


@pytest.fixture(scope="session")
def notebook_env(jupyter_path: Path) -> dict[str, str]:
    """Environment for a process that starts notebook kernels (e.g. a JupyterLab server)."""
    env = dict(os.environ)
    env.update(kernel_environment())
    others = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_PATH"] = os.pathsep.join([str(jupyter_path), *others])
    return env
