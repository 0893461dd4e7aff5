"""landscape.exercises: each check accepts a right answer, and rejects the usual wrong ones with a
hint that names the mistake; the workshop's hidden cell keeps its parameters to itself."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy import ndimage

from landscape import exercises
from landscape.exercises import ExerciseError


class CodeImages:
    """A differentiable stand-in generator: each code written into a (3, 1, d) "image"."""

    def __init__(self, dim: int) -> None:
        self.dim, self.name, self.image_size, self.max_batch = dim, "code-images", 1, 64
        self.device = torch.device("cpu")

    def __call__(self, codes):
        codes = torch.as_tensor(codes, dtype=torch.float32)
        return codes[:, None, None, :].expand(-1, 3, 1, -1)

    def render(self, codes, batch_size=None):
        return self(codes)

    def sample(self, n, seed=0):
        return torch.randn(n, self.dim, generator=torch.Generator().manual_seed(seed))


class Bump:
    """A unit with one smooth peak at ``center`` (differentiable)."""

    noisy = False

    def __init__(self, center):
        self.center = torch.as_tensor(center, dtype=torch.float32)

    def clean(self, images):
        z = images[:, 0, 0, :]
        return 3.0 * torch.exp(-((z - self.center) ** 2).sum(1) / 8.0)

    __call__ = clean

    def describe(self):
        return {"type": "Bump"}

    def state_dict(self):
        return {}


@pytest.fixture
def toy():
    d = 6
    return CodeImages(d), Bump(np.linspace(-1, 1, d))


def loop(G, unit, opt, n, tell=True):
    best = []
    for _ in range(n):
        codes = opt.ask()
        with torch.no_grad():
            scores = unit(G(codes))
        if tell:
            opt.tell(codes, scores)
        best.append(float(scores.max()))
    return best


def test_evolution_loop_check(toy, capsys):
    G, unit = toy
    assert exercises.check_evolution_loop(loop, G, unit) is True
    assert capsys.readouterr().out.startswith("✓")
    with pytest.raises(ExerciseError, match=r"generation 1 matches, generation 2 differs.*\n.*optimizer.tell"):
        exercises.check_evolution_loop(lambda *a: loop(*a, tell=False), G, unit)
    with pytest.raises(ExerciseError, match="returned None"):
        exercises.check_evolution_loop(lambda *a: None, G, unit)
    with pytest.raises(ExerciseError, match="asked for 4 generations, evolve_by_hand returned 3"):
        exercises.check_evolution_loop(lambda *a: loop(*a)[:3], G, unit)
    with pytest.raises(ExerciseError, match="still None"):
        exercises.check_evolution_loop(None, G, unit)


def right_dims(w, f):
    w = np.sort(np.clip(np.asarray(w, float), 0, None))[::-1]
    return int(np.argmax(np.cumsum(w) / w.sum() >= f)) + 1


@pytest.mark.parametrize("wrong, hint", [
    (lambda w, f: int(np.argmax(np.cumsum(w) / np.sum(w) >= f)) + 1, "did not sort"),
    (lambda w, f: right_dims(w, f) - 1, "counted the dimensions \\*before\\*"),
    (lambda w, f: int(np.argmax(np.cumsum(np.sort(w)[::-1]) / np.sum(w) > f)) + 1, "use >=, not >"),
    (lambda w, f: int(np.argmax(np.cumsum(np.sort(w)[::-1]) / np.sort(w)[::-1].sum() >= f)) + 1, "clip them to 0"),
])
def test_dims_for_fraction_check(wrong, hint):
    assert exercises.check_dims_for_fraction(right_dims)
    with pytest.raises(ExerciseError, match=hint):
        exercises.check_dims_for_fraction(wrong)


def right_prediction(lam, V, v, t):
    return 0.5 * t ** 2 * float(np.sum(lam * (V.T @ v) ** 2))


@pytest.mark.parametrize("wrong, hint", [
    (lambda lam, V, v, t: 2 * right_prediction(lam, V, v, t), "factor one half"),
    (lambda lam, V, v, t: right_prediction(lam, V, v, 1.0) * t, "t squared"),
    (lambda lam, V, v, t: 0.5 * t ** 2 * float(np.sum(lam * (V @ v) ** 2)), "columns of eigvecs"),
])
def test_metric_prediction_check(wrong, hint):
    assert exercises.check_metric_prediction(right_prediction)
    with pytest.raises(ExerciseError, match=hint):
        exercises.check_metric_prediction(wrong)


def test_tuning_curve_check(toy):
    G, unit = toy
    center, axis = np.zeros(G.dim), np.eye(G.dim)[2]

    def right(G, unit, center, axis, offsets):
        codes = torch.as_tensor(center[None] + offsets[:, None] * axis[None], dtype=torch.float32)
        with torch.no_grad():
            return unit(G(codes))

    assert exercises.check_tuning_curve(right, G, unit, center, axis)
    with pytest.raises(ExerciseError, match="reversed"):
        exercises.check_tuning_curve(lambda G, u, c, a, o: right(G, u, c, a, o[::-1]), G, unit, center, axis)
    with pytest.raises(ExerciseError, match="move the code"):
        exercises.check_tuning_curve(lambda G, u, c, a, o: right(G, u, c, a, 0 * o), G, unit, center, axis)
    with pytest.raises(ExerciseError, match="returned 3 values"):
        exercises.check_tuning_curve(lambda G, u, c, a, o: right(G, u, c, a, o)[:3], G, unit, center, axis)


def test_sphere_peak_check():
    from landscape.maps import TuningMap

    theta, phi = np.linspace(-90, 90, 7), np.linspace(-90, 90, 5)
    values = np.zeros((5, 7))
    values[3, 1] = 2.0                      # peak at phi = 45, theta = -60
    m = TuningMap("sphere", values, {"theta_deg": theta, "phi_deg": phi}, np.eye(3), np.zeros(3), radius=1.0)
    assert exercises.check_sphere_peak(-60.0, 45.0, m)
    with pytest.raises(ExerciseError, match="swapped"):
        exercises.check_sphere_peak(45.0, -60.0, m)
    with pytest.raises(ExerciseError, match="not a grid point"):
        exercises.check_sphere_peak(-61.0, 45.0, m)
    with pytest.raises(ExerciseError, match="not the map's maximum"):
        exercises.check_sphere_peak(0.0, 0.0, m)


def test_component_count_check():
    right = lambda v, c: ndimage.label(v >= c, structure=np.ones((3, 3)))[1]  # noqa: E731
    assert exercises.check_component_count(right)
    with pytest.raises(ExerciseError, match="4-connectivity"):
        exercises.check_component_count(lambda v, c: ndimage.label(v >= c)[1])
    with pytest.raises(ExerciseError, match="values >= c, not values > c"):
        exercises.check_component_count(lambda v, c: ndimage.label(v > c, structure=np.ones((3, 3)))[1])


def test_significant_peaks_check():
    def right(d, lo, hi, th):
        return int((d[:, 0] - np.where(np.isfinite(d[:, 1]), d[:, 1], lo) > th * (hi - lo)).sum())

    def finite_only(d, lo, hi, th):
        f = np.isfinite(d[:, 1])
        return int((d[f, 0] - d[f, 1] > th * (hi - lo)).sum())

    assert exercises.check_significant_peaks(right)
    with pytest.raises(ExerciseError, match="never merges"):
        exercises.check_significant_peaks(finite_only)


def test_latent_ascent_check(toy):
    G, unit = toy
    start = torch.full((G.dim,), 2.0)
    z = start.clone().requires_grad_(True)
    adam = torch.optim.Adam([z], lr=0.1)
    for _ in range(30):
        adam.zero_grad()
        (-unit(G(z[None]))[0]).backward()
        adam.step()
    assert exercises.check_latent_ascent(z.detach(), start, G, unit)
    with pytest.raises(ExerciseError, match="never moved"):
        exercises.check_latent_ascent(start.clone(), start, G, unit)
    with pytest.raises(ExerciseError, match="minus the response"):
        exercises.check_latent_ascent(start + 1.0, start, G, unit)
    with pytest.raises(ExerciseError, match="one latent code"):
        exercises.check_latent_ascent(torch.zeros(2, G.dim), start, G, unit)


def test_hidden_cell_keeps_its_parameters_until_reveal(tmp_path, capsys):
    cell = exercises.hidden_v1_cell(seed=2026)
    truth = cell._cell.describe()
    shown = repr(cell) + json.dumps(cell.describe())
    assert "hidden" in shown
    for key in ("orientation", "frequency"):
        assert f"{truth[key]:.1f}" not in shown and f"{truth[key]:.0f}." not in shown and key not in cell.describe()
    # the same seed is the same cell for everyone; spike counts are whole numbers, clean rates are not
    assert exercises.hidden_v1_cell(seed=2026)._cell.describe() == truth
    from landscape import stimuli

    images, _ = stimuli.gratings(32, orientations=[truth["orientation"]], frequencies=[4.0], phases=[0])
    counts = cell(images)
    assert torch.equal(counts, counts.round()) and float(cell.clean(images)[0]) > 2.0
    # a run folder written with it does not leak the parameters either
    from landscape import optim
    from landscape.runs import evolve

    class Gratings:  # codes -> gratings, enough for one generation
        dim, name, image_size, max_batch, device = 2, "gratings", 32, 64, torch.device("cpu")

        def __call__(self, codes):
            return images.expand(codes.shape[0], -1, -1, -1)

        def render(self, codes, batch_size=None):
            return self(codes)

        def describe(self):
            return {"name": self.name}

    evolve(Gratings(), cell, optim.make("ga", 2, seed=0), budget=20, out=tmp_path / "run", seed=0, progress=False)
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["unit"] == cell.describe()

    with pytest.raises(ExerciseError, match="needs your own estimate of the frequency"):
        cell.reveal(orientation=30)
    with pytest.raises(ExerciseError, match="more than 10° away"):
        cell.check_orientation(truth["orientation"] + 45)
    assert cell.check_orientation(truth["orientation"] + 178)      # orientation wraps at 180°
    with pytest.raises(ExerciseError, match="octave below"):
        cell.check_frequency(truth["frequency"] / 1.5)
    capsys.readouterr()
    revealed = cell.reveal(orientation=truth["orientation"] + 3, frequency=truth["frequency"])
    out = capsys.readouterr().out
    assert revealed["orientation"] == pytest.approx(truth["orientation"]) and "3.0°" in out
    assert "revealed" in repr(cell)
