"""Images as PNG bytes for ``ipywidgets.Image`` and HTML pages."""

from __future__ import annotations

import base64

import numpy as np
import torch

from ..io import image_to_uint8, png_bytes

__all__ = ["to_uint8", "png_bytes", "image_strip", "data_uri"]

#: one image as (H, W, 3) uint8 / as PNG bytes: the toolkit's one converter (landscape.io)
to_uint8 = image_to_uint8


def image_strip(images: torch.Tensor, pad: int = 2) -> torch.Tensor:
    """(n, 3, H, W) -> one (3, H, n*W + (n-1)*pad) image on a white background."""
    n, c, h, w = images.shape
    out = torch.ones(c, h, n * w + (n - 1) * pad, dtype=images.dtype)
    for i in range(n):
        out[:, :, i * (w + pad):i * (w + pad) + w] = images[i].detach().cpu()
    return out


def data_uri(image: torch.Tensor | np.ndarray, scale: int = 1) -> str:
    """``data:image/png;base64,...`` for embedding in HTML."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, scale)).decode()
