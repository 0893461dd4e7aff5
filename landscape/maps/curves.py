"""`TuningCurves`: 1-D tuning curves of a unit along several latent axes through one centre.

File format: ``curves.save("out/curves")`` writes ``curves.npz`` with ``values (k, m)``,
``offsets (m,)``, ``axes (k, d)``, ``center (d,)`` and, for noisy units, ``trials (r, k, m)``,
``sem (k, m)``, ``clean (k, m)``; and ``curves.json`` with ``{"schema":
"landscape.TuningCurves", "version": 1, "shape": [k, m], "dim": d, "generator", "unit",
"arrays", "meta"}``. Curve ``i`` at offset ``j`` is the code ``center + offsets[j] * axes[i]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from landscape.io import load_npz_checked, read_json_checked, save_npz_with_digest, write_json_with_digest

SCHEMA = "landscape.TuningCurves"
VERSION = 1


class TuningCurves:
    """Responses along ``k`` lines through ``center``.

    Attributes
    ----------
    values : (k, m) array
    offsets : (m,) array
    axes : (k, d) array
    center : (d,) array
    trials : (r, k, m) array or None
    sem, clean : (k, m) arrays or None
    unit : dict
    generator : str
    meta : dict
    """

    def __init__(self, values: Any, offsets: Any, axes: Any, center: Any, *, trials: Any = None,
                 sem: Any = None, clean: Any = None, unit: dict | None = None, generator: str = "",
                 meta: dict | None = None) -> None:
        self.values = np.asarray(values, float)
        self.offsets = np.asarray(offsets, float)
        self.axes = np.asarray(axes, float)
        self.center = np.asarray(center, float)
        k, m = self.values.shape
        if self.offsets.shape != (m,) or self.axes.shape[0] != k or self.center.shape != (self.axes.shape[1],):
            raise ValueError(f"inconsistent shapes: values {self.values.shape}, offsets {self.offsets.shape}, "
                             f"axes {self.axes.shape}, center {self.center.shape}")
        self.trials = None if trials is None else np.asarray(trials, float)
        self.sem = None if sem is None else np.asarray(sem, float)
        self.clean = None if clean is None else np.asarray(clean, float)
        self.unit = dict(unit or {})
        self.generator = str(generator)
        self.meta = dict(meta or {})

    def codes(self) -> np.ndarray:
        """(k, m, d) array of the codes measured."""
        return self.center[None, None] + self.offsets[None, :, None] * self.axes[:, None, :]

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``path.npz`` and ``path.json`` (schema in the module docstring)."""
        p = Path(path)
        p = p.with_suffix("") if p.suffix in (".npz", ".json") else p
        npz, js = p.with_name(p.name + ".npz"), p.with_name(p.name + ".json")
        npz.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"values": self.values, "offsets": self.offsets, "axes": self.axes, "center": self.center}
        arrays.update({k: getattr(self, k) for k in ("trials", "sem", "clean") if getattr(self, k) is not None})
        save_npz_with_digest(npz, arrays)
        write_json_with_digest(js, {"schema": SCHEMA, "version": VERSION, "shape": list(self.values.shape),
                                  "dim": int(self.axes.shape[1]), "generator": self.generator,
                                  "unit": self.unit, "arrays": sorted(arrays), "meta": self.meta})
        return npz, js

    @classmethod
    def load(cls, path: str | Path) -> "TuningCurves":
        """Read curves written by :meth:`save`."""
        p = Path(path)
        p = p.with_suffix("") if p.suffix in (".npz", ".json") else p
        header = read_json_checked(p.with_name(p.name + ".json"))
        if header.get("schema") != SCHEMA:
            raise ValueError(f"{p}.json is not a TuningCurves file (schema {header.get('schema')!r})")
        a = load_npz_checked(p.with_name(p.name + ".npz"))
        return cls(a["values"], a["offsets"], a["axes"], a["center"], trials=a.get("trials"), sem=a.get("sem"),
                   clean=a.get("clean"), unit=header.get("unit"), generator=header.get("generator", ""),
                   meta=header.get("meta"))

    def __repr__(self) -> str:
        k, m = self.values.shape
        return f"TuningCurves(k={k}, m={m}, dim={self.axes.shape[1]}, generator={self.generator!r})"
