"""Axes: validation with clear errors, PCs signed by the last generation, Hessian and random axes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from landscape.maps.axes import TrajectoryPCA, check_axes, hessian_axes, orthonormalize, pc_axes, random_axes


def test_check_axes_accepts_orthonormal_rows_and_tensors():
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((12, 3)))[0].T
    out = check_axes(torch.tensor(q), 12, k=3)
    assert out.dtype == np.float64 and out.shape == (3, 12)


def test_wrong_dimension_is_a_clear_error():
    with pytest.raises(ValueError, match=r"dimension 10 but the generator's codes have dimension 12"):
        check_axes(np.eye(3, 10), 12)
    with pytest.raises(ValueError, match="transposed"):
        check_axes(np.eye(12, 3), 12)


def test_non_orthonormal_axes_are_a_clear_error():
    a = np.eye(3, 8)
    a[1, 0] = 0.3  # rows 0 and 1 no longer orthogonal
    with pytest.raises(ValueError, match=r"orthonormal.*rows 0 and 1 have inner product 0\.3"):
        check_axes(a, 8)
    with pytest.raises(ValueError, match="row 2 has norm 2"):
        check_axes(np.diag([1.0, 1.0, 2.0, 0])[:3], 4)
    with pytest.raises(ValueError, match="exactly 3"):
        check_axes(np.eye(2, 8), 8, k=3)
    # independent but oblique axes are fine when orthonormality is not required
    assert check_axes(a, 8, orthonormal=False).shape == (3, 8)
    with pytest.raises(ValueError, match="linearly dependent"):
        check_axes(np.vstack([a[0], 2 * a[0]]), 8, orthonormal=False)


def test_orthonormalize_keeps_first_direction():
    v = np.array([[2.0, 0, 0, 0], [1.0, 1.0, 0, 0], [1.0, 1.0, 1.0, 0]])
    q = orthonormalize(v)
    np.testing.assert_allclose(q @ q.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(q[0], [1, 0, 0, 0])
    np.testing.assert_allclose(q[2], [0, 0, 1, 0], atol=1e-12)


def test_pca_of_trajectory_drifting_along_a_known_direction():
    rng = np.random.default_rng(1)
    d, n_gen, pop = 30, 25, 12
    drift = np.zeros(d)
    drift[4] = -1.0  # the evolution walks towards -e4: PC1 must come out as -e4, not +e4
    codes = (np.linspace(0, 20, n_gen)[:, None, None] * drift + 0.3 * rng.standard_normal((n_gen, pop, d)))
    pca = TrajectoryPCA(n_components=5).fit(codes)
    assert abs(pca.components_[0] @ drift) > 0.99
    assert pca.components_[0] @ codes[-1].mean(0) > 0
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(5), atol=1e-10)
    np.testing.assert_allclose(pca.last_norm_, np.linalg.norm(codes[-1], axis=1).mean())
    np.testing.assert_allclose(pc_axes(codes, (1, 2)), pca.axes([1, 2]), atol=1e-8)
    with pytest.raises(ValueError, match=r"PC numbers \[49, 50\] are out of range: this PCA kept PCs 1..5"):
        pca.axes([1, 49, 50])


def test_pca_rejects_impossible_component_counts():
    with pytest.raises(ValueError, match="n_components=50 is not possible"):
        TrajectoryPCA(50).fit(np.zeros((2, 5, 30)))


def test_hessian_axes_rows_columns_and_indices():
    rng = np.random.default_rng(2)
    d = 16
    h = rng.standard_normal((d, d))
    w, v = np.linalg.eigh(h + h.T)
    v = v[:, ::-1]  # columns, descending, as geometry.hessian returns them
    np.testing.assert_allclose(hessian_axes(v, (0, 2)), v[:, [0, 2]].T)
    top5 = v[:, :5]
    np.testing.assert_allclose(hessian_axes(top5, (3, 4), dim=d), v[:, [3, 4]].T)  # (d, k)
    np.testing.assert_allclose(hessian_axes(top5.T, (1, 0, 2), dim=d), v[:, [1, 0, 2]].T)  # (k, d)
    np.testing.assert_allclose(hessian_axes(torch.tensor(v.T.copy()), (0, 1), layout="rows"), v[:, [0, 1]].T)
    with pytest.raises(ValueError, match=r"indices \[7\] out of range for 5 eigenvectors"):
        hessian_axes(top5, (0, 7), dim=d)
    with pytest.raises(ValueError, match="no side of length dim=20"):
        hessian_axes(top5, (0, 1), dim=20)


def test_random_axes_are_seeded_orthonormal_and_orthogonal_to_excluded():
    rng = np.random.default_rng(3)
    pcs = np.linalg.qr(rng.standard_normal((40, 10)))[0].T
    a = random_axes(40, 2, exclude=pcs, seed=5)
    np.testing.assert_allclose(a @ a.T, np.eye(2), atol=1e-12)
    assert np.abs(a @ pcs.T).max() < 1e-12
    np.testing.assert_array_equal(a, random_axes(40, 2, exclude=pcs, seed=5))
    assert np.abs(a - random_axes(40, 2, exclude=pcs, seed=6)).max() > 0.1
    with pytest.raises(ValueError, match="cannot draw 2 random directions orthogonal to 10 others in 11"):
        random_axes(11, 2, exclude=rng.standard_normal((10, 11)))


def test_pca_of_generations_of_different_sizes():
    rng = np.random.default_rng(4)
    gens = [rng.standard_normal((n, 9)) + g for g, n in enumerate((5, 8, 6))]
    pca = TrajectoryPCA(3).fit(gens)
    np.testing.assert_allclose(pca.last_mean_, gens[-1].mean(0))
    np.testing.assert_allclose(pca.mean_, np.concatenate(gens).mean(0))
    with pytest.raises(ValueError, match="trajectory"):
        TrajectoryPCA(3).fit(np.zeros((4, 9)))
