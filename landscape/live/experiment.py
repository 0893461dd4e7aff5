"""Live experiments: an optimizer's images go to a recording rig, block by block.

:func:`run_experiment` is the public entry. It builds a :class:`~landscape.live.rig.RigScorer`
(the rig as a scorer: transport + block protocol) and runs the one loop,
:func:`landscape.runs.evolve`, with it; there is no second loop.

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

import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..generators import Generator
from ..optim.base import Optimizer
from ..record import Run
from ..runs import evolve
from .protocol import channel_index, parse_channels
from .rig import MISSING_POLICIES, LiveTimeout, RigScorer, quantise_references, resolve_transport

__all__ = ["run_experiment", "LiveTimeout", "MISSING_POLICIES", "RigScorer", "quantise_references",
           "resolve_transport"]


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
    # budget and dimensions are checked by evolve, before anything is written
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
    scorer = RigScorer(resolve_transport(transport), references, chan_spec,
                       None if n_channels is None else int(n_channels), int(repeats), missing, int(max_requeue),
                       float(timeout), float(poll_interval), float(settle), on_wait=on_wait, extra_meta=extra_meta,
                       optimizer_name=optimizer.name)
    return evolve(generator, scorer, optimizer, budget, Path(out), seed=seed, resume=resume, init=init,
                  progress=progress, save_images=save_images, callback=callback)
