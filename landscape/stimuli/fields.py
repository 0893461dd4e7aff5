"""Uniform colour fields: named colours, and hue sweeps at a fixed luminance."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from landscape.stimuli._render import color_list, composite, rgb_columns
from landscape.stimuli.colors import ColorLike, isoluminant_colors
from landscape.stimuli.coordinates import MAX_RADIUS, as_levels, check_range, check_size, image_coords, soft_step
from landscape.stimuli.param_table import ParamTable


def uniform(size: int, colors: ColorLike | Sequence[ColorLike] = "grey",
            device: str | torch.device | None = None, dtype: torch.dtype = torch.float32
            ) -> tuple[torch.Tensor, ParamTable]:
    """Uniform fields, one per colour (e.g. the grey field that measures a unit's baseline).

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axis ``color``; columns ``color_r, color_g, color_b``.
    """
    size = check_size(size)
    names, rgb = color_list("colors", colors)
    table = ParamTable({"color": np.asarray(names), **rgb_columns(rgb, "color_")}, {"color": np.asarray(names)})
    images = torch.as_tensor(rgb, dtype=dtype, device=device)[:, :, None, None].expand(-1, -1, size, size)
    return images.contiguous(), table


def hue_fields(size: int, hues=12, luminance: float = 0.5, saturation: float | None = None,
               radius: float | None = None, x: float = 0.0, y: float = 0.0,
               device: str | torch.device | None = None, dtype: torch.dtype = torch.float32
               ) -> tuple[torch.Tensor, ParamTable]:
    """Uniform colour fields over a hue circle, all at one luminance.

    A stand-in for the monochromatic lights of De Valois' experiments: hue plays the part of
    wavelength while luminance stays fixed, so a pure luminance unit answers every hue
    alike. Hue 0 is red, 90 blue, 180 green-cyan, 270 yellow (the axes of
    :func:`landscape.stimuli.colors.hue_directions`).

    Parameters
    ----------
    size : int
    hues : int or sequence of float
        Hue angles in degrees; an ``int`` ``n`` means ``n`` evenly spaced over [0, 360).
    luminance : float in (0, 1)
        Rec. 601 luma of every field; the matching baseline is grey at this value.
    saturation : float or None
        Distance from grey in RGB units; ``None`` takes the largest at which every hue fits
        in the RGB cube.
    radius : float or None
        ``None`` for full-field; otherwise a disc of this radius (fraction of the image side)
        centred at (x, y) on the grey of the same luminance.
    x, y : float
        Disc centre when ``radius`` is given.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axis ``hue``; columns ``luminance, saturation, color_r, color_g, color_b``.
    """
    size = check_size(size)
    h = as_levels("hues", hues, count_to_levels=lambda n: np.arange(n) * 360.0 / n)
    if not 0.0 < luminance < 1.0:
        raise ValueError(f"luminance must lie strictly between 0 and 1, got {luminance}")
    rgb, sat = isoluminant_colors(h, luminance, saturation)
    table = ParamTable({"hue": h, "luminance": np.full(len(h), luminance), "saturation": np.full(len(h), sat),
                        **rgb_columns(rgb, "color_")}, {"hue": h})
    grey = np.full(3, luminance)
    if radius is None:
        mask = torch.ones(len(h), size, size, device=device, dtype=dtype)
    else:
        check_range("radius", np.array([radius]), 0.0, MAX_RADIUS, low_open=True,
                    why_high=" of the image side (a larger disc is larger than the image; use radius=None)")
        check_range("x", np.array([x]), -0.5, 0.5)
        check_range("y", np.array([y]), -0.5, 0.5)
        gx, gy = image_coords(size, size, device, dtype)
        r = torch.sqrt((gx - x) ** 2 + (gy - y) ** 2)
        mask = soft_step(radius - r, 1.0 / size)[None].expand(len(h), -1, -1)
        table.columns["radius"] = np.full(len(h), radius)
    return composite(mask, rgb, grey), table
