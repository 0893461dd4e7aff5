"""Image generators: latent codes in, RGB images in [0, 1] out.

A :class:`Generator` wraps a torch module with the facts the rest of the toolkit needs: the
code dimension, how to draw codes from the prior, and how to turn the network's raw output
into ``(B, 3, H, W)`` RGB in [0, 1]. Calls are differentiable (``geometry`` takes Hessians
through them); use :meth:`Generator.render` for chunked, gradient-free batches.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn


class Generator:
    """A latent-code to image map.

    Parameters
    ----------
    net : nn.Module
        The network; put in eval mode.
    dim : int
        Code dimension ``d``.
    name : str
        Zoo name or a description.
    image_size : int
        Side of the square output images.
    postprocess : callable
        Maps the network output to RGB in [0, 1] (differentiable).
    prior : {"normal", "relu_normal"}
        ``normal``: z ~ N(0, prior_scale^2 I). ``relu_normal``: max(0, N(mean, scale)),
        XDream's post-ReLU fc6 statistics.
    prior_scale, prior_mean : float
    code_shape : tuple or None
        Shape the net expects per code (e.g. ``(100, 1, 1)`` for DCGAN); ``None`` means ``(d,)``.
    """

    def __init__(self, net: nn.Module, dim: int, name: str, image_size: int,
                 postprocess: Callable[[torch.Tensor], torch.Tensor], *, prior: str = "normal",
                 prior_scale: float = 1.0, prior_mean: float = 0.0,
                 code_shape: tuple[int, ...] | None = None, max_batch: int = 64) -> None:
        if prior not in ("normal", "relu_normal"):
            raise ValueError(f"prior must be 'normal' or 'relu_normal', got {prior!r}")
        self.net = net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.dim = int(dim)
        self.name = name
        self.image_size = int(image_size)
        self.postprocess = postprocess
        self.prior = prior
        self.prior_scale = float(prior_scale)
        self.prior_mean = float(prior_mean)
        self.code_shape = tuple(code_shape) if code_shape is not None else (self.dim,)
        self.max_batch = int(max_batch)

    @property
    def device(self) -> torch.device:
        try:
            return next(self.net.parameters()).device
        except StopIteration:
            return torch.device("cpu")

    def to(self, device: str | torch.device) -> "Generator":
        """Move the network to ``device`` (in place) and return self."""
        self.net.to(device)
        return self

    def check_codes(self, codes: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(codes):
            codes = torch.as_tensor(codes, dtype=torch.float32)
        if codes.ndim == 1:
            codes = codes[None]
        if codes.ndim != 2 or codes.shape[1] != self.dim:
            raise ValueError(f"generator {self.name!r} takes codes of shape (B, {self.dim}), "
                             f"got {tuple(codes.shape)}")
        return codes

    def sample(self, n: int, seed: int | None = None, device: str | torch.device | None = None
               ) -> torch.Tensor:
        """Draw ``n`` codes from the prior.

        Returns
        -------
        codes : (n, d) float32 tensor on ``device`` (default: the generator's device)
        """
        g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        z = torch.randn(n, self.dim, generator=g) * self.prior_scale + self.prior_mean
        if self.prior == "relu_normal":
            z = z.clamp_min(0)
        return z.to(device if device is not None else self.device)

    def __call__(self, codes: torch.Tensor) -> torch.Tensor:
        """Images for ``codes``, differentiable.

        Parameters
        ----------
        codes : (B, d) tensor

        Returns
        -------
        images : (B, 3, H, W) tensor in [0, 1] on the codes' device
        """
        codes = self.check_codes(codes)
        out = self.net(codes.to(self.device, torch.float32).reshape(-1, *self.code_shape))
        return self.postprocess(out).to(codes.device)

    @torch.no_grad()
    def render(self, codes: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """Images for many codes in chunks, without gradients; same shapes as ``__call__``."""
        codes = self.check_codes(codes)
        bs = batch_size or self.max_batch
        return torch.cat([self(codes[i:i + bs]) for i in range(0, codes.shape[0], bs)])

    def describe(self) -> dict:
        return {"name": self.name, "dim": self.dim, "image_size": self.image_size, "prior": self.prior,
                "prior_scale": self.prior_scale}

    def __repr__(self) -> str:
        return f"Generator(name={self.name!r}, dim={self.dim}, image_size={self.image_size})"


def tanh_to_unit(x: torch.Tensor) -> torch.Tensor:
    """Map a tanh output in [-1, 1] to [0, 1]."""
    return (x + 1) / 2


def caffe_bgr_to_unit(x: torch.Tensor) -> torch.Tensor:
    """DeePSiM output (Caffe BGR, ImageNet mean removed, 0-255 scale) to RGB in [0, 1]."""
    mean = x.new_tensor([123.0, 117.0, 104.0]).view(1, 3, 1, 1)
    return ((x.flip(1) + mean).clamp(0, 255)) / 255.0
