"""CNN units: one channel of one layer of a network, read through a forward hook."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from .base import Unit, check_images


class _Stop(Exception):
    """Raised by the hook once the target layer ran: later layers are never computed."""


def _net(model: nn.Module) -> nn.Module:
    # A ZooModel's hookable names are those of its inner network.
    return model.net if hasattr(model, "net") and hasattr(model, "preprocess") else model


def layers(model: nn.Module) -> list[str]:
    """Hookable layer names of ``model`` (dotted module names, in definition order).

    For a zoo classifier these are the names inside ``model.net``.
    """
    return [name for name, _ in _net(model).named_modules() if name]


def layer_outputs(model: nn.Module, modules: Sequence[nn.Module], images: torch.Tensor) -> list[torch.Tensor]:
    """The outputs of several layers of ``model`` from one forward pass, stopped after the deepest.

    Every CNN read-out goes through here: :meth:`CNNUnit.activations` (one layer), the batched
    measurement of many units of one network (:func:`landscape.units.measure.measure_images_many`)
    and :class:`landscape.characterise.OpponencySurvey` (every channel of several layers).

    Parameters
    ----------
    model : nn.Module
        Called on ``images``; moves them to its own device.
    modules : sequence of nn.Module
        Sub-modules of ``model`` whose outputs are wanted (repeats allowed).
    images : (B, 3, H, W) tensor

    Returns
    -------
    outputs : list of (B, C, ...) tensors, one per entry of ``modules``
        Each module's output at its first call, copied (an in-place operation later in the
        network cannot change it) with its autograd graph; the pass stops as soon as every
        module has run, so layers after the deepest are never computed.
    """
    distinct = list(dict.fromkeys(modules))
    store: dict[nn.Module, torch.Tensor] = {}

    def hook(module, _inp, out):
        if module not in store:
            if not torch.is_tensor(out):
                raise TypeError(f"layer {type(module).__name__} returns {type(out).__name__}, not a tensor; "
                                "pick a layer whose output is one tensor")
            store[module] = out.clone()
            if len(store) == len(distinct):
                raise _Stop

    handles = [m.register_forward_hook(hook) for m in distinct]
    try:
        model(images)
    except _Stop:
        pass
    finally:
        for h in handles:
            h.remove()
    missing = [m for m in distinct if m not in store]
    if missing:
        names = {m: n for n, m in _net(model).named_modules()}
        raise RuntimeError(f"layers {[names.get(m, type(m).__name__) for m in missing]} did not run in the "
                           f"forward pass of {getattr(model, 'name', type(model).__name__)!r}")
    return [store[m] for m in modules]


def _resolve_model(model: Any) -> nn.Module:
    if isinstance(model, str):
        from .. import zoo

        return zoo.load(model)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module or a zoo name, got {type(model).__name__}")
    return model


class CNNUnit(Unit):
    """One channel of a layer of a CNN, as a neuron.

    Parameters
    ----------
    model : nn.Module or str
        A zoo classifier (:class:`landscape.zoo.ZooModel`, which resizes and normalises
        images itself), a zoo name, or any module that takes images in [0, 1].
    layer : str
        Dotted module name, one of :func:`layers` ``(model)``.
    channel : int
        Channel (or feature index for a linear layer).
    position : "center", (y, x) or None
        Spatial position read from a convolutional map; ``None`` averages over space.
        Ignored (must be "center" or None) for layers with no spatial extent.
    batch_size : int
        Largest batch sent through the network at once.

    Notes
    -----
    The hook keeps a copy of the layer output, so an in-place operation later in the
    network (``ReLU(inplace=True)``) cannot change what was read, and the forward pass
    stops right after the target layer. The copy keeps the autograd graph: ``clean`` is
    differentiable with respect to the images.
    """

    def __init__(self, model: nn.Module | str, layer: str, channel: int,
                 position: str | Sequence[int] | None = "center", batch_size: int = 64) -> None:
        self.model = _resolve_model(model).eval()
        valid = layers(self.model)
        if layer not in valid:
            shown = ", ".join(valid) if len(valid) <= 60 else ", ".join(valid[:60]) + ", ..."
            raise ValueError(f"unknown layer {layer!r} for model {self.model_name!r}; valid layers: {shown}")
        self.layer = layer
        self.module = dict(_net(self.model).named_modules())[layer]
        self.batch_size = int(batch_size)
        if position is not None and position != "center":
            if len(position) != 2:
                raise ValueError(f"position must be 'center', (y, x) or None, got {position!r}")
            position = (int(position[0]), int(position[1]))
        self.position = position
        shape = self._probe_shape()
        self.n_channels = shape[1]
        if not (isinstance(channel, (int,)) or hasattr(channel, "__index__")) or not 0 <= int(channel) < shape[1]:
            raise ValueError(f"channel {channel!r} is out of range for layer {layer!r} of {self.model_name!r}, "
                             f"which has {shape[1]} channels (valid: 0 to {shape[1] - 1})")
        self.channel = int(channel)
        self.spatial = tuple(shape[2:])
        if len(self.spatial) == 2 and isinstance(self.position, tuple):
            y, x = self.position
            if not (0 <= y < self.spatial[0] and 0 <= x < self.spatial[1]):
                raise ValueError(f"position {self.position} is outside layer {layer!r}'s map of size "
                                 f"{self.spatial} (valid: 0 <= y < {self.spatial[0]}, 0 <= x < {self.spatial[1]})")
        elif len(self.spatial) != 2 and self.position not in ("center", None):
            raise ValueError(f"layer {layer!r} has no spatial map (output shape {tuple(shape)}); "
                             "use position=None")

    @property
    def model_name(self) -> str:
        return getattr(self.model, "name", type(self.model).__name__)

    @property
    def device(self) -> torch.device:
        for t in list(self.model.parameters()) + list(self.model.buffers()):
            return t.device
        return torch.device("cpu")

    def to(self, device: str | torch.device) -> "CNNUnit":
        self.model.to(device)
        return self

    def _probe_shape(self) -> torch.Size:
        size = getattr(self.model, "input_size", None) or 64
        with torch.no_grad():
            act = self.activations(torch.zeros(1, 3, size, size, device=self.device))
        return act.shape

    def activations(self, images: torch.Tensor) -> torch.Tensor:
        """The whole layer's output for one batch, (B, C, ...), differentiable."""
        return layer_outputs(self.model, [self.module], images.to(self.device))[0]

    def read(self, act: torch.Tensor) -> torch.Tensor:
        """This unit's channel (at its position) from its layer's output ``act`` (B, C, ...) -> (B,)."""
        a = act[:, self.channel]
        if a.ndim == 1:
            return a
        if a.ndim != 3:
            return a.flatten(1).mean(1)
        if self.position is None:
            return a.mean(dim=(1, 2))
        y, x = (a.shape[1] // 2, a.shape[2] // 2) if self.position == "center" else self.position
        return a[:, y, x]

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images)
        outs = [self.read(self.activations(images[i:i + self.batch_size]))
                for i in range(0, images.shape[0], self.batch_size)]
        return torch.cat(outs).to(images.device)

    def describe(self) -> dict[str, Any]:
        pos = list(self.position) if isinstance(self.position, tuple) else self.position
        return {"type": "CNNUnit", "model": self.model_name, "layer": self.layer, "channel": self.channel,
                "position": pos}
