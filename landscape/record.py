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
    ``state/checkpoint.next.pt`` is the next one while a commit is in progress.
``manifest.jsonl``
    One JSON line per committed generation ``g`` (line ``g + 1``), appended as it is committed:
    ``generation``, ``evaluations``, ``time``, ``files`` (``{"generations/gen_NNNNNN.npz": [sha256,
    bytes], "best/gen_NNNNNN.png": ..., "scores.csv": ..., "state/checkpoint.pt": ...}``: the
    files as that commit left them), ``meta`` (sha256 of ``meta.json``'s fixed fields:
    :data:`META_FIXED`), ``prev`` (the previous line's ``sha256``; null on the first) and
    ``sha256`` (of the line itself without this key, keys sorted, compact separators); lines of
    a folder from before manifests, digested when it was first resumed, add ``"adopted": true``.
    ``meta.json`` holds ``"integrity": "sha256-manifest/1"`` in folders that have one.
``.lock``
    The writer's exclusive ``fcntl.flock`` (:func:`landscape.io.folder_lock`), held from before
    :meth:`RunRecord.open` to the end of the run; while held it says who holds it (pid, host,
    since). The kernel frees it when the process dies, so ``kill -9`` leaves no stale lock.
``failed/gen_NNNNNN.npz``
    Codes and whatever scores were measured in a generation that failed (NaN scores with
    ``nan_policy="raise"``, or an exception from the unit), so nothing measured is lost.

Commit order and exact resume
-----------------------------
A generation is committed by writing, in this order, its ``.npz``, its best image, its
``scores.csv`` row, the next checkpoint (``checkpoint.next.pt``), then its manifest line;
it counts once that line is on disk, and the next checkpoint is then renamed over
``checkpoint.pt``. On resume, before any new work, :meth:`RunRecord.verify` checks every
committed file against the manifest (missing, truncated, wrong size, digest mismatch, a gap
or a broken chain in the manifest, fixed fields of ``meta.json`` changed, a checkpoint or
generation files newer than the manifest allows) and refuses with a :class:`DamagedRun`
naming each file and what is wrong; nothing is repaired and no committed file is deleted.
What a kill left uncommitted is then dropped (a generation file, image or csv row after the
last manifest line, a torn last manifest line, a next checkpoint no line records) and a
commit killed between its manifest line and the rename is finished (the next checkpoint's
digest is the one recorded). Since the optimizer and the scorer's random state are restored
bit-for-bit, a redone generation equals the dropped one, and a resumed run equals an
uninterrupted run. A run killed before its first commit starts again exactly as the first
call did (the same initial codes).

A lost checkpoint (or one an older line records) is rebuilt by replaying the committed
generations after it (:attr:`RunRecord.replay_generations`; :func:`landscape.runs.evolve`
does it): the optimizer, made again from the recorded configuration and initial codes, must
ask exactly the recorded codes, the scorer scores their images again (a unit's noise
generator advances as it did) and must give the recorded scores, and the optimizer is told
them; any difference refuses the resume. A scorer that cannot be replayed (a live neuron)
refuses with instructions. A damaged checkpoint is refused like any damaged file; moving it
away turns it into a lost one.

Folders from before manifests
-----------------------------
``landscape-run/1`` folders written before manifests existed (no ``manifest.jsonl``, no
``integrity`` in ``meta.json``) still load, with an :class:`UnmanifestedRunWarning` (their
files cannot be checked), and resume as before; the first resume digests their committed
files as found (lines marked ``adopted``) and writes manifest lines from then on. The format
name stays ``landscape-run/1``: every file it had keeps its meaning, and readers that do not
know the manifest can ignore it.

Writes that fail
----------------
A write that fails (disk full, file size limit, permissions) raises a one-line
:class:`RunError` (or the scorer's own error) naming the file, the errno, what is committed
and how to resume; the generation being committed leaves none of its files, and atomic
writes leave no temporaries.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import math
import os
import platform
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from .io import (LOCK_NAME, FolderBusy, append_line, atomic_save_npz, atomic_write_bytes, atomic_write_json,
                 folder_lock, json_roundtrip, read_json, save_png, sha256_bytes, sha256_file)

FORMAT = "landscape-run/1"

#: the integrity scheme ``meta.json`` names under ``integrity`` (folders without it predate manifests)
INTEGRITY = "sha256-manifest/1"
MANIFEST = "manifest.jsonl"
CHECKPOINT = "state/checkpoint.pt"
PENDING_CHECKPOINT = "state/checkpoint.next.pt"
#: files rewritten by every commit: checked against the last manifest line only
MUTABLE = ("scores.csv", CHECKPOINT)

#: statuses ``meta.json`` can hold
STATUSES = ("running", "complete", "stopped", "failed", "interrupted")


class RunError(RuntimeError):
    """A run cannot start, resume, or continue; the message says why and what was kept."""


class DamagedRun(RunError):
    """A run folder's files do not match its manifest (missing, truncated, changed, out of order).

    ``problems`` lists ``(file, what is wrong)`` pairs, the file relative to the run folder.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class UnmanifestedRunWarning(UserWarning):
    """A run folder written before run folders carried a sha256 manifest: its files are not checked."""


# --------------------------------------------------------------------------------------
# the manifest: one line per committed generation
# --------------------------------------------------------------------------------------
def _entry_digest(entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "sha256"}
    return sha256_bytes(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


@dataclass
class Manifest:
    """The parsed ``manifest.jsonl`` of a run folder.

    Attributes
    ----------
    entries : list of dict, entry ``g`` for committed generation ``g``
    intact_bytes : length of the file up to the end of its last complete line
    torn : whether a last line without its newline follows (an append cut by a kill: not committed)
    """

    entries: list[dict]
    intact_bytes: int
    torn: bool = False

    @property
    def last(self) -> dict | None:
        return self.entries[-1] if self.entries else None

    def checkpoint_of(self, g: int) -> list | None:
        return self.entries[g]["files"].get(CHECKPOINT)


def read_manifest(run_dir: str | os.PathLike) -> Manifest | None:
    """Parse ``run_dir/manifest.jsonl`` (None when there is none).

    Raises
    ------
    DamagedRun
        A line that is not JSON, whose own digest does not match it, that does not follow the
        line before it (``prev`` chain), or that names another generation than its position.
    """
    p = Path(run_dir) / MANIFEST
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return None
    lines = data.split(b"\n")
    tail = lines.pop()
    entries: list[dict] = []
    prev = None

    def bad(what: str) -> DamagedRun:
        return DamagedRun(_damage_message(Path(run_dir), [(MANIFEST, what)], "cannot use"), [(MANIFEST, what)])

    for i, raw in enumerate(lines, 1):
        try:
            e = json.loads(raw)
        except ValueError:
            e = None
        if not isinstance(e, dict) or e.get("sha256") != _entry_digest(e):
            raise bad(f"line {i} does not match its own digest (edited or corrupted)")
        if e.get("prev") != prev:
            raise bad(f"line {i} does not follow line {i - 1} (lines removed, reordered or replaced)")
        if e.get("generation") != i - 1:
            raise bad(f"line {i} is for generation {e.get('generation')}, expected {i - 1} (a gap)")
        prev = e["sha256"]
        entries.append(e)
    return Manifest(entries, len(data) - len(tail), torn=bool(tail))


#: the fields of meta.json fixed when a run starts; their digest is in every manifest line
META_FIXED = ("format", "generator", "unit", "optimizer", "seed", "init", "created")


def _meta_digest(meta: dict) -> str:
    fixed = {k: meta.get(k) for k in META_FIXED}
    return sha256_bytes(json.dumps(json_roundtrip(fixed), sort_keys=True, separators=(",", ":")).encode())


def _meta_problem(meta: dict, m: Manifest | None) -> str | None:
    if m is None or m.last is None or "meta" not in m.last:
        return None
    if _meta_digest(meta) != m.last["meta"]:
        return ("digest mismatch in its fixed fields (" + ", ".join(META_FIXED) + "): edited or damaged after the "
                "run started")
    return None


def _file_problem(run_dir: Path, rel: str, record: list, full: bool = True) -> str | None:
    """What is wrong with ``run_dir/rel`` against its manifest record ``[sha256, size]`` (None: nothing)."""
    path = run_dir / rel
    digest, size = record
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        g = _generation_number(path) if rel.startswith("generations/") else None
        return "missing" if g is None else f"missing generation {g}"
    if actual < size:
        return f"truncated ({actual} of {size} bytes)"
    if actual > size:
        return f"wrong size ({actual} bytes, committed with {size})"
    if full and sha256_file(path)[0] != digest:
        return "digest mismatch (its bytes changed after it was committed)"
    return None


def _scores_csv_problem(run_dir: Path, m: Manifest) -> str | None:
    """``scores.csv`` against the last commit: the same bytes, or those plus the row of the generation in progress."""
    rec = m.last["files"].get("scores.csv") if m.last else None
    if rec is None:
        return None
    path = run_dir / "scores.csv"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing"
    digest, size = rec
    if len(data) == size and sha256_bytes(data) == digest:
        return None
    extra = data[size:]
    if (len(data) > size and sha256_bytes(data[:size]) == digest and extra.count(b"\n") == 1
            and extra.endswith(b"\n") and extra.startswith(f"{len(m.entries)},".encode())):
        return None  # the row of a generation written but not committed (a kill before its manifest line)
    return _file_problem(run_dir, "scores.csv", rec)


def _manifest_behind(run_dir: Path, m: Manifest) -> str | None:
    """Whether the manifest has lost its last lines: generation files or a checkpoint newer than it allows."""
    last_g = len(m.entries) - 1
    later = [g for f in (run_dir / "generations").glob("gen_*.npz")
             if (g := _generation_number(f)) is not None and g > last_g + 1]
    if later:
        return (f"ends at generation {last_g} but generations/gen_{max(later):06d}.npz exists: its last lines were "
                "lost (truncated or edited)")
    ck = run_dir / CHECKPOINT
    rec = m.checkpoint_of(last_g) if last_g >= 0 else None
    if ck.exists() and (rec is None or ck.stat().st_size != rec[1] or sha256_file(ck)[0] != rec[0]):
        with contextlib.suppress(DamagedRun, KeyError, TypeError, ValueError):
            g = int(_load_checkpoint(ck)["generation"])
            if g > last_g:
                return (f"ends at generation {last_g}{' (and a torn line)' if m.torn else ''} but {CHECKPOINT} "
                        f"holds generation {g}: its last lines were lost (truncated or edited)")
    return None


def _damage_message(run_dir: Path, problems: list[tuple[str, str]], doing: str) -> str:
    listed = "; ".join(f"{rel}: {what}" for rel, what in problems)
    return (f"{doing} {run_dir}: {len(problems)} damaged file{'s' if len(problems) > 1 else ''} ({listed}). "
            "Nothing was changed (committed data is never deleted or repaired automatically); restore "
            "the named files from a copy, or start a new run with init=<this folder> from its last intact "
            "generation")


def versions() -> dict[str, str]:
    """Versions recorded in ``meta.json``."""
    from . import __version__

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "landscape": __version__}


def generation_path(folder: Path, g: int) -> Path:
    """``folder/gen_NNNNNN.npz``."""
    return Path(folder) / f"gen_{g:06d}.npz"


def checkpoint_generation(run_dir: str | os.PathLike) -> int | None:
    """The last committed generation of a run folder (None before the first commit).

    With a manifest: its last line; in an older folder: the checkpoint's generation.
    """
    m = read_manifest(run_dir)
    if m is not None:
        return len(m.entries) - 1 if m.entries else None
    ck = Path(run_dir) / CHECKPOINT
    if not ck.exists():
        return None
    return int(_load_checkpoint(ck)["generation"])


def _load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - a damaged pickle/zip raises many kinds
        raise DamagedRun(f"{path} is damaged and cannot be read ({type(e).__name__}: {e}); move it away and "
                         "resume to rebuild the optimizer state by replaying the committed generations",
                         [(CHECKPOINT, "unreadable")]) from None


_checkpoint_generation = checkpoint_generation  # the name sweeps used


def checkpoint_generation_unmanifested(run_dir: str | os.PathLike) -> int | None:
    """The generation ``state/checkpoint.pt`` holds (None when there is none); no manifest consulted."""
    ck = Path(run_dir) / CHECKPOINT
    return int(_load_checkpoint(ck)["generation"]) if ck.exists() else None


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


def _generation_number(f: Path) -> int | None:
    try:
        return int(f.stem.split("_")[1])
    except (IndexError, ValueError):
        return None


def _read_npz(path: Path, run_dir: Path, record: list | None = None) -> dict[str, np.ndarray]:
    """A generation file's arrays; its bytes checked against ``record`` ([sha256, size]) when given.

    Raises :class:`DamagedRun` naming the file (missing, truncated, digest mismatch, unreadable).
    """
    rel = path.relative_to(run_dir).as_posix() if path.is_relative_to(run_dir) else str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        g = _generation_number(path)
        raise DamagedRun(f"{run_dir}: missing generation {g} ({rel} is gone)", [(rel, "missing")]) from None
    if record is not None:
        digest, size = record
        what = (f"truncated ({len(data)} of {size} bytes)" if len(data) < size else
                f"wrong size ({len(data)} bytes, committed with {size})" if len(data) > size else
                "digest mismatch (its bytes changed after it was committed)"
                if sha256_bytes(data) != digest else None)
        if what:
            raise DamagedRun(_damage_message(run_dir, [(rel, what)], "cannot read"), [(rel, what)])
    try:
        with np.load(io.BytesIO(data)) as z:
            arrays = {k: z[k] for k in z.files}
        for k in ("codes", "scores", "clean_scores", "wall_time", "evaluations"):
            arrays[k]  # noqa: B018 - a committed generation has them all
    except Exception as e:  # noqa: BLE001 - BadZipFile, KeyError, ValueError, EOFError ...
        raise DamagedRun(f"{run_dir}: {rel} is damaged and cannot be read ({type(e).__name__}: {e})",
                         [(rel, "unreadable")]) from None
    return arrays


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
        self.checkpoint_path = self.out / CHECKPOINT
        self.pending_path = self.out / PENDING_CHECKPOINT
        self.manifest_path = self.out / MANIFEST
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
        #: committed generations whose optimizer/scorer state must be rebuilt by replaying them
        #: (their checkpoint was lost), and why; set by :meth:`restore`
        self.replay_generations: list[int] = []
        self.replay_reason = ""
        self._manifest: Manifest | None = None
        self._plan: tuple[str, int] = ("none", -1)
        self._adopting = False
        self._sealed = -1
        self._digests: dict[Path, tuple[str, int]] = {}

    # -- lock, verification, digests ------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator["RunRecord"]:
        """Hold the folder's exclusive writer lock (``.lock``, ``fcntl.flock``) for the duration.

        A second writer gets a :class:`RunError` naming the holder (pid, host, since). The
        kernel drops the lock when its process dies, so after ``kill -9`` the next call takes
        it. The folder is created to hold the lock; if nothing else was written into it by the
        end, it is removed again.
        """
        if self.out.exists() and not self.out.is_dir():
            raise RunError(f"{self.out} is a file, not a run folder; choose a folder for the run")
        created = not self.out.exists()
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(folder_lock(self.out, what="run writer"))
        except FolderBusy as e:
            raise RunError(f"cannot write the run: {e}") from None
        except OSError as e:
            raise RunError(f"cannot create or lock the run folder {self.out}: {e.strerror or e}") from None
        with stack:
            try:
                yield self
            finally:
                if created and [p.name for p in self.out.iterdir()] == [LOCK_NAME]:
                    with contextlib.suppress(OSError):
                        (self.out / LOCK_NAME).unlink()
                        self.out.rmdir()

    def verify(self) -> None:
        """Check a resumed folder before any new work; raise :class:`DamagedRun` naming every damaged file.

        With a manifest (:data:`MANIFEST`): every committed file is present with its recorded
        size and sha256, ``scores.csv`` is the last commit's, at most one generation file
        follows the last committed one, and the checkpoint is the last commit's (or an
        interrupted commit's verified successor, or an older commit's, or absent: the state is
        then rebuilt by replay). A folder from before manifests: generation files numbered
        without a gap and each readable. Nothing is changed here.
        """
        m = read_manifest(self.out)
        self._manifest = m
        if m is None:
            if self.meta is not None and self.meta.get("integrity"):
                later = [f for f in self.generations.glob("gen_*.npz") if (_generation_number(f) or 0) > 0]
                if self.checkpoint_path.exists() or later:  # something was committed: its manifest is gone
                    raise DamagedRun(_damage_message(self.out, [(MANIFEST, "missing")], "cannot resume"),
                                     [(MANIFEST, "missing")])
                self._manifest = m = Manifest([], 0)  # killed before its first commit
            else:
                self._verify_unmanifested()
                return
        problems: list[tuple[str, str]] = []
        for e in m.entries:
            for rel, rec in e["files"].items():
                if rel in MUTABLE:
                    continue
                what = _file_problem(self.out, rel, rec)
                if what:
                    problems.append((rel, what))
        last_g = len(m.entries) - 1
        if what := _scores_csv_problem(self.out, m):
            problems.append(("scores.csv", what))
        plan = self._checkpoint_plan(m)
        if plan[0] != "manifest" and (behind := _manifest_behind(self.out, m)):
            plan = ("manifest", -1, behind)
        if plan[0] == "manifest":  # the other mismatches follow from it
            problems = [p for p in problems if p[0] not in MUTABLE]
        if plan[0] == "damaged":
            problems.append((CHECKPOINT, plan[2]))
        elif plan[0] == "manifest":
            problems.append((MANIFEST, plan[2]))
        if problems:
            if plan[0] == "damaged" and len(problems) == 1:
                raise DamagedRun(
                    f"cannot resume {self.out}: {CHECKPOINT}: {plan[2]}. Nothing was changed. The committed "
                    f"generations 0..{last_g} are intact: move the checkpoint away (e.g. rename it to "
                    "checkpoint.pt.damaged) and resume again to rebuild the optimizer state by replaying them",
                    problems)
            raise DamagedRun(_damage_message(self.out, problems, "cannot resume"), problems)
        self._plan = plan[:2]

    def _checkpoint_plan(self, m: Manifest) -> tuple:
        """How to get the state after the last commit: ("ok"|"complete"|"replay"|"damaged", generation, why)."""
        last_g = len(m.entries) - 1
        if last_g < 0:
            if self.checkpoint_path.exists():
                return ("damaged", -1, "present, but the manifest records no committed generation")
            return ("none", -1)
        want = m.checkpoint_of(last_g)
        if want is not None and self.pending_path.exists() and _file_problem(self.out, PENDING_CHECKPOINT, want) is None:
            return ("complete", last_g)  # killed between the manifest line and the checkpoint's rename
        if not self.checkpoint_path.exists():
            return ("replay", -1, "state/checkpoint.pt is missing")
        digest, size = sha256_file(self.checkpoint_path)
        for g in range(last_g, -1, -1):
            rec = m.checkpoint_of(g)
            if rec is not None and rec[0] == digest and rec[1] == size:
                return ("ok", g) if g == last_g else ("replay", g, f"state/checkpoint.pt is generation {g}'s")
        if want is None:
            return ("replay", -1, "the manifest records no checkpoint")
        behind = _manifest_behind(self.out, m)
        if behind:
            return ("manifest", -1, behind)
        return ("damaged", -1, _file_problem(self.out, CHECKPOINT, want) or "digest mismatch")

    def _verify_unmanifested(self) -> None:
        """A folder written before manifests: generation files numbered without a gap, each readable."""
        last = None
        if self.checkpoint_path.exists():
            last = int(_load_checkpoint(self.checkpoint_path)["generation"])
        for g, f in enumerate(sorted(self.generations.glob("gen_*.npz"))):
            if f.name != generation_path(self.generations, g).name:
                raise DamagedRun(f"{self.generations} is missing generation {g} (found {f.name}); the folder was "
                                 "edited or damaged, so it cannot be resumed exactly",
                                 [(f"generations/gen_{g:06d}.npz", "missing")])
            if last is None or g <= last:
                _read_npz(f, self.out)
        if last is not None and not generation_path(self.generations, last).exists():
            raise DamagedRun(f"{self.generations} is missing generation {last}, which the checkpoint records as "
                             "committed", [(f"generations/gen_{last:06d}.npz", "missing")])

    def seal(self, generation: int, paths: list[Path]) -> None:
        """Make generation ``generation`` count: append its manifest line (sha256 and size of ``paths``).

        ``paths`` are the files the commit wrote; the pending checkpoint is recorded under the
        name it is renamed to (``state/checkpoint.pt``).
        """
        files = {}
        for p in paths:
            rel = Path(p).relative_to(self.out).as_posix()
            known = self._digests.pop(Path(p), None)  # the checkpoint's, hashed from memory (it can be large)
            files[CHECKPOINT if rel == PENDING_CHECKPOINT else rel] = list(known or sha256_file(p))
        m = self._manifest
        entry = {"generation": int(generation), "evaluations": int(self.evaluations), "time": round(time.time(), 3),
                 "files": files, "meta": _meta_digest(self.meta or {}),
                 "prev": m.last["sha256"] if m is not None and m.last else None}
        if self._adopting:
            entry["adopted"] = True  # digested as found when a folder from before manifests was resumed
        entry["sha256"] = _entry_digest(entry)
        self._write(append_line, self.manifest_path, json.dumps(entry, separators=(",", ":")))
        self._sealed = int(generation)
        if m is None:
            self._manifest = m = Manifest([], 0)
        m.entries.append(entry)

    # -- opening --------------------------------------------------------------------------
    def is_fresh(self) -> bool:
        """Whether the folder (which has no ``meta.json``) may take a new run."""
        if self._is_fresh is not None:
            return self._is_fresh(self.out)
        return not self.out.exists() or not any(p.name != LOCK_NAME for p in self.out.iterdir())

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
            try:
                meta = read_json(self.meta_path)
            except (ValueError, OSError) as e:
                what = f"not valid JSON ({str(e).split('(', 1)[-1].split(')')[0]})"
                raise DamagedRun(_damage_message(self.out, [("meta.json", what)], "cannot resume"),
                                 [("meta.json", what)]) from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                fmt = meta.get("format") if isinstance(meta, dict) else meta
                raise RunError(f"cannot resume {self.out}: meta.json has format {fmt!r}, expected "
                               f"{FORMAT!r}")
            try:
                what = _meta_problem(meta, read_manifest(self.out))
            except DamagedRun:
                what = None  # the manifest's own damage is reported by verify(), file by file
            if what:
                raise DamagedRun(_damage_message(self.out, [("meta.json", what)], "cannot resume"),
                                 [("meta.json", what)])
            self.resuming = True
            self.meta = meta
            return meta
        remove_stale_temporaries(self.out)  # a kill while the first meta.json was being written
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
        """Prepare a resumed folder: stale temporaries removed, :meth:`verify` (before any change),
        then what is not committed discarded (generation files after the last manifest line, a
        torn last line, a checkpoint written for a commit that did not happen) and an
        interrupted commit finished.

        A committed generation is never deleted. When the checkpoint is lost (or is an older
        commit's), :attr:`replay_generations` lists the generations whose state the loop must
        rebuild by replaying them (:func:`landscape.runs.evolve` does).

        Returns
        -------
        The checkpoint (``generation``, ``evaluations``, ``optimizer``, scorer entries) to start
        from, or None (no commit yet, or a replay from the start).
        """
        remove_stale_temporaries(self.out)
        self.verify()
        m = self._manifest
        if m is None:
            return self._restore_unmanifested()
        if m.torn:  # an append cut by a kill: that generation was not committed
            with open(self.manifest_path, "r+b") as f:
                f.truncate(m.intact_bytes)
        last_g = len(m.entries) - 1
        kind, g0 = self._plan
        if kind == "complete":
            os.replace(self.pending_path, self.checkpoint_path)
        elif self.pending_path.exists():
            self.pending_path.unlink()  # written for a commit that never happened
        self._discard_after(last_g)
        self.start_generation = last_g + 1
        self.evaluations = int(m.last["evaluations"]) if m.last else 0
        if kind in ("ok", "complete"):
            ck = _load_checkpoint(self.checkpoint_path)
            if int(ck["generation"]) != last_g:
                raise DamagedRun(f"cannot resume {self.out}: {CHECKPOINT} says generation {ck['generation']} but "
                                 f"its digest is generation {last_g}'s", [(CHECKPOINT, "inconsistent")])
            return ck
        if kind == "replay":
            ck = _load_checkpoint(self.checkpoint_path) if g0 >= 0 else None
            self.replay_generations = list(range(g0 + 1, last_g + 1))
            self.replay_reason = (f"{CHECKPOINT} is missing" if g0 < 0 and not self.checkpoint_path.exists() else
                                  f"{CHECKPOINT} holds generation {g0}, the manifest commits up to {last_g}")
            return ck
        return None

    def _restore_unmanifested(self) -> dict | None:
        """A folder from before manifests: as before, plus a lost checkpoint is replayed, never deleted;
        its committed files are then recorded in a new manifest (lines marked ``adopted``)."""
        ck = None
        files = sorted(self.generations.glob("gen_*.npz"))
        if self.checkpoint_path.exists():
            ck = _load_checkpoint(self.checkpoint_path)
            last_g = int(ck["generation"])
            self.start_generation, self.evaluations = last_g + 1, int(ck["evaluations"])
            self._discard_after(last_g)
        elif files:  # checkpoint lost: every generation file is complete (atomic writes), so replay them all
            last_g = len(files) - 1
            self.replay_generations = list(range(last_g + 1))
            self.replay_reason = f"{CHECKPOINT} is missing"
            self.start_generation = last_g + 1
            self.evaluations = int(_read_npz(files[-1], self.out)["evaluations"])
        else:
            return None
        self._adopt(last_g, with_checkpoint=ck is not None)
        return ck

    def _adopt(self, last_g: int, with_checkpoint: bool) -> None:
        """Record the committed files of a folder from before manifests as they are now."""
        self._manifest = Manifest([], 0)
        self._adopting = True
        for g in range(last_g + 1):
            paths = [generation_path(self.generations, g)]
            png = self.out / "best" / f"gen_{g:06d}.png"
            if png.exists():
                paths.append(png)
            if g == last_g:
                paths += [p for p in (self.out / "scores.csv",) if p.exists()]
                if with_checkpoint:
                    paths.append(self.checkpoint_path)
            self.evaluations = int(_read_npz(paths[0], self.out)["evaluations"])
            self.seal(g, paths)
        self._adopting = False
        if self.meta is not None:
            self.meta["integrity"] = INTEGRITY

    def _discard_after(self, last_g: int) -> None:
        for f in self.generations.glob("gen_*.npz"):  # written after the last commit: redone
            g = _generation_number(f)
            if g is not None and g > last_g:
                f.unlink()

    def read_generation(self, g: int) -> dict[str, np.ndarray]:
        """The arrays of committed generation ``g`` (its digest checked when the manifest has it)."""
        f = generation_path(self.generations, g)
        rec = None
        if self._manifest is not None and g < len(self._manifest.entries):
            rec = self._manifest.entries[g]["files"].get(f"generations/{f.name}")
        return _read_npz(f, self.out, rec)

    def replayed(self) -> None:
        """Say that the driving loop has rebuilt the state of :attr:`replay_generations` (see :meth:`begin`)."""
        self.replay_generations = []

    def begin(self, config: dict, init: dict | None) -> dict:
        """The meta of this session: a new one, or the resumed one marked running again.

        Raises :class:`RunError` if :meth:`restore` asked for a replay that the loop did not
        report done (:meth:`replayed`): a loop that cannot replay must not carry on from a
        state it does not have.
        """
        if self.replay_generations:
            raise RunError(f"cannot resume {self.out}: {self.replay_reason}, and this loop does not rebuild the state "
                           f"by replaying generations {self.replay_generations[0]}..{self.replay_generations[-1]}; "
                           "resume it with landscape.runs.evolve (landscape evolve --resume). Nothing was changed")
        if self.resuming:
            meta = self.meta
            meta["budget"] = int(config["budget"])
            meta["status"] = "running"
            meta.pop("error", None)
        else:
            meta = {"format": FORMAT, **config, "init": init, "versions": versions(),
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "status": "running",
                    "integrity": INTEGRITY}
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
            own = self.write_error(path, e) if self.write_error is not None else None
            if own is not None:
                raise own from e
            last = len(self._manifest.entries) - 1 if self._manifest is not None else -1
            kept = f"generations 0..{last} are committed in {self.out}" if last >= 0 else "no generation was committed"
            full = e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
            raise RunError(f"cannot write {path}: {e.strerror or e} (errno {e.errno}); {kept} and nothing after "
                           f"them was kept; {'free space' if full else 'fix the cause'}, then resume "
                           "(resume=True; command line: --resume)") from e

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
        best = self.out / "best" / f"gen_{g:06d}.png"
        try:
            self._write(atomic_save_npz, npz, codes=codes.detach().float().cpu().numpy(),
                        scores=scores.double().numpy(), clean_scores=clean.double().numpy(), wall_time=np.float64(wall),
                        time=np.float64(time.time()), evaluations=np.int64(evaluations), **(extra or {}))
            written = [npz]
            if images is not None:
                self._write(save_png, best, images[int(torch.nan_to_num(scores, nan=-math.inf).argmax())])
                written.append(best)
            # the csv row goes before the checkpoint: a committed generation always has its row, and a
            # row written for a generation that is then redone is replaced
            self._write(append_scores_csv, self.out / "scores.csv", g, evaluations, scores.double(), clean.double(), wall)
            buf = io.BytesIO()
            torch.save({"generation": g, "evaluations": evaluations, **state}, buf)
            # the checkpoint goes beside the old one, the manifest line (the commit) records its digest,
            # then it replaces the old one: a kill at any point leaves a state restore() can tell apart
            data = buf.getvalue()
            self._write(atomic_write_bytes, self.pending_path, data)
            self._digests[self.pending_path] = (sha256_bytes(data), len(data))
            self.evaluations = evaluations
            self.seal(g, written + [self.out / "scores.csv", self.pending_path])
        except BaseException:
            if self._sealed == g:
                raise  # its manifest line is on disk: committed, never undone
            # a failed commit (disk full) leaves none of its files: they are not committed, and a
            # person looking at the folder should not take them for a generation
            for p in (npz, best, self.pending_path):
                with contextlib.suppress(OSError):
                    p.unlink()
            raise
        os.replace(self.pending_path, self.checkpoint_path)

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
    def load(cls, path: str | os.PathLike, verify: bool = False) -> "Run":
        """Read a run folder (complete, running or failed), checking it against its manifest.

        Every committed generation file is read anyway, so its sha256 and size are always checked
        (hashing costs a fraction of the read). The other committed files (best images,
        ``scores.csv``, the checkpoint) are checked for presence and size, and with
        ``verify=True`` for their sha256 as well (``landscape verify RUN``). A folder from before
        manifests loads with an :class:`UnmanifestedRunWarning` (resuming it once adds one).

        Raises
        ------
        FileNotFoundError : no ``meta.json``; ValueError : another format;
        DamagedRun : a file missing, truncated or changed, named with what is wrong.
        """
        d = Path(path)
        if not (d / "meta.json").is_file():
            raise FileNotFoundError(f"{d} is not a run folder: it has no meta.json")
        try:
            meta = read_json(d / "meta.json")
        except ValueError as e:
            what = f"not valid JSON ({str(e).split('(', 1)[-1].split(')')[0]})"
            raise DamagedRun(_damage_message(d, [("meta.json", what)], "cannot read"), [("meta.json", what)]) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            fmt = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
            raise ValueError(f"{d}/meta.json has format {fmt!r}, expected {FORMAT!r}")
        m = read_manifest(d)
        codes, scores, clean, wall = [], [], [], []

        def add(z: dict) -> None:
            codes.append(z["codes"])
            scores.append(z["scores"])
            clean.append(z["clean_scores"])
            wall.append(float(z["wall_time"]))

        if m is None:
            if meta.get("integrity") and (checkpoint_generation_unmanifested(d) is not None):
                raise DamagedRun(_damage_message(d, [(MANIFEST, "missing")], "cannot read"), [(MANIFEST, "missing")])
            if not meta.get("integrity"):
                warnings.warn(f"{d} was written before run folders carried a sha256 manifest; its files are not "
                              "checked for damage (resuming it once adds a manifest)", UnmanifestedRunWarning,
                              stacklevel=2)
            last = checkpoint_generation_unmanifested(d)
            for g, f in enumerate(sorted((d / "generations").glob("gen_*.npz"))):
                if f.name != generation_path(d / "generations", g).name:
                    raise DamagedRun(f"{d}/generations is missing generation {g} (found {f.name})",
                                     [(f"generations/gen_{g:06d}.npz", "missing")])
                if last is not None and g > last:
                    break  # written but not committed: it will be redone on resume
                add(_read_npz(f, d))
            return cls(d, meta, codes, scores, clean, np.asarray(wall))
        problems: list[tuple[str, str]] = []
        if what := _meta_problem(meta, m):
            problems.append(("meta.json", what))
        if behind := _manifest_behind(d, m):
            raise DamagedRun(_damage_message(d, [(MANIFEST, behind)], "cannot read"), [(MANIFEST, behind)])
        for e in m.entries:
            for rel, rec in e["files"].items():
                if rel in MUTABLE or rel.startswith("generations/"):
                    continue
                what = _file_problem(d, rel, rec, full=verify)
                if what:
                    problems.append((rel, what))
        if verify and m.last is not None:
            lf = m.last["files"]
            if what := _scores_csv_problem(d, m):
                problems.append(("scores.csv", what))
            if CHECKPOINT in lf:
                ok = any(_file_problem(d, rel, lf[CHECKPOINT]) is None for rel in (CHECKPOINT, PENDING_CHECKPOINT)
                         if (d / rel).exists())
                if not ok:
                    problems.append((CHECKPOINT, _file_problem(d, CHECKPOINT, lf[CHECKPOINT]) or "digest mismatch"))
        for g, e in enumerate(m.entries):
            rel = f"generations/gen_{g:06d}.npz"
            try:
                add(_read_npz(d / rel, d, e["files"].get(rel)))
            except DamagedRun as err:
                problems += err.problems
        if problems:
            raise DamagedRun(_damage_message(d, problems, "cannot read"), problems)
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
