"""geometry: the Riemannian metric of a generator's image manifold (Wang & Ponce, ICLR 2021).

Works with any differentiable ``codes (B, d) -> images (B, 3, H, W)`` callable and imports
nothing from ``landscape``. Importing this package loads no model and touches no GPU; it
imports torch, which every module here needs.

Modules
-------
distances   image distances: PixelMSE, LPIPS (calibrated or over any CNN trunk)
trunks      AlexNet / VGG16 / SqueezeNet 1.1 with torchvision's state-dict layout
weights     the published weight files' sha256 digests, checked on every load
hessian     hessian(G, z, distance, method="full" | "lanczos" | "fd"), MetricHVP, hessians
spectrum    anisotropy statistics (dimensions holding 99% of the eigenvalue sum, effective rank)
homogeneity how alike the metric is across positions; the averaged Hessian and its eigenbasis
axis_walks  image strips along eigenvectors (linear and spherical walks)
control     the weight-shuffled control generator
inversion   GAN inversion (image -> code), optionally in a handed eigenbasis
"""

from __future__ import annotations

# Importing a submodule binds its name here, so `geometry.hessian` is the module; its function
# of the same name is `geometry.hessian.hessian`.
from geometry.axis_walks import axis_strips, axis_walk
from geometry.control import shuffled_control
from geometry.distances import LPIPS, PixelMSE
from geometry.hessian import HessianResult, HessianStack, MetricHVP, hessians
from geometry.homogeneity import AverageHessian, Homogeneity
from geometry.inversion import Inversion
from geometry.spectrum import SpectrumStats, dims_for_fraction, effective_rank

__all__ = ["AverageHessian", "HessianResult", "HessianStack", "Homogeneity", "Inversion", "LPIPS", "MetricHVP",
           "PixelMSE", "SpectrumStats", "axis_strips", "axis_walk", "dims_for_fraction", "effective_rank", "hessians",
           "shuffled_control"]
