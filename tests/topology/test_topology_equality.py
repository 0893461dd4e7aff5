"""The vectorised persistence and merge tree give exactly what the earlier code gave.

``reference_topology.py`` holds the implementations as they were before issue #17 (gudhi's
SimplexTree for glued spheres, the pure-Python merge tree). Every comparison here is exact:
same pairs of pixel values, same critical points, same tree arrays.
"""

from __future__ import annotations

import gudhi
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landscape.topology import MorseAnalysis, SuperlevelPersistence, TopologySignature, as_field, superlevel_diagrams
from landscape.topology import merging
from landscape.topology.contours import level_values
from landscape.topology.domain import smooth_field
from landscape.topology.persistence import _from_gudhi, _merge_diagrams, _sorted_diagram
from reference_topology import reference_diagrams, reference_morse

KINDS = ("noise", "ties", "plateaus", "smooth", "nan-filled", "seam column repeated")


def _canonical(d: np.ndarray) -> np.ndarray:
    return d[np.lexsort(d.T[::-1])]


def _assert_same_diagrams(got: dict, want: dict, where: str) -> None:
    for k in (0, 1, 2):
        assert got[k].shape == want[k].shape, f"{where}: H{k} has {len(got[k])} pairs, expected {len(want[k])}"
        assert np.array_equal(_canonical(got[k]), _canonical(want[k])), f"{where}: H{k} pairs differ"


def _map(kind: str, n: int, m: int, rng: np.random.Generator, synth) -> tuple[np.ndarray, dict]:
    """A test map of the given kind and the extra ``as_field`` keywords it needs."""
    if kind == "noise":
        return rng.standard_normal((n, m)), {}
    if kind == "ties":
        return np.round(rng.standard_normal((n, m))), {}
    if kind == "plateaus":  # a smooth map cut into four flat levels: large plateaus
        f = synth.smooth_random((n, m), 1.5, int(rng.integers(1 << 30)), wrap=True)
        return np.digitize(f, np.quantile(f, [0.25, 0.5, 0.75])).astype(float), {}
    if kind == "smooth":
        return synth.smooth_random((n, m), rng.uniform(0.7, 2.0), int(rng.integers(1 << 30)), wrap=True), {}
    if kind == "nan-filled":
        f = rng.standard_normal((n, m))
        f[rng.random((n, m)) < 0.25] = np.nan
        f[0, 0] = 0.0  # at least one measured value
        return f, {"nan_policy": "harmonic"}
    raise AssertionError(kind)


def _cases(kind: str, n: int, m: int, rng, synth):
    """(field, label) for every surface: plane, hemisphere, sphere, band, polar caps."""
    if kind == "seam column repeated":  # theta -180 ... 180: the last column is dropped after averaging
        f = rng.standard_normal((n, m + 1))
        for kw, topo in (({}, "sphere"), ({"phi_deg": np.linspace(-60, 60, n)}, "annulus"),
                         ({"phi_deg": np.linspace(-90, 50, n)}, "disk")):
            yield as_field(f, "sphere", theta_deg=np.linspace(-180, 180, m + 1), **kw), f"repeated seam {topo}"
        return
    f, extra = _map(kind, n, m, rng, synth)
    for domain, kw, topo in synth.surfaces(n, m):
        yield as_field(f, domain, **kw, **extra), f"{domain} {topo} {sorted(kw)}"


@pytest.mark.slow
@pytest.mark.parametrize("connectivity", [8, 4])
@pytest.mark.parametrize("kind", KINDS)
def test_diagrams_equal_the_reference_on_every_surface(synth, kind, connectivity):
    rng = np.random.default_rng([connectivity, KINDS.index(kind)])
    for trial in range(50):
        n, m = (int(v) for v in rng.integers(3, 15, 2))
        for field, label in _cases(kind, n, m, rng, synth):
            got = superlevel_diagrams(field, connectivity)
            _assert_same_diagrams(got, reference_diagrams(field, connectivity), f"{kind} {label} {n}x{m} #{trial}")
            for d in got.values():  # sorted by decreasing persistence
                assert np.all(np.diff(d[:, 0] - d[:, 1]) <= 0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 10), m=st.integers(3, 10), levels=st.integers(2, 6), seed=st.integers(0, 2 ** 16),
       connectivity=st.sampled_from([4, 8]))
def test_diagrams_equal_the_reference_on_maps_with_few_values(synth, n, m, levels, seed, connectivity):
    f = np.random.default_rng(seed).integers(0, levels, (n, m)).astype(float)
    for domain, kw, topo in synth.surfaces(n, m):
        field = as_field(f, domain, **kw)
        _assert_same_diagrams(superlevel_diagrams(field, connectivity), reference_diagrams(field, connectivity),
                              f"{domain} {topo}")


@pytest.mark.parametrize("connectivity", [8, 4])
def test_merge_engine_equals_gudhi_cubical_on_rectangles(synth, connectivity):
    """The engine used for glued spheres, run on planes and hemispheres, equals gudhi's cubical complex."""
    rng = np.random.default_rng(connectivity)
    for trial in range(40):
        n, m = (int(v) for v in rng.integers(3, 16, 2))
        f = rng.standard_normal((n, m))
        f = np.round(f) if trial % 2 else f
        for field in (as_field(f), as_field(f, "sphere")):  # a plane; a hemisphere with its poles
            cx = (gudhi.CubicalComplex(top_dimensional_cells=-field.values) if connectivity == 8
                  else gudhi.CubicalComplex(vertices=-field.values))
            cx.compute_persistence()
            want = {k: _from_gudhi(cx.persistence_intervals_in_dimension(k)) for k in (0, 1, 2)}
            parts = _merge_diagrams(field, connectivity)
            _assert_same_diagrams({k: _sorted_diagram(parts[k]) for k in (0, 1, 2)}, want, f"{n}x{m} #{trial}")


def test_sphere_signature_counts_equal_the_reference(synth):
    """Betti and Euler curves, significant peaks and rings and prominences are unchanged."""
    rng = np.random.default_rng(11)
    for trial in range(8):
        n, m = (int(v) for v in rng.integers(8, 30, 2))
        f = synth.smooth_random((n, m), 1.2, trial, wrap=True) + 0.05 * rng.standard_normal((n, m))
        theta = np.arange(m) * 360.0 / m
        for conn in (8, 4):
            sig = TopologySignature(21, conn, domain="sphere", theta_deg=theta).fit(f)
            ref = SuperlevelPersistence(conn, threshold=0.1)
            ref.diagrams_ = reference_diagrams(sig.field_, conn)
            ref._summarise(sig.field_, level_values(sig.field_, 21))
            assert ref.summary() == sig.persistence_.summary()
            assert np.array_equal(ref.betti_, sig.persistence_.betti_)
            assert np.array_equal(ref.prominences_, sig.persistence_.prominences_)


@pytest.mark.parametrize("kind", KINDS)
def test_morse_analysis_equals_the_reference(synth, kind):
    rng = np.random.default_rng(100 + KINDS.index(kind))
    for trial in range(24):
        n, m = (int(v) for v in rng.integers(3, 18, 2))
        sigma = (0.0, 0.8, 1.5)[trial % 3]
        for field, label in _cases(kind, n, m, rng, synth):
            where = f"{kind} {label} {n}x{m} sigma {sigma}"
            ma = MorseAnalysis(sigma=sigma).fit(field)
            ref = reference_morse(smooth_field(field, sigma))
            assert (ma.n_maxima_, ma.n_saddles_, ma.n_minima_) == (ref["n_maxima"], ref["n_saddles"],
                                                                   ref["n_minima"]), where
            for key, want in ref["critical_points"].items():
                assert np.array_equal(ma.critical_points_[key], want), f"{where}: {key}"
            for key in ("kind", "row", "col", "value", "parent"):
                got, want = getattr(ma.merge_tree_, key), getattr(ref["merge_tree"], key)
                assert got.dtype == want.dtype and np.array_equal(got, want), f"{where}: merge tree {key}"


def test_morse_on_a_large_sphere_equals_the_reference(synth):
    """One map the size the benchmark uses, where the old loop took most of a second."""
    f = synth.smooth_random((121, 160), 2.0, 3, wrap=True) + 0.01 * np.random.default_rng(3).standard_normal((121, 160))
    field = as_field(f, "sphere", theta_deg=np.arange(160) * 2.25)
    ma = MorseAnalysis(sigma=1.0).fit(field)
    ref = reference_morse(smooth_field(field, 1.0))["merge_tree"]
    assert ma.merge_tree_.kind.size > 20  # a tree with many branches
    for key in ("kind", "row", "col", "value", "parent"):
        assert np.array_equal(getattr(ma.merge_tree_, key), getattr(ref, key)), key


# -- the engine on small graphs with known answers --------------------------------------------

def test_elder_pairs_on_a_path():
    values = np.array([0.0, 3.0, 1.0, 2.0, 0.5, 4.0])
    a, b = np.arange(5), np.arange(1, 6)
    rank = merging.ranks(values)
    joins = merging.superlevel_joins(rank, a, b)
    assert sorted(joins.maxima.tolist()) == [1, 3, 5]
    pairs, essential = merging.elder_pairs(joins, rank)
    # the peak 2 (vertex 3) ends at 1 (vertex 2) on meeting 3; then 3 ends at 0.5 on meeting 4
    assert sorted(map(tuple, pairs.tolist())) == [(1, 4), (3, 2)]
    assert essential.tolist() == [5]


def test_elder_pairs_on_a_star_and_on_two_components():
    # three peaks meeting at one low centre: a three-way join, two of them end there
    values = np.array([0.0, 3.0, 2.0, 1.0, 5.0, 4.0])
    a, b = np.array([0, 0, 0, 4]), np.array([1, 2, 3, 5])  # vertices 4-5 form a second component
    rank = merging.ranks(values)
    joins = merging.superlevel_joins(rank, a, b)
    pairs, essential = merging.elder_pairs(joins, rank)
    assert sorted(map(tuple, pairs.tolist())) == [(2, 0), (3, 0)]
    assert sorted(essential.tolist()) == [1, 4]
    assert joins.level.tolist() == [0, 0]


def test_ties_break_by_index_and_the_unpacked_sort_agrees(synth, monkeypatch):
    assert merging.ranks(np.array([1.0, 0.0, 1.0, 0.0])).tolist() == [2, 0, 3, 1]
    f = synth.smooth_random((40, 50), 1.0, 5, wrap=True)
    field = as_field(f, "sphere", theta_deg=np.arange(50) * 7.2)
    packed = superlevel_diagrams(field)
    monkeypatch.setattr(merging, "_PACKED_KEY_LIMIT", 0)  # take the lexsort branch
    _assert_same_diagrams(superlevel_diagrams(field), packed, "lexsort branch")
    _assert_same_diagrams(packed, reference_diagrams(field, 8), "reference")
