"""What the PNG pictures share: one viridis colour map, plot axes and images for Pillow.

PNGs are drawn with Pillow only (no matplotlib, no browser), so they are written anywhere the
toolkit runs.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

# viridis at 9 evenly spaced stops (matplotlib's table), interpolated linearly
_VIRIDIS = np.array([[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
                     [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], float)


def colormap(x: np.ndarray) -> np.ndarray:
    """Viridis colours for values in [0, 1] (NaN -> grey); shape (..., 3) uint8."""
    x = np.asarray(x, float)
    pos = np.clip(np.nan_to_num(x, nan=0.0), 0, 1) * (len(_VIRIDIS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_VIRIDIS) - 2)
    frac = (pos - lo)[..., None]
    rgb = _VIRIDIS[lo] * (1 - frac) + _VIRIDIS[lo + 1] * frac
    rgb[np.isnan(x)] = 128
    return rgb.round().astype(np.uint8)


def plot_axes(draw: Any, box: tuple[int, int, int, int], xr: tuple[float, float], yr: tuple[float, float],
              xlabel: str, ylabel: str) -> Callable[[Any, Any], tuple[np.ndarray, np.ndarray]]:
    """Draw a frame with three ticks per axis; return ``to_px(x, y)`` for data coordinates.

    Parameters
    ----------
    draw : PIL.ImageDraw.ImageDraw
    box : (x0, y0, x1, y1) pixels of the frame
    xr, yr : data ranges shown along x and y
    xlabel, ylabel : axis titles
    """
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline="black")
    for frac in (0.0, 0.5, 1.0):
        xv = xr[0] + frac * (xr[1] - xr[0])
        yv = yr[0] + frac * (yr[1] - yr[0])
        px = x0 + frac * (x1 - x0)
        py = y1 - frac * (y1 - y0)
        draw.line([px, y1, px, y1 + 4], fill="black")
        draw.text((px - 12, y1 + 6), f"{xv:.3g}", fill="black")
        draw.line([x0 - 4, py, x0, py], fill="black")
        draw.text((4, py - 6), f"{yv:.3g}", fill="black")
    draw.text(((x0 + x1) / 2 - 3 * len(xlabel), y1 + 22), xlabel, fill="black")
    draw.text((4, y0 - 18), ylabel, fill="black")

    def to_px(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        sx = (x1 - x0) / ((xr[1] - xr[0]) or 1.0)
        sy = (y1 - y0) / ((yr[1] - yr[0]) or 1.0)
        return x0 + (np.asarray(x) - xr[0]) * sx, y1 - (np.asarray(y) - yr[0]) * sy
    return to_px


def image_pil(image: Any, side: int) -> Any:
    """One image ((3, H, W) in [0, 1]) as a ``side`` x ``side`` PIL image: small stimuli keep
    their pixels (nearest), large ones are smoothed down (bilinear)."""
    from PIL import Image

    from landscape.io import image_to_uint8

    im = Image.fromarray(image_to_uint8(image))
    return im.resize((side, side), Image.NEAREST if max(im.size) < side else Image.BILINEAR)
