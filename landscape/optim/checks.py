"""Validation helpers shared by the optimizers: every bad hyper-parameter or code array
raises a :class:`ValueError` that names the bad value and the valid range."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"`` (JSON configs name dtypes by string)."""
    return str(dtype).replace("torch.", "")


def parse_dtype(dtype: Any) -> torch.dtype:
    """A torch dtype from a dtype or its name (``"float32"``, ``"float64"``)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    valid = {"float32": torch.float32, "float64": torch.float64}
    if dtype not in valid:
        raise ValueError(f"dtype must be one of {sorted(valid)}, got {dtype!r}")
    return valid[dtype]


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]`` or raise naming the valid range."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if ok and value >= low and (high is None or value <= high):
        return int(value)
    valid = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
    raise ValueError(f"{name} must be {valid}, got {value!r}")


def check_float(name: str, value: Any, low: float = -math.inf, high: float = math.inf, *,
                low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite float inside the stated interval or raise naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool):
        v = math.nan
    inside = math.isfinite(v) and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if inside:
        return v
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    hi_txt = "inf" if math.isinf(high) else f"{high:g}"
    lo_txt = "-inf" if math.isinf(low) else f"{low:g}"
    raise ValueError(f"{name} must be a finite number in {lo}{lo_txt}, {hi_txt}{hi}, got {value!r}")


def as_codes(codes: Any, dim: int, device: torch.device, dtype: torch.dtype, name: str = "codes",
             max_rows: int | None = None) -> torch.Tensor:
    """Check an array of codes and return it as a ``(n, dim)`` tensor.

    Parameters
    ----------
    codes : (n, dim) or (dim,) array-like, finite
    max_rows : int or None
        Largest ``n`` accepted.

    Returns
    -------
    codes : (n, dim) tensor on ``device`` with ``dtype`` (a copy)
    """
    t = torch.as_tensor(codes.detach() if torch.is_tensor(codes) else np.asarray(codes))
    if t.ndim == 1:
        t = t[None]
    if t.ndim != 2 or t.shape[1] != dim or t.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, {dim}) with n >= 1, got {tuple(t.shape)}")
    if max_rows is not None and t.shape[0] > max_rows:
        raise ValueError(f"{name} has {t.shape[0]} rows but at most {max_rows} are used (the population "
                         f"size); pass fewer codes or a larger population")
    t = t.to(device=device, dtype=dtype).clone()
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return t


def match_rows(codes: torch.Tensor, asked: torch.Tensor | None, rtol: float = 1e-5) -> torch.Tensor:
    """For each row of ``codes``, the index of the equal row of ``asked`` (or -1).

    Rows count as equal when they differ by at most ``rtol`` times the row's largest absolute
    value, so codes that went through a float32 file still match what was asked.

    Parameters
    ----------
    codes : (n, d) tensor
    asked : (m, d) tensor or None

    Returns
    -------
    index : (n,) long tensor
    """
    n = codes.shape[0]
    if asked is None or asked.numel() == 0:
        return torch.full((n,), -1, dtype=torch.long, device=codes.device)
    asked = asked.to(codes.dtype)
    tol = rtol * (1.0 + asked.abs().amax(dim=1))
    if asked.shape[0] == n:  # the usual case: the same rows in the same order
        close = ((codes - asked).abs().amax(dim=1) <= tol)
        if bool(close.all()):
            return torch.arange(n, device=codes.device)
    dist = torch.cdist(codes, asked, p=float("inf")) if codes.shape[1] > 0 else None
    best = dist.argmin(dim=1)
    ok = dist.gather(1, best[:, None])[:, 0] <= tol[best]
    return torch.where(ok, best, torch.full_like(best, -1))


def check_first_generations(optimizer: Any, settings: Any = None) -> None:
    """Ask, tell and ask again on a throwaway optimizer: settings whose codes overflow raise here.

    Meant for a fresh optimizer built only to check settings (its state is changed).

    Raises
    ------
    ValueError
        Naming the settings, when a generation's codes are not all finite or a step fails.
    """
    try:
        codes = optimizer.ask()
        finite = bool(torch.isfinite(codes).all())
        if finite:
            optimizer.tell(codes, torch.arange(codes.shape[0], dtype=torch.float64))
            finite = bool(torch.isfinite(optimizer.ask()).all())
    except (RuntimeError, OverflowError, ZeroDivisionError) as e:
        raise ValueError(f"settings {settings} fail in the first generation: {' '.join(str(e).split())}") from None
    if not finite:
        raise ValueError(f"settings {settings} give codes that are not finite numbers (a step size too large?)")
