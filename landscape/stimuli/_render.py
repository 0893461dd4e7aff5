"""Helpers shared by the stimulus families: colour lists and compositing."""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import torch

from landscape.stimuli.colors import ColorLike, color_name, parse_color


def color_list(name: str, colors: ColorLike | Sequence[ColorLike]) -> tuple[list[str], np.ndarray]:
    """Read one colour or a list of colours.

    A string or a triple of numbers is one colour; anything else is a list of colours.

    Returns
    -------
    names : list of str (labels for the parameter table)
    rgb : (k, 3) array
    """
    if isinstance(colors, str) or (
            isinstance(colors, (tuple, list, np.ndarray)) and len(colors) == 3
            and all(isinstance(c, numbers.Number) for c in colors)):
        colors = [colors]
    if len(colors) == 0:
        raise ValueError(f"{name} must name at least one colour")
    try:
        rgb = np.stack([parse_color(c) for c in colors])
    except ValueError as e:
        raise ValueError(f"{name}: {e}") from None
    return [color_name(c) for c in colors], rgb


def rgb_columns(rgb: np.ndarray, prefix: str = "") -> dict[str, np.ndarray]:
    """Columns ``r, g, b`` (with an optional prefix) for an (N, 3) colour array."""
    return {f"{prefix}{c}": rgb[:, i] for i, c in enumerate("rgb")}


def composite(mask: torch.Tensor, fg: np.ndarray, bg: np.ndarray) -> torch.Tensor:
    """Blend a foreground colour over a background colour.

    Parameters
    ----------
    mask : (N, H, W) tensor in [0, 1], 1 where the foreground is
    fg : (N, 3) array or (3,) array
    bg : (N, 3) array or (3,) array

    Returns
    -------
    images : (N, 3, H, W) tensor in [0, 1]
    """
    n = mask.shape[0]
    fg_t = torch.as_tensor(np.broadcast_to(fg, (n, 3)).copy(), dtype=mask.dtype, device=mask.device)
    bg_t = torch.as_tensor(np.broadcast_to(bg, (n, 3)).copy(), dtype=mask.dtype, device=mask.device)
    m = mask[:, None]
    return (bg_t[:, :, None, None] * (1 - m) + fg_t[:, :, None, None] * m).clamp(0.0, 1.0)


def as_tensor(values: np.ndarray, device, dtype) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float64), dtype=dtype, device=device)
