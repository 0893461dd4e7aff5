"""Sweeps: many (unit, optimizer, seed, noise) evolutions on a Dask cluster, with one result table.

``landscape.sweep(spec, client=None)`` (this module is callable) or
``landscape sweep SPEC.toml --out DIR [--scheduler ADDRESS]``.

- :mod:`~landscape.sweep.spec`: the TOML schema, checks, expansion into tasks
- :mod:`~landscape.sweep.tasks`: task configs and their keys
- :mod:`~landscape.sweep.worker`: the task function and the per-worker model cache
- :mod:`~landscape.sweep.table`: task table, normalisation, summary
- the figure of ``summary.html``: :class:`landscape.plots.SweepDisplay`
- :mod:`~landscape.sweep.engine`: :func:`sweep` itself and the folder schema

Importing this package imports neither torch nor Dask.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .engine import SweepError, SweepResult, start_local_client, sweep
from .optimizers import optimizer_names, register_optimizer, unregister_optimizer
from .spec import SpecError, SweepSpec, load_spec, plan, plan_maps
from .table import COLUMNS, MAP_COLUMNS, PROVENANCE_COLUMNS, RESULT_COLUMNS, equal_results, read_table
from .tasks import Task, task_key

__all__ = ["sweep", "SweepResult", "SweepError", "start_local_client", "register_optimizer", "unregister_optimizer",
           "optimizer_names", "SpecError", "SweepSpec", "load_spec", "plan", "plan_maps", "COLUMNS", "MAP_COLUMNS",
           "PROVENANCE_COLUMNS",
           "RESULT_COLUMNS", "equal_results", "read_table", "Task", "task_key"]


class _CallableModule(types.ModuleType):
    # `landscape.sweep` names both this package and its main function; once the package is
    # imported, the attribute is the module, so the module itself must be callable.
    def __call__(self, spec: Any, client: Any = None, **kwargs: Any) -> SweepResult:
        return sweep(spec, client, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
