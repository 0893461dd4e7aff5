"""Objectives for feature visualisation: small value objects that compose like the maths.

``channel("layer3", 5) - 0.1 * diversity("layer3")`` is an :class:`Objective`. Every objective
maps the recorded activations (and the images) of a batch to one value **per image**, shape
``(B,)``; rendering maximises their sum. Objectives support ``+``, ``-``, unary ``-``, and
``*`` / ``/`` by a number; a sum is kept as a flat linear combination, so its ``repr`` reads
back as the expression. The algebra is the one units have (:mod:`landscape.algebra`): a unit
in an expression joins as the objective of its clean response, so
``channel("layer3", 5) - 0.5 * unit_b`` and ``unit_a - 0.5 * unit_b`` both render.

Sign convention: every objective is a quantity to *maximise*, except :func:`diversity`, which
is (as in lucid) the similarity between the images of the batch, a penalty to subtract.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from landscape.algebra import Combinable, format_terms

if TYPE_CHECKING:  # pragma: no cover
    from landscape.units.base import Unit


class Objective(Combinable):
    """Base class: ``objective(acts, images) -> values (B,)``.

    Subclasses implement :meth:`values` and :attr:`layers`.
    """

    @property
    def layers(self) -> frozenset[str]:
        """Layer names whose activations this objective reads."""
        return frozenset()

    def values(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        """Per-image values.

        Parameters
        ----------
        acts : mapping layer name -> (B, C, ...) tensor
            Activations recorded for the batch (at least :attr:`layers`).
        images : (B, 3, H, W) tensor in [0, 1]
            The batch itself (what the model saw).

        Returns
        -------
        values : (B,) tensor
        """
        raise NotImplementedError

    def __call__(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        return self.values(acts, images)

    # -- algebra (shared with units: landscape.algebra) ------------------------------------
    def _combine(self, terms: tuple[tuple[float, Any], ...]) -> Objective:
        return LinearCombination(terms)

    def _coerce(self, other: Any) -> Objective | None:
        if isinstance(other, Objective):
            return other
        if _is_unit(other):  # a unit joins as the objective of its clean response, term by term
            terms = other._terms() if hasattr(other, "_terms") else ((1.0, other),)
            return LinearCombination(tuple((w, UnitObjective(u)) for w, u in terms))
        return None


@dataclass(frozen=True, eq=True)
class LinearCombination(Objective):
    """``sum_k w_k * objective_k``, built by the algebra of :class:`Objective`."""

    terms: tuple[tuple[float, Objective], ...]

    @property
    def layers(self) -> frozenset[str]:
        return frozenset().union(*(o.layers for _, o in self.terms))

    def values(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        return sum(w * o.values(acts, images) for w, o in self.terms)

    def _terms(self) -> tuple[tuple[float, Objective], ...]:
        return self.terms

    def __repr__(self) -> str:
        return format_terms(self.terms)


def _activation(acts: Mapping[str, torch.Tensor], layer: str) -> torch.Tensor:
    try:
        return acts[layer]
    except KeyError:
        raise KeyError(f"no activations recorded for layer {layer!r}; recorded: {sorted(acts)}") from None


def _channel_of(act: torch.Tensor, layer: str, channel: int) -> torch.Tensor:
    if act.ndim < 2:
        raise ValueError(f"layer {layer!r} output has shape {tuple(act.shape)}; expected (B, C, ...)")
    n = act.shape[1]
    if not 0 <= channel < n:
        raise IndexError(f"channel {channel} is out of range for layer {layer!r}, which has {n} channels "
                         f"(valid: 0 to {n - 1})")
    return act[:, channel]


def _check_index(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return int(value)


@dataclass(frozen=True, eq=True)
class Channel(Objective):
    """Mean activation of one channel over all spatial positions."""

    layer: str
    channel: int

    @property
    def layers(self) -> frozenset[str]:
        return frozenset({self.layer})

    def values(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        a = _channel_of(_activation(acts, self.layer), self.layer, self.channel)
        return a.flatten(1).mean(1) if a.ndim > 1 else a

    def __repr__(self) -> str:
        return f"channel({self.layer!r}, {self.channel})"


@dataclass(frozen=True, eq=True)
class Neuron(Objective):
    """Activation of one channel at one spatial position (the centre when y, x are None).

    The centre of an even-sized map is ``(H // 2, W // 2)``, as :class:`landscape.units.CNNUnit`
    reads ``position="center"``.
    """

    layer: str
    channel: int
    y: int | None = None
    x: int | None = None

    @property
    def layers(self) -> frozenset[str]:
        return frozenset({self.layer})

    def values(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        a = _channel_of(_activation(acts, self.layer), self.layer, self.channel)
        if a.ndim == 1:
            if self.y is not None or self.x is not None:
                raise ValueError(f"layer {self.layer!r} has no spatial map; use neuron(layer, c) without y, x")
            return a
        if a.ndim != 3:
            raise ValueError(f"neuron() needs a (B, C, H, W) layer; {self.layer!r} gives {a.ndim + 1}-d output")
        h, w = a.shape[1:]
        y = h // 2 if self.y is None else self.y
        x = w // 2 if self.x is None else self.x
        if not (0 <= y < h and 0 <= x < w):
            raise IndexError(f"position (y={y}, x={x}) is outside layer {self.layer!r}'s {h}x{w} map "
                             f"(valid: 0 <= y < {h}, 0 <= x < {w})")
        return a[:, y, x]

    def __repr__(self) -> str:
        pos = "" if self.y is None and self.x is None else f", y={self.y}, x={self.x}"
        return f"neuron({self.layer!r}, {self.channel}{pos})"


@dataclass(frozen=True, eq=True)
class DeepDream(Objective):
    """Mean squared activation of a whole layer (Mordvintsev et al. 2015)."""

    layer: str

    @property
    def layers(self) -> frozenset[str]:
        return frozenset({self.layer})

    def values(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        a = _activation(acts, self.layer)
        return (a.flatten(1) ** 2).mean(1)

    def __repr__(self) -> str:
        return f"deepdream({self.layer!r})"


@dataclass(frozen=True, eq=True)
class Diversity(Objective):
    """Similarity of each image to the rest of the batch; subtract it to get diverse images.

    For image ``i`` with channel Gram matrix ``G_i`` (``C x C``, over spatial positions), the
    value is the mean over ``j != i`` of the cosine similarity ``<G_i, G_j> / |G_i| |G_j|``:
    1 for a batch of identical images, 0 when no two images share active channels. Needs a
    batch of at least 2 images.
    """

    layer: str

    @property
    def layers(self) -> frozenset[str]:
        return frozenset({self.layer})

    def values(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        a = _activation(acts, self.layer)
        b, c = a.shape[:2]
        if b < 2:
            raise ValueError("diversity() compares the images of a batch; render a batch of at least 2 images")
        flat = a.reshape(b, c, -1)
        grams = F.normalize((flat @ flat.transpose(1, 2)).reshape(b, -1), dim=1)
        sim = grams @ grams.T
        return (sim.sum(1) - sim.diagonal()) / (b - 1)

    def __repr__(self) -> str:
        return f"diversity({self.layer!r})"


@dataclass(frozen=True, eq=False)
class UnitObjective(Objective):
    """The clean response of any :class:`landscape.units.base.Unit` (its own forward pass).

    The unit must be differentiable with respect to the images (CNN units are).
    """

    unit: Unit

    def values(self, acts: Mapping[str, torch.Tensor], images: torch.Tensor) -> torch.Tensor:
        v = self.unit.clean(images)
        if v.shape != (images.shape[0],):
            raise ValueError(f"unit {self.unit!r} returned shape {tuple(v.shape)} for {images.shape[0]} images; "
                             "expected one score per image")
        return v.to(images.device)

    def __repr__(self) -> str:
        return f"unit({self.unit!r})"


def channel(layer: str, c: int) -> Channel:
    """Maximise the mean activation of channel ``c`` of ``layer`` (dotted module name)."""
    return Channel(str(layer), _check_index(c, "channel"))


def neuron(layer: str, c: int, y: int | None = None, x: int | None = None) -> Neuron:
    """Maximise channel ``c`` of ``layer`` at position (y, x), by default the centre of the map."""
    return Neuron(str(layer), _check_index(c, "channel"),
                  None if y is None else _check_index(y, "y"), None if x is None else _check_index(x, "x"))


def deepdream(layer: str) -> DeepDream:
    """Maximise the mean squared activation of ``layer``."""
    return DeepDream(str(layer))


def diversity(layer: str) -> Diversity:
    """Batch similarity at ``layer``; use as ``objective - weight * diversity(layer)``."""
    return Diversity(str(layer))


def _is_unit(x: Any) -> bool:
    return not isinstance(x, Objective) and callable(getattr(x, "clean", None))


def unit(u: Unit) -> UnitObjective:
    """Maximise the clean response of a :class:`landscape.units.base.Unit`."""
    if not _is_unit(u):
        raise TypeError(f"unit() takes a landscape.units.base.Unit (with a .clean method), got {type(u).__name__}")
    return UnitObjective(u)


def as_objective(obj: Any) -> Objective:
    """An :class:`Objective` from an objective, a Unit, or a ``"layer:channel"`` string."""
    if isinstance(obj, Objective):
        return obj
    if isinstance(obj, str):
        layer, sep, c = obj.rpartition(":")
        if not sep or not layer or not c.strip().isdigit():
            raise ValueError(f"objective strings look like 'layer:channel', e.g. 'layer3:5'; got {obj!r}")
        return channel(layer.strip(), int(c))
    if _is_unit(obj):
        return unit(obj)
    raise TypeError(f"cannot make an objective from {type(obj).__name__}; pass an Objective, a Unit, "
                    "or a 'layer:channel' string")
