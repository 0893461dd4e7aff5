"""The weight-shuffled control generator.

Wang & Ponce compare a trained generator's metric with that of the same architecture whose
weights are shuffled: every parameter tensor keeps its values, so each layer keeps its weight
distribution and scale, but their arrangement (what was learned) is destroyed. Anisotropy or
homogeneity that survives the shuffle comes from the architecture, not from training.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def shuffle_weights(module: nn.Module, seed: int = 0, buffers: bool = False) -> nn.Module:
    """A deep copy of ``module`` with the entries of every parameter tensor permuted.

    Parameters
    ----------
    module : nn.Module (left unchanged)
    seed : int
        Seeds one ``torch.Generator`` that draws every permutation, in parameter order.
    buffers : bool
        Also permute floating-point buffers (e.g. batch-norm running statistics). Off by
        default: running statistics describe activations, not learned structure.

    Returns
    -------
    nn.Module, in the same train/eval mode as ``module``
    """
    out = copy.deepcopy(module)
    g = torch.Generator().manual_seed(int(seed))
    tensors = [p for p in out.parameters()]
    if buffers:
        tensors += [b for b in out.buffers() if b.is_floating_point()]
    with torch.no_grad():
        for t in tensors:
            perm = torch.randperm(t.numel(), generator=g).to(t.device)
            t.copy_(t.reshape(-1)[perm].reshape(t.shape))
    return out


def shuffled_control(G: Any, seed: int = 0, buffers: bool = False) -> Any:
    """The weight-shuffled control of generator ``G``.

    ``G`` is an ``nn.Module`` (shuffled copy returned) or an object holding its network in a
    ``net`` attribute, such as ``landscape``'s Generator (a shallow copy with a shuffled
    ``net`` is returned, so code size, prior and post-processing stay the same).
    """
    if isinstance(G, nn.Module):
        return shuffle_weights(G, seed, buffers)
    net = getattr(G, "net", None)
    if isinstance(net, nn.Module):
        out = copy.copy(G)
        out.net = shuffle_weights(net, seed, buffers)
        if hasattr(out, "name") and isinstance(out.name, str):
            out.name = f"{out.name}-shuffled{seed}"
        return out
    raise TypeError(f"shuffled_control needs an nn.Module or an object with an nn.Module in `.net`; "
                    f"got {type(G).__name__}")
