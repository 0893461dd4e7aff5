"""The import-linter contracts in pyproject.toml hold, and they do fail when a rule is broken."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
# Contracts that hold only once another branch has landed (they fail strictly here until then).
AWAITING: dict[str, str] = {}


def lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lint-imports"
    cmd = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    # a wide console so that no contract name wraps in the summary
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    return subprocess.run([*cmd, "--no-cache", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def statuses(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        m = re.match(r"^(.*\S) (KEPT|BROKEN)( \(.*\))?$", line.strip())
        if m:
            found[m.group(1)] = m.group(2)
    return found


@pytest.fixture(scope="module")
def report() -> tuple[dict[str, str], str]:
    out = lint_imports(REPO)
    text = out.stdout + out.stderr
    assert "Contracts:" in text, text  # it ran (a configuration error prints no summary)
    return statuses(text), text


@pytest.mark.parametrize("contract", [
    pytest.param(c, id=c["id"], marks=[pytest.mark.xfail(reason=AWAITING[c["id"]], strict=True)]
                 if c["id"] in AWAITING else []) for c in CONTRACTS])
def test_contract_is_kept(report, contract):
    found, text = report
    assert contract["name"] in found, text
    assert found[contract["name"]] == "KEPT", text


def top_level_modules() -> set[str]:
    return {p.stem if p.is_file() else p.name for p in (REPO / "landscape").iterdir()
            if (p.suffix == ".py" or (p / "__init__.py").exists()) and not p.name.startswith("__")}


def test_every_top_level_module_is_under_the_contracts():
    layers = next(c for c in CONTRACTS if c["id"] == "layers")["layers"]
    named = {m.strip("() ") for layer in layers for m in re.split(r"[|:]", layer)}
    assert top_level_modules() - named == set(), "give these modules a layer in pyproject.toml's import-linter contract"
    sources = next(c for c in CONTRACTS if c["id"] == "commands-on-top")["source_modules"]
    assert top_level_modules() - {"cli", "commands"} == {s.removeprefix("landscape.") for s in sources}


@pytest.mark.slow
def test_a_broken_rule_fails_the_check(tmp_path):
    # a copy of the packages with two forbidden imports added, checked by the project's own contracts
    for pkg in ("landscape", "geometry"):
        shutil.copytree(REPO / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    before = statuses((lambda o: o.stdout + o.stderr)(lint_imports(tmp_path)))
    by_id = {c["id"]: c["name"] for c in CONTRACTS}
    assert before[by_id["optim-codes-and-scores"]] == "KEPT" and before[by_id["geometry-independent"]] == "KEPT"
    base = tmp_path / "landscape" / "optim" / "base.py"
    base.write_text(base.read_text() + "\n\ndef _peek():\n    from landscape.units import CNNUnit  # noqa\n")
    spectrum = tmp_path / "geometry" / "spectrum.py"
    spectrum.write_text(spectrum.read_text() + "\nimport landscape.zoo  # noqa\n")
    out = lint_imports(tmp_path)
    text = out.stdout + out.stderr
    after = statuses(text)
    assert out.returncode != 0
    assert after[by_id["optim-codes-and-scores"]] == "BROKEN" and after[by_id["geometry-independent"]] == "BROKEN"
    # the copy was checked (not the installed package), and the report names the lines
    assert "landscape.optim.base -> landscape.units" in text and "geometry.spectrum -> landscape.zoo" in text
