"""The recording rig as a scorer on the one run loop (:func:`landscape.runs.evolve`).

:class:`RigScorer` is XDream's file-based scorer for this toolkit: given a generation's codes and
images it shows them to the rig as a block (with the reference images interleaved), waits for
the rig's response file, pools the presentations into one score per image, and shows images
that got no response again in a new block (up to ``max_requeue`` times). Everything else — the
optimizer, the run folder, the commit order, resume and status — is the loop's and the run
record's. The block exchange on disk is :mod:`landscape.live.folder`; the file formats are
:mod:`landscape.live.protocol`; the run folder :mod:`landscape.live.experiment` documents.

Scorer state in the checkpoint: ``{"unit": {}, "live": {"next_block", "n_channels"}}``; extra
arrays of each generation's ``.npz``: ``image_ids``, ``responses``, ``n_presentations``,
``missing``, ``answered_block``, ``response_var``, ``blocks``, ``reference_*`` and ``channels``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..io import atomic_save_npz
from ..record import RunError
from ..scorer import Scored, Scorer
from .folder import (RESPONSES, STIMULI, FolderTransport, StorageError, read_manifest, read_record,
                     response_candidates, write_block, write_guarded)
from .protocol import (LiveError, ResponseError, ResponseTable, channel_index, evolved_id, parse_response,
                       read_response_bytes, reference_id, response_format)

MISSING_POLICIES = ("requeue", "mark")
#: the block protocol recorded in ``meta["live"]``
PROTOCOL = "landscape-live-block/1"


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


class RigScorer(Scorer):
    """A recording rig, reached through a transport, as the scorer of :func:`landscape.runs.evolve`.

    Parameters
    ----------
    transport : "folder", "http" or a transport object (see :func:`resolve_transport`)
    references : (R, 3, H, W) tensor in [0, 1] or None
        Shown in every block; on resume None means the recorded ones (others must equal them).
    channels : "all", int or list of int (parsed: :func:`landscape.live.protocol.parse_channels`)
    n_channels : int or None
        Channels the rig must send; None takes the first response's count.
    repeats, missing, max_requeue, timeout, poll, settle, on_wait
        As :func:`landscape.live.experiment.run_experiment` documents them.
    extra_meta : dict or None
        Stored under ``meta["live"]["command"]``.
    optimizer_name : str
        Shown in the progress bar while a block is awaited.
    """

    label = "live"
    new_folder_reason = "a live run needs a new folder (the rig's files go into it)"
    replay_refusal = ("a live neuron cannot be shown the committed images again with the same answers, so the "
                      "optimizer state cannot be rebuilt; the committed generations are intact: start a new run "
                      "that continues from them with `landscape live --init RUN_DIR --out NEW_DIR` (init=RUN_DIR)")

    def __init__(self, transport: Any, references: Any, channels: Any, n_channels: int | None, repeats: int,
                 missing: str, max_requeue: int, timeout: float, poll: float, settle: float,
                 on_wait: Callable[[int], None] | None = None, extra_meta: dict | None = None,
                 optimizer_name: str = "") -> None:
        self.transport = transport
        self.references = references
        self.channels, self.n_channels = channels, n_channels
        self.repeats, self.missing, self.max_requeue = repeats, missing, max_requeue
        self.timeout, self.poll, self.settle, self.on_wait = timeout, poll, settle, on_wait
        self.extra_meta, self.optimizer_name = extra_meta, optimizer_name
        self.next_block = 0
        self.record = None
        self.out: Path | None = None
        self.refs = np.zeros((0, 1, 1, 3), np.uint8)

    # -- the scorer interface -----------------------------------------------------------
    @property
    def resume_hint(self) -> str:
        return f" (or `landscape live --resume {self.out}`)" if self.out is not None else ""

    def describe(self) -> dict:
        return {"type": "LiveNeuron", "channels": self.channels if self.channels == "all" else
                list(np.atleast_1d(self.channels).tolist()), "pooling": "mean", "n_channels": self.n_channels,
                "repeats": self.repeats, "missing": self.missing, "max_requeue": self.max_requeue,
                "references": len(self.refs)}

    def is_fresh(self, out: Path) -> bool:
        return _is_fresh(out)

    def write_error(self, path: Path, error: OSError) -> BaseException:
        return StorageError(f"cannot write {path}: {error.strerror or error} (errno {error.errno}); nothing after the "
                            "last committed generation was kept; free space or fix permissions, then resume "
                            "with `landscape live --resume RUN_DIR`")

    def open(self, record: Any) -> None:
        """Restore the recorded references (resume), or check and write them (new run)."""
        self.record, self.out = record, record.out
        out = record.out
        refs_path = out / "references.npz"
        if record.resuming:
            if "live" not in record.meta:
                raise RunError(f"cannot resume {out}: it is not a live run (meta.json has no 'live' section)")
            self.refs = _load_references(refs_path)
            if self.references is not None and not np.array_equal(quantise_references(self.references), self.refs):
                raise RunError(f"cannot resume {out}: the reference images differ from those in {refs_path}; "
                               "pass references=None to use the recorded ones")
        else:
            self.refs = (quantise_references(self.references) if self.references is not None
                         else np.zeros((0, 1, 1, 3), np.uint8))
            try:
                for sub in (STIMULI, RESPONSES):
                    (out / sub).mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StorageError(f"cannot create the run folder {out}: {e.strerror or e}") from e
            write_guarded(atomic_save_npz, refs_path, images=self.refs,
                          ids=np.asarray([reference_id(j) for j in range(len(self.refs))], dtype=str))
        self.ref_ids = [reference_id(j) for j in range(len(self.refs))]
        self.ref_tensor = torch.as_tensor(self.refs).permute(0, 3, 1, 2).float() / 255.0

    def start(self, record: Any) -> None:
        """Write the ``live`` section of ``meta.json`` and start the transport."""
        meta = record.meta
        live = meta.get("live", {})
        if self.extra_meta is not None:
            live["command"] = self.extra_meta
        live.update({"protocol": PROTOCOL, "transport": self.transport.describe(), "stimuli": STIMULI,
                     "responses": RESPONSES})
        meta["live"] = live
        if hasattr(self.transport, "validate_with"):  # uploads are held to this run's rules before a 201
            self.transport.validate_with(self.check_upload)
        self.transport.attach(record.out)
        live["transport"] = self.transport.describe()  # now with the bound address

    def finish(self) -> None:
        # after the final status is written, so that a rig asking over HTTP learns the run is over
        self.transport.finish()

    def close(self) -> None:
        self.transport.detach()

    def state_dict(self) -> dict[str, Any]:
        return {"unit": {}, "live": {"next_block": self.next_block, "n_channels": self.n_channels}}

    def load_state_dict(self, checkpoint: dict[str, Any]) -> None:
        self.next_block = int(checkpoint["live"]["next_block"])
        if checkpoint["live"].get("n_channels") is not None:
            self.n_channels = int(checkpoint["live"]["n_channels"])

    def callback_value(self, scored: Scored) -> dict:
        return {"scores": scored.scores.numpy(), **scored.extra}

    def progress_postfix(self, scored: Scored) -> dict[str, Any]:
        return {**super().progress_postfix(scored), "missing": int(scored.extra["missing"].sum())}

    def score(self, codes: torch.Tensor, images: torch.Tensor, generation: int) -> Scored:
        """Show the generation in a block, re-queue images without a response, pool the answers."""
        g = generation
        codes_np = codes.detach().float().cpu().numpy()
        images = images.cpu()
        n = codes_np.shape[0]
        ids = [evolved_id(g, i) for i in range(n)]
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
        scores = torch.as_tensor(info.pop("scores"), dtype=torch.float64)
        if not torch.isfinite(scores).any():
            raise LiveError(f"generation {g}: no image got a response in block(s) {blocks}; check the rig. Delete "
                            f"{self.out / RESPONSES}/block*.{{csv,json,h5}} of those blocks to have them shown again, "
                            "then resume")
        self.next_block = blocks[-1] + 1
        return Scored(scores, torch.full_like(scores, float("nan")), info)

    # -- the block exchange ---------------------------------------------------------------
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
        bar = self.record.bar if self.record is not None else None
        if bar is not None:
            bar.set_description(f"live {self.optimizer_name} (block {block})")
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


def _load_references(path: Path) -> np.ndarray:
    if not path.exists():
        raise RunError(f"{path} is missing; the run's reference images cannot be restored")
    with np.load(path, allow_pickle=False) as z:
        return z["images"]


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
