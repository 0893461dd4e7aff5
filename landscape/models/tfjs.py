"""A reader for sequential Keras models saved in the TensorFlow.js layers format.

The format is a ``model.json`` (Keras topology plus a weights manifest) and binary shards
holding the weights as little-endian float32, concatenated in manifest order. This reader
builds the equivalent torch modules, named after the Keras layers, so hooks can use the
published layer names (``conv2d_3``, ``leaky_re_lu_7``, ...).

Supported layer classes: InputLayer, Conv2D, BatchNormalization, LeakyReLU, ReLU,
Activation (linear/relu), MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten,
Dense. Anything else raises :class:`ValueError` naming the layer.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..io import read_json

SUPPORTED = ("InputLayer", "Conv2D", "BatchNormalization", "LeakyReLU", "ReLU", "Activation",
             "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Flatten", "Dense")


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding (before, after) for one spatial axis: the extra pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "same" padding computed from the input size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ph = same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        pw = same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        if ph[0] == ph[1] and pw[0] == pw[1]:
            return F.conv2d(x, self.weight, self.bias, self.stride, (ph[0], pw[0]))
        return F.conv2d(F.pad(x, (*pw, *ph)), self.weight, self.bias, self.stride)


class SamePool2d(nn.Module):
    """Max or average pooling with TensorFlow "same" or "valid" padding."""

    def __init__(self, kind: str, kernel: tuple[int, int], stride: tuple[int, int], padding: str) -> None:
        super().__init__()
        self.kind, self.kernel, self.stride, self.padding = kind, kernel, stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.padding == "same":
            ph = same_padding(x.shape[-2], self.kernel[0], self.stride[0])
            pw = same_padding(x.shape[-1], self.kernel[1], self.stride[1])
            if any(ph + pw):
                # TF ignores padded cells: -inf for max; for average, count only real cells.
                if self.kind == "max":
                    x = F.pad(x, (*pw, *ph), value=float("-inf"))
                else:
                    ones = F.pad(torch.ones_like(x[:, :1]), (*pw, *ph))
                    s = F.avg_pool2d(F.pad(x, (*pw, *ph)), self.kernel, self.stride)
                    return s / F.avg_pool2d(ones, self.kernel, self.stride)
        pool = F.max_pool2d if self.kind == "max" else F.avg_pool2d
        return pool(x, self.kernel, self.stride)


class GlobalAvgPool(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(-2, -1))


def _layers(topology: dict) -> list[dict]:
    cfg = topology["model_config"]["config"]
    layers = cfg["layers"] if isinstance(cfg, dict) else cfg
    for prev, layer in zip(layers, layers[1:]):
        inbound = layer.get("inbound_nodes") or []
        if inbound and (len(inbound[0]) != 1 or inbound[0][0][0] != prev["name"]):
            raise ValueError(f"layer {layer['name']!r} is not fed by the previous layer only: "
                             "this reader supports sequential models")
    return layers


def _module(layer: dict, in_channels: int) -> tuple[nn.Module | None, int, list[str]]:
    """Torch module for one Keras layer, its output channels, and the weight names it expects."""
    cls, c, name = layer["class_name"], layer["config"], layer["name"]
    if cls not in SUPPORTED:
        raise ValueError(f"layer {name!r} has class {cls!r}, which this reader does not support; "
                         f"supported: {', '.join(SUPPORTED)}")
    if c.get("data_format", "channels_last") != "channels_last":
        raise ValueError(f"layer {name!r}: only channels_last models are supported")
    if cls == "InputLayer":
        return None, in_channels, []
    if cls == "Conv2D":
        if tuple(c.get("dilation_rate", (1, 1))) != (1, 1) or c.get("activation", "linear") not in ("linear", "relu"):
            raise ValueError(f"layer {name!r}: dilation or activation {c.get('activation')!r} not supported")
        conv_cls = SameConv2d if c["padding"] == "same" else nn.Conv2d
        conv = conv_cls(in_channels, c["filters"], tuple(c["kernel_size"]), tuple(c["strides"]), bias=c["use_bias"])
        mod: nn.Module = conv if c.get("activation", "linear") == "linear" else nn.Sequential(conv, nn.ReLU())
        return mod, c["filters"], [f"{name}/kernel"] + ([f"{name}/bias"] if c["use_bias"] else [])
    if cls == "BatchNormalization":
        bn = nn.BatchNorm2d(in_channels, eps=c["epsilon"], affine=True)
        names = ([f"{name}/gamma"] if c.get("scale", True) else []) + ([f"{name}/beta"] if c.get("center", True) else [])
        return bn, in_channels, names + [f"{name}/moving_mean", f"{name}/moving_variance"]
    if cls == "LeakyReLU":
        return nn.LeakyReLU(float(c["alpha"])), in_channels, []
    if cls == "ReLU" or (cls == "Activation" and c["activation"] == "relu"):
        return nn.ReLU(), in_channels, []
    if cls == "Activation":
        if c["activation"] != "linear":
            raise ValueError(f"layer {name!r}: activation {c['activation']!r} not supported")
        return nn.Identity(), in_channels, []
    if cls in ("MaxPooling2D", "AveragePooling2D"):
        kind = "max" if cls == "MaxPooling2D" else "avg"
        stride = c.get("strides") or c["pool_size"]
        return SamePool2d(kind, tuple(c["pool_size"]), tuple(stride), c["padding"]), in_channels, []
    if cls == "GlobalAveragePooling2D":
        return GlobalAvgPool(), in_channels, []
    if cls == "Flatten":
        return nn.Flatten(), in_channels, []
    # Dense
    return nn.Linear(in_channels, c["units"], bias=c["use_bias"]), c["units"], \
        [f"{name}/kernel"] + ([f"{name}/bias"] if c["use_bias"] else [])


def read_weights(model_json: dict, folder: Path) -> dict[str, np.ndarray]:
    """All weights of a TF.js layers model, by Keras weight name.

    Returns
    -------
    dict mapping e.g. ``"conv2d_1/kernel"`` to a float32 array of the manifest's shape.
    """
    out: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        buf = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            if w.get("dtype", "float32") != "float32" or "quantization" in w:
                raise ValueError(f"weight {w['name']!r}: only unquantised float32 weights are supported")
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            if offset + 4 * n > len(buf):
                raise ValueError(f"weight shards {group['paths']} end before weight {w['name']!r}: "
                                 "the files are truncated or do not belong to this model.json")
            out[w["name"]] = np.frombuffer(buf, "<f4", n, offset).reshape(w["shape"]).copy()
            offset += 4 * n
        if offset != len(buf):
            raise ValueError(f"weight shards {group['paths']} hold {len(buf) - offset} bytes more than "
                             "the manifest lists")
    return out


def read_tfjs_layers_model(model_json_path: str | Path) -> nn.Sequential:
    """Build a torch ``nn.Sequential`` from a TF.js layers model.

    Parameters
    ----------
    model_json_path : path of ``model.json``; the shards are read from the same folder.

    Returns
    -------
    nn.Sequential whose children are named after the Keras layers; input (B, C, H, W).
    """
    path = Path(model_json_path)
    model_json = read_json(path)
    layers = _layers(model_json["modelTopology"])
    weights = read_weights(model_json, path.parent)
    first = layers[0]["config"].get("batch_input_shape")
    channels = int(first[-1]) if first else 3
    seq = nn.Sequential()
    used: set[str] = set()
    for layer in layers:
        mod, channels, names = _module(layer, channels)
        if mod is None:
            continue
        missing = [n for n in names if n not in weights]
        if missing:
            raise ValueError(f"layer {layer['name']!r} needs weights {missing} that the shards do not hold")
        _assign(mod, layer["class_name"], [weights[n] for n in names], layer["config"])
        used.update(names)
        seq.add_module(layer["name"], mod)
    unused = sorted(set(weights) - used)
    if unused:
        raise ValueError(f"the shards hold weights no layer uses: {unused[:5]}")
    return seq.eval()


def _assign(mod: nn.Module, cls: str, arrays: list[np.ndarray], cfg: dict) -> None:
    t = [torch.from_numpy(a) for a in arrays]
    with torch.no_grad():
        if cls == "Conv2D":
            conv = mod if isinstance(mod, nn.Conv2d) else mod[0]
            conv.weight.copy_(t[0].permute(3, 2, 0, 1))  # [kh, kw, in, out] -> [out, in, kh, kw]
            if conv.bias is not None:
                conv.bias.copy_(t[1])
        elif cls == "Dense":
            mod.weight.copy_(t[0].T)
            if mod.bias is not None:
                mod.bias.copy_(t[1])
        elif cls == "BatchNormalization":
            i = 0
            if cfg.get("scale", True):
                mod.weight.copy_(t[i]); i += 1
            else:
                mod.weight.fill_(1.0)
            if cfg.get("center", True):
                mod.bias.copy_(t[i]); i += 1
            else:
                mod.bias.zero_()
            mod.running_mean.copy_(t[i]); mod.running_var.copy_(t[i + 1])
