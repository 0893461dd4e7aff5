"""Units <-> descriptions: the one place a unit is built from words, and words from a unit.

Three forms of the same unit, used by the command line, run folders, maps, surveys and sweeps:

* arguments: ``build_unit("resnet20-cifar10", "layer3", 5, "center", "poisson:5", seed=0)``
  (what ``landscape evolve --model --layer --channel --position --noise`` passes);
* a run's ``meta["unit"]`` (``unit.describe()``: ``{"type": "CNNUnit", "model", "layer",
  "channel", "position", "noise": {...}}``), read back by :func:`unit_from_description`;
* a short id, ``MODEL/LAYER/CHANNEL@POSITION`` (:func:`unit_id`, :func:`parse_unit_id`), naming a
  unit in sweep tables whatever its noise.

Positions: ``"center"`` (the spatial centre of a convolutional map), ``"mean"`` (average over
space) or ``"y,x"``. Noise: :data:`NOISE_SYNTAX`. Only CNN units of zoo classifiers can be
built from words; anything else raises and says so.
"""

from __future__ import annotations

from typing import Any

from .base import Unit

#: the positions a description may name
POSITION_SYNTAX = "'center', 'mean' (average over space) or 'y,x'"


def parse_position(text: Any) -> Any:
    """A position as :class:`~landscape.units.CNNUnit` takes it: ``"center"``, None (mean) or ``(y, x)``.

    Accepts the command line's text (``"center"``, ``"mean"``, ``"y,x"``) and a description's
    value (``"center"``, None, ``[y, x]``).
    """
    if text is None or text in ("mean", "none", "None"):
        return None
    if text == "center":
        return "center"
    if isinstance(text, (list, tuple)) and len(text) == 2 and all(isinstance(v, int) for v in text):
        return tuple(int(v) for v in text)
    if isinstance(text, str):
        try:
            y, x = (int(v) for v in text.split(","))
            return (y, x)
        except ValueError:
            pass
    raise ValueError(f"position must be {POSITION_SYNTAX}, got {text!r}")


def build_unit(model_name: str, layer: str, channel: int, position: Any = "center", noise: str = "none",
               seed: int = 0, device: Any = None, model: Any = None, generator: Any = None) -> Unit:
    """The unit a command line describes (CNN unit, optionally wrapped in a noise model).

    Parameters
    ----------
    model_name : str
        Zoo classifier.
    layer : str ; channel : int ; position : see :func:`parse_position`
    noise : str
        :data:`NOISE_SYNTAX`; the noise generator is seeded with ``seed + 1``.
    device : str, torch.device or None
    model : torch module or None
        An already loaded zoo classifier to use instead of loading ``model_name`` (sweep workers
        keep one per process).
    generator : Generator or None
        Supplies the prior images that ``poisson-spikes:...`` noise is calibrated on
        (:func:`landscape.units.calibrated_poisson`).
    """
    from .cnn import CNNUnit
    from .noise import GaussianNoise, PoissonNoise, calibrated_poisson

    try:
        pos = parse_position(position)
    except ValueError:
        raise ValueError(f"--position must be 'center', 'mean' or 'y,x', got {position!r}") from None
    nz = parse_noise(noise)
    if nz["kind"] == "poisson-spikes" and generator is None:
        raise ValueError(f"noise {noise!r} is calibrated on the generator's prior images: pass the generator")
    if model is None:
        from .. import zoo

        model = zoo.load(model_name, device=device)
    unit = CNNUnit(model, layer, channel, position=pos)
    if nz["kind"] == "none":
        return unit
    if nz["kind"] == "poisson":
        return PoissonNoise(unit, scale=nz["scale"], reps=nz["reps"], seed=seed + 1)
    if nz["kind"] == "poisson-spikes":
        return calibrated_poisson(unit, generator, nz["spikes"], n_prior=nz["n_prior"], reps=nz["reps"],
                                  seed=seed + 1)
    return GaussianNoise(unit, sigma=nz["sigma"], seed=seed + 1)


def unit_from_description(desc: dict, device: Any = None, *, noise: bool = True, model: Any = None) -> Unit:
    """Rebuild a unit from its ``describe()`` (a run's ``meta["unit"]``).

    Parameters
    ----------
    desc : dict
        ``{"type": "CNNUnit", "model", "layer", "channel", "position"[, "noise"]}``, or
        ``{"type": "UnitCombination", "terms": [{"weight", "unit": desc}, ...]}`` (units combined by
        their algebra, ``a - 0.5 * b``), whose terms are rebuilt in turn, each zoo model loaded once.
    device : where to load the network
    noise : bool
        Rebuild the noise model too (its recorded seed and, for a calibrated one, its scale and
        calibration); False gives the clean unit.
    model : torch module or None
        An already loaded classifier (else the zoo loads ``desc["model"]``).
    """
    from .. import zoo
    from .base import UnitCombination
    from .cnn import CNNUnit
    from .noise import GaussianNoise, PoissonNoise

    desc = desc or {}
    if desc.get("type") == "UnitCombination":
        terms = desc.get("terms")
        if not isinstance(terms, list) or not terms or not all(
                isinstance(t, dict) and set(t) == {"weight", "unit"} for t in terms):
            raise ValueError(f"a UnitCombination description needs 'terms': a list of {{'weight', 'unit'}}, got {desc}")
        names = {(t["unit"] or {}).get("model") for t in terms} - {None}
        if model is not None and len(names) > 1:
            raise ValueError(f"the combination's terms read {len(names)} models ({', '.join(sorted(names))}); "
                             "model= can stand for one: pass model=None to load each from the zoo")
        models: dict[str, Any] = {}  # each zoo model once, shared by the terms that read it

        def term(t: dict) -> tuple[float, Unit]:
            inner = t["unit"] or {}
            name = inner.get("model")
            if model is None and name in zoo.names("classifier") and name not in models:
                models[name] = zoo.load(name, device=device)
            return float(t["weight"]), unit_from_description(inner, device, noise=noise,
                                                             model=model if model is not None else models.get(name))

        return UnitCombination([term(t) for t in terms])
    if desc.get("type") != "CNNUnit" or desc.get("model") not in zoo.names("classifier"):
        raise ValueError(f"the run's unit {desc} is not a CNN unit of a zoo classifier; build it "
                         "yourself and call landscape.maps.map_from_run(run, generator, unit)")
    missing = [k for k in ("layer", "channel") if k not in desc]
    if missing:
        raise ValueError(f"the run's unit description lacks {missing}: {desc}")
    net = model if model is not None else zoo.load(desc["model"], device=device)
    unit = CNNUnit(net, desc["layer"], int(desc["channel"]), position=parse_position(desc.get("position", "center")))
    spec = desc.get("noise")
    if noise and spec:
        seed = spec.get("seed")
        if spec.get("type") == "poisson":
            unit = PoissonNoise(unit, scale=spec["scale"], reps=spec.get("reps", 1), seed=seed,
                                calibration=spec.get("calibration"))
        elif spec.get("type") == "gaussian":
            unit = GaussianNoise(unit, sigma=spec["sigma"], seed=seed)
        else:
            raise ValueError(f"unknown noise model {spec} in the run's unit; valid types: poisson, gaussian")
    return unit


def unit_id(desc: dict) -> str:
    """``MODEL/LAYER/CHANNEL@POSITION`` of a description (a task config, a table row or ``describe()``)."""
    pos = desc.get("position", "center")
    if pos is None:
        pos = "mean"
    elif isinstance(pos, (list, tuple)):
        pos = ",".join(str(int(v)) for v in pos)
    return f"{desc['model']}/{desc['layer']}/{desc['channel']}@{pos}"


def parse_unit_id(text: str) -> dict:
    """The inverse of :func:`unit_id`: ``{"model", "layer", "channel", "position"}`` (position as text)."""
    head, _, pos = str(text).partition("@")
    parts = head.split("/")
    if len(parts) < 3 or not parts[-1].isdigit():
        raise ValueError(f"a unit id is MODEL/LAYER/CHANNEL[@POSITION] with POSITION {POSITION_SYNTAX}, got {text!r}")
    position = pos or "center"
    parse_position(position)
    return {"model": parts[0], "layer": "/".join(parts[1:-1]), "channel": int(parts[-1]), "position": position}


#: the most presentations a noise model averages per image, and prior images a calibration renders
MAX_NOISE_REPS = 10_000
MAX_PRIOR_IMAGES = 100_000

NOISE_SYNTAX = ("none, poisson:SCALE[:REPS] (XDream's raw scale: SCALE > 0 spikes per unit of activation, "
                "1 <= REPS <= 10000), poisson-spikes:SPIKES[:REPS[:N]] (SPIKES > 0 expected spikes for the best of N prior "
                "images, N <= 100000, default 100) or gaussian:SIGMA (SIGMA >= 0)")


def parse_noise(text: str) -> dict[str, Any]:
    """Parse a noise description (:data:`NOISE_SYNTAX`).

    Returns
    -------
    dict
        ``{"kind": "none"}``, ``{"kind": "poisson", "scale", "reps"}``, ``{"kind": "poisson-spikes",
        "spikes", "reps", "n_prior"}`` or ``{"kind": "gaussian", "sigma"}``.

    Raises
    ------
    ValueError
        Naming the bad text and the valid forms.
    """
    kind, *params = str(text).split(":")
    # inf and nan are not noise levels (float() reads them, and inf > 0)
    if any(p.strip().lower().lstrip("+-") in ("inf", "infinity", "nan") for p in params):
        raise ValueError(f"noise must be {NOISE_SYNTAX}, with finite numbers; got {text!r}")
    try:
        if kind == "none" and not params:
            return {"kind": "none"}
        if kind == "poisson" and 1 <= len(params) <= 2:
            scale, reps = float(params[0]), int(params[1]) if len(params) > 1 else 1
            if 0 < scale < float("inf") and 1 <= reps <= MAX_NOISE_REPS:
                return {"kind": "poisson", "scale": scale, "reps": reps}
        if kind == "poisson" and not params:  # "poisson" alone: XDream's raw rate
            return {"kind": "poisson", "scale": 1.0, "reps": 1}
        if kind == "poisson-spikes" and 1 <= len(params) <= 3:
            spikes = float(params[0])
            reps = int(params[1]) if len(params) > 1 else 1
            n = int(params[2]) if len(params) > 2 else 100
            if 0 < spikes < float("inf") and 1 <= reps <= MAX_NOISE_REPS and 1 <= n <= MAX_PRIOR_IMAGES:
                return {"kind": "poisson-spikes", "spikes": spikes, "reps": reps, "n_prior": n}
        if kind == "gaussian" and len(params) <= 1:
            sigma = float(params[0]) if params else 0.2
            if 0 <= sigma < float("inf"):
                return {"kind": "gaussian", "sigma": sigma}
    except ValueError:
        pass
    raise ValueError(f"noise must be {NOISE_SYNTAX}; got {text!r}")
