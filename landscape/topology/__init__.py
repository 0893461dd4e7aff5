"""Level-set and Morse signatures of tuning maps (after Wang & Ponce, NeurReps 2022).

Works on any 2-D array or ``TuningMap`` (planar or spherical); never loads a model.

- :mod:`~landscape.topology.domain`: the map's surface (plane, hemisphere, sphere; seam and
  pole rules) and the missing-value rule: :func:`as_field`.
- :mod:`~landscape.topology.contours`: loops, lines and branches of the level sets
  (:class:`ContourSignature`, :func:`count_level_sets`, :func:`trace_level_set`).
- :mod:`~landscape.topology.persistence`: gudhi persistence of super-level sets, Betti and
  Euler curves, significant peaks, diagram distances (:class:`SuperlevelPersistence`,
  :func:`diagram_distance`, :func:`distance_matrix`).
- :mod:`~landscape.topology.signature`: both together (:class:`TopologySignature`).
- :mod:`~landscape.topology.reliability`: bootstrap intervals and null
  (:class:`SignatureReliability`).
- :mod:`~landscape.topology.morse`: critical points, Morse relation, merge tree
  (:class:`MorseAnalysis`).
- :mod:`~landscape.topology.merging`: how super-level components of a graph appear and join
  (vectorised union-find over basins), for sphere persistence and the merge tree.
- :mod:`~landscape.topology.hierarchy`: signatures across a CNN's layers (:class:`SurveyResult`; the
  survey itself, which loads models, is :func:`landscape.pipeline.survey`).
- pictures (PNG and standalone HTML): :class:`landscape.plots.SignatureDisplay` and
  :class:`landscape.plots.SurveyDisplay`.
"""

from landscape.topology.contours import ContourSignature, LevelSet, count_level_sets, trace_level_set
from landscape.topology.domain import Domain, Field, as_field
from landscape.topology.hierarchy import SurveyResult
from landscape.topology.morse import MergeTree, MorseAnalysis
from landscape.topology.persistence import (SuperlevelPersistence, betti_curves, diagram_distance,
                                            distance_matrix, superlevel_diagrams)
from landscape.topology.reliability import SignatureReliability, phase_randomize, spatial_shuffle
from landscape.topology.signature import SUMMARY_KEYS, TopologySignature, signature

__all__ = ["ContourSignature", "Domain", "Field", "LevelSet", "MergeTree", "MorseAnalysis", "SUMMARY_KEYS",
           "SignatureReliability", "SurveyResult", "SuperlevelPersistence", "TopologySignature", "as_field", "betti_curves",
           "count_level_sets", "diagram_distance", "distance_matrix", "phase_randomize", "signature",
           "spatial_shuffle", "superlevel_diagrams", "trace_level_set"]

