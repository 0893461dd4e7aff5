"""Maps built to have a known topology, shared by the topology tests."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest


def grid(n: int = 61, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) coordinates in [-1, 1], shape (n, m)."""
    m = n if m is None else m
    return np.mgrid[-1:1:complex(0, n), -1:1:complex(0, m)]


def peaks(centres: list[tuple[float, float]], heights: list[float] | None = None, width: float = 0.12,
          n: int = 61) -> np.ndarray:
    """Separated Gaussian bumps on a zero floor: k centres give k peaks."""
    y, x = grid(n)
    heights = heights or [1.0] * len(centres)
    return sum(h * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width ** 2))
               for (cx, cy), h in zip(centres, heights))


def annulus(n: int = 61, radius: float = 0.5, width: float = 0.1) -> np.ndarray:
    """A ring ridge around a pit: one H1 class, two loops at mid levels."""
    y, x = grid(n)
    return np.exp(-(np.hypot(x, y) - radius) ** 2 / (2 * width ** 2))


def smooth_random(shape: tuple[int, int], sigma: float, seed: int, wrap: bool = False) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    return gaussian_filter(rng.standard_normal(shape), sigma, mode=("nearest", "wrap" if wrap else "nearest"))


#: (domain, angle keywords as a function of (n, m)) for every kind of surface
def surfaces(n: int, m: int) -> list[tuple[str, dict, str]]:
    full = np.arange(m) * 360.0 / m - 180.0
    return [("plane", {}, "disk"),
            ("sphere", {}, "disk"),                                                   # hemisphere, poles
            ("sphere", {"theta_deg": full}, "sphere"),                               # seam + both poles
            ("sphere", {"theta_deg": full, "phi_deg": np.linspace(-60, 60, n)}, "annulus"),
            ("sphere", {"theta_deg": full, "phi_deg": np.linspace(-90, 60, n)}, "disk"),  # polar cap
            ("sphere", {"phi_deg": np.linspace(-90, 60, n)}, "disk")]


@pytest.fixture(scope="session")
def synth() -> SimpleNamespace:
    return SimpleNamespace(grid=grid, peaks=peaks, annulus=annulus, smooth_random=smooth_random, surfaces=surfaces)
