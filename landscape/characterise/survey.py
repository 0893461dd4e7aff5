"""Opponency survey of whole layers: the fraction of each class per layer of a network."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from landscape.io import write_json
from landscape.characterise.classify import CLASSES
from landscape.characterise.opponency import Opponency
from landscape.estimator import Estimator, check_is_fitted
from landscape.stimuli.colors import ColorLike


def _read_position(act: torch.Tensor, position) -> torch.Tensor:
    """(B, C, ...) layer output -> (B, C), read as :class:`landscape.units.CNNUnit` reads one channel."""
    if act.ndim == 2:
        return act
    if act.ndim != 4:
        return act.flatten(2).mean(2)
    if position is None:
        return act.mean(dim=(2, 3))
    y, x = (act.shape[2] // 2, act.shape[3] // 2) if position == "center" else position
    return act[:, :, y, x]


class OpponencySurvey(Estimator):
    """Classify every channel of some layers of a network, as in Harris et al. (2019).

    Each layer is read at one spatial position (default its centre, as
    :class:`landscape.units.CNNUnit` does); one forward pass per batch serves every layer and
    channel and stops after the deepest layer (:func:`landscape.units.cnn.layer_outputs`, the
    shared pass batched evolutions use), and every channel goes through the same test as
    :class:`Opponency`.

    Parameters
    ----------
    layers : list of str
        Layer names (see :func:`landscape.units.layers`).
    size : int or None
        Stimulus side; ``None`` uses the model's ``input_size`` (zoo models resize anyway).
    position : "center", (y, x) or None
        Where to read each layer's map (``None``: spatial mean).
    hues, luminance, hue_radii, spatial_colors, radii, rtol, atol, z
        As in :class:`Opponency` (the stimuli are centred in the image).
    batch_size : int
    device : str, torch.device or None
        ``None`` follows the model.
    progress : bool

    Attributes
    ----------
    model_name_ : str
    table_ : list of dict
        One row per channel: ``layer, channel, class, color_class, spatial_class, baseline,
        scale``.
    counts_ : dict layer -> dict class -> int
    fractions_ : dict layer -> dict class -> float
        Over :data:`landscape.characterise.classify.CLASSES`.
    """

    def __init__(self, layers: Sequence[str], size: int | None = None, position="center", hues=12,
                 luminance: float = 0.5, hue_radii: Sequence[float | None] = (None,),
                 spatial_colors: Sequence[ColorLike] = ("white", "black", "red", "green", "blue"), radii=None,
                 rtol: float = 0.05, atol: float = 1e-5, z: float = 2.0, batch_size: int = 256,
                 device: str | torch.device | None = None, progress: bool = False) -> None:
        if isinstance(layers, str) or len(layers) == 0:
            raise ValueError(f"layers must be a non-empty list of layer names, got {layers!r}")
        self.layers, self.size, self.position = list(layers), size, position
        self.hues, self.luminance, self.hue_radii = hues, luminance, hue_radii
        self.spatial_colors, self.radii = spatial_colors, radii
        self.rtol, self.atol, self.z = rtol, atol, z
        self.batch_size, self.device, self.progress = batch_size, device, progress

    def _test(self, size: int) -> Opponency:
        return Opponency(size=size, hues=self.hues, luminance=self.luminance, hue_radii=self.hue_radii,
                         spatial_colors=self.spatial_colors, radii=self.radii, rtol=self.rtol, atol=self.atol,
                         z=self.z, batch_size=self.batch_size)

    @torch.no_grad()
    def fit(self, model: torch.nn.Module) -> "OpponencySurvey":
        """Run the survey on a zoo classifier (or any module taking images in [0, 1]); returns self."""
        from landscape.units import CNNUnit
        from landscape.units.cnn import layer_outputs

        size = self.size or getattr(model, "input_size", None)
        if not size:
            raise ValueError("the model has no input_size; pass size= (the stimulus side in pixels)")
        test = self._test(int(size))
        readers = [CNNUnit(model, layer, 0, position=self.position) for layer in self.layers]
        device = torch.device(self.device) if self.device is not None else readers[0].device
        images, _ = test.stimuli(device)
        images = torch.cat([images, test.baseline_images(device)])
        it = range(0, images.shape[0], self.batch_size)
        if self.progress:
            from tqdm.auto import tqdm
            it = tqdm(it, desc="survey", unit="batch")
        per_layer: list[list[torch.Tensor]] = [[] for _ in readers]
        for i in it:
            # one forward pass for every layer, stopped after the deepest (the read-out CNN units use)
            batch = images[i:i + self.batch_size].to(readers[0].device)
            outs = layer_outputs(model, [r.module for r in readers], batch)
            for k, out in enumerate(outs):
                per_layer[k].append(_read_position(out, self.position).double().cpu())
        n = images.shape[0] - 3
        self.model_name_ = getattr(model, "name", type(model).__name__)
        self.table_, self.counts_, self.fractions_ = [], {}, {}
        self.results_: dict[str, dict[str, Any]] = {}
        for layer, chunks in zip(self.layers, per_layer):
            r = torch.cat(chunks).numpy()  # (N + 3, C)
            res = test.classify(r[None, :n], r[None, n:])
            self.results_[layer] = res
            classes = res["class"]
            for c in range(classes.shape[0]):
                self.table_.append({"layer": layer, "channel": c, "class": str(classes[c]),
                                    "color_class": str(res["color_class"][c]),
                                    "spatial_class": str(res["spatial_class"][c]),
                                    "baseline": float(res["baseline"][c]), "scale": float(res["scale"][c])})
            counts = {k: int(np.sum(classes == k)) for k in CLASSES}
            self.counts_[layer] = counts
            self.fractions_[layer] = {k: v / max(1, len(classes)) for k, v in counts.items()}
        return self

    def write(self, out: str | Path) -> dict[str, Path]:
        """Write ``survey.csv`` (one row per channel), ``fractions.csv`` (one row per layer) and
        ``survey.json`` (settings and fractions). The figure (``survey.html``) is
        :class:`landscape.plots.OpponencySurveyDisplay`'s."""
        self._check()
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"channels": out / "survey.csv", "fractions": out / "fractions.csv", "json": out / "survey.json"}
        with paths["channels"].open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(self.table_[0]))
            w.writeheader()
            w.writerows(self.table_)
        with paths["fractions"].open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["layer", "channels", *CLASSES])
            for layer in self.layers:
                w.writerow([layer, sum(self.counts_[layer].values()), *(self.fractions_[layer][k] for k in CLASSES)])
        write_json(paths["json"], {
            "model": self.model_name_, "layers": self.layers, "position": self.position, "size": self.size,
            "settings": {"hues": self.hues, "luminance": self.luminance, "hue_radii": list(self.hue_radii),
                         "spatial_colors": list(self.spatial_colors), "radii": self.radii,
                         "rtol": self.rtol, "atol": self.atol, "z": self.z},
            "counts": self.counts_, "fractions": self.fractions_})
        return paths

    def _check(self) -> None:
        check_is_fitted(self, "table_", hint="fit(model)")
