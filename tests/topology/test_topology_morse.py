"""Critical points, the Morse relation and the merge tree."""

from __future__ import annotations

import gudhi
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landscape.topology import MorseAnalysis, as_field


def test_morse_relation_on_random_smooth_maps_of_every_surface(synth):
    rng = np.random.default_rng(0)
    for trial in range(8):
        n, m = (int(v) for v in rng.integers(6, 25, 2))
        f = synth.smooth_random((n, m), rng.uniform(0.8, 2.5), seed=trial)
        for domain, kw, topo in synth.surfaces(n, m):
            ma = MorseAnalysis(sigma=1.0, domain=domain, **kw).fit(f)
            expected = {"disk": 1, "sphere": 2, "annulus": 0}[topo]
            assert ma.euler_characteristic_ == expected
            assert ma.n_maxima_ - ma.n_saddles_ + ma.n_minima_ == expected
            assert ma.morse_relation_holds_


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 9), m=st.integers(3, 9), seed=st.integers(0, 2 ** 16), ties=st.booleans())
def test_morse_relation_on_rough_maps_with_ties(n, m, seed, ties):
    rng = np.random.default_rng(seed)
    f = rng.standard_normal((n, m))
    if ties:
        f = np.round(f)  # plateaus: the index tie-break must still give a consistent count
    for domain, kw in (("plane", {}), ("sphere", {"theta_deg": np.arange(m) * 360.0 / m})):
        assert MorseAnalysis(sigma=0, domain=domain, **kw).fit(f).morse_relation_holds_


def test_known_critical_points(synth):
    one = MorseAnalysis(sigma=0).fit(synth.peaks([(0.1, -0.1)]))
    assert (one.n_maxima_, one.n_saddles_, one.n_minima_) == (1, 0, 0)  # border minima are not events
    cp = one.critical_points_
    assert cp["kind"][0] == "max" and cp["index"][0] == 2 and not cp["border"][0]
    y, x = synth.grid(61)
    assert abs(x[0, cp["col"][0]] - 0.1) < 0.05 and abs(y[cp["row"][0], 0] + 0.1) < 0.05
    two = MorseAnalysis(sigma=0).fit(synth.peaks([(-0.4, 0.0), (0.4, 0.0)], [1.0, 0.7], width=0.25))
    assert (two.n_maxima_, two.n_saddles_) == (2, 1)
    saddle = two.critical_points_["kind"] == "saddle"
    assert two.critical_points_["index"][saddle][0] == 1
    # on a sphere a bump gives a maximum and a minimum: 1 + 1 = 2
    n, m = 19, 24
    phi = np.linspace(-90, 90, n)[:, None]
    theta = np.arange(m)[None, :] * 15.0 - 180
    t, p = np.deg2rad(theta), np.deg2rad(phi)
    cos_to_centre = np.cos(p) * np.cos(t + np.deg2rad(15))  # centre at theta -15, phi 0
    bump = np.exp(3 * (cos_to_centre - 1))  # a von Mises-Fisher bump: one maximum, one minimum
    sph = MorseAnalysis(sigma=0, domain="sphere", theta_deg=theta.ravel(), phi_deg=phi.ravel()).fit(bump)
    assert (sph.n_maxima_, sph.n_saddles_, sph.n_minima_) == (1, 0, 1)


def test_merge_tree_matches_gudhi_on_the_same_triangulation(synth):
    """The merge tree's elder-rule pairs are the H0 diagram of the Freudenthal triangulation."""
    for seed in range(6):
        f = synth.smooth_random((12, 15), 1.0, seed)
        ma = MorseAnalysis(sigma=0).fit(f)
        n, m = f.shape
        idx = np.arange(n * m).reshape(n, m)
        a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
        tree = gudhi.SimplexTree()
        neg = -f.ravel()
        tree.insert_batch(idx.ravel()[None], neg)
        for s in ([a, b], [c, d], [a, c], [b, d], [a, d], [a, b, d], [a, c, d]):  # down-right diagonals
            arr = np.sort(np.stack(s), axis=0)
            tree.insert_batch(arr, neg[arr].max(axis=0))
        tree.compute_persistence(homology_coeff_field=2)
        expected = -tree.persistence_intervals_in_dimension(0)
        got = ma.merge_tree_.persistence_pairs()
        e = expected[np.lexsort(expected.T[::-1])]
        g = got[np.lexsort(got.T[::-1])]
        assert e.shape == g.shape and np.allclose(e, g)
        mt = ma.merge_tree_
        assert (mt.kind == "max").sum() == ma.n_maxima_ and (mt.parent < 0).sum() == 1


def test_merge_tree_structure_of_two_peaks(synth):
    mt = MorseAnalysis(sigma=0).fit(synth.peaks([(-0.4, 0.0), (0.4, 0.0)], [1.0, 0.7], width=0.25)).merge_tree_
    assert sorted(mt.kind.tolist()) == ["max", "max", "root", "saddle"]
    saddle = int(np.flatnonzero(mt.kind == "saddle")[0])
    assert sorted(mt.parent[mt.kind == "max"].tolist()) == [saddle, saddle]
    assert mt.kind[mt.parent[saddle]] == "root"
    pairs = mt.persistence_pairs()
    assert pairs[0, 1] == -np.inf and pairs[1, 0] == pytest.approx(0.7, abs=0.02)


def test_smoothing_removes_noise_peaks(synth):
    f = synth.peaks([(0.0, 0.0)], width=0.5) + 0.05 * np.random.default_rng(1).standard_normal((61, 61))
    rough = MorseAnalysis(sigma=0).fit(f)
    smooth = MorseAnalysis(sigma=4).fit(f)
    assert rough.n_maxima_ > 10 and smooth.n_maxima_ == 1
    with pytest.raises(ValueError, match="sigma"):
        MorseAnalysis(sigma=-1).fit(f)
    assert as_field(f).shape == smooth.smoothed_.shape
