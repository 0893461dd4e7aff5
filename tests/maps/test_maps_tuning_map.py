"""Measuring maps through a generator and a unit; the TuningMap file format."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from maps_helpers import AdditiveNoise, CodeFunctionUnit, CodeImages, gaussian_bump

from landscape.maps import TuningCurves, TuningMap, plane_map, sphere_map, tuning_curves
from landscape.maps.axes import random_axes
from landscape.maps.grids import sphere_codes


def linear_unit(w):
    return CodeFunctionUnit(lambda x: x @ w)


def test_sphere_map_values_and_single_pole_measurements():
    d = 12
    gen = CodeImages(d, max_batch=50)
    axes = random_axes(d, 3, seed=0)
    w = np.random.default_rng(0).standard_normal(d)
    unit = linear_unit(w)
    tm = sphere_map(gen, unit, axes, 3.0, n=21, progress=False)
    assert tm.kind == "sphere" and tm.shape == (21, 21)
    # 19 interior rows of 21 plus one image per pole
    assert gen.n_images == unit.n_images == 19 * 21 + 2 == tm.meta["n_images"]
    np.testing.assert_allclose(tm.values, tm.codes() @ w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tm.codes(), sphere_codes(tm.coords["theta_deg"], tm.coords["phi_deg"], axes, 3.0))
    np.testing.assert_allclose(tm.center, 3.0 * axes[0])
    assert tm.trials is None and tm.sem is None and tm.clean is None
    assert np.all(tm.values[0] == tm.values[0, 0])


def test_sphere_map_peak_of_a_bump_at_e1():
    d = 10
    axes = random_axes(d, 3, seed=1)
    unit = CodeFunctionUnit(gaussian_bump(5.0 * axes[0], np.eye(d) / 4.0))
    tm = sphere_map(CodeImages(d), unit, axes, 5.0, n=11, progress=False)
    pk = tm.peak()
    assert (pk["theta_deg"], pk["phi_deg"]) == (0.0, 0.0)
    assert pk["value"] == pytest.approx(1.0, abs=1e-6)


def test_noisy_unit_keeps_every_repetition_and_clean_scores():
    d = 6
    w = np.arange(d, dtype=float)
    unit = AdditiveNoise(lambda x: x @ w, sigma=0.5, seed=3)
    tm = sphere_map(CodeImages(d), unit, np.eye(3, d), 2.0, n=5, reps=40, progress=False)
    assert tm.trials.shape == (40, 5, 5) and tm.sem.shape == (5, 5) and tm.clean.shape == (5, 5)
    np.testing.assert_allclose(tm.values, tm.trials.mean(0))
    np.testing.assert_allclose(tm.clean, tm.codes() @ w, atol=1e-5)
    # the noise averages out at the rate the standard errors promise
    z = (tm.values - tm.clean) / tm.sem
    assert np.abs(z).max() < 5
    np.testing.assert_allclose(tm.sem.mean(), 0.5 / np.sqrt(40), rtol=0.25)
    # pole rows are one measurement: identical trials across the row
    assert np.all(tm.trials[:, -1] == tm.trials[:, -1, :1])


def test_reps_on_a_noise_free_unit_is_an_error():
    with pytest.raises(ValueError, match="noise-free unit"):
        sphere_map(CodeImages(4), linear_unit(np.ones(4)), np.eye(3, 4), 1.0, n=3, reps=3, progress=False)


def test_bad_map_requests_raise_clear_errors():
    gen, unit = CodeImages(8), linear_unit(np.ones(8))
    with pytest.raises(ValueError, match="dimension 6 but the generator's codes have dimension 8"):
        sphere_map(gen, unit, np.eye(3, 6), 1.0, progress=False)
    skew = np.eye(3, 8)
    skew[2, 0] = 0.5
    with pytest.raises(ValueError, match="must be orthonormal"):
        sphere_map(gen, unit, skew, 1.0, progress=False)
    with pytest.raises(ValueError, match="empty"):
        sphere_map(gen, unit, np.eye(3, 8), 1.0, n=0, progress=False)
    with pytest.raises(ValueError, match="non-empty"):
        sphere_map(gen, unit, np.eye(3, 8), 1.0, theta_deg=[], phi_deg=[0.0], progress=False)
    with pytest.raises(ValueError, match="non-empty"):
        plane_map(gen, unit, np.zeros(8), np.eye(2, 8), a=[], b=[0.0], progress=False)
    with pytest.raises(ValueError, match="radius must be positive"):
        sphere_map(gen, unit, np.eye(3, 8), 0.0, progress=False)
    with pytest.raises(ValueError, match="exactly 2"):
        plane_map(gen, unit, np.zeros(8), np.eye(3, 8), progress=False)


def test_plane_map_and_tuning_curves():
    d = 5
    c = np.array([1.0, 0, 0, 0, 0])
    unit = CodeFunctionUnit(gaussian_bump(c, np.diag([1.0, 4.0, 1, 1, 1])))
    tm = plane_map(CodeImages(d), unit, c, np.eye(2, d), n=11, extent=(-2, 2), progress=False)
    a, b = tm.coords["a"], tm.coords["b"]
    expect = np.exp(-0.5 * (a[None, :] ** 2 + 4 * b[:, None] ** 2))
    np.testing.assert_allclose(tm.values, expect, atol=1e-6)
    assert tm.peak()["a"] == 0 and tm.peak()["b"] == 0
    gen = CodeImages(d)
    curves = tuning_curves(gen, unit, c, np.eye(3, d), np.linspace(-1, 1, 5), progress=False)
    assert curves.values.shape == (3, 5)
    assert gen.n_images == 3 * 4 + 1  # the shared centre is measured once
    np.testing.assert_allclose(curves.values[1], np.exp(-2 * np.linspace(-1, 1, 5) ** 2), atol=1e-6)


def test_save_load_round_trip_sphere(tmp_path):
    d = 7
    unit = AdditiveNoise(lambda x: x.sum(1), sigma=0.1, seed=0)
    tm = sphere_map(CodeImages(d), unit, np.eye(3, d)[[1, 0, 2]], 2.5, n=7, reps=3, progress=False,
                    meta={"note": "round trip", "pcs": [1, 2, 3]})
    npz, js = tm.save(tmp_path / "sub" / "map.npz")
    assert npz.name == "map.npz" and js.name == "map.json"
    header = json.loads(js.read_text())
    assert header["schema"] == "landscape.TuningMap" and header["kind"] == "sphere" and header["dim"] == d
    assert set(header["arrays"]) == {"values", "trials", "sem", "clean", "axes", "center", "origin",
                                     "theta_deg", "phi_deg"}
    with np.load(npz, allow_pickle=False) as z:  # readable without this library
        np.testing.assert_array_equal(z["values"], tm.values)
    back = TuningMap.load(tmp_path / "sub" / "map")
    for name in ("values", "trials", "sem", "clean", "axes", "center", "origin"):
        np.testing.assert_array_equal(getattr(back, name), getattr(tm, name))
    for k in ("theta_deg", "phi_deg"):
        np.testing.assert_array_equal(back.coords[k], tm.coords[k])
    assert back.radius == tm.radius and back.unit == tm.unit and back.generator == tm.generator
    assert back.meta == tm.meta
    np.testing.assert_array_equal(back.codes(), tm.codes())


def test_save_load_round_trip_plane_and_curves(tmp_path):
    rng = np.random.default_rng(0)
    tm = TuningMap("plane", rng.standard_normal((4, 6)), {"a": np.linspace(-1, 1, 6), "b": np.arange(4.0)},
                   np.eye(2, 9), np.ones(9), unit={"type": "X"}, generator="g")
    tm.values[1, 2] = np.nan
    tm.save(tmp_path / "p")
    back = TuningMap.load(tmp_path / "p.json")
    np.testing.assert_array_equal(back.values, tm.values)
    assert back.kind == "plane" and back.radius is None and back.trials is None and back.origin is None
    cv = TuningCurves(rng.standard_normal((2, 3)), [0, 1, 2], np.eye(2, 4), np.zeros(4), unit={"a": 1})
    cv.save(tmp_path / "c.npz")
    back = TuningCurves.load(tmp_path / "c")
    np.testing.assert_array_equal(back.values, cv.values)
    np.testing.assert_array_equal(back.codes(), cv.codes())


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"schema": "something-else"}))
    np.savez(tmp_path / "x.npz", values=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not a tuning map"):
        TuningMap.load(tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="not found"):
        TuningMap.load(tmp_path / "missing")


def test_images_on_demand():
    d = 4
    tm = sphere_map(CodeImages(d), linear_unit(np.ones(d)), np.eye(3, d), 1.0, n=5, progress=False)
    imgs = tm.images(CodeImages(d), rows=slice(1, 3), cols=[0, 4])
    assert imgs.shape == (2, 2, 3, 1, d)
    np.testing.assert_allclose(imgs[1, 0, 0, 0].numpy(), tm.codes()[2, 0], atol=1e-6)
    with pytest.raises(IndexError, match="out of range"):
        tm.images(CodeImages(d), rows=[9])
    with pytest.raises(ValueError, match="5-d codes"):
        tm.images(CodeImages(5))


def test_constructor_checks_shapes():
    with pytest.raises(ValueError, match="kind must be one of"):
        TuningMap("cube", np.zeros((2, 2)), {}, np.eye(3, 4), np.zeros(4))
    with pytest.raises(ValueError, match="needs coords"):
        TuningMap("sphere", np.zeros((2, 2)), {"a": [0, 1]}, np.eye(3, 4), np.zeros(4), radius=1)
    with pytest.raises(ValueError, match="positive radius"):
        TuningMap("sphere", np.zeros((2, 2)), {"theta_deg": [0, 1], "phi_deg": [0, 1]}, np.eye(3, 4), np.zeros(4))
    with pytest.raises(ValueError, match="non-empty"):
        TuningMap("plane", np.zeros((0, 2)), {"a": [0, 1], "b": []}, np.eye(2, 4), np.zeros(4))


def test_measure_chunks_follow_batch_size():
    gen = CodeImages(3, max_batch=7)
    seen = []

    class Spy(CodeFunctionUnit):
        def clean(self, images):
            seen.append(images.shape[0])
            return super().clean(images)

    sphere_map(gen, Spy(lambda x: x[:, 0]), np.eye(3), 1.0, n=5, batch_size=4, progress=False)
    assert max(seen) == 4 and sum(seen) == 3 * 5 + 2
    assert torch.is_tensor(gen(torch.zeros(1, 3)))
