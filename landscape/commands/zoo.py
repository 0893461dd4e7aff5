"""``landscape list`` and ``landscape layers MODEL``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the model zoo's entries and whether their files are cached")
    p.set_defaults(func=run_list)
    p = sub.add_parser("layers", help="list the hookable layers of a zoo classifier")
    p.add_argument("model", help="zoo name, e.g. resnet20-cifar10")
    p.set_defaults(func=run_layers)


def run_list(args: argparse.Namespace) -> int:
    from .. import zoo

    print(f"cache: {zoo.cache_dir()}  (set LANDSCAPE_HOME to change it)")
    for name, e in zoo.entries().items():
        cached = all((zoo.cache_dir() / e.family / f.name).exists() for f in e.files) if e.files else None
        state = {True: "cached", False: "not cached", None: "via package"}[cached]
        if e.info.get("package"):
            state = "via package"
        print(f"{name:24s} {e.kind:10s} {state:12s} {e.description}")
    return 0


def run_layers(args: argparse.Namespace) -> int:
    from .. import zoo
    from ..units import layers

    from .checks import check_zoo_name

    check_zoo_name(args.model, "classifier", "MODEL")
    model = zoo.load(args.model)
    from ..units.cnn import CNNUnit

    size = model.input_size or 64
    import torch

    for name in layers(model):
        try:
            shape = tuple(CNNUnit(model, name, 0, position=None).activations(torch.zeros(1, 3, size, size)).shape[1:])
        except (ValueError, RuntimeError):
            shape = "?"
        print(f"{name:32s} {shape}")
    return 0
