"""Model neurons: their known preferences hold, they follow the images' device and dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from landscape import stimuli as S
from landscape.units import Unit
from landscape.units.model_neurons import (CenterSurroundUnit, CodeTemplateUnit, ColorOpponentUnit,
                                           GaborEnergyUnit, LuminanceUnit, TemplateUnit)


@pytest.mark.parametrize("size", [32, 64])
def test_gabor_energy_preferred_grating_gives_one_at_any_size(size):
    u = GaborEnergyUnit(orientation=30.0, frequency=4.0)
    im, p = S.gratings(size, orientations=12, frequencies=[2.0, 4.0, 8.0], phases=8)
    r = p.grid(u(im).numpy())[..., 0]  # (ori, freq, phase)
    # phase invariance of the energy at the preferred grating
    assert np.allclose(r[2, 1], 1.0, atol=0.02)
    # the largest response is at the preferred orientation and frequency
    o, f, _ = np.unravel_index(int(np.argmax(r)), r.shape)
    assert (o, f) == (2, 1)
    assert r[8, 1].max() < 0.01  # orthogonal orientation


def test_simple_cell_prefers_its_phase_and_rectifies():
    u = GaborEnergyUnit(orientation=90.0, frequency=3.0, kind="simple", phase=90.0)
    im, p = S.gratings(32, [90.0], [3.0], phases=4)
    r = u(im).numpy()
    assert int(np.argmax(r)) == 1 and r[1] == pytest.approx(1.0, abs=0.02)
    assert r[3] == 0.0  # opposite phase is rectified away


def test_gabor_contrast_normalisation_is_naka_rushton():
    u = GaborEnergyUnit(orientation=0.0, frequency=4.0, c50=0.3)
    c = np.array([0.1, 0.3, 0.9])
    im, _ = S.gratings(32, [0.0], [4.0], [0.0], contrasts=c)
    assert np.allclose(u(im).numpy(), c ** 2 / (c ** 2 + 0.09), atol=0.01)


def test_uniform_fields_give_baseline():
    im, _ = S.uniform(32, ["grey", "white", "black", "red"])
    g = GaborEnergyUnit(45.0, 4.0, baseline=2.0)
    assert np.allclose(g(im).numpy(), 2.0, atol=1e-4)  # zero-mean filters ignore uniform fields
    c = ColorOpponentUnit(baseline=1.5)
    r = c(im).numpy()
    assert np.allclose(r[:3], 1.5, atol=1e-6) and r[3] > 1.5  # grey, white, black are all neutral


def test_color_opponent_and_luminance_units():
    im, _ = S.uniform(16, ["red", "green", "white", "black"])
    rg = ColorOpponentUnit("red", "green").clean(im).numpy()
    assert rg[0] > 0.9 and rg[1] < -0.9
    lum = LuminanceUnit(polarity="off").clean(im).numpy()
    assert lum[2] == pytest.approx(-0.5, abs=1e-5) and lum[3] == pytest.approx(0.5, abs=1e-5)


def test_center_surround_prefers_a_disc_the_size_of_its_centre():
    u = CenterSurroundUnit(center_sigma=0.05, surround_sigma=0.15, surround_weight=0.9)
    im, p = S.discs(64, [0.02, 0.1, 0.7], "white")
    r = u(im).numpy()
    assert r[1] > r[0] and r[1] > 3 * r[2]
    d = u.describe()
    assert d["center_sigma"] == 0.05 and d["spatially_opponent"] and not d["color_opponent"]


def test_template_unit_optimum_is_the_template():
    torch.manual_seed(0)
    t = torch.rand(3, 16, 16)
    for metric, best in (("neg_mse", 0.0), ("correlation", 1.0)):
        u = TemplateUnit(t, metric)
        noisy = (t + 0.1 * torch.randn(5, 3, 16, 16)).clamp(0, 1)
        r = u(torch.cat([t[None], noisy]))
        assert r[0] == pytest.approx(best, abs=1e-5) and bool((r[1:] < r[0]).all())
    # larger images are resized to the template before comparison
    big = torch.nn.functional.interpolate(t[None], size=32, mode="nearest")
    assert TemplateUnit(t, "correlation")(big)[0] > 0.8


def test_code_template_unit_optimum_is_the_target_code():
    torch.manual_seed(1)
    lin = torch.nn.Linear(4, 3 * 8 * 8)

    def generator(z):
        return torch.sigmoid(lin(z)).reshape(-1, 3, 8, 8)

    target = torch.randn(4)
    u = CodeTemplateUnit(generator, target)
    codes = torch.cat([target[None], target[None] + 0.5 * torch.randn(6, 4)])
    with torch.no_grad():
        r = u(generator(codes))
    assert int(torch.argmax(r)) == 0 and r[0] == pytest.approx(0.0, abs=1e-7)
    d = u.describe()
    assert d["dim"] == 4 and np.allclose(d["target_code"], target.numpy())


def test_units_follow_dtype_and_are_batched():
    units = [GaborEnergyUnit(0.0, 4.0), ColorOpponentUnit(), LuminanceUnit(), CenterSurroundUnit(color="double"),
             TemplateUnit(torch.rand(3, 16, 16))]
    im = torch.rand(5, 3, 16, 16, dtype=torch.float64)
    for u in units:
        assert isinstance(u, Unit)
        r = u(im)
        assert r.shape == (5,) and r.dtype == torch.float64
        one = torch.stack([u(im[i:i + 1])[0] for i in range(5)])
        assert torch.allclose(r, one)
        assert u.describe()["type"] == type(u).__name__


@pytest.mark.parametrize("make, message", [
    (lambda: GaborEnergyUnit(0.0, -1.0), "frequency must be positive"),
    (lambda: GaborEnergyUnit(0.0, 4.0, sigma=0.8), "larger than the image"),
    (lambda: GaborEnergyUnit(0.0, 4.0, kind="hypercomplex"), "kind must be one of"),
    (lambda: ColorOpponentUnit("red", "teal"), "valid names"),
    (lambda: ColorOpponentUnit("red", "red"), "same"),
    (lambda: LuminanceUnit(x=0.7), "outside the image"),
    (lambda: CenterSurroundUnit(center_sigma=0.2, surround_sigma=0.1), "must exceed"),
    (lambda: CenterSurroundUnit(color="triple"), "color must be one of"),
    (lambda: TemplateUnit(torch.rand(16, 16)), r"shape \(3, H, W\)"),
])
def test_bad_parameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_units_are_reachable_from_landscape_units():
    from landscape import units

    assert units.GaborEnergyUnit is GaborEnergyUnit
