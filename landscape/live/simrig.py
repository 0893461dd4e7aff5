"""A simulated recording rig, to run in its own process beside a live experiment.

It plays the acquisition software: it watches one or more run folders (or talks to an
experiment's HTTP server), shows itself each block's images, "records" CNN units with
Poisson spiking noise, and writes the response file. Delays, dropped images and crashes can
be switched on to rehearse what a real rig does.

Run it as::

    python -m landscape.live.simrig RUN_DIR --model resnet20-cifar10 --layer layer3 --channels 5,6 \\
        --scale 20 --seed 0 --drop 0.1 --delay 0,0.2

Responses are a pure function of ``(seed, block, image id, image content)``: each image's
noise comes from a generator seeded with ``(seed, block, hash(id))``, and so does whether it
is dropped. A block answered twice gets the same answer, and an experiment killed and resumed
sees exactly what an uninterrupted one would. Delays and crashes draw from the operating
system's entropy instead: they change *when* answers come, never *what* they say.

The noise is XDream's Poisson model (the one in :class:`landscape.units.PoissonNoise`): a
response ``a`` sets the rate ``max(0, a) * scale``; a presentation records a Poisson count
divided by ``scale``.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import io
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

import numpy as np

from ..io import atomic_write_bytes, read_json
from .folder import RESPONSES, STIMULI, pending_blocks, read_manifest
from .protocol import block_name, encode_response

#: exit status of a simulated crash
CRASH_EXIT = 75
FORMATS = ("csv", "json", "h5")


def id_key(image_id: str) -> int:
    """A stable 64-bit integer for an image id (Python's ``hash`` changes between processes)."""
    return int.from_bytes(hashlib.sha256(image_id.encode()).digest()[:8], "little")


class SimulatedRig:
    """Answer blocks with Poisson-noisy responses of one or more units (the rig's channels).

    Parameters
    ----------
    units : sequence of Unit
        One per recorded channel; ``unit.clean(images)`` gives the channel's rate.
    scale : float
        Spikes per unit of activation (smaller is noisier).
    seed : int
    drop : float in [0, 1)
        Chance that an image gets no response at all in a block.
    fmt : {"csv", "json", "h5"}
        Response file format.
    presentation_column : bool
        Write the repeat index of each row.
    """

    def __init__(self, units: Sequence, scale: float = 20.0, seed: int = 0, drop: float = 0.0, fmt: str = "csv",
                 presentation_column: bool = True) -> None:
        if not units:
            raise ValueError("a rig needs at least one unit (channel)")
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        if not 0 <= drop < 1:
            raise ValueError(f"drop must be in [0, 1), got {drop}")
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
        self.units, self.scale, self.seed, self.drop, self.fmt = list(units), float(scale), int(seed), float(drop), fmt
        self.presentation_column = presentation_column

    def respond(self, manifest: dict, images) -> bytes:
        """The response file for one block.

        Parameters
        ----------
        manifest : dict
            The block's manifest.
        images : (N, 3, H, W) tensor in [0, 1], in manifest order

        Returns
        -------
        bytes of a response file in ``self.fmt``
        """
        import torch

        with torch.no_grad():
            rates = torch.stack([u.clean(images).double().cpu() for u in self.units], 1).numpy()  # (N, C)
        block, repeats = int(manifest["block"]), int(manifest["repeats"])
        ids, pres, rows = [], [], []
        draws = {}
        for k, img in enumerate(manifest["images"]):
            rng = np.random.default_rng([self.seed, block, id_key(img["id"])])
            dropped = rng.random() < self.drop
            counts = rng.poisson(np.maximum(rates[k], 0) * self.scale, size=(repeats, rates.shape[1]))
            if not dropped:
                draws[img["id"]] = counts / self.scale
        for rep in range(repeats):  # a rig shows the whole block, then shows it again
            for img in manifest["images"]:
                if img["id"] in draws:
                    ids.append(img["id"])
                    pres.append(rep)
                    rows.append(draws[img["id"]][rep])
        values = np.asarray(rows, np.float64).reshape(len(rows), rates.shape[1])
        return encode_response(self.fmt, block, ids, values, pres if self.presentation_column else None)


def decode_png(data: bytes):
    """PNG bytes -> (3, H, W) float tensor in [0, 1]."""
    import torch
    from PIL import Image

    arr = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1)


# --------------------------------------------------------------------------------------
# the process
# --------------------------------------------------------------------------------------
class _Faults:
    def __init__(self, delay: tuple[float, float], crash: float, crash_every: int | None):
        self.delay, self.crash, self.crash_every = delay, crash, crash_every
        self.answered = 0
        self.rand = random.SystemRandom()

    def before_answer(self) -> None:
        lo, hi = self.delay
        if hi > 0:
            time.sleep(self.rand.uniform(lo, hi))
        self.answered += 1
        if (self.crash_every and self.answered % self.crash_every == 0) or \
                (self.crash > 0 and self.rand.random() < self.crash):
            print(f"simrig: simulated crash before answering (block {self.answered} of this process)",
                  file=sys.stderr, flush=True)
            os._exit(CRASH_EXIT)


def _lock(run_dir: Path):
    run_dir.mkdir(parents=True, exist_ok=True)
    f = open(run_dir / ".rig.lock", "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def _status(run_dir: Path) -> str | None:
    try:
        return read_json(run_dir / "meta.json").get("status")
    except (OSError, ValueError):
        return None


def watch_folders(rig: SimulatedRig, dirs: Sequence[Path], faults: _Faults, poll: float = 0.02,
                  exit_when_done: bool = True, idle_exit: float = 600.0) -> int:
    """Answer every pending block of ``dirs`` until they are all complete (or idle too long)."""
    locks = []
    for d in dirs:
        lk = _lock(Path(d))
        if lk is None:
            print(f"simrig: another rig is attached to {d}; leaving it to that one", file=sys.stderr)
            return 3
        locks.append(lk)
    last = time.monotonic()
    while True:
        for d in map(Path, dirs):
            for b in pending_blocks(d):
                manifest = read_manifest(d, b)
                images = _stack([(d / STIMULI / img["file"]).read_bytes() for img in manifest["images"]])
                faults.before_answer()
                data = rig.respond(manifest, images)
                atomic_write_bytes(d / RESPONSES / f"{block_name(b)}.{rig.fmt}", data)
                last = time.monotonic()
        if exit_when_done and all(_status(Path(d)) in ("complete", "stopped") for d in dirs):
            return 0
        if time.monotonic() - last > idle_exit:
            print(f"simrig: nothing to answer for {idle_exit:g} s; exiting", file=sys.stderr)
            return 0
        time.sleep(poll)


def _stack(pngs: list[bytes]):
    import torch

    return torch.stack([decode_png(p) for p in pngs])


def _get(url: str, timeout: float = 10.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def watch_server(rig: SimulatedRig, url: str, faults: _Faults, poll: float = 0.02, exit_when_done: bool = True,
                 idle_exit: float = 600.0) -> int:
    """Answer blocks through an experiment's HTTP server; retries while the server is down."""
    url = url.rstrip("/")
    ctype = {"csv": "text/csv", "json": "application/json", "h5": "application/x-hdf5"}[rig.fmt]
    last = time.monotonic()
    while True:
        try:
            status = json.loads(_get(f"{url}/status"))
            last = time.monotonic()
            for manifest in json.loads(_get(f"{url}/blocks")):
                images = _stack([_get(f"{url}/images/{img['file']}") for img in manifest["images"]])
                faults.before_answer()
                data = rig.respond(manifest, images)
                req = urllib.request.Request(f"{url}/responses/{manifest['block']}", data=data, method="POST",
                                             headers={"Content-Type": ctype})
                try:
                    urllib.request.urlopen(req, timeout=30).close()
                except urllib.error.HTTPError as e:
                    if e.code != 409:  # 409: answered already (by us, before a restart)
                        raise
            if exit_when_done and status.get("status") in ("complete", "stopped"):
                return 0
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            if isinstance(e, urllib.error.HTTPError):
                print(f"simrig: the server refused a request: {e.code} {e.read().decode(errors='replace')}",
                      file=sys.stderr)
                return 4
            if time.monotonic() - last > idle_exit:
                print(f"simrig: no server at {url} for {idle_exit:g} s; exiting", file=sys.stderr)
                return 0
        time.sleep(poll)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m landscape.live.simrig",
                                description="A simulated recording rig: CNN units with Poisson noise answer the "
                                            "blocks of live experiments.")
    p.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", help="run folder(s) to watch (folder transport)")
    p.add_argument("--url", default=None, help="talk to this experiment server instead of watching folders")
    p.add_argument("--model", default="resnet20-cifar10", help="zoo classifier (default: %(default)s)")
    p.add_argument("--layer", default="layer3")
    p.add_argument("--channels", default="5", help="comma-separated unit channels, one per recorded channel")
    p.add_argument("--position", default="center", help="'center' or 'mean'")
    p.add_argument("--scale", type=float, default=20.0, help="spikes per unit of activation (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--drop", type=float, default=0.0, help="chance an image gets no response (default: 0)")
    p.add_argument("--delay", default="0", help="seconds before answering a block: LO[,HI] (uniform)")
    p.add_argument("--crash", type=float, default=0.0, help="chance of crashing before answering a block")
    p.add_argument("--crash-every", type=int, default=None, help="crash before answering every N-th block")
    p.add_argument("--format", default="csv", choices=FORMATS)
    p.add_argument("--no-presentation-column", action="store_true")
    p.add_argument("--poll", type=float, default=0.02, help="seconds between looks for new blocks")
    p.add_argument("--idle-exit", type=float, default=600.0, help="exit after this long with nothing to do")
    p.add_argument("--keep-running", action="store_true", help="do not exit when the experiments complete")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    p.add_argument("--device", default="cpu")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.run_dirs) == bool(args.url):
        print("simrig: give either RUN_DIR(s) or --url", file=sys.stderr)
        return 2
    try:
        lo_hi = [float(v) for v in args.delay.split(",")]
        delay = (lo_hi[0], lo_hi[-1])
        channels = [int(c) for c in args.channels.split(",")]
    except ValueError:
        print(f"simrig: bad --delay {args.delay!r} or --channels {args.channels!r}", file=sys.stderr)
        return 2
    import torch

    from .. import zoo
    from ..units import CNNUnit

    torch.set_num_threads(max(1, args.threads))
    model = zoo.load(args.model, device=args.device)
    pos = None if args.position == "mean" else "center"
    rig = SimulatedRig([CNNUnit(model, args.layer, c, position=pos) for c in channels], scale=args.scale,
                       seed=args.seed, drop=args.drop, fmt=args.format,
                       presentation_column=not args.no_presentation_column)
    faults = _Faults(delay, args.crash, args.crash_every)
    print(f"simrig: ready (pid {os.getpid()}, {args.model} {args.layer} channels {channels}, scale {args.scale:g}, drop {args.drop:g})",
          file=sys.stderr, flush=True)
    if args.url:
        return watch_server(rig, args.url, faults, args.poll, not args.keep_running, args.idle_exit)
    return watch_folders(rig, [Path(d) for d in args.run_dirs], faults, args.poll, not args.keep_running,
                         args.idle_exit)


if __name__ == "__main__":
    sys.exit(main())
