"""ImageNet CNN trunks with torchvision's exact state-dict layout, and the layers LPIPS taps.

:class:`AlexNet`, :class:`VGG16` and :class:`SqueezeNet11` are written here (torchvision is
optional and often unimportable beside the CPU torch build), but their parameter names and
shapes are torchvision's, so torchvision's published ImageNet files load into them with
``load_state_dict(strict=True)``:

=============  ============================  ===========
class          published file                parameters
=============  ============================  ===========
AlexNet        alexnet-owt-7be5be79.pth      61,100,840
VGG16          vgg16-397923af.pth            138,357,544
SqueezeNet11   squeezenet1_1-b8a52dc0.pth    1,235,496
=============  ============================  ===========

All three files are published at ``https://download.pytorch.org/models/<file>``.

Each class knows the layers LPIPS (Zhang et al. 2018) taps, as consecutive slices of
``features``: :meth:`lpips_features` returns the activations after each slice. ReLUs are not
in-place so the trunks work under ``torch.func`` transforms (same keys either way).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from . import weights as _weights

TORCHVISION_URL = "https://download.pytorch.org/models/"


class _LPIPSTaps(nn.Module):
    """Mixin: ``features`` split at ``lpips_slices`` (end indices), named ``lpips_names``."""

    lpips_slices: tuple[int, ...] = ()
    lpips_names: tuple[str, ...] = ()
    lpips_channels: tuple[int, ...] = ()

    def lpips_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations at the LPIPS taps.

        Parameters
        ----------
        x : (B, 3, H, W) tensor, already normalised the way the trunk expects

        Returns
        -------
        list of (B, C_l, H_l, W_l) tensors, one per tap, ``C_l = lpips_channels[l]``
        """
        out = []
        start = 0
        for end in self.lpips_slices:
            for i in range(start, end):
                x = self.features[i](x)
            out.append(x)
            start = end
        return out

    def lpips_layer_names(self) -> list[str]:
        """Module names (``features.<i>``) whose outputs are the LPIPS taps."""
        return [f"features.{end - 1}" for end in self.lpips_slices]


class AlexNet(_LPIPSTaps):
    """torchvision's AlexNet ("one weird trick" variant), 61,100,840 parameters.

    LPIPS taps: relu1 .. relu5 (channels 64, 192, 384, 256, 256).
    """

    lpips_slices = (2, 5, 8, 10, 12)
    lpips_names = ("relu1", "relu2", "relu3", "relu4", "relu5")
    lpips_channels = (64, 192, 384, 256, 256)
    weight_file = "alexnet-owt-7be5be79.pth"

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` : (B, 3, 224, 224) ImageNet-normalised -> (B, num_classes) logits."""
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG16(_LPIPSTaps):
    """torchvision's VGG16 (no batch norm), 138,357,544 parameters.

    LPIPS taps: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (channels 64, 128, 256, 512, 512).
    """

    lpips_slices = (4, 9, 16, 23, 30)
    lpips_names = ("relu1_2", "relu2_2", "relu3_3", "relu4_3", "relu5_3")
    lpips_channels = (64, 128, 256, 512, 512)
    weight_file = "vgg16-397923af.pth"

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for v in _VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(c_in, int(v), kernel_size=3, padding=1), nn.ReLU()]
                c_in = int(v)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` : (B, 3, 224, 224) ImageNet-normalised -> (B, num_classes) logits."""
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


class Fire(nn.Module):
    """SqueezeNet's fire module: 1x1 squeeze, then 1x1 and 3x3 expands concatenated."""

    def __init__(self, inplanes: int, squeeze: int, expand1x1: int, expand3x3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze, kernel_size=1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze, expand1x1, kernel_size=1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze, expand3x3, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet11(_LPIPSTaps):
    """torchvision's SqueezeNet 1.1, 1,235,496 parameters.

    LPIPS taps: 7 slices of ``features`` (channels 64, 128, 256, 384, 384, 512, 512).
    """

    lpips_slices = (2, 5, 8, 10, 11, 12, 13)
    lpips_names = ("relu1", "fire3", "fire5", "fire6", "fire7", "fire8", "fire9")
    lpips_channels = (64, 128, 256, 384, 384, 512, 512)
    weight_file = "squeezenet1_1-b8a52dc0.pth"

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256), Fire(512, 64, 256, 256),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Conv2d(512, num_classes, kernel_size=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` : (B, 3, 224, 224) ImageNet-normalised -> (B, num_classes) logits."""
        return torch.flatten(self.classifier(self.features(x)), 1)


TRUNKS: dict[str, type[_LPIPSTaps]] = {"alex": AlexNet, "vgg": VGG16, "squeeze": SqueezeNet11}
TORCHVISION_BUILDERS = {"alex": "alexnet", "vgg": "vgg16", "squeeze": "squeezenet1_1"}


def trunk_class(name: str) -> type[_LPIPSTaps]:
    """The trunk class for an LPIPS trunk name ("alex", "vgg" or "squeeze")."""
    if name not in TRUNKS:
        raise ValueError(f"unknown trunk {name!r}; valid names: {', '.join(TRUNKS)} (or pass an nn.Module)")
    return TRUNKS[name]


def weight_url(name: str) -> str:
    """Where torchvision publishes the ImageNet weight file of trunk ``name``."""
    return TORCHVISION_URL + trunk_class(name).weight_file


def _hub_checkpoint(file_name: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / file_name


def imagenet_state_dict(name: str, path: str | os.PathLike | None = None) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights for trunk ``name``, as a state dict.

    Looked for, in order: ``path`` when given; torchvision's own download location
    (``<torch hub dir>/checkpoints/<file>``, where ``torchvision`` and ``torch.hub`` save it);
    torchvision itself when it imports (which may download, and checks the digest itself).
    Nothing else is tried. A file is loaded only if its sha256 is the published one
    (:mod:`geometry.weights`); weights of your own go in as a state dict.

    Parameters
    ----------
    name : {"alex", "vgg", "squeeze"}
    path : path to the published ``.pth`` file, optional

    Raises
    ------
    FileNotFoundError
        naming the file, where it is published and where to put it.
    geometry.weights.WeightFileError
        when the file's sha256 is not the published one.
    """
    cls = trunk_class(name)
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"trunk weight file {path} does not exist; the {name!r} trunk needs "
                                    f"{cls.weight_file}, published at {weight_url(name)}")
        return _load_checked(path, name)
    hub = _hub_checkpoint(cls.weight_file)
    if hub.is_file():
        return _load_checked(hub, name)
    tv_error = "torchvision is not installed"
    try:
        import torchvision.models as tvm  # optional; often broken beside CPU torch builds
    except Exception as e:  # noqa: BLE001 - any import failure means "not usable here"
        tv_error = f"torchvision does not import ({type(e).__name__}: {e})"
    else:
        if os.environ.get("LANDSCAPE_OFFLINE") != "1":
            try:
                builder = getattr(tvm, TORCHVISION_BUILDERS[name])
                return builder(weights="IMAGENET1K_V1").state_dict()
            except Exception as e:  # noqa: BLE001 - e.g. no network
                tv_error = f"torchvision could not provide them ({type(e).__name__}: {e})"
        else:
            tv_error = "LANDSCAPE_OFFLINE=1 forbids torchvision's download"
    raise FileNotFoundError(
        f"the {name!r} trunk needs torchvision's ImageNet weights {cls.weight_file}, published at "
        f"{weight_url(name)}; {tv_error}. Download the file and pass its path (trunk_weights=...), "
        f"or put it at {hub}")


def _load_checked(path: Path, name: str) -> dict[str, torch.Tensor]:
    """``torch.load`` a trunk file once its sha256 matches torchvision's published one."""
    cls = trunk_class(name)
    _weights.check_weight_file(path, cls.weight_file, weight_url(name))
    return torch.load(path, map_location="cpu", weights_only=True)


def load_trunk(name: str, weights: str | os.PathLike | Mapping[str, torch.Tensor] | None = None,
               device: str | torch.device | None = None) -> _LPIPSTaps:
    """Build trunk ``name`` with torchvision's ImageNet weights, in eval mode, gradients off.

    Parameters
    ----------
    name : {"alex", "vgg", "squeeze"}
    weights : path, state dict, None or "random"
        A path or state dict of torchvision's published file; ``None`` looks for it as
        :func:`imagenet_state_dict` does; ``"random"`` keeps the random initialisation
        (for timing and tests only: such a trunk is not what LPIPS was calibrated on).
    device : torch device, optional
    """
    cls = trunk_class(name)
    if isinstance(weights, str) and weights == "random":
        model = cls()
    else:
        if isinstance(weights, Mapping):  # copied: the model must not alias the caller's tensors
            state = {k: torch.as_tensor(v).detach().clone() for k, v in weights.items()}
        else:
            state = imagenet_state_dict(name, weights)
        # built on the meta device and given the loaded tensors: no random initialisation to pay for
        with torch.device("meta"):
            model = cls()
        model.load_state_dict(state, strict=True, assign=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model.to(device) if device is not None else model
