"""What a neuron is to this toolkit: a callable that turns images into one number each.

Units compose like the maths (:mod:`landscape.algebra`): ``unit_a - 0.5 * unit_b`` is a
:class:`UnitCombination`, itself a unit, that an evolution maximises and that feature
visualisation renders.
"""

from __future__ import annotations

import abc
from typing import Any

import torch

from landscape.algebra import Combinable, format_terms


def check_images(images: torch.Tensor) -> torch.Tensor:
    """Check an image batch and return it.

    Parameters
    ----------
    images : (B, 3, H, W) float tensor with values in [0, 1]
    """
    if not torch.is_tensor(images):
        raise TypeError(f"images must be a torch tensor of shape (B, 3, H, W), got {type(images).__name__}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (B, 3, H, W) with RGB channels, got {tuple(images.shape)}")
    return images


class Unit(Combinable, abc.ABC):
    """A neuron: images in, one score per image out.

    Subclasses implement :meth:`clean` (the noise-free response). Noisy units (see
    :mod:`landscape.units.noise`) override ``__call__``; for a noise-free unit the
    observed score is the clean score.

    Attributes
    ----------
    noisy : bool
        True when ``__call__`` adds measurement noise to :meth:`clean`.
    """

    noisy: bool = False

    @abc.abstractmethod
    def clean(self, images: torch.Tensor) -> torch.Tensor:
        """Noise-free responses.

        Parameters
        ----------
        images : (B, 3, H, W) tensor in [0, 1]

        Returns
        -------
        scores : (B,) tensor on the images' device
        """

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Observed responses (equal to :meth:`clean` for a noise-free unit); shape (B,)."""
        return self.clean(images)

    def describe(self) -> dict[str, Any]:
        """JSON-able description written into run records."""
        return {"type": type(self).__name__}

    # Units with their own random state (noise models) override these so a resumed run
    # continues bit-for-bit.
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None

    def __repr__(self) -> str:
        d = self.describe()
        args = ", ".join(f"{k}={v!r}" for k, v in d.items() if k != "type")
        return f"{d.get('type', type(self).__name__)}({args})"

    # -- algebra (shared with featviz objectives: landscape.algebra) -------------------------
    def _combine(self, terms: tuple[tuple[float, Any], ...]) -> UnitCombination:
        return UnitCombination(terms)

    def _coerce(self, other: Any) -> Unit | None:
        return other if isinstance(other, Unit) else None


class UnitCombination(Unit):
    """``sum_k w_k * unit_k`` as one unit, built by the algebra of units (``a - 0.5 * b``).

    Parameters
    ----------
    terms : sequence of (float, Unit)
        Weights and units.

    Notes
    -----
    The clean response is the weighted sum of the terms' clean responses. The observed
    response is the weighted sum of their observed responses, so it is noisy when any term
    is (:attr:`noisy`), and each noisy term draws its own noise; the state of every term's
    random generator is saved in :meth:`state_dict`, so a resumed run continues bit-for-bit.
    """

    def __init__(self, terms: Any) -> None:
        terms = tuple((float(w), u) for w, u in terms)
        if not terms:
            raise ValueError("a unit combination needs at least one (weight, unit) term")
        bad = [type(u).__name__ for _, u in terms if not isinstance(u, Unit)]
        if bad:
            raise TypeError(f"unit combinations combine landscape Units, got {', '.join(bad)}")
        self.terms = terms

    def _terms(self) -> tuple[tuple[float, Any], ...]:
        return self.terms

    @property
    def noisy(self) -> bool:  # type: ignore[override]
        return any(u.noisy for _, u in self.terms)

    @property
    def device(self) -> torch.device:
        """The device of the first term that has one (the CPU otherwise)."""
        for _, u in self.terms:
            if hasattr(u, "device"):
                return torch.device(u.device)
        return torch.device("cpu")

    def to(self, device: str | torch.device) -> UnitCombination:
        for _, u in self.terms:
            if hasattr(u, "to"):
                u.to(device)
        return self

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        return sum(w * u.clean(images) for w, u in self.terms)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if not self.noisy:
            return self.clean(images)
        return sum(w * u(images) for w, u in self.terms)

    def describe(self) -> dict[str, Any]:
        return {"type": "UnitCombination", "terms": [{"weight": w, "unit": u.describe()} for w, u in self.terms]}

    def state_dict(self) -> dict[str, Any]:
        return {"terms": [u.state_dict() for _, u in self.terms]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state.get("terms", [])
        if len(saved) != len(self.terms):
            raise ValueError(f"state has {len(saved)} terms, this combination has {len(self.terms)}")
        for (_, u), s in zip(self.terms, saved):
            u.load_state_dict(s)

    def __repr__(self) -> str:
        return format_terms(self.terms)
