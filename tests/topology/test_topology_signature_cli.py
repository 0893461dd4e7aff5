"""The full signature, its files, its pictures and the ``landscape topology`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from landscape.topology import SUMMARY_KEYS, TopologySignature, signature
from landscape.plots import SignatureDisplay


def test_signature_summary_and_files(synth, tmp_path):
    f = synth.peaks([(-0.4, -0.3), (0.4, 0.4)], [1.0, 0.6], n=41)
    sig = TopologySignature().fit(f)
    assert tuple(sig.summary_) == SUMMARY_KEYS
    assert sig.summary_["n_peaks"] == 2 and sig.summary_["n_rings"] == 0
    assert sig.summary_["second_peak_prominence"] == pytest.approx(0.6, abs=0.02)
    assert signature(f) == sig.summary_
    paths = sig.save(tmp_path)
    rec = json.loads(paths["signature"].read_text())
    assert rec["schema"] == "landscape.topology.signature" and rec["domain"]["topology"] == "disk"
    assert rec["summary"]["n_peaks"] == 2 and len(rec["levels"]["loops"]) == 21
    with np.load(paths["diagrams"]) as z:
        assert z["h0"].shape[1] == 2 and np.isneginf(z["h0"][:, 1]).sum() == 1
        np.testing.assert_array_equal(z["values"], f)
    assert "loops_auc" in sig.format()


def test_smoothing_option_removes_noise_loops(synth):
    f = synth.peaks([(0.0, 0.0)], width=0.4, n=41) + 0.05 * np.random.default_rng(0).standard_normal((41, 41))
    raw = TopologySignature().fit(f).summary_
    smooth = TopologySignature(sigma=2.0).fit(f).summary_
    assert raw["n_peaks"] > 1 and smooth["n_peaks"] == 1
    assert smooth["loops_auc"] < raw["loops_auc"]


def test_pictures(synth, tmp_path):
    n, m = 13, 24
    v = synth.smooth_random((n, m), 1.5, 3, wrap=True)
    sig = TopologySignature(11, domain="sphere", theta_deg=np.arange(m) * 15.0).fit(v)
    paths = SignatureDisplay(sig).write(tmp_path)
    for key in ("level_sets", "diagram", "counts"):
        with Image.open(paths[key]) as im:
            assert im.size[0] > 300 and im.size[1] > 300
    with Image.open(paths["level_sets"]) as im:
        px = np.asarray(im.convert("RGB")).reshape(-1, 3)
    assert (np.abs(px - [230, 30, 60]).sum(1) == 0).any() or (px == 255).all(1).sum() > 1000  # curves drawn
    html = paths["html"].read_text()
    from plotly.offline import get_plotlyjs

    assert html.count(get_plotlyjs()) == 1  # plotly.js embedded, works offline
    assert 'src="https://cdn' not in html


def _tuning_map(tmp_path, with_trials: bool = True):
    from landscape.maps import TuningMap

    n = 11
    theta = np.linspace(-90, 90, n)
    phi = np.linspace(-90, 90, n)
    t, p = np.deg2rad(theta)[None], np.deg2rad(phi)[:, None]
    clean = np.exp(4 * (np.cos(p) * np.cos(t - 0.3) - 1))
    clean[0] = clean[0].mean()
    clean[-1] = clean[-1].mean()
    rng = np.random.default_rng(0)
    trials = clean[None] + 0.05 * rng.standard_normal((5, n, n)) if with_trials else None
    values = trials.mean(0) if with_trials else clean
    axes = np.eye(3, 8)
    tm = TuningMap("sphere", values, {"theta_deg": theta, "phi_deg": phi}, axes, axes[0] * 2.0, radius=2.0,
                   trials=trials)
    tm.save(tmp_path / "map")
    return tm


def test_signature_of_a_tuning_map_uses_its_sphere(tmp_path):
    tm = _tuning_map(tmp_path, with_trials=False)
    sig = TopologySignature().fit(tm)
    assert sig.field_.domain.poles == (True, True) and not sig.field_.domain.wrap
    assert sig.summary_["n_peaks"] == 1 and sig.summary_["isolation_level"] < 0.5


def test_cli_on_a_tuning_map(tmp_path, capsys):
    from landscape.cli import main

    _tuning_map(tmp_path)
    out = tmp_path / "topo"
    rc = main(["topology", str(tmp_path / "map.npz"), "--out", str(out), "--bootstrap", "20", "--levels", "11"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "loops_auc" in text and "Morse" in text and "holds" in text and "reliable" in text
    for name in ("signature.json", "diagrams.npz", "reliability.json", "level_sets.png", "diagram.png",
                 "counts.png", "topology.html"):
        assert (out / name).is_file(), name
    rec = json.loads((out / "signature.json").read_text())
    assert rec["domain"]["kind"] == "sphere" and rec["morse"]["morse_sum"] == 1
    rel = json.loads((out / "reliability.json").read_text())
    assert rel["params"]["resample"] == "trials"


def test_cli_on_a_plain_npz_and_bad_input(tmp_path, capsys, synth):
    from landscape.cli import main

    f = synth.peaks([(0.2, 0.1)], n=21)
    f[3, 4] = np.nan
    np.savez(tmp_path / "plain.npz", values=f)
    assert main(["topology", str(tmp_path / "plain.npz")]) == 2
    assert "NaN" in capsys.readouterr().err
    assert main(["topology", str(tmp_path / "plain.npz"), "--nan-policy", "harmonic"]) == 0
    assert (tmp_path / "plain_topology" / "level_sets.png").is_file()
    np.savez(tmp_path / "bad.npz", other=f)
    assert main(["topology", str(tmp_path / "bad.npz")]) == 2
    assert "'values'" in capsys.readouterr().err


def test_cli_prints_and_records_the_contour_convention(tmp_path, capsys):
    from landscape.cli import main
    from landscape.topology import ContourSignature

    tm = _tuning_map(tmp_path, with_trials=False)
    out = tmp_path / "topo"
    assert main(["topology", str(tmp_path / "map.npz"), "--out", str(out), "--convention", "reference"]) == 0
    assert "contour convention: reference" in capsys.readouterr().out
    rec = json.loads((out / "signature.json").read_text())
    assert rec["params"]["contour_convention"] == "reference"
    ref = ContourSignature(convention="reference").fit(tm.values)  # the array as stored: no sphere rules
    assert rec["summary"]["loops_auc"] == pytest.approx(ref.loops_auc_)
    assert main(["topology", str(tmp_path / "map.npz"), "--out", str(out)]) == 0
    assert "contour convention: project" in capsys.readouterr().out
