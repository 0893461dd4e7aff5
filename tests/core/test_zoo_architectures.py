"""Architectures of zoo entries whose real weights cannot be fetched here: shapes, counts, round trips."""

from __future__ import annotations

import pytest
import torch

from landscape import zoo
from landscape.models.imagenet import PARAMETERS, ResNet50, build_imagenet_classifier

pytestmark = pytest.mark.slow  # full-size ImageNet and BigGAN architectures, built on the CPU


def test_resnet50_matches_torchvision_layout_and_count():
    net = ResNet50()
    assert sum(p.numel() for p in net.parameters()) == PARAMETERS["resnet50"]
    keys = net.state_dict().keys()
    for k in ("conv1.weight", "layer1.0.downsample.0.weight", "layer4.2.bn3.running_var", "fc.bias"):
        assert k in keys
    net.eval()
    with torch.no_grad():
        assert net(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    net2 = build_imagenet_classifier("resnet50")
    net2.load_state_dict(net.state_dict(), strict=True)
    with pytest.raises(ValueError, match="valid: alexnet, vgg16, resnet50"):
        build_imagenet_classifier("resnet18")


def test_imagenet_entries_load_through_the_cache(tmp_path, monkeypatch):
    """A saved state dict in the cache layout loads through the zoo's real path (digest aside)."""
    net = build_imagenet_classifier("alexnet")
    entry = zoo.get("alexnet-imagenet")
    assert entry.files[0].sha256 == "7be5be79"  # torchvision's published digest prefix
    (tmp_path / entry.family).mkdir()
    path = tmp_path / entry.family / entry.files[0].name
    torch.save(net.state_dict(), path)
    fake = zoo.ZooEntry(entry.name, entry.kind, entry.family,
                        (zoo.ZooFile(entry.files[0].name, entry.files[0].url, zoo.sha256_of(path)),),
                        entry.loader, entry.description, info=entry.info)
    monkeypatch.setitem(zoo.entries(), entry.name, fake)
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    model = zoo.load("alexnet-imagenet")
    assert model.input_size == 224
    x = torch.rand(2, 3, 100, 100)
    with torch.no_grad():
        assert torch.allclose(model(x), net.eval()(model.preprocess(x)), atol=1e-5)


def test_biggan_wrapper_codes_and_images():
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig

    from landscape.models.biggan import wrap_biggan

    torch.manual_seed(0)
    cfg = BigGANConfig(output_dim=128, channel_width=8)
    net = BigGAN(cfg).eval()
    G = wrap_biggan(net, "biggan-test")
    z = G.sample(3, seed=1)
    assert z.shape == (3, 256) and torch.equal(z, G.sample(3, seed=1))
    emb = net.embeddings.weight.T
    assert all(any(torch.allclose(z[i, 128:], e) for e in emb) for i in range(3))
    with torch.no_grad():
        im = G(z)
    # untrained weights from the package are not meaningful images; shapes and the code layout are
    assert im.shape == (3, 3, 128, 128)


def test_biggan_entry_names_its_package(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda n, *a: None if n == "pytorch_pretrained_biggan" else real(n, *a))
    with pytest.raises(zoo.ZooError, match="pip install pytorch-pretrained-biggan"):
        zoo.load("biggan-deep-256")
