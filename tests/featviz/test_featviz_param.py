"""Image parameterisations: the Fourier basis has the intended 1/f spectrum and every map inverts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from landscape.featviz import FourierImage, PixelImage, correlate_color, decorrelate_color, make_param, spectrum_scale
from landscape.featviz.color import COLOR_CORRELATION, COLOR_CORRELATION_SVD_SQRT


def radial_amplitude_slope(images: torch.Tensor) -> float:
    """Log-log slope of the mean FFT amplitude against radial frequency, over mid frequencies."""
    n = images.shape[-1]
    amp = torch.fft.fft2(images.double(), norm="ortho").abs().mean(dim=(0, 1)).numpy()
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.fftfreq(n)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    edges = np.geomspace(2.0 / n, 0.45, 12)
    centres, means = [], []
    for lo, hi in itertools.pairwise(edges):
        sel = (f >= lo) & (f < hi)
        centres.append(np.sqrt(lo * hi))
        means.append(amp[sel].mean())
    return float(np.polyfit(np.log(centres), np.log(means), 1)[0])


@pytest.mark.parametrize("decay", [1.0, 2.0, 0.0])
def test_fourier_image_has_intended_power_law_spectrum(decay):
    p = FourierImage(64, batch=32, decay_power=decay, decorrelate=False, sd=1.0, seed=0)
    with torch.no_grad():
        raw = p.raw()
    assert raw.shape == (32, 3, 64, 64)
    assert radial_amplitude_slope(raw) == pytest.approx(-decay, abs=0.08)


def test_pixel_image_spectrum_is_white():
    p = PixelImage(64, batch=32, decorrelate=False, sd=1.0, seed=0)
    with torch.no_grad():
        assert radial_amplitude_slope(p.raw()) == pytest.approx(0.0, abs=0.05)


def test_spectrum_scale_treats_dc_as_lowest_frequency():
    s = spectrum_scale(16, 16, 1.0)
    assert s.shape == (16, 9)
    assert float(s[0, 0]) == pytest.approx(16.0)
    assert float(s[0, 1]) == pytest.approx(16.0)  # f = 1/16 exactly
    assert float(s[0, 8]) == pytest.approx(2.0)   # Nyquist, f = 1/2


@pytest.mark.parametrize("size", [(32, 32), (33, 31), (16, 20)])
def test_fourier_inverse_round_trips(size):
    p = FourierImage(size, batch=2, seed=0)
    target = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(1))
    p.set_raw(target)
    with torch.no_grad():
        assert torch.allclose(p.raw(), target, atol=1e-5)


def test_color_decorrelation_is_invertible():
    x = torch.randn(4, 3, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(decorrelate_color(correlate_color(x)), x, atol=1e-10)
    assert torch.allclose(correlate_color(decorrelate_color(x)), x, atol=1e-10)
    # normalised lucid matrix: largest column has unit norm, colour covariance is the ImageNet one
    assert float(COLOR_CORRELATION.norm(dim=0).max()) == pytest.approx(1.0)
    white = torch.randn(20000, 3, 1, 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    cov = torch.cov(correlate_color(white).flatten(1).T)
    expected = COLOR_CORRELATION @ COLOR_CORRELATION.T
    assert torch.allclose(cov, expected, atol=0.02)
    # the three colours are strongly correlated, as in natural images
    corr = expected / expected.diagonal().sqrt()[:, None] / expected.diagonal().sqrt()[None, :]
    assert float(corr[0, 1]) > 0.8
    assert COLOR_CORRELATION_SVD_SQRT.shape == (3, 3)


@pytest.mark.parametrize("kind", ["fourier", "pixel"])
@pytest.mark.parametrize("squash", ["sigmoid", "clamp"])
@pytest.mark.parametrize("decorrelate", [True, False])
def test_whole_parameterisation_inverts_on_images(kind, squash, decorrelate):
    images = torch.rand(2, 3, 12, 14, generator=torch.Generator().manual_seed(3)) * 0.9 + 0.05
    p = make_param(kind, (12, 14), 2, decorrelate=decorrelate, squash=squash, seed=0)
    p.set_images(images)
    with torch.no_grad():
        out = p()
    assert out.shape == images.shape
    assert torch.allclose(out, images, atol=1e-4)


def test_outputs_stay_in_unit_range_and_are_differentiable():
    for squash in ("sigmoid", "clamp"):
        p = FourierImage(16, 2, squash=squash, sd=5.0, seed=0)
        out = p()
        assert float(out.detach().min()) >= 0 and float(out.detach().max()) <= 1
        out.sum().backward()
        assert p.spectrum.grad is not None and float(p.spectrum.grad.abs().sum()) > 0


def test_clamp_passes_gradient_through_saturated_pixels():
    p = PixelImage(4, 1, decorrelate=False, squash="clamp", sd=0.0)
    with torch.no_grad():
        p.pixels.fill_(3.0)  # far above 1 after centring: clipped
    out = p()
    assert torch.all(out == 1.0)
    (-out.sum()).backward()  # wants darker pixels: gradient must reach the parameters
    assert torch.all(p.pixels.grad < 0)


def test_seeded_start_is_reproducible_and_small():
    a, b = FourierImage(16, 1, seed=5)(), FourierImage(16, 1, seed=5)()
    assert torch.equal(a, b)
    assert not torch.equal(a, FourierImage(16, 1, seed=6)())
    assert 0.3 < float(a.detach().min()) and float(a.detach().max()) < 0.7  # faint noise around grey


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="squash"):
        FourierImage(16, squash="tanh")
    with pytest.raises(ValueError, match="fourier"):
        make_param("cppn", 16)
    with pytest.raises(ValueError, match="shape"):
        FourierImage(16, 2).set_images(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="2x2"):
        PixelImage(1)
