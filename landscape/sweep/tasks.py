"""Sweep tasks: one (generator, unit, noise, optimizer, seed) evolution, named by a hash of its config.

A task's key is the first 16 hex digits of the sha256 of its config written as canonical JSON
(sorted keys, no spaces). The config holds everything that changes the task's result; how
it is executed (device, torch threads, which worker) is not part of it. Equal configs give
equal keys, so a re-run finds its earlier work under ``runs/<key>`` and ``results/<key>.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

#: written into every task config, so a change of the task schema cannot reuse old results
TASK_FORMAT = "landscape-sweep-task/1"


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal configs give equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def task_key(config: dict) -> str:
    """The key of a task config: first 16 hex digits of sha256(canonical JSON)."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Task:
    """One evolution of a sweep.

    Attributes
    ----------
    key : str
        :func:`task_key` of ``config``.
    config : dict
        ``format``, ``generator``, ``model``, ``layer``, ``channel``, ``position``, ``noise``,
        ``optimizer`` (``label``, ``algorithm``, ``settings``), ``seed``, ``budget``, ``init``,
        ``references``.
    """

    key: str
    config: dict

    @classmethod
    def from_config(cls, config: dict) -> "Task":
        return cls(task_key(config), config)

    @property
    def unit_id(self) -> str:
        """``model/layer/channel@position`` — the unit, whatever the noise or optimizer."""
        return unit_id(self.config)


def unit_id(config: dict) -> str:
    """``model/layer/channel@position`` for a task config or a table row (:func:`landscape.units.spec.unit_id`)."""
    from ..units.spec import unit_id as _unit_id

    return _unit_id(config)
