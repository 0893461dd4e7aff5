"""What runs on a sweep worker: one task, with models cached in the worker process.

Models, generators and reference images are loaded on a worker's first task that needs
them and kept in a module-level cache for the worker's life, so a sweep of a thousand tasks
over one model loads it once per worker. The cache is keyed by thread as well: a
:class:`~landscape.units.CNNUnit` reads its layer through a forward hook on the shared
model, and two threads running one model at once would read each other's activations.
Workers here run one thread each (``LocalCluster(threads_per_worker=1)``; on other clusters
start workers with ``--nthreads 1``), so each model loads once per worker.

A task is idempotent: a finished task leaves ``results/<key>.json`` and returns it when run
again; an unfinished one resumes its run folder ``runs/<key>`` exactly (see
:func:`landscape.runs.evolve`). A lock file per task (``runs/<key>.lock``, ``fcntl.flock``,
released by the kernel when a process dies) keeps two workers from running the same task at
once, e.g. when the scheduler believes a slow worker died and reschedules its task. (POSIX
only: on Windows there is no flock, and only the scheduler keeps a task from running twice.)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from ..io import DamagedFile, json_roundtrip, read_json_checked, write_json_with_digest

#: format of ``results/<key>.json``
RESULT_FORMAT = "landscape-sweep-result/2"
#: version 1 called the oracle ``best_clean_score`` and its ratio to the best reference ``relative_activation``
_RESULT_FORMAT_V1 = "landscape-sweep-result/1"

_CACHE: dict[tuple, Any] = {}
_LOADS: dict[tuple, int] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class TaskPayload:
    """Everything a worker needs for one task.

    Attributes
    ----------
    key, config : the task (see :class:`landscape.sweep.tasks.Task`)
    out : absolute path of the sweep folder (shared by all workers)
    device : "auto", "cpu", "cuda", ...
    torch_threads : threads torch may use in this task
    factory : registered optimizer factory, or None for :func:`landscape.optim.make`
    """

    key: str
    config: dict
    out: str
    device: str = "auto"
    torch_threads: int = 1
    factory: Callable[..., Any] | None = None


def _cached(kind: str, name: str, device: str, load: Callable[[], Any]) -> Any:
    k = (threading.get_ident(), kind, name, device)
    with _CACHE_LOCK:
        if k in _CACHE:
            return _CACHE[k]
    obj = load()
    with _CACHE_LOCK:
        _CACHE.setdefault(k, obj)
        _LOADS[(kind, name, device)] = _LOADS.get((kind, name, device), 0) + 1
        return _CACHE[k]


def cached_zoo(name: str, device: str) -> Any:
    """``zoo.load(name, device)``, once per worker thread."""
    from .. import zoo

    return _cached("zoo", name, device, lambda: zoo.load(name, device=device))


def cached_references(source: str, size: int = 224) -> Any:
    """The :class:`~landscape.references.ReferenceSet` named ``source`` at ``size``, once per worker thread."""
    from ..references import load_reference_set

    return _cached("references", f"{source}@{size}", "cpu", lambda: load_reference_set(source, size=size))


def cache_info() -> dict[str, int]:
    """How many times each (kind, name, device) was loaded in this process: ``{"zoo:name@device": n}``."""
    with _CACHE_LOCK:
        return {f"{k}:{n}@{d}": c for (k, n, d), c in _LOADS.items()}


def clear_cache() -> None:
    """Forget every cached model (frees memory; the next task loads again)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _LOADS.clear()


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def worker_name() -> str:
    """The Dask worker's address, or ``host:pid`` outside Dask."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


@contextlib.contextmanager
def task_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (blocking) for the duration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            import fcntl
        except ImportError:  # Windows: no flock; Dask then relies on the scheduler alone
            yield
            return
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def result_path(out: str | os.PathLike, key: str) -> Path:
    return Path(out) / "results" / f"{key}.json"


def read_result(out: str | os.PathLike, key: str, config: dict) -> dict | None:
    """The stored row of a finished task, or None if it has not finished (or its config differs)."""
    p = result_path(out, key)
    if not p.is_file():
        return None
    try:
        rec = read_json_checked(p)
    except DamagedFile as e:  # its digest says it changed after it was written: say so, never redo silently
        raise DamagedFile(f"{e}; delete {p} (and {p.name}.sha256) to have the task's row computed again from its "
                          "run folder") from None
    except (OSError, ValueError):
        return None  # no digest beside it and not JSON: a foreign file (never one a worker wrote): redo the task
    if rec.get("format") not in (RESULT_FORMAT, _RESULT_FORMAT_V1) or rec.get("config") != json_roundtrip(config):
        return None
    # result files follow landscape.io's JSON rule (NaN written as null): read null back as NaN, as the
    # row was before it was written (no column of a result row holds None otherwise)
    row = {k: (math.nan if v is None else v) for k, v in rec["row"].items()}
    if rec["format"] == _RESULT_FORMAT_V1:
        if "source_best_clean_score" not in row:
            return None  # an evolution row: re-derived from its complete run folder, with no new evaluation
        row["source_best_clean_ever"] = row.pop("source_best_clean_score")
    return row


def committed_generations(run_dir: Path) -> int:
    """Number of generations a run folder holds that a resume keeps (0 for none)."""
    from ..record import checkpoint_generation as _checkpoint_generation

    g = _checkpoint_generation(run_dir)
    return 0 if g is None else g + 1


@contextlib.contextmanager
def _task_context(payload: TaskPayload) -> Iterator[None]:
    """Torch threads as the payload says, and the task's lock, for the duration."""
    with _tasks_context([payload]):
        yield


@contextlib.contextmanager
def _tasks_context(payloads: list[TaskPayload]) -> Iterator[None]:
    """Torch threads as the payloads say, and every task's lock (taken in key order, so two workers
    holding overlapping groups cannot wait on each other), for the duration."""
    import torch

    threads_before = torch.get_num_threads()
    torch.set_num_threads(payloads[0].torch_threads)
    try:
        with contextlib.ExitStack() as locks:
            for p in sorted(payloads, key=lambda p: p.key):
                locks.enter_context(task_lock(Path(p.out) / "runs" / f"{p.key}.lock"))
            yield
    finally:
        torch.set_num_threads(threads_before)


def _finish(payload: TaskPayload, row: dict, t0: float) -> dict:
    row.update({"task_time_s": time.perf_counter() - t0, "cpu_time_s": time.process_time() - row.pop("_cpu0"),
                "worker": worker_name(), "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    write_json_with_digest(result_path(payload.out, payload.key),
                      {"format": RESULT_FORMAT, "key": payload.key, "config": payload.config, "row": row})
    return row


def group_key(config: dict) -> tuple:
    """Evolution tasks with equal keys can run together in one worker call (:func:`run_tasks`): the
    same generator, model and layer, so one generator call and one network pass serve them all."""
    return (config["generator"], config["model"], config["layer"])


def run_task(payload: TaskPayload) -> dict:
    """Run (or finish, or just read back) one evolution task and return its table row.

    The row's columns are those of :data:`landscape.sweep.table.COLUMNS` except
    ``normalised_score``, which needs every task of the unit. The one-task case of :func:`run_tasks`.
    """
    result = run_tasks([payload])[payload.key]
    if isinstance(result, BaseException):
        raise result
    return result


def run_tasks(payloads: list[TaskPayload]) -> dict[str, dict | Exception]:
    """Run (or finish, or read back) evolution tasks of one :func:`group_key` together.

    Their evolutions advance together (:func:`landscape.pipeline.evolve_resumable_many`: one
    generator call and one network pass per generation for all of them), each in its own run
    folder ``runs/<key>``, resumed exactly, with its own lock and ``results/<key>.json``. A task
    whose run fails does not stop the others.

    Returns
    -------
    dict key -> the task's table row (as :func:`run_task` returns it), or the exception that ended
    it. ``task_time_s`` and ``cpu_time_s`` of the tasks evolved together are the group's times
    divided among them.
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    if len({group_key(p.config) for p in payloads}) > 1:
        raise ValueError(f"run_tasks takes tasks of one generator, model and layer; got "
                         f"{sorted({group_key(p.config) for p in payloads})}")
    results: dict[str, dict | Exception] = {}
    todo = _unfinished(payloads, results)
    if not todo:
        return results
    from ..pipeline import ResumableRun, evolve_resumable_many
    from ..units.spec import build_unit
    from .optimizers import make_optimizer

    with _tasks_context(todo):
        todo = _unfinished(todo, results)  # some may have finished elsewhere while we waited for the locks
        if not todo:
            return results
        device = resolve_device(todo[0].device)
        cfg0 = todo[0].config
        generator = cached_zoo(cfg0["generator"], device)
        model = cached_zoo(cfg0["model"], device)
        units, runs, resumed = [], [], []
        for p in todo:
            cfg, opt = p.config, p.config["optimizer"]
            unit = build_unit(cfg["model"], cfg["layer"], cfg["channel"], cfg["position"], cfg["noise"], cfg["seed"],
                              device, model=model, generator=generator)
            run_dir = Path(p.out) / "runs" / p.key
            resumed.append(committed_generations(run_dir) if (run_dir / "meta.json").is_file() else 0)
            units.append(unit)
            runs.append(ResumableRun(unit, lambda p=p, cfg=cfg, opt=opt: make_optimizer(
                opt["algorithm"], generator.dim, seed=cfg["seed"], device=device, settings=opt["settings"],
                factory=p.factory), cfg["budget"], run_dir, seed=cfg["seed"], init=cfg["init"]))
        evolved = evolve_resumable_many(generator, runs)
        share_t, share_cpu = (time.perf_counter() - t0) / len(todo), (time.process_time() - cpu0) / len(todo)
        for p, unit, run, resumed_from in zip(todo, units, evolved, resumed):
            if isinstance(run, BaseException):
                results[p.key] = run
                continue
            t1, cpu1 = time.perf_counter(), time.process_time()
            try:
                row = _row(p, unit, run, resumed_from)
                row["_cpu0"] = cpu1 - share_cpu
                results[p.key] = _finish(p, row, t1 - share_t)
            except Exception as e:
                results[p.key] = e
    return results


def _unfinished(payloads: list[TaskPayload], results: dict) -> list[TaskPayload]:
    """The payloads without a stored row; the others' rows (or the error reading them: that task's
    alone) go into ``results``."""
    todo = []
    for p in payloads:
        try:
            done = read_result(p.out, p.key, p.config)
        except Exception as e:
            results[p.key] = e
            continue
        if done is None:
            todo.append(p)
        else:
            results[p.key] = done
    return todo


def _row(payload: TaskPayload, unit: Any, run: Any, resumed_from: int) -> dict:
    """The table row of an evolved task (relative activation against its reference set)."""
    from ..references import input_size, relative_activation_summary
    from .tasks import unit_id

    cfg, opt = payload.config, payload.config["optimizer"]
    refs = cached_references(cfg["references"], input_size(unit))
    m = relative_activation_summary(run, unit, refs)
    return {
        "key": payload.key, "generator": cfg["generator"], "model": cfg["model"], "layer": cfg["layer"],
        "channel": int(cfg["channel"]), "position": cfg["position"], "unit": unit_id(cfg),
        "noise": cfg["noise"], "optimizer": opt["label"], "algorithm": opt["algorithm"],
        "settings": json.dumps(opt["settings"], sort_keys=True), "seed": int(cfg["seed"]),
        "budget": int(cfg["budget"]), "evaluations": int(sum(len(s) for s in run.gen_scores)),
        "generations": int(run.n_generations), "best_score": float(run.all_scores.max()),
        "best_clean_ever": float(m["best_clean_ever"]), "best_reference_score": float(m["best_reference_score"]),
        "best_reference_image": m["best_reference_image"], "reference_set": refs.name,
        "n_reference_images": refs.n, "relative_activation": float(m["relative_activation"]),
        "optimized_response": float(m["optimized_image"]["response"]),
        "optimized_response_kind": m["optimized_image"]["response_kind"],
        "best_clean_ever_over_reference": float(m["best_clean_ever_over_reference"]),
        "run_dir": f"runs/{payload.key}", "status": str(run.meta.get("status")),
        "wall_time_s": float(run.wall_time.sum()), "resumed_from_generation": int(resumed_from),
    }


def best_row(rows: list[dict]) -> dict:
    """The row with the highest best_clean_ever (the first such row on ties; NaN ranks last)."""
    def score(r: dict) -> float:
        s = r["best_clean_ever"]
        return -float("inf") if s is None or s != s else s

    best = rows[0]
    for r in rows[1:]:
        if score(r) > score(best):
            best = r
    return best


def run_map_task(payload: TaskPayload, rows: list[dict]) -> dict:
    """Map a unit around its best evolution (and take the map's topological signature).

    Parameters
    ----------
    payload : TaskPayload
        ``config`` holds the unit, ``map`` and ``topology`` settings and the evolution keys.
    rows : list of dict
        Table rows of the unit's evolution tasks (Dask passes them in once they finish).

    Returns
    -------
    row : dict with the columns of :data:`landscape.sweep.table.MAP_COLUMNS`
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    cfg = payload.config
    done = read_result(payload.out, payload.key, cfg)
    if done is not None:
        return done
    from ..pipeline import map_resumable
    from ..record import Run
    from ..units.spec import build_unit
    from .tasks import unit_id

    with _task_context(payload):
        done = read_result(payload.out, payload.key, cfg)
        if done is not None:
            return done
        by_key = {r["key"]: r for r in rows}
        missing = [k for k in cfg["tasks"] if k not in by_key]
        if missing:
            raise ValueError(f"map task {payload.key} lacks the rows of evolution tasks {missing}")
        src = best_row([by_key[k] for k in cfg["tasks"]])
        device = resolve_device(payload.device)
        generator = cached_zoo(cfg["generator"], device)
        model = cached_zoo(cfg["model"], device)
        unit = build_unit(cfg["model"], cfg["layer"], cfg["channel"], cfg["position"], cfg["noise"], src["seed"],
                          device, model=model, generator=generator)
        m = cfg["map"]
        run = Run.load(Path(payload.out) / src["run_dir"])
        map_dir = Path(payload.out) / "maps" / payload.key
        tmap = map_resumable(run, generator, unit, map_dir / "map", axes=m["axes"], grid=m["grid"], seed=m["seed"],
                             reps=m["reps"] if unit.noisy else None, progress=False)
        peak = tmap.peak()
        row = {"key": payload.key, "generator": cfg["generator"], "model": cfg["model"], "layer": cfg["layer"],
               "channel": int(cfg["channel"]), "position": cfg["position"], "unit": unit_id(cfg),
               "noise": cfg["noise"], "source_key": src["key"], "source_optimizer": src["optimizer"],
               "source_seed": int(src["seed"]), "source_best_clean_ever": src["best_clean_ever"],
               "map_kind": tmap.kind, "map_axes": str(m["axes"]), "map_grid": str(m["grid"]),
               "map_dir": f"maps/{payload.key}", "peak_value": peak["value"], "peak_row": peak["row"],
               "peak_col": peak["col"], "_cpu0": cpu0}
        if cfg["topology"] is not None:
            from ..topology import TopologySignature

            sig = TopologySignature(**cfg["topology"]).fit(tmap)
            sig.save(map_dir / "topology")
            row.update({f"topology_{k}": float(v) for k, v in sig.summary_.items()})
            row["topology_contour_convention"] = sig.contour_convention
        return _finish(payload, row, t0)
