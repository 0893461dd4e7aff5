"""``landscape live``: evolve images for a neuron recorded by a rig (or a simulated one).

``landscape live --out DIR [--simulate]`` starts an experiment; ``landscape live --resume DIR``
continues one after any interruption, ``kill -9`` included, with the settings saved in
``DIR/meta.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..io import read_json
from .checks import int_at_least, nonneg_float, nonneg_int, positive_float, positive_int, probability
from .evolve import OPTIMIZER_HELP, _setting  # the same optimizer names and key=value settings as `landscape evolve`

#: options saved in meta.json so that --resume rebuilds the same experiment
SAVED = ("generator", "optimizer", "settings", "budget", "seed", "init", "device", "transport", "host", "port",
         "channels", "n_channels", "repeats", "missing", "max_requeue", "timeout", "poll", "settle", "references",
         "n_references", "simulate", "rig_model", "rig_layer", "rig_channels", "rig_scale", "rig_seed", "rig_drop",
         "rig_delay", "rig_crash", "rig_format")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "live", help="evolve images for a neuron recorded by a rig (or --simulate one)",
        description="Run a live experiment: each generation's images are written as a block to OUT/stimuli "
                    "(or served over HTTP) and the rig's response file is awaited in OUT/responses. Every response "
                    "is on disk before the loop goes on; `--resume OUT` continues after any crash.",
        epilog="response files: responses/blockBBBBBB.csv|json|h5, one row per presentation "
               "(image_id[,presentation],<channels>...); see landscape.live.protocol")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", help="new run folder")
    mode.add_argument("--resume", metavar="DIR",
                      help="continue the live run in DIR (every other setting comes from DIR/meta.json)")
    p.add_argument("--simulate", action="store_true",
                   help="start a simulated rig (a CNN unit with Poisson noise) in a separate process")
    p.add_argument("--generator", default="digiface-dcgan64", help="zoo generator (default: %(default)s)")
    p.add_argument("--optimizer", default="ga", help=OPTIMIZER_HELP)
    p.add_argument("--set", dest="settings", action="append", type=_setting, default=[], metavar="KEY=VALUE",
                   help="optimizer hyper-parameter, repeatable (e.g. --set population=20)")
    p.add_argument("--budget", type=positive_int, default=1000, help="images evaluated (default: %(default)s)")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--init", default=None, help="'prior', a .npy/.npz of codes, or a run folder")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--transport", default="folder", choices=("folder", "http"),
                   help="how the rig gets blocks (default: %(default)s)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address the http transport binds (default: %(default)s; others expose the experiment)")
    p.add_argument("--port", type=port_number, default=0, help="http port (default: any free one)")
    p.add_argument("--channels", default="all", help="channels pooled into the score: all, 3 or 0,2 (default: all)")
    p.add_argument("--n-channels", type=positive_int, default=None, help="channels the rig must send (default: as it sends)")
    p.add_argument("--repeats", type=positive_int, default=1, help="presentations per image per block (default: 1)")
    p.add_argument("--missing", default="requeue", choices=("requeue", "mark"),
                   help="images with no response: show again, or mark missing (default: %(default)s)")
    p.add_argument("--max-requeue", type=nonneg_int, default=2, help="re-queues per generation (default: %(default)s)")
    p.add_argument("--timeout", type=positive_float, default=3600.0, help="seconds to wait for a block (default: 3600)")
    p.add_argument("--poll", type=positive_float, default=0.05, help="seconds between looks for a response")
    p.add_argument("--settle", type=nonneg_float, default=None,
                   help="seconds a response file must stay unchanged before it is read (default: 0.5; 0 with "
                        "--simulate, whose rig renames complete files into place)")
    p.add_argument("--references", default="none",
                   help="reference images shown in every block: none, default (scikit-image photographs) or a "
                        "folder (default: none)")
    p.add_argument("--n-references", type=positive_int, default=2, help="how many reference images (default: 2)")
    g = p.add_argument_group("simulated rig (--simulate)")
    g.add_argument("--rig-model", default="resnet20-cifar10")
    g.add_argument("--rig-layer", default="layer3")
    g.add_argument("--rig-channels", default="5", help="unit channels, one per recorded channel (default: 5)")
    g.add_argument("--rig-scale", type=positive_float, default=20.0, help="Poisson spikes per unit of activation")
    g.add_argument("--rig-seed", type=nonneg_int, default=None, help="noise seed (default: --seed + 1)")
    g.add_argument("--rig-drop", type=probability, default=0.0, help="chance an image gets no response")
    g.add_argument("--rig-delay", default="0", help="seconds before a block is answered: LO[,HI]")
    g.add_argument("--rig-crash", type=probability, default=0.0,
                   help="chance the rig crashes before a block (it is restarted)")
    g.add_argument("--rig-format", default="csv", choices=("csv", "json", "h5"))
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    v = int_at_least(0)(text)
    if v > 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {text!r}")
    return v


def _check_new(args: argparse.Namespace) -> None:
    """Everything a new live experiment's command line names, checked before anything is loaded or written."""
    from ..live.protocol import parse_channels
    from . import checks

    checks.check_out_folder(args.out)
    if (Path(args.out) / "meta.json").is_file():
        raise ValueError(f"--out {args.out} already holds a run; continue it with --resume {args.out}")
    checks.check_zoo_name(args.generator, "generator", "--generator")
    checks.check_device(args.device)
    settings = dict(args.settings)
    settings.setdefault("nan_policy", "worst")
    checks.check_optimizer(args.optimizer, settings, budget=args.budget)
    checks.check_init_codes(args.init, args.budget)
    try:
        c = parse_channels(args.channels)
        if c != "all":  # the list form checks signs and repeats
            parse_channels(c if isinstance(c, int) else list(c))
    except ValueError as e:
        raise ValueError(f"--channels {args.channels!r}: {e}") from None
    if args.references not in ("none", "default") and not Path(args.references).is_dir():
        raise ValueError(f"--references {args.references!r} is neither none, default nor an existing folder of images")
    if args.simulate:
        checks.check_zoo_name(args.rig_model, "classifier", "--rig-model")
        try:
            chans = [int(c) for c in str(args.rig_channels).split(",")]
        except ValueError:
            chans = [-1]
        if min(chans) < 0:
            raise ValueError(f"--rig-channels {args.rig_channels!r} must be channel indices, e.g. 5 or 3,7")
        try:
            delay = [float(v) for v in str(args.rig_delay).split(",")]
        except ValueError:
            delay = []
        if not 1 <= len(delay) <= 2 or not all(0 <= d < float("inf") for d in delay) or delay != sorted(delay):
            raise ValueError(f"--rig-delay {args.rig_delay!r} must be LO or LO,HI seconds with 0 <= LO <= HI")


def _references(source: str, n: int, size: int):
    if source == "none":
        return None
    from ..references import reference_images

    if n < 1:
        raise ValueError(f"--n-references must be >= 1, got {n}")
    images, _ = reference_images(None if source == "default" else source, size=size)
    return images[:n]


class _RigKeeper:
    """Starts the simulated rig once the run folder exists, and restarts it after a simulated crash."""

    def __init__(self, cfg: dict, run_dir: Path, transport, grace: float = 0.0) -> None:
        self.cfg, self.run_dir, self.transport = cfg, run_dir, transport
        self.proc = None
        self.restarts = 0
        self.log = None
        self.grace = grace  # on resume, the rig of the killed run may still be alive: let it answer first
        self.first_wait: float | None = None

    def command(self) -> list[str]:
        c = self.cfg
        seed = c["rig_seed"] if c["rig_seed"] is not None else c["seed"] + 1
        where = ["--url", self.transport.url] if c["transport"] == "http" else [str(self.run_dir)]
        return [sys.executable, "-m", "landscape.live.simrig", *where, "--model", c["rig_model"], "--layer",
                c["rig_layer"], "--channels", str(c["rig_channels"]), "--scale", str(c["rig_scale"]),
                "--seed", str(seed), "--drop", str(c["rig_drop"]), "--delay", str(c["rig_delay"]),
                "--crash", str(c["rig_crash"]), "--format", c["rig_format"], "--idle-exit", "120"]

    def __call__(self, block: int) -> None:
        import subprocess

        from ..live.protocol import LiveError
        from ..live.simrig import CRASH_EXIT

        import time

        if self.first_wait is None:
            self.first_wait = time.monotonic()
        if self.proc is None and time.monotonic() - self.first_wait < self.grace:
            return
        if self.proc is not None:
            code = self.proc.poll()
            if code is None or code == 3:  # running, or another rig already serves this folder
                return
            if code not in (0, CRASH_EXIT):  # 0: it left after idling; start it again
                raise LiveError(f"the simulated rig exited with status {code}; see {self.run_dir / 'simrig.log'}")
            if code == CRASH_EXIT:
                self.restarts += 1
                print(f"\nlandscape live: the simulated rig crashed (restart {self.restarts})", file=sys.stderr)
        if self.log is None:
            self.log = open(self.run_dir / "simrig.log", "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=self.log)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=5)  # it exits by itself once the run is complete
            except Exception:
                self.proc.terminate()
        if self.log is not None:
            self.log.close()


def run(args: argparse.Namespace) -> int:
    from .. import optim, zoo
    from ..live.experiment import run_experiment
    from ..live.protocol import parse_channels
    from .evolve import default_device

    if args.resume:
        run_dir = Path(args.resume)
        meta_path = run_dir / "meta.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{run_dir} is not a run folder: it has no meta.json")
        meta = read_json(meta_path)
        live_meta = meta.get("live") if isinstance(meta, dict) else None
        cfg = live_meta.get("command") if isinstance(live_meta, dict) else None
        if cfg is None:
            raise ValueError(f"{run_dir} was not started by `landscape live`; resume it with "
                             "landscape.live.run_experiment(..., resume=True)")
    else:
        _check_new(args)
        run_dir = Path(args.out)
        cfg = {k: getattr(args, k) for k in SAVED}
        cfg["settings"] = [list(s) for s in args.settings]
        if cfg["settle"] is None:
            cfg["settle"] = 0.0 if cfg["simulate"] else 0.5
        parse_channels(cfg["channels"])  # fail before anything is written
    device = default_device(cfg["device"])
    generator = zoo.load(cfg["generator"], device=device)
    if zoo.get(cfg["generator"]).kind != "generator":
        raise ValueError(f"--generator {cfg['generator']!r} is not a generator; generators: "
                         f"{', '.join(zoo.names('generator'))}")
    settings = dict(cfg["settings"])
    settings.setdefault("nan_policy", "worst")
    optimizer = optim.make(cfg["optimizer"], generator.dim, seed=cfg["seed"], device=device, **settings)
    refs = _references(cfg["references"], cfg["n_references"], generator.image_size) if not args.resume else None
    if cfg["transport"] == "http":
        from ..live.server import HTTPTransport

        port = cfg["port"]
        if args.resume:  # the rig knows the old address: take the same port back
            port = read_json(run_dir / "meta.json")["live"]["transport"].get("port", port)
        transport = HTTPTransport(cfg["host"], port)
    else:
        from ..live.folder import FolderTransport

        transport = FolderTransport()
    keeper = _RigKeeper(cfg, run_dir, transport, grace=5.0 if args.resume else 0.0) if cfg["simulate"] else None
    if not cfg["simulate"] and not args.resume:
        where = "an HTTP server (address printed below)" if cfg["transport"] == "http" else f"{run_dir / 'stimuli'}"
        print(f"landscape live: blocks go to {where}; the rig answers in {run_dir / 'responses'} "
              "(blockBBBBBB.csv|json|h5)")
    try:
        run = run_experiment(generator, optimizer, cfg["budget"], run_dir, seed=cfg["seed"], transport=transport,
                             references=refs, channels=parse_channels(cfg["channels"]), n_channels=cfg["n_channels"],
                             repeats=cfg["repeats"], missing=cfg["missing"], max_requeue=cfg["max_requeue"],
                             timeout=cfg["timeout"], poll_interval=cfg["poll"], settle=cfg["settle"],
                             init=cfg["init"],
                             resume=bool(args.resume), progress=not args.no_progress, on_wait=keeper,
                             extra_meta=cfg)
    finally:
        if keeper is not None:
            keeper.close()
    missing = 0
    for g in range(run.n_generations):
        import numpy as np

        with np.load(run.dir / "generations" / f"gen_{g:06d}.npz") as z:
            missing += int(z["missing"].sum())
    print(f"landscape live: {run.n_generations} generations, {len(run.all_scores)} images, {missing} never answered; "
          f"best observed response {run.best_score:.4g}")
    print(f"data: {run_dir / 'generations'}, {run_dir / 'scores.csv'}; rig files: {run_dir / 'stimuli'}, "
          f"{run_dir / 'responses'}" + (f"; simulated rig restarts: {keeper.restarts}" if keeper else ""))
    return 0
