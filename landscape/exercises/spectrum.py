"""Notebook 02's exercises: reading a metric's spectrum, and predicting image change with it."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from landscape.exercises.base import as_number, fail, fmt, not_done, passed


def _spectrum_cases() -> list[tuple[str, np.ndarray, float]]:
    rng = np.random.default_rng(0)
    decaying = 0.7 ** np.arange(40)
    return [
        ("a geometric spectrum 0.7^k, k = 0..39", decaying, 0.99),
        ("the same spectrum shuffled (not sorted)", rng.permutation(decaying), 0.99),
        ("ten equal eigenvalues", np.ones(10), 0.5),
        ("a spectrum with small negative eigenvalues (finite-difference error)",
         np.concatenate([0.5 ** np.arange(12), -1e-3 * np.ones(8)]), 0.999),
        ("a random spectrum", np.sort(rng.exponential(size=100))[::-1] ** 3, 0.9),
    ]


def _variants(w: np.ndarray, f: float) -> dict[str, int]:
    """Answers of common slips, to say which one a wrong answer looks like."""
    def count(values: np.ndarray, strict: bool = False) -> int:
        cum = np.cumsum(values)
        hit = cum > f * cum[-1] if strict else cum >= f * cum[-1] * (1 - 1e-12)
        return int(np.argmax(hit)) + 1 if hit.any() else values.size
    clipped = -np.sort(-np.clip(w, 0, None))
    return {"did not sort the eigenvalues largest first (np.sort(eigvals)[::-1])": count(np.clip(w, 0, None)),
            "kept negative eigenvalues; they are numerical error: clip them to 0 first": count(-np.sort(-w)),
            "counted the dimensions *before* the sum reaches the fraction; use >= and count the one that "
            "crosses it": count(clipped) - 1,
            "the sum may reach the fraction exactly: use >=, not >": count(clipped, strict=True)}


def check_dims_for_fraction(dims_for_fraction: Callable[[np.ndarray, float], Any]) -> bool:
    """Check ``dims_for_fraction(eigvals, fraction) -> int`` on spectra with known answers.

    The answer: the smallest number of top eigenvalues (largest first, negatives clipped to 0)
    whose sum reaches ``fraction`` of the total — what :func:`geometry.spectrum.dims_for_fraction`
    computes.
    """
    from geometry.spectrum import dims_for_fraction as reference

    not_done(dims_for_fraction, "dims_for_fraction")
    for name, w, f in _spectrum_cases():
        expected = int(reference(w, f))
        got = as_number(dims_for_fraction(w.copy(), f), f"dims_for_fraction(<{name}>, {f})")
        if got != expected:
            slips = [why for why, value in _variants(w, f).items() if value == got]
            fail(f"for {name} and fraction {f}: yours {fmt(got)}, expected {expected}",
                 slips[0] if slips else "sort largest first, clip negatives to 0, take the cumulative sum, and count "
                                        "the eigenvalues up to and including the first that reaches the fraction")
    return passed(f"dims_for_fraction agrees with geometry.spectrum on {len(_spectrum_cases())} spectra")


def check_metric_prediction(predicted_change: Callable[..., Any]) -> bool:
    """Check ``predicted_change(eigvals, eigvecs, direction, t)`` = ½ t² vᵀ H v with H = V diag(λ) Vᵀ.

    ``eigvecs`` holds the eigenvectors as columns (``eigvecs[:, k]``), as :func:`geometry.hessian`
    returns them; ``direction`` need not have unit length.
    """
    not_done(predicted_change, "predicted_change")
    rng = np.random.default_rng(1)
    d = 6
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = np.sort(rng.exponential(size=d))[::-1] * 10
    H = V @ np.diag(lam) @ V.T
    cases = [("the top eigenvector", V[:, 0], 0.1), ("a random direction", rng.standard_normal(d), 0.05),
             ("the bottom eigenvector, a long step", V[:, -1], 2.0)]
    for name, v, t in cases:
        expected = 0.5 * t ** 2 * float(v @ H @ v)
        got = as_number(predicted_change(lam.copy(), V.copy(), v.copy(), t), f"predicted_change along {name}")
        if np.isclose(got, expected, rtol=1e-6):
            continue
        ratio = got / expected if expected else np.inf
        if np.isclose(ratio, 2.0):
            hint = "the quadratic model has a factor one half: D ≈ ½ δᵀ H δ"
        elif np.isclose(got, 0.5 * t * float(v @ H @ v)) or np.isclose(got, 0.5 * float(v @ H @ v)):
            hint = "the step is δ = t v, so the change grows with t squared"
        elif np.isclose(got, 0.5 * t ** 2 * float(v @ V.T @ np.diag(lam) @ V @ v)):
            hint = "the eigenvectors are the columns of eigvecs (eigvecs[:, k]): H = V diag(λ) Vᵀ"
        else:
            hint = "project the direction on the eigenvectors (c = eigvecs.T @ v), then ½ t² Σ λ_k c_k²"
        fail(f"along {name} with t = {t}: yours {fmt(got)}, expected {fmt(expected)}", hint)
    return passed("predicted_change is the metric's quadratic form ½ t² vᵀHv on all three test directions")
