"""Weight files geometry loads are checked against their published sha256 before use (issue 16)."""

from __future__ import annotations

import shutil

import pytest
import torch

from geometry import trunks
from geometry.distances import LPIPS
from geometry.trunks import AlexNet
from geometry.weights import PUBLISHED_SHA256, WeightFileError, check_weight_file, sha256_of


@pytest.mark.parametrize("net", ["alex", "vgg", "squeeze"])
def test_the_shared_lpips_files_are_the_published_ones(weights_dir, net):
    path = weights_dir / "lpips-v0.1" / f"{net}.pth"
    assert sha256_of(path) == PUBLISHED_SHA256[f"lpips-v0.1/{net}.pth"]
    assert check_weight_file(path, f"lpips-v0.1/{net}.pth", "u") == path


def _damaged_copy(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    data = bytearray(dst.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit: still a loadable file, with one weight changed
    dst.write_bytes(bytes(data))
    return dst


def test_a_damaged_lpips_file_is_refused(weights_dir, tmp_path, monkeypatch):
    bad = _damaged_copy(weights_dir / "lpips-v0.1" / "alex.pth", tmp_path / "lpips-v0.1" / "alex.pth")
    torch.load(bad, map_location="cpu", weights_only=True)  # it loads: only the digest tells
    monkeypatch.setenv("LANDSCAPE_HOME", str(tmp_path))
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)  # no lpips wheel to find instead
    with torch.device("meta"):
        trunk = AlexNet().state_dict()
    with pytest.raises(WeightFileError, match=rf"{bad}.*sha256 {sha256_of(bad)}.*published lpips-v0.1/alex.pth "
                                              r"has sha256 df73285e.*PerceptualSimilarity"):
        LPIPS("alex", trunk_weights={k: torch.zeros(v.shape) for k, v in trunk.items()})


@pytest.mark.slow
def test_a_trunk_file_that_is_not_torchvisions_is_refused(tmp_path, monkeypatch):
    torch.manual_seed(0)
    path = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(AlexNet().state_dict(), path)  # the right layout, other weights
    with pytest.raises(WeightFileError, match=r"published alexnet-owt-7be5be79.pth has sha256 7be5be79\.\.\..*"
                                              r"download\.pytorch\.org/models/alexnet-owt-7be5be79\.pth"):
        trunks.load_trunk("alex", path)
    # the same file where torchvision would have saved it is refused too
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    path.rename(tmp_path / "checkpoints" / path.name)
    with pytest.raises(WeightFileError, match="not the published one"):
        trunks.load_trunk("alex")
