"""Stimulus families: geometry and colour conventions, parameter tables, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from landscape import stimuli as S


def test_grating_orientation_convention():
    # 0 deg = horizontal bars (constant along each row), 90 deg = vertical bars
    im, _ = S.gratings(32, orientations=[0.0, 90.0], frequencies=4.0, phases=[0.0])
    horiz, vert = im[0, 0], im[1, 0]
    assert torch.allclose(horiz, horiz[:, :1].expand_as(horiz))
    assert torch.allclose(vert, vert[:1, :].expand_as(vert))
    assert horiz.std() > 0.3 and vert.std() > 0.3
    # 45 deg bars run from bottom-left to top-right (y up): constant along the anti-diagonal
    im, _ = S.gratings(32, orientations=[45.0], frequencies=4.0, phases=[0.0])
    a = im[0, 0].numpy()
    assert np.allclose([a[31 - k, k] for k in range(32)], a[31, 0], atol=1e-5)


def test_grating_frequency_and_phase():
    im, _ = S.gratings(64, orientations=[90.0], frequencies=[5.0], phases=[0.0])
    row = im[0, 0, 0].numpy() - 0.5
    spectrum = np.abs(np.fft.rfft(row))
    assert int(np.argmax(spectrum)) == 5  # five cycles per image side
    # phase 0 puts a peak-colour bar through the centre of an odd-sized image
    im, _ = S.gratings(33, orientations=[90.0], frequencies=[3.0], phases=[0.0, 180.0])
    assert im[0, 0, 16, 16] == pytest.approx(1.0, abs=1e-5)
    assert im[1, 0, 16, 16] == pytest.approx(0.0, abs=1e-5)


def test_grating_contrast_colors_and_square_wave():
    im, _ = S.gratings(32, [30.0], [4.0], [0.0], contrasts=[0.0, 0.5, 1.0], colors=("red", "green"))
    assert torch.allclose(im[0], torch.tensor([0.5, 0.5, 0.0])[:, None, None].expand(3, 32, 32))
    assert float(im[1, 0].max() - im[1, 0].min()) == pytest.approx(0.5, abs=0.02)
    assert float(im[2, 2].abs().max()) == 0.0  # blue stays off for a red/green pair
    sq, _ = S.gratings(32, [0.0], [4.0], [0.0], waveform="square")
    assert set(np.unique(sq.numpy().round(6))) <= {0.0, 1.0}


def test_param_table_grid_order():
    im, p = S.gratings(16, orientations=3, frequencies=[1.0, 2.0], phases=4)
    assert im.shape == (24, 3, 16, 16) and len(p) == 24
    assert p.shape == (3, 2, 4, 1)
    g = p.grid(p["orientation"])
    assert np.allclose(g[:, 1, 2, 0], [0.0, 60.0, 120.0])
    assert np.allclose(p.grid(p["phase"])[2, 0, :, 0], [0, 90, 180, 270])
    # rows of the table describe the images in order
    row = p.row(5)
    single, _ = S.gratings(16, [row["orientation"]], [row["frequency"]], [row["phase"]])
    assert torch.allclose(single[0], im[5], atol=1e-6)


def test_param_table_csv(tmp_path):
    _, p = S.discs(16, [0.1, 0.2], ["white", "red"])
    path = p.to_csv(tmp_path / "p.csv", response=np.arange(4.0))
    lines = path.read_text().splitlines()
    assert lines[0].split(",")[:4] == ["radius", "x", "y", "color"]
    assert lines[0].endswith("response") and len(lines) == 5
    with pytest.raises(ValueError, match="extra column"):
        p.to_csv(tmp_path / "q.csv", response=np.arange(3.0))


def test_gabor_position_and_envelope():
    im, p = S.gabors(64, [0.0], [6.0], [0.0], sigmas=0.05, x=[0.25], y=[-0.25])
    dev = (im[0, 0] - 0.5).abs()
    r, c = np.unravel_index(int(dev.argmax()), dev.shape)
    assert abs((c + 0.5) / 64 - 0.5 - 0.25) <= 1 / 64 and abs(0.5 - (r + 0.5) / 64 + 0.25) <= 1 / 64
    assert float(dev[:8, :8].max()) < 1e-3  # far corner is the mean grey


def test_discs_annuli_and_center_surround():
    im, p = S.discs(64, [0.25], "red", background="grey")
    area = float(((im[0] - torch.tensor([1.0, 0, 0])[:, None, None]).abs().sum(0) < 1e-6).sum())
    assert area == pytest.approx(math.pi * 16 ** 2, rel=0.08)
    assert torch.allclose(im[0, :, 0, 0], torch.tensor([0.5, 0.5, 0.5]))
    an, _ = S.annuli(64, [0.2], colors="white")
    assert torch.allclose(an[0, :, 32, 32], torch.full((3,), 0.5))  # hole shows the background
    assert torch.allclose(an[0, :, 0, 0], torch.ones(3))  # default outer radius fills the image
    cs, p = S.center_surround(64, [0.1], [0.3], "red", "green")
    assert torch.allclose(cs[0, :, 32, 32], torch.tensor([1.0, 0, 0]))
    assert torch.allclose(cs[0, :, 32, 32 + 13], torch.tensor([0.0, 1, 0]))
    assert torch.allclose(cs[0, :, 0, 0], torch.full((3,), 0.5))
    assert p.shape == (1, 1, 1, 1, 1, 1)


def test_bars_and_edges():
    im, _ = S.bars(64, [0.0], lengths=0.5, widths=0.125, colors="white", background="black")
    lit = im[0, 0] > 0.5
    rows, cols = torch.nonzero(lit, as_tuple=True)
    assert int(rows.max() - rows.min() + 1) == 8 and int(cols.max() - cols.min() + 1) == 32
    ed, _ = S.edges(32, [0.0], colors=("white", "black"))
    assert float(ed[0, 0, :15].min()) == 1.0 and float(ed[0, 0, 17:].max()) == 0.0


def test_hue_fields_are_isoluminant():
    im, p = S.hue_fields(16, hues=24, luminance=0.4)
    lum = S.luminance(im[:, :, 0, 0].numpy())
    assert np.allclose(lum, 0.4, atol=1e-6)
    assert im.min() >= 0 and im.max() <= 1
    assert p["saturation"][0] == pytest.approx(S.max_isoluminant_saturation(0.4))
    red = im[0, :, 0, 0]
    assert red[0] > red[1] and red[0] > 0.4  # hue 0 is reddish
    with pytest.raises(ValueError, match="fits in the RGB cube"):
        S.hue_fields(16, 4, luminance=0.5, saturation=2.0)
    disc, _ = S.hue_fields(32, [0.0], radius=0.1)
    assert torch.allclose(disc[0, :, 0, 0], torch.full((3,), 0.5))


def test_sparse_noise_one_square_each():
    im, p = S.sparse_noise(32, grid=4, colors=("white", "black"))
    assert im.shape == (32, 3, 32, 32) and p.shape == (2, 4, 4)
    for i in range(len(p)):
        diff = (im[i, 0] != 0.5)
        rows, cols = torch.nonzero(diff, as_tuple=True)
        assert int(rows.min()) // 8 == p["row"][i] and int(cols.min()) // 8 == p["col"][i]
        assert int(diff.sum()) == 64


def test_dtype_and_device_follow_arguments():
    im, _ = S.discs(16, 0.2, dtype=torch.float64, device="cpu")
    assert im.dtype == torch.float64 and im.device.type == "cpu"


@pytest.mark.parametrize("call, message", [
    (lambda: S.gratings(32, frequencies=-2.0), "must be positive"),
    (lambda: S.gratings(32, frequencies=20.0), "Nyquist"),
    (lambda: S.gabors(32, sigmas=0.7), "larger than the image"),
    (lambda: S.discs(32, 0.9), "larger than the image"),
    (lambda: S.discs(32, -0.1), "radius must be > 0"),
    (lambda: S.bars(32, lengths=2.0), "too large"),
    (lambda: S.annuli(32, [0.3], [0.2]), "smaller than every outer"),
    (lambda: S.discs(32, 0.1, "purple"), "valid names are .*'blue'"),
    (lambda: S.gratings(32, colors=("white",)), "pair"),
    (lambda: S.gratings(32, contrasts=1.5), "contrast"),
    (lambda: S.gabors(32, x=0.8), "x 0.8 is too large"),
    (lambda: S.gratings(1), "size"),
    (lambda: S.gratings(32, waveform="triangle"), "waveform"),
    (lambda: S.sparse_noise(8, grid=16), "more squares"),
])
def test_bad_parameters_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=25, deadline=None)
@given(orientation=st.floats(0, 180), cycles=st.integers(1, 7), phase=st.floats(0, 360),
       contrast=st.floats(0, 1), a=st.sampled_from(sorted(S.COLORS)), b=st.sampled_from(sorted(S.COLORS)))
@pytest.mark.slow
def test_gratings_stay_in_range_and_average_to_the_mean_colour(orientation, cycles, phase, contrast, a, b):
    # whole cycles across a horizontal or vertical period average exactly to the mean colour
    for ori in (0.0, 90.0, orientation):
        im, _ = S.gratings(32, [ori], [float(cycles)], [phase], [contrast], colors=(a, b))
        assert float(im.min()) >= 0.0 and float(im.max()) <= 1.0
    im, _ = S.gratings(32, [90.0], [float(cycles)], [phase], [contrast], colors=(a, b))
    mid = (S.parse_color(a) + S.parse_color(b)) / 2
    assert np.allclose(im[0].mean(dim=(1, 2)).numpy(), mid, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(radius=st.floats(0.02, S.MAX_RADIUS), x=st.floats(-0.5, 0.5), y=st.floats(-0.5, 0.5))
def test_disc_area_grows_with_radius_and_never_leaves_the_range(radius, x, y):
    im, _ = S.discs(32, [radius / 2, radius], "white", x=x, y=y, background="black")
    assert float(im.min()) >= 0.0 and float(im.max()) <= 1.0
    small, large = im[:, 0].sum(dim=(1, 2))
    assert float(large) >= float(small)
