"""Named measures of an evolution's success, each meaning exactly one published (or own) quantity.

Pure functions on arrays (plus thin helpers that read a :class:`landscape.runs.Run`); no
models, no plotting. Which one a number is must be said wherever it is shown.

``relative_activation``
    XDream's measure (Xiao & Kreiman 2020, PLoS Comput Biol 16(6): e1007973, section 2.2
    "XDream can find super stimuli": "the activation to the best image in the last generation
    (henceforth referred to as the optimized image)" over "the highest activation to all of
    the 1,431,167 images in ImageNet"; its published table ``figure_data/data.zip:
    data/fig_2.csv`` of ``willwx/XDream`` has ``Rel_act = Evo_max_act / ImNet_max_act``).
    The optimized image is chosen as an experimenter would: by its *observed* score in the
    last generation. Its *clean* (noise-free) response is the numerator where the unit has
    one (a simulated unit), else its observed score (a recorded neuron). The denominator is
    the best clean response over the reference image set — so the value depends on that set:
    always report its name and size beside it.
``best_clean_ever``
    The best clean score of any image evaluated in any generation: an oracle (under noise no
    experimenter knows which image it was). This project formerly called its ratio to the best
    reference "relative activation"; it is not XDream's measure and now has this name.
``normalised_score``
    ActMax-Optimizer-Dev's measure (Wang & Ponce, GECCO 2022; repository
    ``Animadversio/ActMax-Optimizer-Dev``, ``summary/actmax_CMA_benchmark_export_summary_norm.csv``):
    a run's best clean score over the best clean score any run (any optimizer, any seed)
    reached on the same unit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .runs import Run

__all__ = ["relative_activation", "best_clean_ever", "normalised_score", "optimized_image",
           "RelativeActivation", "relative_activation_of_run", "best_clean_ever_of_run",
           "SMALL_REFERENCE_SET"]

#: reference sets smaller than this get a warning: the best of a few images is a noisy,
#: downward-biased estimate of a unit's natural maximum (XDream used 1.43 M ImageNet images)
SMALL_REFERENCE_SET = 100


def _vector(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of scores, got shape {a.shape}")
    return a


def optimized_image(last_scores, last_clean=None) -> tuple[int, float, str]:
    """XDream's optimized image: the best image of the last generation by its observed score.

    Parameters
    ----------
    last_scores : (pop,) array
        Observed scores of the last generation (noisy for a noisy unit; NaN = not measured).
    last_clean : (pop,) array or None
        Clean scores of the same images (NaN or None where unknown).

    Returns
    -------
    index : int
        Position of the optimized image in the generation (first one on ties).
    response : float
        Its clean score where known, else its observed score.
    kind : {"clean", "observed"}
        Which of the two ``response`` is.
    """
    s = _vector(last_scores, "last_scores")
    if s.size == 0 or np.all(np.isnan(s)):
        raise ValueError("the last generation has no measured score")
    i = int(np.nanargmax(s))
    if last_clean is not None:
        c = _vector(last_clean, "last_clean")
        if c.shape != s.shape:
            raise ValueError(f"last_clean has shape {c.shape} but last_scores has {s.shape}")
        if np.isfinite(c[i]):
            return i, float(c[i]), "clean"
    return i, float(s[i]), "observed"


def relative_activation(last_scores, reference_scores, last_clean=None) -> float:
    """XDream's relative activation (see the module docstring for the source).

    Parameters
    ----------
    last_scores : (pop,) array
        Observed scores of the run's last generation.
    reference_scores : (N,) array
        Clean scores of the N reference (natural) images.
    last_clean : (pop,) array or None
        Clean scores of the last generation, where known.

    Returns
    -------
    float
        ``response of the optimized image / max(reference_scores)``; NaN when that maximum is
        not positive (a ratio to a non-positive maximum ranks nothing).
    """
    _, response, _ = optimized_image(last_scores, last_clean)
    return _ratio(response, _best_reference(reference_scores)[1])


def best_clean_ever(clean_scores) -> float:
    """The best clean score over every image of every generation (an oracle; see module docs).

    Parameters
    ----------
    clean_scores : (n,) array, or a sequence of per-generation (pop_g,) arrays
        NaN where a score is unknown.

    Returns
    -------
    float
        NaN when no clean score is known (a recorded neuron).
    """
    if isinstance(clean_scores, np.ndarray) and clean_scores.dtype != object:
        flat = clean_scores.astype(np.float64).ravel()
    else:
        parts = [np.asarray(c, np.float64).ravel() for c in clean_scores]
        flat = np.concatenate(parts) if parts else np.zeros(0)
    if flat.size == 0 or np.all(np.isnan(flat)):
        return math.nan
    return float(np.nanmax(flat))


def normalised_score(best_clean, unit_best: float | None = None) -> np.ndarray:
    """ActMax-Optimizer-Dev's normalised score.

    Parameters
    ----------
    best_clean : (n_runs,) array
        Each run's best clean score (``best_clean_ever``) on one unit.
    unit_best : float or None
        The best clean score any run reached on that unit; ``None`` takes the maximum of
        ``best_clean`` (the runs given are all the runs on the unit).

    Returns
    -------
    (n_runs,) array
        ``best_clean / unit_best``; NaN everywhere when ``unit_best`` is not positive, and where
        a run's best clean score is NaN.
    """
    b = _vector(best_clean, "best_clean")
    if unit_best is None:
        unit_best = float(np.nanmax(b)) if b.size and not np.all(np.isnan(b)) else math.nan
    if not (unit_best > 0):
        return np.full(b.shape, math.nan)
    return b / float(unit_best)


def _best_reference(reference_scores) -> tuple[int, float]:
    r = _vector(reference_scores, "reference_scores")
    if r.size == 0 or np.all(np.isnan(r)):
        raise ValueError("reference_scores holds no score: relative activation needs at least one reference image")
    i = int(np.nanargmax(r))
    return i, float(r[i])


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 and math.isfinite(num) else math.nan


@dataclass(frozen=True)
class RelativeActivation:
    """XDream's relative activation of one run, with what went into it.

    Attributes
    ----------
    value : float
        ``response / best_reference_score`` (NaN when that best is not positive).
    response : float
        The optimized image's response (clean where known).
    response_kind : {"clean", "observed"}
    generation : int
        The last generation's index.
    index : int
        The optimized image's position in that generation.
    best_reference_score : float
    best_reference_index : int
    n_references : int
    best_clean_ever : float
        The oracle, for comparison (NaN without clean scores).
    best_clean_ever_over_reference : float
        ``best_clean_ever / best_reference_score`` (the project's former "relative activation").
    """

    value: float
    response: float
    response_kind: str
    generation: int
    index: int
    best_reference_score: float
    best_reference_index: int
    n_references: int
    best_clean_ever: float
    best_clean_ever_over_reference: float

    def as_dict(self) -> dict:
        return asdict(self)


def relative_activation_of_run(run: "Run", reference_scores) -> RelativeActivation:
    """XDream's relative activation of a recorded run against clean reference scores.

    Parameters
    ----------
    run : landscape.runs.Run
        Its last committed generation holds the optimized image.
    reference_scores : (N,) array
        Clean scores of the reference images on the run's unit.
    """
    if run.n_generations == 0:
        raise ValueError(f"run {run.dir} has no completed generation")
    g = run.n_generations - 1
    i, response, kind = optimized_image(run.gen_scores[g], run.gen_clean[g])
    j, best_ref = _best_reference(reference_scores)
    oracle = best_clean_ever(run.gen_clean)
    return RelativeActivation(value=_ratio(response, best_ref), response=response, response_kind=kind,
                              generation=g, index=i, best_reference_score=best_ref, best_reference_index=j,
                              n_references=int(np.asarray(reference_scores).size), best_clean_ever=oracle,
                              best_clean_ever_over_reference=_ratio(oracle, best_ref))


def best_clean_ever_of_run(run: "Run") -> float:
    """:func:`best_clean_ever` over a run's generations."""
    return best_clean_ever(run.gen_clean)

