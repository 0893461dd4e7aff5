"""Stand-ins for a generator and units whose tuning is known in closed form.

``CodeImages`` writes each code into row 0 of channel 0 of a (3, 1, d) "image", so a unit
can read the code back and respond with any function of it: the maps then have known answers.
"""

from __future__ import annotations

import numpy as np
import torch

from landscape.units.base import Unit


class CodeImages:
    """A generator whose images carry their codes: (B, d) -> (B, 3, 1, d)."""

    def __init__(self, dim: int, max_batch: int = 64) -> None:
        self.dim = dim
        self.name = "code-images"
        self.image_size = 1
        self.max_batch = max_batch
        self.device = torch.device("cpu")
        self.n_images = 0

    def __call__(self, codes: torch.Tensor) -> torch.Tensor:
        codes = torch.as_tensor(codes, dtype=torch.float32)
        self.n_images += codes.shape[0]
        return codes[:, None, None, :].expand(-1, 3, 1, -1).clone()

    def render(self, codes, batch_size=None):
        return self(codes)


class CodeFunctionUnit(Unit):
    """Responds with ``fn(codes (B, d) float64 array) -> (B,)``."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.n_images = 0

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        self.n_images += images.shape[0]
        codes = images[:, 0, 0, :].double().numpy()
        return torch.as_tensor(self.fn(codes))

    def describe(self) -> dict:
        return {"type": "CodeFunctionUnit"}


class AdditiveNoise(CodeFunctionUnit):
    """A noisy unit: clean response plus N(0, sigma^2) noise from its own generator."""

    noisy = True

    def __init__(self, fn, sigma: float, seed: int = 0) -> None:
        super().__init__(fn)
        self.sigma = sigma
        self.rng = torch.Generator().manual_seed(seed)

    def observe(self, clean: torch.Tensor) -> torch.Tensor:
        return clean + self.sigma * torch.randn(clean.shape, generator=self.rng, dtype=clean.dtype)

    def __call__(self, images):
        return self.observe(self.clean(images))


def gaussian_bump(center: np.ndarray, precision: np.ndarray, amplitude: float = 1.0):
    """``amplitude * exp(-(x - c)^T P (x - c) / 2)`` as a function of (B, d) arrays."""
    def fn(x: np.ndarray) -> np.ndarray:
        dx = x - center
        return amplitude * np.exp(-0.5 * np.einsum("bi,ij,bj->b", dx, precision, dx))
    return fn
