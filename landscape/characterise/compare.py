"""Parametric vs natural vs evolved: a unit's best stimulus of each kind and their relative activations.

The figure of a comparison is :class:`landscape.plots.ComparisonDisplay`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from landscape.units.measure import measure_images
from landscape.io import write_json
from landscape.stimuli import ParamTable

KINDS = ("parametric", "natural", "evolved")


@dataclass
class EvolutionComparison:
    """What :func:`compare_with_evolution` found.

    Attributes
    ----------
    activations : dict kind -> float
        Response to the best image of each kind (``parametric``, ``natural``, ``evolved``).
    relative : dict kind -> float
        Activation divided by the best natural image's; NaN for every kind when the best
        natural activation is not positive, where the ratio means nothing. ``relative["evolved"]``
        is XDream's relative activation when the evolved image is XDream's optimized image
        (``evolved_choice == "optimized"``: a run was given); with images given it is the best of
        them by clean score over the best natural image (``evolved_choice == "best-given"``; for a
        run's every image that is ``best_clean_ever`` over the reference).
    best_index : dict kind -> int
        Index of the best image within each set.
    images : dict kind -> (3, H, W) tensor
    parametric_params : dict or None
        Parameters of the best parametric stimulus (when a table was given).
    unit : dict
        ``unit.describe()``.
    paths : dict name -> Path
        Files written (``json``; ``png`` and ``html`` once :class:`landscape.plots.ComparisonDisplay`
        has written them).
    evolved_choice : {"optimized", "best-given"}
        How the evolved image was chosen (see ``relative``).
    natural_set : dict
        ``{"name", "n_images", "warning"}`` of the natural set (the denominator).
    """

    activations: dict[str, float]
    relative: dict[str, float]
    best_index: dict[str, int]
    images: dict[str, torch.Tensor]
    parametric_params: dict[str, Any] | None
    unit: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)
    evolved_choice: str = "best-given"
    natural_set: dict[str, Any] = field(default_factory=dict)

    def save(self, out: str | Path) -> Path:
        """Write ``comparison.json`` (the numbers, and the paths of the files written so far) into ``out``."""
        self.paths["json"] = Path(out) / "comparison.json"
        return write_json(self.paths["json"], self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {"activations": self.activations, "relative": self.relative, "best_index": self.best_index,
                "parametric_params": self.parametric_params, "unit": self.unit,
                "evolved_choice": self.evolved_choice, "natural_set": self.natural_set,
                "paths": {k: str(v) for k, v in self.paths.items()}}


def _as_batch(name: str, images) -> torch.Tensor:
    if not torch.is_tensor(images):
        raise TypeError(f"{name} must be an image tensor (N, 3, H, W) or (3, H, W), got {type(images).__name__}")
    t = images.detach()
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[1] != 3 or t.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, 3, H, W) or (3, H, W), got {tuple(images.shape)}")
    return t


def compare_with_evolution(unit, parametric, natural: torch.Tensor, evolved: Any,
                           out: str | Path | None = None, use_clean: bool = True, batch_size: int = 512,
                           generator: Any = None, natural_name: str | None = None) -> EvolutionComparison:
    """Score a unit's best parametric stimulus, best natural image and evolved image.

    Parameters
    ----------
    unit : Unit or callable
    parametric : (N, 3, H, W) tensor, or ``(images, ParamTable)`` as a stimulus family returns
        The parametric set (e.g. the grating set of an :class:`OrientationTuning`); its best
        image is kept.
    natural : (M, 3, H, W) tensor, or a :class:`landscape.references.ReferenceSet`
        Natural reference images (e.g. ``load_reference_set("cifar", 32)``).
    evolved : Run, or (3, H, W) or (K, 3, H, W) tensor
        A :class:`landscape.runs.Run` (with ``generator``): XDream's optimized image, the last
        generation's best by observed score. Or evolved image(s), of which the best by clean
        score is kept.
    out : folder or None
        Where to write ``comparison.json`` (the numbers). The picture and the interactive figure:
        ``landscape.plots.ComparisonDisplay(result).write(out)`` (``comparison.png``,
        ``comparison.html``).
    use_clean : bool
        Score with ``unit.clean`` when the unit has it (noise-free activations).
    batch_size : int
    generator : Generator or None
        Renders the optimized image of a run.
    natural_name : str or None
        Name of the natural set for the record (a ReferenceSet brings its own).

    Returns
    -------
    EvolutionComparison
    """
    table: ParamTable | None = None
    if isinstance(parametric, tuple):
        if len(parametric) != 2 or not isinstance(parametric[1], ParamTable):
            raise ValueError("parametric must be an image tensor or an (images, ParamTable) pair")
        parametric, table = parametric
    from landscape.references import ReferenceSet, small_set_warning

    if isinstance(natural, ReferenceSet):
        natural_name, natural = natural.name, natural.images
    choice = "best-given"
    if hasattr(evolved, "gen_scores") and hasattr(evolved, "gen_codes"):  # a Run: XDream's optimized image
        from landscape.measures import optimized_image

        if generator is None:
            raise ValueError("evolved is a run: pass generator= to render its optimized image")
        g = evolved.n_generations - 1
        if g < 0:
            raise ValueError(f"run {evolved.dir} has no completed generation")
        i, _, _ = optimized_image(evolved.gen_scores[g], evolved.gen_clean[g])
        with torch.no_grad():
            evolved = generator.render(torch.as_tensor(evolved.gen_codes[g][i:i + 1]).to(generator.device))
        choice = "optimized"
    sets = {"parametric": _as_batch("parametric", parametric), "natural": _as_batch("natural", natural),
            "evolved": _as_batch("evolved", evolved)}
    n_nat = int(sets["natural"].shape[0])
    natural_info = {"name": natural_name or "given images", "n_images": n_nat,
                    "warning": small_set_warning(natural_name or "given images", n_nat)}
    device = getattr(unit, "device", None)
    acts, best, images = {}, {}, {}
    for kind, imgs in sets.items():
        imgs = imgs.to(device) if device is not None else imgs
        r = measure_images(unit, imgs, batch_size=batch_size, clean_only=use_clean).trials[0]
        i = int(np.nanargmax(r))
        acts[kind], best[kind], images[kind] = float(r[i]), i, imgs[i].detach().cpu()
    ref = acts["natural"]
    rel = {k: (v / ref if ref > 0 else float("nan")) for k, v in acts.items()}
    result = EvolutionComparison(acts, rel, best, images, table.row(best["parametric"]) if table is not None else None,
                                 unit.describe() if hasattr(unit, "describe") else {"type": type(unit).__name__},
                                 evolved_choice=choice, natural_set=natural_info)
    if out is not None:
        result.save(out)
    return result
