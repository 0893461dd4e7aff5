"""Notebook 05's hidden cell: a noisy model V1 complex cell whose parameters stay hidden until the
student has measured them.

:func:`hidden_v1_cell` draws a cell's preferred orientation, spatial frequency and receptive-field
position from a seed, as a workshop would "implant" it, and wraps it in :class:`HiddenV1Cell`: a
:class:`~landscape.units.Unit` that answers images with Poisson spike counts (``cell(images)``;
``cell.clean(images)`` is the noise-free rate) and describes itself — in its repr and in every run
folder it is written to — without its parameters. ``check_orientation`` and ``check_frequency``
say whether an estimate is close enough without printing the truth; ``reveal`` prints the truth
only beside the student's own estimates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from landscape.exercises.base import as_number, fail, fmt, passed
from landscape.units.base import Unit

#: an orientation estimate within this many degrees of the truth passes (12 orientations are 15° apart)
ORIENTATION_TOLERANCE_DEG = 10.0
#: a frequency estimate within this many octaves of the truth passes
FREQUENCY_TOLERANCE_OCTAVES = 0.25


def orientation_error(estimate: float, truth: float) -> float:
    """Smallest angle between two orientations (period 180°), degrees in [0, 90]."""
    return abs((float(estimate) - float(truth) + 90.0) % 180.0 - 90.0)


class HiddenV1Cell(Unit):
    """A noisy model complex cell whose parameters are hidden (see the module docstring).

    Parameters
    ----------
    seed : int
        Draws the cell (the same seed gives everyone in a workshop the same cell) and seeds its
        spike noise.
    """

    noisy = True

    def __init__(self, seed: int = 2026) -> None:
        from landscape.units import GaborEnergyUnit, PoissonNoise

        self.seed = int(seed)
        draw = np.random.default_rng(self.seed)
        self._cell = GaborEnergyUnit(orientation=draw.uniform(0, 180), frequency=draw.uniform(3, 9),
                                     x=draw.uniform(-0.1, 0.1), y=draw.uniform(-0.1, 0.1), sigma=0.15,
                                     c50=0.5, gain=40.0, baseline=2.0)
        self._noisy = PoissonNoise(self._cell, scale=1.0, seed=self.seed)  # counts with mean = the rate
        self._revealed = False

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        """Noise-free firing rates (spikes per presentation), (B,)."""
        return self._cell.clean(images)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Spike counts, one Poisson draw per image, (B,)."""
        return self._noisy(images)

    def describe(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "seed": self.seed, "noise": "poisson",
                "parameters": "hidden until reveal()"}

    def state_dict(self) -> dict[str, Any]:
        return self._noisy.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._noisy.load_state_dict(state)

    # -- checking and revealing ---------------------------------------------------------------
    def check_orientation(self, estimate: Any) -> bool:
        """Pass when ``estimate`` (degrees) is within 10° of the preferred orientation; the truth stays hidden."""
        est = as_number(estimate, "your orientation estimate")
        err = orientation_error(est, self._cell.orientation)
        if err > ORIENTATION_TOLERANCE_DEG:
            fail(f"{fmt(est)}° is more than {ORIENTATION_TOLERANCE_DEG:g}° away from the cell's preferred "
                 "orientation",
                 "average the repeats of each image, take the best phase at each orientation, and pick the "
                 "orientation with the highest mean; orientations are degrees counter-clockwise from horizontal "
                 "bars, modulo 180")
        return passed(f"{fmt(est)}° is within {ORIENTATION_TOLERANCE_DEG:g}° of the cell's preferred orientation")

    def check_frequency(self, estimate: Any) -> bool:
        """Pass when ``estimate`` (cycles/image) is within a quarter octave of the preferred frequency."""
        est = as_number(estimate, "your frequency estimate")
        if est <= 0:
            fail(f"a spatial frequency must be positive (cycles per image), got {fmt(est)}")
        octaves = float(np.log2(est / self._cell.frequency))
        if abs(octaves) > FREQUENCY_TOLERANCE_OCTAVES:
            fail(f"{fmt(est)} cycles/image is more than {FREQUENCY_TOLERANCE_OCTAVES:g} octave "
                 f"{'above' if octaves > 0 else 'below'} the cell's preferred frequency",
                 "show gratings at your preferred orientation over a range of frequencies (e.g. np.geomspace(2, 16, "
                 "13)), every phase, several repeats; average repeats, take the best phase, pick the peak")
        return passed(f"{fmt(est)} cycles/image is within {FREQUENCY_TOLERANCE_OCTAVES:g} octave of the cell's "
                      "preferred frequency")

    def reveal(self, orientation: Any = None, frequency: Any = None) -> dict[str, float]:
        """The cell's true parameters, shown beside your estimates (both required).

        Returns
        -------
        dict with ``orientation`` (deg), ``frequency`` (cycles/image), ``x``, ``y``, ``sigma``
        (fractions of the image side).
        """
        if orientation is None or frequency is None:
            missing = [n for n, v in (("orientation", orientation), ("frequency", frequency)) if v is None]
            fail(f"reveal() needs your own estimate of the {' and '.join(missing)} first "
                 "(reveal(orientation=..., frequency=...)): measure the cell, then look")
        ori = as_number(orientation, "your orientation estimate")
        freq = as_number(frequency, "your frequency estimate")
        truth = {k: float(v) for k, v in self._cell.describe().items() if k in ("orientation", "frequency", "x", "y",
                                                                                 "sigma")}
        self._revealed = True
        rows = [("orientation (deg)", fmt(ori), fmt(truth["orientation"]),
                 f"{orientation_error(ori, truth['orientation']):.1f}°"),
                ("frequency (cycles/image)", fmt(freq), fmt(truth["frequency"]),
                 f"{np.log2(freq / truth['frequency']):+.2f} octaves")]
        width = max(len(r[0]) for r in rows)
        print(f"{'':{width}}  {'yours':>8}  {'true':>8}  error")
        for name, mine, true, err in rows:
            print(f"{name:{width}}  {mine:>8}  {true:>8}  {err}")
        print(f"receptive field centre (x, y) = ({truth['x']:+.3f}, {truth['y']:+.3f}) of the image side, "
              f"envelope sigma {truth['sigma']:.2f}")
        return truth

    def __repr__(self) -> str:
        state = "revealed" if self._revealed else "hidden until reveal()"
        return f"HiddenV1Cell(seed={self.seed}): a model V1 complex cell with Poisson spiking; parameters {state}"


def hidden_v1_cell(seed: int = 2026) -> HiddenV1Cell:
    """The workshop's hidden cell (notebook 05); ``seed`` picks a new one."""
    return HiddenV1Cell(seed)
