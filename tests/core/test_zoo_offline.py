"""Offline means no network attempt anywhere; every zoo file goes through the cache and its digest (issue 16)."""

from __future__ import annotations

import json
import socket

import pytest
import torch

from landscape import zoo


@pytest.fixture
def no_network(monkeypatch):
    """Every way to open a connection fails loudly and is recorded."""
    attempts: list[str] = []

    def refuse(what):
        def f(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise AssertionError(f"network attempt while offline: {what} {args}")
        return f

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return attempts


@pytest.mark.parametrize("name", zoo.names())
def test_offline_every_entry_says_what_is_missing_without_touching_the_network(name, tmp_path, monkeypatch,
                                                                                no_network):
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    monkeypatch.setenv("LANDSCAPE_OFFLINE", "1")
    entry = zoo.get(name)
    if entry.info.get("package"):  # its file comes with an installed PyPI package: loads, from disk
        zoo.load(name)
    else:  # biggan-deep-256 downloaded here, without a digest, and failed with a raw ConnectionError
        with pytest.raises(zoo.ZooError) as e:
            zoo.load(name)
        msg = str(e.value)
        assert f"zoo entry {name!r} needs file {entry.files[0].name!r}" in msg, msg
        assert "not in the cache" in msg and "LANDSCAPE_OFFLINE=1 forbids downloads" in msg, msg
    assert no_network == []


def test_offline_lpips_trunk_lookup_touches_no_network(tmp_path, monkeypatch, no_network):
    from geometry.distances import LPIPS

    monkeypatch.setenv("LANDSCAPE_OFFLINE", "1")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(FileNotFoundError, match="alexnet-owt-7be5be79.pth"):
        LPIPS("alex")
    assert no_network == []


def _tiny_biggan_files(folder):
    """A small BigGAN-deep (random weights) saved as the two published files."""
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig

    torch.manual_seed(0)
    cfg = BigGANConfig(output_dim=128, channel_width=8)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "biggan-deep-256-config.json").write_text(json.dumps(cfg.to_dict()))
    net = BigGAN(cfg)
    torch.save(net.state_dict(), folder / "biggan-deep-256-pytorch_model.bin")
    return net


@pytest.mark.slow
def test_biggan_downloads_into_the_zoo_cache_records_digests_and_loads(tmp_path, monkeypatch, no_network):
    """file:// URLs stand in for the published ones: the zoo's download path runs, no socket is opened."""
    src = tmp_path / "published"
    net = _tiny_biggan_files(src)
    entry = zoo.get("biggan-deep-256")
    files = tuple(zoo.ZooFile(f.name, (src / f.name).as_uri(), None) for f in entry.files)
    monkeypatch.setitem(zoo.entries(), entry.name, zoo.ZooEntry(entry.name, entry.kind, entry.family, files,
                                                                entry.loader, entry.description, entry.requires,
                                                                entry.info))
    cache = tmp_path / "cache"
    monkeypatch.setenv("LANDSCAPE_HOME", str(cache))
    monkeypatch.delenv("LANDSCAPE_OFFLINE", raising=False)
    G = zoo.load("biggan-deep-256")
    weights = cache / "biggan" / "biggan-deep-256-pytorch_model.bin"
    assert weights.read_bytes() == (src / weights.name).read_bytes()
    assert (cache / "biggan" / (weights.name + ".sha256")).read_text().split()[0] == zoo.sha256_of(weights)
    assert G.dim == 256 and G.image_size == 128
    assert torch.equal(G.net.biggan.embeddings.weight, net.embeddings.weight)
    with torch.no_grad():
        assert G(G.sample(2, seed=0)).shape == (2, 3, 128, 128)
    # a damaged cached file is refused by the recorded digest
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match="has sha256 .* expected"):
        zoo.load("biggan-deep-256")
    assert no_network == []


def test_biggan_weights_that_do_not_fill_the_architecture_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "biggan"
    _tiny_biggan_files(folder)
    weights = folder / "biggan-deep-256-pytorch_model.bin"
    state = torch.load(weights, weights_only=True)
    del state["generator.gen_z.weight_orig"]
    torch.save(state, weights)
    for f in folder.iterdir():
        f.with_name(f.name + ".sha256").write_text(f"{zoo.sha256_of(f)}  {f.name}\n")
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    with pytest.raises(zoo.ZooError, match=r"missing keys \['generator.gen_z.weight_orig'\]"):
        zoo.load("biggan-deep-256")


def test_default_reference_photographs_touch_no_network(no_network):
    from landscape.references import reference_images

    images, names = reference_images(size=16)
    assert len(names) >= 5 and images.shape[1:] == (3, 16, 16)
    assert no_network == []
