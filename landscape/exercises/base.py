"""What every exercise check shares: the error it raises and the line it prints on success."""

from __future__ import annotations

from typing import Any

import numpy as np


class ExerciseError(AssertionError):
    """An exercise's answer is not right yet; the message says what differs and how to fix it."""


def passed(message: str) -> bool:
    """Print the success line of a check and return True."""
    print(f"✓ {message}")
    return True


def fail(message: str, hint: str | None = None) -> None:
    """Raise :class:`ExerciseError` with ``message`` and an optional hint."""
    raise ExerciseError(message + (f"\nHint: {hint}" if hint else ""))


def not_done(value: Any, what: str) -> None:
    """Fail when an answer is still the placeholder (``None`` or ``...``)."""
    if value is None or value is Ellipsis:
        fail(f"{what} is still {value!r}: finish the exercise cell above first (it raises "
             "NotImplementedError until you do)")


def as_array(value: Any, what: str) -> np.ndarray:
    """``value`` (list, numpy array or torch tensor) as a float64 numpy array, or a clear failure."""
    not_done(value, what)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail(f"{what} must be numbers (a list, numpy array or tensor), got {type(value).__name__}")
    return out


def as_number(value: Any, what: str) -> float:
    """``value`` as one finite float, or a clear failure."""
    arr = as_array(value, what)
    if arr.size != 1:
        fail(f"{what} must be one number, got an array of shape {arr.shape}")
    x = float(arr.reshape(-1)[0])
    if not np.isfinite(x):
        fail(f"{what} is {x}, not a finite number")
    return x


def fmt(x: float) -> str:
    """A number for a message: 4 significant digits, no numpy repr."""
    return f"{float(x):.4g}"
