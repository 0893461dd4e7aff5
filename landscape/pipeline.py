"""Evolve -> map -> analyse, resumable: the one pipeline the layer survey, sweep workers and the CLI use.

The analyses (:mod:`landscape.maps`, :mod:`landscape.topology`) take arrays and results and
load no model; this module is where models come in. Each step reads back what an earlier,
interrupted call finished:

* :func:`load_run_models` — the generator and unit a run folder's ``meta.json`` describes;
* :func:`evolve_resumable` — evolve into a run folder, continuing a killed run exactly, reading
  a complete one back; :func:`evolve_resumable_many` the same for many runs advanced together
  (:func:`landscape.runs.evolve_many`), as :func:`survey` and the sweep's workers use it;
* :func:`map_resumable` — a tuning map around the run's result, read back if already saved;
* :func:`hessian_for_axes` — the Hessian eigenvectors a ``hessian[:I,J]`` axes request needs:
  from a file, or computed through :mod:`geometry` (full matrix up to 512 dimensions, Lanczos
  above) and saved for the next call;
* :func:`analyse_map` — fits, smoothing and level-set isotropy of a map (``landscape map``'s
  ``analysis.json``); :func:`latent_level_sets` the same verdict in the full latent space;
* :func:`survey` — all of it over the units of a CNN's layers, aggregated by
  :class:`landscape.topology.hierarchy.SurveyResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .io import load_npz_checked, read_json, read_json_checked, write_json, write_with_digest
from .record import Run, RunError


def load_run_models(meta: dict, device: Any = None, *, noise: bool = True, generator: Any = None,
                    model: Any = None) -> tuple[Any, Any]:
    """The generator and unit described in a run's meta.

    Parameters
    ----------
    meta : dict
        ``Run.meta`` (the run folder's ``meta.json``): ``generator`` (``describe()``, with its zoo
        ``name``) and ``unit`` (see :func:`landscape.units.spec.unit_from_description`).
    device : str, torch.device or None
        Where to load the networks (CPU when None).
    noise : bool
        Rebuild the run's noise model too (maps then hold repetitions and standard errors);
        False gives the clean unit.
    generator, model : already loaded zoo generator / classifier to use instead of loading them

    Returns
    -------
    generator : landscape.generators.Generator
    unit : landscape.units.Unit
    """
    from . import zoo
    from .units.spec import unit_from_description

    gname = (meta.get("generator") or {}).get("name")
    if generator is None:
        if gname not in zoo.names("generator"):
            raise ValueError(f"the run's generator {gname!r} is not a zoo generator "
                             f"({', '.join(zoo.names('generator'))}); build it yourself and call "
                             "landscape.maps.map_from_run(run, generator, unit)")
        generator = zoo.load(gname, device=device)
    unit = unit_from_description(meta.get("unit") or {}, device=device, noise=noise, model=model)
    return generator, unit


def evolve_resumable(generator: Any, unit: Any, make_optimizer: Callable[[], Any], budget: int,
                     run_dir: str | Path, *, seed: int | None, init: Any = None, progress: bool = False) -> Run:
    """Evolve into ``run_dir``: a new run, a killed (or shorter) one continued exactly, or one that
    already spent ``budget`` read back. The one-run case of :func:`evolve_resumable_many`.

    Parameters
    ----------
    make_optimizer : callable() -> Optimizer
        Called only when there is something to evolve (a complete run needs no optimizer).
    budget, seed, init, progress : as :func:`landscape.runs.evolve`
    """
    result = evolve_resumable_many(generator, [ResumableRun(unit, make_optimizer, budget, run_dir, seed, init)],
                                   progress=progress)[0]
    if isinstance(result, BaseException):
        raise result
    return result


@dataclass
class ResumableRun:
    """One run of :func:`evolve_resumable_many` (the arguments of :func:`evolve_resumable`)."""

    unit: Any
    make_optimizer: Callable[[], Any]
    budget: int
    run_dir: str | Path
    seed: int | None = None
    init: Any = None


def evolve_resumable_many(generator: Any, runs: Sequence[ResumableRun], *, progress: bool = False
                          ) -> list[Run | Exception]:
    """:func:`evolve_resumable` for many runs on one generator, advanced together by
    :func:`landscape.runs.evolve_many` (one generator call and one network pass per layer and
    generation); complete runs are read back and need no optimizer.

    Returns
    -------
    list, one entry per run: its Run, or the exception that ended it (the others go on)
    """
    from .runs import RunSpec, evolve_many

    results: list[Run | Exception | None] = [None] * len(runs)
    todo: list[int] = []
    for i, r in enumerate(runs):
        run_dir = Path(r.run_dir)
        if (run_dir / "meta.json").is_file():
            m = read_json(run_dir / "meta.json")
            if m.get("status") == "complete" and int(m.get("evaluations", 0)) >= r.budget:
                results[i] = Run.load(run_dir)  # nothing left to evolve
                continue
        todo.append(i)
    specs = [RunSpec(runs[i].unit, runs[i].make_optimizer(), runs[i].budget, runs[i].run_dir, seed=runs[i].seed,
                     resume=(Path(runs[i].run_dir) / "meta.json").is_file(), init=runs[i].init) for i in todo]
    if specs:
        for i, res in zip(todo, evolve_many(generator, specs, progress=progress)):
            results[i] = res
    return results  # type: ignore[return-value]


def map_resumable(run: Run, generator: Any, unit: Any, path: str | Path, **map_kw: Any) -> Any:
    """:func:`landscape.maps.map_from_run` saved at ``path`` (``.npz`` + ``.json``), or read back from there."""
    from .maps import TuningMap, map_from_run
    from .maps.tuning_map import map_paths

    npz, js = map_paths(path)
    if npz.is_file() and js.is_file():
        return TuningMap.load(path)
    import torch

    with torch.no_grad():
        tmap = map_from_run(run, generator, unit, **map_kw)
    tmap.save(path)
    return tmap


def hessian_for_axes(axes: str, generator: Any, code: Any, *, hessian_file: str | Path | None = None,
                     distance: str = "mse", save_to: str | Path | None = None) -> tuple[np.ndarray | None, Any]:
    """The Hessian eigenvectors an axes request needs (none unless it asks for ``hessian``).

    Parameters
    ----------
    axes : str
        The axes request (:data:`landscape.maps.build.AXES_USAGE`).
    code : (d,) array, the point of the Hessian (a run's best code)
    hessian_file : ``.npz`` with ``eigvecs`` ((d, k) columns or (k, d) rows), e.g. geometry's
        ``HessianResult.save``; None computes the Hessian here.
    distance : image distance of a computed Hessian
    save_to : where a computed Hessian is saved

    Returns
    -------
    eigvecs : array or None ; result : geometry's ``HessianResult`` when computed here, else None
    """
    if not axes.startswith("hessian"):
        return None, None
    if hessian_file is not None:
        z = load_npz_checked(hessian_file)  # its .sha256 sidecar checked when it has one
        if "eigvecs" not in z:
            raise ValueError(f"{hessian_file} has no 'eigvecs' array (found {sorted(z)}); save geometry's "
                             "HessianResult")
        return z["eigvecs"], None
    import torch

    from geometry.hessian import hessian

    from .maps.build import axes_indices

    indices = axes_indices(axes, range(2))
    z = torch.as_tensor(np.asarray(code), dtype=torch.float32, device=generator.device)
    d = generator.dim
    k_needed = max(indices) + 1 if indices else 2
    # the full matrix costs d Hessian-vector products; beyond a few hundred dimensions ask ARPACK for the top few
    if d <= 512:
        res = hessian(generator, z, distance=distance, method="full")
    else:
        res = hessian(generator, z, distance=distance, method="lanczos", k=max(k_needed, 8))
    if save_to is not None:
        saved = Path(res.save(save_to))
        write_with_digest(saved, saved.read_bytes())  # the sidecar digest (geometry writes no landscape files)
    return res.eigvecs, res


def analyse_map(tm: Any, *, fit_convention: str = "project") -> tuple[dict, Any]:
    """Peak, smoothing, Gaussian/Kent fits and level-set isotropy of a map.

    Parameters
    ----------
    tm : TuningMap
    fit_convention : {"project", "reference"}
        The Kent fit and sphere smoothing conventions (:func:`landscape.maps.fit_map`).

    Returns
    -------
    analysis : dict (``landscape map``'s ``analysis.json``; a step that cannot run leaves
        ``<step>_error`` instead) ; smoothed : the smoothed sphere or None
    """
    from .maps import fit_map, smooth_sphere
    from .maps.levelsets import MapLevelSets

    analysis: dict = {"peak": tm.peak()}
    smoothed = None
    if tm.kind == "sphere":
        try:
            smoothed = smooth_sphere(tm, clip_at_zero=fit_convention == "reference")
            analysis["smoothing_s"] = smoothed.s
            analysis["smoothing_clip_at_zero"] = smoothed.clip_at_zero
        except ValueError as e:  # too few rows for a spline: report it, the raw map is still written
            analysis["smoothing_error"] = str(e)
    try:
        analysis["fit_convention"] = fit_convention
        analysis["fits"] = {k: v.as_dict() for k, v in fit_map(tm, bounds=fit_convention).items()}
    except ValueError as e:
        analysis["fits_error"] = str(e)
    try:
        ls = MapLevelSets(smooth=smoothed is not None).fit(tm)
        analysis["level_sets"] = {k: v.as_dict() for k, v in ls.verdicts_.items()}
    except ValueError as e:
        analysis["level_sets_error"] = str(e)
    return analysis, smoothed


def latent_level_sets(generator: Any, unit: Any, code: Any, *, hessian: Any = None, n_rays: int = 32,
                      seed: int = 0, batch_size: int | None = None, progress: bool = False) -> dict:
    """Level sets around ``code`` in the full latent space (random great circles, plus the top 4
    Hessian eigenvectors when known); the ``latent_level_sets`` entry of ``analysis.json``."""
    from .maps.axes import hessian_axes
    from .maps.levelsets import LatentLevelSets, scorer

    extra = None
    if hessian is not None:  # the top eigen-directions probe the sharpest image change
        h = np.asarray(hessian, float)
        k = h.shape[1] if h.shape[0] == generator.dim else h.shape[0]
        extra = hessian_axes(h, range(min(4, k)), dim=generator.dim)
    lls = LatentLevelSets(n_random=n_rays, seed=seed)
    lls.fit(scorer(generator, unit, batch_size=batch_size, progress=progress), code, directions=extra)
    return {"directions": int(lls.directions_.shape[0]), "peak": lls.peak_,
            "verdicts": {k: v.as_dict() for k, v in lls.verdicts_.items()},
            "fits": {k: v.as_dict() for k, v in lls.fits_.items()}}


def survey(model: str = "resnet20-cifar10", layers: Sequence[str] | None = None, *, out: str | Path,
           units_per_layer: int = 5, channels: dict[str, Sequence[int]] | None = None,
           generator: str = "digiface-dcgan64", optimizer: str = "cma",
           optimizer_settings: dict[str, Any] | None = None, budget: int = 1200, grid: str = "sphere:21",
           axes: str = "pc", signature_params: dict[str, Any] | None = None, morse_sigma: float = 1.0,
           seed: int = 0, device: str | None = None, progress: bool = True) -> Any:
    """Evolve, map and analyse units across the layers of a zoo classifier (folder layout:
    :mod:`landscape.topology.hierarchy`).

    The evolutions of all units run together (:func:`evolve_resumable_many`): per generation one
    generator call for every unit's codes and one network pass per layer; each unit's run folder
    is the one it would get alone (bit for bit on CPU with one torch thread).

    Parameters
    ----------
    model : str
        Zoo classifier, e.g. ``"resnet20-cifar10"`` or ``"darknet-tiny-imagenet"``.
    layers : list of str or None
        Layers shallow to deep; None = :func:`~landscape.topology.hierarchy.default_layers`.
    out : path
        Survey folder; an existing one is resumed.
    units_per_layer : int
        Channels per layer, drawn at random (seeded) unless ``channels`` is given.
    channels : dict layer -> channels, or None
        Explicit channels for some or all layers.
    generator : str
        Zoo generator.
    optimizer : str
        ``landscape.optim`` name; ``optimizer_settings`` go to :func:`landscape.optim.make`.
    budget : int
        Evaluations per evolution.
    grid, axes : str
        Map grid and axes (see :func:`landscape.maps.map_from_run`).
    signature_params : dict or None
        For :class:`~landscape.topology.TopologySignature` (default ``nan_policy="harmonic"``).
    morse_sigma : float
        Smoothing (pixels) before the critical point count.
    seed : int
        Seeds channel choice and every evolution (unit k gets ``seed + k``).
    device : str or None
        Where the networks run (default CPU).
    progress : bool
        A progress bar over units.

    Returns
    -------
    SurveyResult (already saved to ``out``)
    """
    from tqdm.auto import tqdm

    from . import optim, zoo
    from .plots import SurveyDisplay
    from .topology.hierarchy import SurveyResult, analyse_unit, default_layers
    from .units import CNNUnit
    from .units import layers as layer_names

    if not isinstance(units_per_layer, int) or units_per_layer < 1:
        raise ValueError(f"units_per_layer must be a positive integer, got {units_per_layer!r}")
    out = Path(out)
    layers = list(layers) if layers is not None else default_layers(model)
    if not layers:
        raise ValueError("layers is empty: give at least one layer")
    net = zoo.load(model, device=device)
    valid = layer_names(net)
    bad = [ly for ly in layers if ly not in valid]
    if bad:
        raise ValueError(f"unknown layers {bad} for {model!r}; valid layers: {', '.join(valid)}")
    gen = zoo.load(generator, device=device)
    rng = np.random.default_rng(seed)
    plan: list[tuple[int, str, int]] = []
    for d, layer in enumerate(layers):
        n_ch = CNNUnit(net, layer, 0).n_channels
        if channels and layer in channels:
            chosen = [int(c) for c in channels[layer]]
        else:
            chosen = sorted(rng.choice(n_ch, size=min(units_per_layer, n_ch), replace=False).tolist())
        plan += [(d, layer, c) for c in chosen]
    write_json(out / "survey.json", {
        "schema": "landscape.topology.survey", "version": 1, "model": model, "layers": layers,
        "generator": generator, "optimizer": optimizer, "optimizer_settings": optimizer_settings or {},
        "budget": budget, "grid": grid, "axes": axes, "signature_params": signature_params or {},
        "morse_sigma": morse_sigma, "seed": seed, "units": [[ly, c] for _, ly, c in plan]})
    # every unit's evolution first, all advanced together (one generator call and one network pass per
    # layer and generation); units whose analysis is on disk need none
    units = {k: CNNUnit(net, layer, ch, position="center") for k, (_, layer, ch) in enumerate(plan)
             if not (out / layer / f"ch{ch:04d}" / "topology" / "unit.json").is_file()}

    def make_optimizer(k: int) -> Callable[[], Any]:
        return lambda: optim.make(optimizer, gen.dim, seed=seed + k, device=device or "cpu",
                                  **(optimizer_settings or {}))

    evolved = dict(zip(units, evolve_resumable_many(gen, [
        ResumableRun(units[k], make_optimizer(k), budget, out / plan[k][1] / f"ch{plan[k][2]:04d}" / "run",
                     seed=seed + k) for k in units], progress=progress)))
    failed = {k: e for k, e in evolved.items() if isinstance(e, BaseException)}
    if failed:
        k, e = next(iter(failed.items()))
        raise RunError(f"{len(failed)} of the survey's {len(units)} evolutions failed (first: {plan[k][1]} "
                           f"channel {plan[k][2]}: {type(e).__name__}: {e}); the others are on disk in {out}, and "
                           "calling survey again resumes them") from e
    rows = []
    for k, (d, layer, ch) in enumerate(tqdm(plan, desc=f"survey {model}", disable=not progress)):
        udir = out / layer / f"ch{ch:04d}"
        done = udir / "topology" / "unit.json"
        if k not in units:
            row = read_json_checked(done)
            row = {key: (float("nan") if v is None and key != "notes" else v) for key, v in row.items()}
            best = Run.load(udir / "run").best_score
        else:
            run = evolved[k]
            tmap = map_resumable(run, gen, units[k], udir / "map", axes=axes, grid=grid, seed=seed + k,
                                 progress=False)
            row = analyse_unit(tmap, udir / "topology", signature_params or {}, morse_sigma)
            best = run.best_score
        rows.append({"layer": layer, "depth": d, "channel": ch, "best_score": float(best), **row})
    result = SurveyResult(rows, layers, out)
    result.save()
    SurveyDisplay(result).write()  # survey.png and survey.html
    return result
