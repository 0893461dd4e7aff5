"""Images as PNG bytes for ``ipywidgets.Image`` and HTML pages."""

from __future__ import annotations

import base64
import io

import numpy as np
import torch


def to_uint8(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """(3, H, W) tensor/array in [0, 1] -> (H, W, 3) uint8."""
    x = image.detach().float().cpu().numpy() if torch.is_tensor(image) else np.asarray(image, dtype=np.float32)
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"image must have shape (3, H, W), got {x.shape}")
    return (np.clip(x, 0, 1).transpose(1, 2, 0) * 255).round().astype(np.uint8)


def png_bytes(image: torch.Tensor | np.ndarray, scale: int = 1) -> bytes:
    """PNG encoding of one image (3, H, W) in [0, 1], enlarged ``scale`` times (nearest)."""
    from PIL import Image

    im = Image.fromarray(to_uint8(image))
    if scale > 1:
        im = im.resize((im.width * scale, im.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


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
