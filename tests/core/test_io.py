"""landscape.io: atomic writes, the one JSON rule (NaN/inf -> null), one save_png."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from landscape.io import (atomic_save_npz, atomic_write_bytes, dumps_json, image_to_uint8, json_roundtrip, jsonable,
                          read_json, save_png, write_json)


def test_json_rule_nonfinite_to_null_and_numpy_torch_values():
    obj = {"nan": float("nan"), "inf": np.float32(np.inf), "ninf": -np.inf, "i": np.int64(3),
           "arr": np.array([1.5, np.nan]), "t": torch.tensor([[1, 2]]), "tn": torch.tensor(float("inf")),
           "dtype": torch.float32, "dev": torch.device("cpu"), "path": Path("a/b"), "tup": (1, 2), 5: True}
    out = jsonable(obj)
    assert out == {"nan": None, "inf": None, "ninf": None, "i": 3, "arr": [1.5, None], "t": [[1, 2]], "tn": None,
                   "dtype": "torch.float32", "dev": "cpu", "path": "a/b", "tup": [1, 2], "5": True}
    text = dumps_json(obj)
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == out == json_roundtrip(obj)


def test_json_refuses_unknown_types_by_name():
    with pytest.raises(TypeError, match="object"):
        jsonable({"x": object()})


def test_write_and_read_json(tmp_path):
    p = write_json(tmp_path / "sub" / "x.json", {"a": [1.0, float("nan")]})
    assert p.read_text().endswith("\n") and read_json(p) == {"a": [1.0, None]}
    (tmp_path / "bad.json").write_text("{\"a\": 1,,}")
    with pytest.raises(ValueError, match=r"bad\.json is not valid JSON.*line 1"):
        read_json(tmp_path / "bad.json")


def test_atomic_write_leaves_old_file_when_the_write_fails(tmp_path, monkeypatch):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"old")

    def boom(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(p, b"new")
    monkeypatch.undo()
    assert p.read_bytes() == b"old"
    assert [q.name for q in tmp_path.iterdir()] == ["f.bin"]  # no temporary left behind


def test_atomic_npz_is_exactly_the_named_file(tmp_path):
    p = atomic_save_npz(tmp_path / "gen_000001.npz", a=np.arange(3))
    with np.load(p) as z:
        assert z["a"].tolist() == [0, 1, 2]


def test_save_png_accepts_chw_float_and_hwc_uint8(tmp_path):
    chw = torch.rand(3, 5, 7)
    p = save_png(tmp_path / "a.png", chw)
    back = np.asarray(Image.open(p))
    assert back.shape == (5, 7, 3)
    assert np.array_equal(back, (chw.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    hwc = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(save_png(tmp_path / "b.png", hwc))), hwc)
    assert np.array_equal(image_to_uint8(chw.numpy() * 2 - 0.5), image_to_uint8((chw * 2 - 0.5).clamp(0, 1)))
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        save_png(tmp_path / "c.png", torch.rand(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        save_png(tmp_path / "d.png", np.zeros((3, 4, 4), np.uint8))
