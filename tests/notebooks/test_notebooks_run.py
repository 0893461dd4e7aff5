"""The teaching notebooks and their solutions: committed clean, in step with each other, and each
solution notebook runs top to bottom headless (nbclient).

The student notebooks (exercises unsolved) are Run All in a real browser by
``test_notebook_browser.py``; here every *solution* notebook is executed, which runs every line
of the student notebook too (they differ only in the exercise cells, checked below) plus the
answers, whose checks must pass. Each notebook checks its own science with ``assert`` cells (a
known answer recovered, a quadratic model confirmed, an evolution beating random images); here we
also check that its widgets and figures were really built, that its prints are legible, and that
it wrote the files it promises.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from notebook_helpers import ALL_NOTEBOOK_NAMES, KERNEL_NAME, NOTEBOOK_NAMES, NOTEBOOKS, READING_NOTEBOOK_NAMES, SOLUTIONS

WIDGET = "application/vnd.jupyter.widget-view+json"
PLOTLY = "application/vnd.plotly.v1+json"
PNG = "image/png"
EXERCISE_RAISE = 'raise NotImplementedError("exercise:'

#: outputs each notebook must produce
EXPECTED_OUTPUTS = {
    "01_evolve_a_neuron": {WIDGET, PLOTLY, PNG},
    "02_generator_geometry": {WIDGET, PLOTLY, PNG},
    "03_tuning_maps": {WIDGET, PLOTLY, PNG},
    "04_level_sets_and_topology": {WIDGET, PLOTLY},
    "05_workshop_v1_orientation": {PLOTLY, PNG},
    "06_featviz_vs_evolution": {PLOTLY, PNG},
    "07_reference_protocols": {PLOTLY},
}
#: what the setup cell must ask for: the zoo entries each notebook loads
NEEDS = {name: ["digiface-dcgan64", "resnet20-cifar10"] for name in NOTEBOOK_NAMES}
NEEDS["05_workshop_v1_orientation"] = ["digiface-dcgan64"]
NEEDS["07_reference_protocols"] = []  # it reads result tables and loads no model


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def _run_status(folder: Path) -> str:
    return json.loads((folder / "meta.json").read_text())["status"]


def _check_01(out: Path) -> None:
    runs = out / "runs" / "01_evolve_a_neuron"
    for name in ("ga", "cma", "spherecma", "noisy_ga", "noisy_cma"):
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
    meta = json.loads((folder / "evolution" / "meta.json").read_text())
    # the hidden cell's parameters never reach the files a student can open before reveal()
    for unit in (numbers["unit"], meta["unit"]):
        assert unit["type"] == "HiddenV1Cell"
        assert not {"orientation", "frequency", "x", "y", "sigma"} & set(unit), unit


def _check_06(out: Path) -> None:
    assert _run_status(out / "runs" / "06_featviz_vs_evolution" / "cma") == "complete"


FILE_CHECKS = {"01_evolve_a_neuron": _check_01, "03_tuning_maps": _check_03, "04_level_sets_and_topology": _check_04,
               "05_workshop_v1_orientation": _check_05, "06_featviz_vs_evolution": _check_06}


def test_every_notebook_is_there_and_those_with_exercises_have_solutions():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(ALL_NOTEBOOK_NAMES)
    # a solutions copy for each notebook with exercises, none for the reading notebooks
    assert sorted(p.stem for p in SOLUTIONS.glob("*.ipynb")) == sorted(NOTEBOOK_NAMES)


def _to_run(name: str) -> Path:
    """The copy run headless: the solutions (which hold every student cell too), or a reading notebook itself."""
    return NOTEBOOKS / f"{name}.ipynb" if name in READING_NOTEBOOK_NAMES else SOLUTIONS / f"{name}.ipynb"


@pytest.mark.parametrize("name, folder", [(n, "notebooks") for n in ALL_NOTEBOOK_NAMES]
                         + [(n, "solutions") for n in NOTEBOOK_NAMES])
def test_notebook_is_committed_clean(name, folder):
    """No outputs, no execution counts, no widget state; setup cell first; time stated; small."""
    path = (NOTEBOOKS if folder == "notebooks" else SOLUTIONS) / f"{name}.ipynb"
    assert path.stat().st_size < 100_000, "a committed notebook must not embed outputs or images"
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == KERNEL_NAME
    assert "widgets" not in nb.metadata, "widget state must be stripped"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## References" in markdown
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(f"# {name[:2]} ")
    assert re.search(r"\*\*Time: about \d+ minutes\.\*\*", first.source), "the first cell states the expected time"
    assert re.search(r"\d+ min\)", first.source), "and the time of each hands-on block"
    # the first code cell sets threads, picks the device and checks the models, before anything heavy
    assert "landscape.notebook_setup(" in code[0].source
    for entry in NEEDS[name]:
        assert f'"{entry}"' in code[0].source, f"the setup cell does not check for {entry}"
    assert not any("torch.cuda.is_available()" in c.source for c in code), "use env.device from notebook_setup"
    assert not any("progress=False" in c.source for c in code), "long calls show progress in notebooks"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_student_notebook_has_scaffolded_exercises(name):
    nb = _read(NOTEBOOKS / f"{name}.ipynb")
    exercises = [c for c in nb.cells if "exercise" in _tags(c)]
    assert exercises, f"{name} has no exercise cell"
    for c in exercises:
        assert c.cell_type == "code"
        # nbclient and JupyterLab (stop_on_error=False) both run on past a cell with this tag
        assert "raises-exception" in _tags(c)
        assert EXERCISE_RAISE in c.source or "raise NotImplementedError(" in c.source
    assert any(EXERCISE_RAISE in c.source for c in exercises)
    # every exercise but the reveal checks its answer with landscape.exercises or the hidden cell
    assert sum("check_" in c.source for c in exercises) >= 1
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"notebooks/solutions/{name}.ipynb" in markdown


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_solutions_differ_from_the_notebook_only_in_the_exercise_cells(name):
    """The two copies stay in step: same cells in the same order, except each exercise and its solution."""
    student, solution = _read(NOTEBOOKS / f"{name}.ipynb"), _read(SOLUTIONS / f"{name}.ipynb")
    assert len(student.cells) == len(solution.cells)
    for i, (a, b) in enumerate(zip(student.cells, solution.cells)):
        if "exercise" in _tags(a):
            assert _tags(b) == ["solution"], f"cell {i}: the solution of an exercise is tagged 'solution'"
            assert "NotImplementedError" not in b.source, f"cell {i}: the solution still raises"
            continue
        assert "solution" not in _tags(b), f"cell {i}: a solution cell without an exercise"
        assert a.cell_type == b.cell_type, f"cell {i}"
        if i == 0:
            assert b.source.startswith(a.source) and "**Solutions.**" in b.source
        else:
            assert a.source == b.source, f"cell {i} differs between the notebook and its solutions"


def _text_outputs(nb) -> list[str]:
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif "text/plain" in o.get("data", {}) and not any(k in o.data for k in (WIDGET, PLOTLY)):
                out.append(o.data["text/plain"])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ALL_NOTEBOOK_NAMES)
def test_solution_notebook_runs_top_to_bottom(name, notebook_env, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", notebook_env["JUPYTER_PATH"])
    nb = _read(_to_run(name))
    # the notebook's folder is the working directory: its runs/ land in tmp_path
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=600, startup_timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # a failing cell (or assert cell, or exercise check) raises CellExecutionError

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{name} printed to stderr (warnings in a teaching notebook): {stderr}"
    kinds = {k for o in outputs for k in o.get("data", {})}
    missing = EXPECTED_OUTPUTS[name] - kinds
    assert not missing, f"{name} produced no {missing} output"
    # every solved exercise printed its check's success line
    for c in nb.cells:
        if "solution" in _tags(c) and "check_" in c.source:
            text = "".join(o.text for o in c.outputs if o.output_type == "stream")
            assert "✓" in text, f"{name}: a solution's check printed no success line:\n{c.source[:300]}"
    # legible prints: no numpy scalar reprs, no raw dicts
    text = "\n".join(_text_outputs(nb))
    assert "np.float64(" not in text and "np.int64(" not in text, f"{name} prints numpy scalar reprs"
    raw = [line for line in text.splitlines() if line.lstrip().startswith("{'") or "': np." in line]
    assert not raw, f"{name} prints raw dicts: {raw[:3]}"
    setup = "".join(o.text for o in nb.cells[1].outputs if o.output_type == "stream")
    assert "torch CPU threads: 1" in setup, setup  # the tests' kernels ask for one thread (notebook_helpers)
    if name in FILE_CHECKS:
        FILE_CHECKS[name](tmp_path)
