"""geometry stays cheap to import and independent of landscape."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import geometry

GEOMETRY = Path(geometry.__file__).parent


@pytest.mark.slow
def test_import_is_independent_and_light():
    # geometry imports torch (every module needs it), but no landscape, no figures, no sparse
    # eigensolvers and no CUDA context
    code = ("import sys, geometry; "
            "from geometry import hessian, distances, trunks, spectrum, homogeneity, axis_walks, control, inversion; "
            "from geometry import LPIPS, AverageHessian, Inversion, HessianResult; "
            "assert not [m for m in sys.modules if m == 'landscape' or m.startswith('landscape.')]; "
            "assert 'plotly' not in sys.modules and 'scipy.sparse.linalg' not in sys.modules; "
            "assert not __import__('torch').cuda.is_initialized()")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=GEOMETRY.parent)


def test_no_module_imports_landscape():
    for path in GEOMETRY.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n.split(".")[0] in ("landscape", "ipywidgets") for n in names), (path.name, names)


def test_exported_names_resolve():
    for name in geometry.__all__:
        assert getattr(geometry, name) is not None
    assert callable(geometry.hessian.hessian)
