"""tuning-landscapes: evolve the images a visual neuron prefers, and map its tuning landscape.

Importing this package loads no model and touches no GPU; heavy submodules load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it; resolved lazily so `import landscape` stays instant
_LAZY = {
    "evolve": "landscape.runs",
    "evolve_many": "landscape.runs",
    "RunSpec": "landscape.runs",
    "Run": "landscape.runs",
    "Generator": "landscape.generators",
    "Unit": "landscape.units",
    "CNNUnit": "landscape.units",
    "sweep": "landscape.sweep",
    "TuningMap": "landscape.maps",
    "notebook_setup": "landscape.notebook",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in ("zoo", "optim", "units", "maps", "topology", "featviz", "stimuli", "characterise",
                "live", "widgets", "runs", "generators", "notebook", "exercises"):
        return importlib.import_module(f"landscape.{name}")
    raise AttributeError(f"module 'landscape' has no attribute {name!r}")


__all__ = sorted(_LAZY)
