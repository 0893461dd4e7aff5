"""Neurons: callables that turn images (B, 3, H, W) in [0, 1] into scores (B,).

Units compose like the maths: ``unit_a - 0.5 * unit_b`` is a :class:`UnitCombination`.
"""

from __future__ import annotations

from .base import Unit, UnitCombination, check_images
from .cnn import CNNUnit, layers
from .model_neurons import (CenterSurroundUnit, CodeTemplateUnit, ColorOpponentUnit, GaborEnergyUnit, LuminanceUnit,
                            TemplateUnit)
from .noise import GaussianNoise, PoissonNoise, calibrated_poisson
from .spec import build_unit, parse_noise, unit_from_description

__all__ = ["Unit", "UnitCombination", "CNNUnit", "layers", "PoissonNoise", "GaussianNoise", "calibrated_poisson",
           "parse_noise", "check_images", "build_unit", "unit_from_description", "GaborEnergyUnit", "TemplateUnit",
           "CodeTemplateUnit", "ColorOpponentUnit", "LuminanceUnit", "CenterSurroundUnit"]
