"""Checks for the teaching notebooks' exercises, and the hidden cell of the workshop (notebook 05).

Every ``check_*`` function tests a student's answer (a function or a number) on cases it chooses
against the toolkit's own answer. When the answer is right it prints one line starting with
"✓" and returns ``True``; when it is wrong it raises :class:`ExerciseError` (an
``AssertionError``) that says what differs and gives a hint. The complete answers live in
``notebooks/solutions/``.

========================================  =====================================================
notebook                                   checks
========================================  =====================================================
01 evolve a neuron                         :func:`check_evolution_loop`
02 generator geometry                      :func:`check_dims_for_fraction`, :func:`check_metric_prediction`
03 tuning maps                             :func:`check_tuning_curve`, :func:`check_sphere_peak`
04 level sets and topology                 :func:`check_component_count`, :func:`check_significant_peaks`
05 workshop: a hidden V1 cell              :func:`hidden_v1_cell` (its ``check_orientation``,
                                           ``check_frequency`` and ``reveal``)
06 feature visualisation vs evolution      :func:`check_latent_ascent`
========================================  =====================================================

Importing this package loads nothing heavy; each check imports what it needs.
"""

from __future__ import annotations

import importlib
from typing import Any

from landscape.exercises.base import ExerciseError

_LAZY = {
    "check_evolution_loop": "evolution_loop",
    "check_dims_for_fraction": "spectrum", "check_metric_prediction": "spectrum",
    "check_tuning_curve": "tuning", "check_sphere_peak": "tuning",
    "check_component_count": "level_sets", "check_significant_peaks": "level_sets",
    "HiddenV1Cell": "v1_cell", "hidden_v1_cell": "v1_cell", "orientation_error": "v1_cell",
    "check_latent_ascent": "gradient_ascent",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"landscape.exercises.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'landscape.exercises' has no attribute {name!r}")


__all__ = sorted([*_LAZY, "ExerciseError"])
