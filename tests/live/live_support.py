"""Shared pieces of the live tests: a tiny generator, cheap units, an in-process rig thread, run comparison."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from landscape.generators import Generator
from landscape.live.folder import RESPONSES, STIMULI, pending_blocks, read_manifest
from landscape.live.protocol import block_name
from landscape.live.simrig import decode_png
from landscape.io import atomic_write_bytes
from landscape.units.base import Unit

# arrays that legitimately differ between two runs of the same experiment (timings)
TIMING_KEYS = {"wall_time", "time"}


def tiny_generator(dim: int = 8, size: int = 8, seed: int = 0) -> Generator:
    """A fixed random decoder: codes (B, dim) -> (B, 3, size, size) in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    lin = nn.Linear(dim, 3 * size * size)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(lin.weight.shape, generator=g) * 0.5)
        lin.bias.zero_()
    net = nn.Sequential(lin, nn.Unflatten(1, (3, size, size)))
    return Generator(net, dim=dim, name="tiny-test", image_size=size, postprocess=torch.sigmoid)


class ChannelMean(Unit):
    """Mean of one colour channel, times ``gain``: a unit whose optimum is obvious."""

    def __init__(self, channel: int = 0, gain: float = 10.0):
        self.channel, self.gain = channel, gain

    def clean(self, images):
        return images[:, self.channel].mean((1, 2)) * self.gain


class ThreadRig:
    """Answers every pending block of ``run_dir`` in a background thread.

    ``respond(manifest, images)`` returns the response file bytes (or None to stay silent);
    ``answered`` lists the blocks answered, in order (to check nothing is shown twice).
    """

    def __init__(self, run_dir: Path, respond: Callable[[dict, torch.Tensor], bytes | None], fmt: str = "csv",
                 poll: float = 0.003):
        self.run_dir, self.respond, self.fmt, self.poll = Path(run_dir), respond, fmt, poll
        self.answered: list[int] = []
        self.silent: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        if self.error is not None:
            if exc[0] is None:
                raise self.error
            print(f"ThreadRig failed too: {self.error!r}")  # shown with the test's own failure

    def _loop(self):
        try:
            while not self._stop.is_set():
                for b in pending_blocks(self.run_dir):
                    if b in self.silent:
                        continue
                    m = read_manifest(self.run_dir, b)
                    images = torch.stack([decode_png((self.run_dir / STIMULI / i["file"]).read_bytes())
                                          for i in m["images"]])
                    data = self.respond(m, images)
                    if data is None:
                        self.silent.add(b)
                        continue
                    atomic_write_bytes(self.run_dir / RESPONSES / f"{block_name(b)}.{self.fmt}", data)
                    self.answered.append(b)
                time.sleep(self.poll)
        except BaseException as e:  # surfaced by __exit__
            self.error = e


def generation_files(run_dir: Path) -> list[Path]:
    return sorted((Path(run_dir) / "generations").glob("gen_*.npz"))


def assert_same_run(a: Path, b: Path) -> dict:
    """Two live runs hold the same data: generations, optimizer state, blocks shown, responses.

    Returns counts used in reports: generations, response files, presentations recorded.
    """
    a, b = Path(a), Path(b)
    ga, gb = generation_files(a), generation_files(b)
    assert [p.name for p in ga] == [p.name for p in gb], (ga, gb)
    presentations = 0
    for pa, pb in zip(ga, gb):
        with np.load(pa) as za, np.load(pb) as zb:
            assert sorted(za.files) == sorted(zb.files)
            for k in za.files:
                if k in TIMING_KEYS:
                    continue
                x, y = za[k], zb[k]
                assert x.dtype == y.dtype and x.shape == y.shape, (pa.name, k)
                if x.dtype.kind == "f":
                    assert np.array_equal(x, y, equal_nan=True), (pa.name, k)
                else:
                    assert np.array_equal(x, y), (pa.name, k)
            presentations += int(za["n_presentations"].sum()) + int(za["reference_n"].sum())
    ca = torch.load(a / "state" / "checkpoint.pt", weights_only=True)
    cb = torch.load(b / "state" / "checkpoint.pt", weights_only=True)
    assert ca["generation"] == cb["generation"] and ca["live"] == cb["live"]
    assert ca["evaluations"] == cb["evaluations"]
    for k, v in ca["optimizer"].items():
        w = cb["optimizer"][k]
        assert (torch.equal(v, w) if torch.is_tensor(v) else v == w), k
    for sub in (RESPONSES, STIMULI, "blocks"):
        fa = sorted(p.name for p in (a / sub).iterdir() if not p.name.startswith("."))
        fb = sorted(p.name for p in (b / sub).iterdir() if not p.name.startswith("."))
        assert fa == fb, sub
        for name in fa:
            assert (a / sub / name).read_bytes() == (b / sub / name).read_bytes(), f"{sub}/{name}"
    return {"generations": len(ga), "response_files": len(list((a / RESPONSES).glob("block*"))),
            "presentations": presentations}


def count_response_rows(run_dir: Path) -> int:
    """Presentations in every response file of the committed generations' blocks."""
    from landscape.live.folder import response_candidates
    from landscape.live.protocol import read_response_file

    rows = 0
    for p in generation_files(run_dir):
        with np.load(p) as z:
            blocks = z["blocks"].tolist()
        for blk in blocks:
            m = read_manifest(run_dir, blk)
            (f,) = response_candidates(run_dir, blk)
            rows += len(read_response_file(f, blk, [i["id"] for i in m["images"]], int(m["repeats"])).image_ids)
    return rows
