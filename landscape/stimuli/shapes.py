"""Discs, annuli, centre-surround stimuli, bars and edges on a uniform background."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from landscape.stimuli._render import as_tensor, color_list, composite, rgb_columns
from landscape.stimuli.colors import ColorLike, parse_color
from landscape.stimuli.coordinates import (MAX_RADIUS, as_levels, check_positions, check_range, check_size,
                                        expand_positions, image_coords, soft_step)
from landscape.stimuli.param_table import ParamTable

_RADIUS_WHY = (f" of the image side: a disc of radius {MAX_RADIUS:.4f} centred in the image already "
               "covers it, so a larger one is larger than the image")
_LENGTH_WHY = f" of the image side (the image diagonal is {math.sqrt(2):.4f})"


def _positions(x, y) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = as_levels("x", x), as_levels("y", y)
    for n, v in (("x", xs), ("y", ys)):
        check_range(n, v, -0.5, 0.5, why_high=" (positions are fractions of the image side from the centre)")
    return xs, ys


def _grid_table(axes: dict[str, np.ndarray], colors: dict[str, tuple[list[str], np.ndarray]]
                ) -> tuple[ParamTable, dict[str, np.ndarray]]:
    """Product grid over numeric axes and colour axes (colour axes hold names, rgb kept apart)."""
    all_axes = dict(axes)
    for k, (names, _) in colors.items():
        all_axes[k] = np.arange(len(names))
    mesh = np.meshgrid(*all_axes.values(), indexing="ij")
    cols = {k: m.reshape(-1) for k, m in zip(all_axes, mesh)}
    rgb = {}
    for k, (names, values) in colors.items():
        idx = cols[k]
        cols[k] = np.asarray(names)[idx]
        rgb[k] = values[idx]
        cols.update(rgb_columns(rgb[k], prefix=f"{k}_"))
    axes_out = {k: (np.asarray(colors[k][0]) if k in colors else v) for k, v in all_axes.items()}
    return ParamTable(cols, axes_out), rgb


def _radial(size, table, device, dtype):
    gx, gy = image_coords(size, size, device, dtype)
    cx = as_tensor(table["x"], device, dtype)[:, None, None]
    cy = as_tensor(table["y"], device, dtype)[:, None, None]
    return torch.sqrt((gx[None] - cx) ** 2 + (gy[None] - cy) ** 2)


def _check_radii(name: str, radii, *, allow_zero: bool) -> np.ndarray:
    r = as_levels(name, radii)
    check_range(name.replace("radii", "radius"), r, 0.0, MAX_RADIUS,
                low_open=not allow_zero, why_high=_RADIUS_WHY)
    return r


def _check_nested(inner: np.ndarray, outer: np.ndarray, what: str) -> None:
    if inner.max() >= outer.min():
        raise ValueError(f"every {what} inner radius must be smaller than every outer radius, got "
                         f"{inner.max():g} >= {outer.min():g}")


def _draw_radial(size: int, table: ParamTable, center_radius: np.ndarray, outer_radius: np.ndarray | None,
                 center_rgb: np.ndarray, ring_rgb: np.ndarray | None, bg: np.ndarray, device, dtype
                 ) -> torch.Tensor:
    """Centre disc (colour ``center_rgb``) inside a ring (``ring_rgb``) on ``bg``; (N, 3, S, S)."""
    r = _radial(size, table, device, dtype)
    px = 1.0 / size
    center = soft_step(as_tensor(center_radius, device, dtype)[:, None, None] - r, px)
    images = composite(center, center_rgb, bg)
    if outer_radius is not None:
        ring = (soft_step(as_tensor(outer_radius, device, dtype)[:, None, None] - r, px) - center).clamp(0.0, 1.0)
        images = images + ring[:, None] * (
            torch.as_tensor(ring_rgb, dtype=dtype, device=images.device)[:, :, None, None]
            - torch.as_tensor(bg, dtype=dtype, device=images.device)[None, :, None, None])
    return images.clamp(0.0, 1.0)


def discs(size: int, radii, colors: ColorLike | Sequence[ColorLike] = "white", x=0.0, y=0.0,
          background: ColorLike = "grey", positions=None, device: str | torch.device | None = None,
          dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ParamTable]:
    """Uniform discs on a uniform background.

    Parameters
    ----------
    size : int
        Image side in pixels.
    radii : float or sequence of float
        Disc radius as a fraction of the image side, in (0, sqrt(2)/2].
    colors : colour or list of colours
    x, y : float or sequence of float
        Disc centre in [-0.5, 0.5]; the grid crosses every x with every y.
    background : colour
    positions : (n, 2) array or None
        Paired (x, y) centres instead of the x-by-y grid (then ``x`` and ``y`` are ignored and
        the grid axis is ``position``, an index into this array).

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``radius, x, y, color`` (or ``radius, position, color``); columns
        ``color_r, color_g, color_b`` (and ``x, y``).
    """
    size = check_size(size)
    rad = _check_radii("radii", radii, allow_zero=False)
    bg = parse_color(background)
    if positions is None:
        xs, ys = _positions(x, y)
        table, rgb = _grid_table({"radius": rad, "x": xs, "y": ys}, {"color": color_list("colors", colors)})
    else:
        pos = check_positions(positions)
        table, rgb = _grid_table({"radius": rad, "position": np.arange(len(pos))},
                                 {"color": color_list("colors", colors)})
        expand_positions(table.columns, pos)
    return _draw_radial(size, table, table["radius"], None, rgb["color"], None, bg, device, dtype), table


def annuli(size: int, inner_radii, outer_radii=MAX_RADIUS, colors: ColorLike | Sequence[ColorLike] = "white",
           x=0.0, y=0.0, background: ColorLike = "grey", device: str | torch.device | None = None,
           dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ParamTable]:
    """Uniform rings (annuli) on a uniform background.

    Parameters
    ----------
    inner_radii : float or sequence of float
        Radius of the hole, in [0, sqrt(2)/2).
    outer_radii : float or sequence of float
        Outer radius, in (0, sqrt(2)/2] (the default fills the image beyond the hole); each
        must exceed every inner radius.
    size, colors, x, y, background
        As in :func:`discs`.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``inner_radius, outer_radius, x, y, color``.
    """
    size = check_size(size)
    inner = _check_radii("inner_radii", inner_radii, allow_zero=True)
    outer = _check_radii("outer_radii", outer_radii, allow_zero=False)
    _check_nested(inner, outer, "annulus")
    xs, ys = _positions(x, y)
    bg = parse_color(background)
    table, rgb = _grid_table({"inner_radius": inner, "outer_radius": outer, "x": xs, "y": ys},
                             {"color": color_list("colors", colors)})
    images = _draw_radial(size, table, table["inner_radius"], table["outer_radius"], bg, rgb["color"], bg,
                          device, dtype)
    return images, table


def center_surround(size: int, center_radii, surround_radii, center_colors: ColorLike | Sequence[ColorLike],
                    surround_colors: ColorLike | Sequence[ColorLike], x=0.0, y=0.0,
                    background: ColorLike = "grey", device: str | torch.device | None = None,
                    dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ParamTable]:
    """A centre disc in one colour inside a surround ring in another, on a background.

    Parameters
    ----------
    center_radii : float or sequence of float
        Radius of the centre disc, fraction of the image side (0 allowed: surround only).
    surround_radii : float or sequence of float
        Outer radius of the surround, at most sqrt(2)/2 (which fills the image); each must
        exceed every centre radius.
    center_colors, surround_colors : colour or list of colours
    size, x, y, background
        As in :func:`discs`.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``center_radius, surround_radius, x, y, center_color, surround_color``.
    """
    size = check_size(size)
    rc = _check_radii("center_radii", center_radii, allow_zero=True)
    rs = _check_radii("surround_radii", surround_radii, allow_zero=False)
    _check_nested(rc, rs, "centre")
    xs, ys = _positions(x, y)
    bg = parse_color(background)
    table, rgb = _grid_table({"center_radius": rc, "surround_radius": rs, "x": xs, "y": ys},
                             {"center_color": color_list("center_colors", center_colors),
                              "surround_color": color_list("surround_colors", surround_colors)})
    images = _draw_radial(size, table, table["center_radius"], table["surround_radius"], rgb["center_color"],
                          rgb["surround_color"], bg, device, dtype)
    return images, table


def bars(size: int, orientations=12, lengths=0.5, widths=0.1, offsets=0.0,
         colors: ColorLike | Sequence[ColorLike] = "white", x=0.0, y=0.0, background: ColorLike = "grey",
         device: str | torch.device | None = None, dtype: torch.dtype = torch.float32
         ) -> tuple[torch.Tensor, ParamTable]:
    """Bars (rectangles) on a background.

    Parameters
    ----------
    orientations : int or sequence of float
        Direction of the bar's long axis in degrees (0 = horizontal); an ``int`` ``n`` means
        ``n`` evenly spaced over [0, 180).
    lengths, widths : float or sequence of float
        In (0, sqrt(2)] (fractions of the image side).
    offsets : float or sequence of float
        Shift of the bar centre from (x, y) along the bar's normal, to sweep a bar across a
        receptive field.
    size, colors, x, y, background
        As in :func:`discs`.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``orientation, length, width, offset, x, y, color``.
    """
    size = check_size(size)
    ori = as_levels("orientations", orientations, count_to_levels=lambda n: np.arange(n) * 180.0 / n)
    ln, wd, off = as_levels("lengths", lengths), as_levels("widths", widths), as_levels("offsets", offsets)
    check_range("length", ln, 0.0, math.sqrt(2), low_open=True, why_high=_LENGTH_WHY)
    check_range("width", wd, 0.0, math.sqrt(2), low_open=True, why_high=_LENGTH_WHY)
    check_range("offset", np.abs(off), 0.0, MAX_RADIUS, why_high=" (the bar would leave the image)")
    xs, ys = _positions(x, y)
    table, rgb = _grid_table({"orientation": ori, "length": ln, "width": wd, "offset": off, "x": xs, "y": ys},
                             {"color": color_list("colors", colors)})
    long_u, norm_u = _rotated(size, table, device, dtype)
    px = 1.0 / size
    half_l = as_tensor(table["length"] / 2, device, dtype)[:, None, None]
    half_w = as_tensor(table["width"] / 2, device, dtype)[:, None, None]
    mask = soft_step(half_l - long_u.abs(), px) * soft_step(half_w - norm_u.abs(), px)
    return composite(mask, rgb["color"], parse_color(background)), table


def edges(size: int, orientations=12, offsets=0.0, colors: Sequence[ColorLike] = ("white", "black"),
          x=0.0, y=0.0, device: str | torch.device | None = None, dtype: torch.dtype = torch.float32
          ) -> tuple[torch.Tensor, ParamTable]:
    """Straight luminance or colour edges.

    The edge runs through ``(x, y) + offset * normal`` along ``orientation``; the side the
    normal ``(-sin, cos)`` points to (above a horizontal edge) takes the first colour.

    Parameters
    ----------
    orientations : int or sequence of float
        Edge direction in degrees (0 = horizontal); an ``int`` ``n`` means ``n`` evenly spaced
        over [0, 360), since an edge has a polarity.
    offsets : float or sequence of float
        Signed distance of the edge from (x, y), fraction of the image side.
    colors : pair of colours
    size, x, y
        As in :func:`discs`.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``orientation, offset, x, y``; constant columns ``color_a, color_b``.
    """
    size = check_size(size)
    ori = as_levels("orientations", orientations, count_to_levels=lambda n: np.arange(n) * 360.0 / n)
    off = as_levels("offsets", offsets)
    check_range("offset", np.abs(off), 0.0, MAX_RADIUS, why_high=" (the edge would leave the image)")
    xs, ys = _positions(x, y)
    names, rgb = color_list("colors", colors)
    if len(names) != 2:
        raise ValueError(f"colors must be a pair (one per side of the edge), got {names}")
    table, _ = _grid_table({"orientation": ori, "offset": off, "x": xs, "y": ys}, {})
    table.columns["color_a"] = np.full(len(table), names[0])
    table.columns["color_b"] = np.full(len(table), names[1])
    _, norm_u = _rotated(size, table, device, dtype)
    mask = soft_step(norm_u, 1.0 / size)
    return composite(mask, rgb[0], rgb[1]), table


def _rotated(size, table, device, dtype):
    """Coordinates along and across each stimulus' orientation, relative to its centre."""
    gx, gy = image_coords(size, size, device, dtype)
    th = torch.deg2rad(as_tensor(table["orientation"], device, dtype))[:, None, None]
    ux, uy = torch.cos(th), torch.sin(th)
    nx, ny = -uy, ux
    off = as_tensor(table["offset"], device, dtype)[:, None, None]
    cx = as_tensor(table["x"], device, dtype)[:, None, None] + off * nx
    cy = as_tensor(table["y"], device, dtype)[:, None, None] + off * ny
    dx, dy = gx[None] - cx, gy[None] - cy
    return dx * ux + dy * uy, dx * nx + dy * ny
