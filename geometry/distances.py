"""Image distances ``D(images_a, images_b) -> (B,)`` for the generator's metric.

A distance is any callable taking two ``(B, 3, H, W)`` image batches in [0, 1] and returning
one value per pair, shape ``(B,)``; it must be differentiable twice for the exact Hessian
methods. This module holds:

* :class:`PixelMSE` - mean squared pixel difference.
* :class:`LPIPS` - the learned perceptual distance of Zhang et al. (2018), written here with a
  pluggable trunk. ``LPIPS("alex" | "vgg" | "squeeze")`` is the calibrated v0.1 metric: the
  torchvision ImageNet trunk (:mod:`geometry.trunks`) plus the published linear weights.
  ``LPIPS(module, layers=[...])`` is the uncalibrated normalised-feature distance over any CNN
  (e.g. a zoo classifier such as ``darknet-tiny-imagenet`` or ``resnet20-cifar10``), which
  needs no download.

Where the files come from
-------------------------
The v0.1 linear weights (``alex.pth``, ``vgg.pth``, ``squeeze.pth``; keys
``lin{k}.model.1.weight`` of shape ``(1, C_k, 1, 1)``) are published in the ``lpips`` wheel
(``lpips/weights/v0.1/``) and in ``richzhang/PerceptualSimilarity``. With
``lin_weights="v0.1"`` they are looked up in an installed ``lpips`` package (located, not
imported) and in ``$LANDSCAPE_HOME/lpips-v0.1/``, and used only if their sha256 is the
published one (:mod:`geometry.weights`). The trunk weights are torchvision's files, see
:func:`geometry.trunks.imagenet_state_dict`, checked the same way. A missing file raises an
error that names it and where it is published; a damaged one, an error naming both digests.
A path or state dict passed as ``lin_weights`` is the caller's own calibration and is not
compared with v0.1.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Callable, Mapping, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import trunks as _trunks
from . import weights as _weights

DistanceFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
DistanceLike = Union[str, DistanceFn]

LPIPS_LIN_URL = "https://github.com/richzhang/PerceptualSimilarity/tree/master/lpips/weights/v0.1"
_NAMED_DISTANCES = ("mse",)


class PixelMSE(nn.Module):
    """Mean squared pixel difference, ``D(a, b) = mean_{c,h,w} (a - b)^2``.

    For a linear generator ``G(z) = A z`` the metric is then ``H = 2 A'A / N`` with ``N = 3 H W``
    the number of pixel values.
    """

    def forward(self, images_a: torch.Tensor, images_b: torch.Tensor) -> torch.Tensor:
        """``images_a, images_b`` : (B, 3, H, W) -> (B,) distances."""
        return (images_a - images_b).pow(2).flatten(1).mean(1)

    def reference(self, images_a: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """``images_b -> D(images_a, images_b)`` with ``images_a`` fixed (broadcast over B)."""
        ref = images_a.detach()
        return lambda images_b: (images_b - ref).pow(2).flatten(1).mean(1)

    def quadratic_form(self, images_a: torch.Tensor) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
        """``D(a, b) = sum_m w_m (phi(b) - phi(a))_m^2``: here phi flattens the pixels, ``w = 1 / N``.

        Returns
        -------
        phi : callable ``(B, 3, H, W) -> (B, M)``
        w : (M,) tensor
        """
        n = images_a[0].numel()
        return (lambda images: images.flatten(1)), torch.full((n,), 1.0 / n, device=images_a.device, dtype=images_a.dtype)


def as_distance(distance: DistanceLike) -> DistanceFn:
    """A distance callable from a name (``"mse"``) or a callable (returned unchanged)."""
    if isinstance(distance, str):
        if distance == "mse":
            return PixelMSE()
        raise ValueError(f"unknown distance name {distance!r}; valid names: {', '.join(_NAMED_DISTANCES)}, "
                         f"or pass a callable (images_a, images_b) -> (B,) such as geometry.distances.LPIPS(...)")
    if not callable(distance):
        raise TypeError(f"distance must be a callable (images_a, images_b) -> (B,) or one of "
                        f"{_NAMED_DISTANCES}, got {type(distance).__name__}")
    return distance


def check_distance_output(values: torch.Tensor, n_pairs: int, distance: object = None) -> torch.Tensor:
    """Check a distance returned one value per pair and return them as shape ``(n_pairs,)``.

    Outputs shaped ``(B, 1, ..., 1)`` (the ``lpips`` package's convention) are accepted and
    flattened; anything else raises.

    Parameters
    ----------
    values : tensor returned by the distance
    n_pairs : int
        Number of image pairs ``B`` it was given.
    """
    name = getattr(distance, "__name__", type(distance).__name__) if distance is not None else "distance"
    if not torch.is_tensor(values):
        raise TypeError(f"distance {name} must return a tensor of shape ({n_pairs},), one value per image "
                        f"pair, got {type(values).__name__}")
    if values.ndim >= 1 and values.shape[0] == n_pairs and values.numel() == n_pairs:
        return values.reshape(n_pairs)
    raise ValueError(f"distance {name} must return one value per image pair, shape ({n_pairs},), for "
                     f"{n_pairs} pairs; it returned shape {tuple(values.shape)}. Reduce over everything "
                     f"but the batch dimension (e.g. .flatten(1).mean(1)).")


def _find_lin_file(net: str) -> Path:
    candidates = []
    spec = importlib.util.find_spec("lpips")
    if spec is not None and spec.submodule_search_locations:
        candidates.append(Path(list(spec.submodule_search_locations)[0]) / "weights" / "v0.1" / f"{net}.pth")
    if os.environ.get("LANDSCAPE_HOME"):
        candidates.append(Path(os.environ["LANDSCAPE_HOME"]).expanduser() / "lpips-v0.1" / f"{net}.pth")
    for c in candidates:
        if c.is_file():
            return _weights.check_weight_file(c, f"lpips-v0.1/{net}.pth", f"{LPIPS_LIN_URL}/{net}.pth")
    looked = ", ".join(str(c) for c in candidates) or "nowhere (no lpips package, LANDSCAPE_HOME unset)"
    raise FileNotFoundError(
        f"LPIPS v0.1 linear weights {net}.pth not found (looked in: {looked}). They are published in the "
        f"`lpips` wheel (pip install --no-deps lpips; file lpips/weights/v0.1/{net}.pth) and at "
        f"{LPIPS_LIN_URL}/{net}.pth. Pass lin_weights=<path>, or put the file at "
        f"$LANDSCAPE_HOME/lpips-v0.1/{net}.pth")


def load_lin_weights(source: str | os.PathLike | Mapping[str, torch.Tensor], n_layers: int
                     ) -> list[torch.Tensor]:
    """The per-layer channel weights of an LPIPS calibration.

    Parameters
    ----------
    source : path to a ``.pth`` file or a state dict with keys ``lin{k}.model.1.weight``
        (shape ``(1, C_k, 1, 1)``; ``lin{k}.weight`` is accepted too)
    n_layers : int
        Number of tapped layers the weights must cover.

    Returns
    -------
    list of ``n_layers`` (C_k,) float tensors
    """
    state = source if isinstance(source, Mapping) else torch.load(Path(source).expanduser(),
                                                                   map_location="cpu", weights_only=True)
    out = []
    for k in range(n_layers):
        for key in (f"lin{k}.model.1.weight", f"lin{k}.weight"):
            if key in state:
                out.append(torch.as_tensor(state[key]).detach().float().reshape(-1))
                break
        else:
            raise KeyError(f"LPIPS linear weights lack layer {k}: expected key 'lin{k}.model.1.weight' "
                           f"(found keys: {sorted(state)[:10]})")
    extra = [key for key in state if key.startswith("lin") and int(key[3:].split(".")[0]) >= n_layers]
    if extra:
        raise ValueError(f"LPIPS linear weights have {len(extra)} entries beyond the {n_layers} tapped layers "
                         f"({extra[:3]}...): they belong to another trunk")
    return out


class _AllTapped(Exception):
    """Raised inside a forward hook once every tapped layer has its output."""


def _normalize_channels(x: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    # LPIPS's normalize_tensor: unit length over channels, eps outside the sqrt
    return x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


class LPIPS(nn.Module):
    """LPIPS distance with a pluggable trunk; calibrated (v0.1) or plain normalised features.

    ``D(a, b) = sum_l mean_{h,w} sum_c w_{l,c} (f_l(a) - f_l(b))_{c,h,w}^2`` where ``f_l`` are the
    trunk's activations at layer ``l`` unit-normalised over channels and ``w_l`` the linear
    calibration weights (all ones when uncalibrated).

    Parameters
    ----------
    trunk : {"alex", "vgg", "squeeze"} or nn.Module
        A name builds the torchvision ImageNet trunk (:mod:`geometry.trunks`), takes images in
        [0, 1], maps them to [-1, 1] and applies LPIPS's scaling layer. A module is called on the
        images as given (a zoo classifier resizes and normalises them itself) and ``layers``
        names the submodules whose outputs are compared.
    lin_weights : "auto", "v0.1", path, state dict or None
        Calibration. ``"auto"``: v0.1 for named trunks, uncalibrated for modules. ``"v0.1"``:
        the published file for this trunk (see the module docs for where it is looked up).
        ``None``: uncalibrated (every channel weight 1).
    layers : sequence of str, optional
        For a module trunk: names from ``module.named_modules()`` (required). For a named trunk
        the LPIPS taps are used and ``layers`` must be None.
    trunk_weights : path, state dict, "random" or None
        For named trunks: torchvision's ImageNet weight file (None: look it up, see
        :func:`geometry.trunks.imagenet_state_dict`). ``"random"`` keeps random weights, which
        is only meaningful for timing and tests.
    resize : int, optional
        Resize both images (bilinear) to this square size before the trunk.
    device : torch device, optional

    Attributes
    ----------
    layer_names : list of str
    calibrated : bool
    """

    def __init__(self, trunk: str | nn.Module = "alex",
                 lin_weights: str | os.PathLike | Mapping[str, torch.Tensor] | None = "auto",
                 layers: Sequence[str] | None = None,
                 trunk_weights: str | os.PathLike | Mapping[str, torch.Tensor] | None = None,
                 resize: int | None = None, device: str | torch.device | None = None) -> None:
        super().__init__()
        self.resize = None if resize is None else int(resize)
        if isinstance(trunk, str):
            if layers is not None:
                raise ValueError(f"layers={list(layers)!r} is only for module trunks; the {trunk!r} trunk "
                                 f"uses the LPIPS taps {list(_trunks.trunk_class(trunk).lpips_names)}")
            _trunks.trunk_class(trunk)  # validates the name before any file lookup
            self.trunk_name = trunk
            self.net = _trunks.load_trunk(trunk, trunk_weights)
            self.layer_names = list(self.net.lpips_names)
            channels = list(self.net.lpips_channels)
            self.register_buffer("shift", torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1))
            self.register_buffer("scale", torch.tensor([.458, .448, .450]).view(1, 3, 1, 1))
            if isinstance(lin_weights, str) and lin_weights in ("auto", "v0.1"):
                lin_weights = _find_lin_file(trunk)
        elif isinstance(trunk, nn.Module):
            if trunk_weights is not None:
                raise ValueError("trunk_weights is only for named trunks ('alex', 'vgg', 'squeeze'); "
                                 "load the module's weights before passing it")
            if not layers:
                raise ValueError("a module trunk needs layers=[...], names from module.named_modules(), e.g. "
                                 f"{[n for n, _ in trunk.named_modules() if n][:6]}")
            modules = dict(trunk.named_modules())
            missing = [n for n in layers if n not in modules]
            if missing:
                raise ValueError(f"layers {missing} are not submodules of the trunk; valid names include "
                                 f"{[n for n in modules if n][:20]}")
            if isinstance(lin_weights, str) and lin_weights == "v0.1":
                raise ValueError("lin_weights='v0.1' calibrates only the named trunks 'alex', 'vgg', 'squeeze'; "
                                 "use lin_weights=None (uncalibrated) or a path/state dict for this module")
            if isinstance(lin_weights, str) and lin_weights == "auto":
                lin_weights = None
            self.trunk_name = type(trunk).__name__
            self.net = trunk.eval()
            for p in self.net.parameters():
                p.requires_grad_(False)
            self.layer_names = list(layers)
            channels = None
            self._modules_tapped = [modules[n] for n in self.layer_names]
        else:
            raise TypeError(f"trunk must be one of {list(_trunks.TRUNKS)} or an nn.Module, "
                            f"got {type(trunk).__name__}")
        self.calibrated = lin_weights is not None
        if self.calibrated:
            ws = load_lin_weights(lin_weights, len(self.layer_names))
            if channels is not None and [w.numel() for w in ws] != channels:
                raise ValueError(f"linear weights have channels {[w.numel() for w in ws]}, but the "
                                 f"{self.trunk_name!r} trunk's taps have {channels}")
            for k, w in enumerate(ws):
                self.register_buffer(f"lin{k}", w.view(1, -1, 1, 1))
        if device is not None:
            self.to(device)

    def _tapped_forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # Hooks live only for this call, so the user's module is left as it was; the forward
        # stops once every tapped layer has fired, skipping the rest of the network.
        captured: dict[str, torch.Tensor] = {}

        def make_hook(name: str):
            def hook(module, inputs, output):
                if not torch.is_tensor(output):
                    raise TypeError(f"layer {name!r} returns {type(output).__name__}, not a tensor; "
                                    f"choose a layer whose output is a (B, C, H, W) or (B, C) tensor")
                captured[name] = output
                if len(captured) == len(self.layer_names):
                    raise _AllTapped
            return hook

        handles = [m.register_forward_hook(make_hook(n)) for n, m in zip(self.layer_names, self._modules_tapped)]
        try:
            self.net(x)
        except _AllTapped:
            pass
        finally:
            for h in handles:
                h.remove()
        missing = [n for n in self.layer_names if n not in captured]
        if missing:
            raise RuntimeError(f"layers {missing} did not run in the trunk's forward pass")
        return [captured[n] for n in self.layer_names]

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised activations at the tapped layers.

        Parameters
        ----------
        images : (B, 3, H, W) tensor in [0, 1]

        Returns
        -------
        list of (B, C_l, H_l, W_l) tensors (``(B, C_l, 1, 1)`` for flat layers)
        """
        x = images
        if self.resize is not None and tuple(x.shape[-2:]) != (self.resize, self.resize):
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        if hasattr(self, "shift"):
            feats = self.net.lpips_features((x * 2 - 1 - self.shift) / self.scale)
        else:
            feats = self._tapped_forward(x)
            feats = [f if f.ndim == 4 else f.reshape(f.shape[0], -1, 1, 1) for f in feats]
        return [_normalize_channels(f) for f in feats]

    def _compare(self, fa: list[torch.Tensor], fb: list[torch.Tensor]) -> torch.Tensor:
        total = 0
        for k, (a, b) in enumerate(zip(fa, fb)):
            d2 = (a - b).pow(2)
            d2 = (d2 * getattr(self, f"lin{k}")).sum(1) if self.calibrated else d2.sum(1)
            total = total + d2.mean(dim=(-2, -1))
        return total

    def forward(self, images_a: torch.Tensor, images_b: torch.Tensor) -> torch.Tensor:
        """``images_a, images_b`` : (B, 3, H, W) in [0, 1] -> (B,) distances."""
        if images_a.shape != images_b.shape:
            raise ValueError(f"image batches differ in shape: {tuple(images_a.shape)} vs {tuple(images_b.shape)}")
        n = images_a.shape[0]
        feats = self.features(torch.cat([images_a, images_b]))
        return self._compare([f[:n] for f in feats], [f[n:] for f in feats])

    def reference(self, images_a: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """``images_b -> D(images_a, images_b)`` with the features of ``images_a`` computed once.

        ``images_a`` is (1, 3, H, W) (broadcast over ``images_b``'s batch) or (B, 3, H, W).
        """
        with torch.no_grad():
            ref = [f.detach() for f in self.features(images_a)]
        return lambda images_b: self._compare(ref, self.features(images_b))

    def quadratic_form(self, images_a: torch.Tensor) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
        """``D(a, b) = sum_m w_m (phi(b) - phi(a))_m^2``: phi concatenates the normalised features,
        ``w`` holds each channel's calibration weight over its layer's number of positions.

        Parameters
        ----------
        images_a : (1, 3, H, W) tensor, the image whose layer shapes set ``w``

        Returns
        -------
        phi : callable ``(B, 3, H, W) -> (B, M)``
        w : (M,) tensor
        """
        with torch.no_grad():
            feats = self.features(images_a[:1])
        ws = []
        for k, f in enumerate(feats):
            c, h, w = f.shape[1:]
            lin = getattr(self, f"lin{k}").reshape(c) if self.calibrated else torch.ones(c, device=f.device)
            ws.append((lin.to(f.dtype)[:, None] / (h * w)).expand(c, h * w).reshape(-1))
        phi = lambda images: torch.cat([f.flatten(1) for f in self.features(images)], dim=1)  # noqa: E731
        return phi, torch.cat(ws)

    def extra_repr(self) -> str:
        return (f"trunk={self.trunk_name!r}, layers={self.layer_names}, calibrated={self.calibrated}, "
                f"resize={self.resize}")
