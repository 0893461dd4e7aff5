"""What the notebook tests share: where the notebooks are, and the environment of their kernels."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
#: the same notebooks with every exercise solved (issue 14)
SOLUTIONS = NOTEBOOKS / "solutions"
#: the teaching notebooks, in reading order (issue 6)
NOTEBOOK_NAMES = (
    "01_evolve_a_neuron",
    "02_generator_geometry",
    "03_tuning_maps",
    "04_level_sets_and_topology",
    "05_workshop_v1_orientation",
    "06_featviz_vs_evolution",
)
#: notebooks without exercises, so without a solutions copy: they read results and explain them
#: (issue 13: the published protocols beside the toolkit's measurements)
READING_NOTEBOOK_NAMES = ("07_reference_protocols",)
#: every notebook in notebooks/
ALL_NOTEBOOK_NAMES = NOTEBOOK_NAMES + READING_NOTEBOOK_NAMES
#: the kernel the notebooks' metadata asks for; the test fixture's spec of that name shadows others
KERNEL_NAME = "python3"


def kernel_environment() -> dict[str, str]:
    """Variables a notebook kernel started by a test gets on top of the test process's own."""
    env = {"LANDSCAPE_OFFLINE": "1"}
    if "LANDSCAPE_HOME" in os.environ:  # tests/conftest.py points it at ../shared/weights
        env["LANDSCAPE_HOME"] = os.environ["LANDSCAPE_HOME"]
    # One intra-op thread unless told otherwise: on a busy 2-core machine two OpenMP threads
    # spin-wait on each other (5x slower here), and the notebooks' small batches gain little
    # from a second thread.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = os.environ.get(var, "1")
    return env
