"""Image coordinates and the checks every stimulus family shares.

Lengths and positions are fractions of the image side, so a stimulus means the same thing at
32 and at 224 pixels. ``x`` runs left to right and ``y`` bottom to top, both in
[-0.5, 0.5] with (0, 0) at the image centre; pixel centres sit at ``(j + 0.5) / W - 0.5``.
Angles are in degrees, counter-clockwise from the +x axis.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

#: a disc of this radius centred in the image covers the whole image
MAX_RADIUS = math.sqrt(2.0) / 2.0


def image_coords(height: int, width: int, device: torch.device | str | None = None,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates.

    Returns
    -------
    x, y : (H, W) tensors, in fractions of the image side, y pointing up
    """
    xs = (torch.arange(width, device=device, dtype=dtype) + 0.5) / width - 0.5
    ys = 0.5 - (torch.arange(height, device=device, dtype=dtype) + 0.5) / height
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return x, y


def check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
        raise ValueError(f"size must be an integer number of pixels >= 2, got {size!r}")
    return int(size)


def as_levels(name: str, values, *, default_count: int | None = None,
              count_to_levels=None) -> np.ndarray:
    """Turn a scalar, sequence or level count into a 1-D float array of parameter levels.

    An ``int`` is read as a number of levels only where ``count_to_levels`` is given
    (e.g. ``orientations=12`` means 12 evenly spaced orientations).
    """
    if count_to_levels is not None and isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        if values < 1:
            raise ValueError(f"{name}: a number of levels must be >= 1, got {values}")
        return np.asarray(count_to_levels(int(values)), dtype=np.float64)
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a scalar or a non-empty 1-D sequence, got {values!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def check_range(name: str, values: np.ndarray, low: float, high: float, *, low_open: bool = False,
                why_high: str = "") -> None:
    """Raise a ValueError naming the first bad value unless all values lie in the range."""
    for v in np.atleast_1d(values):
        if (v <= low if low_open else v < low):
            bound = f"> {low}" if low_open else f">= {low}"
            raise ValueError(f"{name} must be {bound}, got {v:g}")
        if v > high:
            raise ValueError(f"{name} {v:g} is too large: the maximum is {high:g}{why_high}")


def check_frequencies(frequencies: np.ndarray, size: int) -> None:
    """Spatial frequencies (cycles per image) must be positive and below the Nyquist limit."""
    for f in frequencies:
        if f <= 0:
            raise ValueError(f"spatial frequency must be positive (cycles per image), got {f:g}")
        if f > size / 2:
            raise ValueError(f"spatial frequency {f:g} cycles/image exceeds the Nyquist limit "
                             f"{size / 2:g} of a {size}-pixel image")


def check_position(position: Sequence[float]) -> tuple[float, float]:
    pos = np.asarray(position, dtype=np.float64)
    if pos.shape != (2,) or not np.all(np.isfinite(pos)):
        raise ValueError(f"position must be an (x, y) pair, got {position!r}")
    if np.abs(pos).max() > 0.5:
        raise ValueError(f"position {tuple(pos.tolist())} lies outside the image; x and y must be "
                         "in [-0.5, 0.5] (fractions of the image side, (0, 0) is the centre)")
    return float(pos[0]), float(pos[1])


def soft_step(signed_distance: torch.Tensor, pixel: float) -> torch.Tensor:
    """Anti-aliased indicator of ``signed_distance > 0`` with a one-pixel ramp."""
    return (signed_distance / pixel + 0.5).clamp(0.0, 1.0)


def carrier_phase(x: torch.Tensor, y: torch.Tensor, orientation_deg: torch.Tensor,
                  frequency: torch.Tensor, phase_deg: torch.Tensor,
                  center: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """Phase (radians) of a grating at each pixel.

    ``orientation`` is the direction of the bars (0 = horizontal bars, 90 = vertical bars);
    the wave travels perpendicular to it. ``phase`` is the phase at ``center``, where a cosine
    carrier then peaks for phase 0.

    Parameters
    ----------
    x, y : (H, W) coordinates from :func:`image_coords`
    orientation_deg, frequency, phase_deg : (N,) tensors

    Returns
    -------
    phase : (N, H, W) tensor
    """
    th = torch.deg2rad(orientation_deg)[:, None, None]
    # unit normal to the bars
    nx, ny = -torch.sin(th), torch.cos(th)
    u = (x - center[0])[None] * nx + (y - center[1])[None] * ny
    return 2 * math.pi * frequency[:, None, None] * u + torch.deg2rad(phase_deg)[:, None, None]


def check_positions(positions) -> np.ndarray:
    """Paired stimulus centres: an (n, 2) array of (x, y) inside the image."""
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 2 or pos.shape[0] == 0:
        raise ValueError(f"positions must be an (n, 2) array of (x, y) centres, got shape {pos.shape}")
    if not np.all(np.isfinite(pos)) or np.abs(pos).max() > 0.5:
        bad = pos[~(np.abs(pos) <= 0.5).all(1)][0].tolist()
        raise ValueError(f"position {bad} lies outside the image; x and y must be in [-0.5, 0.5]")
    return pos


def expand_positions(table_cols: dict, positions: np.ndarray) -> None:
    """Replace a ``position`` index column by ``x`` and ``y`` columns (in place)."""
    idx = table_cols["position"]
    table_cols["x"] = positions[idx, 0]
    table_cols["y"] = positions[idx, 1]
