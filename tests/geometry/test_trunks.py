"""geometry.trunks: torchvision's exact layouts, parameter counts and LPIPS taps."""

from __future__ import annotations

import pytest
import torch

from geometry import trunks, weights
from geometry.trunks import AlexNet, SqueezeNet11, VGG16

PUBLISHED = {AlexNet: 61_100_840, VGG16: 138_357_544, SqueezeNet11: 1_235_496}


@pytest.mark.parametrize("cls", [AlexNet, VGG16, SqueezeNet11])
def test_parameter_counts_match_published(cls):
    with torch.device("meta"):
        m = cls()
    assert sum(p.numel() for p in m.parameters()) == PUBLISHED[cls]


def test_alexnet_keys_are_torchvision_layout():
    with torch.device("meta"):
        sd = AlexNet().state_dict()
    expected = {
        "features.0": (64, 3, 11, 11), "features.3": (192, 64, 5, 5), "features.6": (384, 192, 3, 3),
        "features.8": (256, 384, 3, 3), "features.10": (256, 256, 3, 3),
        "classifier.1": (4096, 9216), "classifier.4": (4096, 4096), "classifier.6": (1000, 4096),
    }
    want = {}
    for k, shape in expected.items():
        want[f"{k}.weight"] = shape
        want[f"{k}.bias"] = (shape[0],)
    assert {k: tuple(v.shape) for k, v in sd.items()} == want


def test_vgg16_keys_are_torchvision_layout():
    with torch.device("meta"):
        sd = VGG16().state_dict()
    convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    want = {f"features.{i}.{p}" for i in convs for p in ("weight", "bias")}
    want |= {f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")}
    assert set(sd) == want
    assert tuple(sd["features.28.weight"].shape) == (512, 512, 3, 3)
    assert tuple(sd["classifier.0.weight"].shape) == (4096, 25088)


def test_squeezenet_keys_are_torchvision_layout():
    with torch.device("meta"):
        sd = SqueezeNet11().state_dict()
    fires = {3: (64, 16, 64), 4: (128, 16, 64), 6: (128, 32, 128), 7: (256, 32, 128),
             9: (256, 48, 192), 10: (384, 48, 192), 11: (384, 64, 256), 12: (512, 64, 256)}
    want = {"features.0.weight": (64, 3, 3, 3), "features.0.bias": (64,),
            "classifier.1.weight": (1000, 512, 1, 1), "classifier.1.bias": (1000,)}
    for i, (cin, sq, ex) in fires.items():
        want[f"features.{i}.squeeze.weight"] = (sq, cin, 1, 1)
        want[f"features.{i}.squeeze.bias"] = (sq,)
        want[f"features.{i}.expand1x1.weight"] = (ex, sq, 1, 1)
        want[f"features.{i}.expand1x1.bias"] = (ex,)
        want[f"features.{i}.expand3x3.weight"] = (ex, sq, 3, 3)
        want[f"features.{i}.expand3x3.bias"] = (ex,)
    assert {k: tuple(v.shape) for k, v in sd.items()} == want


def test_weight_file_round_trip(tmp_path, monkeypatch):
    torch.manual_seed(0)
    src = SqueezeNet11().eval()
    path = tmp_path / src.weight_file
    torch.save(src.state_dict(), path)
    # random weights are not torchvision's file: refused by digest (tests/geometry/test_weights.py);
    # this test is about the layout, so it publishes its own file's digest
    monkeypatch.setitem(weights.PUBLISHED_SHA256, src.weight_file, weights.sha256_of(path))
    loaded = trunks.load_trunk("squeeze", path)
    x = torch.rand(2, 3, 96, 96)
    assert torch.equal(loaded(x), src(x))
    for a, b in zip(loaded.lpips_features(x), src.lpips_features(x)):
        assert torch.equal(a, b)
    assert not any(p.requires_grad for p in loaded.parameters())


def test_alexnet_state_dict_round_trip():
    torch.manual_seed(0)
    src = AlexNet().eval()
    loaded = trunks.load_trunk("alex", src.state_dict())
    x = torch.rand(1, 3, 64, 64)
    assert torch.equal(loaded(x), src(x))
    # the loaded trunk holds copies, not the caller's tensors
    assert loaded.features[0].weight.data_ptr() != src.features[0].weight.data_ptr()


def test_vgg16_state_dict_round_trip():
    # random tensors in torchvision's layout load strictly and come back unchanged (built on the
    # meta device and assigned, so no 138M-parameter initialisation is paid twice)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in VGG16().state_dict().items()}
        m = VGG16()
    g = torch.Generator().manual_seed(0)
    sd = {k: torch.randn(s, generator=g) * 0.01 for k, s in shapes.items() if len(s) < 2 or s[1] < 25088}
    sd["classifier.0.weight"] = torch.zeros(shapes["classifier.0.weight"])
    m.load_state_dict(sd, strict=True, assign=True)
    back = m.state_dict()
    assert all(torch.equal(back[k], sd[k]) for k in sd)
    out = m.eval()(torch.rand(1, 3, 32, 32))[0]
    # with the first classifier weight zero the logits depend on the classifier only
    h = torch.relu(sd["classifier.0.bias"])
    h = torch.relu(sd["classifier.3.weight"] @ h + sd["classifier.3.bias"])
    assert torch.allclose(out, sd["classifier.6.weight"] @ h + sd["classifier.6.bias"], atol=1e-6)


@pytest.mark.parametrize("cls", [AlexNet, VGG16, SqueezeNet11])
def test_lpips_taps_have_the_calibrated_channels(cls, weights_dir):
    with torch.device("meta"):
        m = cls()
        feats = m.lpips_features(torch.empty(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == list(cls.lpips_channels)
    assert len(cls.lpips_names) == len(cls.lpips_slices)
    net = {AlexNet: "alex", VGG16: "vgg", SqueezeNet11: "squeeze"}[cls]
    lin = torch.load(weights_dir / "lpips-v0.1" / f"{net}.pth", map_location="cpu", weights_only=True)
    assert [lin[f"lin{k}.model.1.weight"].shape[1] for k in range(len(lin))] == list(cls.lpips_channels)


def test_alexnet_taps_are_the_relu_outputs():
    torch.manual_seed(0)
    m = AlexNet().eval()
    x = torch.rand(1, 3, 64, 64)
    feats = m.lpips_features(x)
    # relu1 is ReLU(conv1(x)); relu5 is the last ReLU before the final max-pool
    assert torch.equal(feats[0], torch.relu(m.features[0](x)))
    assert torch.equal(feats[4], m.features[:12](x))
    assert m.lpips_layer_names() == ["features.1", "features.4", "features.7", "features.9", "features.11"]


def test_missing_weights_name_the_file_and_url(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setenv("LANDSCAPE_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match=r"alexnet-owt-7be5be79\.pth.*https://download\.pytorch\.org/models/"):
        trunks.load_trunk("alex")
    with pytest.raises(FileNotFoundError, match="squeezenet1_1-b8a52dc0.pth"):
        trunks.load_trunk("squeeze", tmp_path / "nope.pth")
    with pytest.raises(ValueError, match="unknown trunk 'resnet'; valid names: alex, vgg, squeeze"):
        trunks.load_trunk("resnet")


def test_hub_checkpoint_is_found(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    torch.manual_seed(1)
    src = SqueezeNet11()
    (tmp_path / "checkpoints").mkdir()
    torch.save(src.state_dict(), tmp_path / "checkpoints" / SqueezeNet11.weight_file)
    monkeypatch.setitem(weights.PUBLISHED_SHA256, SqueezeNet11.weight_file,
                        weights.sha256_of(tmp_path / "checkpoints" / SqueezeNet11.weight_file))
    loaded = trunks.load_trunk("squeeze")
    assert torch.equal(loaded.features[0].weight, src.features[0].weight)
