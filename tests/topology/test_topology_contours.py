"""Contour signature: loops, lines and branches of level sets on maps of known shape."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.measure import find_contours

from landscape.topology import ContourSignature, as_field, count_level_sets, trace_level_set


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_k_separated_peaks_give_k_loops(synth, k):
    centres = [(-0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (0.5, -0.5)][:k]
    f = synth.peaks(centres, heights=[1.0, 0.9, 0.8, 0.7][:k])
    sig = ContourSignature(21).fit(f)
    frac = sig.level_fraction_
    mid = (frac > 0.1) & (frac < 0.65)  # below the lowest peak, above the floor
    assert np.all(sig.loops_[mid] == k) and np.all(sig.lines_[mid] == 0) and np.all(sig.branches_[mid] == k)
    # the extreme levels are points, not curves
    assert sig.branches_[0] == 0 and sig.branches_[-1] == 0
    # a single isolated loop from the lowest level (one peak) or from the second peak's height
    if k == 1:
        assert sig.isolation_level_ == pytest.approx(0.05)
    else:
        assert 0.85 <= sig.isolation_level_ <= 0.95 + 1e-9


def test_constant_and_planar_maps_are_trivial(synth):
    const = ContourSignature().fit(np.full((9, 9), 3.0))
    assert const.branches_.sum() == 0 and const.loops_auc_ == 0 and np.isnan(const.isolation_level_)
    y, x = synth.grid(31)
    ramp = ContourSignature().fit(x + 0.5 * y)
    inner = slice(1, -1)
    assert np.all(ramp.lines_[inner] == 1) and np.all(ramp.loops_ == 0)
    assert ramp.isolation_level_ == 1.0            # never a single loop
    assert ramp.lines_auc_ == pytest.approx(0.95)  # 1 on (0, 1) with zero ends: 1 - 0.05


def test_annulus_has_two_loops_and_peak_touching_border_a_line(synth):
    ring = ContourSignature(21).fit(synth.annulus())
    frac = ring.level_fraction_
    mid = (frac > 0.2) & (frac < 0.9)
    assert np.all(ring.loops_[mid] == 2) and np.all(ring.lines_[mid] == 0)
    edge = synth.peaks([(1.0, 0.0)])  # centred on the right border
    sig = ContourSignature(21).fit(edge)
    mid = (sig.level_fraction_ > 0.1) & (sig.level_fraction_ < 0.95)
    assert np.all(sig.lines_[mid] == 1) and np.all(sig.loops_[mid] == 0)


def test_counts_match_traced_curves_on_every_surface(synth):
    """The fast counts (component labelling) agree with marching-squares tracing."""
    rng = np.random.default_rng(0)
    for trial in range(12):
        n, m = (int(v) for v in rng.integers(5, 16, 2))
        f = synth.smooth_random((n, m), rng.uniform(0.7, 2.0), seed=trial)
        for domain, kw, topo in synth.surfaces(n, m):
            field = as_field(f, domain, **kw)
            assert field.domain.topology == topo
            counts = count_level_sets(field, 9)
            for i, c in enumerate(counts["levels"]):
                ls = trace_level_set(field, c)
                assert (ls.n_loops, ls.n_lines) == (counts["loops"][i], counts["lines"][i]), (domain, kw, i)


def test_counts_match_scikit_image_on_planes(synth):
    """scikit-image's marching squares with 8-connected high values gives the same curves."""
    for seed in range(8):
        f = synth.smooth_random((24, 19), 1.3, seed=100 + seed)
        counts = count_level_sets(f, 15)
        for i, c in enumerate(counts["levels"][1:-1], start=1):
            curves = find_contours(f, c, fully_connected="high")
            loops = sum(bool(np.allclose(cv[0], cv[-1])) for cv in curves)
            assert (loops, len(curves) - loops) == (counts["loops"][i], counts["lines"][i])


def test_sphere_seam_and_poles_change_the_counts():
    """A band around a full sphere is two loops; cut at a meridian it would be two lines."""
    n, m = 19, 24
    phi = np.linspace(-90, 90, n)
    theta = np.arange(m) * 15.0 - 180
    band = np.exp(-(phi[:, None] / 20.0) ** 2) * np.ones((1, m))
    joined = count_level_sets(band, 11, domain="sphere", theta_deg=theta, phi_deg=phi)
    cut = count_level_sets(band, 11, domain="sphere", theta_deg=np.linspace(-90, 90, m), phi_deg=phi)
    mid = slice(2, 9)
    assert np.all(joined["loops"][mid] == 2) and np.all(joined["lines"][mid] == 0)
    assert np.all(cut["lines"][mid] == 2) and np.all(cut["loops"][mid] == 0)
    # a cap around the north pole is one loop on the sphere (the pole row is a single point)
    cap = np.clip(phi[:, None] / 90.0, 0, None) * np.ones((1, m))
    polar = count_level_sets(cap, 11, domain="sphere", theta_deg=theta, phi_deg=phi)
    assert np.all(polar["loops"][2:-1] == 1) and polar["lines"].sum() == 0


def test_levels_as_fraction_of_max(synth):
    f = synth.peaks([(0, 0)]) * 10 + 5
    sig = ContourSignature(5).fit(f)
    np.testing.assert_allclose(sig.level_of_max_, sig.levels_ / f.max())
    with pytest.raises(ValueError, match="levels must be"):
        ContourSignature(1).fit(f)


def _published_recipe(data: np.ndarray, nlevels: int = 21) -> dict:
    """The reference code's steps, transcribed independently (Tuning-Manifold-Level-Sets:
    analyze_levelsets_topology, is_close_loop, np.trapz over level_maxfrac, get_lowest_single_level)."""
    levels = np.linspace(data.min(), data.max(), nlevels)
    rows = []
    for lvl in levels:
        sets = find_contours(data, lvl)
        n_loop = sum(np.allclose(c[0, :], c[-1, :]) for c in sets)
        rows.append((len(sets), n_loop, len(sets) - n_loop, lvl / data.max()))
    nbr, nloop, nline, frac = (np.array(c) for c in zip(*rows))

    def trapz(y, x):
        return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)

    def lowest(single):
        idx = nlevels - 1
        for i in reversed(range(nlevels)):
            if i == nlevels - 1:
                continue
            if single[i]:
                continue
            idx = i + 1
            break
        return idx

    return {"n_branch": nbr, "n_loop": nloop, "n_line": nline, "maxfrac": frac,
            "nloop_AUC": trapz(nloop, frac), "nline_AUC": trapz(nline, frac), "nbranch_AUC": trapz(nbr, frac),
            "loop_lowest_lvl": frac[lowest(nloop == 1)], "branch_lowest_lvl": frac[lowest(nbr == 1)]}


def test_reference_convention_equals_the_published_scikit_image_recipe_on_random_maps(synth):
    rng = np.random.default_rng(3)
    for trial in range(15):
        n, m = (int(v) for v in rng.integers(9, 40, 2))
        f = synth.smooth_random((n, m), rng.uniform(0.8, 3.0), seed=trial) + rng.uniform(0.0, 3.0)
        ref = _published_recipe(f)
        sig = ContourSignature(21, convention="reference").fit(f)
        np.testing.assert_array_equal(sig.branches_, ref["n_branch"])
        np.testing.assert_array_equal(sig.loops_, ref["n_loop"])
        np.testing.assert_array_equal(sig.lines_, ref["n_line"])
        np.testing.assert_allclose(sig.level_of_max_, ref["maxfrac"])
        assert sig.loops_auc_ == pytest.approx(ref["nloop_AUC"])
        assert sig.lines_auc_ == pytest.approx(ref["nline_AUC"])
        assert sig.branches_auc_ == pytest.approx(ref["nbranch_AUC"])
        assert sig.isolation_level_ == pytest.approx(ref["loop_lowest_lvl"])
        assert sig.branch_lowest_level_ == pytest.approx(ref["branch_lowest_lvl"])


def test_conventions_differ_where_documented():
    # a saddle cell: high corners on one diagonal. find_contours joins the low corners, so the two
    # high pixels are two loops; the project's 8-connected super-level set makes them one
    f = np.zeros((6, 6))
    f[2, 2] = f[3, 3] = 1.0
    f[2, 3] = f[3, 2] = 0.2
    level = np.array([0.5])
    ref = ContourSignature(level, convention="reference").fit(f)
    own = ContourSignature(level).fit(f)
    assert (ref.loops_[0], own.loops_[0]) == (2, 1)
    # AUC axes: level / max (reference) versus the level fraction (project), on a map offset from 0
    peak = np.exp(-np.add.outer(np.linspace(-1, 1, 41) ** 2, np.linspace(-1, 1, 41) ** 2) / 0.1) + 1.0
    r, p = ContourSignature(convention="reference").fit(peak), ContourSignature().fit(peak)
    assert r.level_of_max_[0] == pytest.approx(peak.min() / peak.max()) and p.level_fraction_[0] == 0
    assert r.loops_auc_ < 0.6 < p.loops_auc_  # the reference's x axis spans only [min/max, 1] = [0.5, 1]
    with pytest.raises(ValueError, match="convention must be one of project, reference"):
        ContourSignature(convention="paper").fit(peak)
