"""Model neurons with known answers: ground truth for characterisation and evolution.

Each unit here needs no weights, follows the device and dtype of the images it is shown,
scores a whole batch at once, and says in :meth:`describe` what its true preferences are,
so tests and workshop notebooks can check what an analysis recovers.

Conventions are those of :mod:`landscape.stimuli`: positions and sizes are fractions of the
image side with (0, 0) at the centre and y pointing up, orientations are degrees of the bars
counter-clockwise from horizontal, spatial frequency is in cycles per image side. Linear
units filter the image's contrast ``images - 0.5`` (mid-grey is their zero), so a uniform grey
field gives the unit's ``baseline``.

* :class:`GaborEnergyUnit` - V1 complex cell (quadrature-pair energy) or simple cell.
* :class:`TemplateUnit` - similarity to a template image; the template is the optimum.
* :class:`CodeTemplateUnit` - similarity to a generator's image at a target code.
* :class:`ColorOpponentUnit` - e.g. red-on / green-off over a Gaussian receptive field.
* :class:`LuminanceUnit` - non-opponent luminance detector.
* :class:`CenterSurroundUnit` - difference of Gaussians, achromatic or colour-opponent.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from landscape.units.base import Unit, check_images

#: Rec. 601 luma weights, the luminance every unit here uses (same as landscape.stimuli)
LUMA = (0.299, 0.587, 0.114)


def _check_position(x: float, y: float) -> tuple[float, float]:
    for name, v in (("x", x), ("y", y)):
        if not np.isfinite(v) or abs(v) > 0.5:
            raise ValueError(f"{name}={v!r} lies outside the image; positions are fractions of the image "
                             "side in [-0.5, 0.5] with (0, 0) at the centre")
    return float(x), float(y)


def _check_sigma(name: str, sigma: float) -> float:
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"{name} must be positive (a fraction of the image side), got {sigma!r}")
    if sigma > 0.5:
        raise ValueError(f"{name}={sigma!r} is larger than the image: the maximum is 0.5 of the image side")
    return float(sigma)


def _coords(h: int, w: int, device, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) / w - 0.5
    ys = 0.5 - (torch.arange(h, device=device, dtype=dtype) + 0.5) / h
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return x, y


def _gaussian(x: torch.Tensor, y: torch.Tensor, cx: float, cy: float, sigma: float) -> torch.Tensor:
    g = torch.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma ** 2))
    return g / g.sum()


class _FilterUnit(Unit):
    """A unit computed from linear filters of the image contrast, built per image size."""

    def __init__(self) -> None:
        self._cache: dict[tuple, torch.Tensor] = {}

    def _build(self, h: int, w: int, device: torch.device) -> torch.Tensor:
        """Filters (K, 3, H, W) in float64 on ``device``."""
        raise NotImplementedError

    def _filters(self, images: torch.Tensor) -> torch.Tensor:
        key = (images.shape[-2], images.shape[-1], images.device, images.dtype)
        if key not in self._cache:
            self._cache[key] = self._build(images.shape[-2], images.shape[-1], images.device).to(images.dtype)
        return self._cache[key]

    def _linear(self, images: torch.Tensor) -> torch.Tensor:
        """Filter outputs (B, K) for images (B, 3, H, W)."""
        images = check_images(images)
        return torch.einsum("bchw,kchw->bk", images - 0.5, self._filters(images))


class GaborEnergyUnit(_FilterUnit):
    """A V1 cell: Gabor energy (complex cell) or a rectified Gabor filter (simple cell).

    The complex cell sums the squared outputs of an even and an odd Gabor filter of the
    image's luminance contrast, so it prefers one orientation and spatial frequency at any
    phase. Filters are scaled so the preferred full-contrast black/white grating gives an
    energy of 1 (at any image size).

    Parameters
    ----------
    orientation : float
        Preferred bar orientation in degrees (0 = horizontal bars).
    frequency : float
        Preferred spatial frequency, cycles per image side (> 0).
    x, y : float
        Receptive-field centre in [-0.5, 0.5].
    sigma : float
        Standard deviation of the Gaussian envelope, fraction of the image side, (0, 0.5].
    kind : {"complex", "simple"}
        ``simple``: ``gain * max(0, even-phase filter output)``, with preferred ``phase``.
    phase : float
        Preferred phase in degrees (simple cells) at the receptive-field centre; a grating of
        that phase centred there peaks the response.
    c50 : float or None
        Contrast normalisation: the response becomes ``gain * E / (E + c50**2)``, a
        Naka-Rushton curve in contrast with exponent 2 and semi-saturation ``c50``.
        ``None``: ``gain * E`` (energy grows with contrast squared).
    gain, baseline : float
        Response = ``baseline + gain * (...)``.
    """

    KINDS = ("complex", "simple")

    def __init__(self, orientation: float, frequency: float, x: float = 0.0, y: float = 0.0, sigma: float = 0.15,
                 kind: str = "complex", phase: float = 0.0, c50: float | None = None, gain: float = 1.0,
                 baseline: float = 0.0) -> None:
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {kind!r}")
        if not np.isfinite(frequency) or frequency <= 0:
            raise ValueError(f"frequency must be positive (cycles per image side), got {frequency!r}")
        if c50 is not None and not c50 > 0:
            raise ValueError(f"c50 must be positive or None, got {c50!r}")
        self.orientation = float(orientation) % 180.0
        self.frequency = float(frequency)
        self.x, self.y = _check_position(x, y)
        self.sigma = _check_sigma("sigma", sigma)
        self.kind = kind
        self.phase = float(phase) % 360.0
        self.c50 = None if c50 is None else float(c50)
        self.gain = float(gain)
        self.baseline = float(baseline)

    def _build(self, h: int, w: int, device: torch.device) -> torch.Tensor:
        if self.frequency > min(h, w) / 2:
            raise ValueError(f"the unit's frequency {self.frequency:g} cycles/image exceeds the Nyquist limit of "
                             f"{h}x{w} images")
        x, y = _coords(h, w, device)
        dx, dy = x - self.x, y - self.y
        th = math.radians(self.orientation)
        u = dx * -math.sin(th) + dy * math.cos(th)
        env = torch.exp(-(dx ** 2 + dy ** 2) / (2 * self.sigma ** 2))
        carrier = 2 * math.pi * self.frequency * u
        shift = math.radians(self.phase) if self.kind == "simple" else 0.0
        even = env * torch.cos(carrier + shift)
        odd = env * torch.sin(carrier + shift)
        # zero mean, so a uniform field (any luminance) leaves the unit at baseline
        even = even - env * (even.sum() / env.sum())
        odd = odd - env * (odd.sum() / env.sum())
        # unit output for the matching full-contrast grating 0.5 * cos(carrier + shift)
        even = even / (0.5 * (even * torch.cos(carrier + shift)).sum())
        odd = odd / (0.5 * (odd * torch.sin(carrier + shift)).sum())
        luma = torch.tensor(LUMA, dtype=torch.float64, device=device)[None, :, None, None]
        filters = torch.stack([even, odd])[:, None] * luma
        return filters

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        lin = self._linear(images)
        if self.kind == "simple":
            drive = lin[:, 0].clamp_min(0)
        else:
            drive = (lin ** 2).sum(1)
        if self.c50 is not None:
            drive = drive / (drive + self.c50 ** 2)
        return self.baseline + self.gain * drive

    def describe(self) -> dict[str, Any]:
        d = {"type": type(self).__name__, "kind": self.kind, "orientation": self.orientation,
             "frequency": self.frequency, "x": self.x, "y": self.y, "sigma": self.sigma}
        if self.kind == "simple":
            d["phase"] = self.phase
        d.update({"c50": self.c50, "gain": self.gain, "baseline": self.baseline})
        return d


class TemplateUnit(Unit):
    """Similarity of each image to a template image (XDream supplement 7.2); its optimum is the template.

    Parameters
    ----------
    template : (3, H, W) or (1, 3, H, W) tensor in [0, 1]
    metric : {"neg_mse", "correlation"}
        ``neg_mse``: minus the mean squared pixel difference (maximum 0, at the template).
        ``correlation``: Pearson correlation over all pixels and channels (maximum 1, at the
        template or any brighter/contrastier copy of it).

    Images of another size are resized (bilinear, antialiased) to the template's size first.
    """

    METRICS = ("neg_mse", "correlation")

    def __init__(self, template: torch.Tensor, metric: str = "neg_mse") -> None:
        if metric not in self.METRICS:
            raise ValueError(f"metric must be one of {self.METRICS}, got {metric!r}")
        if not torch.is_tensor(template):
            raise TypeError(f"template must be a torch tensor (3, H, W), got {type(template).__name__}")
        t = template.detach()
        if t.ndim == 4 and t.shape[0] == 1:
            t = t[0]
        if t.ndim != 3 or t.shape[0] != 3:
            raise ValueError(f"template must have shape (3, H, W), got {tuple(template.shape)}")
        if metric == "correlation" and float(t.std()) == 0:
            raise ValueError("a uniform template has no correlation with anything; use metric='neg_mse'")
        self.template = t.float().cpu()
        self.metric = metric
        self._on: dict[tuple, torch.Tensor] = {}

    def _template_like(self, images: torch.Tensor) -> torch.Tensor:
        key = (images.device, images.dtype)
        if key not in self._on:
            self._on[key] = self.template.to(images.device, images.dtype)
        return self._on[key]

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        images = check_images(images)
        t = self._template_like(images)
        if images.shape[-2:] != t.shape[-2:]:
            images = F.interpolate(images, size=t.shape[-2:], mode="bilinear", align_corners=False, antialias=True)
        a = images.flatten(1)
        b = t.flatten()[None]
        if self.metric == "neg_mse":
            return -((a - b) ** 2).mean(1)
        a = a - a.mean(1, keepdim=True)
        b = b - b.mean()
        return (a * b).sum(1) / (a.norm(dim=1) * b.norm()).clamp_min(1e-12)

    def describe(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "metric": self.metric, "template_shape": list(self.template.shape),
                "optimum": "the template image"}


class CodeTemplateUnit(TemplateUnit):
    """Similarity to the image a generator makes at a target code; that code is the optimum.

    Parameters
    ----------
    generator : callable
        Codes ``(B, d)`` to images ``(B, 3, H, W)`` in [0, 1] (e.g. a
        :class:`landscape.generators.Generator`).
    target_code : (d,) array-like
    metric : {"neg_mse", "correlation"}
        See :class:`TemplateUnit`.
    """

    def __init__(self, generator: Callable[[torch.Tensor], torch.Tensor], target_code: Sequence[float] | torch.Tensor,
                 metric: str = "neg_mse") -> None:
        code = torch.as_tensor(np.asarray(target_code.detach().cpu() if torch.is_tensor(target_code) else target_code),
                               dtype=torch.float32)
        if code.ndim != 1:
            raise ValueError(f"target_code must be one code of shape (d,), got {tuple(code.shape)}")
        dev = getattr(generator, "device", None)
        with torch.no_grad():
            image = generator(code[None].to(dev) if dev is not None else code[None])
        super().__init__(image[0].cpu(), metric)
        self.target_code = code
        self.generator_name = getattr(generator, "name", type(generator).__name__)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update({"generator": self.generator_name, "dim": int(self.target_code.numel()),
                  "target_code": self.target_code.tolist(), "optimum": "the generator's image at target_code"})
        return d


def _rgb_weights(color: str | Sequence[float], what: str) -> np.ndarray:
    from landscape.stimuli.colors import parse_color  # light module; keeps the colour names in one place
    rgb = parse_color(color)
    if rgb.sum() == 0:
        raise ValueError(f"{what} colour must not be black (it has no cone input to weight)")
    return rgb / rgb.sum()


class ColorOpponentUnit(_FilterUnit):
    """A single-opponent colour cell: excited by one colour, inhibited by another, over one RF.

    Response ``baseline + gain * sum_x G(x) (w_on - w_off) . (I(x) - 0.5)`` with a
    unit-sum Gaussian ``G`` and ``w`` each colour's RGB normalised to sum 1; the weights sum
    to zero, so grey, white and black fields all leave the unit at baseline.

    Parameters
    ----------
    on, off : colour (name or RGB triple)
        Excitatory and inhibitory colours (default red-on, green-off).
    x, y, sigma : float
        Gaussian receptive field (fractions of the image side).
    gain, baseline : float
    """

    def __init__(self, on: str | Sequence[float] = "red", off: str | Sequence[float] = "green", x: float = 0.0,
                 y: float = 0.0, sigma: float = 0.15, gain: float = 1.0, baseline: float = 0.0) -> None:
        super().__init__()
        self.on, self.off = on, off
        self.weights = _rgb_weights(on, "on") - _rgb_weights(off, "off")
        if np.abs(self.weights).max() < 1e-9:
            raise ValueError(f"on and off colours are the same ({on!r}, {off!r}); the unit would see nothing")
        self.x, self.y = _check_position(x, y)
        self.sigma = _check_sigma("sigma", sigma)
        self.gain, self.baseline = float(gain), float(baseline)

    def _build(self, h, w, device):
        x, y = _coords(h, w, device)
        g = _gaussian(x, y, self.x, self.y, self.sigma)
        return (torch.as_tensor(self.weights, device=device)[:, None, None] * g)[None]

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        return self.baseline + self.gain * self._linear(images)[:, 0]

    def describe(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "on": self.on if isinstance(self.on, str) else list(self.on),
                "off": self.off if isinstance(self.off, str) else list(self.off),
                "rgb_weights": self.weights.tolist(), "x": self.x, "y": self.y, "sigma": self.sigma,
                "gain": self.gain, "baseline": self.baseline, "color_opponent": True, "spatially_opponent": False}


class LuminanceUnit(_FilterUnit):
    """A non-opponent luminance cell: Gaussian-weighted luma contrast, ON or OFF.

    Response ``baseline + gain * s * sum_x G(x) (luma(I(x)) - 0.5)`` with ``s = +1`` (ON)
    or ``-1`` (OFF).

    Parameters
    ----------
    x, y, sigma : float
        Gaussian receptive field.
    polarity : {"on", "off"}
    gain, baseline : float
    """

    def __init__(self, x: float = 0.0, y: float = 0.0, sigma: float = 0.15, polarity: str = "on",
                 gain: float = 1.0, baseline: float = 0.0) -> None:
        super().__init__()
        if polarity not in ("on", "off"):
            raise ValueError(f"polarity must be 'on' or 'off', got {polarity!r}")
        self.x, self.y = _check_position(x, y)
        self.sigma = _check_sigma("sigma", sigma)
        self.polarity = polarity
        self.gain, self.baseline = float(gain), float(baseline)

    def _build(self, h, w, device):
        x, y = _coords(h, w, device)
        g = _gaussian(x, y, self.x, self.y, self.sigma)
        sign = 1.0 if self.polarity == "on" else -1.0
        return (sign * torch.tensor(LUMA, dtype=torch.float64, device=device)[:, None, None] * g)[None]

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        return self.baseline + self.gain * self._linear(images)[:, 0]

    def describe(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "x": self.x, "y": self.y, "sigma": self.sigma,
                "polarity": self.polarity, "gain": self.gain, "baseline": self.baseline,
                "color_opponent": False, "spatially_opponent": False}


class CenterSurroundUnit(_FilterUnit):
    """A difference-of-Gaussians cell, achromatic or colour-opponent.

    Response ``baseline + gain * s * [sum Gc (c . (I - 0.5)) - k sum Gs (u . (I - 0.5))]``
    with unit-sum Gaussians ``Gc`` (centre) and ``Gs`` (surround), surround weight ``k``,
    sign ``s`` from ``polarity``, and channel weights ``c``, ``u`` set by ``color``:

    * ``"luminance"``: ``c = u = luma`` - spatially opponent, not colour-opponent.
    * ``"single"``: ``c = red``, ``u = green`` - Wiesel & Hubel's type I (red-ON centre,
      green-OFF surround). Colour-opponent; to achromatic centre-surround stimuli it is
      also spatially opponent, so operational (De Valois-style) tests count it as both.
    * ``"double"``: ``c = u = red - green`` - a double-opponent cell (R+G- centre,
      R-G+ surround): colour-opponent and spatially opponent within the colour channel.

    Parameters
    ----------
    center_sigma, surround_sigma : float
        Gaussian widths, fractions of the image side; the surround must be wider.
    surround_weight : float
        ``k`` in [0, inf); 1 balances centre and surround for full-field stimuli.
    x, y : float
        Receptive-field centre.
    color : {"luminance", "single", "double"}
    polarity : {"on", "off"}
        ``off`` flips the sign (an OFF-centre cell).
    gain, baseline : float
    """

    COLORS = ("luminance", "single", "double")

    def __init__(self, center_sigma: float = 0.05, surround_sigma: float = 0.15, surround_weight: float = 0.9,
                 x: float = 0.0, y: float = 0.0, color: str = "luminance", polarity: str = "on",
                 gain: float = 1.0, baseline: float = 0.0) -> None:
        super().__init__()
        if color not in self.COLORS:
            raise ValueError(f"color must be one of {self.COLORS}, got {color!r}")
        if polarity not in ("on", "off"):
            raise ValueError(f"polarity must be 'on' or 'off', got {polarity!r}")
        self.center_sigma = _check_sigma("center_sigma", center_sigma)
        self.surround_sigma = _check_sigma("surround_sigma", surround_sigma)
        if self.surround_sigma <= self.center_sigma:
            raise ValueError(f"surround_sigma ({surround_sigma}) must exceed center_sigma ({center_sigma})")
        if not np.isfinite(surround_weight) or surround_weight < 0:
            raise ValueError(f"surround_weight must be >= 0, got {surround_weight!r}")
        self.surround_weight = float(surround_weight)
        self.x, self.y = _check_position(x, y)
        self.color, self.polarity = color, polarity
        self.gain, self.baseline = float(gain), float(baseline)

    def channel_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """RGB weights (centre, surround)."""
        if self.color == "luminance":
            return np.array(LUMA), np.array(LUMA)
        if self.color == "single":
            return np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
        rg = np.array([1.0, -1.0, 0.0])
        return rg, rg

    def _build(self, h, w, device):
        x, y = _coords(h, w, device)
        gc = _gaussian(x, y, self.x, self.y, self.center_sigma)
        gs = _gaussian(x, y, self.x, self.y, self.surround_sigma)
        c, u = (torch.as_tensor(v, device=device)[:, None, None] for v in self.channel_weights())
        sign = 1.0 if self.polarity == "on" else -1.0
        return (sign * (c * gc - self.surround_weight * u * gs))[None]

    def clean(self, images: torch.Tensor) -> torch.Tensor:
        return self.baseline + self.gain * self._linear(images)[:, 0]

    def describe(self) -> dict[str, Any]:
        c, u = self.channel_weights()
        return {"type": type(self).__name__, "color": self.color, "polarity": self.polarity,
                "center_sigma": self.center_sigma, "surround_sigma": self.surround_sigma,
                "surround_weight": self.surround_weight, "x": self.x, "y": self.y,
                "center_rgb_weights": c.tolist(), "surround_rgb_weights": u.tolist(),
                "gain": self.gain, "baseline": self.baseline,
                "color_opponent": self.color != "luminance", "spatially_opponent": True}
