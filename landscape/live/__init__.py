"""Live experiments: evolve images for a neuron recorded by a rig, surviving every failure.

* :mod:`.protocol` — block manifests, safe image ids, response files (CSV, JSON, HDF5) and
  their checks.
* :mod:`.folder` — the folder transport (XDream's protocol: images named by block and id).
* :mod:`.server` — the HTTP transport on 127.0.0.1 (standard library only).
* :mod:`.experiment` — :func:`run_experiment`, the loop (resumable after ``kill -9``).
* :mod:`.simrig` — a simulated rig, run as ``python -m landscape.live.simrig``.

Importing this package loads nothing heavy; names resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "run_experiment": "landscape.live.experiment",
    "LiveTimeout": "landscape.live.experiment",
    "LiveError": "landscape.live.protocol",
    "ResponseError": "landscape.live.protocol",
    "ResponseTooLargeError": "landscape.live.protocol",
    "UnsafeResponseError": "landscape.live.protocol",
    "ResponseTable": "landscape.live.protocol",
    "parse_response": "landscape.live.protocol",
    "read_response_file": "landscape.live.protocol",
    "encode_response": "landscape.live.protocol",
    "check_image_id": "landscape.live.protocol",
    "FolderTransport": "landscape.live.folder",
    "StorageError": "landscape.live.folder",
    "HTTPTransport": "landscape.live.server",
    "SimulatedRig": "landscape.live.simrig",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'landscape.live' has no attribute {name!r}")
