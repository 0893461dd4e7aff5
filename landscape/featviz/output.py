"""Write a rendering to a folder a person can open without the library.

Schema of the folder
--------------------
``image_NN.png``
    Image ``NN`` of the batch (0-based, two digits), 8-bit RGB at the rendered size.
``history.csv``
    Columns ``step,image,value``: the objective value of each image at each optimisation step
    (on the transformed image that step optimised).
``meta.json``
    ``objective`` (its expression), ``final_values`` (per image, evaluated without transforms),
    ``images`` (file names), ``config`` (everything passed to :func:`render` that describes the
    run: model, steps, lr, seed, size, parameterisation, transforms) and ``versions``.
"""

from __future__ import annotations

import csv
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from landscape.io import save_png, write_json


def write_rendering(out: str | Path, images: torch.Tensor, history: np.ndarray, objective: Any,
                    final_values: Sequence[float], config: dict[str, Any]) -> dict[str, Any]:
    """Write images, history and metadata to ``out`` (created if needed); see the module docstring.

    Parameters
    ----------
    out : folder
    images : (B, 3, H, W) tensor in [0, 1]
    history : (steps, B) array
    objective : the objective (its ``repr`` is recorded)
    final_values : (B,) values of the final images
    config : JSON-able description of the run

    Returns
    -------
    The metadata written to ``meta.json``.
    """
    import landscape

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = [save_png(out / f"image_{i:02d}.png", img).name for i, img in enumerate(images)]
    with open(out / "history.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "image", "value"])
        for step, row in enumerate(np.asarray(history)):
            for i, v in enumerate(row):
                w.writerow([step, i, repr(float(v))])
    meta = {
        "objective": repr(objective),
        "final_values": [float(v) for v in final_values],
        "images": names,
        "config": config,
        "versions": {"landscape": landscape.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
    }
    write_json(out / "meta.json", meta)
    return meta
