"""`landscape featviz` writes the documented files and rejects bad input with a clear message."""

from __future__ import annotations

import csv
import json

import numpy as np
from PIL import Image

from landscape.cli import main


def test_featviz_command_writes_pngs_history_and_meta(tmp_path, capsys):
    out = tmp_path / "fv"
    rc = main(["featviz", "--model", "resnet20-cifar10", "--layer", "layer3", "--channel", "5", "--out", str(out),
               "--steps", "4", "--batch", "2", "--diversity", "0.5", "--device", "cpu"])
    assert rc == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["images"] == ["image_00.png", "image_01.png"]
    assert meta["objective"] == "channel('layer3', 5) - 0.5*diversity('layer3')"
    assert meta["config"]["size"] == 32 and meta["config"]["steps"] == 4
    assert len(meta["final_values"]) == 2
    for name in meta["images"]:
        img = np.asarray(Image.open(out / name))
        assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    with open(out / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 * 2 and rows[-1]["step"] == "3" and rows[-1]["image"] == "1"
    assert "image_00.png" in capsys.readouterr().out


def test_featviz_command_rejects_bad_input(tmp_path, capsys):
    args = ["--layer", "layer3", "--channel", "5", "--out", str(tmp_path / "x"), "--steps", "2", "--device", "cpu"]
    assert main(["featviz", "--model", "digiface-dcgan64", *args]) == 2
    assert "not a classifier" in capsys.readouterr().err
    assert main(["featviz", "--model", "resnet20-cifar10", "--y", "1", *args]) == 2
    assert "--neuron" in capsys.readouterr().err
    assert main(["featviz", "--model", "resnet20-cifar10", "--diversity", "1", *args]) == 2
    assert "--batch" in capsys.readouterr().err
    bad_layer = ["--layer", "layer7", *args[2:]]
    assert main(["featviz", "--model", "resnet20-cifar10", *bad_layer]) == 2
    assert "valid layers" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_featviz_command_reports_an_out_of_range_channel(tmp_path, capsys):
    rc = main(["featviz", "--model", "resnet20-cifar10", "--layer", "layer3", "--channel", "64",
               "--out", str(tmp_path / "x"), "--steps", "2", "--device", "cpu"])
    assert rc == 2
    assert "valid: 0 to 63" in capsys.readouterr().err
