"""Bootstrap intervals and nulls for the signature."""

from __future__ import annotations

import numpy as np
import pytest

from landscape.topology import SUMMARY_KEYS, SignatureReliability, phase_randomize, spatial_shuffle
from landscape.topology.reliability import bootstrap_trials


def _noisy_map(synth, reps: int, seed: int = 0, noise: float = 0.15, n: int = 15):
    """A 2-peak map measured ``reps`` times with Gaussian noise, as a duck-typed TuningMap."""
    from types import SimpleNamespace

    y, x = synth.grid(n)
    clean = np.exp(-((x + 0.45) ** 2 + y ** 2) / 0.08) + 0.7 * np.exp(-((x - 0.45) ** 2 + (y - 0.3) ** 2) / 0.06)
    trials = clean[None] + noise * np.random.default_rng(seed).standard_normal((reps, n, n))
    return SimpleNamespace(values=trials.mean(0), trials=trials, sem=None, kind="plane", coords={})


def test_surrogates_keep_the_value_distribution(synth):
    rng = np.random.default_rng(0)
    f = synth.peaks([(0.3, 0.2)], n=21) + 0.1 * rng.standard_normal((21, 21))
    for fn in (phase_randomize, spatial_shuffle):
        s = fn(f, rng)
        assert s.shape == f.shape
        np.testing.assert_array_equal(np.sort(s, axis=None), np.sort(f, axis=None))
        assert not np.array_equal(s, f)
    # the phase surrogate keeps smoothness better than the shuffle: neighbour differences stay small
    smooth = synth.peaks([(-0.5, 0.0), (0.5, 0.3)], n=41, width=0.2)
    dp = np.abs(np.diff(phase_randomize(smooth, rng), axis=1)).mean()
    ds = np.abs(np.diff(spatial_shuffle(smooth, rng), axis=1)).mean()
    assert dp < 0.5 * ds


def test_bootstrap_trials_resamples_each_pixel():
    trials = np.arange(12, dtype=float).reshape(3, 2, 2)
    trials[2, 0, 0] = np.nan  # a missing repetition
    trials[:, 1, 1] = np.nan  # a pixel never measured
    out = bootstrap_trials(trials, np.random.default_rng(0))
    assert np.isnan(out[1, 1])
    assert out[0, 0] in (0.0, 4.0, 2.0, 4.0 / 3, 8.0 / 3)  # means of draws from {0, 4}
    for (i, j) in ((0, 1), (1, 0)):
        assert trials[:, i, j].min() <= out[i, j] <= trials[:, i, j].max()


def test_intervals_shrink_as_repeats_grow(synth):
    widths = []
    for reps in (3, 12, 48):
        rel = SignatureReliability(n_boot=60, n_null=10, seed=1, levels=11).fit(_noisy_map(synth, reps))
        widths.append(rel.interval_[:, 1] - rel.interval_[:, 0])
    widths = np.array(widths)
    total = widths.sum(axis=1)
    assert total[0] > total[1] > total[2]
    k = SUMMARY_KEYS.index("branches_auc")
    assert widths[0, k] > widths[2, k]


def test_reliable_signature_on_a_structured_map(synth):
    rel = SignatureReliability(n_boot=40, n_null=40, seed=2, levels=11).fit(_noisy_map(synth, 8, noise=0.1))
    assert rel.resample_ == "trials"
    # a two-peak map has far fewer loops and peaks than its shuffled versions
    assert rel.reliable_["loops_auc"] and rel.reliable_["n_peaks"]
    assert rel.interval_[SUMMARY_KEYS.index("n_peaks"), 1] <= 4
    # the phase null keeps the smoothness: a generic smooth map has a few peaks too
    phase = SignatureReliability(n_boot=40, n_null=40, null="phase", seed=2, levels=11, sigma=1.0
                                 ).fit(_noisy_map(synth, 8, noise=0.1))
    assert phase.null_interval_[SUMMARY_KEYS.index("n_peaks"), 1] < rel.null_interval_[SUMMARY_KEYS.index("n_peaks"), 0]
    d = rel.to_dict()
    assert set(d["components"]) == set(SUMMARY_KEYS) and d["params"]["null"] == "shuffle"
    assert "reliable" in rel.format()


def test_pure_noise_is_not_reliable_against_its_shuffles():
    from types import SimpleNamespace

    rng = np.random.default_rng(5)
    trials = rng.standard_normal((6, 13, 13))
    noise = SimpleNamespace(values=trials.mean(0), trials=trials, sem=None, kind="plane", coords={})
    rel = SignatureReliability(n_boot=40, n_null=60, null="shuffle", seed=3, levels=11).fit(noise)
    assert not rel.reliable_["n_peaks"] and not rel.reliable_["loops_auc"]


def test_gaussian_and_callable_samplers_and_errors(synth):
    from types import SimpleNamespace

    f = synth.peaks([(0, 0)], n=15)
    with_sem = SimpleNamespace(values=f, trials=None, sem=np.full(f.shape, 0.05), kind="plane", coords={})
    rel = SignatureReliability(n_boot=10, n_null=5, levels=7).fit(with_sem)
    assert rel.resample_ == "gaussian" and rel.boot_.shape == (10, len(SUMMARY_KEYS))
    calls = []

    def sampler(rng):
        calls.append(1)
        return f + 0.01 * rng.standard_normal(f.shape)

    rel = SignatureReliability(n_boot=7, n_null=5, resample=sampler, levels=7).fit(f)
    assert rel.resample_ == "callable" and len(calls) == 7
    with pytest.raises(ValueError, match="noise is unknown"):
        SignatureReliability(n_boot=5, n_null=5).fit(f)
    with pytest.raises(ValueError, match="null must be one of"):
        SignatureReliability(null="flip", resample=sampler).fit(f)
    with pytest.raises(ValueError, match="n_boot"):
        SignatureReliability(n_boot=1, resample=sampler).fit(f)


def test_noise_model_resampling_follows_the_recorded_unit(synth):
    from types import SimpleNamespace

    from landscape.topology.reliability import noise_model_sampler

    clean = 5 * synth.peaks([(0.0, 0.0)], n=11, width=0.4)

    def recorded(scale):
        return SimpleNamespace(values=clean, clean=clean, trials=None, sem=None, kind="plane", coords={},
                               unit={"type": "CNNUnit", "noise": {"type": "poisson", "scale": scale, "reps": 1}})

    draws = np.stack([noise_model_sampler(recorded(2.0))(np.random.default_rng(s)) for s in range(400)])
    np.testing.assert_allclose(draws.mean(0), clean, atol=0.35)      # unbiased: E = max(0, clean)
    np.testing.assert_allclose(draws.var(0), clean / 2.0, atol=0.6, rtol=0.3)  # Poisson: var = a / scale
    widths = []
    for scale in (0.5, 50.0):
        rel = SignatureReliability(n_boot=30, n_null=5, seed=0, levels=11).fit(recorded(scale))
        assert rel.resample_ == "model"
        widths.append((rel.interval_[:, 1] - rel.interval_[:, 0]).sum())
    assert widths[0] > widths[1]
    with pytest.raises(ValueError, match="noise model"):
        SignatureReliability(resample="model").fit(synth.peaks([(0, 0)], n=9))
