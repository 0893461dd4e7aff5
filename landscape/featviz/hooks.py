"""Read several layers' activations in one forward pass, keeping the autograd graph.

Layer names are the dotted module names of :func:`landscape.units.layers`: for a zoo
classifier (:class:`landscape.zoo.ZooModel`) they name modules of ``model.net`` while the
images go through ``model`` and so through its resizing and normalisation. As in
:class:`landscape.units.CNNUnit`, a module that runs several times in one pass is read at its
first call, the hook keeps a copy (an in-place op later in the network cannot change what was
read), and the pass stops as soon as every requested layer has run.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from ..units.cnn import layer_outputs  # the one truncated forward pass of CNN read-outs


def hook_root(model: nn.Module) -> nn.Module:
    """The module whose ``named_modules()`` give the layer names (``model.net`` for a ZooModel)."""
    # same rule as landscape.units.cnn: a zoo classifier has `net` and `preprocess`
    return model.net if hasattr(model, "net") and hasattr(model, "preprocess") else model


def layer_names(model: nn.Module) -> list[str]:
    """Hookable layer names of ``model``, as :func:`landscape.units.layers` lists them."""
    return [name for name, _ in hook_root(model).named_modules() if name]


def resolve_layers(model: nn.Module, names: Iterable[str]) -> dict[str, nn.Module]:
    """Modules for ``names``; an unknown name raises an error listing the valid ones."""
    table = dict(hook_root(model).named_modules())
    out = {}
    for name in names:
        if not name or name not in table:
            valid = layer_names(model)
            shown = ", ".join(valid) if len(valid) <= 60 else ", ".join(valid[:60]) + ", ..."
            model_name = getattr(model, "name", type(model).__name__)
            raise ValueError(f"unknown layer {name!r} for model {model_name!r}; valid layers: {shown}")
        out[name] = table[name]
    return out


def record_activations(model: nn.Module, images: torch.Tensor, layers: Iterable[str]
                       ) -> dict[str, torch.Tensor]:
    """Run ``model(images)`` and return the outputs of ``layers``, differentiable.

    Parameters
    ----------
    model : nn.Module
        Any module taking images in [0, 1], e.g. a :class:`landscape.zoo.ZooModel`.
    images : (B, 3, H, W) tensor
    layers : iterable of str
        Dotted module names (see :func:`layer_names`).

    Returns
    -------
    dict mapping each layer name to its output tensor, (B, C, ...) .
    """
    modules = resolve_layers(model, sorted(set(layers)))
    return dict(zip(modules, layer_outputs(model, list(modules.values()), images)))
