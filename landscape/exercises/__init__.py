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

Importing this package loads nothing heavy (a notebook imports it before ``notebook_setup``
chooses torch's threads); each check loads on first use (:mod:`landscape.lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from landscape.exercises.base import ExerciseError
from landscape.lazy import lazy_exports

if TYPE_CHECKING:
    from landscape.exercises.evolution_loop import check_evolution_loop
    from landscape.exercises.gradient_ascent import check_latent_ascent
    from landscape.exercises.level_sets import check_component_count, check_significant_peaks
    from landscape.exercises.spectrum import check_dims_for_fraction, check_metric_prediction
    from landscape.exercises.tuning import check_sphere_peak, check_tuning_curve
    from landscape.exercises.v1_cell import HiddenV1Cell, hidden_v1_cell, orientation_error

__getattr__, __dir__, _names = lazy_exports(__name__, __file__, globals())
__all__ = sorted([*_names, "ExerciseError"])
