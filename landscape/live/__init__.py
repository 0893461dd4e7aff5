"""Live experiments: evolve images for a neuron recorded by a rig, surviving every failure.

* :mod:`.protocol` — block manifests, safe image ids, response files (CSV, JSON, HDF5) and
  their checks.
* :mod:`.folder` — the folder transport (XDream's protocol: images named by block and id).
* :mod:`.server` — the HTTP transport on 127.0.0.1 (standard library only).
* :mod:`.experiment` — :func:`run_experiment`, the loop (resumable after ``kill -9``).
* :mod:`.simrig` — a simulated rig, run as ``python -m landscape.live.simrig``.

Every module here needs torch, so the package imports its names plainly, except
:class:`SimulatedRig`: ``python -m landscape.live.simrig`` runs that module as ``__main__``, and
importing it from here first would run it twice (it resolves on first use, :mod:`landscape.lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from landscape.lazy import lazy_exports
from landscape.live.experiment import LiveTimeout, run_experiment
from landscape.live.folder import FolderTransport, StorageError
from landscape.live.protocol import (LiveError, ResponseError, ResponseTable, ResponseTooLargeError,
                                     UnsafeResponseError, check_image_id, encode_response, parse_response,
                                     read_response_file)
from landscape.live.server import HTTPTransport

if TYPE_CHECKING:
    from landscape.live.simrig import SimulatedRig

__getattr__, __dir__, _lazy = lazy_exports(__name__, __file__, globals())
__all__ = sorted(["run_experiment", "LiveTimeout", "LiveError", "ResponseError", "ResponseTooLargeError",
                  "UnsafeResponseError", "ResponseTable", "parse_response", "read_response_file", "encode_response",
                  "check_image_id", "FolderTransport", "StorageError", "HTTPTransport", *_lazy])
