"""Notebook 01's exercise: the ask/tell evolution loop, written by hand."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from landscape.exercises.base import as_array, fail, fmt, not_done, passed

#: generations the check runs (small: the check must take about a second on a CPU)
N_GENERATIONS = 4


def _reference(generator: Any, unit: Any, optimizer: Any, n_generations: int) -> list[float]:
    best = []
    for _ in range(n_generations):
        codes = optimizer.ask()
        with torch.no_grad():
            scores = unit(generator(codes))
        optimizer.tell(codes, scores)
        best.append(float(scores.max()))
    return best


def check_evolution_loop(evolve_by_hand: Callable[..., Any], generator: Any, unit: Any,
                         optimizer: str = "ga-project", seed: int = 0) -> bool:
    """Check a hand-written ask/tell loop against the toolkit's on the same seeded optimizer.

    Parameters
    ----------
    evolve_by_hand : callable ``(generator, unit, optimizer, n_generations) -> sequence of float``
        The student's loop; it returns the best response of each generation.
    generator, unit
        The notebook's generator and (noise-free) unit.
    optimizer : str
        Short name for :func:`landscape.optim.make` (a fresh, seeded one is built for each loop).
        Default ``"ga-project"``: without an elite every generation is new, so a loop that
        forgets ``tell`` shows from its second generation on (XDream's ``ga`` re-scores its best
        code, which can hide the mistake for a few generations).
    seed : int

    Returns
    -------
    True, after printing a ✓ line; raises :class:`~landscape.exercises.ExerciseError` otherwise.
    """
    from landscape import optim

    not_done(evolve_by_hand, "evolve_by_hand")
    device = getattr(generator, "device", None)

    def fresh():
        return optim.make(optimizer, generator.dim, seed=seed, **({"device": device} if device is not None else {}))

    got = evolve_by_hand(generator, unit, fresh(), N_GENERATIONS)  # first: an unfinished exercise fails fast
    if got is None:
        fail("evolve_by_hand returned None", "collect the best response of each generation in a list and return it")
    got = as_array(got, "the returned best responses").reshape(-1)
    expected = _reference(generator, unit, fresh(), N_GENERATIONS)
    if got.size != N_GENERATIONS:
        fail(f"asked for {N_GENERATIONS} generations, evolve_by_hand returned {got.size} values",
             "append one number per generation: the largest score of that generation")
    close = np.isclose(got, expected, rtol=1e-4, atol=1e-5)
    if not close.all():
        k = int(np.argmin(close))
        where = (f"generation 1 differs (yours {fmt(got[0])}, expected {fmt(expected[0])})" if k == 0 else
                 ("generation 1 matches" if k == 1 else f"generations 1-{k} match") + f", generation {k + 1} differs "
                 f"(yours {fmt(got[k])}, expected {fmt(expected[k])})")
        hint = ("score the images of exactly the codes ask() gave you: scores = unit(generator(codes)), and "
                "keep the largest score" if k == 0 else
                "call optimizer.tell(codes, scores) with the codes you asked for and their scores before the next "
                "ask(), once per generation")
        fail(where, hint)
    return passed(f"your loop reproduces {optimizer!r} for {N_GENERATIONS} generations exactly "
                  f"(best response {fmt(max(expected))})")
