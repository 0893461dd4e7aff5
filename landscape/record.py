"""The run folder: create it, resume it, commit a generation, keep its status; read it back (:class:`Run`).

Run folder schema (``landscape-run/1``)
---------------------------------------
``meta.json``
    ``format``, ``generator`` (its ``describe()``), ``unit`` (the scorer's ``describe()``: a
    unit's, or a live rig's ``LiveNeuron`` description), ``optimizer`` (``config()``), ``budget``
    (evaluations), ``seed``, ``init`` (how the first codes were made), ``versions`` (python,
    torch, numpy, landscape), ``created`` (UTC ISO time), ``status`` ("running", "complete",
    "stopped", "failed" or "interrupted"), ``evaluations`` once it ends, and, if it failed,
    ``error``. A scorer may add its own section (a live run's ``live``). Written as strict JSON
    under :mod:`landscape.io`'s rule (NaN and infinities are ``null``).
``generations/gen_NNNNNN.npz``, one per completed generation, written atomically:
    ``codes`` (pop, d) float32, ``scores`` (pop,) float64 observed scores, ``clean_scores``
    (pop,) float64 noise-free scores (NaN when the unit has no clean read-out, e.g. a live
    neuron), ``wall_time`` seconds spent on the generation, ``time`` UNIX time at commit,
    ``evaluations`` total evaluations so far, plus any arrays the scorer adds (a live run's
    ``image_ids``, ``responses``, ...: :mod:`landscape.live.experiment`).
``best/gen_NNNNNN.png``
    The best image (by observed score) of each generation.
``scores.csv``
    One row per generation: generation, evaluations, best and mean observed score, best clean
    score, wall time — for a spreadsheet.
``state/checkpoint.pt``
    ``generation``, ``evaluations``, ``optimizer`` (its ``state_dict``) and the scorer's entries
    (``unit``: the unit's state; a live run's ``live``: next block and channel count) after the
    last committed generation (``torch.save``; loaded with ``weights_only=True``), used by resume.
``failed/gen_NNNNNN.npz``
    Codes and whatever scores were measured in a generation that failed (NaN scores with
    ``nan_policy="raise"``, or an exception from the unit), so nothing measured is lost.

Commit order and exact resume
-----------------------------
A generation is committed by writing, in this order, its ``.npz``, its best image, its
``scores.csv`` row and then the checkpoint; it counts once the checkpoint after it is on disk.
Generation files newer than the checkpoint (a kill between the writes) are discarded and
redone on resume; since the optimizer and the scorer's random state are restored
bit-for-bit, the redone generation equals the discarded one, and a resumed run equals an
uninterrupted run. A run killed before its first commit starts again exactly as the first call
did (the same initial codes).

Seams for integrity checks
--------------------------
:class:`RunRecord` is the only code that touches these files, so checks of them belong here:
:meth:`RunRecord.lock` (held from :meth:`~RunRecord.open` to :meth:`~RunRecord.close`),
:meth:`RunRecord.verify` (run on resume before any new work) and :meth:`RunRecord.seal`
(after each commit) are where a folder lock, damage detection and per-generation digests
go; today the lock and the digests do nothing and ``verify`` checks the generation sequence.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from .io import atomic_save_npz, atomic_write_bytes, atomic_write_json, json_roundtrip, read_json, save_png

FORMAT = "landscape-run/1"

#: statuses ``meta.json`` can hold
STATUSES = ("running", "complete", "stopped", "failed", "interrupted")


class RunError(RuntimeError):
    """A run cannot start, resume, or continue; the message says why and what was kept."""


def versions() -> dict[str, str]:
    """Versions recorded in ``meta.json``."""
    from . import __version__

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "landscape": __version__}


def generation_path(folder: Path, g: int) -> Path:
    """``folder/gen_NNNNNN.npz``."""
    return Path(folder) / f"gen_{g:06d}.npz"


def checkpoint_generation(run_dir: str | os.PathLike) -> int | None:
    """The last committed generation of a run folder (None before the first commit)."""
    ck = Path(run_dir) / "state" / "checkpoint.pt"
    if not ck.exists():
        return None
    return int(torch.load(ck, map_location="cpu", weights_only=True)["generation"])


_checkpoint_generation = checkpoint_generation  # the name sweeps used


def remove_stale_temporaries(run_dir: str | os.PathLike) -> int:
    """Delete temporary files a killed writer left (``.<name>.tmp<pid>``) in a run folder; returns how many.

    Looks in the folder and its direct sub-folders; a file whose writer is still alive (this
    process, or another running process: the rig, the HTTP server) is left alone.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return 0
    folders = [run_dir] + sorted(p for p in run_dir.iterdir() if p.is_dir())
    n = 0
    for folder in folders:
        for p in folder.glob(".*.tmp*"):
            pid = p.name.rsplit(".tmp", 1)[-1]
            if pid.isdigit() and _alive(int(pid)):
                continue  # a live writer (the rig, or the server) is still using it
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    return n


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # ours: a thread of this process (the HTTP server, an in-process rig) may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def append_scores_csv(path: Path, g: int, evaluations: int, scores: torch.Tensor, clean: torch.Tensor,
                      wall: float) -> None:
    """Add generation ``g``'s row to ``scores.csv``, dropping rows of generations >= g (redone ones)."""
    rows = []
    if path.exists():
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f)][1:]
        rows = [r for r in rows if int(r[0]) < g]  # drop rows of redone generations
    finite = scores[torch.isfinite(scores)]
    rows.append([g, evaluations, f"{float(finite.max()) if finite.numel() else float('nan'):.6g}",
                 f"{float(finite.mean()) if finite.numel() else float('nan'):.6g}",
                 f"{float(torch.nan_to_num(clean, nan=-math.inf).max()) if not torch.isnan(clean).all() else float('nan'):.6g}",
                 f"{wall:.4f}"])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["generation", "evaluations", "best_score", "mean_score", "best_clean_score", "wall_time_s"])
    w.writerows(rows)
    atomic_write_bytes(path, buf.getvalue().encode())


# --------------------------------------------------------------------------------------
# writing: the record of one run
# --------------------------------------------------------------------------------------
class RunRecord:
    """The files of one run, and the only code that writes them.

    The loop (:func:`landscape.runs.evolve`) drives it: :meth:`open` (new or resumed folder),
    :meth:`check_config`, :meth:`restore` (checkpoint), :meth:`begin` (meta of this session),
    :meth:`write_meta`, then :meth:`commit` per generation, and :meth:`close` with the final
    status.

    Parameters
    ----------
    out : path
        The run folder.
    write_error : callable(path, OSError) -> Exception, or None
        Turns a failed write into the error to raise (a live run's ``StorageError``, which says
        how to resume); None raises the ``OSError`` itself.
    resume_hint : str
        Added to the "already holds a run" error after "pass resume=True".
    new_folder_reason : str or None
        When set, a new run needs a fresh folder (:meth:`is_fresh`) and this says why.
    is_fresh : callable(Path) -> bool, or None
        Whether a folder without ``meta.json`` may take a new run (default: it is absent or empty).
    """

    def __init__(self, out: str | os.PathLike, *, write_error: Callable[[Path, OSError], BaseException] | None = None,
                 resume_hint: str = "", new_folder_reason: str | None = None,
                 is_fresh: Callable[[Path], bool] | None = None) -> None:
        self.out = Path(out)
        self.meta_path = self.out / "meta.json"
        self.checkpoint_path = self.out / "state" / "checkpoint.pt"
        self.generations = self.out / "generations"
        self.write_error = write_error
        self.resume_hint = resume_hint
        self.new_folder_reason = new_folder_reason
        self._is_fresh = is_fresh
        self.meta: dict | None = None
        self.resuming = False
        self.start_generation = 0
        self.evaluations = 0
        self.bar = None  # the loop's progress bar, for scorers that say what they wait for

    # -- the seams of later integrity checks ---------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator["RunRecord"]:
        """Held while the run writes its folder (today: no lock is taken)."""
        yield self

    def verify(self) -> None:
        """Check a resumed folder before any new work: generation files numbered without a gap."""
        for g, f in enumerate(sorted(self.generations.glob("gen_*.npz"))):
            if f.name != generation_path(self.generations, g).name:
                raise RunError(f"{self.generations} is missing generation {g} (found {f.name}); the folder was "
                               "edited or damaged, so it cannot be resumed exactly")

    def seal(self, generation: int, paths: list[Path]) -> None:
        """Called after generation ``generation`` is committed, with the files written (today: nothing)."""

    # -- opening --------------------------------------------------------------------------
    def is_fresh(self) -> bool:
        """Whether the folder (which has no ``meta.json``) may take a new run."""
        if self._is_fresh is not None:
            return self._is_fresh(self.out)
        return not self.out.exists() or not any(self.out.iterdir())

    def open(self, resume: bool) -> dict | None:
        """Decide whether this is a new run or a resumed one.

        Returns
        -------
        The recorded meta of a resumed run, or None for a new run.
        """
        if self.meta_path.exists():
            if not resume:
                raise RunError(f"{self.out} already holds a run; pass resume=True{self.resume_hint} to continue it, "
                               "or choose another folder")
            meta = read_json(self.meta_path)
            if meta.get("format") != FORMAT:
                raise RunError(f"cannot resume {self.out}: meta.json has format {meta.get('format')!r}, expected "
                               f"{FORMAT!r}")
            self.resuming = True
            self.meta = meta
            return meta
        fresh = self.is_fresh()
        if resume and not fresh:
            raise RunError(f"cannot resume {self.out}: it has no meta.json")
        if not resume and not fresh and self.new_folder_reason:
            raise RunError(f"{self.out} is not empty; {self.new_folder_reason}")
        return None

    def check_config(self, config: dict) -> None:
        """A resumed run must use the generator, unit and optimizer it was started with."""
        for key in ("generator", "unit", "optimizer"):
            now, recorded = _settings(key, json_roundtrip(config[key])), _settings(key, self.meta.get(key))
            if now != recorded:
                hint = ""
                if key == "optimizer" and isinstance(recorded, dict) and set(now) - set(recorded):
                    hint = (f"; the recorded settings lack {', '.join(sorted(set(now) - set(recorded)))}: the run was "
                            "started by an earlier version of this optimizer (README, 'Runs started before the "
                            "presets'), finish it with that version")
                raise RunError(f"cannot resume {self.out}: its {key} was {self.meta.get(key)} but this call has "
                               f"{config[key]}{hint}")

    def restore(self) -> dict | None:
        """Prepare a resumed folder: stale temporaries removed, :meth:`verify`, the checkpoint read,
        generation files after it deleted (they are redone).

        Returns
        -------
        The checkpoint (``generation``, ``evaluations``, ``optimizer``, scorer entries) or None
        when the run was killed before its first commit.
        """
        remove_stale_temporaries(self.out)
        self.verify()
        ck = None
        if self.checkpoint_path.exists():
            ck = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
            self.start_generation, self.evaluations = int(ck["generation"]) + 1, int(ck["evaluations"])
        for f in self.generations.glob("gen_*.npz"):  # written after the last checkpoint: redo them
            if int(f.stem.split("_")[1]) >= self.start_generation:
                f.unlink()
        return ck

    def begin(self, config: dict, init: dict | None) -> dict:
        """The meta of this session: a new one, or the resumed one marked running again."""
        if self.resuming:
            meta = self.meta
            meta["budget"] = int(config["budget"])
            meta["status"] = "running"
            meta.pop("error", None)
        else:
            meta = {"format": FORMAT, **config, "init": init, "versions": versions(),
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "status": "running"}
        self.meta = meta
        return meta

    def write_meta(self) -> None:
        """Write ``meta.json`` (creating the folder of a new run)."""
        if not self.out.exists():
            try:
                self.out.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise RunError(f"cannot create the run folder {self.out}: {e}") from e
        self._write(atomic_write_json, self.meta_path, self.meta)

    # -- per generation -------------------------------------------------------------------
    def _write(self, writer: Callable[..., Any], path: Path, *args: Any, **kwargs: Any) -> None:
        try:
            writer(path, *args, **kwargs)
        except OSError as e:
            if self.write_error is None:
                raise
            raise self.write_error(path, e) from e

    def commit(self, g: int, codes: torch.Tensor, scores: torch.Tensor, clean: torch.Tensor, wall: float,
               evaluations: int, state: dict, images: torch.Tensor | None = None,
               extra: dict[str, np.ndarray] | None = None) -> None:
        """Write generation ``g``: its data, best image and csv row, then the checkpoint that makes it count.

        Parameters
        ----------
        codes : (pop, d) tensor ; scores, clean : (pop,) float64 tensors
        wall : seconds the generation took ; evaluations : total after it
        state : checkpoint entries besides generation and evaluations (``optimizer`` and the scorer's)
        images : (pop, 3, H, W) tensor or None (no best image written)
        extra : further arrays for the generation's ``.npz``
        """
        npz = generation_path(self.generations, g)
        self._write(atomic_save_npz, npz, codes=codes.detach().float().cpu().numpy(),
                    scores=scores.double().numpy(), clean_scores=clean.double().numpy(), wall_time=np.float64(wall),
                    time=np.float64(time.time()), evaluations=np.int64(evaluations), **(extra or {}))
        written = [npz]
        if images is not None:
            best = self.out / "best" / f"gen_{g:06d}.png"
            self._write(save_png, best, images[int(torch.nan_to_num(scores, nan=-math.inf).argmax())])
            written.append(best)
        # the csv row goes before the checkpoint: a committed generation always has its row, and a
        # row written for a generation that is then redone is replaced
        self._write(append_scores_csv, self.out / "scores.csv", g, evaluations, scores.double(), clean.double(), wall)
        buf = io.BytesIO()
        torch.save({"generation": g, "evaluations": evaluations, **state}, buf)
        self._write(atomic_write_bytes, self.checkpoint_path, buf.getvalue())
        self.evaluations = evaluations
        self.seal(g, written + [self.out / "scores.csv", self.checkpoint_path])

    def save_failed(self, g: int, codes: torch.Tensor, scores: torch.Tensor | None = None,
                    clean: torch.Tensor | None = None) -> Path:
        """Keep the codes (and any scores) of a generation that could not be committed in ``failed/``."""
        arrays = {"codes": codes.detach().float().cpu().numpy()}
        if scores is not None:
            arrays["scores"] = scores.double().numpy()
            arrays["clean_scores"] = clean.double().numpy()
        path = generation_path(self.out / "failed", g)
        self._write(atomic_save_npz, path, **arrays)
        return path

    # -- closing --------------------------------------------------------------------------
    def close(self, status: str, evaluations: int | None = None, error: BaseException | None = None) -> None:
        """Record how the session ended.

        ``complete``/``stopped`` write ``evaluations``; ``failed``/``interrupted`` write ``error``
        and never raise a write error of their own (the original error matters more, and the
        committed generations are already on disk).
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        self.meta["status"] = status
        if error is None:
            if evaluations is not None:
                self.meta["evaluations"] = int(evaluations)
            self._write(atomic_write_json, self.meta_path, self.meta)
            return
        self.meta["error"] = f"{type(error).__name__}: {error}"
        try:
            atomic_write_json(self.meta_path, self.meta)
        except OSError:
            pass

    def __repr__(self) -> str:
        return f"RunRecord(out={str(self.out)!r}, resuming={self.resuming})"


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------
@dataclass
class Run:
    """A recorded evolution, read back from its folder.

    Attributes
    ----------
    dir : Path
    meta : dict
        Contents of ``meta.json``.
    gen_codes, gen_scores, gen_clean : lists of arrays, one per generation
        (pop_g, d), (pop_g,), (pop_g,) — populations may differ in size.
    wall_time : (n_gen,) array of seconds per generation
    """

    dir: Path
    meta: dict
    gen_codes: list[np.ndarray]
    gen_scores: list[np.ndarray]
    gen_clean: list[np.ndarray]
    wall_time: np.ndarray

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Run":
        """Read a run folder (complete, running or failed)."""
        d = Path(path)
        if not (d / "meta.json").is_file():
            raise FileNotFoundError(f"{d} is not a run folder: it has no meta.json")
        meta = read_json(d / "meta.json")
        if meta.get("format") != FORMAT:
            raise ValueError(f"{d}/meta.json has format {meta.get('format')!r}, expected {FORMAT!r}")
        files = sorted((d / "generations").glob("gen_*.npz"))
        last = checkpoint_generation(d)
        codes, scores, clean, wall = [], [], [], []
        for g, f in enumerate(files):
            if f.name != generation_path(d / "generations", g).name:
                raise ValueError(f"{d}/generations is missing generation {g} (found {f.name})")
            if last is not None and g > last:
                break  # written but not committed: it will be redone on resume
            with np.load(f) as z:
                codes.append(z["codes"])
                scores.append(z["scores"])
                clean.append(z["clean_scores"])
                wall.append(float(z["wall_time"]))
        return cls(d, meta, codes, scores, clean, np.asarray(wall))

    # -- views ----------------------------------------------------------------------------
    @property
    def n_generations(self) -> int:
        return len(self.gen_codes)

    @property
    def codes(self) -> np.ndarray:
        """(n_gen, pop, d) codes; raises if population sizes differ (use ``all_codes``)."""
        return self._stack(self.gen_codes, "codes")

    @property
    def scores(self) -> np.ndarray:
        """(n_gen, pop) observed scores."""
        return self._stack(self.gen_scores, "scores")

    @property
    def clean_scores(self) -> np.ndarray | None:
        """(n_gen, pop) noise-free scores, or None when the unit had none."""
        c = self._stack(self.gen_clean, "clean_scores")
        return None if c.size == 0 or np.all(np.isnan(c)) else c

    @property
    def has_clean_scores(self) -> bool:
        """Whether the unit reported noise-free scores (works with any population sizes)."""
        return any(c.size and not np.all(np.isnan(c)) for c in self.gen_clean)

    @property
    def all_codes(self) -> np.ndarray:
        """(N, d) every evaluated code, in order."""
        return np.concatenate(self.gen_codes) if self.gen_codes else np.zeros((0, 0), np.float32)

    @property
    def all_scores(self) -> np.ndarray:
        """(N,) every observed score, in order."""
        return np.concatenate(self.gen_scores) if self.gen_scores else np.zeros(0)

    @property
    def generation_index(self) -> np.ndarray:
        """(N,) generation of each row of ``all_codes``."""
        return np.concatenate([np.full(len(s), g) for g, s in enumerate(self.gen_scores)]) \
            if self.gen_scores else np.zeros(0, int)

    def _stack(self, xs: list[np.ndarray], what: str) -> np.ndarray:
        if not xs:
            return np.zeros((0, 0))
        if len({x.shape for x in xs}) > 1:
            raise ValueError(f"population sizes differ between generations; use all_{what} and generation_index")
        return np.stack(xs)

    def _ranking_scores(self) -> np.ndarray:
        return np.concatenate(self.gen_clean) if self.has_clean_scores else self.all_scores

    @property
    def best_index(self) -> int:
        """Row of ``all_codes`` with the best clean score (observed score when no clean one)."""
        s = self._ranking_scores()
        if s.size == 0:
            raise ValueError(f"run {self.dir} has no completed generation")
        return int(np.nanargmax(s))

    @property
    def best_code(self) -> np.ndarray:
        """(d,) the best code (by clean score when known, else observed)."""
        return self.all_codes[self.best_index]

    @property
    def best_score(self) -> float:
        """Clean score of ``best_code`` (observed score when no clean one)."""
        return float(self._ranking_scores()[self.best_index])

    def best_per_generation(self) -> np.ndarray:
        """(n_gen,) the best observed score of each generation."""
        return np.array([np.nanmax(s) for s in self.gen_scores])

    def best_clean_per_generation(self) -> np.ndarray:
        """(n_gen,) the best noise-free score of each generation (NaN where there is none)."""
        return np.array([np.nanmax(c) if c.size and not np.all(np.isnan(c)) else np.nan for c in self.gen_clean])

    def mean_per_generation(self) -> np.ndarray:
        """(n_gen,) the mean observed score of each generation."""
        return np.array([np.nanmean(s) for s in self.gen_scores])

    def __repr__(self) -> str:
        return (f"Run(dir={str(self.dir)!r}, generations={self.n_generations}, "
                f"status={self.meta.get('status')!r})")


def _settings(key: str, config: Any) -> Any:
    """A recorded config without its documentation: an optimizer's ``reference`` entry (source,
    rule, code space) is text that may be reworded or added between versions; resuming compares
    the settings only."""
    if key == "optimizer" and isinstance(config, dict):
        return {k: v for k, v in config.items() if k != "reference"}
    return config
