"""``landscape evolve``: evolve a preferred stimulus for one CNN unit and report it."""

from __future__ import annotations

import argparse
import json

from .checks import nonneg_int, positive_int


#: ``--optimizer`` help: the names of landscape.optim.OPTIMIZERS (written out so that --help does not
#: import torch; tests/core/test_evolve_cli.py checks it lists every built-in name)
OPTIMIZER_HELP = ("published presets: ga (XDream's GA), ga-actmax (ActMax's GA), cholcma (ActMax's CholeskyCMAES), "
                  "pycma (pycma, sigma0 2; pip install cma), nes, fdgd (XDream's raw rules); the project's: cma, "
                  "spherecma, ga-project, nes-auto, fdgd-auto; or a name added with landscape.optim.register "
                  "(default: %(default)s)")


def _setting(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"optimizer setting {text!r} must look like key=value")
    k, v = text.split("=", 1)
    if not k.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"optimizer setting {text!r}: {k!r} is not a setting name")
    try:
        value = json.loads(v)
    except (json.JSONDecodeError, RecursionError):
        return k.strip(), v
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"optimizer setting {text!r}: the value must be finite")
    return k.strip(), value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evolve", help="evolve images that drive one unit of a CNN",
                       description="Evolve a preferred stimulus through a generator, writing every generation "
                                   "to --out as it completes; --resume continues a killed run.")
    p.add_argument("--generator", default="digiface-dcgan64", help="zoo generator (default: %(default)s)")
    p.add_argument("--model", default="resnet20-cifar10", help="zoo classifier (default: %(default)s)")
    p.add_argument("--layer", default="layer3", help="layer name; see `landscape layers MODEL`")
    p.add_argument("--channel", type=nonneg_int, default=5)
    p.add_argument("--position", default="center",
                   help="'center', 'mean' (average over space) or 'y,x' (default: %(default)s)")
    p.add_argument("--optimizer", default="cma", help=OPTIMIZER_HELP)
    p.add_argument("--set", dest="settings", action="append", type=_setting, default=[], metavar="KEY=VALUE",
                   help="optimizer hyper-parameter, repeatable (e.g. --set population=40)")
    p.add_argument("--budget", type=positive_int, default=3000, help="image evaluations (default: %(default)s)")
    p.add_argument("--noise", default="none",
                   help="none, poisson:SCALE[:REPS] (XDream's raw scale), poisson-spikes:SPIKES[:REPS[:N]] "
                        "(calibrated: SPIKES expected spikes for the best of N=100 prior images) or "
                        "gaussian:SIGMA (default: %(default)s)")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--init", default=None, help="'prior', a .npy/.npz of codes, or a run folder")
    p.add_argument("--references", default="default",
                   help="reference set for XDream's relative activation: 'default' (by the model's domain: "
                        "'cifar' for CIFAR networks, 'imagenet+photos' for ImageNet ones), a named set "
                        "(cifar, cifar10, cifar100, imagenet, photos, skimage, photo-crops:N; join with '+') "
                        "or a folder of images (default: %(default)s)")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.set_defaults(func=run)


def default_device(device: str | None) -> str:
    """``device``, or cuda when available; a device that is not on this machine is refused."""
    from .checks import check_device

    return check_device(device)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from .. import optim, zoo
    from ..references import (input_size, load_reference_set, relative_activation_summary,
                              resolve_reference_source, validate_reference_source)
    from ..io import atomic_write_json
    from ..runs import evolve

    from . import checks

    # everything the command line names is checked before a weight is loaded or a file written
    checks.check_out_folder(args.out)
    checks.check_resume(args.out, args.resume, args.init)
    checks.check_zoo_name(args.generator, "generator", "--generator")
    checks.check_zoo_name(args.model, "classifier", "--model")
    checks.check_position(args.position)
    checks.check_noise(args.noise)
    device = checks.check_device(args.device)
    try:
        ref_source = validate_reference_source(resolve_reference_source(args.references, args.model))
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        raise ValueError(f"--references {args.references!r}: {e}") from None
    checks.check_optimizer(args.optimizer, args.settings, budget=args.budget)
    init = checks.check_init_codes(args.init, args.budget)

    generator = zoo.load(args.generator, device=device)
    if init is not None and init.get("dim") not in (None, generator.dim):
        raise ValueError(f"--init {args.init}: codes have {init['dim']} dimensions but generator {args.generator!r} "
                         f"takes {generator.dim}")
    from ..units.spec import build_unit

    unit = build_unit(args.model, args.layer, args.channel, args.position, args.noise, args.seed, device,
                      generator=generator)
    optimizer = optim.make(args.optimizer, generator.dim, seed=args.seed, device=device, **dict(args.settings))
    checks.check_population(optimizer, args.budget)
    # the reference images are read before the run, so a bad folder is found now, not after hours
    try:
        refs = load_reference_set(ref_source, size=input_size(unit))
    except (OSError, ValueError, RuntimeError, ImportError) as e:
        raise ValueError(f"--references {args.references!r}: {type(e).__name__}: {e}") from None
    run = evolve(generator, unit, optimizer, args.budget, out=args.out, seed=args.seed, resume=args.resume,
                 init=args.init)
    m = relative_activation_summary(run, unit, refs)
    summary = {**m, "best_score": run.best_score, "generations": run.n_generations,
               "evaluations": int(sum(len(s) for s in run.gen_scores))}
    atomic_write_json(Path(args.out) / "summary.json", summary)
    best_png = Path(args.out) / "best" / f"gen_{run.n_generations - 1:06d}.png"
    opt = m["optimized_image"]
    print(f"unit {unit.describe()}")
    print(f"best clean score ever {m['best_clean_ever']:.4g} (best observed {m['best_observed_ever']:.4g}) after "
          f"{summary['evaluations']} images ({run.n_generations} generations)")
    print(f"reference set {refs.name!r} ({refs.n} images): best is {m['best_reference_image']} scoring "
          f"{m['best_reference_score']:.4g}")
    print(f"relative activation (XDream: last generation's best by observed score, {opt['response_kind']} response "
          f"{opt['response']:.4g}) {m['relative_activation']:.3g}; best_clean_ever / best reference "
          f"{m['best_clean_ever_over_reference']:.3g}")
    if refs.warning:
        print(f"warning: {refs.warning}", file=sys.stderr)
    print(f"images: best of each generation in {Path(args.out) / 'best'} (last: {best_png}); "
          f"data: {Path(args.out) / 'generations'}, {Path(args.out) / 'scores.csv'}, {Path(args.out) / 'summary.json'}")
    return 0
