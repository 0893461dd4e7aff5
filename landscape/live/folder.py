"""The folder transport: blocks are files in ``stimuli/``, answers are files in ``responses/``.

This is XDream's protocol, and the layout the HTTP transport (:mod:`.server`) serves too::

    RUN/stimuli/blockBBBBBB_<id>.png   images of block B (written first)
    RUN/stimuli/blockBBBBBB.json       its manifest (written last: the block is ready)
    RUN/responses/blockBBBBBB.csv      the rig's answer (or .json / .h5 / .hdf5)
    RUN/blocks/blockBBBBBB.npz         what the experiment showed: ``codes`` (n, d) float32 of
                                       the evolved images, ``image_ids`` (n + R,), ``reference``
                                       (n + R,) bool, ``generation``, ``repeats``
                                       (written first: a resumed run checks it asks the same)

All writes are atomic (write, then rename), so a rig never sees half an image or half a
manifest, and a killed experiment leaves whole files or none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..io import atomic_save_npz, atomic_write_json, save_png
from ..record import remove_stale_temporaries
from .protocol import (RESPONSE_SUFFIXES, LiveError, block_name, image_file_name, make_manifest,
                       parse_manifest)

STIMULI, RESPONSES, BLOCKS = "stimuli", "responses", "blocks"

#: stale temporaries of a run folder are the run record's job; the name stays importable here
__all__ = ["STIMULI", "RESPONSES", "BLOCKS", "StorageError", "FolderTransport", "manifest_path", "record_path",
           "read_manifest", "pending_blocks", "response_candidates", "write_block", "read_record", "write_guarded",
           "remove_stale_temporaries"]


class StorageError(LiveError, OSError):
    """The experiment could not write a file (disk full, read-only folder, ...)."""


def manifest_path(run_dir: Path, block: int) -> Path:
    return Path(run_dir) / STIMULI / f"{block_name(block)}.json"


def record_path(run_dir: Path, block: int) -> Path:
    return Path(run_dir) / BLOCKS / f"{block_name(block)}.npz"


def read_manifest(run_dir: Path, block: int) -> dict | None:
    """The manifest of ``block``, or None if the block was never shown."""
    p = manifest_path(run_dir, block)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        return None
    return parse_manifest(data, str(p))


def pending_blocks(run_dir: Path) -> list[int]:
    """Blocks that have a manifest and no response file yet, in order."""
    stim, resp = Path(run_dir) / STIMULI, Path(run_dir) / RESPONSES
    try:
        shown = [n[5:11] for n in os.listdir(stim) if len(n) == 16 and n.startswith("block") and n.endswith(".json")]
    except FileNotFoundError:
        return []
    try:
        answered = {n.split(".", 1)[0][5:] for n in os.listdir(resp) if n.startswith("block")
                    and "." + n.split(".", 1)[-1] in RESPONSE_SUFFIXES}
    except FileNotFoundError:
        answered = set()
    return sorted(int(b) for b in shown if b.isdigit() and b not in answered)


def response_candidates(run_dir: Path, block: int) -> list[Path]:
    """Complete response files for ``block`` (dot-files, ``.part`` and ``.tmp`` are ignored)."""
    folder = Path(run_dir) / RESPONSES
    name = block_name(block)
    return [folder / f"{name}{s}" for s in RESPONSE_SUFFIXES if (folder / f"{name}{s}").is_file()]


def write_block(run_dir: Path, block: int, generation: int, image_ids: Sequence[str], reference: Sequence[bool],
                images, codes: np.ndarray, repeats: int = 1) -> dict:
    """Show one block: its record, then its images, then its manifest (each atomically).

    Parameters
    ----------
    images : (n + R, 3, H, W) tensor in [0, 1], in the order of ``image_ids``
    codes : (n, d) float32 array, the codes of the non-reference images

    Returns
    -------
    manifest : dict
    """
    run_dir = Path(run_dir)
    manifest = make_manifest(block, generation, image_ids, reference, repeats)
    write_guarded(atomic_save_npz, record_path(run_dir, block), codes=np.asarray(codes, np.float32),
                  image_ids=np.asarray(list(image_ids), dtype=str), reference=np.asarray(reference, bool),
                  generation=np.int64(generation), repeats=np.int64(repeats))
    for i, img in zip(image_ids, images):
        write_guarded(save_png, run_dir / STIMULI / image_file_name(block, i), img)
    write_guarded(atomic_write_json, manifest_path(run_dir, block), manifest)
    return manifest


def read_record(run_dir: Path, block: int) -> dict | None:
    """What :func:`write_block` recorded for ``block``, or None."""
    p = record_path(run_dir, block)
    if not p.exists():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:  # a record is written atomically; damage means the disk did it
        raise LiveError(f"block record {p} is damaged ({e}); delete it and the block's manifest "
                        f"{manifest_path(run_dir, block)} to have the block shown again") from e


def write_guarded(writer, path: Path, *args, **kwargs) -> None:
    """Call ``writer(path, ...)``; turn an OSError into a :class:`StorageError` naming the file."""
    try:
        writer(path, *args, **kwargs)
    except OSError as e:
        raise StorageError(f"cannot write {path}: {e.strerror or e} (errno {e.errno}); nothing after the last "
                           "committed generation was kept; free space or fix permissions, then resume "
                           "with `landscape live --resume RUN_DIR`") from e


class FolderTransport:
    """Blocks and responses travel as files in the run folder (the rig shares the folder)."""

    kind = "folder"

    def attach(self, run_dir: Path) -> None:
        """Nothing to start: the rig reads ``run_dir/stimuli`` and writes ``run_dir/responses``."""

    def finish(self) -> None:
        """Nothing to do: the rig reads the run's status from ``meta.json``."""

    def detach(self) -> None:
        """Nothing to stop."""

    def describe(self) -> dict:
        return {"kind": self.kind}

    def __repr__(self) -> str:
        return "FolderTransport()"
