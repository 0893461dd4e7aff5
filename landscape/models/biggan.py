"""BigGAN-deep with the architecture of the optional ``pytorch-pretrained-biggan`` package.

The package's own ``BigGAN.from_pretrained`` downloads into its own cache whatever
``LANDSCAPE_OFFLINE`` says, checks no digest and loads with full pickle; it is not used. The
zoo fetches the two published files (``<model>-config.json``, ``<model>-pytorch_model.bin``)
into its cache with its digest and offline rules, and :func:`load_biggan_generator` builds the
package's module from them (``torch.load(weights_only=True)``, every parameter required).
The code is the concatenation of a 128-d truncated-normal noise vector and a 128-d class
embedding, as in GAN-Geometry's analysis of BigGAN (d = 256).
"""

from __future__ import annotations

import os

import torch
from torch import nn


class BigGANCodeToImage(nn.Module):
    """(B, 256) code = [noise (128), class embedding (128)] -> (B, 3, H, W) in [-1, 1]."""

    def __init__(self, biggan: nn.Module, truncation: float = 0.7) -> None:
        super().__init__()
        self.biggan = biggan
        self.truncation = float(truncation)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.biggan.generator(code, self.truncation)


def _to_unit(x: torch.Tensor) -> torch.Tensor:
    return ((x + 1) / 2).clamp(0, 1)


def wrap_biggan(biggan: nn.Module, name: str, truncation: float = 0.7):
    """A generator over a ``pytorch_pretrained_biggan.BigGAN`` module (codes (B, 256))."""
    from ..generators import Generator

    class BigGANGenerator(Generator):
        def sample(self, n: int, seed: int | None = None, device=None) -> torch.Tensor:
            """(n, 256): 0.7 x N(0, I) noise beside the embedding of a random class."""
            g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
            noise = truncation * torch.randn(n, 128, generator=g)
            classes = torch.randint(biggan.config.num_classes, (n,), generator=g)
            emb = biggan.embeddings.weight.detach().cpu().T[classes]
            return torch.cat([noise, emb], 1).to(device if device is not None else self.device)

    res = int(biggan.config.output_dim)
    return BigGANGenerator(BigGANCodeToImage(biggan, truncation), dim=256, name=name, image_size=res,
                           postprocess=_to_unit, prior_scale=truncation, max_batch=16)


def load_biggan_generator(config: str | os.PathLike, weights: str | os.PathLike, name: str = "biggan-deep-256",
                          truncation: float = 0.7):
    """A generator from a BigGAN config file and state-dict file (the zoo passes checked cached files).

    Parameters
    ----------
    config : path of ``<model>-config.json``
    weights : path of ``<model>-pytorch_model.bin``, loaded with ``weights_only=True``
    name : str
    truncation : float

    Raises
    ------
    ValueError
        when the state dict does not fill the architecture exactly (keys named).
    """
    try:
        from pytorch_pretrained_biggan import BigGAN, BigGANConfig
    except ImportError as e:  # the zoo checks first; this guards direct calls
        raise ImportError("BigGAN needs `pip install pytorch-pretrained-biggan`") from e
    net = BigGAN(BigGANConfig.from_json_file(str(config)))
    state = torch.load(weights, map_location="cpu", weights_only=True)
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{weights} does not match the BigGAN architecture of {config}: missing keys "
                         f"{missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected keys "
                         f"{unexpected[:5]}{'...' if len(unexpected) > 5 else ''}")
    return wrap_biggan(net.eval(), name, truncation)
