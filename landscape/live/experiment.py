"""The live experiment loop: an optimizer's images go to a recording rig, block by block.

A live run folder is a ``landscape-run/1`` run (see :mod:`landscape.runs`), so
:meth:`landscape.runs.Run.load`, the maps and the reports read it like any other, plus the
block exchange of :mod:`landscape.live.folder`. Its ``clean_scores`` are NaN (a neuron has no
noise-free read-out), and each ``generations/gen_NNNNNN.npz`` also holds:

``image_ids`` (pop,) str
    ``gGGGGGG_iIII`` ids of the generation's images.
``responses`` (pop, repeats, C) float64
    Every presentation's response on every channel; NaN-padded where an image was shown
    fewer times (or never: it is then *missing*).
``n_presentations`` (pop,) int, ``missing`` (pop,) bool, ``answered_block`` (pop,) int (-1: missing)
``response_var`` (pop,) float64
    Variance (ddof 1) over presentations of the pooled response; NaN with fewer than 2.
``blocks`` (k,) int
    The blocks that made this generation: the first, then one per re-queue of missing images.
``reference_ids`` (R,) str, ``reference_responses`` (R, k * repeats, C),
``reference_scores`` (R,), ``reference_var`` (R,), ``reference_n`` (R,)
    The reference images interleaved in each of those blocks.
``channels`` (c,) int
    The channel indices pooled (averaged) into ``scores``.

``scores`` are the mean over presentations of the selected channels' mean; NaN for a missing
image, which the optimizer is told explicitly (its ``nan_policy``, "worst" or "drop", decides
what that means). ``references.npz`` holds the reference images (uint8, (R, H, W, 3)) and ids.

Nothing lost
------------
Every response is read from a file on disk (the folder transport's rig writes it; the HTTP
server writes it before answering the upload) before the loop goes on. A generation is
committed once: its ``.npz``, then ``state/checkpoint.pt`` (optimizer state, next block number,
channel count). After ``kill -9`` a resume restores the optimizer from the checkpoint, asks
again (the same codes, as the optimizer's RNG is restored), finds the blocks it had already
shown, and re-reads the responses already on disk instead of showing the images again.
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..generators import Generator
from ..optim.base import Optimizer
from ..runs import (FORMAT, Run, RunError, append_scores_csv, generation_path, json_default, atomic_save_npz,
                    atomic_write_bytes, atomic_write_json, initial_codes, save_png, versions)
from .folder import (RESPONSES, STIMULI, FolderTransport, StorageError, read_manifest, read_record,
                     remove_stale_temporaries, response_candidates, write_block, write_guarded)
from .protocol import (LiveError, ResponseError, ResponseTable, channel_index, evolved_id, parse_channels,
                       parse_response, read_response_bytes, reference_id, response_format)

MISSING_POLICIES = ("requeue", "mark")


class LiveTimeout(LiveError):
    """The rig did not answer a block in time; the run is intact and can be resumed."""


def resolve_transport(transport: Any, host: str = "127.0.0.1", port: int = 0):
    """A transport object from ``"folder"``, ``"http"`` or a transport instance."""
    if transport is None or transport == "folder":
        return FolderTransport()
    if transport == "http":
        from .server import HTTPTransport

        return HTTPTransport(host=host, port=port)
    if all(hasattr(transport, m) for m in ("attach", "finish", "detach", "describe")):
        return transport
    raise ValueError(f"transport must be 'folder', 'http' or a transport object, got {transport!r}")


def quantise_references(references: Any) -> np.ndarray:
    """Reference images as PNG-exact uint8 (R, H, W, 3).

    Parameters
    ----------
    references : (R, 3, H, W) tensor/array in [0, 1]
    """
    t = torch.as_tensor(np.asarray(references.detach().cpu() if torch.is_tensor(references) else references),
                        dtype=torch.float32)
    if t.ndim != 4 or t.shape[1] != 3 or t.shape[0] < 1:
        raise ValueError(f"references must have shape (R, 3, H, W) with R >= 1, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("references contain NaN or inf")
    return (t.clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


def run_experiment(generator: Generator, optimizer: Optimizer, budget: int, out: str | os.PathLike, *,
                   seed: int | None = None, transport: Any = "folder", references: Any = None,
                   channels: Any = "all", n_channels: int | None = None, repeats: int = 1,
                   missing: str = "requeue", max_requeue: int = 2, timeout: float = 3600.0,
                   poll_interval: float = 0.05, settle: float = 0.5, init: Any = None, resume: bool = False,
                   progress: bool = True, save_images: bool = True,
                   on_wait: Callable[[int], None] | None = None,
                   callback: Callable[[int, torch.Tensor, torch.Tensor, dict], Any] | None = None,
                   extra_meta: dict | None = None) -> Run:
    """Evolve images for a recorded neuron, one block of images per generation.

    Parameters
    ----------
    generator : Generator
    optimizer : Optimizer
        Its ``nan_policy`` must be "worst" or "drop": a rig can drop images.
    budget : int
        Image evaluations (codes told to the optimizer); stops after the generation reaching it.
    out : path
        Run folder; the rig reads ``out/stimuli`` and answers in ``out/responses``.
    seed : int or None
        Recorded, and used for the initial prior sample when ``init="prior"``.
    transport : "folder", "http" or a transport object
        How the rig gets blocks: sharing the folder, or from an HTTP server on 127.0.0.1
        (:class:`landscape.live.server.HTTPTransport`; its port is kept for resuming).
    references : (R, 3, H, W) tensor in [0, 1] or None
        Reference images shown in every block (interleaved). On resume ``None`` means the
        ones recorded in ``references.npz``; others must equal them.
    channels : "all", int or list of int
        Recorded channels averaged into the score.
    n_channels : int or None
        Channels the rig must send; ``None`` takes the first response's count and holds
        every later one to it.
    repeats : int
        Presentations asked for each image per block (more in a response is an error).
    missing : {"requeue", "mark"}
        Images with no response: shown again in a new block (up to ``max_requeue`` times),
        or marked missing at once. Missing images reach the optimizer as NaN.
    timeout : float
        Seconds to wait for one block's response before stopping with :class:`LiveTimeout`.
    poll_interval : float
        Seconds between looks for a response file.
    settle : float
        A response file is read once its size and modification time have stayed the same
        for this long, so a rig that writes in place (not write-then-rename) is not read
        half-written. 0 reads at first sight (rigs that rename complete files).
    init : None, "prior", codes or a path
        First codes (see :func:`landscape.runs.initial_codes`).
    resume : bool
        Continue the run in ``out``.
    on_wait : callable(block) or None
        Called on every poll while waiting (e.g. to restart a crashed simulated rig).
    callback : callable(generation, codes, scores, info) or None
        Called after each committed generation; returning ``False`` stops the run.
    extra_meta : dict or None
        Stored under ``meta["live"]["command"]`` (the command line uses it to resume).

    Returns
    -------
    Run
    """
    if not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive number of evaluations, got {budget!r}")
    if optimizer.dim != generator.dim:
        raise ValueError(f"optimizer dim {optimizer.dim} does not match generator {generator.name!r} dim {generator.dim}")
    if optimizer.nan_policy == "raise":
        raise ValueError("a live rig can drop images, which reach the optimizer as NaN; create the optimizer with "
                         "nan_policy='worst' (rank them last) or 'drop' (leave them out), not 'raise'")
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if not isinstance(max_requeue, (int, np.integer)) or max_requeue < 0:
        raise ValueError(f"max_requeue must be a non-negative integer, got {max_requeue!r}")
    if n_channels is not None and (not isinstance(n_channels, (int, np.integer)) or n_channels < 1):
        raise ValueError(f"n_channels must be a positive integer or None, got {n_channels!r}")
    if not timeout > 0 or not poll_interval > 0 or not settle >= 0:
        raise ValueError(f"timeout and poll_interval must be > 0 and settle >= 0, got {timeout}, "
                         f"{poll_interval}, {settle}")
    chan_spec = parse_channels(channels)
    if n_channels is not None:
        channel_index(chan_spec, int(n_channels))
    out = Path(out)
    transport = resolve_transport(transport)
    exp = _Experiment(generator, optimizer, int(budget), out, seed, transport, chan_spec,
                      None if n_channels is None else int(n_channels), int(repeats), missing, int(max_requeue),
                      float(timeout), float(poll_interval), float(settle), progress, save_images, on_wait, callback)
    exp.open(references, init, resume, extra_meta)
    return exp.run()


class _Experiment:
    """State of one live run; :func:`run_experiment` is the public entry."""

    def __init__(self, generator, optimizer, budget, out, seed, transport, channels, n_channels, repeats, missing,
                 max_requeue, timeout, poll, settle, progress, save_images, on_wait, callback):
        self.G, self.opt, self.budget, self.out, self.seed = generator, optimizer, budget, out, seed
        self.transport, self.channels, self.n_channels = transport, channels, n_channels
        self.repeats, self.missing, self.max_requeue = repeats, missing, max_requeue
        self.timeout, self.poll, self.settle = timeout, poll, settle
        self.progress, self.save_images, self.on_wait, self.callback = progress, save_images, on_wait, callback
        self.meta_path = out / "meta.json"
        self.ck_path = out / "state" / "checkpoint.pt"
        self.gens = out / "generations"
        self.generation = 0
        self.next_block = 0
        self.evaluations = 0

    # -- set-up ---------------------------------------------------------------------------
    def unit_description(self, n_refs: int) -> dict:
        return {"type": "LiveNeuron", "channels": self.channels if self.channels == "all" else
                list(np.atleast_1d(self.channels).tolist()), "pooling": "mean", "n_channels": self.n_channels,
                "repeats": self.repeats, "missing": self.missing, "max_requeue": self.max_requeue,
                "references": n_refs}

    def open(self, references, init, resume: bool, extra_meta: dict | None) -> None:
        out = self.out
        refs_path = out / "references.npz"
        if self.meta_path.exists():
            if not resume:
                raise RunError(f"{out} already holds a run; pass resume=True (or `landscape live --resume {out}`) "
                               "to continue it, or choose another folder")
            meta = json.loads(self.meta_path.read_text())
            if meta.get("format") != FORMAT or "live" not in meta:
                raise RunError(f"cannot resume {out}: it is not a live run (meta.json has no 'live' section)")
            self.refs = self._load_references(refs_path)
            if references is not None and not np.array_equal(quantise_references(references), self.refs):
                raise RunError(f"cannot resume {out}: the reference images differ from those in {refs_path}; "
                               "pass references=None to use the recorded ones")
            config = self._config()
            for key in ("generator", "unit", "optimizer"):
                if json.loads(json.dumps(config[key], default=json_default)) != meta.get(key):
                    raise RunError(f"cannot resume {out}: its {key} was {meta.get(key)} but this call has "
                                   f"{config[key]}")
            remove_stale_temporaries(out)
            if self.ck_path.exists():
                ck = torch.load(self.ck_path, map_location="cpu", weights_only=True)
                self.opt.load_state_dict(ck["optimizer"])
                self.generation = int(ck["generation"]) + 1
                self.evaluations = int(ck["evaluations"])
                self.next_block = int(ck["live"]["next_block"])
                if ck["live"].get("n_channels") is not None:
                    self.n_channels = int(ck["live"]["n_channels"])
            elif init is not None:  # killed before the first commit: start exactly as the first call did
                codes0, _ = initial_codes(self.G, init, n=20, seed=self.seed)
                self.opt.initialize(codes0.to(self.opt.device))
            for f in self.gens.glob("gen_*.npz"):  # written after the last checkpoint: redone below
                if int(f.stem.split("_")[1]) >= self.generation:
                    f.unlink()
            meta["budget"] = self.budget
            meta["status"] = "running"
            meta.pop("error", None)
        else:
            if not _is_fresh(out):
                raise RunError(f"cannot resume {out}: it has no meta.json" if resume else
                               f"{out} is not empty; a live run needs a new folder (the rig's files go into it)")
            self.refs = quantise_references(references) if references is not None else np.zeros((0, 1, 1, 3), np.uint8)
            init_desc = None
            if init is not None:
                codes0, init_desc = initial_codes(self.G, init, n=20, seed=self.seed)
                self.opt.initialize(codes0.to(self.opt.device))
            meta = {"format": FORMAT, **self._config(), "init": init_desc, "versions": versions(),
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "status": "running"}
            try:
                for sub in (STIMULI, RESPONSES):
                    (out / sub).mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StorageError(f"cannot create the run folder {out}: {e.strerror or e}") from e
            write_guarded(atomic_save_npz, refs_path, images=self.refs,
                          ids=np.asarray([reference_id(j) for j in range(len(self.refs))], dtype=str))
        self.ref_ids = [reference_id(j) for j in range(len(self.refs))]
        self.ref_tensor = torch.as_tensor(self.refs).permute(0, 3, 1, 2).float() / 255.0
        live = meta.get("live", {})
        if extra_meta is not None:
            live["command"] = extra_meta
        live.update({"protocol": "landscape-live-block/1", "transport": self.transport.describe(),
                     "stimuli": STIMULI, "responses": RESPONSES})
        meta["live"] = live
        self.meta = meta
        if hasattr(self.transport, "validate_with"):  # uploads are held to this run's rules before a 201
            self.transport.validate_with(self.check_upload)
        self.transport.attach(out)
        live["transport"] = self.transport.describe()  # now with the bound address
        try:
            write_guarded(atomic_write_json, self.meta_path, meta)
        except BaseException:
            self.transport.detach()
            raise

    def _config(self) -> dict:
        return {"generator": self.G.describe(), "unit": self.unit_description(len(self.refs)),
                "optimizer": self.opt.config(), "budget": self.budget, "seed": self.seed}

    @staticmethod
    def _load_references(path: Path) -> np.ndarray:
        if not path.exists():
            raise RunError(f"{path} is missing; the run's reference images cannot be restored")
        with np.load(path, allow_pickle=False) as z:
            return z["images"]

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> Run:
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.budget, initial=min(self.evaluations, self.budget), unit="img",
                       desc=f"live {self.opt.name}")
        self.bar = bar
        try:
            while self.evaluations < self.budget:
                codes, scores, info = self.generation_step()
                if bar is not None:
                    bar.update(int(codes.shape[0]))
                    finite = scores[torch.isfinite(scores)]
                    bar.set_postfix(best=f"{float(finite.max()) if finite.numel() else float('nan'):.3g}",
                                    missing=int(info["missing"].sum()))
                if self.callback is not None and self.callback(self.generation - 1, codes, scores, info) is False:
                    break
            # before the server stops, so that a rig asking over HTTP learns the run is over
            self.meta["status"] = "complete" if self.evaluations >= self.budget else "stopped"
            self.meta["evaluations"] = self.evaluations
            write_guarded(atomic_write_json, self.meta_path, self.meta)
            self.transport.finish()
        except BaseException as e:
            self.meta["status"] = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
            self.meta["error"] = f"{type(e).__name__}: {e}"
            try:
                atomic_write_json(self.meta_path, self.meta)
            except OSError:
                pass  # the original error matters more; committed generations are on disk
            raise
        finally:
            if bar is not None:
                bar.close()
            self.transport.detach()
        return Run.load(self.out)

    def generation_step(self) -> tuple[torch.Tensor, torch.Tensor, dict]:
        g, t0 = self.generation, time.perf_counter()
        codes = self.opt.ask()
        codes_np = codes.detach().float().cpu().numpy()
        n = codes_np.shape[0]
        ids = [evolved_id(g, i) for i in range(n)]
        images = self.G.render(codes.detach()).cpu()
        answers: dict[str, list[tuple[np.ndarray, int]]] = {i: [] for i in ids}
        ref_answers: dict[str, list[np.ndarray]] = {i: [] for i in self.ref_ids}
        pending = list(range(n))
        blocks = []
        for attempt in range(self.max_requeue + 1):
            b = self.next_block + len(blocks)
            table = self.exchange_block(b, g, [ids[i] for i in pending], codes_np[pending], images[pending])
            blocks.append(b)
            self._collect(table, b, answers, ref_answers)
            pending = [i for i in pending if not answers[ids[i]]]
            if not pending or self.missing == "mark":
                break
        info = self._summarise(ids, answers, ref_answers, blocks)
        scores = torch.as_tensor(info["scores"])
        if not torch.isfinite(scores).any():
            raise LiveError(f"generation {g}: no image got a response in block(s) {blocks}; check the rig. Delete "
                            f"{self.out / RESPONSES}/block*.{{csv,json,h5}} of those blocks to have them shown again, "
                            "then resume")
        try:
            self.opt.tell(codes, scores)
        except ValueError as e:
            raise LiveError(f"generation {g}: the optimizer refused the responses ({e}); generations "
                            f"0..{g - 1} are intact in {self.gens}") from e
        self.evaluations += n
        wall = time.perf_counter() - t0
        self.commit(g, codes_np, scores, images, info, wall, blocks)
        self.generation = g + 1
        self.next_block = blocks[-1] + 1
        return codes, scores, info

    def exchange_block(self, block: int, g: int, ids: list[str], codes_np: np.ndarray,
                       images: torch.Tensor) -> ResponseTable:
        """Show a block (unless it already was) and wait for its response."""
        all_ids, ref_flags, all_images = _interleave(ids, images, self.ref_ids, self.ref_tensor)
        record = read_record(self.out, block)
        if record is not None:
            same = (list(record["image_ids"]) == all_ids and record["codes"].shape == codes_np.shape
                    and np.array_equal(record["codes"], codes_np))
            if not same:
                raise LiveError(f"block {block} in {self.out} was made from other codes or ids than this run asks "
                                "for now: the run was resumed with different settings, or the optimizer or "
                                "generator is not deterministic. Nothing was overwritten")
        manifest = read_manifest(self.out, block)
        if manifest is None or record is None:
            manifest = write_block(self.out, block, g, all_ids, ref_flags, all_images, codes_np, self.repeats)
        return self.wait_for_response(block, manifest)

    def wait_for_response(self, block: int, manifest: dict) -> ResponseTable:
        """Poll for the block's response file; read it once it has stopped changing for ``settle`` s."""
        expected = [img["id"] for img in manifest["images"]]
        deadline = time.monotonic() + self.timeout
        seen: tuple | None = None  # (path, size, mtime) of the file last looked at, and when it was first seen so
        if self.bar is not None:
            self.bar.set_description(f"live {self.opt.name} (block {block})")
        while True:
            found = response_candidates(self.out, block)
            if len(found) > 1:
                raise ResponseError(found[0], f"block {block} has {len(found)} response files "
                                              f"({', '.join(p.name for p in found)}); keep exactly one")
            if found:
                path = found[0]
                try:
                    st = path.stat()
                except FileNotFoundError:
                    st = None  # replaced while we looked; look again
                if st is not None:
                    now = time.monotonic()
                    sig = (path, st.st_size, st.st_mtime_ns)
                    if seen is None or seen[:3] != sig:
                        seen = (*sig, now)  # a rig may still be writing it: wait until it stops changing
                    if now - seen[3] >= self.settle:
                        return self._read(path, block, expected)
            if time.monotonic() > deadline:
                raise LiveTimeout(f"no response to block {block} within {self.timeout:g} s (expected "
                                  f"{self.out / RESPONSES}/block{block:06d}.csv, .json or .h5). Committed generations "
                                  f"are intact; when the rig answers, resume with `landscape live --resume {self.out}`")
            if self.on_wait is not None:
                self.on_wait(block)
            time.sleep(self.poll)

    def check_response(self, data: bytes, fmt: str, source: str, block: int, expected: list[str]) -> ResponseTable:
        """Parse one block's response and hold it to this run: the block's ids and repeats, the
        channel count (``n_channels``, or the one the first answered block fixed) and the selection."""
        table = parse_response(data, fmt, source, block, expected, self.repeats, self.n_channels)
        if table.n_channels is not None:
            try:
                channel_index(self.channels, table.n_channels)
            except ValueError as e:
                raise ResponseError(source, str(e)) from None
        return table

    def check_upload(self, data: bytes, fmt: str, source: str, block: int, manifest: dict) -> ResponseTable:
        """:meth:`check_response` for the HTTP server, which calls it before answering an upload."""
        return self.check_response(data, fmt, source, block, [img["id"] for img in manifest["images"]])

    def _read(self, path: Path, block: int, expected: list[str]) -> ResponseTable:
        try:
            table = self.check_response(read_response_bytes(path), response_format(path), str(path), block, expected)
        except ValueError as e:
            err = e if isinstance(e, ResponseError) else ResponseError(path, str(e))
            raise type(err)(err.source, f"{err.problem}. Nothing of block {block} was used; fix or replace the "
                                        "file and resume: it will be read again") from None
        return table

    def _collect(self, table: ResponseTable, block: int, answers: dict, ref_answers: dict) -> None:
        if table.n_channels is not None:
            if self.n_channels is None:
                self.n_channels = table.n_channels
        rows = range(len(table.image_ids))
        if table.presentation is not None:  # a rig may write rows in any order; keep repeat order
            rows = sorted(rows, key=lambda k: int(table.presentation[k]))
        for k in rows:
            i = table.image_ids[k]
            if i in ref_answers:
                ref_answers[i].append(table.values[k])
            else:
                answers[i].append((table.values[k], block))

    def _summarise(self, ids: list[str], answers: dict, ref_answers: dict, blocks: list[int]) -> dict:
        C = self.n_channels or 1
        sel = channel_index(self.channels, C)
        n = len(ids)
        resp = np.full((n, self.repeats, C), np.nan)
        answered_block = np.full(n, -1, np.int64)
        for r, i in enumerate(ids):
            for k, (v, b) in enumerate(answers[i]):
                resp[r, k] = v
                answered_block[r] = b
        n_pres = np.array([len(answers[i]) for i in ids], np.int64)
        scores, var = _pool(resp, n_pres, sel)
        R, P = len(self.ref_ids), len(blocks) * self.repeats
        ref_resp = np.full((R, P, C), np.nan)
        for r, i in enumerate(self.ref_ids):
            for k, v in enumerate(ref_answers[i]):
                ref_resp[r, k] = v
        ref_n = np.array([len(ref_answers[i]) for i in self.ref_ids], np.int64)
        ref_scores, ref_var = _pool(ref_resp, ref_n, sel)
        return {"scores": scores, "image_ids": np.asarray(ids, dtype=str), "responses": resp,
                "n_presentations": n_pres, "missing": n_pres == 0, "answered_block": answered_block,
                "response_var": var, "blocks": np.asarray(blocks, np.int64),
                "reference_ids": np.asarray(self.ref_ids, dtype=str), "reference_responses": ref_resp,
                "reference_scores": ref_scores, "reference_var": ref_var, "reference_n": ref_n,
                "channels": sel.astype(np.int64)}

    def commit(self, g: int, codes_np: np.ndarray, scores: torch.Tensor, images: torch.Tensor, info: dict,
               wall: float, blocks: list[int]) -> None:
        """Write generation ``g``: data, best image, then the checkpoint that makes it count."""
        clean = torch.full_like(scores, float("nan"), dtype=torch.float64)
        write_guarded(atomic_save_npz, generation_path(self.gens, g), codes=codes_np, scores=scores.double().numpy(),
                      clean_scores=clean.numpy(), wall_time=np.float64(wall), time=np.float64(time.time()),
                      evaluations=np.int64(self.evaluations), **{k: v for k, v in info.items() if k != "scores"})
        if self.save_images:
            best = int(torch.nan_to_num(scores, nan=-math.inf).argmax())
            write_guarded(save_png, self.out / "best" / f"gen_{g:06d}.png", images[best])
        # the csv row goes before the checkpoint: a committed generation always has its row, and a
        # row written for a generation that is then redone is replaced
        write_guarded(append_scores_csv, self.out / "scores.csv", g, self.evaluations, scores.double(), clean, wall)
        buf = io.BytesIO()
        torch.save({"generation": g, "evaluations": self.evaluations, "optimizer": self.opt.state_dict(),
                    "unit": {}, "live": {"next_block": blocks[-1] + 1, "n_channels": self.n_channels}}, buf)
        write_guarded(atomic_write_bytes, self.ck_path, buf.getvalue())


def _is_fresh(out: Path) -> bool:
    """True if ``out`` holds nothing but what starting a run there writes before ``meta.json``.

    Dot-files are the rig's (its lock: a rig may start before the experiment); empty
    ``stimuli``/``responses`` folders and ``references.npz`` are left by a start killed before
    its ``meta.json`` was written, and are simply made again.
    """
    if not out.exists():
        return True
    for p in out.iterdir():
        if p.name.startswith(".") or p.name == "references.npz":
            continue
        if p.name in (STIMULI, RESPONSES) and p.is_dir() and not any(p.iterdir()):
            continue
        return False
    return True


def _interleave(ids: list[str], images: torch.Tensor, ref_ids: list[str], refs: torch.Tensor
                ) -> tuple[list[str], list[bool], list[torch.Tensor]]:
    """Spread the references evenly among a block's images (the same places in every full block).

    Reference ``j`` of ``R`` goes to position ``floor((j + 1/2) (n + R) / R)``: the middle of
    the ``j``-th of ``R`` equal stretches of the block.
    """
    n, R = len(ids), len(ref_ids)
    slots = {int((j + 0.5) * (n + R) / R): j for j in range(R)}
    order_ids, flags, imgs = [], [], []
    e = 0
    for pos in range(n + R):
        if pos in slots:
            order_ids.append(ref_ids[slots[pos]])
            flags.append(True)
            imgs.append(refs[slots[pos]])
        else:
            order_ids.append(ids[e])
            flags.append(False)
            imgs.append(images[e])
            e += 1
    return order_ids, flags, imgs


def _pool(resp: np.ndarray, n_pres: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score (mean over presentations of the mean over ``sel`` channels) and its variance.

    Parameters
    ----------
    resp : (m, P, C) NaN-padded responses ; n_pres : (m,) presentations per row ; sel : channel indices

    Returns
    -------
    scores, var : (m,) each; NaN with no presentation (score) or fewer than two (var)
    """
    pooled = resp[:, :, sel].mean(2)  # (m, P), NaN where not presented
    scores = np.full(resp.shape[0], np.nan)
    var = np.full(resp.shape[0], np.nan)
    for r in range(resp.shape[0]):
        k = int(n_pres[r])
        if k:
            scores[r] = pooled[r, :k].mean()
        if k > 1:
            var[r] = pooled[r, :k].var(ddof=1)
    return scores, var
