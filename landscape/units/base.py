"""What a neuron is to this toolkit: a callable that turns images into one number each."""

from __future__ import annotations

import abc
from typing import Any

import torch


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


class Unit(abc.ABC):
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
