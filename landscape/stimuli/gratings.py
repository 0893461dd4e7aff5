"""Sinusoidal and square-wave gratings, and Gabor patches."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from landscape.stimuli._render import as_tensor, color_list
from landscape.stimuli.colors import ColorLike
from landscape.stimuli.coordinates import (as_levels, carrier_phase, check_frequencies, check_positions, check_range,
                                        check_size, expand_positions, image_coords)
from landscape.stimuli.param_table import ParamTable, product_table

WAVEFORMS = ("sine", "square")


def _orientation_levels(orientations) -> np.ndarray:
    return as_levels("orientations", orientations, count_to_levels=lambda n: np.arange(n) * 180.0 / n)


def _phase_levels(phases) -> np.ndarray:
    return as_levels("phases", phases, count_to_levels=lambda n: np.arange(n) * 360.0 / n)


def _color_pair(colors: Sequence[ColorLike]) -> tuple[list[str], np.ndarray]:
    names, rgb = color_list("colors", colors)
    if len(names) != 2:
        raise ValueError(f"colors must be a pair (peak colour, trough colour), got {len(names)}: {names}")
    return names, rgb


def _modulate(wave: torch.Tensor, contrast: torch.Tensor, rgb: np.ndarray) -> torch.Tensor:
    """mean colour + contrast * wave * half the colour difference; (N, H, W) -> (N, 3, H, W)."""
    a = torch.as_tensor(rgb[0], dtype=wave.dtype, device=wave.device)
    b = torch.as_tensor(rgb[1], dtype=wave.dtype, device=wave.device)
    mid, half = (a + b) / 2, (a - b) / 2
    img = mid[None, :, None, None] + (contrast[:, None, None, None] * wave[:, None]) * half[None, :, None, None]
    return img.clamp(0.0, 1.0)


def _waveform(phase: torch.Tensor, waveform: str) -> torch.Tensor:
    if waveform not in WAVEFORMS:
        raise ValueError(f"waveform must be one of {WAVEFORMS}, got {waveform!r}")
    c = torch.cos(phase)
    return c if waveform == "sine" else torch.where(c >= 0, torch.ones_like(c), -torch.ones_like(c))


def gratings(size: int, orientations=12, frequencies=4.0, phases=4, contrasts=1.0,
             colors: Sequence[ColorLike] = ("white", "black"), waveform: str = "sine",
             device: str | torch.device | None = None, dtype: torch.dtype = torch.float32, render: bool = True
             ) -> tuple[torch.Tensor | None, ParamTable]:
    """Full-field gratings over a grid of orientation x frequency x phase x contrast.

    Parameters
    ----------
    size : int
        Image side in pixels.
    orientations : int or sequence of float
        Bar orientation in degrees (0 = horizontal bars, 90 = vertical). An ``int`` ``n``
        means ``n`` orientations evenly spaced over [0, 180).
    frequencies : float or sequence of float
        Cycles per image side; positive and at most ``size / 2`` (Nyquist).
    phases : int or sequence of float
        Phase in degrees at the image centre (0: a peak-colour bar through the centre).
        An ``int`` ``n`` means ``n`` phases evenly spaced over [0, 360).
    contrasts : float or sequence of float in [0, 1]
    colors : pair of colours
        (peak, trough); the mean of the two is the mean of every grating.
    waveform : {"sine", "square"}
    render : bool
        ``False`` checks the parameters and returns ``(None, params)`` without drawing.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``orientation, frequency, phase, contrast``; constant columns
        ``color_peak, color_trough, waveform``.
    """
    size = check_size(size)
    ori = _orientation_levels(orientations)
    freq = as_levels("frequencies", frequencies)
    check_frequencies(freq, size)
    ph = _phase_levels(phases)
    con = as_levels("contrasts", contrasts)
    check_range("contrast", con, 0.0, 1.0)
    names, rgb = _color_pair(colors)
    table = product_table({"orientation": ori, "frequency": freq, "phase": ph, "contrast": con},
                          {"color_peak": names[0], "color_trough": names[1], "waveform": waveform})
    if waveform not in WAVEFORMS:
        raise ValueError(f"waveform must be one of {WAVEFORMS}, got {waveform!r}")
    if not render:
        return None, table
    x, y = image_coords(size, size, device, dtype)
    t = {k: as_tensor(table[k], device, dtype) for k in ("orientation", "frequency", "phase", "contrast")}
    wave = _waveform(carrier_phase(x, y, t["orientation"], t["frequency"], t["phase"]), waveform)
    return _modulate(wave, t["contrast"], rgb), table


def gabors(size: int, orientations=12, frequencies=4.0, phases=4, sigmas=0.1, x=0.0, y=0.0,
           contrasts=1.0, colors: Sequence[ColorLike] = ("white", "black"), positions=None,
           device: str | torch.device | None = None, dtype: torch.dtype = torch.float32
           ) -> tuple[torch.Tensor, ParamTable]:
    """Gabor patches: a sinusoidal grating under a Gaussian window, on the mean colour.

    Parameters
    ----------
    size, orientations, frequencies, phases, contrasts, colors
        As in :func:`gratings`; the phase is measured at the patch centre.
    sigmas : float or sequence of float
        Standard deviation of the Gaussian window, as a fraction of the image side, in
        (0, 0.5]; use :func:`gratings` for full-field stimuli.
    x, y : float or sequence of float
        Patch centre in [-0.5, 0.5] (fractions of the image side; y points up); the grid
        crosses every x with every y.
    positions : (n, 2) array or None
        Paired (x, y) centres instead of the x-by-y grid (grid axis ``position``, an index
        into this array; columns ``x, y``).

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``orientation, frequency, phase, sigma, x, y, contrast`` (``position``
        in place of ``x, y`` when ``positions`` is given).
    """
    size = check_size(size)
    ori = _orientation_levels(orientations)
    freq = as_levels("frequencies", frequencies)
    check_frequencies(freq, size)
    ph = _phase_levels(phases)
    sig = as_levels("sigmas", sigmas)
    check_range("sigma", sig, 0.0, 0.5, low_open=True,
                why_high=" of the image side (a larger window is larger than the image; use gratings)")
    con = as_levels("contrasts", contrasts)
    check_range("contrast", con, 0.0, 1.0)
    names, rgb = _color_pair(colors)
    if positions is None:
        xs, ys = as_levels("x", x), as_levels("y", y)
        check_range("x", xs, -0.5, 0.5, why_high=" (positions are fractions of the image side from the centre)")
        check_range("y", ys, -0.5, 0.5, why_high=" (positions are fractions of the image side from the centre)")
        place = {"x": xs, "y": ys}
    else:
        pos = check_positions(positions)
        place = {"position": np.arange(len(pos))}
    table = product_table({"orientation": ori, "frequency": freq, "phase": ph, "sigma": sig, **place,
                           "contrast": con}, {"color_peak": names[0], "color_trough": names[1]})
    if positions is not None:
        expand_positions(table.columns, pos)
    gx, gy = image_coords(size, size, device, dtype)
    t = {k: as_tensor(table[k], device, dtype) for k in ("orientation", "frequency", "phase", "sigma", "x", "y",
                                                         "contrast")}
    dx = gx[None] - t["x"][:, None, None]
    dy = gy[None] - t["y"][:, None, None]
    th = torch.deg2rad(t["orientation"])[:, None, None]
    u = dx * -torch.sin(th) + dy * torch.cos(th)
    wave = torch.cos(2 * torch.pi * t["frequency"][:, None, None] * u + torch.deg2rad(t["phase"])[:, None, None])
    env = torch.exp(-(dx ** 2 + dy ** 2) / (2 * t["sigma"][:, None, None] ** 2))
    return _modulate(wave * env, t["contrast"], rgb), table


def grating_patches(size: int, radii, orientations=0.0, frequencies=4.0, phases=4, contrasts=1.0, x=0.0, y=0.0,
                    colors: Sequence[ColorLike] = ("white", "black"), device: str | torch.device | None = None,
                    dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ParamTable]:
    """Gratings seen through a circular aperture on the mean colour (for size tuning).

    Parameters
    ----------
    radii : float or sequence of float
        Aperture radius, fraction of the image side, in (0, sqrt(2)/2] (the largest fills the
        image from the centre).
    x, y : float
        Aperture centre; the grating's phase is measured there.
    size, orientations, frequencies, phases, contrasts, colors
        As in :func:`gratings`.

    Returns
    -------
    images : (N, 3, size, size) tensor in [0, 1]
    params : ParamTable
        Grid axes ``radius, orientation, frequency, phase, contrast``; columns ``x, y``.
    """
    from landscape.stimuli.coordinates import MAX_RADIUS, soft_step

    size = check_size(size)
    rad = as_levels("radii", radii)
    check_range("radius", rad, 0.0, MAX_RADIUS, low_open=True,
                why_high=f" of the image side (an aperture of radius {MAX_RADIUS:.4f} already shows the whole image)")
    ori = _orientation_levels(orientations)
    freq = as_levels("frequencies", frequencies)
    check_frequencies(freq, size)
    ph = _phase_levels(phases)
    con = as_levels("contrasts", contrasts)
    check_range("contrast", con, 0.0, 1.0)
    for n, v in (("x", x), ("y", y)):
        check_range(n, np.array([v], dtype=float), -0.5, 0.5)
    names, rgb = _color_pair(colors)
    table = product_table({"radius": rad, "orientation": ori, "frequency": freq, "phase": ph, "contrast": con},
                          {"x": float(x), "y": float(y), "color_peak": names[0], "color_trough": names[1]})
    gx, gy = image_coords(size, size, device, dtype)
    t = {k: as_tensor(table[k], device, dtype) for k in ("radius", "orientation", "frequency", "phase", "contrast")}
    wave = torch.cos(carrier_phase(gx, gy, t["orientation"], t["frequency"], t["phase"], center=(float(x), float(y))))
    r = torch.sqrt((gx - x) ** 2 + (gy - y) ** 2)[None]
    aperture = soft_step(t["radius"][:, None, None] - r, 1.0 / size)
    return _modulate(wave * aperture, t["contrast"], rgb), table
