"""Opponency classes of built model neurons, and the crossing rule behind them."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.characterise import Opponency
from landscape.characterise.classify import combine_classes, crossing_class, excursion_signs
from landscape.units import GaussianNoise
from landscape.units.model_neurons import CenterSurroundUnit, ColorOpponentUnit, GaborEnergyUnit, LuminanceUnit


@pytest.mark.parametrize("unit, expected", [
    (ColorOpponentUnit("red", "green"), "color-opponent"),
    (ColorOpponentUnit("blue", "yellow", baseline=3.0), "color-opponent"),
    (LuminanceUnit(), "non-opponent"),
    (LuminanceUnit(polarity="off", baseline=-2.0), "non-opponent"),
    (CenterSurroundUnit(color="luminance"), "spatially-opponent"),
    (CenterSurroundUnit(color="double"), "double-opponent"),
    (GaborEnergyUnit(0.0, 4.0), "non-opponent"),
])
@pytest.mark.slow
def test_model_neurons_are_classified_as_built(unit, expected):
    op = Opponency(size=32).fit(unit)
    assert op.class_ == expected, (op.color_class_, op.spatial_class_, op.spatial_classes_)


def test_red_on_green_off_unit_crosses_baseline_and_luminance_unit_does_not():
    rg = Opponency(size=32).fit(ColorOpponentUnit("red", "green"))
    assert rg.color_class_ == "opponent" and rg.spatial_class_ != "opponent"
    curve = rg.hue_curves_[0]
    assert curve.max() > rg.baseline_ > curve.min()
    lum = Opponency(size=32).fit(LuminanceUnit())
    assert lum.color_class_ != "opponent" and lum.spatial_class_ == "non-opponent"
    assert lum.disc_curves_[0].min() > lum.baseline_  # white discs only ever excite an ON unit


def test_type_one_cell_is_colour_opponent_and_reads_as_double_operationally():
    op = Opponency(size=32).fit(CenterSurroundUnit(color="single"))
    assert op.color_class_ == "opponent"
    assert op.spatial_classes_["white"] == "opponent"  # achromatic centre-surround antagonism
    assert op.spatial_classes_["red"] == "non-opponent"  # but no antagonism within one cone input
    assert op.class_ == "double-opponent"


def test_balanced_double_opponent_needs_a_centre_aperture():
    unit = CenterSurroundUnit(color="double", surround_weight=1.0)
    assert Opponency(size=32).fit(unit).color_class_ != "opponent"  # full-field colour cancels
    assert Opponency(size=32, hue_radii=(None, 0.08)).fit(unit).class_ == "double-opponent"


def test_noise_does_not_create_opponency():
    # multiplicative noise around a positive baseline: without the standard-error term the
    # scatter of a luminance unit at isoluminance would look like crossings
    noisy = GaussianNoise(LuminanceUnit(baseline=5.0), sigma=0.05, seed=0)
    op = Opponency(size=32, reps=8).fit(noisy)
    assert op.color_class_ != "opponent"
    noisy_rg = GaussianNoise(ColorOpponentUnit(baseline=5.0), sigma=0.02, seed=0)
    assert Opponency(size=32, reps=8).fit(noisy_rg).color_class_ == "opponent"


def test_crossing_rule():
    exc = np.array([[0.5, 0.01, 0.0], [-0.4, -0.01, 0.0], [0.0, 0.3, 0.0]])
    signs = excursion_signs(exc, scale=np.abs(exc).max(0), rtol=0.05)
    assert signs.tolist() == [[1, 0, 0], [-1, 0, 0], [0, 1, 0]]
    assert crossing_class(signs).tolist() == ["opponent", "non-opponent", "unresponsive"]
    se = np.full_like(exc, 0.3)
    assert crossing_class(excursion_signs(exc, np.abs(exc).max(0), se, z=2.0)).tolist() == [
        "unresponsive"] * 3
    assert combine_classes(np.array(["opponent", "opponent", "non-opponent", "unresponsive"]),
                           np.array(["opponent", "non-opponent", "opponent", "unresponsive"])).tolist() == [
        "double-opponent", "color-opponent", "spatially-opponent", "unresponsive"]


def test_offline_classification_and_errors():
    op = Opponency(size=16, hues=6, spatial_colors=["white"], radii=[0.1, 0.3])
    images, table = op.stimuli()
    assert len(table) == images.shape[0] == 6 + 2 * 2
    unit = LuminanceUnit()
    base = unit(op.baseline_images()).numpy()
    op.fit_responses(unit(images).numpy(), base[None])
    assert op.class_ == "non-opponent"
    with pytest.raises(ValueError, match="list of colours"):
        Opponency(spatial_colors="white")
    with pytest.raises(ValueError, match="valid names"):
        Opponency(spatial_colors=["white", "ultraviolet"])
