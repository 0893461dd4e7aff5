"""Persistent homology of super-level sets on maps of known topology."""

from __future__ import annotations

import gudhi
import numpy as np
import pytest

from landscape.topology import (SuperlevelPersistence, TopologySignature, as_field, count_level_sets,
                                diagram_distance, distance_matrix, superlevel_diagrams)
from landscape.topology.persistence import _from_gudhi, persistence_of
from reference_topology import _simplicial


def _sorted(d: np.ndarray) -> np.ndarray:
    return d[np.lexsort(d.T[::-1])]


def _same(a: dict, b: dict) -> bool:
    return all(a[k].shape == b[k].shape and np.allclose(_sorted(a[k]), _sorted(b[k])) for k in (0, 1, 2))


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_k_peaks_give_k_significant_h0_bars(synth, k):
    centres = [(-0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (0.5, -0.5), (0.0, 0.0)][:k]
    heights = [1.0, 0.8, 0.6, 0.5, 0.4][:k]
    f = synth.peaks(centres, heights) + 0.01 * np.random.default_rng(k).standard_normal((61, 61))
    p = SuperlevelPersistence(threshold=0.1).fit(f)
    assert p.n_peaks_ == k and p.n_rings_ == 0
    # each bump's prominence is its height above the floor
    np.testing.assert_allclose(p.prominences_[:k] * np.ptp(f), heights, atol=0.06)
    assert np.all(p.prominences_[k:] * np.ptp(f) < 0.06)  # the rest is noise
    # the persistent peaks' births are at the bumps' heights
    births = np.sort(p.diagrams_[0][:k, 0])[::-1]
    np.testing.assert_allclose(births, heights, atol=0.05)


def test_annulus_has_one_ring(synth):
    ring = synth.annulus()
    p = SuperlevelPersistence(threshold=0.1).fit(ring)
    assert p.n_rings_ == 1 and p.n_peaks_ == 1
    h1 = p.diagrams_[1]
    # the ring is born when the ridge closes (its lowest point, ~ its top on a symmetric ring)
    # and dies when the pit fills (the value at the centre, ~0)
    assert persistence_of(h1, ring.min())[0] > 0.9
    mid = (p.level_fraction_ > 0.2) & (p.level_fraction_ < 0.9)
    assert np.all(p.betti_[0][mid] == 1) and np.all(p.betti_[1][mid] == 1) and np.all(p.euler_[mid] == 0)


def test_constant_and_planar_maps_are_trivial(synth):
    const = SuperlevelPersistence().fit(np.full((8, 8), 2.0))
    assert const.n_peaks_ == 0 and const.n_rings_ == 0
    assert const.diagrams_[0].shape == (1, 2) and const.diagrams_[1].size == 0
    y, x = synth.grid(41)
    ramp = SuperlevelPersistence().fit(3 * x - y)
    assert ramp.n_peaks_ == 1 and ramp.diagrams_[0].shape == (1, 2) and ramp.diagrams_[1].size == 0
    assert np.all(ramp.euler_ == 1)


def test_connectivity_is_what_the_docs_say():
    """Two diagonal pixels: one component with 8-connectivity, two with 4."""
    f = np.zeros((4, 4))
    f[1, 1] = f[2, 2] = 1.0
    b8 = SuperlevelPersistence(8, levels=np.array([0.5])).fit(f).betti_[0, 0]
    b4 = SuperlevelPersistence(4, levels=np.array([0.5])).fit(f).betti_[0, 0]
    assert (b8, b4) == (1, 2)
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        SuperlevelPersistence(6).fit(f)


@pytest.mark.parametrize("connectivity", [4, 8])
def test_simplicial_reference_reproduces_cubical_on_rectangles(connectivity):
    """The slow reference for glued spheres (tests/topology/reference_topology.py) is itself right."""
    rng = np.random.default_rng(connectivity)
    for _ in range(10):
        f = rng.standard_normal(tuple(rng.integers(3, 13, 2)))
        field = as_field(f)
        cubical = superlevel_diagrams(field, connectivity)
        st = _simplicial(field, connectivity)
        st.compute_persistence(homology_coeff_field=2, persistence_dim_max=True)
        simplicial = {k: _from_gudhi(st.persistence_intervals_in_dimension(k)) for k in (0, 1, 2)}
        assert _same(cubical, simplicial)


def test_seam_matches_gudhi_periodic_complex(synth):
    """On a band without poles (a cylinder) the glued seam equals gudhi's periodic cubical complex."""
    n, m = 9, 16
    for seed in range(5):
        f = synth.smooth_random((n, m), 1.0, seed, wrap=True)
        ours = superlevel_diagrams(f, 8, domain="sphere", theta_deg=np.arange(m) * 22.5,
                                   phi_deg=np.linspace(-50, 50, n))
        pc = gudhi.PeriodicCubicalComplex(top_dimensional_cells=-f, periodic_dimensions=[False, True])
        pc.compute_persistence(homology_coeff_field=2)
        theirs = {k: _from_gudhi(pc.persistence_intervals_in_dimension(k)) for k in (0, 1, 2)}
        assert _same(ours, theirs)


def test_whole_sphere_and_cap_betti_numbers(synth):
    n, m = 10, 12
    f = synth.smooth_random((n, m), 1.0, 7, wrap=True)
    for kw, betti in (({"theta_deg": np.arange(m) * 30.0}, (1, 0, 1)),
                      ({"theta_deg": np.arange(m) * 30.0, "phi_deg": np.linspace(-90, 45, n)}, (1, 0, 0)),
                      ({"theta_deg": np.arange(m) * 30.0, "phi_deg": np.linspace(-45, 45, n)}, (1, 1, 0))):
        for conn in (4, 8):
            p = SuperlevelPersistence(conn, levels=np.array([f.min()]), domain="sphere", **kw).fit(f)
            assert tuple(p.betti_[:, 0]) == betti


def test_peak_count_agrees_with_contour_count(synth):
    """Where every super-level component is a disk inside the map, b0 = number of loops."""
    f = synth.peaks([(-0.5, -0.4), (0.45, 0.5), (0.4, -0.5)], [1.0, 0.7, 0.5])
    sig = TopologySignature(41).fit(f)
    counts = count_level_sets(f, 41)
    inner = (sig.persistence_.level_fraction_ > 0.02) & (sig.persistence_.level_fraction_ < 1)
    assert np.all(sig.persistence_.betti_[0][inner] == counts["loops"][inner])
    assert sig.summary_["n_peaks"] == counts["loops"].max() == 3


def test_diagram_distances(synth):
    one = synth.peaks([(-0.4, 0.0)])
    two = synth.peaks([(-0.4, 0.0), (0.5, 0.0)], [1.0, 0.6])
    assert diagram_distance(one, one) == pytest.approx(0.0, abs=1e-12)
    d = SuperlevelPersistence().fit(two)
    second = persistence_of(d.diagrams_[0], d.range_[0])[1] / np.ptp(two)
    # the unmatched second peak goes to the diagonal: half its (normalised) persistence
    assert diagram_distance(one, two) == pytest.approx(second / 2, abs=1e-6)
    assert diagram_distance(one, two, metric="wasserstein") == pytest.approx(second / 2, abs=1e-6)
    # fitted analyses and arrays give the same distance
    assert diagram_distance(SuperlevelPersistence().fit(one), d) == pytest.approx(second / 2, abs=1e-6)
    # an annulus differs from a peak in H1 by its ring
    assert diagram_distance(one, synth.annulus(), dim=1) > 0.4
    dm = distance_matrix([one, two, synth.annulus()])
    assert dm.shape == (3, 3) and np.allclose(dm, dm.T) and np.all(np.diag(dm) == 0)
    with pytest.raises(ValueError, match="metric"):
        diagram_distance(one, two, metric="euclid")
