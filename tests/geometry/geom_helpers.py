"""Small generators for the geometry tests (imported by conftest and the test modules)."""

from __future__ import annotations

import torch
from torch import nn


class LinearGenerator:
    """G(z) = A z reshaped to (B, 3, s, s): with pixel MSE the metric is exactly 2 A'A / (3 s s)."""

    def __init__(self, A: torch.Tensor, side: int) -> None:
        self.A, self.side, self.dim = A, side, A.shape[1]

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return (z @ self.A.T).reshape(-1, 3, self.side, self.side)

    def metric(self) -> torch.Tensor:
        return 2 * self.A.T.double() @ self.A.double() / self.A.shape[0]


class SmoothConvGenerator(nn.Module):
    """A small random generator with smooth activations (tanh, softplus) and eval-mode batch norm."""

    def __init__(self, dim: int = 6, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.dim = dim
        self.fc = nn.Linear(dim, 16 * 4 * 4)
        self.up = nn.ConvTranspose2d(16, 8, 4, 2, 1)
        self.bn = nn.BatchNorm2d(8)
        self.out = nn.Conv2d(8, 3, 3, padding=1)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.1, 0.1)
            self.bn.running_var.uniform_(0.5, 1.5)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.fc(z)).view(-1, 16, 4, 4)
        x = nn.functional.softplus(self.bn(self.up(x)))
        return torch.sigmoid(self.out(x))


class AffineSlice:
    """z' -> G(z0 + B w): the generator restricted to a few directions (a small real generator)."""

    def __init__(self, G, z0: torch.Tensor, B: torch.Tensor) -> None:
        self.G, self.z0, self.B, self.dim = G, z0, B, B.shape[1]

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return self.G(self.z0 + w @ self.B.T)
