"""Search in a given linear subspace of code space (e.g. the top Hessian eigenvectors)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base import Optimizer
from .checks import as_codes


class Subspace(Optimizer):
    """Wrap an optimizer of dimension ``k`` so that it searches ``center + basisᵀ y``.

    Parameters
    ----------
    optimizer : Optimizer
        The inner search, with ``optimizer.dim == k``; it proposes the coefficients ``y``.
    basis : (k, d) array-like
        Orthonormal rows spanning the subspace (for instance the top-k Hessian eigenvectors
        computed by :mod:`geometry`, handed over as an array).
    center : (d,) array-like or None
        Origin of the subspace in code space; ``None``: the zero code.

    Notes
    -----
    ``nan_policy`` and the random generator are the inner optimizer's; codes told back are
    projected onto the basis, so codes off the subspace lose their orthogonal part.
    """

    name = "subspace"

    def __init__(self, optimizer: Optimizer, basis: Any, center: Any = None) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a landscape.optim Optimizer, got {type(optimizer).__name__}")
        b = torch.as_tensor(basis.detach() if torch.is_tensor(basis) else np.asarray(basis))
        if b.ndim != 2 or b.shape[0] != optimizer.dim or b.shape[1] < b.shape[0]:
            raise ValueError(f"basis must have shape (k, d) with k = optimizer.dim = {optimizer.dim} <= d, "
                             f"got {tuple(b.shape)}")
        super().__init__(int(b.shape[1]), seed=0, device=optimizer.device, dtype=optimizer.dtype,
                         nan_policy=optimizer.nan_policy)
        self.rng = optimizer.rng  # one stream of randomness: the inner optimizer's
        self.optimizer = optimizer
        self.basis = b.to(device=self.device, dtype=self.dtype).clone()
        gram = self.basis.double() @ self.basis.double().T
        err = float((gram - torch.eye(gram.shape[0], dtype=torch.float64, device=gram.device)).abs().max())
        if err > 1e-4:
            raise ValueError(f"basis rows must be orthonormal (max |B Bᵀ - I| = {err:.2g}); orthonormalise "
                             "them first, e.g. torch.linalg.qr(basis.T).Q.T")
        self.center = (torch.zeros(self.dim, device=self.device, dtype=self.dtype) if center is None
                       else as_codes(center, self.dim, self.device, self.dtype, "center", max_rows=1)[0])
        self.seed = optimizer.seed

    @property
    def rank(self) -> int:
        """Dimension ``k`` of the subspace."""
        return int(self.basis.shape[0])

    def to_codes(self, coefficients: torch.Tensor) -> torch.Tensor:
        """``center + y @ basis``: coefficients (n, k) -> codes (n, d)."""
        return self.center[None] + coefficients.to(self.dtype) @ self.basis

    def to_coefficients(self, codes: torch.Tensor) -> torch.Tensor:
        """Orthogonal projection of codes (n, d) onto the subspace, as coefficients (n, k)."""
        return (codes.to(self.dtype) - self.center[None]) @ self.basis.T

    def initialize(self, codes: Any) -> None:
        """Pass a first generation (codes (n, d), projected) to the inner optimizer."""
        if not hasattr(self.optimizer, "initialize"):
            raise TypeError(f"{type(self.optimizer).__name__} takes no initial codes")
        codes = as_codes(codes, self.dim, self.device, self.dtype, "init_codes")
        self.optimizer.initialize(self.to_coefficients(codes))

    def ask(self) -> torch.Tensor:
        """Codes to score next, (n, d): the inner optimizer's proposals mapped to code space."""
        return self.to_codes(self.optimizer.ask())

    def _tell(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        self.optimizer.tell(self.to_coefficients(codes), scores)

    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dim": self.dim, "generation": self.generation,
                "optimizer": self.optimizer.state_dict(), "basis": self.basis.clone(),
                "center": self.center.clone(), **self._tracking_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("name") != self.name or state.get("dim") != self.dim:
            raise ValueError(f"state is for optimizer {state.get('name')!r} with dim {state.get('dim')}, "
                             f"not {self.name!r} with dim {self.dim}")
        basis = state["basis"].to(device=self.device, dtype=self.dtype)
        if basis.shape != self.basis.shape or not torch.equal(basis, self.basis):
            raise ValueError("state was saved with a different subspace basis")
        self.generation = int(state["generation"])
        self.center = state["center"].to(device=self.device, dtype=self.dtype).clone()
        self.optimizer.load_state_dict(state["optimizer"])
        self._load_tracking_state(state)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "dim": self.dim, "rank": self.rank, "optimizer": self.optimizer.config()}
