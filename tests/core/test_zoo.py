"""The zoo loads the real published files and fails clearly when it cannot."""

from __future__ import annotations

import glob
import json

import numpy as np
import pytest
import torch
from PIL import Image

from landscape import zoo
from landscape.models.deepsim import DeePSiMGenerator, load_deepsim_state
from landscape.models.tfjs import read_tfjs_layers_model, same_padding


def _images(pattern: str, size: int | None = None) -> tuple[torch.Tensor, list[int]]:
    files = sorted(glob.glob(pattern))
    ims = []
    for f in files:
        im = Image.open(f).convert("RGB")
        if size:
            im = im.resize((size, size), Image.BILINEAR)
        ims.append(torch.from_numpy(np.array(im)).permute(2, 0, 1).float() / 255)
    return torch.stack(ims), [int(f.rsplit("_", 1)[1].split(".")[0]) for f in files]


def test_resnet_cifar_classifies_real_images(weights_dir):
    x, labels = _images(str(weights_dir / "images" / "cifar10_*.png"))
    for name, min_correct in [("resnet20-cifar10", 17), ("resnet32-cifar10", 17)]:
        model = zoo.load(name)
        pred = model(x).argmax(1).tolist()
        assert sum(p == t for p, t in zip(pred, labels)) >= min_correct, name
        assert sum(p.numel() for p in model.parameters()) == {"resnet20-cifar10": 269_722,
                                                              "resnet32-cifar10": 464_154}[name]


@pytest.mark.slow
def test_darknet_reader_and_remap(weights_dir):
    x, labels = _images(str(weights_dir / "images" / "imagenet_*.jpg"), size=224)
    model = zoo.load("darknet-tiny-imagenet")
    n_params = sum(p.numel() for p in model.net.parameters()) + sum(
        b.numel() for n, b in model.net.named_buffers() if "running" in n)
    assert 1_000_000 < n_params < 1_100_000
    top5 = model(x).topk(5, dim=1).indices.tolist()
    assert sum(t[0] == y for t, y in zip(top5, labels)) >= 14
    assert sum(y in t for t, y in zip(top5, labels)) >= 18
    # without the remap, accuracy collapses: the remap is what puts outputs in standard order
    raw = torch.nn.Sequential(*list(model.net.children())[:-1])
    raw_top1 = raw(model.preprocess(x)).argmax(1).tolist()
    assert sum(p == y for p, y in zip(raw_top1, labels)) <= 3


def test_tfjs_same_padding_matches_tensorflow_rule():
    assert same_padding(224, 3, 1) == (1, 1)
    assert same_padding(7, 2, 2) == (0, 1)  # TF puts the odd pixel after
    assert same_padding(8, 2, 2) == (0, 0)


def test_tfjs_reader_rejects_truncated_shards(tmp_path, weights_dir):
    src = weights_dir / "darknet-tiny-imagenet"
    for f in src.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    shard = tmp_path / "group17-shard1of1"
    shard.write_bytes(shard.read_bytes()[:-4])
    with pytest.raises(ValueError, match="truncated"):
        read_tfjs_layers_model(tmp_path / "model.json")


def test_digiface_generator_draws_faces_in_unit_range():
    G = zoo.load("digiface-dcgan64")
    assert G.dim == 100
    z = G.sample(6, seed=0)
    assert torch.equal(z, G.sample(6, seed=0))
    im = G(z)
    assert im.shape == (6, 3, 64, 64) and float(im.min()) >= 0 and float(im.max()) <= 1
    assert float(im.std()) > 0.05  # images, not a constant
    with pytest.raises(ValueError, match=r"\(B, 100\)"):
        G(torch.zeros(2, 99))


@pytest.mark.slow
def test_deepsim_architecture_and_state_roundtrip():
    net = DeePSiMGenerator()
    n = sum(p.numel() for p in net.parameters())
    linear = 3 * (4096 * 4096 + 4096)
    convs = [(256, 256, 4), (256, 512, 3), (512, 256, 4), (256, 256, 3), (256, 128, 4), (128, 128, 3),
             (128, 64, 4), (64, 32, 4), (32, 3, 4)]
    assert n == linear + sum(i * o * k * k + o for i, o, k in convs)
    with torch.no_grad():
        out = net(torch.randn(2, 4096))
    assert out.shape == (2, 3, 256, 256)
    published_keys = {k.removeprefix("G."): v for k, v in net.state_dict().items()}  # as published
    net2 = DeePSiMGenerator()
    net2.load_state_dict(load_deepsim_state(published_keys))
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), net2.state_dict().values()))


def test_missing_file_error_names_entry_file_url_and_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    monkeypatch.setenv("LANDSCAPE_OFFLINE", "1")
    with pytest.raises(zoo.ZooError) as e:
        zoo.load("resnet56-cifar10")
    msg = str(e.value)
    for part in ("resnet56-cifar10", "resnet56-4bfd9763.th", "https://github.com/akamaster", "LANDSCAPE_HOME"):
        assert part in msg


def test_corrupt_file_is_rejected(tmp_path, monkeypatch, weights_dir):
    (tmp_path / "resnet-cifar10").mkdir()
    good = (weights_dir / "resnet-cifar10" / "resnet20-12fca82f.th").read_bytes()
    (tmp_path / "resnet-cifar10" / "resnet20-12fca82f.th").write_bytes(good[:-10] + b"0" * 10)
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    with pytest.raises(zoo.ZooError, match="sha256"):
        zoo.load("resnet20-cifar10")


def test_unknown_entry_lists_valid_names():
    with pytest.raises(zoo.ZooError, match="resnet20-cifar10"):
        zoo.load("resnet21-cifar10")


def test_download_goes_through_cache_with_digest(tmp_path, monkeypatch, weights_dir):
    """A file:// URL stands in for the network: the real download path runs, then the digest check."""
    src = weights_dir / "resnet-cifar10" / "resnet20-12fca82f.th"
    entry = zoo.get("resnet20-cifar10")
    fake = zoo.ZooEntry(entry.name, entry.kind, entry.family,
                        (zoo.ZooFile(entry.files[0].name, src.as_uri(), entry.files[0].sha256),),
                        entry.loader, entry.description, info=entry.info)
    monkeypatch.setitem(zoo.entries(), entry.name, fake)
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    monkeypatch.delenv("LANDSCAPE_OFFLINE", raising=False)
    model = zoo.load("resnet20-cifar10")
    assert (tmp_path / "resnet-cifar10" / "resnet20-12fca82f.th").read_bytes() == src.read_bytes()
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 10)


def test_import_is_light():
    import subprocess
    import sys

    code = ("import sys, landscape, geometry; "
            "bad = [m for m in ('torch.cuda', 'plotly', 'ipywidgets', 'sklearn', 'gudhi') if m in sys.modules "
            "and m != 'torch.cuda']; print(json.dumps(bad))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
