"""The teaching notebooks: committed clean, and each runs top to bottom headless (nbclient).

Each notebook checks its own science with ``assert`` cells (a known answer recovered, a
quadratic model confirmed, an evolution beating random images); here we also check that its
widgets and figures were really built and that it wrote the files it promises.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from notebook_helpers import KERNEL_NAME, NOTEBOOK_NAMES, NOTEBOOKS

WIDGET = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
PNG = "image/png"

#: outputs each notebook must produce
EXPECTED_OUTPUTS = {
    "01_evolve_a_neuron": {WIDGET, PLOTLY, PNG},
    "02_generator_geometry": {WIDGET, PLOTLY, PNG},
    "03_tuning_maps": {WIDGET, PLOTLY, PNG},
    "04_level_sets_and_topology": {WIDGET, PLOTLY},
    "05_workshop_v1_orientation": {PLOTLY, PNG},
    "06_featviz_vs_evolution": {PLOTLY, PNG},
}


def _run_status(folder: Path) -> str:
    return json.loads((folder / "meta.json").read_text())["status"]


def _check_01(out: Path) -> None:
    runs = out / "runs" / "01_evolve_a_neuron"
    for name in ("ga", "cma", "spherecma"):
        assert _run_status(runs / name) == "complete", name
        assert list((runs / name / "generations").glob("gen_*.npz"))
    assert (runs / "cma" / "report.html").stat().st_size > 1_000_000  # plotly embedded, no CDN


def _check_03(out: Path) -> None:
    run = out / "runs" / "03_tuning_maps" / "run"
    assert _run_status(run) == "complete"
    for name in ("sphere_pc", "plane_hessian"):
        assert (run / "maps" / f"{name}.npz").is_file() and (run / "maps" / f"{name}.json").is_file()
    assert "sphere_pc" in (run / "report.html").read_text()


def _check_04(out: Path) -> None:
    survey = out / "runs" / "04_topology" / "survey"
    for name in ("units.csv", "layers.csv", "trends.csv", "survey.html"):
        assert (survey / name).is_file(), name
    assert len((survey / "units.csv").read_text().strip().splitlines()) == 1 + 4  # header + one unit per layer


def _check_05(out: Path) -> None:
    folder = out / "runs" / "05_workshop"
    assert _run_status(folder / "evolution") == "complete"
    numbers = json.loads((folder / "comparison" / "comparison.json").read_text())
    assert numbers["unit"]["type"] == "GaborEnergyUnit"


def _check_06(out: Path) -> None:
    assert _run_status(out / "runs" / "06_featviz_vs_evolution" / "cma") == "complete"


FILE_CHECKS = {"01_evolve_a_neuron": _check_01, "03_tuning_maps": _check_03, "04_level_sets_and_topology": _check_04,
               "05_workshop_v1_orientation": _check_05, "06_featviz_vs_evolution": _check_06}


def test_the_issue_lists_six_notebooks_and_all_are_there():
    found = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(NOTEBOOK_NAMES)


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_is_committed_clean(name):
    """No outputs, no execution counts, no widget state; markdown with references; small."""
    path = NOTEBOOKS / f"{name}.ipynb"
    assert path.stat().st_size < 100_000, "a committed notebook must not embed outputs or images"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == KERNEL_NAME
    assert "widgets" not in nb.metadata, "widget state must be stripped"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## References" in markdown
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# {name[:2]} ")
    # notebooks pick the GPU when there is one
    assert any("torch.cuda.is_available()" in c.source for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_top_to_bottom(name, notebook_env, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", notebook_env["JUPYTER_PATH"])
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # the notebook's folder is the working directory: its runs/ land in tmp_path
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=600, startup_timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # a failing cell (or assert cell) raises CellExecutionError with its traceback

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{name} printed to stderr (warnings in a teaching notebook): {stderr}"
    kinds = {k for o in outputs for k in o.get("data", {})}
    missing = EXPECTED_OUTPUTS[name] - kinds
    assert not missing, f"{name} produced no {missing} output"
    if name in FILE_CHECKS:
        FILE_CHECKS[name](tmp_path)
