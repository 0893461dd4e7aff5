"""Named colours, luminance, and hues at a fixed luminance.

Colours are RGB triples in [0, 1] (the same space as the images every unit sees). Luminance is
the Rec. 601 luma ``0.299 R + 0.587 G + 0.114 B``: a display-independent stand-in for
photometric luminance, so "fixed luminance" means fixed luma.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np

#: Rec. 601 luma weights for (R, G, B)
LUMINANCE_WEIGHTS = np.array([0.299, 0.587, 0.114])

#: colours that can be named anywhere a colour is accepted
COLORS: dict[str, tuple[float, float, float]] = {
    "black": (0.0, 0.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "grey": (0.5, 0.5, 0.5),
    "gray": (0.5, 0.5, 0.5),
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
}

ColorLike = Union[str, Sequence[float], np.ndarray]


def parse_color(color: ColorLike) -> np.ndarray:
    """Return a colour as an RGB array.

    Parameters
    ----------
    color : str or (3,) sequence of floats in [0, 1]
        A name from :data:`COLORS` or an RGB triple.

    Returns
    -------
    rgb : (3,) float64 array in [0, 1]
    """
    if isinstance(color, str):
        key = color.strip().lower()
        if key not in COLORS:
            raise ValueError(f"unknown colour {color!r}; valid names are {sorted(COLORS)} "
                             "(or give an RGB triple in [0, 1])")
        return np.array(COLORS[key], dtype=np.float64)
    rgb = np.asarray(color, dtype=np.float64)
    if rgb.shape != (3,):
        raise ValueError(f"a colour must be a name from {sorted(COLORS)} or an RGB triple, got {color!r}")
    if not np.all(np.isfinite(rgb)) or rgb.min() < 0 or rgb.max() > 1:
        raise ValueError(f"RGB components must lie in [0, 1], got {tuple(rgb.tolist())}")
    return rgb


def color_name(color: ColorLike) -> str:
    """A printable label for a colour: its name, or ``"rgb(r,g,b)"``."""
    if isinstance(color, str):
        parse_color(color)
        return color.strip().lower()
    r, g, b = parse_color(color)
    return f"rgb({r:.3g},{g:.3g},{b:.3g})"


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of RGB values; ``rgb`` has shape (..., 3), result (...)."""
    return np.asarray(rgb, dtype=np.float64) @ LUMINANCE_WEIGHTS


def _isoluminant_axes() -> tuple[np.ndarray, np.ndarray]:
    # Two unit directions with zero luma, like the cone-opponent axes of DKL space:
    # "L-M" (red vs green) and "S-(L+M)" (blue vs yellow).
    w = LUMINANCE_WEIGHTS
    red_green = np.array([1.0, -w[0] / w[1], 0.0])
    t = w[2] / (w[0] + w[1])
    blue_yellow = np.array([-t, -t, 1.0])
    # make the second orthogonal to the first while keeping zero luma
    blue_yellow = blue_yellow - red_green * (blue_yellow @ red_green) / (red_green @ red_green)
    return red_green / np.linalg.norm(red_green), blue_yellow / np.linalg.norm(blue_yellow)


def hue_directions(hues_deg: np.ndarray) -> np.ndarray:
    """Unit RGB directions of zero luminance for hue angles.

    Hue 0 points to red (the "L-M" axis), 90 to blue ("S-(L+M)"), 180 to green-cyan,
    270 to yellow.

    Parameters
    ----------
    hues_deg : (n,) array of angles in degrees

    Returns
    -------
    directions : (n, 3) array, each row of unit norm with zero luma
    """
    a, b = _isoluminant_axes()
    h = np.deg2rad(np.asarray(hues_deg, dtype=np.float64))
    return np.cos(h)[:, None] * a + np.sin(h)[:, None] * b


def max_isoluminant_saturation(luminance: float) -> float:
    """Largest saturation at which every hue at ``luminance`` stays inside the RGB cube.

    Checked on a 1-degree hue circle, so the value does not depend on which hues a sweep uses.
    """
    if not 0.0 < luminance < 1.0:
        raise ValueError(f"luminance must lie strictly between 0 and 1, got {luminance}")
    d = hue_directions(np.arange(360.0))
    with np.errstate(divide="ignore"):
        up = np.where(d > 0, (1.0 - luminance) / d, np.inf)
        down = np.where(d < 0, -luminance / d, np.inf)
    return float(np.minimum(up, down).min())


def isoluminant_colors(hues_deg: np.ndarray, luminance: float = 0.5,
                       saturation: float | None = None) -> tuple[np.ndarray, float]:
    """RGB colours of the given hues, all with the same luminance.

    Parameters
    ----------
    hues_deg : (n,) array of hue angles in degrees (see :func:`hue_directions`)
    luminance : float in (0, 1)
    saturation : float or None
        Distance from the grey of the same luminance, in RGB units. ``None`` takes the largest
        value at which all hues fit in the RGB cube.

    Returns
    -------
    rgb : (n, 3) array in [0, 1]
    saturation : float actually used
    """
    s_max = max_isoluminant_saturation(luminance)
    if saturation is None:
        saturation = s_max
    if not 0.0 <= saturation <= s_max + 1e-12:
        raise ValueError(f"saturation {saturation} is outside [0, {s_max:.4f}], the range in which "
                         f"every hue at luminance {luminance} fits in the RGB cube")
    rgb = luminance + saturation * hue_directions(hues_deg)
    return np.clip(rgb, 0.0, 1.0), float(saturation)
