"""Image parameterisations: what gradient ascent actually changes when it "changes the image".

An :class:`ImageParam` is an ``nn.Module`` whose parameters describe a batch of images and
whose ``forward()`` returns them as ``(B, 3, H, W)`` RGB in [0, 1]. The pipeline is

    parameters --(spatial basis)--> raw image --(colour correlation)--> RGB --(squash)--> [0, 1]

* spatial basis: :class:`PixelImage` (one parameter per pixel) or :class:`FourierImage`
  (real FFT coefficients scaled by ``1 / f**decay_power``). Natural images have a roughly
  1/f amplitude spectrum; scaling the coefficients so makes an isotropic gradient step a
  step with natural-image statistics, which removes the high-frequency noise of pixel-space
  ascent (seed 002; Olah et al. 2017).
* colour: with ``decorrelate=True`` the raw channels are decorrelated coordinates, mapped to
  RGB by :func:`landscape.featviz.color.correlate_color`.
* squash: ``"sigmoid"`` (smooth, never saturates the gradient completely) or ``"clamp"``
  (values clipped to [0, 1] around a mid-grey centre; the clip passes gradients straight
  through, so saturated pixels can still come back).

Every parameterisation is invertible on images with values strictly inside (0, 1):
:meth:`ImageParam.set_images` sets the parameters so that ``forward()`` returns those images,
which is how a rendering starts from a photograph (DeepDream).
"""

from __future__ import annotations

import abc

import torch
from torch import nn

from landscape.featviz.color import COLOR_MEAN, correlate_color, decorrelate_color

SQUASHES = ("sigmoid", "clamp")

#: Standard deviation of the random start. lucid uses 0.01, which gives an almost flat grey
#: image; behind a ReLU many units are exactly silent on flat grey (a fifth of resnet20's
#: layer3 channels), so their gradient is zero and ascent never starts. 0.1 gives faint noise
#: (pixel std ~0.02) that drives nearly every channel a little.
DEFAULT_SD = 0.1

#: lucid's constant: the Fourier image is divided by 4 so that the starting image and the
#: first Adam steps (lr 0.05) stay well inside the sigmoid's linear range.
FOURIER_OUTPUT_SCALE = 0.25


def _size_pair(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        size = (size, size)
    h, w = (int(s) for s in size)
    if h < 2 or w < 2:
        raise ValueError(f"image size must be at least 2x2 pixels, got {size!r}")
    return h, w


def _straight_through_clamp(x: torch.Tensor) -> torch.Tensor:
    # Clipped value forward, identity gradient backward: a plain clamp has zero gradient
    # outside [0, 1], so a pixel pushed past the edge could never come back.
    return x + (x.clamp(0.0, 1.0) - x).detach()


class ImageParam(nn.Module, abc.ABC):
    """Base class of the parameterisations; see the module docstring.

    Parameters
    ----------
    size : int or (H, W)
    batch : int
        Number of images ``B``.
    decorrelate : bool
        Optimise decorrelated colour coordinates (see :mod:`landscape.featviz.color`).
    squash : {"sigmoid", "clamp"}
        How unbounded values become [0, 1].
    """

    def __init__(self, size: int | tuple[int, int], batch: int = 1, decorrelate: bool = True,
                 squash: str = "sigmoid") -> None:
        super().__init__()
        if squash not in SQUASHES:
            raise ValueError(f"squash must be one of {SQUASHES}, got {squash!r}")
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        self.height, self.width = _size_pair(size)
        self.batch = batch
        self.decorrelate = bool(decorrelate)
        self.squash = squash

    # -- the spatial basis (subclasses) --------------------------------------------------
    @abc.abstractmethod
    def raw(self) -> torch.Tensor:
        """The unbounded image before colour correlation and squash; (B, 3, H, W)."""

    @abc.abstractmethod
    def set_raw(self, raw: torch.Tensor) -> None:
        """Set the parameters so that :meth:`raw` returns ``raw`` (B, 3, H, W)."""

    # -- colour and range ----------------------------------------------------------------
    def _centre(self, like: torch.Tensor) -> torch.Tensor:
        mean = COLOR_MEAN if self.decorrelate else (0.5, 0.5, 0.5)
        return like.new_tensor(mean).view(1, 3, 1, 1)

    def to_rgb(self, raw: torch.Tensor) -> torch.Tensor:
        """Colour correlation and squash: raw (B, 3, H, W) -> images in [0, 1]."""
        x = correlate_color(raw) if self.decorrelate else raw
        if self.squash == "sigmoid":
            return torch.sigmoid(x)
        return _straight_through_clamp(x + self._centre(x))

    def from_rgb(self, images: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
        """Inverse of :meth:`to_rgb` for images in [0, 1] (clipped to [eps, 1 - eps] for the sigmoid)."""
        if self.squash == "sigmoid":
            x = torch.logit(images.clamp(eps, 1 - eps))
        else:
            x = images - self._centre(images)
        return decorrelate_color(x) if self.decorrelate else x

    def forward(self) -> torch.Tensor:
        """The images.

        Returns
        -------
        images : (B, 3, H, W) tensor in [0, 1], differentiable in the parameters
        """
        return self.to_rgb(self.raw())

    @torch.no_grad()
    def set_images(self, images: torch.Tensor) -> ImageParam:
        """Set the parameters so that ``forward()`` returns ``images``; returns self.

        Parameters
        ----------
        images : (B, 3, H, W) tensor in [0, 1], with this parameterisation's B, H and W
        """
        expected = (self.batch, 3, self.height, self.width)
        if tuple(images.shape) != expected:
            raise ValueError(f"images must have shape {expected} for this parameterisation, "
                             f"got {tuple(images.shape)}")
        ref = next(self.parameters())
        self.set_raw(self.from_rgb(images.to(device=ref.device, dtype=torch.float32)))
        return self

    def extra_repr(self) -> str:
        return (f"size=({self.height}, {self.width}), batch={self.batch}, "
                f"decorrelate={self.decorrelate}, squash={self.squash!r}")


def _normal(shape: tuple[int, ...], sd: float, seed: int | None) -> torch.Tensor:
    g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
    return torch.randn(*shape, generator=g) * sd


class PixelImage(ImageParam):
    """One free parameter per pixel and channel.

    Parameters
    ----------
    size, batch, decorrelate, squash
        See :class:`ImageParam`.
    sd : float
        Standard deviation of the random start (raw units); see ``DEFAULT_SD``.
    seed : int or None
        Seeds the random start.
    device : str or torch.device or None
    """

    def __init__(self, size: int | tuple[int, int], batch: int = 1, *, decorrelate: bool = True,
                 squash: str = "sigmoid", sd: float = DEFAULT_SD, seed: int | None = None,
                 device: str | torch.device | None = None) -> None:
        super().__init__(size, batch, decorrelate, squash)
        self.pixels = nn.Parameter(_normal((batch, 3, self.height, self.width), sd, seed).to(device))

    def raw(self) -> torch.Tensor:
        return self.pixels

    @torch.no_grad()
    def set_raw(self, raw: torch.Tensor) -> None:
        self.pixels.copy_(raw)


def fft_frequencies(height: int, width: int) -> torch.Tensor:
    """Radial spatial frequency (cycles per pixel) of each real-FFT coefficient.

    Returns
    -------
    freqs : (H, W // 2 + 1) float64 tensor, in the layout of ``torch.fft.rfft2``
    """
    fy = torch.fft.fftfreq(height, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(width, dtype=torch.float64)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


def spectrum_scale(height: int, width: int, decay_power: float = 1.0) -> torch.Tensor:
    """The ``1 / f**decay_power`` amplitude scaling of the Fourier parameterisation.

    The zero frequency is treated as the lowest non-zero one, ``1 / max(H, W)``, so the mean
    colour gets the same weight as the coarsest pattern (lucid's choice).

    Returns
    -------
    scale : (H, W // 2 + 1) float64 tensor
    """
    freqs = fft_frequencies(height, width)
    return 1.0 / freqs.clamp_min(1.0 / max(height, width)) ** decay_power


class FourierImage(ImageParam):
    """Images whose parameters are real-FFT coefficients with a ``1/f`` amplitude prior.

    ``raw = irfft2(scale * c, norm="ortho") * FOURIER_OUTPUT_SCALE`` with ``c`` the complex
    parameters and ``scale = 1 / max(f, 1/max(H, W))**decay_power``. Independent standard
    normal ``c`` therefore give images whose expected amplitude spectrum falls as
    ``f**-decay_power``, the statistics of natural images for ``decay_power = 1``.

    Parameters
    ----------
    size, batch, decorrelate, squash
        See :class:`ImageParam`.
    decay_power : float
        Exponent of the amplitude fall-off (1 = natural images; 0 = white, like pixels).
    sd : float
        Standard deviation of the random start of the coefficients; see ``DEFAULT_SD``.
    seed : int or None
    device : str or torch.device or None
    """

    def __init__(self, size: int | tuple[int, int], batch: int = 1, *, decay_power: float = 1.0,
                 decorrelate: bool = True, squash: str = "sigmoid", sd: float = DEFAULT_SD,
                 seed: int | None = None, device: str | torch.device | None = None) -> None:
        super().__init__(size, batch, decorrelate, squash)
        self.decay_power = float(decay_power)
        h, w = self.height, self.width
        self.register_buffer("scale", spectrum_scale(h, w, decay_power).float().to(device),
                             persistent=False)
        self.spectrum = nn.Parameter(_normal((batch, 3, h, w // 2 + 1, 2), sd, seed).to(device))

    def raw(self) -> torch.Tensor:
        coeffs = torch.view_as_complex(self.spectrum) * self.scale
        image = torch.fft.irfft2(coeffs, s=(self.height, self.width), norm="ortho")
        return image * FOURIER_OUTPUT_SCALE

    @torch.no_grad()
    def set_raw(self, raw: torch.Tensor) -> None:
        # Exact for real images: rfft2 of a real image is Hermitian-consistent, so irfft2
        # returns it unchanged.
        coeffs = torch.fft.rfft2(raw / FOURIER_OUTPUT_SCALE, norm="ortho") / self.scale
        self.spectrum.copy_(torch.view_as_real(coeffs))

    def extra_repr(self) -> str:
        return super().extra_repr() + f", decay_power={self.decay_power}"


PARAMETERISATIONS = {"fourier": FourierImage, "pixel": PixelImage}


def make_param(kind: str, size: int | tuple[int, int], batch: int = 1, **kwargs) -> ImageParam:
    """Build a parameterisation by name (``"fourier"`` or ``"pixel"``); kwargs go to its class."""
    if kind not in PARAMETERISATIONS:
        raise ValueError(f"unknown image parameterisation {kind!r}; choose one of {sorted(PARAMETERISATIONS)}")
    return PARAMETERISATIONS[kind](size, batch, **kwargs)
