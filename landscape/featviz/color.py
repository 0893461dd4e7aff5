"""Colour decorrelation: optimise in a colour space where natural-image channels are uncorrelated.

RGB channels of natural images are strongly correlated, so a gradient step taken independently
per channel produces saturated, "crazy" colours (seed 002; Olah et al. 2017). Optimising
coordinates ``u`` with ``rgb = M u``, where ``M M^T`` is the ImageNet RGB covariance (``M`` is
its square root, from lucid's SVD), makes an isotropic step in ``u`` a step along natural
colour statistics. The maxima of the objective do not move; the loss surface does.
"""

from __future__ import annotations

import torch

#: Square root of the ImageNet RGB covariance (lucid/lucent ``color_correlation_svd_sqrt``);
#: rows are R, G, B output channels, columns the decorrelated input channels.
COLOR_CORRELATION_SVD_SQRT = torch.tensor([[0.26, 0.09, 0.02],
                                           [0.27, 0.00, -0.05],
                                           [0.27, -0.09, 0.03]], dtype=torch.float64)

#: Normalised so the largest column has unit norm, as lucid does: a unit step in any
#: decorrelated channel moves RGB by at most 1.
COLOR_CORRELATION = COLOR_CORRELATION_SVD_SQRT / COLOR_CORRELATION_SVD_SQRT.norm(dim=0).max()

#: ImageNet mean colour (lucid), the centre of the clamp parameterisation in decorrelated mode.
COLOR_MEAN = (0.48, 0.46, 0.41)


def _apply(matrix: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    m = matrix.to(device=images.device, dtype=images.dtype)
    return torch.einsum("ij,bjhw->bihw", m, images)


def correlate_color(decorrelated: torch.Tensor) -> torch.Tensor:
    """Map decorrelated colour coordinates to (unbounded) RGB: ``rgb = M u`` per pixel.

    Parameters
    ----------
    decorrelated : (B, 3, H, W) tensor

    Returns
    -------
    rgb : (B, 3, H, W) tensor, differentiable
    """
    if decorrelated.ndim != 4 or decorrelated.shape[1] != 3:
        raise ValueError(f"expected a (B, 3, H, W) tensor, got shape {tuple(decorrelated.shape)}")
    return _apply(COLOR_CORRELATION, decorrelated)


def decorrelate_color(rgb: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`correlate_color`: ``u = M^{-1} rgb`` per pixel.

    Parameters
    ----------
    rgb : (B, 3, H, W) tensor

    Returns
    -------
    decorrelated : (B, 3, H, W) tensor
    """
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"expected a (B, 3, H, W) tensor, got shape {tuple(rgb.shape)}")
    return _apply(torch.linalg.inv(COLOR_CORRELATION), rgb)
