"""Sweep specs: a TOML file naming what to evolve, checked in full before any task starts.

Schema
------
``[sweep]``
    ``generator`` (str) or ``generators`` (list of zoo generator names), default
    ``"digiface-dcgan64"``; ``budget`` (int > 0, image evaluations per run, required);
    ``seeds`` (list of distinct ints, or an int n meaning 0..n-1; default ``[0]``);
    ``noise`` (list of ``"none"``, ``"poisson:SCALE[:REPS]"``, ``"gaussian:SIGMA"``; default
    ``["none"]``); ``init`` (``"prior"`` or absent: each optimizer's own start);
    ``references`` (the reference set of XDream's relative activation: ``"default"``, each model's
    domain default, ``"cifar"`` for CIFAR networks and ``"imagenet+photos"`` for ImageNet ones;
    a set of :data:`landscape.references.REFERENCE_SETS`, joined with ``+``; or a folder);
    ``normalise`` (``"unit-noise"``: divide by the best any optimizer reached on the unit at
    that noise level, the default; ``"unit"``: across noise levels too); ``reference_optimizer``
    (label the summary's ratio divides by, default ``"ga"`` when there is one); ``device``
    (``"auto"``: cuda where the worker has it, else cpu); ``torch_threads`` (per task, default 1);
    ``workers`` (local cluster size, default the number of cores); ``out`` (default output folder).
``[[units]]`` (one or more)
    ``model`` (zoo classifier), ``layers`` (list; or ``layer``), ``channels`` (list of ints,
    ``"random N"`` or ``"all"``), ``position`` (``"center"``, ``"mean"`` or ``"y,x"``;
    default ``"center"``), ``channel_seed`` (seeds ``"random N"``; default 0).
``[optimizers.LABEL]`` (one or more)
    ``algorithm`` (default: LABEL) and any settings of that optimizer, e.g. ``population = 20``.
``[map]`` (optional)
    After a unit's evolutions at one noise level, map the unit around the best of them
    (:func:`landscape.maps.map_from_run`): ``axes`` (``"pc"``, ``"pc:I,J,K"``,
    ``"pc1-random"`` or ``"random"``; default ``"pc"``), ``grid`` (``"sphere:N"``,
    ``"sphere:N:LO:HI"``, ``"plane:N:LO:HI"``; default ``"sphere:21"``), ``reps``
    (repetitions per image of a noisy unit; default 5; noise-free units are measured once),
    ``seed`` (random axes; default 0). The map keeps the run's noise model.
``[topology]`` (optional, needs ``[map]``)
    Topological signature of each map (:class:`landscape.topology.TopologySignature`):
    ``levels`` (default 21), ``connectivity`` (8 or 4), ``threshold`` (0.1), ``sigma`` (0),
    ``contour_convention`` (``"project"``, the default, or ``"reference"``: the published recipe).

Every field is checked, models included (layer names, channel ranges, optimizer settings),
by :func:`plan`; a bad field raises :class:`SpecError` naming it.
"""

from __future__ import annotations

import copy
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tasks import TASK_FORMAT, Task

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

NORMALISE = ("unit-noise", "unit")
SECTIONS = ("sweep", "units", "optimizers", "map", "topology")
SWEEP_KEYS = ("generator", "generators", "budget", "seeds", "noise", "init", "references", "normalise",
              "reference_optimizer", "device", "torch_threads", "workers", "out")
UNIT_KEYS = ("model", "layer", "layers", "channels", "position", "channel_seed")
MAP_KEYS = ("axes", "grid", "reps", "seed")
TOPOLOGY_KEYS = ("levels", "connectivity", "threshold", "sigma", "contour_convention")
MAP_AXES = ("pc", "pc1-random", "random")
MAP_FORMAT = "landscape-sweep-map/1"
#: the most evolution tasks a spec may plan (a bigger grid is almost surely a typo, and planning it
#: alone would take minutes and gigabytes)
MAX_TASKS = 100_000
_RANDOM = re.compile(r"^random\s+(\d+)$")


class SpecError(ValueError):
    """A sweep spec is malformed; the message names the field and the valid choices."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"spec field {field_name!r}: {message}")


@dataclass(frozen=True)
class UnitGroup:
    """One ``[[units]]`` block: a model, its layers, which channels, where to read them."""

    model: str
    layers: tuple[str, ...]
    channels: Any  # tuple of ints, ("random", n) or "all"
    position: str
    channel_seed: int
    index: int  # position in the spec, for error messages


@dataclass(frozen=True)
class OptimizerSpec:
    label: str
    algorithm: str
    settings: dict


@dataclass
class SweepSpec:
    """A parsed (not yet model-checked) sweep spec; build with :func:`load_spec`."""

    generators: list[str]
    budget: int
    seeds: list[int]
    noise: list[str]
    units: list[UnitGroup]
    optimizers: list[OptimizerSpec]
    init: str | None = None
    references: str = "default"
    normalise: str = "unit-noise"
    reference_optimizer: str | None = None
    device: str = "auto"
    torch_threads: int = 1
    workers: int | None = None
    out: str | None = None
    map: dict | None = None
    topology: dict | None = None
    source: dict = field(default_factory=dict)

    @property
    def reference_label(self) -> str | None:
        """Label the summary's ratio divides by (``None``: no ratio column)."""
        if self.reference_optimizer is not None:
            return self.reference_optimizer
        return "ga" if any(o.label == "ga" for o in self.optimizers) else None


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------
def read_toml(source: str | os.PathLike) -> dict:
    """Parse a TOML file (a path) or TOML text (a string holding a newline or '=')."""
    text: str
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source and "=" not in source):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"sweep spec {path} does not exist")
        text = path.read_text()
    else:
        text = str(source)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError("<toml>", f"not valid TOML: {e}") from None


def load_spec(source: Any) -> SweepSpec:
    """Parse and check the structure of a spec (no model is loaded here; see :func:`plan`).

    Parameters
    ----------
    source : path to a .toml file, TOML text, a dict of the same structure, or a SweepSpec
    """
    if isinstance(source, SweepSpec):
        return source
    raw = copy.deepcopy(source) if isinstance(source, dict) else read_toml(source)
    _no_unknown(raw, SECTIONS, "")
    s = raw.get("sweep")
    if not isinstance(s, dict):
        raise SpecError("sweep", "missing [sweep] table (it holds budget, seeds, noise, ...)")
    _no_unknown(s, SWEEP_KEYS, "sweep.")

    if "generator" in s and "generators" in s:
        raise SpecError("sweep.generators", "give either 'generator' or 'generators', not both")
    gens = s.get("generators", s.get("generator", "digiface-dcgan64"))
    gens = [gens] if isinstance(gens, str) else gens
    _list_of(gens, str, "sweep.generators", "zoo generator names")

    if "budget" not in s:
        raise SpecError("sweep.budget", "missing: the number of image evaluations per run")
    budget = s["budget"]
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise SpecError("sweep.budget", f"must be a positive integer number of image evaluations, got {budget!r}")

    seeds = s.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise SpecError("sweep.seeds", f"an integer n means seeds 0..n-1 and must be >= 1, got {seeds}")
        if seeds > MAX_TASKS:
            raise SpecError("sweep.seeds", f"{seeds} seeds: a sweep plans at most {MAX_TASKS} tasks")
        seeds = list(range(seeds))
    _list_of(seeds, int, "sweep.seeds", "integers (or one integer n for 0..n-1)")
    if len(set(seeds)) != len(seeds):
        raise SpecError("sweep.seeds", f"seeds repeat: {seeds}")

    noise = s.get("noise", ["none"])
    noise = [noise] if isinstance(noise, str) else noise
    _list_of(noise, str, "sweep.noise", "noise models: none, poisson:SCALE[:REPS], gaussian:SIGMA")
    for i, n in enumerate(noise):
        _check_noise(n, f"sweep.noise[{i}]")
    if len(set(noise)) != len(noise):
        raise SpecError("sweep.noise", f"noise levels repeat: {noise}")

    init = s.get("init")
    if init not in (None, "prior"):
        raise SpecError("sweep.init", f"must be 'prior' or absent (each optimizer's own start), got {init!r}")
    refs = s.get("references", "default")
    if not isinstance(refs, str):
        raise SpecError("sweep.references", f"must be 'default', a named set or a folder path, got {refs!r}")
    if Path(refs).is_dir():
        refs = str(Path(refs).resolve())
    elif refs != "default":
        from ..references import validate_reference_source

        try:
            validate_reference_source(refs)
        except (ValueError, FileNotFoundError, RuntimeError) as e:
            raise SpecError("sweep.references", f"{e}; or 'default' (each model's domain set)") from None
    normalise = s.get("normalise", "unit-noise")
    if normalise not in NORMALISE:
        raise SpecError("sweep.normalise", f"must be one of {', '.join(NORMALISE)}, got {normalise!r}")
    device = s.get("device", "auto")
    if not isinstance(device, str) or not re.match(r"^(auto|cpu|cuda(:\d+)?|mps)$", device):
        raise SpecError("sweep.device", f"must be auto, cpu, cuda, cuda:N or mps, got {device!r}")
    threads = s.get("torch_threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SpecError("sweep.torch_threads", f"must be a positive integer, got {threads!r}")
    workers = s.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SpecError("sweep.workers", f"must be a positive integer, got {workers!r}")
    out = s.get("out")
    if out is not None and not isinstance(out, str):
        raise SpecError("sweep.out", f"must be a folder path, got {out!r}")

    units = raw.get("units")
    if isinstance(units, dict):
        units = [units]
    if not isinstance(units, list) or not units:
        raise SpecError("units", "missing: add one or more [[units]] tables (model, layers, channels)")
    groups = [_unit_group(u, i) for i, u in enumerate(units)]

    opts = raw.get("optimizers")
    if not isinstance(opts, dict) or not opts:
        raise SpecError("optimizers", "missing: add one or more [optimizers.LABEL] tables, e.g. [optimizers.ga]")
    optimizers = []
    for label, table in opts.items():
        if not isinstance(table, dict):
            raise SpecError(f"optimizers.{label}", f"must be a table of settings, got {table!r}")
        settings = dict(table)
        algorithm = settings.pop("algorithm", label)
        if not isinstance(algorithm, str):
            raise SpecError(f"optimizers.{label}.algorithm", f"must be an optimizer name, got {algorithm!r}")
        for reserved in ("seed", "device", "dim"):
            if reserved in settings:
                raise SpecError(f"optimizers.{label}.{reserved}",
                                "is set by the sweep (seeds come from sweep.seeds, device from sweep.device)")
        optimizers.append(OptimizerSpec(str(label), algorithm, settings))

    ref = s.get("reference_optimizer")
    labels = [o.label for o in optimizers]
    if ref is not None and ref not in labels:
        raise SpecError("sweep.reference_optimizer", f"{ref!r} is not an optimizer label of this spec; "
                                                     f"labels: {', '.join(labels)}")

    # the tasks are at least this many (each unit group has one layer and one channel or more)
    least = len(gens) * len(seeds) * len(noise) * len(optimizers) * sum(len(g.layers) * _least_channels(g)
                                                                         for g in groups)
    if least > MAX_TASKS:
        raise SpecError("sweep", f"plans at least {least} tasks (generators x units x noise x optimizers x seeds); "
                                 f"at most {MAX_TASKS}: split the sweep")
    map_ = _map_settings(raw.get("map"))
    topo = _topology_settings(raw.get("topology"), map_)

    return SweepSpec(generators=list(gens), budget=int(budget), seeds=list(seeds), noise=list(noise), units=groups,
                     optimizers=optimizers, init=init, references=refs, normalise=normalise,
                     reference_optimizer=ref, device=device, torch_threads=threads, workers=workers, out=out,
                     map=map_, topology=topo, source=raw)


def _least_channels(g: UnitGroup) -> int:
    if g.channels == "all":
        return 1
    if isinstance(g.channels, tuple) and g.channels[:1] == ("random",):
        return int(g.channels[1])
    return len(g.channels)


def _map_settings(m: Any) -> dict | None:
    if m is None:
        return None
    if not isinstance(m, dict):
        raise SpecError("map", f"must be a table, got {m!r}")
    _no_unknown(m, MAP_KEYS, "map.")
    out = {"axes": m.get("axes", "pc"), "grid": m.get("grid", "sphere:21"), "reps": m.get("reps"),
           "seed": m.get("seed", 0)}
    from ..maps.grids import parse_grid

    try:
        grid = parse_grid(out["grid"]) if isinstance(out["grid"], str) else None
    except ValueError as e:
        raise SpecError("map.grid", str(e)) from None
    if grid is None:
        raise SpecError("map.grid", f"must be a grid request such as 'sphere:21' or 'plane:21:-3:3', got {out['grid']!r}")
    axes = out["axes"]
    kind = axes.split(":", 1)[0] if isinstance(axes, str) else None
    if kind == "hessian":
        raise SpecError("map.axes", "Hessian axes need a Hessian per unit, which a sweep does not compute; "
                                    "use 'pc', 'pc:I,J,K', 'pc1-random' or 'random', and map Hessian axes with "
                                    "`landscape map` on a run of the sweep")
    if kind not in MAP_AXES or (kind != "pc" and ":" in axes):
        raise SpecError("map.axes", f"must be 'pc', 'pc:I,J[,K]' (1-based PCs), 'pc1-random' or 'random', got {axes!r}")
    if ":" in axes:
        try:
            idx = [int(v) for v in axes.split(":", 1)[1].split(",")]
        except ValueError:
            idx = []
        need = 3 if grid.kind == "sphere" else 2
        if len(idx) != need or min(idx) < 1:
            raise SpecError("map.axes", f"a {grid.kind} map needs exactly {need} PC numbers (1-based), got {axes!r}")
    reps = out["reps"]
    if reps is not None and (isinstance(reps, bool) or not isinstance(reps, int) or reps < 1):
        raise SpecError("map.reps", f"must be a positive integer (repetitions per image of a noisy unit), got {reps!r}")
    if isinstance(out["seed"], bool) or not isinstance(out["seed"], int):
        raise SpecError("map.seed", f"must be an integer, got {out['seed']!r}")
    return out


def _topology_settings(t: Any, map_: dict | None) -> dict | None:
    if t is None:
        return None
    if map_ is None:
        raise SpecError("topology", "needs a [map] table: the topology is computed on each unit's map")
    if not isinstance(t, dict):
        raise SpecError("topology", f"must be a table, got {t!r}")
    _no_unknown(t, TOPOLOGY_KEYS, "topology.")
    out = {"levels": t.get("levels", 21), "connectivity": t.get("connectivity", 8),
           "threshold": t.get("threshold", 0.1), "sigma": t.get("sigma", 0.0)}
    if "contour_convention" in t:  # only when given, so the task keys of earlier specs stay as they were
        if t["contour_convention"] not in ("project", "reference"):
            raise SpecError("topology.contour_convention", f"must be 'project' or 'reference', "
                                                           f"got {t['contour_convention']!r}")
        out["contour_convention"] = t["contour_convention"]
    if isinstance(out["levels"], bool) or not isinstance(out["levels"], int) or out["levels"] < 2:
        raise SpecError("topology.levels", f"must be an integer >= 2, got {out['levels']!r}")
    if out["connectivity"] not in (4, 8):
        raise SpecError("topology.connectivity", f"must be 4 or 8, got {out['connectivity']!r}")
    for k in ("threshold", "sigma"):
        v = out[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise SpecError(f"topology.{k}", f"must be a number >= 0, got {v!r}")
        out[k] = float(v)
    return out


def _no_unknown(table: dict, valid: tuple[str, ...], prefix: str) -> None:
    for k in table:
        if k not in valid:
            raise SpecError(f"{prefix}{k}", f"unknown field; valid fields here: {', '.join(valid)}")


def _list_of(x: Any, kind: type, name: str, what: str) -> None:
    if not isinstance(x, list) or not x or not all(isinstance(v, kind) and not isinstance(v, bool) for v in x):
        raise SpecError(name, f"must be a non-empty list of {what}, got {x!r}")


def _reference_source(references: str, model: str, name: str) -> str:
    """The reference set a model's tasks use (the model's domain default for "default"), loadable here."""
    from ..references import load_reference_set, resolve_reference_source

    try:
        src = resolve_reference_source(references, model)
        load_reference_set(src, size=8)  # missing packages or files fail here, before any task runs
    except (ValueError, ImportError, FileNotFoundError, RuntimeError) as e:
        raise SpecError("sweep.references" if references != "default" else name, str(e)) from None
    return src


def _check_noise(text: str, name: str) -> None:
    from ..units.spec import NOISE_SYNTAX, parse_noise

    try:
        parse_noise(text)
    except ValueError:
        raise SpecError(name, f"{text!r} is not a noise model; valid: {NOISE_SYNTAX}") from None


def _unit_group(u: Any, i: int) -> UnitGroup:
    p = f"units[{i}]"
    if not isinstance(u, dict):
        raise SpecError(p, f"must be a table, got {u!r}")
    _no_unknown(u, UNIT_KEYS, p + ".")
    model = u.get("model")
    if not isinstance(model, str):
        raise SpecError(f"{p}.model", f"missing or not a zoo classifier name: {model!r}")
    if "layer" in u and "layers" in u:
        raise SpecError(f"{p}.layers", "give either 'layer' or 'layers', not both")
    layers = u.get("layers", u.get("layer"))
    layers = [layers] if isinstance(layers, str) else layers
    _list_of(layers, str, f"{p}.layers", "layer names (see `landscape layers MODEL`)")
    ch = u.get("channels")
    if isinstance(ch, str):
        m = _RANDOM.match(ch.strip())
        if ch.strip() == "all":
            channels: Any = "all"
        elif m and int(m.group(1)) >= 1:
            channels = ("random", int(m.group(1)))
        else:
            raise SpecError(f"{p}.channels", f"must be a list of channel indices, 'random N' (N >= 1) or 'all', "
                                             f"got {ch!r}")
    else:
        _list_of(ch, int, f"{p}.channels", "channel indices, 'random N' or 'all'")
        if any(c < 0 for c in ch) or len(set(ch)) != len(ch):
            raise SpecError(f"{p}.channels", f"channel indices must be distinct and >= 0, got {ch!r}")
        channels = tuple(ch)
    position = u.get("position", "center")
    if not isinstance(position, str) or not re.match(r"^(center|mean|\d+,\d+)$", position.replace(" ", "")):
        raise SpecError(f"{p}.position", f"must be 'center', 'mean' or 'y,x', got {position!r}")
    seed = u.get("channel_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SpecError(f"{p}.channel_seed", f"must be an integer, got {seed!r}")
    return UnitGroup(model, tuple(layers), channels, position.replace(" ", ""), seed, i)


# --------------------------------------------------------------------------------------
# checking against the zoo, and expanding into tasks
# --------------------------------------------------------------------------------------
def random_channels(n_channels: int, n: int, seed: int, model: str, layer: str) -> list[int]:
    """``n`` distinct channels of ``range(n_channels)``, the same for the same (seed, model, layer)."""
    import numpy as np

    rng = np.random.default_rng([seed, zlib.crc32(f"{model}/{layer}".encode())])
    return sorted(int(c) for c in rng.choice(n_channels, size=n, replace=False))


def plan(spec: SweepSpec) -> list[Task]:
    """Check every field of ``spec`` against the zoo and the optimizers, and list its tasks.

    Loads each generator and model once in this process (to check layer names, channel
    ranges and optimizer settings); nothing is evolved.

    Returns
    -------
    tasks : list of Task, in spec order (generator, unit, noise, optimizer, seed)
    """
    import torch

    threads = torch.get_num_threads()
    # one-image probes gain nothing from threads, and on a busy machine OpenMP's spinning
    # threads make them ten times slower
    torch.set_num_threads(1)
    try:
        return _plan(spec)
    finally:
        torch.set_num_threads(threads)


def _plan(spec: SweepSpec) -> list[Task]:
    from .. import zoo
    from ..units.spec import build_unit
    from ..units import layers as layer_names
    from ..optim.checks import check_first_generations
    from .optimizers import make_optimizer, optimizer_names

    ref_sets: dict[str, str] = {}
    for i, grp in enumerate(spec.units):
        if grp.model not in ref_sets:
            ref_sets[grp.model] = _reference_source(spec.references, grp.model, f"units[{i}].model")
    gen_dims = {}
    for i, g in enumerate(spec.generators):
        if g not in zoo.names("generator"):
            raise SpecError(f"sweep.generators[{i}]", f"unknown generator {g!r}; zoo generators: "
                                                      f"{', '.join(zoo.names('generator'))}")
        try:
            gen_dims[g] = zoo.load(g).dim
        except zoo.ZooError as e:
            raise SpecError(f"sweep.generators[{i}]", str(e)) from None

    valid_opts = optimizer_names()
    for o in spec.optimizers:
        if o.algorithm not in valid_opts:
            field_name = f"optimizers.{o.label}" + (".algorithm" if o.algorithm != o.label else "")
            raise SpecError(field_name, f"unknown optimizer {o.algorithm!r}; valid optimizers: {', '.join(valid_opts)}")
        for dim in sorted(set(gen_dims.values())):
            try:
                check_first_generations(make_optimizer(o.algorithm, dim, seed=0, device="cpu", settings=o.settings),
                                        o.settings)
            except (ValueError, TypeError) as e:
                raise SpecError(f"optimizers.{o.label}", str(e)) from None

    units: list[tuple[str, str, int, str]] = []
    for grp in spec.units:
        p = f"units[{grp.index}]"
        if grp.model not in zoo.names("classifier"):
            raise SpecError(f"{p}.model", f"unknown model {grp.model!r}; zoo classifiers: "
                                          f"{', '.join(zoo.names('classifier'))}")
        try:
            model = zoo.load(grp.model)
        except zoo.ZooError as e:
            raise SpecError(f"{p}.model", str(e)) from None
        valid_layers = layer_names(model)
        for j, layer in enumerate(grp.layers):
            if layer not in valid_layers:
                shown = ", ".join(valid_layers[:80]) + (", ..." if len(valid_layers) > 80 else "")
                raise SpecError(f"{p}.layers[{j}]", f"unknown layer {layer!r} for model {grp.model!r}; "
                                                    f"valid layers: {shown}")
            try:
                probe = build_unit(grp.model, layer, 0, grp.position, "none", 0, "cpu", model=model)
            except ValueError as e:
                raise SpecError(f"{p}.position", str(e)) from None
            n_ch = probe.n_channels
            if grp.channels == "all":
                chans = list(range(n_ch))
            elif isinstance(grp.channels, tuple) and grp.channels and grp.channels[0] == "random":
                if grp.channels[1] > n_ch:
                    raise SpecError(f"{p}.channels", f"'random {grp.channels[1]}' asks for more channels than "
                                                     f"layer {layer!r} has ({n_ch})")
                chans = random_channels(n_ch, grp.channels[1], grp.channel_seed, grp.model, layer)
            else:
                chans = list(grp.channels)
                bad = [c for c in chans if c >= n_ch]
                if bad:
                    raise SpecError(f"{p}.channels", f"channels {bad} are out of range for layer {layer!r} of "
                                                     f"{grp.model!r}, which has {n_ch} channels (valid: 0 to {n_ch - 1})")
            units.extend((grp.model, layer, c, grp.position) for c in chans)

    # keys must be unique: a unit named twice would otherwise run (and count) twice
    seen: set[tuple] = set()
    for u in units:
        if u in seen:
            raise SpecError("units", f"unit {u[0]}/{u[1]}/{u[2]}@{u[3]} is listed more than once")
        seen.add(u)

    n_tasks = len(spec.generators) * len(units) * len(spec.noise) * len(spec.optimizers) * len(spec.seeds)
    if n_tasks > MAX_TASKS:
        raise SpecError("units", f"the spec plans {n_tasks} tasks ({len(units)} units); at most {MAX_TASKS}: "
                                 "split the sweep")
    tasks = []
    for g in spec.generators:
        for model, layer, channel, position in units:
            for noise in spec.noise:
                for o in spec.optimizers:
                    for seed in spec.seeds:
                        tasks.append(Task.from_config({
                            "format": TASK_FORMAT, "generator": g, "model": model, "layer": layer,
                            "channel": channel, "position": position, "noise": noise,
                            "optimizer": {"label": o.label, "algorithm": o.algorithm, "settings": o.settings},
                            "seed": seed, "budget": spec.budget, "init": spec.init,
                            "references": ref_sets[model]}))
    return tasks


def plan_maps(spec: SweepSpec, tasks: list[Task]) -> list[Task]:
    """The per-unit map tasks of a spec with a [map] table (empty list without one).

    One per (generator, unit, noise), in order of first appearance. Its config holds the unit,
    the map and topology settings, and the keys of the unit's evolution tasks at that noise
    level: it maps the best of them.
    """
    if spec.map is None:
        return []
    groups: dict[tuple, list[Task]] = {}
    for t in tasks:
        c = t.config
        groups.setdefault((c["generator"], c["model"], c["layer"], c["channel"], c["position"], c["noise"]),
                          []).append(t)
    return [Task.from_config({"format": MAP_FORMAT, "generator": g, "model": model, "layer": layer,
                              "channel": channel, "position": position, "noise": noise, "map": spec.map,
                              "topology": spec.topology, "tasks": [t.key for t in ts]})
            for (g, model, layer, channel, position, noise), ts in groups.items()]


def spec_to_dict(spec: SweepSpec) -> dict:
    """The normalised spec as plain JSON values (written to ``spec.json``)."""
    return {
        "generators": spec.generators, "budget": spec.budget, "seeds": spec.seeds, "noise": spec.noise,
        "init": spec.init, "references": spec.references, "normalise": spec.normalise,
        "reference_optimizer": spec.reference_label, "device": spec.device, "torch_threads": spec.torch_threads,
        "workers": spec.workers,
        "units": [{"model": u.model, "layers": list(u.layers),
                   "channels": list(u.channels) if isinstance(u.channels, tuple) and u.channels[:1] != ("random",)
                   else (f"random {u.channels[1]}" if isinstance(u.channels, tuple) else u.channels),
                   "position": u.position, "channel_seed": u.channel_seed} for u in spec.units],
        "optimizers": {o.label: {"algorithm": o.algorithm, **o.settings} for o in spec.optimizers},
        "map": spec.map, "topology": spec.topology,
    }
