"""The benchmarks' model cache: ../shared/weights beside the checkout, unless LANDSCAPE_HOME is set."""

from __future__ import annotations

import os
from pathlib import Path


def use_shared_weights() -> None:
    """Point ``LANDSCAPE_HOME`` at ``../shared/weights`` when it exists and nothing else is set."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "weights"
    if "LANDSCAPE_HOME" not in os.environ and shared.is_dir():
        os.environ["LANDSCAPE_HOME"] = str(shared)
