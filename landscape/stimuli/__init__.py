"""Parametric stimuli: the controlled image sets of single-cell physiology.

Every family is a function ``family(size, ...) -> (images, params)``: ``images`` is an
``(N, 3, size, size)`` float tensor in [0, 1] and ``params`` a :class:`ParamTable` with one
row per image, so responses map back to parameters (``params.grid(responses)`` reshapes
them onto the parameter grid).

Conventions (see :mod:`landscape.stimuli.coordinates`): lengths and positions are fractions of
the image side, (0, 0) is the centre and y points up; angles are degrees counter-clockwise
from horizontal; spatial frequency is in cycles per image side; colours are names from
:data:`COLORS` or RGB triples in [0, 1].

Families: :func:`gratings` (sine and square), :func:`gabors`, :func:`grating_patches`, :func:`uniform`,
:func:`hue_fields` (fixed-luminance hue sweeps), :func:`discs`, :func:`annuli`,
:func:`center_surround`, :func:`bars`, :func:`edges`, :func:`sparse_noise`.
"""

from landscape.stimuli.colors import (COLORS, LUMINANCE_WEIGHTS, hue_directions, isoluminant_colors, luminance,
                                      max_isoluminant_saturation, parse_color)
from landscape.stimuli.fields import hue_fields, uniform
from landscape.stimuli.coordinates import MAX_RADIUS, image_coords
from landscape.stimuli.gratings import gabors, grating_patches, gratings
from landscape.stimuli.sparse import sparse_noise
from landscape.stimuli.shapes import annuli, bars, center_surround, discs, edges
from landscape.stimuli.param_table import ParamTable

__all__ = ["COLORS", "LUMINANCE_WEIGHTS", "MAX_RADIUS", "ParamTable", "annuli", "bars", "center_surround", "discs",
           "edges", "gabors", "grating_patches", "gratings", "hue_directions", "hue_fields", "image_coords", "isoluminant_colors",
           "luminance", "max_isoluminant_saturation", "parse_color", "sparse_noise", "uniform"]
