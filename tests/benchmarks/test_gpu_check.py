"""benchmarks/gpu_check.py, the prepared GPU run of issue #18, on small sizes on the CPU; and the
``cuda`` marker wiring that makes the suite's CUDA tests fail rather than skip where a GPU is expected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_small_cpu_run_measures_every_step(tmp_path, single_thread):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import gpu_check
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    assert gpu_check.main(["--device", "cpu", "--small", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    steps = result["steps"]
    assert result["failures"] == [] and result["small"] is True
    from landscape import optim

    assert [r["optimizer"] for r in steps["evolve"]] == optim.names()
    assert all(r["optimizer_ms_per_gen"] > 0 and r["model_ms_per_gen"] > 0 for r in steps["evolve"])
    assert sum(r["codes_per_gen"] * r["generations"] for r in steps["evolve"][:1]) >= 120
    methods = [r["method"] for r in steps["hessian"]["top_k"]]
    assert methods[1:4] == ["block", "lanczos", "fd"] and methods[-1].startswith("anchor")
    exact = [r for r in steps["hessian"]["top_k"] if r["method"] != "fd"]
    assert all(r["eig_rel_err"] < 1e-4 and r["overlap_min"] > 0.999 for r in exact)
    assert steps["map"]["n"] == 11 and steps["map"]["n_images"] == 11 * 9 + 2  # one image per pole
    batched = steps["batched"]
    assert batched["runs"] == 4 and batched["images"] >= 4 * 60 and batched["max_score_difference"] == 0.0
    assert [r["optimizer"] for r in steps["cma"]] == ["cma", "pycma"] and steps["cma"][0]["generations"] == 20
    assert steps["agreement"]["map_rel"] == 0.0 and set(steps["agreement"]["optimizers"]) == set(optim.names())


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="checks what happens without a GPU")
def test_cuda_tests_fail_instead_of_skipping_where_a_gpu_is_expected():
    test = "tests/geometry/test_hessian.py::test_follows_the_code_device"
    env = {k: v for k, v in os.environ.items() if k != "LANDSCAPE_EXPECT_CUDA"}
    run = lambda *extra, **more: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", test, *extra], cwd=REPO,
        capture_output=True, text=True, env={**env, **more}, timeout=300)
    plain = run()
    assert plain.returncode == 0 and "1 skipped" in plain.stdout
    for expected in (run("--device", "cuda"), run(LANDSCAPE_EXPECT_CUDA="1")):
        assert expected.returncode == 1, expected.stdout
        assert "1 error" in expected.stdout and "a GPU is expected" in expected.stdout
