"""geometry.spectrum, .homogeneity, .axes, .control, .inversion on metrics built to have known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from geometry.axis_walks import axis_strips, axis_walk, save_strips, steps_for_distance
from geometry.control import shuffle_weights, shuffled_control
from geometry.homogeneity import AverageHessian, Homogeneity
from geometry.inversion import Inversion
from geometry.spectrum import SpectrumStats, dims_for_fraction, effective_rank, participation_ratio
from geom_helpers import LinearGenerator


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    return Q * np.sign(np.diag(R))


# ---------------------------------------------------------------------------- spectrum
def test_dims_for_fraction_on_built_spectra():
    assert dims_for_fraction(np.r_[np.ones(5), np.zeros(95)], 0.99) == 5
    assert dims_for_fraction(np.ones(100), 0.99) == 99
    assert dims_for_fraction(np.ones(100), 0.999) == 100
    # geometric spectrum: lambda_i = 10^-i; 99% of the sum is reached by 2 dims (1 + 0.1 = 0.999 * 1.111)
    w = 10.0 ** -np.arange(30)
    assert [dims_for_fraction(w, f) for f in (0.99, 0.999, 0.9999)] == [2, 3, 4]
    # ordering and tiny negative rounding do not matter
    assert dims_for_fraction(np.r_[-1e-12, 0.0, 1.0, 3.0], 0.7) == 1
    np.testing.assert_array_equal(dims_for_fraction(np.stack([np.ones(10), np.r_[1.0, np.zeros(9)]]), 0.99), [10, 1])
    with pytest.raises(ValueError, match="fraction"):
        dims_for_fraction(w, 1.5)


def test_effective_rank_and_participation_ratio():
    assert effective_rank(np.ones(50)) == pytest.approx(50)
    assert effective_rank(np.r_[1.0, np.zeros(49)]) == pytest.approx(1)
    assert participation_ratio(np.ones(50)) == pytest.approx(50)
    assert participation_ratio(np.r_[np.ones(4), np.zeros(6)]) == pytest.approx(4)


def test_spectrum_stats(tmp_path):
    w = np.stack([np.r_[np.ones(3) * s, np.zeros(7)] for s in (1.0, 2.0, 3.0)])
    st = SpectrumStats().fit(w)
    assert st.dims_.shape == (3, 3) and np.all(st.dims_ == 3)
    assert st.summary()["dims_0.99"] == {"mean": 3.0, "min": 3, "max": 3}
    np.testing.assert_allclose(st.spectrum_mean_[:3], 2.0)
    st.save(tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text())["dims_0.99"]["mean"] == 3.0


# ---------------------------------------------------------------------------- homogeneity
def test_homogeneity_of_a_homogeneous_field():
    rng = np.random.default_rng(0)
    d, n = 20, 4
    U = random_rotation(d, rng)
    base = np.logspace(0, -4, d)
    w = np.stack([base * np.exp(0.05 * rng.standard_normal(d)) for _ in range(n)])
    w = -np.sort(-w, axis=1)
    V = np.stack([U] * n)
    h = Homogeneity(subspace_k=5).fit(w, V)
    assert h.summary_["corr_log"]["mean"] > 0.99
    assert h.summary_["entry_corr"]["mean"] > 0.99
    assert h.summary_["frobenius_cosine"]["mean"] > 0.99
    assert h.summary_["traceless_cosine"]["mean"] > 0.99
    assert h.summary_["subspace_overlap"]["mean"] == pytest.approx(1.0)


def test_homogeneity_of_unrelated_metrics_and_brute_force():
    rng = np.random.default_rng(1)
    d, n = 30, 5
    base = np.logspace(0, -4, d)
    V = np.stack([random_rotation(d, rng) for _ in range(n)])
    w = np.stack([base] * n)
    h = Homogeneity(subspace_k=5).fit(w, V)
    assert h.summary_["corr_log"]["mean"] < 0.5
    assert h.summary_["subspace_overlap"]["mean"] < 0.5
    # every entry against the formula with explicit matrices
    H = [(V[i] * w[i]) @ V[i].T for i in range(n)]
    i, j = 1, 3
    vhv = np.array([V[i][:, m] @ H[j] @ V[i][:, m] for m in range(d)])
    assert h.corr_log_[i, j] == pytest.approx(np.corrcoef(np.log10(vhv), np.log10(w[j]))[0, 1], rel=1e-9)
    assert h.corr_lin_[i, j] == pytest.approx(np.corrcoef(vhv, w[j])[0, 1], rel=1e-9)
    assert h.entry_corr_[i, j] == pytest.approx(np.corrcoef(H[i].ravel(), H[j].ravel())[0, 1], rel=1e-9)
    cos = np.sum(H[i] * H[j]) / np.linalg.norm(H[i]) / np.linalg.norm(H[j])
    assert h.frobenius_cosine_[i, j] == pytest.approx(cos, rel=1e-9)
    Ti, Tj = (H[k] - np.trace(H[k]) / d * np.eye(d) for k in (i, j))
    cos0 = np.sum(Ti * Tj) / np.linalg.norm(Ti) / np.linalg.norm(Tj)
    assert h.traceless_cosine_[i, j] == pytest.approx(cos0, rel=1e-9)
    Ui, Uj = V[i][:, :5], V[j][:, :5]
    assert h.subspace_overlap_[i, j] == pytest.approx(np.sum((Ui.T @ Uj) ** 2) / 5, rel=1e-9)


def test_traceless_cosine_ignores_a_shared_isotropic_part():
    """Near-isotropic unrelated metrics: entries correlate through the diagonal, traceless parts do not."""
    rng = np.random.default_rng(3)
    d, n = 30, 4
    V = np.stack([random_rotation(d, rng) for _ in range(n)])
    w = 1.0 + 0.1 * rng.random((n, d))
    h = Homogeneity().fit(-np.sort(-w, axis=1), V)
    assert h.summary_["entry_corr"]["mean"] > 0.9
    assert abs(h.summary_["traceless_cosine"]["mean"]) < 0.2


def test_average_hessian_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    d, n = 8, 3
    V = np.stack([random_rotation(d, rng) for _ in range(n)])
    w = np.abs(rng.standard_normal((n, d)))
    mats = np.stack([(V[i] * w[i]) @ V[i].T for i in range(n)])
    avg = AverageHessian().fit(w, V, codes=rng.standard_normal((n, d)))
    np.testing.assert_allclose(avg.matrix_, mats.mean(0), atol=1e-12)
    np.testing.assert_allclose(AverageHessian().fit_matrices(mats).eigvals_, avg.eigvals_, atol=1e-12)
    assert np.all(np.diff(avg.eigvals_) <= 0)
    B = avg.basis(3)
    np.testing.assert_allclose(B.T @ B, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(avg.matrix_ @ B, B * avg.eigvals_[:3], atol=1e-10)
    back = AverageHessian.load(avg.save(tmp_path / "avg.npz"))
    np.testing.assert_array_equal(back.eigvecs_, avg.eigvecs_)
    assert back.n_positions_ == 3 and back.codes_.shape == (3, d)


# ---------------------------------------------------------------------------- axes
def test_linear_and_spherical_walks():
    z = torch.tensor([3.0, 0.0, 0.0, 4.0])
    u = torch.tensor([0.0, 2.0, 0.0, 0.0])
    lin = axis_walk(z, u, [-1.0, 0.0, 2.5])
    torch.testing.assert_close((lin - z).norm(dim=1), torch.tensor([1.0, 0.0, 2.5]))
    sph = axis_walk(z, u, [0.0, 0.3, np.pi / 2], mode="spherical")
    torch.testing.assert_close(sph.norm(dim=1), torch.full((3,), 5.0))
    cos = sph @ z / 25
    torch.testing.assert_close(cos, torch.cos(torch.tensor([0.0, 0.3, np.pi / 2])))
    # a direction with a component along z: only the orthogonal part turns the code
    sph2 = axis_walk(z, u + z, [0.3], mode="spherical")
    torch.testing.assert_close(sph2, sph[1:2])
    with pytest.raises(ValueError, match="parallel"):
        axis_walk(z, z, [0.1], mode="spherical")
    with pytest.raises(ValueError, match="mode must be one of"):
        axis_walk(z, u, [0.1], mode="geodesic")


def test_steps_for_distance_match_the_analytic_answer(linear_generator):
    G = linear_generator
    z = torch.randn(12)
    u = torch.randn(12)
    u = u / u.norm()
    # pixel MSE along a linear walk: D(t) = t^2 |A u|^2 / N
    rate = float((G.A @ u).pow(2).sum() / G.A.shape[0])
    targets = np.array([-0.02, 0.0, 0.01, 0.05])
    steps = steps_for_distance(G, z, u, targets)
    np.testing.assert_allclose(steps, np.sign(targets) * np.sqrt(np.abs(targets) / rate), rtol=1e-4)
    with pytest.raises(ValueError, match="not reached"):
        steps_for_distance(G, z, u, [1e6], max_step=1.0)


def test_axis_strips_and_png(tmp_path, linear_generator):
    z = torch.randn(12)
    V = np.linalg.eigh(linear_generator.metric().numpy())[1][:, ::-1]
    imgs, steps = axis_strips(linear_generator, z, V, axes=(0, 5), targets=[-0.01, 0.0, 0.01])
    assert imgs.shape == (2, 3, 3, 4, 4) and steps.shape == (2, 3)
    # flatter axis (index 5) needs a longer step for the same image change
    assert abs(steps[1, 2]) > abs(steps[0, 2])
    torch.testing.assert_close(imgs[:, 1], linear_generator(z[None]).expand(2, 3, 4, 4))
    path = save_strips(imgs.clamp(0, 1), tmp_path / "strips.png")
    assert Image.open(path).size == (3 * 6 + 2, 2 * 6 + 2)
    with pytest.raises(ValueError, match="exactly one of"):
        axis_strips(linear_generator, z, V, steps=[0.1], targets=[0.1])


# ---------------------------------------------------------------------------- control
def test_shuffled_control_keeps_values_and_changes_arrangement(smooth_generator):
    ctl = shuffled_control(smooth_generator, seed=1)
    again = shuffled_control(smooth_generator, seed=1)
    for (name, p), q, r in zip(smooth_generator.named_parameters(), ctl.parameters(), again.parameters()):
        assert torch.equal(p.flatten().sort().values, q.flatten().sort().values), name
        assert torch.equal(q, r)
        if p.numel() > 10:
            assert not torch.equal(p, q), name
    assert torch.equal(ctl.bn.running_var, smooth_generator.bn.running_var)
    assert not ctl.training


@pytest.mark.slow
def test_shuffled_control_of_a_wrapped_generator(digiface):
    ctl = shuffled_control(digiface, seed=0)
    assert ctl.dim == digiface.dim and ctl.net is not digiface.net
    assert ctl.name == "digiface-dcgan64-shuffled0"
    w0 = next(digiface.net.parameters())
    w1 = next(ctl.net.parameters())
    assert not torch.equal(w0, w1) and torch.equal(w0.flatten().sort().values, w1.flatten().sort().values)
    z = digiface.sample(2, seed=0)
    assert ctl(z).shape == (2, 3, 64, 64)
    with pytest.raises(TypeError, match="nn.Module"):
        shuffled_control(lambda z: z)
    with_buffers = shuffle_weights(digiface.net, seed=0, buffers=True)
    assert not torch.equal(with_buffers.main[1].running_var, digiface.net.main[1].running_var)


# ---------------------------------------------------------------------------- inversion
@pytest.mark.slow
def test_inversion_recovers_the_code_of_a_linear_generator():
    g = torch.Generator().manual_seed(1)
    U, _ = torch.linalg.qr(torch.randn(48, 12, generator=g))
    V, _ = torch.linalg.qr(torch.randn(12, 12, generator=g))
    G = LinearGenerator((U * torch.logspace(0, -0.5, 12)) @ V.T * 4.0, 4)  # well conditioned
    z_true = torch.randn(2, 12, generator=torch.Generator().manual_seed(3))
    inv = Inversion(n_steps=200, lr=0.05, seed=0).fit(G, G(z_true))
    assert inv.codes_.shape == (2, 12) and inv.history_.shape == (201, 2)
    assert np.all(np.diff(inv.history_, axis=0) <= 0)  # best-so-far never gets worse
    torch.testing.assert_close(inv.codes_, z_true, atol=5e-3, rtol=0)
    assert torch.all(inv.distances_ < 1e-6)


@pytest.mark.slow
def test_eigenbasis_inversion_beats_plain_coordinates(linear_generator):
    """On an ill-conditioned generator (metric eigenvalues over 4 decades) the metric's eigenbasis
    suits Adam's per-coordinate steps, and scaling its axes by 1/sqrt(lambda) makes it isotropic."""
    G = linear_generator
    w, V = np.linalg.eigh(G.metric().numpy())
    w, V = w[::-1].copy(), V[:, ::-1].copy()
    z_true = torch.randn(4, 12, generator=torch.Generator().manual_seed(4))
    targets = G(z_true)
    kw = dict(n_steps=150, lr=0.05, seed=1)
    plain = Inversion(**kw).fit(G, targets).distances_.mean()
    eig = Inversion(basis=V, **kw).fit(G, targets).distances_.mean()
    scaled = Inversion(basis=V, eigvals=w, **kw).fit(G, targets).distances_.mean()
    assert eig < 0.5 * plain
    assert scaled < 0.01 * plain
    # restricted to the top-4 axes from the true code's own start: the search stays in that span
    sub = Inversion(basis=V[:, :4], n_steps=20, seed=0).fit(G, targets, init=z_true)
    resid = (sub.codes_ - z_true).double().numpy() @ (np.eye(12) - V[:, :4] @ V[:, :4].T)
    assert np.abs(resid).max() < 1e-5
    with pytest.raises(ValueError, match="orthonormal"):
        Inversion(basis=2 * V).fit(G, targets)
    with pytest.raises(ValueError, match="basis must have shape"):
        Inversion(basis=V[:5]).fit(G, targets)


@pytest.mark.slow
def test_inversion_of_a_real_generator_image(digiface):
    z_true = digiface.sample(1, seed=11)
    target = digiface(z_true).detach()
    inv = Inversion(n_steps=40, lr=0.1, seed=0).fit(digiface, target)
    assert inv.history_[-1, 0] < 0.3 * inv.history_[0, 0]
    assert inv.images_.shape == (1, 3, 64, 64)
