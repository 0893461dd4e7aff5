"""GAN inversion: find codes whose images match target images, optionally in an eigenbasis.

Gradient descent (Adam) on ``D(G(z), target)``. Adam adapts a step size per coordinate, so the
coordinates it works in matter: Wang & Ponce show that running it in the eigenbasis of the
(averaged) metric, where the coordinates are the axes of image change, inverts faster. Here
the code is parametrised as

    z = z_init + B diag(s) w,    w in R^k, starting at w = 0,

with ``B`` a handed ``(d, k)`` basis with orthonormal columns (``None``: the identity, plain
coordinates) and ``s`` per-axis scales. With ``eigvals`` given, ``s_i = (lambda_1 / lambda_i)^(1/2)``
(capped at ``max_scale``) so a unit of ``w`` changes the image by about the same amount along
every axis; without, ``s = 1``. With ``k < d`` the search is restricted to ``z_init`` plus the
span of ``B``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from .distances import DistanceLike, as_distance, check_distance_output


class Inversion:
    """Invert a generator: images -> codes.

    Parameters
    ----------
    distance : "mse" or callable ``(images_a, images_b) -> (B,)``
    basis : (d, k) array or tensor, optional
        Orthonormal columns to search along (e.g. ``AverageHessian.basis(k)``).
    eigvals : (k,) array, optional
        Eigenvalues belonging to ``basis``' columns; turns on per-axis scaling.
    max_scale : float
        Cap on the per-axis scale when ``eigvals`` is given.
    n_steps : int
        Adam steps.
    lr : float
        Adam learning rate (in units of ``w``).
    n_starts : int
        Random initial codes per target; the best final code is kept.
    init_scale : float
        Random initial codes are ``N(0, init_scale^2 I)`` (ignored when ``init`` is passed to fit).
    seed : int
        Seeds the initial codes (one ``torch.Generator``).
    progress : bool
        Show a tqdm bar over steps.

    Attributes (after :meth:`fit`)
    ------------------------------
    codes_ : (B, d) tensor, best code per target
    distances_ : (B,) tensor, their distances to the targets
    history_ : (n_steps + 1, B) float64 array, best distance per target at each step
    images_ : (B, 3, H, W) tensor, ``G(codes_)``
    """

    def __init__(self, distance: DistanceLike = "mse", basis: Any = None, eigvals: Any = None,
                 max_scale: float = 100.0, n_steps: int = 200, lr: float = 0.05, n_starts: int = 1,
                 init_scale: float = 1.0, seed: int = 0, progress: bool = False) -> None:
        self.distance = distance
        self.basis = basis
        self.eigvals = eigvals
        self.max_scale = float(max_scale)
        self.n_steps = int(n_steps)
        self.lr = float(lr)
        self.n_starts = int(n_starts)
        self.init_scale = float(init_scale)
        self.seed = int(seed)
        self.progress = progress

    def _frame(self, d: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor | None, torch.Tensor]:
        if self.basis is None:
            if self.eigvals is not None:
                raise ValueError("eigvals needs the basis it belongs to (basis=...)")
            return None, torch.ones(d, device=device, dtype=dtype)
        B = torch.as_tensor(np.asarray(self.basis) if not torch.is_tensor(self.basis) else self.basis)
        B = B.to(device=device, dtype=dtype)
        if B.ndim != 2 or B.shape[0] != d:
            raise ValueError(f"basis must have shape (d={d}, k), got {tuple(B.shape)}")
        gram = B.T.double() @ B.double()
        if not torch.allclose(gram, torch.eye(B.shape[1], dtype=torch.float64, device=device), atol=1e-4):
            raise ValueError("basis columns must be orthonormal (e.g. eigenvectors from geometry.hessian)")
        if self.eigvals is None:
            return B, torch.ones(B.shape[1], device=device, dtype=dtype)
        lam = np.asarray(self.eigvals, dtype=np.float64).reshape(-1)
        if lam.shape[0] != B.shape[1]:
            raise ValueError(f"eigvals has {lam.shape[0]} entries for a basis of {B.shape[1]} columns")
        top = lam.max()
        if not top > 0:
            raise ValueError("eigvals must contain a positive value")
        floor = top / self.max_scale ** 2
        s = np.sqrt(top / np.maximum(lam, floor))
        return B, torch.as_tensor(s, device=device, dtype=dtype)

    def fit(self, G: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, init: Any = None) -> "Inversion":
        """Find codes for ``images`` (B, 3, H, W).

        Parameters
        ----------
        G : callable ``(N, d) -> (N, 3, H, W)``, differentiable; needs a ``dim`` attribute unless
            ``init`` or ``basis`` tells the code size.
        images : (B, 3, H, W) target images, on the device to work on
        init : (d,), (B, d) or (n_starts * B, d) initial codes, optional
        """
        D = as_distance(self.distance)
        targets = images.detach()
        nb, device = targets.shape[0], targets.device
        dtype = torch.float32 if not targets.is_floating_point() else targets.dtype
        d = getattr(G, "dim", None)
        if d is None and init is not None:
            d = torch.as_tensor(init).shape[-1]
        if d is None and self.basis is not None:
            d = np.shape(self.basis)[0]
        if d is None:
            raise ValueError("cannot tell the code size: give G a `dim` attribute, or pass init or basis")
        d = int(d)
        n = nb * self.n_starts
        if init is None:
            g = torch.Generator().manual_seed(self.seed)
            z0 = (torch.randn(n, d, generator=g, dtype=torch.float64) * self.init_scale).to(device, dtype)
        else:
            z0 = torch.as_tensor(init).to(device, dtype)
            z0 = z0.reshape(-1, d)
            if z0.shape[0] in (1, nb):
                z0 = z0.expand(nb, d).repeat(self.n_starts, 1)
            if z0.shape[0] != n:
                raise ValueError(f"init must have shape (d,), (B, d) or (n_starts * B, d) = ({n}, {d}); "
                                 f"got {tuple(torch.as_tensor(init).shape)}")
        B, s = self._frame(d, device, dtype)
        w = torch.zeros(n, d if B is None else B.shape[1], device=device, dtype=dtype, requires_grad=True)
        tgt = targets.repeat(self.n_starts, 1, 1, 1)
        opt = torch.optim.Adam([w], lr=self.lr)

        def codes_of(w: torch.Tensor) -> torch.Tensor:
            return z0 + (w * s if B is None else (w * s) @ B.T)

        def losses(w: torch.Tensor) -> torch.Tensor:
            return check_distance_output(D(G(codes_of(w)), tgt), n, D)

        steps = range(self.n_steps + 1)  # the last pass only scores the final codes
        if self.progress:
            from tqdm.auto import tqdm
            steps = tqdm(steps, desc="inversion", unit="step")
        best_loss = torch.full((n,), float("inf"), device=device, dtype=torch.float64)
        best_w = w.detach().clone()
        history = []
        for it in steps:
            loss = losses(w)
            with torch.no_grad():
                better = loss.double() < best_loss
                best_loss = torch.where(better, loss.double(), best_loss)
                best_w[better] = w.detach()[better]
                history.append(best_loss.view(self.n_starts, nb).min(0).values.cpu().numpy())
            if it == self.n_steps:
                break
            opt.zero_grad()
            loss.sum().backward()
            opt.step()
        with torch.no_grad():
            per_start = best_loss.view(self.n_starts, nb)
            pick = per_start.argmin(0)
            idx = pick * nb + torch.arange(nb, device=device)
            self.codes_ = codes_of(best_w)[idx].detach()
            self.distances_ = per_start.min(0).values.to(dtype)
            self.images_ = G(self.codes_).detach()
        self.history_ = np.stack(history)
        return self

    def __repr__(self) -> str:
        k = None if self.basis is None else np.shape(self.basis)[1]
        return (f"Inversion(distance={self.distance!r}, basis_k={k}, scaled={self.eigvals is not None}, "
                f"n_steps={self.n_steps}, lr={self.lr}, n_starts={self.n_starts}, seed={self.seed})")
