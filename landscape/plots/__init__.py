"""Every figure of the toolkit: display objects over results (scikit-learn's ``*Display`` classes).

A display draws one result: ``figure()`` (an interactive plotly figure), ``write_html(path)``
(a standalone page with plotly.js embedded: it opens offline), and, where the result has a
static picture, ``image()`` (PIL) and ``save_png(path)``. :func:`display` finds the display
of a result by its type::

    from landscape.plots import display
    display(OrientationTuning().fit(unit)).write_html("orientation.html")
    display(TopologySignature().fit(tuning_map)).save_png("level_sets.png")

========================== ================================ =============================================
display                    result                           draws
========================== ================================ =============================================
:class:`RunDisplay`        :class:`landscape.record.Run`    score per generation
:class:`TuningMapDisplay`  ``TuningMap``                    map shape (heatmap / 3-D sphere), heatmaps
                                                            with the smoothed sphere, PNG heatmap
:class:`SignatureDisplay`  ``TopologySignature``            level sets, persistence diagram, counts
:class:`SurveyDisplay`     ``SurveyResult``                 signatures across layers
``*TuningDisplay`` etc.    characterisation analyses        tuning curves and fits, RF maps, opponency
:class:`ComparisonDisplay` ``EvolutionComparison``          parametric vs natural vs evolved
:class:`OpponencySurveyDisplay` ``OpponencySurvey``         opponency classes per layer
:class:`SpectrumDisplay`   ``geometry`` ``SpectrumStats``   metric spectrum (overlays a control)
:class:`HomogeneityDisplay` ``geometry`` ``Homogeneity``    metric homogeneity heatmaps
:class:`SweepDisplay`      a sweep's summary and rows       normalised score per optimizer and layer
========================== ================================ =============================================

Analyses (maps, topology, characterise, stimuli, featviz) and ``geometry`` draw nothing and
import no plotly; the widgets and the HTML report sit above this package.
"""

from __future__ import annotations

from landscape.plots.characterise_plots import (ColorTuningDisplay, ComparisonDisplay, ContrastResponseDisplay,
                                                FrequencyTuningDisplay, OpponencyDisplay, OpponencySurveyDisplay,
                                                OrientationTuningDisplay, SizeTuningDisplay, SparseNoiseRFDisplay,
                                                TuningDisplay)
from landscape.plots.display import DISPLAYS, Display, display, display_class, register, write_figures_html, write_html
from landscape.plots.geometry_plots import HomogeneityDisplay, SpectrumDisplay
from landscape.plots.map_plots import TuningMapDisplay, sphere_xyz
from landscape.plots.raster import colormap
from landscape.plots.run_plots import RunDisplay
from landscape.plots.sweep_plots import SweepDisplay
from landscape.plots.topology_plots import SignatureDisplay, SurveyDisplay

__all__ = ["DISPLAYS", "ColorTuningDisplay", "ComparisonDisplay", "ContrastResponseDisplay", "Display",
           "FrequencyTuningDisplay", "HomogeneityDisplay", "OpponencyDisplay", "OpponencySurveyDisplay",
           "OrientationTuningDisplay", "RunDisplay", "SignatureDisplay", "SizeTuningDisplay", "SparseNoiseRFDisplay",
           "SpectrumDisplay", "SurveyDisplay", "SweepDisplay", "TuningDisplay", "TuningMapDisplay", "colormap",
           "display", "display_class", "register", "sphere_xyz", "write_figures_html", "write_html"]
