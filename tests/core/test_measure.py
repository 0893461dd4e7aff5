"""landscape.units.measure: the one measurement path and its one repeats rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from landscape.units import PoissonNoise, Unit
from landscape.units.measure import NOISY_REPS, measure_codes, measure_images, resolve_reps


class Bright(Unit):
    """Mean brightness; counts its forward passes."""

    def __init__(self):
        self.calls = 0

    def clean(self, images):
        self.calls += 1
        return images.mean((1, 2, 3)) * 10


def images(n=7, seed=0):
    return torch.rand(n, 3, 4, 4, generator=torch.Generator().manual_seed(seed))


def test_one_repeats_rule_for_every_caller():
    clean, noisy = Bright(), PoissonNoise(Bright(), scale=2.0, seed=0)
    for caller, default in NOISY_REPS.items():
        assert resolve_reps(clean, None, default) == 1
        assert resolve_reps(noisy, None, default) == default
        assert resolve_reps(noisy, 3, default) == 3
        with pytest.raises(ValueError, match="noise-free unit"):
            resolve_reps(clean, 2, default)
    assert resolve_reps(clean, 1, 5) == 1
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="reps must be a positive integer"):
            resolve_reps(noisy, bad, 5)
    assert NOISY_REPS == {"evolution": 1, "maps": 5, "stimuli": 8}


def test_a_noise_wrapper_gets_one_clean_pass_and_one_draw_per_repetition():
    inner = Bright()
    noisy = PoissonNoise(inner, scale=3.0, seed=4)
    x = images(10)
    m = measure_images(noisy, x, reps=6, batch_size=4)
    assert inner.calls == 3  # ceil(10 / 4) batches, each rendered through the unit once
    assert m.trials.shape == (6, 10) and m.noisy
    np.testing.assert_allclose(m.clean, x.mean((1, 2, 3)).double().numpy() * 10, rtol=1e-6)
    assert not np.allclose(m.trials[0], m.trials[1])  # independent draws
    assert m.sem is not None and m.sem.shape == (10,)
    # the same draws as the wrapper's own observe, batch by batch
    ref = PoissonNoise(Bright(), scale=3.0, seed=4)
    a = ref.clean(x[:4])
    np.testing.assert_array_equal(m.trials[:, :4], np.stack([ref.observe(a).double().numpy() for _ in range(6)]))


def test_noise_free_units_and_callables():
    unit = Bright()
    m = measure_images(unit, images(5), reps=1)
    assert m.clean is None and not m.noisy and m.sem is None
    np.testing.assert_allclose(m.clean_or_observed, m.mean)
    f = lambda x: x[:, 0].mean((1, 2))  # noqa: E731  (any callable can stand in for a unit)
    np.testing.assert_allclose(measure_images(f, images(5), batch_size=2).mean,
                               images(5)[:, 0].mean((1, 2)).double().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"scores of shape \(5, 2\) for 5 images"):
        measure_images(lambda x: torch.zeros(x.shape[0], 2), images(5))


def test_clean_only_draws_no_noise():
    noisy = PoissonNoise(Bright(), scale=3.0, seed=1)
    before = noisy.rng.get_state().clone()
    m = measure_images(noisy, images(6), clean_only=True)
    assert torch.equal(noisy.rng.get_state(), before)
    assert not m.noisy and m.trials.shape == (1, 6)
    np.testing.assert_allclose(m.mean, images(6).mean((1, 2, 3)).double().numpy() * 10, rtol=1e-6)


def test_measure_codes_renders_in_chunks():
    class Gen:
        device, max_batch = torch.device("cpu"), 3

        def __call__(self, z):
            return torch.sigmoid(z.reshape(-1, 3, 2, 2))

    codes = torch.randn(8, 12, generator=torch.Generator().manual_seed(0))
    m = measure_codes(Gen(), Bright(), codes)
    np.testing.assert_allclose(m.mean, torch.sigmoid(codes).mean(1).double().numpy() * 10, rtol=1e-5)
    with pytest.raises(ValueError, match="non-empty"):
        measure_codes(Gen(), Bright(), np.zeros((0, 12)))
