"""Neurons: callables that turn images (B, 3, H, W) in [0, 1] into scores (B,)."""

from __future__ import annotations

import importlib
from typing import Any

from .base import Unit, check_images
from .cnn import CNNUnit, layers
from .noise import GaussianNoise, PoissonNoise, calibrated_poisson
from .spec import build_unit, parse_noise, unit_from_description

__all__ = ["Unit", "CNNUnit", "layers", "PoissonNoise", "GaussianNoise", "calibrated_poisson", "parse_noise",
           "check_images", "build_unit", "unit_from_description"]


def __getattr__(name: str) -> Any:
    # model neurons live in their own module; resolve them on first use
    mod = importlib.import_module("landscape.units.model_neurons")
    if hasattr(mod, name):
        return getattr(mod, name)
    raise AttributeError(f"module 'landscape.units' has no attribute {name!r}")
