"""Random image transforms applied before every step, so the result must work under all of them.

Without them, gradient ascent finds high-frequency patterns that drive a unit only at one exact
pixel alignment. Each transform is a callable ``(images, rng) -> images`` on ``(B, 3, H, W)``
tensors in [0, 1]; randomness comes only from the ``torch.Generator`` passed in (a CPU
generator; draws are per image), so renderings are reproducible. All transforms are
differentiable torch ops (``grid_sample``), with no torchvision dependency.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _choice(values: torch.Tensor, n: int, rng: torch.Generator) -> torch.Tensor:
    return values[torch.randint(len(values), (n,), generator=rng)]


def _warp(images: torch.Tensor, matrix: torch.Tensor, shift: torch.Tensor, fill: float) -> torch.Tensor:
    """Resample ``images`` at ``matrix @ p + shift`` (pixel units, about the image centre).

    matrix : (B, 2, 2), shift : (B, 2), both mapping output pixel (x, y) to input pixel (x, y).
    """
    h, w = images.shape[-2:]
    # affine_grid works in [-1, 1] coordinates: conjugate with the pixel-to-normalised scaling
    # so rotations stay rotations on non-square images.
    to_norm = torch.tensor([2.0 / w, 2.0 / h], dtype=torch.float64)
    m = matrix.double() * to_norm[None, :, None] / to_norm[None, None, :]
    t = shift.double() * to_norm[None, :]
    theta = torch.cat([m, t[:, :, None]], dim=2).to(device=images.device, dtype=images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # zeros padding around (images - fill) puts `fill` outside the image
    return F.grid_sample(images - fill, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False) + fill


class Pad:
    """Pad every side by ``width`` pixels of constant ``value`` (grey by default), so that later
    jitter, scale and rotation move the content rather than cut it off.

    Parameters
    ----------
    width : int
    value : float
    """

    def __init__(self, width: int, value: float = 0.5) -> None:
        if int(width) < 0:
            raise ValueError(f"pad width must be >= 0, got {width!r}")
        self.width, self.value = int(width), float(value)

    def __call__(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        return F.pad(images, [self.width] * 4, mode="constant", value=self.value)

    def __repr__(self) -> str:
        return f"Pad({self.width}, value={self.value})"


class Jitter:
    """Shift each image by a random whole number of pixels in [-pixels, pixels] along x and y.

    Parameters
    ----------
    pixels : int
    fill : float
        Value shifted in from outside.
    """

    def __init__(self, pixels: int, fill: float = 0.5) -> None:
        if int(pixels) < 0:
            raise ValueError(f"jitter must be >= 0 pixels, got {pixels!r}")
        self.pixels, self.fill = int(pixels), float(fill)

    def __call__(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        if self.pixels == 0:
            return images
        b = images.shape[0]
        shift = torch.randint(-self.pixels, self.pixels + 1, (b, 2), generator=rng).double()
        eye = torch.eye(2, dtype=torch.float64).expand(b, 2, 2)
        # integer shifts land bilinear sampling exactly on pixel centres: no blur
        return _warp(images, eye, shift, self.fill)

    def __repr__(self) -> str:
        return f"Jitter({self.pixels})"


class RandomScale:
    """Zoom each image about its centre by a factor drawn from ``scales``.

    Parameters
    ----------
    scales : sequence of float
        Candidate factors (> 1 enlarges).
    fill : float
    """

    def __init__(self, scales: Sequence[float], fill: float = 0.5) -> None:
        scales = [float(s) for s in scales]
        if not scales or min(scales) <= 0:
            raise ValueError(f"scales must be a non-empty sequence of positive factors, got {scales!r}")
        self.scales, self.fill = scales, float(fill)

    def __call__(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        b = images.shape[0]
        s = _choice(torch.tensor(self.scales, dtype=torch.float64), b, rng)
        matrix = torch.eye(2, dtype=torch.float64)[None] / s[:, None, None]
        return _warp(images, matrix, torch.zeros(b, 2, dtype=torch.float64), self.fill)

    def __repr__(self) -> str:
        return f"RandomScale({self.scales})"


class RandomRotate:
    """Rotate each image about its centre by an angle (degrees) drawn from ``angles``.

    Parameters
    ----------
    angles : sequence of float
        Candidate angles in degrees.
    fill : float
    """

    def __init__(self, angles: Sequence[float], fill: float = 0.5) -> None:
        angles = [float(a) for a in angles]
        if not angles:
            raise ValueError("angles must be a non-empty sequence of degrees")
        self.angles, self.fill = angles, float(fill)

    def __call__(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        b = images.shape[0]
        a = _choice(torch.tensor(self.angles, dtype=torch.float64), b, rng) * (math.pi / 180)
        c, s = torch.cos(a), torch.sin(a)
        matrix = torch.stack([torch.stack([c, -s], 1), torch.stack([s, c], 1)], 1)
        return _warp(images, matrix, torch.zeros(b, 2, dtype=torch.float64), self.fill)

    def __repr__(self) -> str:
        return f"RandomRotate({self.angles})"


class Compose:
    """Apply transforms in order.

    Parameters
    ----------
    transforms : sequence of callables ``(images, rng) -> images``
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"every transform must be callable as t(images, rng); got {t!r}")

    def __call__(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        for t in self.transforms:
            images = t(images, rng)
        return images

    def __len__(self) -> int:
        return len(self.transforms)

    def __repr__(self) -> str:
        return f"Compose({self.transforms})"


def default_transforms(size: int) -> Compose:
    """lucid's standard transforms, with pixel amounts scaled to the image size.

    lucid tunes pad 12, jitter 8, scale 0.9-1.1, rotate +-10 degrees and jitter 4 for 224-pixel
    images; a 32-pixel CIFAR image shifted by 8 pixels would lose a quarter of itself, so the
    pixel amounts scale with ``size / 224`` (at least 1 pixel). Scales and angles are
    relative and stay as they are.

    Parameters
    ----------
    size : int
        Side of the rendered image in pixels.
    """
    def px(n: int) -> int:
        return max(1, round(n * size / 224))

    return Compose([
        Pad(px(12)),
        Jitter(px(8)),
        RandomScale([1 + (i - 5) / 50 for i in range(11)]),
        RandomRotate(list(range(-10, 11)) + 5 * [0]),
        Jitter(px(4)),
    ])
