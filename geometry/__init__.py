"""geometry: the Riemannian metric of a generator's image manifold (Wang & Ponce, ICLR 2021).

Works with any differentiable ``codes (B, d) -> images (B, 3, H, W)`` callable and imports
nothing from ``landscape``. Importing this package loads no model and touches no GPU: every
name below is resolved on first use.

Modules
-------
distances   image distances: PixelMSE, LPIPS (calibrated or over any CNN trunk)
trunks      AlexNet / VGG16 / SqueezeNet 1.1 with torchvision's state-dict layout
weights     the published weight files' sha256 digests, checked on every load
hessian     hessian(G, z, distance, method="full" | "lanczos" | "fd"), MetricHVP, hessians
spectrum    anisotropy statistics (dimensions holding 99% of the eigenvalue sum, effective rank)
homogeneity how alike the metric is across positions; the averaged Hessian and its eigenbasis
axes        image strips along eigenvectors (linear and spherical walks)
control     the weight-shuffled control generator
inversion   GAN inversion (image -> code), optionally in a handed eigenbasis
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "hessians": "geometry.hessian",
    "HessianResult": "geometry.hessian",
    "HessianStack": "geometry.hessian",
    "MetricHVP": "geometry.hessian",
    "PixelMSE": "geometry.distances",
    "LPIPS": "geometry.distances",
    "SpectrumStats": "geometry.spectrum",
    "dims_for_fraction": "geometry.spectrum",
    "effective_rank": "geometry.spectrum",
    "Homogeneity": "geometry.homogeneity",
    "AverageHessian": "geometry.homogeneity",
    "axis_walk": "geometry.axes",
    "axis_strips": "geometry.axes",
    "shuffled_control": "geometry.control",
    "Inversion": "geometry.inversion",
}
# `geometry.hessian` is the module (importing a submodule binds its name on the package, so a
# lazily exported function of the same name would flip identity): use
# `from geometry.hessian import hessian`.
_SUBMODULES = ("hessian", "distances", "trunks", "spectrum", "homogeneity", "axes", "control", "inversion")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"geometry.{name}")
    raise AttributeError(f"module 'geometry' has no attribute {name!r}")


__all__ = sorted(_LAZY)

