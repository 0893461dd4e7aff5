"""Robustness transforms: exact geometry, fill, seeding and gradients, with plain torch ops."""

from __future__ import annotations

import pytest
import torch

from landscape.featviz import Compose, Jitter, Pad, RandomRotate, RandomScale, default_transforms


def rng(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def image(h: int = 9, w: int = 9, b: int = 1) -> torch.Tensor:
    return torch.rand(b, 3, h, w, generator=rng(42))


def test_pad_adds_constant_border():
    x = image()
    y = Pad(2, value=0.25)(x, rng())
    assert y.shape == (1, 3, 13, 13)
    assert torch.equal(y[..., 2:-2, 2:-2], x)
    assert torch.all(y[..., :2, :] == 0.25)


def test_jitter_is_an_exact_integer_shift_with_fill():
    x = image(b=16)
    y = Jitter(2, fill=0.5)(x, rng(1))
    found = 0
    for i in range(16):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.allclose(y[i, :, 2:-2, 2:-2], x[i, :, 2 + dy:9 - 2 + dy, 2 + dx:9 - 2 + dx], atol=1e-5)]
        assert len(matches) == 1, f"image {i} is not a pure shift within +-2 pixels"
        dy, dx = matches[0]
        found += (dy, dx) != (0, 0)
        if dx > 0:  # content moved left: the right edge is filled
            assert torch.allclose(y[i, :, :, -dx:], torch.full_like(y[i, :, :, -dx:], 0.5), atol=1e-6)
    assert found > 8  # shifts are drawn per image


def test_rotate_by_90_degrees_matches_rot90():
    x = image(8, 8)
    y = RandomRotate([90])(x, rng())
    # counter-clockwise on screen (y axis down) or clockwise: accept the one that matches, exactly
    assert any(torch.allclose(y, torch.rot90(x, k, dims=(2, 3)), atol=1e-5) for k in (1, 3))
    assert torch.allclose(RandomRotate([0])(x, rng()), x, atol=1e-6)


def test_rotation_keeps_non_square_images_rigid():
    # a 180 degree turn of a 6 x 10 image must be a flip of both axes, not a stretched resample
    x = image(6, 10)
    y = RandomRotate([180])(x, rng())
    assert torch.allclose(y, x.flip(2, 3), atol=1e-5)


def test_scale_zooms_about_the_centre():
    x = torch.zeros(1, 3, 9, 9)
    x[..., 4, 4] = 1.0
    x[..., 4, 6] = 1.0  # two pixels right of centre
    assert torch.allclose(RandomScale([1.0])(x, rng()), x, atol=1e-6)
    y = RandomScale([2.0], fill=0.0)(x, rng())
    assert float(y[0, 0, 4, 4]) == pytest.approx(1.0, abs=1e-5)  # centre stays
    # the off-centre dot moves to twice its distance (between output pixels 7 and 8)
    row = y[0, 0, 4]
    assert float(row[7] + row[8]) > 0.9 and float(row[5] + row[6]) < 0.6


def test_transforms_are_seeded_and_differentiable():
    t = default_transforms(32)
    x = torch.rand(4, 3, 32, 32, generator=rng(0), requires_grad=True)
    a, b = t(x, rng(7)), t(x, rng(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, t(x, rng(8)))
    a.sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_default_transforms_scale_with_image_size():
    small, large = default_transforms(32), default_transforms(224)
    assert small.transforms[0].width == 2 and large.transforms[0].width == 12
    assert small.transforms[1].pixels == 1 and large.transforms[1].pixels == 8
    out = small(torch.rand(2, 3, 32, 32), rng())
    assert out.shape == (2, 3, 36, 36)
    assert float(out.min()) >= 0 and float(out.max()) <= 1


def test_bad_transform_arguments():
    with pytest.raises(ValueError, match="scales"):
        RandomScale([])
    with pytest.raises(ValueError, match="jitter"):
        Jitter(-1)
    with pytest.raises(TypeError, match="callable"):
        Compose([3])
