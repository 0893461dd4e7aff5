"""The named measures against values worked out by hand from their published definitions."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from landscape.measures import (best_clean_ever, best_clean_ever_of_run, normalised_score, optimized_image,
                                relative_activation, relative_activation_of_run)
from landscape.runs import Run


def test_relative_activation_picks_last_generation_best_by_observed_score_and_uses_its_clean_response():
    observed = [3.0, 9.0, 5.0]   # image 1 looks best to the experimenter ...
    clean = [6.0, 4.0, 8.0]      # ... though its noise-free response is 4, and image 2's is 8
    refs = [1.0, 2.0, 0.5]
    assert relative_activation(observed, refs, clean) == pytest.approx(4.0 / 2.0)
    assert optimized_image(observed, clean) == (1, 4.0, "clean")


def test_relative_activation_falls_back_to_observed_where_clean_is_unknown():
    observed = [3.0, 9.0, 5.0]
    assert relative_activation(observed, [2.0, 4.0]) == pytest.approx(9.0 / 4.0)
    # a clean read-out of NaN (recorded neuron) also counts as unknown
    assert relative_activation(observed, [2.0, 4.0], [np.nan] * 3) == pytest.approx(9.0 / 4.0)
    assert optimized_image(observed, [np.nan] * 3) == (1, 9.0, "observed")


def test_relative_activation_ignores_unmeasured_images_and_is_nan_for_non_positive_reference():
    assert relative_activation([np.nan, 2.0, 1.0], [0.5]) == pytest.approx(4.0)
    assert math.isnan(relative_activation([1.0, 2.0], [-1.0, 0.0]))


def test_relative_activation_rejects_bad_input():
    with pytest.raises(ValueError, match="no measured score"):
        relative_activation([np.nan, np.nan], [1.0])
    with pytest.raises(ValueError, match="at least one reference image"):
        relative_activation([1.0], [])
    with pytest.raises(ValueError, match="shape"):
        relative_activation([1.0, 2.0], [1.0], last_clean=[1.0])


def test_best_clean_ever_over_generations():
    gens = [np.array([1.0, 7.0]), np.array([3.0, np.nan, 2.0])]
    assert best_clean_ever(gens) == 7.0
    assert best_clean_ever(np.array([[1.0, 2.0], [5.0, 4.0]])) == 5.0
    assert math.isnan(best_clean_ever([np.full(3, np.nan)]))
    assert math.isnan(best_clean_ever([]))


def test_normalised_score_divides_by_the_best_run_on_the_unit():
    np.testing.assert_allclose(normalised_score([2.0, 4.0, 3.0]), [0.5, 1.0, 0.75])
    np.testing.assert_allclose(normalised_score([2.0, np.nan], unit_best=8.0), [0.25, np.nan])
    assert np.isnan(normalised_score([-1.0, 0.0])).all()


def _run(scores, clean) -> Run:
    gens = len(scores)
    return Run(Path("mem"), {}, [np.zeros((len(s), 2), np.float32) for s in scores],
               [np.asarray(s, float) for s in scores], [np.asarray(c, float) for c in clean], np.zeros(gens))


def test_relative_activation_of_run_uses_last_generation_while_oracle_sees_all():
    # generation 0 held the best image ever (clean 10); the last generation's observed best
    # is image 0 (observed 6) with clean response 5
    run = _run([[1.0, 12.0], [6.0, 5.5, 2.0]], [[1.0, 10.0], [5.0, 7.0, 2.0]])
    ra = relative_activation_of_run(run, [1.0, 2.5, 2.0])
    assert ra.value == pytest.approx(5.0 / 2.5)
    assert (ra.generation, ra.index, ra.response_kind) == (1, 0, "clean")
    assert (ra.best_reference_index, ra.n_references) == (1, 3)
    assert ra.best_clean_ever == 10.0 == best_clean_ever_of_run(run)
    assert ra.best_clean_ever_over_reference == pytest.approx(4.0)
    assert set(ra.as_dict()) >= {"value", "response_kind", "best_clean_ever"}
