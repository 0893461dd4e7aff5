"""Checks every command runs on its arguments before any work (weights loaded, runs started, files written).

Each check raises ``ValueError`` (bad input: exit status 2 through :func:`landscape.cli.main`)
or ``FileNotFoundError``, with a message that names the option, the bad value and the valid
choices. The argparse ``type=`` functions here raise ``argparse.ArgumentTypeError`` instead, which
argparse turns into its own one-line usage error.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from pathlib import Path
from typing import Any, Callable

#: the most codes an --init file may hold, read before the generator is loaded
MAX_INIT_CODES = 100_000


# --------------------------------------------------------------------------------------
# argparse types
# --------------------------------------------------------------------------------------
def _number(kind: type, text: str) -> Any:
    try:
        v = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"invalid {'integer' if kind is int else 'number'} {text!r}") from None
    if kind is float and not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low``."""
    def parse(text: str) -> int:
        v = _number(int, text)
        if v < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}")
        return v
    parse.__name__ = f"integer >= {low}"
    return parse


def float_at_least(low: float, strict: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number >= ``low`` (> ``low`` with ``strict``)."""
    def parse(text: str) -> float:
        v = _number(float, text)
        if v < low or (strict and v == low):
            raise argparse.ArgumentTypeError(f"must be a number {'>' if strict else '>='} {low:g}, got {text!r}")
        return v
    parse.__name__ = "number"
    return parse


def finite_float(text: str) -> float:
    """An argparse type: a finite number."""
    return _number(float, text)


def probability(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    v = _number(float, text)
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must be a probability in [0, 1], got {text!r}")
    return v


positive_int = int_at_least(1)
nonneg_int = int_at_least(0)
positive_float = float_at_least(0.0, strict=True)
nonneg_float = float_at_least(0.0)


# --------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------
def check_zoo_name(name: str, kind: str, option: str) -> None:
    """``name`` is a zoo entry of ``kind`` ("generator" or "classifier"); nothing is loaded."""
    from .. import zoo

    valid = zoo.names(kind)
    if name not in valid:
        other = name in zoo.names()
        raise ValueError(f"{option} {name!r} is {'a ' + zoo.get(name).kind + ', not a ' + kind if other else 'not a zoo ' + kind}"
                         f" (valid: {', '.join(valid)})")


def check_device(device: str | None, option: str = "--device") -> str:
    """The device to run on: ``device``, or cuda when available; refused when it is not here."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    valid = "cpu" + (", cuda" + (f", cuda:0..cuda:{torch.cuda.device_count() - 1}" if torch.cuda.device_count() > 1
                                 else "") if torch.cuda.is_available() else "")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"{option} {device!r} is not a device (valid here: {valid})") from None
    if dev.type == "cpu":
        return str(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{option} {device!r}: torch sees no CUDA device on this machine (valid here: {valid})")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{option} {device!r}: there are {torch.cuda.device_count()} CUDA devices (valid here: {valid})")
        return str(device)
    if dev.type == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"{option} {device!r}: MPS is not available on this machine (valid here: {valid})")
        return str(device)
    raise ValueError(f"{option} {device!r}: this toolkit runs on cpu, cuda or mps (valid here: {valid})")


def check_position(text: str, option: str = "--position") -> Any:
    from ..units.spec import POSITION_SYNTAX, parse_position

    try:
        return parse_position(text)
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a position (valid: {POSITION_SYNTAX})") from None


def check_noise(text: str, option: str = "--noise") -> dict:
    from ..units.spec import NOISE_SYNTAX, parse_noise

    try:
        return parse_noise(text)
    except ValueError:
        raise ValueError(f"{option} {text!r} is not a noise model (valid: {NOISE_SYNTAX})") from None


#: the largest population a command-line optimizer may have (codes of one generation are held in memory)
MAX_POPULATION = 100_000


def check_optimizer(name: str, settings: list[tuple[str, Any]] | dict, dim: int = 8, option: str = "--optimizer",
                    budget: int | None = None, **extra: Any) -> None:
    """Build the optimizer once (cheap: no model involved) so its name and every setting are checked.

    ``dim`` is a stand-in until the generator is loaded; the command builds the real one then.
    """
    from .. import optim

    settings = dict(settings)
    for k in ("dim", "seed", "device"):
        if k in settings:
            raise ValueError(f"--set {k}=... is set by the command ({'the generator' if k == 'dim' else '--' + k}); "
                             f"drop it")
    if str(name) not in optim.names() and str(name).lower() not in optim.names():
        raise ValueError(f"{option} {name!r} is not an optimizer (valid: {', '.join(optim.names())})")
    pop = settings.get("population")
    if isinstance(pop, (int, float)) and not isinstance(pop, bool) and pop > MAX_POPULATION:
        raise ValueError(f"--set population={pop}: at most {MAX_POPULATION} images per generation")
    try:
        opt = optim.make(name, dim, seed=0, device="cpu", **settings, **extra)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError) as e:
        raise ValueError(f"--set for optimizer {name!r}: {' '.join(str(e).split())}") from None
    check_population(opt, budget)
    from ..optim.checks import check_first_generations

    try:  # the first generations of a throwaway copy: settings that overflow show here, not hours later
        check_first_generations(opt, settings)
    except ValueError as e:
        raise ValueError(f"--set for optimizer {name!r}: {e}") from None


def check_population(optimizer: Any, budget: int | None) -> None:
    """One generation of ``optimizer`` fits in ``budget`` evaluations."""
    pop = getattr(optimizer, "population", None)
    if budget is not None and isinstance(pop, int) and pop > budget:
        raise ValueError(f"the optimizer's population is {pop} images but --budget is {budget}: not one generation "
                         f"would fit; raise --budget or lower --set population")


# --------------------------------------------------------------------------------------
# files and folders
# --------------------------------------------------------------------------------------
def check_out_folder(path: str, option: str = "--out") -> Path:
    """An output folder: a non-empty path that is not a file, under a parent that can hold it.

    Nothing is created here.
    """
    if path is None or not str(path).strip():
        raise ValueError(f"{option} is empty: give a folder to write to")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option} {path} is a file, not a folder: give a folder to write to")
    parent = _existing_ancestor(p)
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: {parent} is a file, so no folder can be made under it")
    target = p if p.exists() else parent
    if not os.access(target, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: {target} is not writable")
    return p


def check_out_file(path: str, option: str = "--out", suffix: str | None = None) -> Path:
    """An output file: not a folder, under a parent that can hold it."""
    if path is None or not str(path).strip():
        raise ValueError(f"{option} is empty: give a file to write to")
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file name" + (f" ending in {suffix}" if suffix else ""))
    parent = _existing_ancestor(p.parent if str(p.parent) else Path("."))
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: {parent} is a file, so no file can be written under it")
    if not os.access(parent if not p.parent.exists() else p.parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: {p.parent} is not writable")
    return p


def _existing_ancestor(p: Path) -> Path:
    p = p.absolute()
    for a in (p, *p.parents):
        if a.exists():
            return a
    return Path("/")


def check_run_folder(path: str, what: str = "RUN_DIR", need_generations: bool = True) -> Any:
    """Load a run folder written by ``landscape evolve``, turning any damage into one ValueError."""
    import json
    import zipfile

    from ..runs import Run

    if path is None or not str(path).strip():
        raise ValueError(f"{what} is empty: give a run folder written by `landscape evolve`")
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} {path} does not exist; give a run folder written by `landscape evolve`")
    if not p.is_dir():
        raise ValueError(f"{what} {path} is a file; give a run folder written by `landscape evolve`")
    if not (p / "meta.json").is_file():
        raise ValueError(f"{what} {path} is not a run folder: it has no meta.json")
    try:
        run = Run.load(p)
        if need_generations and run.n_generations:
            run.gen_codes[-1], run.gen_scores[-1]  # read now, not after a model is loaded
    except (ValueError, KeyError, IndexError, TypeError, EOFError, OSError, zipfile.BadZipFile,
            json.JSONDecodeError) as e:
        if isinstance(e, ValueError) and str(p) in str(e):
            raise
        raise ValueError(f"{what} {path} is damaged: {type(e).__name__}: {' '.join(str(e).split())}") from None
    if need_generations and run.n_generations == 0:
        raise ValueError(f"{what} {path} has no completed generation")
    return run


def check_input_file(path: str, what: str, suffixes: tuple[str, ...]) -> Path:
    """An existing file whose name ends in one of ``suffixes``."""
    if path is None or not str(path).strip():
        raise ValueError(f"{what} is empty")
    p = Path(path)
    if p.suffix not in suffixes:
        raise ValueError(f"{what} {path} must be a {' or '.join(suffixes)} file")
    if not p.exists():
        raise FileNotFoundError(f"{what} {path} does not exist")
    if not p.is_file():
        raise ValueError(f"{what} {path} is not a file")
    return p


def read_npz_arrays(path: Path, what: str) -> dict:
    """The arrays of an .npz (no pickles), any damage reported as one ValueError naming the file."""
    import zipfile

    import numpy as np

    if not zipfile.is_zipfile(path):
        raise ValueError(f"{what} {path} is not an .npz file (not a zip archive of arrays)")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise ValueError("not an .npz archive")
            return {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"{what} {path} is not a readable .npz: {type(e).__name__}: {' '.join(str(e).split())}") from None


def check_init_codes(init: str | None, budget: int | None, option: str = "--init") -> dict | None:
    """Check ``--init`` ('prior', a .npy/.npz of codes, or a run folder) without a generator.

    Returns a description ``{"type", "path", "n", "dim"}`` (None for no --init), so the command can
    compare the code dimension with the generator's once that is loaded.
    """
    import numpy as np

    if init is None or init == "prior":
        return None if init is None else {"type": "prior"}
    if not str(init).strip():
        raise ValueError(f"{option} is empty (valid: 'prior', a .npy/.npz of codes or a run folder)")
    p = Path(init)
    if p.is_dir():
        run = check_run_folder(init, option)
        codes = np.asarray(run.gen_codes[-1])
        kind = "run"
    else:
        if p.suffix not in (".npy", ".npz"):
            raise ValueError(f"{option} {init!r} is not 'prior', an existing run folder or a .npy/.npz of codes")
        if not p.is_file():
            raise FileNotFoundError(f"{option} {init} does not exist (valid: 'prior', a .npy/.npz of codes or a "
                                    "run folder)")
        if p.suffix == ".npy":
            with open(p, "rb") as f:
                if f.read(6) != b"\x93NUMPY":
                    raise ValueError(f"{option} {init} is not an .npy file (no NumPy header)")
            try:
                codes = np.load(p, allow_pickle=False)
            except (ValueError, OSError, EOFError) as e:
                raise ValueError(f"{option} {init} is not a readable .npy: {' '.join(str(e).split())}") from None
        else:
            arrays = read_npz_arrays(p, option)
            if not arrays:
                raise ValueError(f"{option} {init} holds no arrays; it needs an (n, d) array of codes named 'codes'")
            codes = arrays["codes"] if "codes" in arrays else next(iter(arrays.values()))
        kind = "file"
    if codes.ndim != 2 or codes.shape[0] < 1 or codes.shape[1] < 1:
        raise ValueError(f"{option} {init}: codes must be an (n, d) array with n, d >= 1, got shape {codes.shape}")
    if not np.issubdtype(codes.dtype, np.number) or np.issubdtype(codes.dtype, np.complexfloating):
        raise ValueError(f"{option} {init}: codes must be real numbers, got dtype {codes.dtype}")
    if not np.isfinite(codes).all():
        raise ValueError(f"{option} {init}: {int((~np.isfinite(codes)).sum())} codes entries are NaN or infinite")
    n = codes.shape[0]
    if n > MAX_INIT_CODES:
        raise ValueError(f"{option} {init} holds {n} codes; at most {MAX_INIT_CODES}")
    if budget is not None and n > budget:
        raise ValueError(f"{option} {init} holds {n} codes but --budget is {budget} evaluations: raise --budget to "
                         f"at least {n} or pass fewer codes")
    return {"type": kind, "path": str(p), "n": int(n), "dim": int(codes.shape[1])}


def check_resume(out: str, resume: bool, init: str | None) -> None:
    """``--resume`` needs a run in ``out`` (with the same --init); a new run needs no run there."""
    from ..io import read_json

    p = Path(out)
    meta_path = p / "meta.json"
    if resume:
        if not p.is_dir():
            raise ValueError(f"--resume: {out} does not exist, so there is no run to resume; drop --resume to start one")
        if not meta_path.is_file():
            raise ValueError(f"--resume: {out} holds no run (no meta.json); drop --resume to start a new run there")
        try:
            meta = read_json(meta_path)
        except (ValueError, OSError) as e:
            raise ValueError(f"--resume: {meta_path} is damaged: {' '.join(str(e).split())}") from None
        if not isinstance(meta, dict):
            raise ValueError(f"--resume: {meta_path} is damaged: not a JSON object")
        if not os.access(p, os.W_OK | os.X_OK):
            raise ValueError(f"--resume: {out} is not writable, so the run cannot go on there")
        recorded = meta.get("init")
        if init is not None:
            same = isinstance(recorded, dict) and (
                (recorded.get("type") == "prior" and init == "prior") or (
                    recorded.get("path") is not None and init != "prior"
                    and Path(str(recorded["path"])).resolve() == Path(init).resolve()))
            started = "the optimizer's own start" if recorded is None else recorded
            if not same:
                raise ValueError(f"--resume: --init {init!r} differs from the run's recorded start ({started}); drop "
                                 "--init (a resumed run keeps its own start) or start a new run in another folder")
    elif meta_path.is_file():
        raise ValueError(f"--out {out} already holds a run; pass --resume to continue it, or choose another folder")


_SCHEME = re.compile(r"^(?:(tcp|tls|inproc|ucx|ws|wss)://)?([^:/\s]+|\[[0-9a-fA-F:]+\]):(\d+)$")


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """A Dask scheduler address that can be reached (a TCP connection within ``timeout`` seconds)."""
    import socket

    m = _SCHEME.match(str(address).strip())
    if not m or not 0 < int(m.group(3)) < 65536:
        raise ValueError(f"--scheduler {address!r} is not a scheduler address (valid: tcp://HOST:PORT, e.g. "
                         "tcp://10.0.0.5:8786)")
    if m.group(1) not in (None, "tcp", "tls"):
        return  # other protocols: Dask checks them
    host = m.group(2).strip("[]")
    try:
        with socket.create_connection((host, int(m.group(3))), timeout=timeout):
            pass
    except OSError as e:
        raise ConnectionError(f"--scheduler {address}: cannot reach a Dask scheduler there ({e}); start one "
                              "(`dask scheduler`) or drop --scheduler to run a local cluster") from None
