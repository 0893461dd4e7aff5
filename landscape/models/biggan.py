"""BigGAN-deep through the optional ``pytorch-pretrained-biggan`` package.

The package downloads and caches its own weights (from its authors' storage) on first use.
The code is the concatenation of a 128-d truncated-normal noise vector and a 128-d class
embedding, as in GAN-Geometry's analysis of BigGAN (d = 256).
"""

from __future__ import annotations

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


def load_biggan_generator(model_name: str = "biggan-deep-256", truncation: float = 0.7):
    """Load BigGAN-deep from the optional package (downloads its weights once)."""
    try:
        from pytorch_pretrained_biggan import BigGAN
    except ImportError as e:  # the zoo checks first; this guards direct calls
        raise ImportError("BigGAN needs `pip install pytorch-pretrained-biggan`") from e
    return wrap_biggan(BigGAN.from_pretrained(model_name), model_name, truncation)
