"""Reference sets: named, sized, per-domain defaults, a warning when small, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from landscape.references import (SMALL_SET, default_reference_set, load_reference_set, reference_scores,
                                  resolve_reference_source, small_set_warning)


@pytest.mark.slow
def test_named_sets_have_their_sizes_and_names():
    cifar = load_reference_set("cifar", size=32)
    assert cifar.n == 40 and cifar.images.shape == (40, 3, 32, 32)
    assert sum(n.startswith("foolbox/cifar10_") for n in cifar.names) == 20
    assert sum(n.startswith("foolbox/cifar100_") for n in cifar.names) == 20
    photos = load_reference_set("photos", size=16)
    assert photos.n == 10 and len(set(photos.names)) == 10
    both = load_reference_set("imagenet+photos", size=16)
    assert both.n == 30 and both.names[20:] == photos.names
    crops = load_reference_set("photo-crops:120", size=16)
    assert crops.n == 120 and crops.warning is None  # >= 100 images: no warning
    assert torch.equal(crops.images, load_reference_set("photo-crops:120", size=16).images)  # seeded
    assert float(cifar.images.min()) >= 0 and float(cifar.images.max()) <= 1


def test_small_sets_warn_that_magnitudes_depend_on_the_set():
    w = load_reference_set("cifar", size=8).describe()
    assert w["n_images"] == 40 and "40 images" in w["warning"] and "depends on the set" in w["warning"]
    assert small_set_warning("x", SMALL_SET) is None and small_set_warning("x", SMALL_SET - 1)


def test_defaults_follow_the_model_domain():
    assert default_reference_set("resnet20-cifar10") == "cifar"
    assert default_reference_set("darknet-tiny-imagenet") == "imagenet+photos"
    assert default_reference_set("alexnet-imagenet") == "imagenet+photos"
    assert resolve_reference_source("default", "resnet56-cifar10") == "cifar"
    assert resolve_reference_source("photos", "resnet56-cifar10") == "photos"


def test_folder_and_bad_names(tmp_path):
    for i in range(3):
        Image.fromarray(np.full((40, 60, 3), 60 * i, np.uint8)).save(tmp_path / f"im{i}.png")
    s = load_reference_set(tmp_path, size=20)
    assert s.n == 3 and s.names == ["im0.png", "im1.png", "im2.png"] and s.images.shape == (3, 3, 20, 20)
    assert json.dumps(s.describe())
    with pytest.raises(ValueError, match="unknown reference set 'cifar11'.*cifar, cifar10"):
        load_reference_set("cifar+cifar11")
    with pytest.raises(ValueError, match="positive number of crops"):
        load_reference_set("photo-crops:0")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_reference_set(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="no known image domain"):
        default_reference_set("digiface-dcgan64")


def test_reference_scores_are_the_clean_responses():
    from landscape.units.model_neurons import LuminanceUnit
    from landscape.units import PoissonNoise

    unit = LuminanceUnit(baseline=1.0)
    refs = torch.rand(5, 3, 16, 16)
    noisy = PoissonNoise(unit, scale=0.5, seed=0)
    np.testing.assert_allclose(reference_scores(noisy, refs, batch_size=2), unit(refs).double().numpy(), rtol=1e-6)


@pytest.mark.slow
def test_references_are_shown_at_the_models_input_size():
    from landscape import zoo
    from landscape.references import input_size
    from landscape.units import CNNUnit, PoissonNoise

    unit = CNNUnit(zoo.load("resnet20-cifar10"), "layer3", 5)
    assert input_size(unit) == 32 and input_size(PoissonNoise(unit, seed=0)) == 32
    # a CIFAR image blown up to 224 and shrunk back by the model is blurred: its score changes
    native = reference_scores(unit, load_reference_set("cifar10", size=32).images)
    resampled = reference_scores(unit, load_reference_set("cifar10", size=224).images)
    assert not np.allclose(native, resampled, rtol=0.05)


def test_a_missing_image_package_is_a_clear_error_before_any_run(monkeypatch):
    import importlib.util

    from landscape.references import validate_reference_source

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "foolbox" else real(name, *a))
    with pytest.raises(RuntimeError, match="pip install --no-deps foolbox==3.3.4"):
        validate_reference_source("photos+cifar")
    assert validate_reference_source("photos") == "photos"
