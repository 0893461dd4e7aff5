"""geometry.distances: pixel MSE, calibrated LPIPS over our trunks, feature distances over zoo CNNs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from geometry.distances import LPIPS, PixelMSE, check_distance_output, load_lin_weights
from geometry.trunks import AlexNet, SqueezeNet11


@pytest.fixture(scope="module")
def random_trunk_files():
    """torchvision-layout state dicts with random weights (the real ones cannot be downloaded here).

    Convolutions get He-scaled Gaussian weights; the classifier, which LPIPS never runs, is zero.
    """
    g = torch.Generator().manual_seed(0)
    out = {}
    for name, cls in (("alex", AlexNet), ("squeeze", SqueezeNet11)):
        with torch.device("meta"):
            shapes = {k: v.shape for k, v in cls().state_dict().items()}
        sd = {}
        for k, shape in shapes.items():
            if k.startswith("classifier") or len(shape) == 1:
                sd[k] = torch.zeros(shape)
            else:
                sd[k] = torch.randn(shape, generator=g) * (2.0 / shape[1:].numel()) ** 0.5
        out[name] = sd
    return out


def reference_lpips(net, lin, a, b):
    """LPIPS written out the way the `lpips` package computes it, for comparison."""
    shift = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
    scale = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)
    xa, xb = (2 * a - 1 - shift) / scale, (2 * b - 1 - shift) / scale
    total = 0
    start = 0
    for k, end in enumerate(net.lpips_slices):
        for i in range(start, end):
            xa, xb = net.features[i](xa), net.features[i](xb)
        start = end
        na = xa / (torch.sqrt(torch.sum(xa ** 2, dim=1, keepdim=True)) + 1e-10)
        nb = xb / (torch.sqrt(torch.sum(xb ** 2, dim=1, keepdim=True)) + 1e-10)
        diff = (na - nb) ** 2
        total = total + F.conv2d(diff, lin[f"lin{k}.model.1.weight"]).mean(dim=(2, 3), keepdim=True)
    return total.flatten()


def test_pixel_mse():
    a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    b[1] *= 3
    assert torch.allclose(PixelMSE()(a, b), torch.tensor([1.0, 9.0]))
    assert torch.allclose(PixelMSE().reference(a[:1])(b), torch.tensor([1.0, 9.0]))


@pytest.mark.parametrize("net", ["alex", "squeeze"])
def test_calibrated_lpips_matches_reference_formula(random_trunk_files, weights_dir, net):
    d = LPIPS(net, trunk_weights=random_trunk_files[net])  # lin weights found via LANDSCAPE_HOME
    assert d.calibrated and d.layer_names[0] == "relu1"
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 3, 64, 64, generator=g), torch.rand(3, 3, 64, 64, generator=g)
    lin = torch.load(weights_dir / "lpips-v0.1" / f"{net}.pth", map_location="cpu", weights_only=True)
    ref = reference_lpips(d.net, lin, a, b)
    out = d(a, b)
    assert out.shape == (3,)
    assert torch.allclose(out, ref, rtol=1e-5, atol=1e-7)
    assert torch.allclose(d(b, a), out, rtol=1e-5)
    assert torch.allclose(d.reference(a[:1])(b), d(a[:1].expand_as(b), b), rtol=1e-5)
    assert torch.all(d(a, a).abs() < 1e-6)
    # the calibration is used: uniform weights give a different number
    plain = LPIPS(net, trunk_weights=random_trunk_files[net], lin_weights=None)
    assert not plain.calibrated
    assert not torch.allclose(plain(a, b), out, rtol=1e-2)


def test_lin_weights_from_dict_and_errors(random_trunk_files, weights_dir, tmp_path, monkeypatch):
    lin = torch.load(weights_dir / "lpips-v0.1" / "alex.pth", map_location="cpu", weights_only=True)
    d = LPIPS("alex", lin_weights=lin, trunk_weights=random_trunk_files["alex"])
    assert [int(getattr(d, f"lin{k}").numel()) for k in range(5)] == [64, 192, 384, 256, 256]
    sq = torch.load(weights_dir / "lpips-v0.1" / "squeeze.pth", map_location="cpu", weights_only=True)
    with pytest.raises(ValueError, match="belong to another trunk"):
        LPIPS("alex", lin_weights=sq, trunk_weights=random_trunk_files["alex"])
    with pytest.raises(KeyError, match="lin0.model.1.weight"):
        load_lin_weights({"foo": torch.ones(1)}, 1)
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"alex\.pth.*lpips"):
        LPIPS("alex", trunk_weights=random_trunk_files["alex"])
    with pytest.raises(ValueError, match="unknown trunk 'alexnet'"):
        LPIPS("alexnet")


def test_missing_trunk_weights_say_where_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"vgg16-397923af\.pth, published at https://download\.pytorch\.org"):
        LPIPS("vgg")


@pytest.fixture(scope="module")
def resnet20():
    from landscape import zoo

    return zoo.load("resnet20-cifar10")


def test_feature_distance_over_a_zoo_cnn(resnet20):
    d = LPIPS(resnet20, layers=["net.layer1", "net.layer2", "net.layer3"])
    assert not d.calibrated
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 64, 64, generator=g)
    noise = torch.randn(2, 3, 64, 64, generator=g)
    assert torch.all(d(x, x).abs() < 1e-6)
    values = [d(x, (x + s * noise).clamp(0, 1)) for s in (0.01, 0.05, 0.2)]
    assert all(torch.all(b > a) for a, b in zip(values, values[1:]))
    # hooks are temporary: the zoo model is left without any
    assert all(len(m._forward_hooks) == 0 for m in resnet20.modules())
    # the normalised features of each layer differ by at most 2 per position, so D <= 4 per layer
    assert torch.all(values[-1] <= 4 * 3)


def test_feature_distance_stops_after_last_tap(resnet20):
    calls = []
    h = resnet20.net.linear.register_forward_hook(lambda *a: calls.append(1))
    try:
        LPIPS(resnet20, layers=["net.layer1"])(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    finally:
        h.remove()
    assert calls == []


def test_module_trunk_errors(resnet20):
    with pytest.raises(ValueError, match=r"layers \['net.layer9'\] are not submodules.*net.layer1"):
        LPIPS(resnet20, layers=["net.layer9"])
    with pytest.raises(ValueError, match="needs layers"):
        LPIPS(resnet20)
    with pytest.raises(ValueError, match="calibrates only the named trunks"):
        LPIPS(resnet20, layers=["net.layer1"], lin_weights="v0.1")
    with pytest.raises(ValueError, match="only for module trunks"):
        LPIPS("alex", layers=["features.1"])


def test_check_distance_output():
    assert check_distance_output(torch.ones(3, 1, 1, 1), 3).shape == (3,)
    with pytest.raises(ValueError, match=r"shape \(3,\).*returned shape \(\)"):
        check_distance_output(torch.tensor(1.0), 3)
    with pytest.raises(ValueError, match=r"returned shape \(3, 2\)"):
        check_distance_output(torch.ones(3, 2), 3)


def test_feature_distance_metric_matches_autograd(resnet20, digiface, digiface_code):
    """The resnet20-cifar10 feature distance through the real digiface generator (64 -> 32 pixels,
    antialiased) works under torch.func and gives autograd's Hessian on a 3-d slice."""
    from geom_helpers import AffineSlice

    from geometry.hessian import hessian

    B, _ = torch.linalg.qr(torch.randn(100, 3, generator=torch.Generator().manual_seed(0)))
    G = AffineSlice(digiface, digiface_code, B)
    D = LPIPS(resnet20, layers=["net.layer1", "net.layer2", "net.layer3"])
    w0 = torch.zeros(3)
    x0 = G(w0[None]).detach()
    ref = torch.autograd.functional.hessian(lambda w: D(x0, G(w[None]))[0], w0).double()
    for backend, used in (("auto", "jacobian"), ("func", "func")):  # forward mode, and forward-over-reverse
        r = hessian(G, w0, D, "full", return_matrix=True, backend=backend)
        assert r.backend == used
        assert (torch.from_numpy(r.matrix) - ref).abs().max() < 1e-4 * ref.abs().max()


def test_feature_distance_over_darknet():
    from landscape import zoo

    net = zoo.load("darknet-tiny-imagenet")
    d = LPIPS(net, layers=["net.leaky_re_lu_3", "net.leaky_re_lu_6"])
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 64, 64, generator=g)
    noise = torch.randn(1, 3, 64, 64, generator=g)
    assert d(x, x).abs().item() < 1e-6
    assert d(x, (x + 0.02 * noise).clamp(0, 1)).item() < d(x, (x + 0.2 * noise).clamp(0, 1)).item()
