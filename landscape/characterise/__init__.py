"""Classic single-cell characterisation: tuning curves, receptive fields, opponency.

Every analysis works on any :class:`landscape.units.Unit` (CNN unit, model neuron, a live
rig): ``Analysis(...).fit(unit)`` shows it a parametric stimulus set from
:mod:`landscape.stimuli` in batches, and leaves results in attributes with a trailing
underscore; ``summary()`` gives them as JSON-able values.

* :class:`OrientationTuning`, :class:`FrequencyTuning` - grating grids (orientation x
  frequency x phase); preferred orientation, circular variance, bandwidth; preferred
  frequency and bandwidth in octaves.
* :class:`ContrastResponse` - Naka-Rushton fit.
* :class:`SizeTuning` - preferred size and surround suppression index.
* :class:`ColorTuning` - fixed-luminance hue circle; colour-opponent or not.
* :class:`SparseNoiseRF`, :class:`PositionSearch` - receptive-field mapping.
* :class:`Opponency`, :class:`OpponencySurvey` - colour / spatial / double opponency of a
  unit, and the fraction of each class per layer of a network.
* :func:`compare_with_evolution` - best parametric stimulus vs best natural image vs
  evolved image, with relative activations.

Confidence intervals come from bootstrapping repeated measurements of a noisy unit.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Analysis": "landscape.characterise.base",
    "NotFittedError": "landscape.characterise.base",
    "OrientationTuning": "landscape.characterise.grating_tuning",
    "FrequencyTuning": "landscape.characterise.grating_tuning",
    "ContrastResponse": "landscape.characterise.grating_tuning",
    "SizeTuning": "landscape.characterise.size_tuning",
    "ColorTuning": "landscape.characterise.color_tuning",
    "Opponency": "landscape.characterise.opponency",
    "OpponencySurvey": "landscape.characterise.survey",
    "SparseNoiseRF": "landscape.characterise.receptive_field",
    "PositionSearch": "landscape.characterise.receptive_field",
    "compare_with_evolution": "landscape.characterise.compare",
    "EvolutionComparison": "landscape.characterise.compare",
    "CLASSES": "landscape.characterise.classify",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'landscape.characterise' has no attribute {name!r}")


__all__ = sorted(_LAZY)
