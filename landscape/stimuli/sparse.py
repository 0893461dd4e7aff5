"""Sparse noise: one small square at a time, for mapping receptive fields."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from landscape.stimuli._render import color_list, rgb_columns
from landscape.stimuli.colors import ColorLike, parse_color
from landscape.stimuli.coordinates import check_size
from landscape.stimuli.param_table import ParamTable


def sparse_noise(size: int, grid: int = 8, colors: ColorLike | Sequence[ColorLike] = ("white", "black"),
                 background: ColorLike = "grey", device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ParamTable]:
    """Every square of a ``grid x grid`` tiling, lit alone, once per colour.

    Parameters
    ----------
    size : int
        Image side in pixels; at least ``grid``.
    grid : int
        Squares per side; each square is ``1 / grid`` of the image side.
    colors : colour or list of colours
        Typically a bright and a dark one, to map ON and OFF subfields.
    background : colour

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1], ``N = len(colors) * grid * grid``
    params : ParamTable
        Grid axes ``color, row, col`` (row 0 at the top); columns ``x, y`` (square centre,
        fractions of the image side, y up) and ``color_r, color_g, color_b``.
    """
    size = check_size(size)
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 1:
        raise ValueError(f"grid must be a positive integer, got {grid!r}")
    if grid > size:
        raise ValueError(f"grid {grid} has more squares per side than the image has pixels ({size})")
    names, rgb = color_list("colors", colors)
    bg = parse_color(background)
    ci, row, col = np.meshgrid(np.arange(len(names)), np.arange(grid), np.arange(grid), indexing="ij")
    ci, row, col = ci.ravel(), row.ravel(), col.ravel()
    table = ParamTable({"color": np.asarray(names)[ci], "row": row, "col": col,
                        "x": (col + 0.5) / grid - 0.5, "y": 0.5 - (row + 0.5) / grid,
                        **rgb_columns(rgb[ci], "color_")},
                       {"color": np.asarray(names), "row": np.arange(grid), "col": np.arange(grid)})
    # Pixel edges of each square; with size not divisible by grid the squares differ by a pixel.
    edges = np.round(np.linspace(0, size, grid + 1)).astype(int)
    images = torch.empty(len(table), 3, size, size, dtype=dtype, device=device)
    images[:] = torch.as_tensor(bg, dtype=dtype, device=device)[:, None, None]
    fg = torch.as_tensor(rgb, dtype=dtype, device=device)
    for i in range(len(table)):
        r, c = row[i], col[i]
        images[i, :, edges[r]:edges[r + 1], edges[c]:edges[c + 1]] = fg[ci[i]][:, None, None]
    return images, table
