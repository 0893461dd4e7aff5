"""``landscape featviz``: render images that maximise one channel (or neuron) of a zoo classifier.

Writes ``image_NN.png``, ``history.csv`` and ``meta.json`` to ``--out`` (schema in
:mod:`landscape.featviz.output`).
"""

from __future__ import annotations

import argparse

from ..io import write_json
from .checks import int_at_least, nonneg_float, nonneg_int, positive_float, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("featviz", help="gradient feature visualisation of one channel of a CNN",
                       description="Optimise images in pixel space (Fourier 1/f parameterisation, colour "
                                   "decorrelation, random jitter/scale/rotation) to maximise one channel "
                                   "of a zoo classifier; writes PNGs, the objective history and meta.json.")
    p.add_argument("--model", required=True, help="zoo classifier, e.g. resnet20-cifar10 (see `landscape list`)")
    p.add_argument("--layer", required=True, help="layer name; see `landscape layers MODEL`")
    p.add_argument("--channel", type=nonneg_int, required=True)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--neuron", action="store_true",
                   help="maximise the channel at one position (the centre, or --y/--x) instead of its mean")
    p.add_argument("--y", type=nonneg_int, default=None, help="row of the neuron (with --neuron)")
    p.add_argument("--x", type=nonneg_int, default=None, help="column of the neuron (with --neuron)")
    p.add_argument("--batch", type=int_at_least(1), default=1, help="number of images (default: %(default)s)")
    p.add_argument("--diversity", type=nonneg_float, default=0.0, metavar="WEIGHT",
                   help="subtract WEIGHT * diversity(layer) to make a batch's images differ (needs --batch >= 2)")
    p.add_argument("--steps", type=positive_int, default=256, help="Adam steps (default: %(default)s)")
    p.add_argument("--lr", type=positive_float, default=0.05, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--size", type=int_at_least(8), default=None, help="image side (default: the model's input size)")
    p.add_argument("--param", choices=("fourier", "pixel"), default="fourier",
                   help="image parameterisation (default: %(default)s)")
    p.add_argument("--squash", choices=("sigmoid", "clamp"), default="sigmoid",
                   help="how values are kept in [0, 1] (default: %(default)s)")
    p.add_argument("--no-decorrelate", action="store_true", help="optimise RGB directly")
    p.add_argument("--no-transforms", action="store_true", help="no random jitter/scale/rotation")
    p.add_argument("--no-redirect-relu", action="store_true",
                   help="plain ReLU gradients (by default a unit silent for the start still gets lucid's "
                        "redirected gradient)")
    p.add_argument("--references", default=None, metavar="SOURCE",
                   help="also score natural images: 'skimage' (scikit-image's photographs) or a folder")
    p.add_argument("--seed", type=nonneg_int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda when available)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .. import featviz, zoo

    from . import checks

    checks.check_out_folder(args.out)
    checks.check_zoo_name(args.model, "classifier", "--model")
    device = checks.check_device(args.device)
    if args.references is not None and args.references != "skimage":
        p = Path(args.references)
        if not p.is_dir():
            raise ValueError(f"--references {args.references!r} is neither 'skimage' nor an existing folder of images")
    if (args.y is not None or args.x is not None) and not args.neuron:
        raise ValueError("--y/--x choose a neuron's position: add --neuron")
    if args.diversity and args.batch < 2:
        raise ValueError(f"--diversity compares the images of a batch: use --batch 2 or more (got {args.batch})")
    model = zoo.load(args.model, device=device)
    from ..units.cnn import CNNUnit

    # layer, channel and the neuron's position, checked before the rendering starts
    CNNUnit(model, args.layer, args.channel, position=(args.y or 0, args.x or 0) if args.neuron else None)
    target = (featviz.neuron(args.layer, args.channel, args.y, args.x) if args.neuron
              else featviz.channel(args.layer, args.channel))
    objective = target - args.diversity * featviz.diversity(args.layer) if args.diversity else target
    size = args.size or model.input_size
    if size is None:
        raise ValueError(f"{args.model!r} takes any image size: pass --size")
    ref_images = None
    if args.references is not None:  # read before the rendering, so a bad image is found now
        from ..references import reference_images

        try:
            ref_images = reference_images(None if args.references == "skimage" else args.references, size=size)
        except (OSError, ValueError, RuntimeError, ImportError) as e:
            raise ValueError(f"--references {args.references!r}: {type(e).__name__}: {e}") from None
    param = featviz.make_param(args.param, size, args.batch, decorrelate=not args.no_decorrelate,
                               squash=args.squash, seed=args.seed, device=device)
    try:
        images, history = featviz.render(model, objective, param=param,
                                         transforms=None if args.no_transforms else "default",
                                         steps=args.steps, lr=args.lr, seed=args.seed, device=device,
                                         redirect_relu=not args.no_redirect_relu, progress=True)
    except IndexError as e:  # channel or position out of range: bad input, reported as such
        raise ValueError(str(e)) from e
    final = featviz.evaluate(model, target, images)
    config = {"model": args.model, "layer": args.layer, "channel": args.channel, "neuron": args.neuron,
              "y": args.y, "x": args.x, "batch": args.batch, "diversity": args.diversity, "steps": args.steps,
              "lr": args.lr, "size": size, "param": repr(param), "transforms": not args.no_transforms,
              "seed": args.seed, "device": str(device)}
    meta = featviz.write_rendering(args.out, images, history, objective, final.tolist(), config)
    print(f"objective {objective!r}: final {target!r} value per image "
          f"{', '.join(f'{v:.4g}' for v in final.tolist())}")
    if ref_images is not None:
        refs, names = ref_images
        ref_values = featviz.evaluate(model, target, refs.to(device))
        i = int(ref_values.argmax())
        meta["best_reference"] = {"image": names[i], "value": float(ref_values[i]),
                                  "ratio": float(final.max()) / float(ref_values[i])
                                  if float(ref_values[i]) > 0 else None}
        write_json(Path(args.out) / "meta.json", meta)  # atomic, the project's one JSON rule
        print(f"best natural reference: {names[i]} at {float(ref_values[i]):.4g}")
    print(f"images: {', '.join(str(Path(args.out) / n) for n in meta['images'])}; "
          f"history: {Path(args.out) / 'history.csv'}; metadata: {Path(args.out) / 'meta.json'}")
    return 0
