"""Geometry on the sphere of fixed code norm (used by :class:`~landscape.optim.SphereCMA`).

All functions work row-wise and follow their inputs' device and dtype.
"""

from __future__ import annotations

import torch


def to_sphere(x: torch.Tensor, radius: float) -> torch.Tensor:
    """Rescale rows of ``x`` to norm ``radius``.

    Parameters
    ----------
    x : (n, d) tensor with non-zero rows

    Returns
    -------
    (n, d) tensor
    """
    norms = x.norm(dim=-1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError("cannot project a zero vector onto the sphere")
    return x * (radius / norms)


def angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle in radians between rows of ``a`` (n, d) and ``b`` (n, d) or (1, d); shape (n,)."""
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.arccos(cos.clamp(-1.0, 1.0))


def tangent_projection(v: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
    """Remove from rows of ``v`` (n, d) their component along ``base`` (d,); shape (n, d)."""
    u = base / base.norm()
    return v - (v @ u)[:, None] * u[None]


def exp_map(base: torch.Tensor, tangents: torch.Tensor) -> torch.Tensor:
    """Exponential map of the sphere through ``base``.

    Parameters
    ----------
    base : (d,) point on the sphere of radius ``|base|``
    tangents : (n, d) tangent vectors at ``base``; their norm is the angle in radians

    Returns
    -------
    points : (n, d) on the same sphere, at angle ``|t|`` from ``base`` in direction ``t``
    """
    radius = base.norm()
    u = base / radius
    theta = tangents.norm(dim=-1, keepdim=True)
    direction = tangents / theta.clamp_min(torch.finfo(tangents.dtype).tiny)
    return radius * (torch.cos(theta) * u[None] + torch.sin(theta) * direction)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation from ``a`` (t = 0) to ``b`` (t = 1); t > 1 extrapolates.

    Parameters
    ----------
    a, b : (d,) vectors of equal norm

    Returns
    -------
    (d,) vector of the same norm on the great circle through ``a`` and ``b``
    """
    theta = angle(a[None], b[None])[0]
    if float(theta) < 1e-12:  # same direction: the great circle is undefined, stay put
        return b.clone()
    s = torch.sin(theta)
    return (torch.sin((1 - t) * theta) / s) * a + (torch.sin(t * theta) / s) * b
