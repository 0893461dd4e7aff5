"""Tuning analyses recover the known preferences of model neurons, with honest intervals."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.characterise import (ColorTuning, ContrastResponse, FrequencyTuning, NotFittedError,
                                    OrientationTuning, SizeTuning)
from landscape.characterise.tuning_fits import circular_distance
from landscape.stimuli import gratings
from landscape.units import PoissonNoise
from landscape.units.model_neurons import CenterSurroundUnit, ColorOpponentUnit, GaborEnergyUnit, LuminanceUnit


@pytest.mark.parametrize("orientation, frequency, kind", [(63.0, 3.0, "complex"), (140.0, 7.0, "simple"),
                                                         (5.0, 1.7, "complex")])
def test_gabor_preferences_recovered_within_one_grid_step(orientation, frequency, kind):
    unit = GaborEnergyUnit(orientation, frequency, kind=kind, sigma=0.15, phase=30.0)
    ori = OrientationTuning(size=32, orientations=12).fit(unit)
    step_o = 180.0 / 12
    assert circular_distance(ori.preferred_orientation_, orientation) <= step_o
    assert circular_distance(ori.peak_orientation_, orientation) <= step_o
    assert ori.circular_variance_ < 0.5  # clearly orientation tuned
    assert 3.0 < ori.bandwidth_ < 45.0
    r = ori.responses_.reshape(1, -1)
    sf = FrequencyTuning(size=32, orientations=12).fit_responses(r, ori.baseline_)
    step_f = np.log2(sf.frequencies_[1] / sf.frequencies_[0])
    assert abs(np.log2(sf.preferred_frequency_ / frequency)) <= step_f
    assert abs(np.log2(sf.peak_frequency_ / frequency)) <= step_f
    assert 0.2 < sf.bandwidth_octaves_ < 4.0


def test_orientation_summary_shapes_and_untuned_unit():
    ori = OrientationTuning(size=32, orientations=8, frequencies=[2.0, 4.0], phases=2).fit(
        GaborEnergyUnit(45.0, 4.0))
    assert ori.responses_.shape == (1, 8, 2, 2) and ori.pooled_.shape == (8, 2) and ori.curve_.shape == (8,)
    s = ori.summary()
    assert s["analysis"] == "orientation" and len(s["curve"]) == 8
    # a disc-shaped luminance receptive field prefers no orientation
    iso = OrientationTuning(size=32).fit(LuminanceUnit(sigma=0.2))
    assert iso.circular_variance_ > 0.8


def test_noisy_unit_gives_intervals_that_cover_the_truth():
    noisy = PoissonNoise(GaborEnergyUnit(100.0, 4.0, gain=30.0), scale=1.0, seed=3)
    ori = OrientationTuning(size=32, orientations=12, frequencies=[2.0, 4.0, 8.0], phases=4, reps=6,
                            n_boot=100, seed=0).fit(noisy)
    assert ori.responses_.shape[0] == 6
    lo, hi = ori.preferred_orientation_ci_
    assert hi > lo  # noise gives a real interval
    assert lo - 1.0 <= 100.0 <= hi + 1.0
    assert hi - lo < 15.0
    # the same unit without noise has no measurement uncertainty: it is measured once, and asking it
    # for repetitions is an error (landscape.units.measure's one rule: they would all be identical)
    with pytest.raises(ValueError, match="noise-free unit"):
        OrientationTuning(size=32, orientations=12, frequencies=[2.0, 4.0, 8.0], reps=6).fit(noisy.unit)
    clean = OrientationTuning(size=32, orientations=12, frequencies=[2.0, 4.0, 8.0]).fit(noisy.unit)
    assert clean.responses_.shape[0] == 1
    assert clean.preferred_orientation_ci_[0] == clean.preferred_orientation_ci_[1]


def test_contrast_response_recovers_normalisation():
    unit = GaborEnergyUnit(20.0, 4.0, c50=0.25)
    cr = ContrastResponse(20.0, 4.0, size=32).fit(unit)
    assert cr.c50_ == pytest.approx(0.25, rel=0.05)
    assert cr.exponent_ == pytest.approx(2.0, rel=0.05)
    assert cr.rmax_ == pytest.approx(1.0, rel=0.05)


def test_center_surround_unit_shows_surround_suppression():
    cs = SizeTuning(size=32).fit(CenterSurroundUnit(center_sigma=0.05, surround_sigma=0.15, surround_weight=0.9))
    assert cs.suppression_index_ > 0.5
    assert 0.03 < cs.preferred_radius_ < 0.25
    assert cs.labels_[cs.best_] == "white"  # an ON-centre cell prefers the bright disc
    plain = SizeTuning(size=32).fit(LuminanceUnit(sigma=0.1))
    assert plain.suppression_index_ < 0.05
    off = SizeTuning(size=32).fit(CenterSurroundUnit(polarity="off"))
    assert off.labels_[off.best_] == "black"


def test_size_tuning_with_grating_patches():
    unit = GaborEnergyUnit(0.0, 6.0, sigma=0.08)
    st = SizeTuning(size=32, stimulus="grating", orientation=0.0, frequency=6.0).fit(unit)
    assert st.curves_.shape == (1, st.radii_.size)
    assert st.suppression_index_ == pytest.approx(0.0, abs=0.05)  # energy saturates, no surround
    with pytest.raises(ValueError, match="needs orientation and frequency"):
        SizeTuning(stimulus="grating")


def test_color_tuning_red_green_unit():
    ct = ColorTuning(size=32, hues=12).fit(ColorOpponentUnit("red", "green"))
    assert ct.color_class_ == "opponent"
    assert circular_distance(ct.peak_hue_, 0.0, 360) <= 30.0
    assert circular_distance(ct.trough_hue_, 180.0, 360) <= 30.0
    assert circular_distance(ct.preferred_hue_, 0.0, 360) <= 30.0
    lum = ColorTuning(size=32).fit(LuminanceUnit())
    assert lum.color_class_ != "opponent"
    assert abs(lum.white_ - lum.baseline_) > 0.1  # the unit responds, only not to hue
    assert np.isnan(lum.preferred_hue_)


def test_fit_responses_offline_matches_fit():
    unit = GaborEnergyUnit(30.0, 4.0)
    a = OrientationTuning(size=32, orientations=6, frequencies=[2.0, 4.0, 8.0], phases=2)
    images, params = a.stimuli()
    offline = OrientationTuning(size=32, orientations=6, frequencies=[2.0, 4.0, 8.0], phases=2).fit_responses(
        unit(images).numpy(), 0.0)
    a.fit(unit)
    assert offline.preferred_orientation_ == pytest.approx(a.preferred_orientation_)
    assert len(params) == 36


def test_repr_errors_and_not_fitted():
    a = OrientationTuning(size=32, orientations=6)
    assert repr(a) == "OrientationTuning(orientations=6)"
    with pytest.raises(NotFittedError):
        a.summary()
    with pytest.raises(ValueError, match="must be positive"):
        OrientationTuning(frequencies=[-1.0, 2.0])
    with pytest.raises(ValueError, match="phase_pool"):
        OrientationTuning(phase_pool="median")
    with pytest.raises(ValueError, match="reps"):
        OrientationTuning(reps=0)
    with pytest.raises(ValueError, match="radii must increase"):
        SizeTuning(radii=[0.3, 0.1])
    with pytest.raises(ValueError, match="expected 36"):
        OrientationTuning(size=32, orientations=6, frequencies=[2.0, 4.0, 8.0], phases=2).fit_responses(
            np.zeros(35), 0.0)


def test_grating_set_is_one_batch_by_default():
    calls = []

    class Counting(GaborEnergyUnit):
        def clean(self, images):
            calls.append(images.shape[0])
            return super().clean(images)

    OrientationTuning(size=32, orientations=12, frequencies=np.geomspace(1, 12, 8), phases=4).fit(
        Counting(0.0, 4.0))
    assert calls == [12 * 8 * 4 + 1]  # the whole grid plus the grey baseline in one call
    assert len(gratings(32, 12, np.geomspace(1, 12, 8), 4)[1]) == 384
