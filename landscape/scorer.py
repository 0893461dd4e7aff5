"""What the run loop asks of whatever answers its images: the scorer interface.

:func:`landscape.runs.evolve` renders the optimizer's codes and hands them to a *scorer*, as
XDream's ``Experiment`` hands them to its ``Scorer``: a simulated unit (:class:`UnitScorer`,
what :func:`~landscape.runs.evolve` builds from a :class:`~landscape.units.Unit`) or a recording
rig (:class:`landscape.live.rig.RigScorer`). The loop owns everything else: the optimizer, the
run folder (:class:`~landscape.record.RunRecord`), resuming, progress and status.

The interface (:class:`Scorer`; every method but :meth:`~Scorer.score` and
:meth:`~Scorer.describe` has a do-nothing default)

``describe() -> dict``
    The ``unit`` entry of ``meta.json``; a resumed run must describe the same.
``score(codes, images, generation) -> Scored``
    Observed scores (pop,), clean scores (pop,) (NaN where unknown) and ``extra``: arrays
    stored in the generation's ``.npz`` beside them.
``state_dict() -> dict`` / ``load_state_dict(checkpoint)``
    The scorer's entries of ``state/checkpoint.pt`` (a unit's noise generator: ``{"unit": ...}``),
    and restoring them from the whole checkpoint dict.
``open(record)``
    The run folder is decided (``record.resuming``, ``record.meta``) and its configuration not
    yet checked: restore or create the scorer's own files.
``start(record)``
    ``record.meta`` is ready and about to be written: add a section, start a transport.
``finish()`` / ``close()``
    After a run ended well (its status written) / always, last.
``replayable`` / ``replay_refusal``
    Whether a run whose checkpoint was lost may rebuild the scorer's state by scoring the
    committed generations' images again (a simulated unit: yes, its noise generator then
    advances exactly as it did; a live neuron: no), and, if not, what to tell the person.

Errors: a :class:`~landscape.record.RunError` raised by ``score`` (a live rig's time-out, a bad
response file) passes through unchanged, since it already says what was kept and how to go
on; any other exception is a failed unit: the loop keeps the generation's codes in
``failed/`` and raises a ``RunError`` naming what is on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .units.measure import measure_images, measure_images_many


@dataclass
class Scored:
    """One generation's answers.

    Attributes
    ----------
    scores : (pop,) float64 tensor, observed (NaN: no answer)
    clean : (pop,) float64 tensor, noise-free (NaN where unknown)
    extra : dict of arrays stored in the generation's ``.npz``
    """

    scores: torch.Tensor
    clean: torch.Tensor
    extra: dict[str, np.ndarray] = field(default_factory=dict)


class Scorer:
    """Base class of scorers (see the module docstring); subclasses implement ``score`` and ``describe``."""

    #: label of the progress bar
    label = "evolve"
    #: a new run needs a fresh folder when set; the text says why
    new_folder_reason: str | None = None
    #: added to "pass resume=True" in the error for an existing run
    resume_hint = ""
    #: whether scoring a committed generation's images again reproduces its scores and state
    replayable = False
    #: why not, and what to do instead (for a run whose checkpoint is lost)
    replay_refusal = ("this scorer cannot score the committed images again the same way; start a new run with "
                      "init=<this run folder> to continue from its last generation")

    def describe(self) -> dict:
        raise NotImplementedError

    def score(self, codes: torch.Tensor, images: torch.Tensor, generation: int) -> Scored:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        return None

    def open(self, record: Any) -> None:
        return None

    def start(self, record: Any) -> None:
        return None

    def finish(self) -> None:
        return None

    def close(self) -> None:
        return None

    def is_fresh(self, out: Path) -> bool:
        """Whether ``out`` (no ``meta.json``) may take a new run: absent or empty."""
        return not out.exists() or not any(p.name != ".lock" for p in out.iterdir())

    def write_error(self, path: Path, error: OSError) -> BaseException | None:
        """The error to raise when writing ``path`` failed; None raises the ``OSError`` itself."""
        return None

    def callback_value(self, scored: Scored) -> Any:
        """The fourth argument of ``evolve``'s callback: the clean scores."""
        return scored.clean

    def progress_postfix(self, scored: Scored) -> dict[str, Any]:
        """What the progress bar shows after a generation."""
        finite = scored.scores[torch.isfinite(scored.scores)]
        return {"best": f"{float(finite.max()) if finite.numel() else float('nan'):.3g}"}


class UnitScorer(Scorer):
    """A simulated unit as a scorer: one measurement per image through :mod:`landscape.units.measure`.

    Parameters
    ----------
    unit : landscape.units.Unit
        Its state (a noise model's generator) is checkpointed under ``unit``.
    """

    replayable = True

    def __init__(self, unit: Any) -> None:
        self.unit = unit

    def describe(self) -> dict:
        return self.unit.describe()

    def score(self, codes: torch.Tensor, images: torch.Tensor, generation: int) -> Scored:
        m = measure_images(self.unit, images, reps=1)
        scores = torch.from_numpy(m.trials[0])
        clean = torch.from_numpy(m.clean) if m.noisy else scores.clone()
        return Scored(scores, clean)

    @staticmethod
    def score_many(scorers: Sequence["UnitScorer"], images: Sequence[torch.Tensor]) -> list[Scored]:
        """What :meth:`score` gives each scorer on its own images, measured together
        (:func:`~landscape.units.measure.measure_images_many`: one forward pass for the units
        that read one layer of one network); the batched evolution's scoring, and a single
        run's too, so the two compute alike."""
        out = []
        for m in measure_images_many([s.unit for s in scorers], images):
            scores = torch.from_numpy(m.trials[0])
            out.append(Scored(scores, torch.from_numpy(m.clean) if m.noisy else scores.clone()))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"unit": self.unit.state_dict()}

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        self.unit.load_state_dict(checkpoint["unit"])

    def __repr__(self) -> str:
        return f"UnitScorer({self.unit!r})"


def as_scorer(unit_or_scorer: Any) -> Scorer:
    """A :class:`Scorer` as given, or a :class:`UnitScorer` around a unit."""
    if isinstance(unit_or_scorer, Scorer):
        return unit_or_scorer
    if callable(unit_or_scorer) and hasattr(unit_or_scorer, "describe") and hasattr(unit_or_scorer, "state_dict"):
        return UnitScorer(unit_or_scorer)
    raise TypeError(f"evolve needs a landscape Unit or a Scorer, got {type(unit_or_scorer).__name__}")
