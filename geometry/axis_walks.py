"""Eigen-axes as pictures: images along a direction in code space.

A walk from code ``z`` along unit direction ``u`` is either *linear*, ``z + t u`` (``t`` a
code-space distance), or *spherical*, ``|z| (cos t z_hat + sin t w)`` with ``w`` the unit part
of ``u`` orthogonal to ``z`` (``t`` an angle in radians; the norm of the code is kept, which
matters for generators trained on a shell such as DeePSiM fc6 with SphereCMA).

Steps can be given directly, or as image distances: :func:`steps_for_distance` finds, by
bracketing and bisection on the real distance, the steps at which ``D(G(z), G(walk(t)))``
equals each target, so strips along different eigenvectors show the same amount of change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .distances import DistanceLike, as_distance, check_distance_output

MODES = ("linear", "spherical")


def _tensor(x: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    """A tensor from a tensor or array (numpy views with negative strides are copied)."""
    t = x if torch.is_tensor(x) else torch.from_numpy(np.ascontiguousarray(np.asarray(x, dtype=np.float64)))
    if like is not None:
        t = t.to(device=like.device, dtype=like.dtype)
    elif not t.is_floating_point():
        t = t.float()
    return t


def _unit(v: torch.Tensor, what: str) -> torch.Tensor:
    n = v.norm()
    if not n > 0:
        raise ValueError(f"{what} has zero norm")
    return v / n


def axis_walk(code: Any, direction: Any, steps: Any, mode: str = "linear") -> torch.Tensor:
    """Codes along ``direction`` from ``code``.

    Parameters
    ----------
    code : (d,) tensor or array
    direction : (d,) tensor or array (normalised here)
    steps : (m,) sequence
        Code-space distances (linear) or angles in radians (spherical); negative walks back.
    mode : {"linear", "spherical"}

    Returns
    -------
    codes : (m, d) tensor, same dtype and device as ``code``
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    z = _tensor(code).reshape(-1)
    u = _unit(_tensor(direction, z).reshape(-1), "direction")
    if u.numel() != z.numel():
        raise ValueError(f"direction has {u.numel()} entries, the code {z.numel()}")
    t = torch.as_tensor(np.asarray(steps, dtype=np.float64), dtype=z.dtype, device=z.device).reshape(-1, 1)
    if mode == "linear":
        return z[None] + t * u[None]
    r = z.norm()
    zh = _unit(z, "code (a spherical walk needs a nonzero code)")
    w = u - (u @ zh) * zh
    w = _unit(w, "direction's part orthogonal to the code (direction is parallel to the code)")
    return r * (torch.cos(t) * zh[None] + torch.sin(t) * w[None])


@torch.no_grad()
def steps_for_distance(G: Callable[[torch.Tensor], torch.Tensor], code: Any, direction: Any, targets: Sequence[float],
                       distance: DistanceLike = "mse", mode: str = "linear", max_step: float | None = None,
                       iters: int = 40) -> np.ndarray:
    """Steps ``t`` along a walk at which the image distance from ``G(code)`` equals each target.

    The sign of a target sets the direction (``-0.1``: walk backwards until the distance is 0.1);
    a target of 0 gives step 0. Each target's bracket is grown by doubling from a small step,
    then bisected; all targets are evaluated in one generator batch per iteration. The first
    crossing is found when the distance is monotone along the walk, which holds near ``code``.

    Parameters
    ----------
    targets : (m,) floats
    max_step : float, optional
        Largest step tried (default ``4 |code|`` for linear walks, ``pi`` for spherical ones).
        A target not reached by then raises.

    Returns
    -------
    (m,) float64 array of signed steps
    """
    D = as_distance(distance)
    z = _tensor(code).reshape(-1)
    tg = np.asarray(targets, dtype=np.float64).reshape(-1)
    sign, goal = np.sign(tg), np.abs(tg)
    if max_step is None:
        max_step = float(np.pi) if mode == "spherical" else 4.0 * max(float(z.norm()), 1.0)
    x0 = G(z[None])

    def dist(steps: np.ndarray) -> np.ndarray:
        imgs = G(axis_walk(z, direction, steps * sign, mode))
        ref = x0.expand_as(imgs)
        return check_distance_output(D(ref, imgs), len(steps), D).double().cpu().numpy()

    active = goal > 0
    lo = np.zeros_like(goal)
    hi = np.full_like(goal, max_step * 1e-3)
    for _ in range(64):  # grow brackets
        need = active & (dist(hi) < goal)
        if not need.any():
            break
        lo = np.where(need, hi, lo)
        hi = np.where(need, np.minimum(hi * 2, max_step), hi)
        if np.any(need & (lo >= max_step)):
            bad = tg[need & (lo >= max_step)]
            raise ValueError(f"image distance targets {bad.tolist()} are not reached within max_step={max_step:g}; "
                             f"lower them or raise max_step")
    for _ in range(int(iters)):
        mid = (lo + hi) / 2
        below = dist(mid) < goal
        lo = np.where(active & below, mid, lo)
        hi = np.where(active & ~below, mid, hi)
    return np.where(active, (lo + hi) / 2, 0.0) * sign


@torch.no_grad()
def axis_strips(G: Callable[[torch.Tensor], torch.Tensor], code: Any, eigvecs: Any,
                axes: Sequence[int] = (0, 1, 2, 3, 4), steps: Sequence[float] | None = None, targets: Sequence[float] | None = None,
                distance: DistanceLike = "mse", mode: str = "linear") -> tuple[torch.Tensor, np.ndarray]:
    """Images along several eigenvectors, one strip per axis.

    Parameters
    ----------
    G : callable ``(B, d) -> (B, 3, H, W)``
    code : (d,) tensor or array
    eigvecs : (d, k) array or tensor, columns are axes (e.g. ``HessianResult.eigvecs``)
    axes : indices of the columns to walk along
    steps : (m,) code-space steps (or angles), the same for every axis; or
    targets : (m,) signed image distances, matched per axis with :func:`steps_for_distance`
    distance : distance used for ``targets``
    mode : {"linear", "spherical"}

    Returns
    -------
    images : (len(axes), m, 3, H, W) tensor
    steps : (len(axes), m) float64 array, the steps used
    """
    if (steps is None) == (targets is None):
        raise ValueError("give exactly one of steps (code-space) or targets (image distances)")
    z = _tensor(code).reshape(-1)
    V = _tensor(eigvecs, z)
    if V.ndim != 2:
        raise ValueError(f"eigvecs must have shape (d, k), got {tuple(V.shape)}")
    bad = [a for a in axes if not 0 <= int(a) < V.shape[1]]
    if bad:
        raise ValueError(f"axes {bad} out of range for {V.shape[1]} eigenvectors")
    rows, used = [], []
    for a in axes:
        v = V[:, int(a)]
        s = (np.asarray(steps, dtype=np.float64) if steps is not None
             else steps_for_distance(G, z, v, targets, distance, mode))
        rows.append(G(axis_walk(z, v, s, mode)))
        used.append(s)
    return torch.stack(rows), np.stack(used)


def save_strips(images: torch.Tensor, path: str | Path, pad: int = 2) -> Path:
    """Save ``(rows, m, 3, H, W)`` images in [0, 1] as one PNG grid (row = axis)."""
    from PIL import Image

    x = images.detach().float().clamp(0, 1).cpu()
    if x.ndim != 5 or x.shape[2] != 3:
        raise ValueError(f"images must have shape (rows, m, 3, H, W), got {tuple(x.shape)}")
    r, m, _, h, w = x.shape
    grid = torch.ones(3, r * (h + pad) + pad, m * (w + pad) + pad)
    for i in range(r):
        for j in range(m):
            top, left = pad + i * (h + pad), pad + j * (w + pad)
            grid[:, top:top + h, left:left + w] = x[i, j]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(path)
    return path
