"""Poisson noise calibrated as XDream's figure 6: a given expected spike count for the best prior image."""

from __future__ import annotations

import pytest
import torch

from landscape.units import PoissonNoise, calibrated_poisson, parse_noise
from landscape.units.base import Unit
from landscape.units.noise import poisson_scale_for_spikes


class Mean(Unit):
    """Scores an image by its mean pixel value times 10."""

    def clean(self, images):
        return images.mean(dim=(1, 2, 3)) * 10

    def __call__(self, images):
        return self.clean(images)

    def describe(self):
        return {"type": "Mean"}


class Flat:
    """A generator whose images are flat grey at the code's first value."""

    dim = 2

    def sample(self, n, seed=None):
        g = torch.Generator().manual_seed(seed)
        return torch.rand(n, 2, generator=g)

    def render(self, codes, batch_size=None):
        return codes[:, :1].reshape(-1, 1, 1, 1).expand(-1, 3, 4, 4)


def test_scale_puts_the_best_prior_image_at_the_wanted_spike_count():
    g = Flat()
    noisy = calibrated_poisson(Mean(), g, spikes=20, n_prior=50, seed=1)
    best = float(g.sample(50, seed=0)[:, 0].max()) * 10  # hand-computed: best prior response
    assert noisy.scale == pytest.approx(20 / best)
    assert noisy.calibration == {"spikes": 20.0, "prior_images": 50, "prior_seed": 0,
                                 "best_prior_response": pytest.approx(best)}
    assert noisy.describe()["noise"]["calibration"]["spikes"] == 20.0
    # the observed score of the best prior image is counts / scale with counts ~ Poisson(20)
    img = g.render(g.sample(50, seed=0))[[int(g.sample(50, seed=0)[:, 0].argmax())]].expand(4000, -1, -1, -1)
    counts = noisy(img) * noisy.scale
    assert float(counts.mean()) == pytest.approx(20, rel=0.05)
    assert float(counts.var()) == pytest.approx(20, rel=0.15)  # Poisson: variance = mean


def test_poisson_scale_errors_are_clear():
    assert poisson_scale_for_spikes(4.0, 20) == 5.0
    with pytest.raises(ValueError, match="silent"):
        poisson_scale_for_spikes(0.0, 20)
    with pytest.raises(ValueError, match="spikes must be > 0"):
        poisson_scale_for_spikes(1.0, 0)


def test_parse_noise_forms_and_errors():
    assert parse_noise("none") == {"kind": "none"}
    assert parse_noise("poisson:5:3") == {"kind": "poisson", "scale": 5.0, "reps": 3}
    assert parse_noise("poisson") == {"kind": "poisson", "scale": 1.0, "reps": 1}
    assert parse_noise("poisson-spikes:20") == {"kind": "poisson-spikes", "spikes": 20.0, "reps": 1, "n_prior": 100}
    assert parse_noise("poisson-spikes:20:3:40")["n_prior"] == 40
    assert parse_noise("gaussian:0.5") == {"kind": "gaussian", "sigma": 0.5}
    for bad in ("poisson:-1", "poisson-spikes:0", "gauss:0.2", "poisson-spikes:5:1:0", "none:1"):
        with pytest.raises(ValueError, match="poisson-spikes:SPIKES"):
            parse_noise(bad)


def test_raw_scale_is_unchanged():
    u = PoissonNoise(Mean(), scale=2.0, seed=0)
    assert "calibration" not in u.describe()["noise"]
