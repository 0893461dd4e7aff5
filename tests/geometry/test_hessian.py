"""geometry.hessian: every method against known metrics."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from geometry.distances import PixelMSE
from geometry.hessian import HessianResult, HessianStack, MetricHVP, hessian, hessians

from geom_helpers import AffineSlice, SmoothConvGenerator


def rel_err(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


def subspace_alignment(U: np.ndarray, V: np.ndarray) -> float:
    """Smallest cosine of the principal angles between the column spaces of U and V."""
    return float(np.linalg.svd(U.T @ V, compute_uv=False).min())


@pytest.mark.parametrize("backend", ["func", "backward", "loop"])
def test_full_matches_linear_metric(linear_generator, backend):
    H = linear_generator.metric().numpy()
    z = torch.randn(linear_generator.dim)
    r = hessian(linear_generator, z, "mse", "full", backend=backend, return_matrix=True, chunk_size=5)
    assert r.backend == backend
    assert rel_err(r.matrix, H) < 1e-4
    w_true = np.linalg.eigvalsh(H)[::-1]
    assert rel_err(r.eigvals, w_true) < 1e-4
    assert np.all(np.diff(r.eigvals) <= 0)
    # each eigenvector satisfies H v = lambda v
    assert rel_err(H @ r.eigvecs, r.eigvecs * r.eigvals) < 1e-4


def test_lanczos_and_fd_match_linear_metric(linear_generator):
    H = linear_generator.metric().numpy()
    w_true, V_true = np.linalg.eigh(H)
    w_true, V_true = w_true[::-1], V_true[:, ::-1]
    z = torch.randn(linear_generator.dim)
    k = 4
    lz = hessian(linear_generator, z, "mse", "lanczos", k=k)
    assert lz.eigvals.shape == (k,) and lz.eigvecs.shape == (12, k)
    assert rel_err(lz.eigvals, w_true[:k]) < 1e-4
    assert subspace_alignment(lz.eigvecs, V_true[:, :k]) > 1 - 1e-4
    fd = hessian(linear_generator, z, "mse", "fd", return_matrix=True)
    assert rel_err(fd.matrix, H) < 1e-4
    fdk = hessian(linear_generator, z, "mse", "fd", k=k)
    assert rel_err(fdk.eigvals, w_true[:k]) < 1e-4


@pytest.mark.slow
def test_full_matches_autograd_on_a_real_generator_slice(digiface, digiface_code):
    """The real digiface DCGAN restricted to 8 random directions: our batched HVPs vs autograd's Hessian."""
    g = torch.Generator().manual_seed(0)
    B, _ = torch.linalg.qr(torch.randn(100, 8, generator=g))
    G = AffineSlice(digiface, digiface_code, B)
    w0 = torch.zeros(8)
    x0 = G(w0[None]).detach()
    ref = torch.autograd.functional.hessian(lambda w: (G(w[None]) - x0).pow(2).mean(), w0).double().numpy()
    r = hessian(G, w0, PixelMSE(), "full", return_matrix=True, backend="func")
    assert r.backend == "func"
    assert rel_err(r.matrix, ref) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("distance", ["mse", "lpips-calibrated", "lpips-module"])
def test_full_by_jacobian_equals_full_by_hvps(distance):
    from geometry.distances import LPIPS

    G = SmoothConvGenerator(dim=10, seed=4)
    z = torch.randn(10, generator=torch.Generator().manual_seed(2))
    if distance == "mse":
        D = PixelMSE()
    elif distance == "lpips-calibrated":
        torch.manual_seed(0)
        lin = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate((64, 192, 384, 256, 256))}
        D = LPIPS("alex", trunk_weights="random", lin_weights=lin, resize=64)
    else:
        torch.manual_seed(0)
        trunk = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.Softplus(), torch.nn.Conv2d(6, 5, 3))
        D = LPIPS(trunk, layers=["1", "2"], lin_weights=None)
    a = hessian(G, z, D, "full", return_matrix=True)
    b = hessian(G, z, D, "full", return_matrix=True, backend="func")
    assert a.backend == "jacobian" and b.backend == "func" and a.n_hvp == b.n_hvp == 10
    assert rel_err(a.matrix, b.matrix) < 1e-4
    # the distance's own value is the quadratic form it reports
    phi, w = D.quadratic_form(G(z[None]))
    x0, x1 = G(z[None]), G((z + 0.3)[None])
    assert torch.allclose((w * (phi(x1) - phi(x0)) ** 2).sum(), D(x0, x1).sum(), rtol=1e-5)


@pytest.mark.parametrize("distance", ["mse", "lpips-module"])
def test_jacobian_products_equal_forward_over_reverse_hvps(distance):
    """``2 Jᵀ diag(w) J v`` (the block method's engine for quadratic-form distances) is the Hessian
    product: against vmapped forward-over-reverse on a smooth generator, and in float64."""
    from geometry.distances import LPIPS

    G = SmoothConvGenerator(dim=10, seed=4).double()
    z = torch.randn(10, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    if distance == "mse":
        D = PixelMSE()
    else:
        torch.manual_seed(0)
        trunk = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.Softplus(), torch.nn.Conv2d(6, 5, 3)).double()
        D = LPIPS(trunk, layers=["1", "2"], lin_weights=None)
    V = torch.randn(7, 10, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    gn = MetricHVP(G, z, D, chunk_size=3)
    assert gn.backend == "jacobian"
    ref = MetricHVP(G, z, D, backend="func").matmat(V)
    out = gn.matmat(V)
    assert gn.backend == "jacobian" and gn.n_hvp == 7
    assert rel_err(out, ref) < 1e-10
    # the block method uses it, and still finds the full matrix's top pairs
    full = hessian(G, z, D, "full", return_matrix=True, backend="func")
    r = hessian(G, z, D, "block", k=2, block_size=1)
    assert r.backend == "jacobian"
    assert np.max(np.abs(r.eigvals - full.eigvals[:2]) / full.eigvals[:2]) < 1e-8


def test_jacobian_backend_needs_a_quadratic_form(linear_generator):
    z = torch.randn(linear_generator.dim)
    with pytest.raises(ValueError, match="quadratic_form"):
        MetricHVP(linear_generator, z, lambda a, b: (a - b).abs().flatten(1).sum(1), backend="jacobian")
    # a distance without one keeps forward-over-reverse under "auto"
    assert MetricHVP(linear_generator, z, lambda a, b: (a - b).pow(2).flatten(1).sum(1)).backend == "func"


def test_full_matches_autograd_on_smooth_generator(smooth_generator):
    z = torch.randn(6)
    x0 = smooth_generator(z[None]).detach()
    ref = torch.autograd.functional.hessian(lambda v: (smooth_generator(v[None]) - x0).pow(2).mean(), z)
    r = hessian(smooth_generator, z, "mse", "full", return_matrix=True)
    assert rel_err(r.matrix, ref.numpy()) < 1e-4


@pytest.mark.slow
def test_lanczos_top_k_matches_full_on_digiface(digiface, digiface_code, digiface_full):
    full = digiface_full
    assert full.eigvals.shape == (100,) and full.eigvecs.shape == (100, 100)
    # a metric is positive semi-definite: negative eigenvalues are rounding only
    assert full.eigvals[0] > 0 and full.eigvals.min() > -1e-5 * full.eigvals[0]
    k = 5
    lz = hessian(digiface, digiface_code, "mse", "lanczos", k=k)
    assert rel_err(lz.eigvals, full.eigvals[:k]) < 1e-4
    for i in range(k):
        assert abs(lz.eigvecs[:, i] @ full.eigvecs[:, i]) > 0.999


def test_block_top_k_matches_full_on_digiface(digiface, digiface_code, digiface_full, single_thread):
    k, block = 12, 6
    full = digiface_full
    r = hessian(digiface, digiface_code, "mse", "block", k=k, block_size=block)
    assert r.meta["strategy"] == "block Lanczos" and r.meta["stop"] == "converged"
    assert r.n_hvp < 100  # fewer products than the complete matrix
    assert np.max(np.abs(r.eigvals - full.eigvals[:k]) / full.eigvals[:k]) < 1e-4
    overlaps = np.abs(np.sum(r.eigvecs * full.eigvecs[:, :k], axis=0))
    assert overlaps.min() >= 0.999
    # the Ritz vectors are orthonormal and the returned pairs are eigenpairs of the full matrix
    np.testing.assert_allclose(r.eigvecs.T @ r.eigvecs, np.eye(k), atol=1e-10)
    hv = full.reconstruct() @ r.eigvecs
    assert np.abs(hv - r.eigvecs * r.eigvals).max() < 1e-4 * r.eigvals[0]


def test_block_takes_the_complete_matrix_when_it_is_cheaper(linear_generator):
    H = linear_generator.metric().numpy()
    z = torch.randn(linear_generator.dim)
    r = hessian(linear_generator, z, "mse", "block", k=3)
    assert r.meta["strategy"].startswith("full matrix") and r.n_hvp == 12
    assert rel_err(r.eigvals, np.linalg.eigvalsh(H)[::-1][:3]) < 1e-4


def test_block_stops_at_maxiter_with_a_warning(digiface, digiface_code, single_thread):
    with pytest.warns(RuntimeWarning, match="maxiter=3 blocks"):
        r = hessian(digiface, digiface_code, "mse", "block", k=10, block_size=4, maxiter=3)
    assert r.meta["stop"] == "maxiter" and r.n_hvp == 12 and r.eigvals.shape == (10,)
    with pytest.raises(ValueError, match="fewer than k=10 vectors"):
        hessian(digiface, digiface_code, "mse", "block", k=10, block_size=4, maxiter=2)


def test_fd_converges_to_full_as_step_shrinks():
    G = SmoothConvGenerator(dim=6, seed=2)
    z = torch.randn(6, generator=torch.Generator().manual_seed(5)).double()
    G.double()
    full = hessian(G, z, "mse", "full", return_matrix=True)
    errs = [rel_err(hessian(G, z, "mse", "fd", rel_step=s, return_matrix=True).matrix, full.matrix)
            for s in (1e-1, 3e-2, 1e-2, 3e-3)]
    assert all(b < a for a, b in zip(errs, errs[1:])), errs
    # central differences: error ~ step^2
    assert errs[-1] < 1e-3 and errs[0] / errs[-1] > 50, errs


class _SmoothStep(torch.autograd.Function):
    """softplus written as an old-style autograd.Function: torch.func cannot transform it."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.nn.functional.softplus(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * torch.sigmoid(x)


def test_auto_backend_falls_back_with_a_warning(linear_generator):
    A = linear_generator.A

    def G(z):
        return _SmoothStep.apply(z @ A.T).reshape(-1, 3, 4, 4)

    def G_ref(z):
        return torch.nn.functional.softplus(z @ A.T).reshape(-1, 3, 4, 4)

    z = torch.randn(12)
    with pytest.warns(RuntimeWarning) as seen:
        r = hessian(G, z, "mse", "full", return_matrix=True)
    messages = [str(w.message) for w in seen]
    assert any("the Jacobian route to the full metric failed" in m for m in messages)
    assert any("falling back" in m for m in messages)
    assert r.backend in ("backward", "loop")
    ref = hessian(G_ref, z, "mse", "full", return_matrix=True, backend="func")
    assert rel_err(r.matrix, ref.matrix) < 1e-4


def test_bad_inputs_raise_clear_errors(linear_generator):
    G = linear_generator
    z = torch.randn(12)
    with pytest.raises(ValueError, match="codes of size 12, got a code of size 7"):
        hessian(G, torch.randn(7))
    with pytest.raises(ValueError, match=r"shape \(d,\) or \(1, d\)"):
        hessian(G, torch.randn(2, 12))
    with pytest.raises(ValueError, match="Is 7 its code size"):
        hessian(lambda c: G(c), torch.randn(7))
    with pytest.raises(ValueError, match="k=13 exceeds the code dimension d=12"):
        hessian(G, z, k=13)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        hessian(G, z, k=0)
    with pytest.raises(ValueError, match="needs k"):
        hessian(G, z, method="lanczos")
    with pytest.raises(ValueError, match="method='block' needs k"):
        hessian(G, z, method="block")
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        hessian(G, z, method="block", k=2, block_size=0)
    with pytest.raises(ValueError, match="at most d-1"):
        hessian(G, z, method="lanczos", k=12)
    with pytest.raises(ValueError, match=r"method must be one of \('full', 'lanczos', 'block', 'fd'\)"):
        hessian(G, z, method="exact")
    with pytest.raises(ValueError, match="backend must be one of"):
        hessian(G, z, backend="magic")
    with pytest.raises(ValueError, match="unknown distance name 'lpips'"):
        hessian(G, z, "lpips")
    with pytest.raises(ValueError, match=r"one value per image pair.*shape \(2,\).*returned shape \(\)"):
        hessian(G, z, lambda a, b: (a - b).pow(2).mean())
    with pytest.raises(ValueError, match=r"one value per image pair.*returned shape \(2, 3\)"):
        hessian(G, z, lambda a, b: (a - b).pow(2).mean(dim=(2, 3)))
    with pytest.raises(TypeError, match="must return a tensor"):
        hessian(G, z, lambda a, b: 0.0)


def test_distance_in_lpips_package_shape_is_accepted(linear_generator):
    z = torch.randn(12)
    r = hessian(linear_generator, z, lambda a, b: (a - b).pow(2).mean(dim=(1, 2, 3), keepdim=True), "full",
                return_matrix=True)
    assert rel_err(r.matrix, linear_generator.metric().numpy()) < 1e-4


def test_results_save_and_load(tmp_path, linear_generator):
    z = torch.randn(12)
    r = hessian(linear_generator, z, "mse", "full", return_matrix=True)
    path = r.save(tmp_path / "h.npz")
    back = HessianResult.load(path)
    np.testing.assert_array_equal(back.eigvals, r.eigvals)
    np.testing.assert_array_equal(back.matrix, r.matrix)
    assert back.method == "full" and back.n_hvp == r.n_hvp == 12
    stack = hessians(linear_generator, torch.randn(3, 12), "mse", "lanczos", k=3, progress=False)
    assert stack.eigvals.shape == (3, 3) and stack.eigvecs.shape == (3, 12, 3)
    back = HessianStack.load(stack.save(tmp_path / "s.npz"))
    np.testing.assert_array_equal(back.eigvecs, stack.eigvecs)
    assert back.meta["method"] == "lanczos"


@pytest.mark.parametrize("method", ["full", "lanczos", "block"])
def test_products_run_without_tf32(linear_generator, method):
    # cuDNN's default TF32 convolutions (Ampere+ GPUs) would cost three decimal digits
    seen = []

    def G(z):
        seen.append((torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32))
        return linear_generator(z)

    before = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    try:
        hessian(G, torch.randn(12), "mse", method, **({} if method == "full" else {"k": 2}))
        assert (True, True) in seen and (False, False) in seen  # the reference image, then the products
        assert all(flags == (False, False) for flags in seen[2:])
        assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == (True, True)
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def test_hvp_operator_matches_matrix(linear_generator):
    op = MetricHVP(linear_generator, torch.randn(12), "mse", chunk_size=4)
    V = torch.randn(9, 12)
    H = linear_generator.metric().float()
    assert rel_err(op.matmat(V).numpy(), (V @ H).numpy()) < 1e-4
    assert op.n_hvp == 9


@pytest.mark.cuda
def test_follows_the_code_device(linear_generator):
    A = linear_generator.A.cuda()
    r = hessian(lambda z: (z @ A.T).reshape(-1, 3, 4, 4), torch.randn(12, device="cuda"), "mse", "full",
                return_matrix=True)
    assert r.meta["device"].startswith("cuda")
    assert rel_err(r.matrix, linear_generator.metric().numpy()) < 1e-4


@pytest.mark.cuda
@pytest.mark.parametrize("method", ["full", "block", "lanczos", "fd"])
def test_every_method_on_cuda_agrees_with_the_cpu(cuda, method):
    G_cpu = SmoothConvGenerator(dim=40, seed=3)
    G_dev = SmoothConvGenerator(dim=40, seed=3).to(cuda)
    z = torch.randn(40, generator=torch.Generator().manual_seed(6))
    kw = {"k": 6} if method != "full" else {}
    if method == "block":
        kw["block_size"] = 4  # 3 (k + block) < d: block Lanczos proper, not the complete matrix
    a = hessian(G_dev, z.to(cuda), "mse", method, **kw)
    b = hessian(G_cpu, z, "mse", method, **kw)
    assert a.meta["device"].startswith(cuda.type) and b.meta["device"] == "cpu"
    assert rel_err(a.eigvals[:6], b.eigvals[:6]) < (1e-2 if method == "fd" else 1e-4)
    overlaps = np.abs(np.sum(a.eigvecs[:, :6] * b.eigvecs[:, :6], axis=0))
    assert overlaps.min() > (0.95 if method == "fd" else 0.999)
    if method == "block":
        assert a.meta["strategy"] == "block Lanczos"
