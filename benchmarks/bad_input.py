"""Bad input on the command line and in specs: how many were tried, and how each was answered.

Two sets of inputs go through ``landscape.cli.main`` in this process (stdout/stderr captured):

* the **catalogue**: named bad inputs by category, every case of issue #16 item 8 among them
  (``--device cuda`` without a GPU, a junk reference image, an empty ``--init`` npz, ``--out``
  that is a file, ``--grid sphere:100000``, a garbage npz, damaged runs, ``seeds = 1e9``, an
  unreachable scheduler, a read-only resume, ``--out ''``, ``--resume`` on a missing or empty
  folder, a different ``--init`` on resume, 2000 ``--init`` codes with ``--budget 40``, size 0,
  a sweep of 1e6+ tasks, ``poisson:inf``, ...). These run for real: each must be refused;
* **generated** command lines: for every subcommand, options drawn (seeded) from tables of good
  and bad values. Those that pass the checks stop where the work would begin (``zoo.load``, the
  report, the topology fit), so valid ones count as accepted without running.

An answer is *clean* when the exit status is 1 or 2 and stderr is exactly one line
``landscape <cmd>: error: ...``; a *traceback* is any answer printing one (or exit status 3).
With ``--subprocess`` the catalogue also runs through ``python -m landscape`` to check the same
on a real process's stderr.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bad_input.py [--generated 40] [--seed 0] [--subprocess]

The tests (tests/cli) import the tables and the workspace from here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GEN_DIM = 100  # digiface-dcgan64


class Reached(BaseException):
    """Raised where the work of a command would begin: its checks passed (not an Exception, so the
    CLI's error handling cannot catch it)."""


# --------------------------------------------------------------------------------------
# workspace: the files the bad inputs point at
# --------------------------------------------------------------------------------------
@dataclass
class Workspace:
    root: Path
    paths: dict[str, str] = field(default_factory=dict, repr=False)

    def __getitem__(self, key: str) -> str:
        return self.paths[key]

    def fresh(self, name: str) -> str:
        """A new, not yet existing path under the workspace."""
        i = 0
        while (self.root / "new" / f"{name}{i}").exists():
            i += 1
        (self.root / "new").mkdir(exist_ok=True)
        return str(self.root / "new" / f"{name}{i}")


def _spec(**over: Any) -> str:
    base = {"sweep": {"budget": 20, "seeds": [0], "noise": ["none"]},
            "units": [{"model": "resnet20-cifar10", "layers": ["layer3"], "channels": [5]}],
            "optimizers": {"ga": {"population": 10}}}
    for k, v in over.items():
        sect, _, key = k.partition(".")
        if key:
            if sect == "units":
                base["units"][0][key] = v
            else:
                base.setdefault(sect, {})[key] = v
        else:
            base[sect] = v
    return _toml(base)


def _toml(d: dict) -> str:
    def val(v: Any) -> str:
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

    lines = []
    for sect, body in d.items():
        if sect == "units":
            for u in body:
                lines.append("[[units]]")
                lines += [f"{k} = {val(v)}" for k, v in u.items()]
        elif sect == "optimizers":
            for label, settings in body.items():
                lines.append(f"[optimizers.{label}]")
                lines += [f"{k} = {val(v)}" for k, v in settings.items()]
        else:
            lines.append(f"[{sect}]")
            lines += [f"{k} = {val(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def make_workspace(root: Path, with_run: bool = True) -> Workspace:
    """Files of every kind the inputs name; with ``with_run`` a real 2-generation run and a damaged copy."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    ws = Workspace(root)
    p = ws.paths

    def put(name: str, make: Callable[[Path], None]) -> None:
        path = root / name
        if not path.exists():
            make(path)
        p[name] = str(path)

    put("file.txt", lambda f: f.write_text("not a folder\n"))
    put("empty_dir", lambda f: f.mkdir())
    put("garbage.npz", lambda f: f.write_bytes(os.urandom(300)))
    put("empty.npz", lambda f: np.savez(f))
    put("codes_ok.npz", lambda f: np.savez(f, codes=np.random.default_rng(0).standard_normal((10, GEN_DIM))))
    put("codes_2000.npz", lambda f: np.savez(f, codes=np.random.default_rng(0).standard_normal((2000, GEN_DIM))))
    put("codes_nan.npz", lambda f: np.savez(f, codes=np.full((10, GEN_DIM), np.nan)))
    put("codes_1d.npz", lambda f: np.savez(f, codes=np.zeros(GEN_DIM)))
    put("codes_dim7.npy", lambda f: np.save(f, np.zeros((10, 7))))
    put("codes_text.npz", lambda f: np.savez(f, codes=np.array([["a"] * 3] * 2)))
    put("plain_map.npz", lambda f: np.savez(f, values=np.random.default_rng(0).random((9, 9))))
    put("map_novalues.npz", lambda f: np.savez(f, other=np.zeros((9, 9))))
    put("map_1d.npz", lambda f: np.savez(f, values=np.zeros(9)))
    put("map_text.npz", lambda f: np.savez(f, values=np.array([["x"] * 9] * 9)))
    put("hessian_bad.npz", lambda f: np.savez(f, nothing=np.zeros(3)))

    def junk_images(d: Path) -> None:
        d.mkdir()
        (d / "photo.png").write_bytes(os.urandom(500))
    put("junk_images", junk_images)
    put("readonly_dir", lambda f: f.mkdir())
    specs = {
        "spec_ok.toml": _spec(),
        "spec_seeds_1e9.toml": _spec(**{"sweep.seeds": 1_000_000_000}),
        "spec_seeds_float.toml": _spec(**{"sweep.seeds": 1e9}),
        "spec_1e6_tasks.toml": _spec(**{"sweep.seeds": 1000, "units.channels": list(range(64)),
                                        "sweep.noise": ["none", "gaussian:0.1", "gaussian:0.2", "gaussian:0.3",
                                                        "gaussian:0.4", "gaussian:0.5", "gaussian:0.6",
                                                        "gaussian:0.7", "gaussian:0.8", "gaussian:0.9",
                                                        "gaussian:1.0", "gaussian:1.1", "gaussian:1.2",
                                                        "gaussian:1.3", "gaussian:1.4", "gaussian:1.5"]}),
        "spec_budget0.toml": _spec(**{"sweep.budget": 0}),
        "spec_unknown_field.toml": _spec(**{"sweep.budgte": 3}),
        "spec_noise_inf.toml": _spec(**{"sweep.noise": ["poisson:inf"]}),
        "spec_bad_model.toml": _spec(**{"units.model": "resnet21-cifar10"}),
        "spec_bad_layer.toml": _spec(**{"units.layers": ["layer9"]}),
        "spec_bad_channel.toml": _spec(**{"units.channels": [640]}),
        "spec_bad_setting.toml": _spec(optimizers={"ga": {"population": 0}}),
        "spec_bad_optimizer.toml": _spec(optimizers={"adam": {}}),
        "spec_overflow.toml": _spec(optimizers={"cma": {"sigma0": 1e308}}),
        "spec_bad_grid.toml": _spec(map={"grid": "sphere:100000"}),
        "spec_no_units.toml": "[sweep]\nbudget = 10\n[optimizers.ga]\n",
        "spec_no_out.toml": _spec(),
    }
    for name, text in specs.items():
        put(name, lambda f, text=text: f.write_text(text))
    put("spec_not_toml.toml", lambda f: f.write_text("[sweep\nbudget = = 3\n"))
    put("spec.txt", lambda f: f.write_text(_spec()))
    if with_run:
        put("run", _make_run)
        put("run_damaged", lambda f: _damage(Path(p["run"]), f))
        put("run_no_meta", lambda f: (shutil.copytree(p["run"], f), (f / "meta.json").unlink()))
        put("run_bad_meta", lambda f: (shutil.copytree(p["run"], f), (f / "meta.json").write_text("{not json")))
        put("run_empty_gens", lambda f: (shutil.copytree(p["run"], f), shutil.rmtree(f / "generations"),
                                         (f / "generations").mkdir()))
    return ws


def _make_run(out: Path) -> None:
    from landscape.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        rc = main(["evolve", "--optimizer", "ga", "--set", "population=10", "--budget", "20", "--device", "cpu",
                   "--references", "cifar", "--out", str(out)])
    if rc != 0:
        raise RuntimeError(f"could not make the workspace's run: {err.getvalue()}")


def _damage(run: Path, out: Path) -> None:
    shutil.copytree(run, out)
    g = out / "generations" / "gen_000001.npz"
    data = bytearray(g.read_bytes())
    data[len(data) // 3: len(data) // 3 + 64] = os.urandom(64)
    g.write_bytes(bytes(data))


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------
# the catalogue
# --------------------------------------------------------------------------------------
@dataclass
class Case:
    category: str
    name: str
    argv: Callable[[Workspace], list[str]]
    skip: Callable[[], str | None] = lambda: None  # a reason to skip on this machine


def _no_cuda() -> str | None:
    import torch

    return "this machine has a CUDA device" if torch.cuda.is_available() else None


def _root() -> str | None:
    return "running as root: permissions do not bind" if hasattr(os, "geteuid") and os.geteuid() == 0 else None


E = ["evolve", "--optimizer", "ga", "--set", "population=10", "--budget", "20", "--device", "cpu",
     "--references", "cifar"]
CH = ["characterise", "--layer", "layer3", "--channel", "5", "--device", "cpu"]
FV = ["featviz", "--model", "resnet20-cifar10", "--layer", "layer3", "--channel", "5", "--steps", "2",
      "--device", "cpu"]
LV = ["live", "--simulate", "--budget", "20", "--set", "population=10", "--device", "cpu", "--no-progress"]


def _c(category: str, name: str, argv: Callable[[Workspace], list[str]], skip=lambda: None) -> Case:
    return Case(category, name, argv, skip)


CATALOGUE: list[Case] = [
    # devices
    _c("device", "evolve --device cuda without a GPU", lambda w: [*E, "--device", "cuda", "--out", w.fresh("o")], _no_cuda),
    _c("device", "evolve --device tpu", lambda w: [*E, "--device", "tpu", "--out", w.fresh("o")]),
    _c("device", "evolve --device cuda:99", lambda w: [*E, "--device", "cuda:99", "--out", w.fresh("o")]),
    _c("device", "map --device banana", lambda w: ["map", w["run"], "--device", "banana", "--out", w.fresh("m")]),
    _c("device", "featviz --device cuda without a GPU", lambda w: [*FV, "--device", "cuda", "--out", w.fresh("o")], _no_cuda),
    _c("device", "characterise --device mps", lambda w: [*CH, "--device", "mps", "--out", w.fresh("o")]),
    # zoo names
    _c("names", "evolve --model nope", lambda w: [*E, "--model", "nope", "--out", w.fresh("o")]),
    _c("names", "evolve --generator <a classifier>", lambda w: [*E, "--generator", "resnet20-cifar10", "--out", w.fresh("o")]),
    _c("names", "featviz --model <a generator>", lambda w: [*FV, "--model", "digiface-dcgan64", "--out", w.fresh("o")]),
    _c("names", "layers <a generator>", lambda w: ["layers", "digiface-dcgan64"]),
    _c("names", "evolve --layer layer9", lambda w: [*E, "--layer", "layer9", "--out", w.fresh("o")]),
    _c("names", "evolve --channel 640 (layer3 has 64)", lambda w: [*E, "--channel", "640", "--out", w.fresh("o")]),
    _c("names", "evolve --channel -1", lambda w: [*E, "--channel", "-1", "--out", w.fresh("o")]),
    _c("names", "evolve --position 99,99", lambda w: [*E, "--position", "99,99", "--out", w.fresh("o")]),
    _c("names", "evolve --position middle", lambda w: [*E, "--position", "middle", "--out", w.fresh("o")]),
    _c("names", "featviz --layer nope", lambda w: [*FV, "--layer", "nope", "--out", w.fresh("o")]),
    _c("names", "featviz --channel 640", lambda w: [*FV, "--channel", "640", "--out", w.fresh("o")]),
    _c("names", "featviz --neuron --y 99", lambda w: [*FV, "--neuron", "--y", "99", "--out", w.fresh("o")]),
    _c("names", "characterise --channel 640", lambda w: [*CH, "--channel", "640", "--out", w.fresh("o")]),
    _c("names", "characterise --layer layer3 --layer nope (survey)",
       lambda w: ["characterise", "--layer", "layer3", "--layer", "nope", "--device", "cpu", "--out", w.fresh("o")]),
    _c("names", "map --axes pc:1,2,99 (the run has 20 PCs)", lambda w: ["map", w["run"], "--axes", "pc:1,2,99",
                                                                         "--grid", "sphere:3", "--out", w.fresh("m")]),
    _c("names", "map --hessian-distance foo", lambda w: ["map", w["run"], "--axes", "hessian", "--hessian-distance",
                                                         "foo", "--out", w.fresh("m")]),
    _c("names", "characterise --layer nope (survey)", lambda w: ["characterise", "--layer", "nope", "--device", "cpu",
                                                                 "--out", w.fresh("o")]),
    _c("names", "live --rig-model nope", lambda w: [*LV, "--rig-model", "nope", "--out", w.fresh("o")]),
    _c("names", "unknown subcommand", lambda w: ["evolvee"]),
    _c("names", "unknown option", lambda w: [*E, "--budgte", "3", "--out", w.fresh("o")]),
    # noise
    _c("noise", "--noise poisson:inf", lambda w: [*E, "--noise", "poisson:inf", "--out", w.fresh("o")]),
    _c("noise", "--noise poisson:nan", lambda w: [*E, "--noise", "poisson:nan", "--out", w.fresh("o")]),
    _c("noise", "--noise poisson:1e400", lambda w: [*E, "--noise", "poisson:1e400", "--out", w.fresh("o")]),
    _c("noise", "--noise poisson:0", lambda w: [*E, "--noise", "poisson:0", "--out", w.fresh("o")]),
    _c("noise", "--noise poisson:1:0", lambda w: [*E, "--noise", "poisson:1:0", "--out", w.fresh("o")]),
    _c("noise", "--noise poisson:1:1000000000000", lambda w: [*E, "--noise", "poisson:1:1000000000000", "--out", w.fresh("o")]),
    _c("noise", "--noise gaussian:-1", lambda w: [*E, "--noise", "gaussian:-1", "--out", w.fresh("o")]),
    _c("noise", "--noise gaussian:inf", lambda w: [*E, "--noise", "gaussian:inf", "--out", w.fresh("o")]),
    _c("noise", "--noise poisson-spikes:inf", lambda w: [*E, "--noise", "poisson-spikes:inf", "--out", w.fresh("o")]),
    _c("noise", "--noise loud", lambda w: [*E, "--noise", "loud", "--out", w.fresh("o")]),
    _c("noise", "characterise --noise poisson-spikes:5", lambda w: [*CH, "--noise", "poisson-spikes:5", "--out", w.fresh("o")]),
    # optimizer
    _c("optimizer", "--optimizer adam", lambda w: [*E, "--optimizer", "adam", "--out", w.fresh("o")]),
    _c("optimizer", "--set population=0", lambda w: [*E, "--set", "population=0", "--out", w.fresh("o")]),
    _c("optimizer", "--set population=-3", lambda w: [*E, "--set", "population=-3", "--out", w.fresh("o")]),
    _c("optimizer", "--set population=abc", lambda w: [*E, "--set", "population=abc", "--out", w.fresh("o")]),
    _c("optimizer", "--set population=1e9", lambda w: [*E, "--set", "population=1000000000", "--out", w.fresh("o")]),
    _c("optimizer", "--set bogus=1", lambda w: [*E, "--set", "bogus=1", "--out", w.fresh("o")]),
    _c("optimizer", "--set seed=3", lambda w: [*E, "--set", "seed=3", "--out", w.fresh("o")]),
    _c("optimizer", "--set population (no =)", lambda w: [*E, "--set", "population", "--out", w.fresh("o")]),
    _c("optimizer", "--optimizer cma --set sigma0=nan", lambda w: [*E, "--optimizer", "cma", "--set", "sigma0=NaN",
                                                                   "--out", w.fresh("o")]),
    _c("optimizer", "--optimizer cma --set sigma0=-1", lambda w: [*E, "--optimizer", "cma", "--set", "sigma0=-1",
                                                                  "--out", w.fresh("o")]),
    _c("optimizer", "--optimizer cma --set sigma0=1e308 (codes overflow)",
       lambda w: [*E, "--optimizer", "cma", "--set", "sigma0=1e308", "--out", w.fresh("o")]),
    _c("optimizer", "live --set population=0", lambda w: [*LV, "--set", "population=0", "--out", w.fresh("o")]),
    # numbers
    _c("numbers", "evolve --budget 0", lambda w: [*E, "--budget", "0", "--out", w.fresh("o")]),
    _c("numbers", "evolve --budget -5", lambda w: [*E, "--budget", "-5", "--out", w.fresh("o")]),
    _c("numbers", "evolve --budget 1e3", lambda w: [*E, "--budget", "1e3", "--out", w.fresh("o")]),
    _c("numbers", "evolve --seed x", lambda w: [*E, "--seed", "x", "--out", w.fresh("o")]),
    _c("numbers", "characterise --size 0", lambda w: [*CH, "--size", "0", "--out", w.fresh("o")]),
    _c("numbers", "characterise --reps 0", lambda w: [*CH, "--reps", "0", "--out", w.fresh("o")]),
    _c("numbers", "featviz --size 0", lambda w: [*FV, "--size", "0", "--out", w.fresh("o")]),
    _c("numbers", "featviz --batch 0", lambda w: [*FV, "--batch", "0", "--out", w.fresh("o")]),
    _c("numbers", "featviz --steps 0", lambda w: [*FV, "--steps", "0", "--out", w.fresh("o")]),
    _c("numbers", "featviz --lr nan", lambda w: [*FV, "--lr", "nan", "--out", w.fresh("o")]),
    _c("numbers", "featviz --y 1 without --neuron", lambda w: [*FV, "--y", "1", "--out", w.fresh("o")]),
    _c("numbers", "featviz --diversity 1 --batch 1", lambda w: [*FV, "--diversity", "1", "--out", w.fresh("o")]),
    _c("numbers", "map --batch-size 0", lambda w: ["map", w["run"], "--batch-size", "0", "--out", w.fresh("m")]),
    _c("numbers", "map --reps 0", lambda w: ["map", w["run"], "--reps", "0", "--out", w.fresh("m")]),
    _c("numbers", "map --radius -1", lambda w: ["map", w["run"], "--radius", "-1", "--out", w.fresh("m")]),
    _c("numbers", "map --radius inf", lambda w: ["map", w["run"], "--radius", "inf", "--out", w.fresh("m")]),
    _c("numbers", "topology --levels 1", lambda w: ["topology", w["plain_map.npz"], "--levels", "1", "--out", w.fresh("t")]),
    _c("numbers", "topology --threshold -0.5", lambda w: ["topology", w["plain_map.npz"], "--threshold", "-0.5",
                                                          "--out", w.fresh("t")]),
    _c("numbers", "live --port 70000", lambda w: [*LV, "--port", "70000", "--out", w.fresh("o")]),
    _c("numbers", "live --rig-drop 2", lambda w: [*LV, "--rig-drop", "2", "--out", w.fresh("o")]),
    _c("numbers", "live --timeout 0", lambda w: [*LV, "--timeout", "0", "--out", w.fresh("o")]),
    _c("numbers", "live --channels -1", lambda w: [*LV, "--channels", "-1", "--out", w.fresh("o")]),
    _c("numbers", "live --channels left", lambda w: [*LV, "--channels", "left", "--out", w.fresh("o")]),
    _c("numbers", "live --rig-delay 2,1", lambda w: [*LV, "--rig-delay", "2,1", "--out", w.fresh("o")]),
    _c("numbers", "sweep --workers 0", lambda w: ["sweep", w["spec_ok.toml"], "--workers", "0", "--out", w.fresh("s")]),
    # grids and axes
    _c("grid", "map --grid sphere:100000", lambda w: ["map", w["run"], "--grid", "sphere:100000", "--out", w.fresh("m")]),
    _c("grid", "map --grid sphere:0", lambda w: ["map", w["run"], "--grid", "sphere:0", "--out", w.fresh("m")]),
    _c("grid", "map --grid sphere:21:nan:90", lambda w: ["map", w["run"], "--grid", "sphere:21:nan:90", "--out", w.fresh("m")]),
    _c("grid", "map --grid plane:21", lambda w: ["map", w["run"], "--grid", "plane:21", "--out", w.fresh("m")]),
    _c("grid", "map --grid cube:5", lambda w: ["map", w["run"], "--grid", "cube:5", "--out", w.fresh("m")]),
    _c("grid", "map --axes pc:1,2 on a sphere", lambda w: ["map", w["run"], "--axes", "pc:1,2", "--out", w.fresh("m")]),
    _c("grid", "map --axes sideways", lambda w: ["map", w["run"], "--axes", "sideways", "--out", w.fresh("m")]),
    _c("grid", "map --hessian garbage.npz", lambda w: ["map", w["run"], "--axes", "hessian", "--hessian",
                                                       w["garbage.npz"], "--out", w.fresh("m")]),
    _c("grid", "map --hessian without eigvecs", lambda w: ["map", w["run"], "--axes", "hessian", "--hessian",
                                                           w["hessian_bad.npz"], "--out", w.fresh("m")]),
    # references
    _c("references", "evolve --references <folder with a junk image>", lambda w: [*E, "--references", w["junk_images"],
                                                                                   "--out", w.fresh("o")]),
    _c("references", "evolve --references <missing folder>", lambda w: [*E, "--references", w.fresh("nofolder") + "/",
                                                                        "--out", w.fresh("o")]),
    _c("references", "evolve --references cifar11", lambda w: [*E, "--references", "cifar11", "--out", w.fresh("o")]),
    _c("references", "evolve --references photo-crops:0", lambda w: [*E, "--references", "photo-crops:0",
                                                                     "--out", w.fresh("o")]),
    _c("references", "featviz --references <junk image folder>", lambda w: [*FV, "--references", w["junk_images"],
                                                                            "--out", w.fresh("o")]),
    _c("references", "featviz --references nowhere", lambda w: [*FV, "--references", "nowhere", "--out", w.fresh("o")]),
    _c("references", "characterise --run RUN --references <junk>", lambda w: [*CH, "--run", w["run"], "--references",
                                                                              w["junk_images"], "--out", w.fresh("o")]),
    _c("references", "live --references <missing folder>", lambda w: [*LV, "--references", w.fresh("nofolder"),
                                                                      "--out", w.fresh("o")]),
    # --init
    _c("init", "--init empty.npz", lambda w: [*E, "--init", w["empty.npz"], "--out", w.fresh("o")]),
    _c("init", "--init garbage.npz", lambda w: [*E, "--init", w["garbage.npz"], "--out", w.fresh("o")]),
    _c("init", "--init 2000 codes with --budget 40", lambda w: [*E, "--budget", "40", "--init", w["codes_2000.npz"],
                                                                "--out", w.fresh("o")]),
    _c("init", "--init NaN codes", lambda w: [*E, "--init", w["codes_nan.npz"], "--out", w.fresh("o")]),
    _c("init", "--init a 1-D array", lambda w: [*E, "--init", w["codes_1d.npz"], "--out", w.fresh("o")]),
    _c("init", "--init text codes", lambda w: [*E, "--init", w["codes_text.npz"], "--out", w.fresh("o")]),
    _c("init", "--init codes of dimension 7", lambda w: [*E, "--init", w["codes_dim7.npy"], "--out", w.fresh("o")]),
    _c("init", "--init a .txt file", lambda w: [*E, "--init", w["file.txt"], "--out", w.fresh("o")]),
    _c("init", "--init a missing file", lambda w: [*E, "--init", w.fresh("x") + ".npz", "--out", w.fresh("o")]),
    _c("init", "--init ''", lambda w: [*E, "--init", "", "--out", w.fresh("o")]),
    _c("init", "--init a damaged run", lambda w: [*E, "--init", w["run_damaged"], "--out", w.fresh("o")]),
    _c("init", "--init a folder that is no run", lambda w: [*E, "--init", w["empty_dir"], "--out", w.fresh("o")]),
    _c("init", "live --init empty.npz", lambda w: [*LV, "--init", w["empty.npz"], "--out", w.fresh("o")]),
    # output paths
    _c("out", "evolve --out ''", lambda w: [*E, "--out", ""]),
    _c("out", "evolve --out <a file>", lambda w: [*E, "--out", w["file.txt"]]),
    _c("out", "evolve --out <under a file>", lambda w: [*E, "--out", w["file.txt"] + "/run"]),
    _c("out", "evolve --out <an existing run> without --resume", lambda w: [*E, "--out", w["run"]]),
    _c("out", "characterise --out <a file>", lambda w: [*CH, "--out", w["file.txt"]]),
    _c("out", "characterise --out ''", lambda w: [*CH, "--out", ""]),
    _c("out", "featviz --out <a file>", lambda w: [*FV, "--out", w["file.txt"]]),
    _c("out", "featviz --out ''", lambda w: [*FV, "--out", ""]),
    _c("out", "topology --out <a file>", lambda w: ["topology", w["plain_map.npz"], "--out", w["file.txt"]]),
    _c("out", "topology --out ''", lambda w: ["topology", w["plain_map.npz"], "--out", ""]),
    _c("out", "report --out <a folder>", lambda w: ["report", w["run"], "--out", w["empty_dir"]]),
    _c("out", "report --out <under a file>", lambda w: ["report", w["run"], "--out", w["file.txt"] + "/r.html"]),
    _c("out", "map --out <a folder>", lambda w: ["map", w["run"], "--out", w["empty_dir"]]),
    _c("out", "sweep --out <a file>", lambda w: ["sweep", w["spec_ok.toml"], "--serial", "--out", w["file.txt"]]),
    _c("out", "sweep --out ''", lambda w: ["sweep", w["spec_ok.toml"], "--serial", "--out", ""]),
    _c("out", "sweep without --out or sweep.out", lambda w: ["sweep", w["spec_no_out.toml"], "--serial"]),
    _c("out", "live --out <a file>", lambda w: [*LV, "--out", w["file.txt"]]),
    _c("out", "evolve --out <read-only folder>", lambda w: [*E, "--out", w["readonly_dir"] + "/run"], _root),
    # resume
    _c("resume", "evolve --resume <missing folder>", lambda w: [*E, "--resume", "--out", w.fresh("o")]),
    _c("resume", "evolve --resume <empty folder>", lambda w: [*E, "--resume", "--out", w["empty_dir"]]),
    _c("resume", "evolve --resume with a different --init", lambda w: [*E, "--resume", "--init", w["codes_ok.npz"],
                                                                       "--out", w["run"]]),
    _c("resume", "evolve --resume <read-only run>", lambda w: [*E, "--resume", "--out", w["readonly_run"]], _root),
    _c("resume", "evolve --resume <garbled meta.json>", lambda w: [*E, "--resume", "--out", w["run_bad_meta"]]),
    _c("resume", "live --resume <a plain folder>", lambda w: ["live", "--resume", w["empty_dir"]]),
    _c("resume", "live --resume <a file>", lambda w: ["live", "--resume", w["file.txt"]]),
    _c("resume", "live --resume <an evolve run>", lambda w: ["live", "--resume", w["run"]]),
    # input files
    _c("files", "map <missing folder>", lambda w: ["map", w.fresh("nothing"), "--out", w.fresh("m")]),
    _c("files", "map <a file>", lambda w: ["map", w["file.txt"], "--out", w.fresh("m")]),
    _c("files", "map <a damaged run>", lambda w: ["map", w["run_damaged"], "--out", w.fresh("m")]),
    _c("files", "map <a run without generations>", lambda w: ["map", w["run_empty_gens"], "--out", w.fresh("m")]),
    _c("files", "map <a run without meta.json>", lambda w: ["map", w["run_no_meta"], "--out", w.fresh("m")]),
    _c("files", "report <missing folder>", lambda w: ["report", w.fresh("nothing")]),
    _c("files", "report <a damaged run>", lambda w: ["report", w["run_damaged"], "--out", w.fresh("r") + ".html"]),
    _c("files", "report <a garbled meta.json>", lambda w: ["report", w["run_bad_meta"], "--out", w.fresh("r") + ".html"]),
    _c("files", "report --map <missing>", lambda w: ["report", w["run"], "--map", w.fresh("x") + ".npz",
                                                     "--out", w.fresh("r") + ".html"]),
    _c("files", "report --map <garbage>", lambda w: ["report", w["run"], "--map", w["garbage.npz"],
                                                     "--out", w.fresh("r") + ".html"]),
    _c("files", "topology <garbage npz>", lambda w: ["topology", w["garbage.npz"], "--out", w.fresh("t")]),
    _c("files", "topology <empty npz>", lambda w: ["topology", w["empty.npz"], "--out", w.fresh("t")]),
    _c("files", "topology <npz without values>", lambda w: ["topology", w["map_novalues.npz"], "--out", w.fresh("t")]),
    _c("files", "topology <1-D values>", lambda w: ["topology", w["map_1d.npz"], "--out", w.fresh("t")]),
    _c("files", "topology <text values>", lambda w: ["topology", w["map_text.npz"], "--out", w.fresh("t")]),
    _c("files", "topology <a .txt>", lambda w: ["topology", w["file.txt"], "--out", w.fresh("t")]),
    _c("files", "topology <missing>", lambda w: ["topology", w.fresh("x") + ".npz"]),
    _c("files", "characterise --run <damaged run>", lambda w: [*CH, "--run", w["run_damaged"], "--out", w.fresh("o")]),
    # sweep specs
    _c("sweep", "sweep seeds = 1000000000", lambda w: ["sweep", w["spec_seeds_1e9.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep seeds = 1e9 (a float)", lambda w: ["sweep", w["spec_seeds_float.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep of 1,024,000 tasks", lambda w: ["sweep", w["spec_1e6_tasks.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep budget = 0", lambda w: ["sweep", w["spec_budget0.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep unknown field", lambda w: ["sweep", w["spec_unknown_field.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep noise poisson:inf", lambda w: ["sweep", w["spec_noise_inf.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep unknown model", lambda w: ["sweep", w["spec_bad_model.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep unknown layer", lambda w: ["sweep", w["spec_bad_layer.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep channel out of range", lambda w: ["sweep", w["spec_bad_channel.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep population = 0", lambda w: ["sweep", w["spec_bad_setting.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep cma sigma0 = 1e308 (codes overflow)",
       lambda w: ["sweep", w["spec_overflow.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep optimizer adam", lambda w: ["sweep", w["spec_bad_optimizer.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep map grid sphere:100000", lambda w: ["sweep", w["spec_bad_grid.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep without units", lambda w: ["sweep", w["spec_no_units.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep not TOML", lambda w: ["sweep", w["spec_not_toml.toml"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep spec.txt", lambda w: ["sweep", w["spec.txt"], "--serial", "--out", w.fresh("s")]),
    _c("sweep", "sweep <missing spec>", lambda w: ["sweep", w.fresh("x") + ".toml", "--out", w.fresh("s")]),
    _c("sweep", "sweep --scheduler <unreachable>", lambda w: ["sweep", w["spec_ok.toml"], "--scheduler",
                                                              f"tcp://127.0.0.1:{closed_port()}", "--out", w.fresh("s")]),
    _c("sweep", "sweep --scheduler <not an address>", lambda w: ["sweep", w["spec_ok.toml"], "--scheduler", "my laptop",
                                                                 "--out", w.fresh("s")]),
    _c("sweep", "sweep --serial --scheduler", lambda w: ["sweep", w["spec_ok.toml"], "--serial", "--scheduler",
                                                         "tcp://127.0.0.1:1", "--out", w.fresh("s")]),
    _c("sweep", "sweep --dashboard-address here", lambda w: ["sweep", w["spec_ok.toml"], "--dashboard-address", "here",
                                                             "--out", w.fresh("s")]),
]


def prepare_extra(ws: Workspace) -> None:
    """The read-only run (a copy of the workspace run without write permission)."""
    ro = ws.root / "readonly_run"
    if not ro.exists():
        shutil.copytree(ws["run"], ro)
    os.chmod(ro, 0o555)
    os.chmod(ws["readonly_dir"], 0o555)
    ws.paths["readonly_run"] = str(ro)


# --------------------------------------------------------------------------------------
# running one command line
# --------------------------------------------------------------------------------------
@dataclass
class Answer:
    argv: list[str]
    rc: int | None
    out: str
    err: str
    reached: bool = False  # stopped where the work begins (generated inputs only)

    @property
    def lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.strip()]

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.err or self.rc == 3

    @property
    def clean(self) -> bool:
        """Refused in one line ``landscape <cmd>: error: ...`` with exit status 1 or 2."""
        return (self.rc in (1, 2) and len(self.lines) == 1 and self.lines[0].startswith("landscape")
                and ": error: " in self.lines[0] and not self.traceback)

    @property
    def verdict(self) -> str:
        if self.traceback:
            return "traceback"
        if self.reached or self.rc == 0:
            return "accepted"
        if self.rc is None:
            return "hung"
        return "rejected" if self.clean else "messy"


def run_inprocess(argv: list[str]) -> Answer:
    from landscape.cli import main

    out, err = io.StringIO(), io.StringIO()
    reached = False
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except Reached:
            rc, reached = None, True
    return Answer(argv, rc, out.getvalue(), err.getvalue(), reached)


def run_subprocess(argv: list[str], timeout: float = 300, code: str | None = None) -> Answer:
    """``python -m landscape ARGV``; ``code``: a folder holding another version's ``landscape`` package."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    if code is not None:
        env["PYTHONPATH"] = code
    try:
        p = subprocess.run([sys.executable, "-m", "landscape", *argv], capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=code or REPO)
    except subprocess.TimeoutExpired as e:
        return Answer(argv, None, str(e.stdout or ""), str(e.stderr or "") + f"\n[hung: killed after {timeout:g} s]")
    return Answer(argv, p.returncode, p.stdout, p.stderr)


@contextlib.contextmanager
def stop_before_work():
    """Make the points where commands begin their work raise :class:`Reached`."""
    from unittest import mock

    def reached(*a: Any, **k: Any) -> None:
        raise Reached()

    with mock.patch("landscape.zoo.load", reached), \
            mock.patch("landscape.report.build_report", reached), \
            mock.patch("landscape.topology.signature.TopologySignature.fit", reached):
        yield


# --------------------------------------------------------------------------------------
# generated command lines
# --------------------------------------------------------------------------------------
NUMBERS = ["0", "-1", "1", "3", "20", "1e3", "nan", "inf", "-inf", "0.5", "2.5", "99999999999", "x", "", " ", "1,2",
           "--", "-0"]
NAMES = ["resnet20-cifar10", "digiface-dcgan64", "nope", "", "RESNET20-CIFAR10", "layer3", "../x", "cma", "ga"]
NOISE = ["none", "poisson:5", "poisson:inf", "poisson:-1", "poisson:1:0", "gaussian:0.2", "gaussian:nan",
         "poisson-spikes:5", "poisson-spikes:5:2:0", "loud", "", "poisson:", "gaussian:1:2", "none:1"]


def option_table(ws: Workspace) -> dict[str, dict[str, list[str]]]:
    """Per subcommand: option -> candidate values, good and bad (positional arguments under '')."""
    paths = [ws["file.txt"], ws["empty_dir"], ws["garbage.npz"], ws["empty.npz"], "", "/nonexistent/x",
             ws["junk_images"]]
    runs = [ws["run"], ws["run_damaged"], ws["run_no_meta"], ws["run_empty_gens"], *paths]
    outs = [ws["file.txt"], ws["file.txt"] + "/x", "", "NEW", "NEW", ws["empty_dir"]]
    devices = ["cpu", "cuda", "cuda:7", "tpu", "", "cpu:0", "meta"]
    common = {"--device": devices, "--seed": NUMBERS}
    return {
        "evolve": {**common, "--generator": NAMES, "--model": NAMES, "--layer": ["layer3", "layer9", "", "conv1"],
                   "--channel": NUMBERS, "--position": ["center", "mean", "1,1", "99,99", "a,b", ""],
                   "--optimizer": ["ga", "cma", "spherecma", "nes", "fdgd", "adam", ""],
                   "--set": ["population=10", "population=0", "population=-1", "population=abc", "bogus=1",
                             "sigma0=nan", "sigma0=-1", "population", "=3", "seed=1", "population=1e400",
                             "population=[1,2]", "select=0", "mu=2"],
                   "--budget": NUMBERS, "--noise": NOISE,
                   "--init": ["prior", ws["codes_ok.npz"], ws["codes_2000.npz"], ws["codes_nan.npz"],
                              ws["codes_dim7.npy"], ws["run"], ws["run_damaged"], *paths],
                   "--references": ["default", "cifar", "cifar11", "photo-crops:0", "photo-crops:5", "",
                                    ws["junk_images"], "/nonexistent/"],
                   "--out": outs, "--resume": []},
        "map": {**common, "": runs, "--axes": ["pc", "pc:1,2,3", "pc:1,2", "pc:0,1,2", "random", "hessian", "hessian:0,1",
                                               "x", "", "pc:a"],
                "--grid": ["sphere:21", "sphere:0", "sphere:100000", "plane:5:-1:1", "plane:5", "sphere:5:nan:1",
                           "cube", "", "sphere:5:10:-10"],
                "--out": outs, "--hessian": paths, "--radius": NUMBERS, "--reps": NUMBERS,
                "--batch-size": NUMBERS, "--latent-rays": NUMBERS, "--fit-convention": ["project", "x"],
                "--latent-level-sets": [], "--clean": [], "--no-progress": []},
        "topology": {"": [ws["plain_map.npz"], ws["map_novalues.npz"], ws["map_1d.npz"], ws["map_text.npz"], *paths],
                     "--domain": ["plane", "sphere", "torus"], "--levels": NUMBERS, "--connectivity": ["4", "8", "6"],
                     "--threshold": NUMBERS, "--smooth": NUMBERS, "--sigma": NUMBERS, "--bootstrap": NUMBERS,
                     "--null": ["shuffle", "phase", "x"], "--nan-policy": ["raise", "harmonic", "x"],
                     "--seed": NUMBERS, "--out": outs},
        "report": {"": runs, "--map": [ws["plain_map.npz"], *paths], "--out": outs + ["NEW.html"]},
        "characterise": {**common, "--model": NAMES, "--layer": ["layer3", "conv1", "nope", ""], "--channel": NUMBERS,
                         "--position": ["center", "mean", "1,1", "x"], "--noise": NOISE, "--reps": NUMBERS,
                         "--size": NUMBERS, "--run": runs, "--references": ["default", "cifar11", ws["junk_images"]],
                         "--out": outs},
        "featviz": {**common, "--model": NAMES, "--layer": ["layer3", "nope", ""], "--channel": NUMBERS, "--out": outs,
                    "--neuron": [], "--y": NUMBERS, "--x": NUMBERS, "--batch": NUMBERS, "--diversity": NUMBERS,
                    "--steps": NUMBERS, "--lr": NUMBERS, "--size": NUMBERS, "--param": ["fourier", "pixel", "x"],
                    "--squash": ["sigmoid", "clamp", "x"], "--references": ["skimage", "nowhere", ws["junk_images"]]},
        "sweep": {"": [ws[k] for k in ws.paths if k.startswith("spec")] + paths,
                  "--out": outs, "--workers": NUMBERS, "--serial": [],
                  "--scheduler": ["tcp://127.0.0.1:1", "nowhere", "", "tcp://[::1]:99999"],
                  "--dashboard-address": ["127.0.0.1:8787", ":0", "here", "", "1.2.3.4:99999"]},
        "live": {**common, "--out": outs, "--resume": runs, "--simulate": [], "--generator": NAMES,
                 "--optimizer": ["ga", "cma", "adam"], "--set": ["population=10", "population=0", "bogus=1"],
                 "--budget": NUMBERS, "--init": ["prior", ws["empty.npz"], ws["codes_ok.npz"]],
                 "--transport": ["folder", "http", "pigeon"], "--port": NUMBERS, "--channels": ["all", "3", "0,2", "-1",
                                                                                                "1,1", "x"],
                 "--n-channels": NUMBERS, "--repeats": NUMBERS, "--max-requeue": NUMBERS, "--timeout": NUMBERS,
                 "--poll": NUMBERS, "--settle": NUMBERS, "--references": ["none", "default", "/nonexistent"],
                 "--n-references": NUMBERS, "--rig-model": NAMES, "--rig-channels": ["5", "x", "-1"],
                 "--rig-scale": NUMBERS, "--rig-drop": NUMBERS, "--rig-delay": ["0", "1,2", "2,1", "x"],
                 "--rig-crash": NUMBERS, "--rig-format": ["csv", "h5", "x"]},
        "layers": {"": NAMES},
        "list": {},
    }


REQUIRED = {"evolve": ["--out"], "map": [""], "topology": [""], "report": [""], "characterise": ["--layer", "--out"],
            "featviz": ["--model", "--layer", "--channel", "--out"], "sweep": [""], "live": ["--out"],
            "layers": [""], "list": []}


def generated_argv(rng: random.Random, ws: Workspace, command: str) -> list[str]:
    """One command line for ``command``: its required arguments (usually), plus up to four drawn options."""
    table = option_table(ws)[command]
    chosen = [k for k in REQUIRED[command] if rng.random() > 0.05]
    extra = [k for k in table if k not in chosen]
    chosen += rng.sample(extra, k=min(len(extra), rng.randint(0, 4)))
    argv = [command]
    for opt in chosen:
        values = table[opt]
        if opt != "" and not values:
            argv.append(opt)  # a flag
            continue
        value = rng.choice(values) if rng.random() > 0.1 else rng.choice(NUMBERS + NAMES)
        if value == "NEW":
            value = ws.fresh("gen")
        elif value == "NEW.html":
            value = ws.fresh("gen") + ".html"
        argv += [value] if opt == "" else [opt, value]
    return argv


def _generated(rng: random.Random, ws: Workspace, per_command: int) -> list[Answer]:
    answers = []
    with stop_before_work():
        for command in option_table(ws):
            for _ in range(per_command if command != "list" else 1):
                answers.append(run_inprocess(generated_argv(rng, ws, command)))
    return answers


def _catalogue(ws: Workspace, subprocess_too: bool) -> list[tuple[Case, Answer | None, Answer | None]]:
    results = []
    for case in CATALOGUE:
        reason = case.skip()
        if reason:
            results.append((case, None, None))
            continue
        argv = case.argv(ws)
        a = run_inprocess(argv)
        s = run_subprocess(argv) if subprocess_too else None
        results.append((case, a, s))
    return results


def _before(code: str, timeout: float, root: Path) -> dict[str, dict[str, int]]:
    ws = make_workspace(root)
    prepare_extra(ws)
    rows: dict[str, dict[str, int]] = {}
    try:
        for case in CATALOGUE:
            if case.skip():
                continue
            a = run_subprocess(case.argv(ws), timeout=timeout, code=str(Path(code).resolve()))
            r = rows.setdefault(case.category, {k: 0 for k in ("tried", "rejected", "traceback", "accepted", "hung",
                                                               "messy")})
            r["tried"] += 1
            r[a.verdict] += 1
            print(f"before: [{a.verdict}] {case.name}", file=sys.stderr, flush=True)
    finally:
        for d in (ws.root / "readonly_run", Path(ws["readonly_dir"])):
            os.chmod(d, 0o755)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--generated", type=int, default=40, help="generated command lines per subcommand")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subprocess", action="store_true", help="also run the catalogue through `python -m landscape`")
    ap.add_argument("--show", action="store_true", help="print every catalogue answer")
    ap.add_argument("--before", metavar="CODE", default=None,
                    help="also run the catalogue through another version's code (a folder holding its landscape/ "
                         "and geometry/, e.g. from `git archive`), in its own workspace, each case killed after "
                         "--timeout seconds")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)

    os.environ.setdefault("LANDSCAPE_OFFLINE", "1")
    shared = REPO.parent / "shared" / "weights"
    if "LANDSCAPE_HOME" not in os.environ and shared.is_dir():
        os.environ["LANDSCAPE_HOME"] = str(shared)
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bad-input-") as tmp:
        ws = make_workspace(Path(tmp))
        prepare_extra(ws)
        try:
            cat = _catalogue(ws, args.subprocess)
            gen = _generated(random.Random(args.seed), ws, args.generated)
        finally:
            for d in (ws.root / "readonly_run", Path(ws["readonly_dir"])):
                os.chmod(d, 0o755)
        before = _before(args.before, args.timeout, Path(tmp) / "before") if args.before else None
    seconds = time.perf_counter() - t0
    if before is not None:
        print(f"\nThe same catalogue through {args.before} (each case in its own process, killed after "
              f"{args.timeout:g} s)\n")
        print("| category | tried | rejected cleanly | tracebacks | accepted | hung | other |")
        print("|---|---|---|---|---|---|---|")
        tot_b = {k: 0 for k in ("tried", "rejected", "traceback", "accepted", "hung", "messy")}
        for cat_name, counts in before.items():
            print(f"| {cat_name} | {counts['tried']} | {counts['rejected']} | {counts['traceback']} | "
                  f"{counts['accepted']} | {counts['hung']} | {counts['messy']} |")
            for k in tot_b:
                tot_b[k] += counts[k]
        print(f"| **all** | {tot_b['tried']} | {tot_b['rejected']} | {tot_b['traceback']} | {tot_b['accepted']} | "
              f"{tot_b['hung']} | {tot_b['messy']} |")

    rows: dict[str, dict[str, int]] = {}
    bad = []
    for case, a, s in cat:
        r = rows.setdefault(case.category, {"tried": 0, "rejected": 0, "tracebacks": 0, "other": 0, "skipped": 0,
                                            "subprocess one line": 0})
        if a is None:
            r["skipped"] += 1
            continue
        r["tried"] += 1
        r[{"rejected": "rejected", "traceback": "tracebacks"}.get(a.verdict, "other")] += 1
        if s is not None and s.clean and s.rc == a.rc:
            r["subprocess one line"] += 1
        if a.verdict != "rejected" or (s is not None and not s.clean):
            bad.append((case, a, s))
        if args.show:
            print(f"[{a.verdict}] rc={a.rc} {case.name}: {a.lines[-1] if a.lines else ''}")
    print("\nCatalogue (named bad inputs; each must be refused in one line, exit 1 or 2)\n")
    print("| category | tried | rejected cleanly | tracebacks | other | skipped here" +
          (" | one line in a subprocess" if args.subprocess else "") + " |")
    print("|---|---|---|---|---|---" + ("|---" if args.subprocess else "") + "|")
    tot = {k: 0 for k in next(iter(rows.values()))}
    for cat_name, r in rows.items():
        print(f"| {cat_name} | {r['tried']} | {r['rejected']} | {r['tracebacks']} | {r['other']} | {r['skipped']}" +
              (f" | {r['subprocess one line']}" if args.subprocess else "") + " |")
        for k in tot:
            tot[k] += r[k]
    print(f"| **all** | {tot['tried']} | {tot['rejected']} | {tot['tracebacks']} | {tot['other']} | {tot['skipped']}" +
          (f" | {tot['subprocess one line']}" if args.subprocess else "") + " |")

    by_cmd: dict[str, dict[str, int]] = {}
    for a in gen:
        r = by_cmd.setdefault(a.argv[0], {"tried": 0, "rejected": 0, "accepted": 0, "traceback": 0, "messy": 0})
        r["tried"] += 1
        r[a.verdict] += 1
        if a.verdict in ("traceback", "messy"):
            bad.append((None, a, None))
    print(f"\nGenerated command lines (seed {args.seed}, {args.generated} per subcommand; accepted ones stop where "
          "the work begins)\n")
    print("| subcommand | tried | rejected cleanly | accepted (valid) | tracebacks | other |")
    print("|---|---|---|---|---|---|")
    g = {k: 0 for k in ("tried", "rejected", "accepted", "traceback", "messy")}
    for cmd, r in by_cmd.items():
        print(f"| {cmd} | {r['tried']} | {r['rejected']} | {r['accepted']} | {r['traceback']} | {r['messy']} |")
        for k in g:
            g[k] += r[k]
    print(f"| **all** | {g['tried']} | {g['rejected']} | {g['accepted']} | {g['traceback']} | {g['messy']} |")
    print(f"\n{seconds:.0f} s")
    for case, a, s in bad:
        print(f"\nNOT CLEAN: {case.name if case else 'generated'}: rc={a.rc} argv={a.argv}\n{a.err[-2000:]}")
        if s is not None and not s.clean:
            print(f"  subprocess: rc={s.rc}\n{s.err[-2000:]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
