"""Rebuild the generator and unit a run used, from its ``meta.json``.

The run format (``landscape-run/1``) stores ``meta["generator"]`` (``Generator.describe()``:
``name``, ...) and ``meta["unit"]`` (``CNNUnit.describe()``: ``model``, ``layer``,
``channel``, ``position``, plus ``noise`` for a noise-wrapped unit). Only zoo generators
and CNN units of zoo classifiers can be rebuilt; anything else raises and says so.
"""

from __future__ import annotations

from typing import Any


def load_run_models(meta: dict, device: Any = None, *, noise: bool = True) -> tuple[Any, Any]:
    """The generator and unit described in a run's meta.

    Parameters
    ----------
    meta : dict
        ``Run.meta`` (the run folder's ``meta.json``).
    device : str, torch.device or None
        Where to load the networks (CPU when None).
    noise : bool
        Rebuild the run's noise model too (maps then hold repetitions and standard
        errors); False maps the clean unit.

    Returns
    -------
    generator : landscape.generators.Generator
    unit : landscape.units.Unit
    """
    from landscape import zoo
    from landscape.units import CNNUnit, GaussianNoise, PoissonNoise

    gen_meta = meta.get("generator") or {}
    unit_meta = meta.get("unit") or {}
    gname = gen_meta.get("name")
    if gname not in zoo.names("generator"):
        raise ValueError(f"the run's generator {gname!r} is not a zoo generator "
                         f"({', '.join(zoo.names('generator'))}); build it yourself and call "
                         "landscape.maps.map_from_run(run, generator, unit)")
    if unit_meta.get("type") != "CNNUnit" or unit_meta.get("model") not in zoo.names("classifier"):
        raise ValueError(f"the run's unit {unit_meta} is not a CNN unit of a zoo classifier; build it "
                         "yourself and call landscape.maps.map_from_run(run, generator, unit)")
    missing = [k for k in ("layer", "channel") if k not in unit_meta]
    if missing:
        raise ValueError(f"the run's unit description lacks {missing}: {unit_meta}")
    position = unit_meta.get("position", "center")
    if isinstance(position, list):
        position = tuple(position)
    generator = zoo.load(gname, device=device)
    unit = CNNUnit(zoo.load(unit_meta["model"], device=device), unit_meta["layer"], int(unit_meta["channel"]),
                   position=position)
    spec = unit_meta.get("noise")
    if noise and spec:
        seed = spec.get("seed")
        if spec.get("type") == "poisson":
            unit = PoissonNoise(unit, scale=spec["scale"], reps=spec.get("reps", 1), seed=seed)
        elif spec.get("type") == "gaussian":
            unit = GaussianNoise(unit, sigma=spec["sigma"], seed=seed)
        else:
            raise ValueError(f"unknown noise model {spec} in the run's unit; valid types: poisson, gaussian")
    return generator, unit
