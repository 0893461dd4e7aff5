"""``landscape evolve`` writes the named measures, with the reference set named and sized."""

from __future__ import annotations

import json

import numpy as np
import pytest
from landscape.cli import main


@pytest.mark.slow
def test_evolve_summary_has_xdreams_relative_activation_and_the_oracle(weights_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["evolve", "--optimizer", "ga", "--set", "population=10", "--budget", "30", "--device", "cpu",
                 "--noise", "poisson-spikes:5", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    s = json.loads((out / "summary.json").read_text())
    assert s["reference_set"]["name"] == "cifar" and s["reference_set"]["n_images"] == 40
    assert "40 images" in printed.err  # the small-set warning
    assert "relative activation (XDream" in printed.out and "reference set 'cifar' (40 images)" in printed.out
    # recompute XDream's measure by hand from the files: last generation, best observed, its clean response
    last = np.load(out / "generations" / "gen_000002.npz")
    i = int(np.argmax(last["scores"]))
    assert s["optimized_image"] == {"generation": 2, "index": i, "response": pytest.approx(last["clean_scores"][i]),
                                    "response_kind": "clean", "observed_score": pytest.approx(last["scores"][i])}
    assert s["relative_activation"] == pytest.approx(last["clean_scores"][i] / s["best_reference_score"])
    clean = np.concatenate([np.load(out / "generations" / f"gen_{g:06d}.npz")["clean_scores"] for g in range(3)])
    assert s["best_clean_ever"] == pytest.approx(clean.max())
    assert s["best_clean_ever_over_reference"] == pytest.approx(clean.max() / s["best_reference_score"])
    # the references were shown at the model's input side (32), resampled once
    from landscape import zoo
    from landscape.references import load_reference_set, reference_scores
    from landscape.units import CNNUnit

    unit = CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5)
    refs = reference_scores(unit, load_reference_set("cifar", size=32).images)
    assert s["best_reference_score"] == pytest.approx(refs.max(), rel=1e-5)
    meta = json.loads((out / "meta.json").read_text())
    cal = meta["unit"]["noise"]["calibration"]
    assert cal["spikes"] == 5.0 and meta["unit"]["noise"]["scale"] == pytest.approx(5.0 / cal["best_prior_response"])


def test_evolve_rejects_an_unknown_reference_set_before_running(tmp_path, capsys):
    assert main(["evolve", "--budget", "10", "--references", "cifar11", "--out", str(tmp_path / "r")]) == 2
    assert "unknown reference set 'cifar11'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_optimizer_help_names_every_builtin_optimizer():
    from landscape import optim
    from landscape.commands.evolve import OPTIMIZER_HELP

    for name in optim.BUILTIN:
        assert f"{name} " in OPTIMIZER_HELP or f"{name}," in OPTIMIZER_HELP or f"{name};" in OPTIMIZER_HELP, name
