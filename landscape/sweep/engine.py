"""Run a sweep on Dask: plan, skip what is done, submit the rest, collect, write the tables.

Sweep folder schema (``landscape-sweep/1``)
-------------------------------------------
``spec.json``      the normalised spec; ``tasks.json``: every task's key and config
``runs/<key>/``    each task's run folder (``landscape-run/1``, see :mod:`landscape.runs`)
``results/<key>.json``  a finished task's config and table row (written by the worker), with its
                   ``.sha256`` sidecar: a result changed after it was written stops the sweep with
                   an error naming it (never silently redone)
``table.parquet``, ``table.csv``  one row per task (:data:`landscape.sweep.table.COLUMNS`)
``summary.csv``, ``summary.parquet``  mean normalised score per model x layer x noise x optimizer
``summary.html``   the figure (standalone, plotly.js embedded)
``maps/<key>/``    with [map]: ``map.npz``/``map.json`` (a TuningMap) and ``topology/`` (with [topology])
``maps.parquet``, ``maps.csv``  with [map]: one row per unit and noise level (``MAP_COLUMNS``)
``failures.json``  tasks that raised, with their errors (absent when none did)
``.lock``          held (``fcntl.flock``) by the sweep call writing the folder: a second call on the same
                   folder is refused with the holder's pid, host and start time; the kernel frees it
                   when that process dies (``kill -9`` included)
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec import load_spec, plan, spec_to_dict
from .tasks import Task

SWEEP_FORMAT = "landscape-sweep/1"

#: most evolution tasks one worker call advances together (``sweep(batch=...)``)
BATCH_RUNS = 16


class SweepError(RuntimeError):
    """Some tasks of a sweep failed; the others are on disk and a re-run resumes."""


@dataclass
class SweepResult:
    """What a sweep produced.

    Attributes
    ----------
    out : Path
        The sweep folder.
    rows : list of dict
        The task table, one row per finished task, in spec order.
    summary : list of dict
        The summary table.
    tasks : list of Task
    n_finished_before, n_resumed, n_started : int
        Tasks (evolutions and maps) found finished, found partly run, and started by this call.
    failures : dict
        key -> error text of tasks that raised.
    files : dict
        name -> path of each written file.
    maps : list of dict
        The map table (one row per unit and noise level), when the spec has a [map] table.
    """

    out: Path
    rows: list[dict]
    summary: list[dict]
    tasks: list[Task]
    n_finished_before: int
    n_resumed: int
    n_started: int
    failures: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    maps: list[dict] = field(default_factory=list)

    @property
    def table(self):
        """The task table as a ``pyarrow.Table``."""
        from .table import to_arrow

        return to_arrow(self.rows)

    def to_pandas(self):
        """The task table as a pandas DataFrame (needs pandas)."""
        return self.table.to_pandas()

    def __repr__(self) -> str:
        return (f"SweepResult(out={str(self.out)!r}, tasks={len(self.tasks)}, finished={len(self.rows)}, "
                f"failed={len(self.failures)})")


#: Dask settings for clusters whose tasks run for seconds (the sweep's own LocalCluster uses them;
#: pass them to ``dask.config.set`` or a cluster's config for other clusters). Worker profiling
#: is off, so the dashboard's Profile tab stays empty; its task stream and progress still work.
LEAN_CONFIG = {
    "distributed.admin.tick.interval": "500ms",
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


#: where a local cluster serves its dashboard unless told otherwise: this machine only
DASHBOARD_ADDRESS = "127.0.0.1:8787"


def dashboard_bind(address: str | None) -> str | None:
    """The address the dashboard binds: a bare port (``":8787"``, ``"8787"``) means 127.0.0.1.

    Dask binds a bare port on every interface (0.0.0.0); the dashboard shows the cluster's
    tasks, logs and workers' call stacks to whoever can reach it, so it stays on this machine
    unless a host is named (``"0.0.0.0:8787"`` to expose it).
    """
    if address is None:
        return None
    address = str(address).strip()
    if address.startswith(":"):
        return "127.0.0.1" + address
    if address.isdigit():
        return f"127.0.0.1:{address}"
    return address


def start_local_client(n_workers: int, dashboard_address: str | None = DASHBOARD_ADDRESS):
    """A ``distributed.Client`` on a new ``LocalCluster``: processes, one thread each.

    Torch in each worker process uses one thread (the tasks set it too), so ``n_workers``
    tasks run at once on ``n_workers`` cores without oversubscription. The scheduler, the
    workers and the dashboard listen on 127.0.0.1 (see :func:`dashboard_bind`).
    """
    import dask
    from distributed import Client, LocalCluster

    threads = {k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers; any value of it switches off
    # glibc's adaptive mmap threshold, so every large tensor is mmapped and zero-filled anew:
    # the same generator renders took 40-70% more CPU in such a process (benchmarks/sweep.py).
    # Dask's defaults suit sub-second interactive tasks: every server checks its event loop each
    # 20 ms, workers sample their own stacks each 10 ms, nannies poll memory each 100 ms. Sweep
    # tasks run for seconds, and on a small machine that polling takes cores from the tasks: an
    # idle 2-worker cluster used 1.9 CPU-s per 20 s with the defaults and 0.4 with these.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None, **LEAN_CONFIG}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=dashboard_bind(dashboard_address), silence_logs=logging.ERROR,
                               env=threads)
    return Client(cluster)


def sweep(spec: Any, client: Any = None, *, out: str | os.PathLike | None = None, workers: int | None = None,
          serial: bool = False, progress: bool = True, dashboard_address: str | None = DASHBOARD_ADDRESS,
          raise_on_failure: bool = True, batch: int = BATCH_RUNS) -> SweepResult:
    """Run every task of a sweep spec on Dask and write the result tables.

    Parameters
    ----------
    spec : path to a TOML spec, TOML text, dict, or SweepSpec
        See :mod:`landscape.sweep.spec` for the schema. Checked in full before any task starts.
    client : None, distributed.Client, or a scheduler address (str)
        ``None`` starts a ``LocalCluster`` (processes, one thread each) for this call.
    out : path or None
        Sweep folder (default: the spec's ``sweep.out``). Must be reachable by every worker.
    workers : int or None
        Size of the local cluster (default: the spec's ``sweep.workers``, else the core count).
    serial : bool
        Run the tasks one after another in this process, without Dask (same results).
    progress : bool
        Show a progress bar and print the dashboard link and the summary.
    dashboard_address : str or None
        Where a local cluster serves its dashboard (``":0"``: any free port); a bare port
        binds 127.0.0.1, ``"0.0.0.0:8787"`` every interface.
    raise_on_failure : bool
        Raise :class:`SweepError` after writing the tables if any task failed.
    batch : int
        Most evolution tasks of one generator, model and layer evolved together by one worker
        call (:func:`landscape.sweep.worker.run_tasks`: one generator call and one network pass
        per generation for all of them); 1 runs each task on its own. Groups are also cut so
        that every worker gets work. Results do not depend on it (with one torch thread per
        task, as sweeps run: see :func:`landscape.runs.evolve_many`).

    Returns
    -------
    SweepResult
    """
    from ..io import FolderBusy, atomic_write_json, folder_lock
    from .optimizers import registered_factory
    from .spec import plan_maps
    from .table import SUMMARY_COLUMNS, format_summary, map_columns, normalise, summarise, write_table
    from .worker import TaskPayload, read_result

    if serial and client is not None:
        raise ValueError("serial=True runs the tasks in this process without Dask; do not pass a client as well")
    check_batch(batch)  # before the folder is touched
    spec = load_spec(spec)
    folder = out if out is not None else spec.out
    if folder is None:
        raise ValueError("no output folder: pass out= (command line: --out DIR) or set sweep.out in the spec")
    folder = Path(folder).resolve()
    tasks = plan(spec)  # raises SpecError naming the bad field before anything runs
    maps = plan_maps(spec, tasks)
    folder.mkdir(parents=True, exist_ok=True)
    lock = contextlib.ExitStack()
    try:
        lock.enter_context(folder_lock(folder, what="sweep"))
    except FolderBusy as e:
        raise SweepError(f"cannot run the sweep: {e}") from None
    with lock:  # one sweep call writes a sweep folder at a time (its workers lock each run folder too)
        atomic_write_json(folder / "spec.json", {"format": SWEEP_FORMAT, "spec": spec_to_dict(spec)})
        atomic_write_json(folder / "tasks.json", [{"key": t.key, "config": t.config} for t in tasks + maps])

        rows_by_key: dict[str, dict] = {}
        todo: list[Task] = []
        for t in tasks + maps:
            row = read_result(folder, t.key, t.config)
            if row is None:
                todo.append(t)
            else:
                rows_by_key[t.key] = row
        n_resume = sum((folder / "runs" / t.key / "meta.json").is_file() for t in todo)
        say = print if progress else (lambda *a, **k: None)
        n_all = len(tasks) + len(maps)
        say(f"sweep: {len(tasks)} evolutions" + (f" and {len(maps)} maps" if maps else "") + f" in {folder}: "
            f"{len(rows_by_key)} finished earlier, {n_resume} to resume, {len(todo) - n_resume} to start")

        def payload(t: Task) -> TaskPayload:
            opt = t.config.get("optimizer")
            return TaskPayload(t.key, t.config, str(folder), spec.device, spec.torch_threads,
                               registered_factory(opt["algorithm"]) if opt else None)

        map_keys = {m.key for m in maps}
        n_workers = 1 if serial else workers or spec.workers or os.cpu_count() or 1
        evolve_todo = batches([payload(t) for t in todo if t.key not in map_keys], batch, n_workers)
        map_todo = [payload(t) for t in todo if t.key in map_keys]
        failures: dict[str, str] = {}
        if todo:
            from tqdm.auto import tqdm

            with tqdm(total=n_all, initial=len(rows_by_key), unit="task", desc="sweep", disable=not progress,
                      file=sys.stderr) as bar:
                if serial:
                    _run_serial(evolve_todo, map_todo, rows_by_key, failures, bar)
                else:
                    _run_dask(client, evolve_todo, map_todo, rows_by_key, failures, bar, say, n_workers,
                              dashboard_address)

        rows = [rows_by_key[t.key] for t in tasks if t.key in rows_by_key]
        map_rows = [rows_by_key[t.key] for t in maps if t.key in rows_by_key]
        normalise(rows, spec.normalise)
        summary = summarise(rows, spec.reference_label)
        files = dict(zip(("table.parquet", "table.csv"), write_table(rows, folder, "table")))
        files.update(zip(("summary.parquet", "summary.csv"), write_table(summary, folder, "summary", SUMMARY_COLUMNS)))
        if maps:
            files.update(zip(("maps.parquet", "maps.csv"),
                             write_table(map_rows, folder, "maps", map_columns(spec.topology is not None))))
        if rows:
            from ..plots import SweepDisplay

            files["summary.html"] = SweepDisplay(summary, rows).write_html(folder / "summary.html")
        fail_path = folder / "failures.json"
        if failures:
            atomic_write_json(fail_path, failures)
            files["failures.json"] = fail_path
        elif fail_path.exists():
            fail_path.unlink()  # an earlier call's failures were redone
        if rows:
            say(format_summary(summary))
        say(f"tables: {files['table.parquet']} (+ .csv), {files['summary.csv']}"
            + (f", {files['maps.parquet']}" if maps else "") + f"; figure: {files.get('summary.html')}")
        n_before = n_all - len(todo)
        result = SweepResult(folder, rows, summary, tasks, n_before, n_resume, len(todo) - n_resume, failures, files,
                             map_rows)
        if failures and raise_on_failure:
            first = next(iter(failures.items()))
            raise SweepError(f"{len(failures)} of {n_all} tasks failed (first: task {first[0]}: {first[1]}); "
                             f"their errors are in {fail_path}. The table holds the {len(rows)} finished evolutions; "
                             f"fix the cause and run the same spec again to finish the rest")
        return result


def check_batch(batch: Any) -> None:
    """``batch`` (tasks per worker call) must be a positive integer."""
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")


def batches(payloads: list, batch: int, n_workers: int = 1) -> list[list]:
    """Evolution payloads cut into worker calls: tasks of one generator, model and layer
    (:func:`landscape.sweep.worker.group_key`), in plan order, at most ``batch`` per call and
    no more than an even share of the group among ``n_workers`` workers."""
    import math

    from .worker import group_key

    check_batch(batch)
    groups: dict[tuple, list] = {}
    for p in payloads:
        groups.setdefault(group_key(p.config), []).append(p)
    out = []
    for members in groups.values():
        size = max(1, min(batch, math.ceil(len(members) / max(1, n_workers))))
        out += [members[i:i + size] for i in range(0, len(members), size)]
    return out


def _dashboard_line(client: Any) -> str:
    import importlib.util

    if importlib.util.find_spec("bokeh") is None:
        return "Dask dashboard: not served (Dask's dashboard needs bokeh: pip install 'bokeh>=3.1')"
    return f"Dask dashboard: {client.dashboard_link}"


def _call_group(group: list) -> dict:
    """:func:`landscape.sweep.worker.run_tasks` on a group, with errors as text (what travels back from a
    worker); an error of the whole call is every task's."""
    from .worker import run_tasks

    try:
        res = run_tasks(group)
    except Exception as e:  # one failing group must not stop the others
        return {p.key: f"{type(e).__name__}: {e}" for p in group}
    return {k: f"{type(v).__name__}: {v}" if isinstance(v, BaseException) else v for k, v in res.items()}


def _collect(group: list, res: dict, rows_by_key: dict, failures: dict) -> None:
    for p in group:
        v = res.get(p.key, "the worker returned no result for it")
        if isinstance(v, str):
            failures[p.key] = v
        else:
            rows_by_key[p.key] = v


def _run_serial(evolve: list, maps: list, rows_by_key: dict, failures: dict, bar: Any) -> None:
    from .worker import run_map_task

    for group in evolve:
        _collect(group, _call_group(group), rows_by_key, failures)
        bar.update(len(group))
    for p in maps:
        lost = [k for k in p.config["tasks"] if k not in rows_by_key]
        try:
            if lost:
                raise RuntimeError(f"not mapped: evolution tasks {lost} of this unit failed")
            rows_by_key[p.key] = run_map_task(p, [rows_by_key[k] for k in p.config["tasks"]])
        except Exception as e:
            failures[p.key] = f"{type(e).__name__}: {e}"
        bar.update(1)


def _pick(results: dict, key: str) -> dict:
    """One task's row out of its group's results (a map task's input); raises for a failed task."""
    v = results[key]
    if isinstance(v, str):
        raise RuntimeError(f"evolution task {key} failed: {v}")
    return v


def _run_dask(client: Any, evolve: list, maps: list, rows_by_key: dict, failures: dict, bar: Any, say: Any,
              n_workers: int, dashboard_address: str | None) -> None:
    from distributed import Client, as_completed

    from .worker import run_map_task

    owned: list[Any] = []
    if client is None:
        client = start_local_client(n_workers, dashboard_address)
        owned = [client] + ([client.cluster] if client.cluster is not None else [])
        say(f"sweep: started a local Dask cluster with {n_workers} worker processes")
    elif isinstance(client, str):
        client = Client(client)
        owned = [client]
    futures: dict[Any, str] = {}
    try:
        say(_dashboard_line(client))
        by_key = {}
        groups: dict[Any, list] = {}
        for group in evolve:
            fut = client.submit(_call_group, group, key="landscape-sweep-" + "-".join(p.key for p in group), pure=False)
            futures[fut] = group[0].key
            groups[fut] = group
            for p in group:  # a map waits for its unit's group and takes its task's row out of it
                by_key[p.key] = client.submit(_pick, fut, p.key, key=f"landscape-sweep-pick-{p.key}", pure=False)
        for p in maps:
            # Dask runs a map once its unit's evolutions are done and passes their rows in
            deps = [by_key.get(k, rows_by_key.get(k)) for k in p.config["tasks"]]
            futures[client.submit(run_map_task, p, deps, key=f"landscape-sweep-map-{p.key}", pure=False)] = p.key
        for fut in as_completed(list(futures)):
            key = futures[fut]
            group = groups.get(fut)
            if fut.status == "finished":
                if group is None:
                    rows_by_key[key] = fut.result()
                else:
                    _collect(group, fut.result(), rows_by_key, failures)
            else:
                error = "cancelled before it finished" if fut.status == "cancelled" else \
                    f"{type(fut.exception()).__name__}: {fut.exception()}"
                for k in ([p.key for p in group] if group is not None else [key]):
                    failures[k] = error
            fut.release()
            bar.update(len(group) if group is not None else 1)
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        for obj in owned:
            obj.close()
