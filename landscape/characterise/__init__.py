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

from landscape.characterise.base import Analysis, NotFittedError
from landscape.characterise.classify import CLASSES
from landscape.characterise.color_tuning import ColorTuning
from landscape.characterise.compare import EvolutionComparison, compare_with_evolution
from landscape.characterise.grating_tuning import ContrastResponse, FrequencyTuning, OrientationTuning
from landscape.characterise.opponency import Opponency
from landscape.characterise.receptive_field import PositionSearch, SparseNoiseRF
from landscape.characterise.size_tuning import SizeTuning
from landscape.characterise.survey import OpponencySurvey

__all__ = ["Analysis", "CLASSES", "ColorTuning", "ContrastResponse", "EvolutionComparison", "FrequencyTuning",
           "NotFittedError", "Opponency", "OpponencySurvey", "OrientationTuning", "PositionSearch", "SizeTuning",
           "SparseNoiseRF", "compare_with_evolution"]
