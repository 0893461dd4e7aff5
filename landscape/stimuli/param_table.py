"""The parameter table that travels with every stimulus batch."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

import numpy as np


class ParamTable:
    """Stimulus parameters, one row per image.

    Parameters
    ----------
    columns : dict of str -> (N,) array
        One entry per parameter; row ``i`` describes image ``i``.
    axes : dict of str -> (k,) array, optional
        When the images form a full product grid, its axes in order (the first axis varies
        slowest), so that ``N == prod(k)``. :meth:`grid` then reshapes responses onto it.

    Examples
    --------
    >>> images, params = gratings(32, orientations=12, frequencies=[2, 4], phases=4)
    >>> r = unit(images)                    # (96,)
    >>> params.grid(r.numpy()).shape        # (12, 2, 4, 1)  orientation x frequency x phase x contrast
    """

    def __init__(self, columns: dict[str, np.ndarray], axes: dict[str, np.ndarray] | None = None) -> None:
        cols = {k: np.asarray(v) for k, v in columns.items()}
        lengths = {k: v.shape[0] if v.ndim else -1 for k, v in cols.items()}
        if len(set(lengths.values())) > 1 or any(n < 0 for n in lengths.values()):
            raise ValueError(f"parameter columns must be 1-D arrays of equal length, got lengths {lengths}")
        self.columns = cols
        self.axes = {k: np.asarray(v) for k, v in (axes or {}).items()}
        n = len(self)
        if self.axes and int(np.prod([len(v) for v in self.axes.values()])) != n:
            raise ValueError(f"axes sizes {self.shape} do not multiply to the {n} rows")

    def __len__(self) -> int:
        return next(iter(self.columns.values())).shape[0] if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"no parameter {name!r}; the table has {list(self.columns)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def keys(self):
        return self.columns.keys()

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape (one size per axis), or ``(N,)`` for a table that is not a grid."""
        return tuple(len(v) for v in self.axes.values()) if self.axes else (len(self),)

    def grid(self, values: Any) -> np.ndarray:
        """Reshape per-image values onto the grid.

        Parameters
        ----------
        values : (..., N) array-like
            e.g. responses ``(N,)`` or repeated measurements ``(reps, N)``.

        Returns
        -------
        (..., *shape) array
        """
        v = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values)
        if v.shape[-1] != len(self):
            raise ValueError(f"values have {v.shape[-1]} entries on their last axis, the table has {len(self)} rows")
        return v.reshape(*v.shape[:-1], *self.shape)

    def row(self, i: int) -> dict[str, Any]:
        """Parameters of image ``i`` as plain Python values."""
        return {k: v[i].item() if hasattr(v[i], "item") else v[i] for k, v in self.columns.items()}

    def to_csv(self, path: str | Path, **extra: Any) -> Path:
        """Write the table (plus extra equal-length columns, e.g. ``response=r``) as CSV."""
        cols = dict(self.columns)
        for k, v in extra.items():
            v = np.asarray(v.detach().cpu() if hasattr(v, "detach") else v)
            if v.shape != (len(self),):
                raise ValueError(f"extra column {k!r} must have shape ({len(self)},), got {v.shape}")
            cols[k] = v
        path = Path(path)
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(list(cols))
            for i in range(len(self)):
                w.writerow([cols[k][i] for k in cols])
        return path

    def __repr__(self) -> str:
        axes = ", ".join(f"{k}={len(v)}" for k, v in self.axes.items())
        return f"ParamTable(rows={len(self)}, columns={list(self.columns)}" + (f", grid=({axes})" if axes else "") + ")"


def product_table(axes: dict[str, np.ndarray], constants: dict[str, Any] | None = None) -> ParamTable:
    """A full product grid of ``axes`` (first slowest), plus constant columns."""
    levels = [np.asarray(v) for v in axes.values()]
    mesh = np.meshgrid(*levels, indexing="ij")
    cols = {k: m.reshape(-1) for k, m in zip(axes, mesh)}
    n = mesh[0].size if mesh else 1
    for k, v in (constants or {}).items():
        cols[k] = np.full(n, v, dtype=object if isinstance(v, str) else None)
        if isinstance(v, str):
            cols[k] = cols[k].astype(str)
    return ParamTable(cols, axes)
