"""Redirected ReLU gradients, so that ascent can start on a unit that is silent for its first image.

A unit behind a ReLU that is silent for the starting image (a grey, low-contrast image is the
usual start) has an exactly zero gradient, and plain gradient ascent never moves. Lucid's answer,
on by default in its ``render_vis`` (``relu_gradient_override``): for an image where no gradient at
all passes a ReLU, pass it through as if the ReLU were the identity, except where it would push an
input that is already negative lower still. Where any gradient passes, the true ReLU gradient is
used, so once the unit responds the override changes nothing, and the forward pass is never
changed. It assumes the differentiated scalar is *minimised* (``render`` minimises
``-objective``).

While :func:`redirected_relu` is active, every ``nn.ReLU`` module of the model passes the
redirected gradient (an in-place ReLU becomes out-of-place: modules use the returned tensor).
ReLUs a model calls as functions (``F.relu`` inside its ``forward``) are left alone: catching
those needs a ``TorchFunctionMode``, which made every step of a small network 50% slower.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class RedirectedReLU(torch.autograd.Function):
    """``relu(x)`` forward; lucid's redirected gradient backward (see the module docstring)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        negative = x < 0
        relu_grad = grad.masked_fill(negative, 0)
        if x.ndim < 2:  # no batch dimension to decide per image: the true gradient
            return relu_grad
        passes = relu_grad.reshape(relu_grad.shape[0], -1).abs().amax(1) > 0
        if x.device.type == "cpu" and bool(passes.all()):
            return relu_grad  # the usual case once the unit responds (on GPUs, a sync would cost more)
        # a descent step moves x by -grad: where x < 0 and grad > 0 it would go lower still
        redirected = grad.masked_fill(negative & (grad > 0), 0)
        return torch.where(passes.view(-1, *([1] * (x.ndim - 1))), relu_grad, redirected)


@contextmanager
def redirected_relu(model: nn.Module | None) -> Iterator[int]:
    """Within this block, the model's ``nn.ReLU`` modules pass the redirected gradient.

    Yields the number of ReLU modules redirected (0: the model has none, or calls ReLUs as
    functions). The forward pass is unchanged. The model is patched in place for the duration,
    so do not run it from another thread meanwhile.
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)] if model is not None else []
    for m in relus:
        m.forward = RedirectedReLU.apply  # an instance attribute shadows the class's forward
    try:
        yield len(relus)
    finally:
        for m in relus:
            del m.forward
