"""The DeePSiM fc6 generator of Dosovitskiy & Brox (2016), as used by XDream and GAN-Geometry.

Key layout of the published ``upconvGAN_fc6.pt`` state dict: ``defc7``, ``defc6``, ``defc5``
(linear), ``deconv5``, ``conv5_1``, ... ``deconv0`` (transposed convolutions); this module
keeps them under ``G.``.
"""

from __future__ import annotations

import torch
from torch import nn


class DeePSiMGenerator(nn.Module):
    """code (B, 4096) -> Caffe-style BGR image (B, 3, 256, 256), ImageNet mean removed.

    Transposed convolutions carry biases, as in the published state dict.

    Parameters
    ----------
    code_dim : int
        4096 for fc6/fc7, 1000 for fc8.
    """

    def __init__(self, code_dim: int = 4096) -> None:
        super().__init__()
        act = lambda: nn.LeakyReLU(0.3)  # noqa: E731 - a fresh module per position keeps names hookable
        self.G = nn.Sequential()
        self.G.add_module("defc7", nn.Linear(code_dim, 4096))
        self.G.add_module("relu_defc7", act())
        self.G.add_module("defc6", nn.Linear(4096, 4096))
        self.G.add_module("relu_defc6", act())
        self.G.add_module("defc5", nn.Linear(4096, 4096))
        self.G.add_module("relu_defc5", act())
        self.G.add_module("reshape", Reshape(256, 4, 4))
        layers = [("deconv5", 256, 256, 4, 2, 1), ("conv5_1", 256, 512, 3, 1, 1),
                  ("deconv4", 512, 256, 4, 2, 1), ("conv4_1", 256, 256, 3, 1, 1),
                  ("deconv3", 256, 128, 4, 2, 1), ("conv3_1", 128, 128, 3, 1, 1),
                  ("deconv2", 128, 64, 4, 2, 1), ("deconv1", 64, 32, 4, 2, 1),
                  ("deconv0", 32, 3, 4, 2, 1)]
        for i, (name, cin, cout, k, s, p) in enumerate(layers):
            self.G.add_module(name, nn.ConvTranspose2d(cin, cout, k, s, p))
            if i < len(layers) - 1:
                self.G.add_module(f"relu_{name}", act())

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.G(code)


class Reshape(nn.Module):
    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], *self.shape)


def load_deepsim_state(state: dict) -> dict:
    """Key the published state dict (with or without a ``G.`` prefix) for :class:`DeePSiMGenerator`."""
    return {k if k.startswith("G.") else f"G.{k}": v for k, v in state.items()}
