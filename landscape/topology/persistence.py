"""Persistent homology of a map's super-level sets, with gudhi.

The super-level set at threshold ``c`` is ``{f >= c}``; lowering ``c`` from the maximum to
the minimum, peaks appear as new components (H0) and merge at saddles; rings (H1) appear
when a ridge closes around a lower region and disappear when that region fills.

Diagrams
--------
``diagrams[k]`` is a ``(p, 2)`` array of ``(birth, death)`` pairs in response units with
``birth >= death``: a feature is present in ``{f >= c}`` for ``death < c <= birth``. The class
that never dies (the whole map's component; on a sphere also H2) has ``death = -inf``. Its
persistence is reported as ``birth - min``. A peak's persistence is its prominence: how far
one must descend from it before reaching higher ground.

Connectivity
------------
``connectivity=8`` (default): pixels are closed squares (gudhi's ``top_dimensional_cells``),
so diagonal neighbours touch and super-level sets are 8-connected (their complements
4-connected); this matches :mod:`landscape.topology.contours`. ``connectivity=4``: pixels are
vertices (gudhi's ``vertices``) and only edge neighbours connect.

Rectangles (planes, hemispheres) use gudhi's :class:`~gudhi.CubicalComplex` on ``-f``; pole
rows are constant (see :mod:`~landscape.topology.domain`), which makes them act as single
points. Maps whose longitude seam is joined (spheres, polar caps, bands) are computed on the
same cells with the seam glued and each pole row one vertex, by vectorised joins of
components (:mod:`~landscape.topology.merging`): H0 directly, H1 by Alexander duality as H0
of the complement, H2 from the sphere (see ``_merge_diagrams``). Pairs of zero persistence
(plateaus) are not reported, as gudhi does not report them. Tests check these diagrams
against gudhi's ``CubicalComplex`` on rectangles, its ``PeriodicCubicalComplex`` on bands
and the ``SimplexTree`` of the glued sphere that this module used before, pair for pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from landscape.estimator import Estimator, check_is_fitted
from landscape.topology.domain import Domain, Field, as_field
from landscape.topology.merging import elder_pairs, superlevel_joins

CONNECTIVITIES = (4, 8)


def _check_connectivity(connectivity: int) -> int:
    if connectivity not in CONNECTIVITIES:
        raise ValueError(f"connectivity must be 4 or 8 (neighbours of a pixel), got {connectivity!r}")
    return int(connectivity)


def _from_gudhi(intervals: np.ndarray) -> np.ndarray:
    """gudhi intervals of ``-f`` (birth < death) to super-level (birth >= death) of ``f``."""
    d = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    return -d


def _cubical(field: Field, connectivity: int) -> Any:
    import gudhi

    neg = -field.values
    if connectivity == 8:
        return gudhi.CubicalComplex(top_dimensional_cells=neg)
    return gudhi.CubicalComplex(vertices=neg)


@dataclass(frozen=True)
class _Graphs:
    """The grid graph of a domain and the complementary graph its H1 is read from.

    ``vid`` maps pixels to vertices (each pole row one vertex); ``a, b`` are the edges of the
    super-level sets; ``ca, cb`` those of the complement, with ``n_caps`` extra vertices
    ``V, V + 1, ...``, one beyond each border cycle.
    """

    vid: np.ndarray
    a: np.ndarray
    b: np.ndarray
    ca: np.ndarray
    cb: np.ndarray
    n_caps: int


def _edges(domain: Domain, vid: np.ndarray, diagonal: bool) -> tuple[np.ndarray, np.ndarray]:
    a, b = domain.neighbour_pairs(diagonal)
    a, b = vid.ravel()[a], vid.ravel()[b]
    keep = a != b  # inside a pole row
    return a[keep], b[keep]


@lru_cache(maxsize=2)
def _graphs(domain: Domain, connectivity: int) -> _Graphs:
    """Built once per domain: bootstrap and null samples reuse it."""
    n, m = domain.shape
    vid = np.arange(n * m).reshape(n, m)
    for r in domain.pole_rows():
        vid[r] = vid[r, 0]
    _, vid = np.unique(vid, return_inverse=True)
    vid = vid.reshape(n, m)
    V = int(vid.max()) + 1
    a, b = _edges(domain, vid, connectivity == 8)
    # the complement: the other connectivity, and a cap beyond each border cycle touching all of it
    ca, cb = _edges(domain, vid, connectivity == 4)
    border = [vid.ravel()[cycle] for cycle in domain.border_cycles()]
    ca = np.concatenate([ca, *(np.full(c.size, V + i) for i, c in enumerate(border))])
    cb = np.concatenate([cb, *border])
    for arr in (vid, a, b, ca, cb):
        arr.flags.writeable = False
    return _Graphs(vid, a, b, ca, cb, len(border))


def _merge_diagrams(field: Field, connectivity: int) -> dict[int, list[np.ndarray]]:
    """Diagrams on any domain from joins of components: H0 directly, H1 by duality.

    H0: the joins of the super-level components on the grid graph (8- or 4-neighbours, seam
    joined, each pole row one vertex; :mod:`~landscape.topology.merging`).

    H1 by Alexander duality: the surface (sphere, disk or band) lies in a sphere; the part
    beyond each border cycle is a cap never in ``{f >= c}``. The holes of ``{f >= c}`` are
    the components of its complement in that sphere, all but one. The complement of
    8-connected closed pixels is 4-connected and vice versa, a cap touches every pixel of
    its border cycle, and a pole touches the whole row beside it. A ring born at ``b`` and
    filled at ``d`` is thus a component of ``{f < c}`` on the complementary graph that
    appears at ``d`` (its lowest pixel) and joins an older one at ``b``: an H0 pair of
    ``-f``. A ring around a band is the younger cap's component (``d = -inf``).

    H2: the whole sphere, complete at the minimum.

    Every pair comes from vertex values, so the diagrams are those of gudhi's complexes on
    the same cells exactly (tests check it against ``CubicalComplex`` on rectangles and
    against the ``SimplexTree`` of the glued sphere).
    """
    g = _graphs(field.domain, connectivity)
    V = int(g.vid.max()) + 1
    values = np.empty(V)
    values[g.vid.ravel()] = field.values.ravel()  # pole rows are constant
    # one sort ranks both filtrations: -f in reverse order (any order of ties will do), caps on top
    rank = np.empty(V, np.int64)
    rank[np.argsort(values)] = np.arange(V)
    pairs, essential = elder_pairs(superlevel_joins(rank, g.a, g.b), rank)
    h0 = [np.stack([values[pairs[:, 0]], values[pairs[:, 1]]], axis=1),
          np.stack([values[essential], np.full(essential.size, -np.inf)], axis=1)]
    crank = np.r_[V - 1 - rank, V + np.arange(g.n_caps)]
    low = np.r_[values, np.full(g.n_caps, -np.inf)]
    cpairs, _ = elder_pairs(superlevel_joins(crank, g.ca, g.cb), crank)  # one component never ends
    h1 = [np.stack([low[cpairs[:, 1]], low[cpairs[:, 0]]], axis=1)]
    h2 = [np.array([[values.min(), -np.inf]])] if field.domain.topology == "sphere" else []
    return {0: h0, 1: h1, 2: h2}


def _sorted_diagram(parts: list[np.ndarray]) -> np.ndarray:
    """Stack, drop pairs of zero persistence, sort by decreasing persistence then birth."""
    d = np.concatenate([np.asarray(p, np.float64).reshape(-1, 2) for p in parts] or [np.zeros((0, 2))])
    d = d[d[:, 0] != d[:, 1]]
    return d[np.lexsort((-d[:, 0], -(d[:, 0] - d[:, 1])))]


def superlevel_diagrams(data: Any, connectivity: int = 8, **field_kw: Any) -> dict[int, np.ndarray]:
    """H0, H1 (and H2 on a sphere) persistence diagrams of the super-level sets.

    Parameters
    ----------
    data : (n, m) array, TuningMap or Field
    connectivity : {8, 4}
    **field_kw
        Passed to :func:`~landscape.topology.domain.as_field`.

    Returns
    -------
    dict ``{0: (p0, 2), 1: (p1, 2), 2: (p2, 2)}`` of ``(birth, death)`` arrays, sorted by
    decreasing persistence, then decreasing birth; ``death = -inf`` for classes that never die.
    """
    field = as_field(data, **field_kw)
    connectivity = _check_connectivity(connectivity)
    if field.domain.wrap:
        parts = _merge_diagrams(field, connectivity)
    else:
        cx = _cubical(field, connectivity)
        cx.compute_persistence(min_persistence=0.0)
        parts = {dim: [_from_gudhi(cx.persistence_intervals_in_dimension(dim))] for dim in (0, 1, 2)}
    return {dim: _sorted_diagram(parts[dim]) for dim in (0, 1, 2)}


def persistence_of(diagram: np.ndarray, minimum: float) -> np.ndarray:
    """Persistence ``birth - death`` of each pair; a class that never dies gets ``birth - minimum``.

    Parameters
    ----------
    diagram : (p, 2) array
    minimum : float
        The map's minimum.

    Returns
    -------
    (p,) array
    """
    death = np.where(np.isfinite(diagram[:, 1]), diagram[:, 1], minimum)
    return diagram[:, 0] - death


def betti_curves(diagrams: dict[int, np.ndarray], thresholds: np.ndarray) -> np.ndarray:
    """Betti numbers of ``{f >= c}`` at each threshold.

    Parameters
    ----------
    diagrams : dict of (p, 2) arrays (dimensions 0, 1, 2)
    thresholds : (L,) array

    Returns
    -------
    betti : (3, L) int array; row k is the k-th Betti number
    """
    c = np.asarray(thresholds, float)[None, :]
    out = np.zeros((3, c.shape[1]), np.int64)
    for k in (0, 1, 2):
        d = diagrams.get(k, np.zeros((0, 2)))
        if d.size:
            out[k] = ((d[:, 1:2] < c) & (c <= d[:, 0:1])).sum(axis=0)
    return out


class SuperlevelPersistence(Estimator):
    """Persistence diagrams, Betti and Euler curves and significant peaks of a map.

    Parameters
    ----------
    connectivity : {8, 4}
        Pixel connectivity of super-level sets (module docstring).
    levels : int or (L,) array
        Thresholds for the Betti and Euler curves: a number evenly from min to max, or values.
    threshold : float
        A peak (H0) or ring (H1) is significant when its persistence exceeds ``threshold``
        times the map's range (max - min).
    domain, nan_policy, theta_deg, phi_deg
        How to read an array (see :func:`~landscape.topology.domain.as_field`).

    Attributes
    ----------
    diagrams_ : dict {0, 1, 2: (p, 2) arrays}
    levels_ : (L,) array
    level_fraction_ : (L,) array
        Normalised threshold ``(c - min) / (max - min)``.
    betti_ : (3, L) int array
    euler_ : (L,) int array
        Euler characteristic ``b0 - b1 + b2`` of ``{f >= c}``.
    n_peaks_, n_rings_ : int
        Significant H0 / H1 classes (the never-dying component counts unless the map is constant).
    prominences_ : (p0,) array
        Persistence of each peak, largest first, as a fraction of the range.
    second_peak_prominence_ : float
        Prominence of the second-highest-persistence peak over the range (0 with one peak):
        near 0 for one isolated peak.
    betti0_auc_, betti1_auc_, euler_auc_ : float
        Area under the curves over the normalised threshold.
    range_ : (float, float)
    """

    def __init__(self, connectivity: int = 8, levels: int | Any = 21, threshold: float = 0.1, *,
                 domain: str | None = None, nan_policy: str = "raise", theta_deg: Any = None,
                 phi_deg: Any = None) -> None:
        self.connectivity = connectivity
        self.levels = levels
        self.threshold = threshold
        self.domain = domain
        self.nan_policy = nan_policy
        self.theta_deg = theta_deg
        self.phi_deg = phi_deg

    def fit(self, data: Any) -> "SuperlevelPersistence":
        """Compute the diagrams of ``data`` ((n, m) array, TuningMap or Field)."""
        from landscape.topology.contours import level_values

        if not 0 <= self.threshold < 1:
            raise ValueError(f"threshold is a fraction of the map's range in [0, 1), got {self.threshold!r}")
        field = as_field(data, self.domain, theta_deg=self.theta_deg, phi_deg=self.phi_deg,
                         nan_policy=self.nan_policy)
        self.diagrams_ = superlevel_diagrams(field, self.connectivity)
        self._summarise(field, level_values(field, self.levels))
        return self

    def _summarise(self, field: Field, levels: np.ndarray) -> None:
        lo, hi = field.range
        rng = hi - lo
        self.range_ = (lo, hi)
        self.levels_ = levels
        self.level_fraction_ = (levels - lo) / rng if rng > 0 else np.full(levels.size, np.nan)
        self.betti_ = betti_curves(self.diagrams_, levels)
        self.euler_ = self.betti_[0] - self.betti_[1] + self.betti_[2]
        p0 = persistence_of(self.diagrams_[0], lo)
        p1 = persistence_of(self.diagrams_[1], lo)
        cut = self.threshold * rng
        self.n_peaks_ = int((p0 > cut).sum()) if rng > 0 else 0
        self.n_rings_ = int((p1 > cut).sum()) if rng > 0 else 0
        self.prominences_ = np.sort(p0)[::-1] / rng if rng > 0 else np.zeros(p0.size)
        self.second_peak_prominence_ = float(self.prominences_[1]) if self.prominences_.size > 1 else 0.0
        if rng > 0:
            x = self.level_fraction_
            trap = lambda y: float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)  # noqa: E731
            self.betti0_auc_, self.betti1_auc_, self.euler_auc_ = (trap(self.betti_[0]), trap(self.betti_[1]),
                                                                   trap(self.euler_))
        else:
            self.betti0_auc_ = self.betti1_auc_ = self.euler_auc_ = 0.0

    def summary(self) -> dict[str, float]:
        """The scalar components."""
        check_is_fitted(self, hint="fit(data)")
        return {"n_peaks": self.n_peaks_, "n_rings": self.n_rings_,
                "second_peak_prominence": self.second_peak_prominence_, "betti0_auc": self.betti0_auc_,
                "betti1_auc": self.betti1_auc_, "euler_auc": self.euler_auc_}


# -- distances between diagrams --------------------------------------------------------------

def _diagram_for_distance(x: Any, dim: int, normalize: bool, connectivity: int, field_kw: dict) -> np.ndarray:
    """A finite (p, 2) diagram: never-dying classes die at the map's minimum."""
    if getattr(x, "diagrams_", None) is not None:  # a fitted analysis: reuse its diagrams
        d = np.array(x.diagrams_[dim], dtype=np.float64)
        lo, hi = x.range_
        if normalize:
            d = (d - lo) / (hi - lo if hi > lo else 1.0)
            lo = 0.0
    else:
        field = as_field(x, **field_kw)
        if normalize:
            field = field.normalized()
        d = superlevel_diagrams(field, connectivity)[dim]
        lo = field.range[0]
    d[:, 1] = np.where(np.isfinite(d[:, 1]), d[:, 1], lo)
    return -d  # as a sub-level diagram of -f: birth < death, what gudhi's distances expect


def diagram_distance(a: Any, b: Any, dim: int = 0, metric: str = "bottleneck", *, order: float = 1.0,
                     normalize: bool = True, connectivity: int = 8, **field_kw: Any) -> float:
    """Distance between the super-level diagrams of two maps (or fitted analyses).

    Parameters
    ----------
    a, b : (n, m) arrays, TuningMaps, Fields, or fitted ``SuperlevelPersistence`` / ``TopologySignature``
    dim : int
        Homology dimension (0 = peaks, 1 = rings).
    metric : {"bottleneck", "wasserstein"}
    order : float
        Wasserstein order ``q`` (ground metric L-infinity, gudhi's convention).
    normalize : bool
        Rescale each map to [0, 1] first, so units with different response scales compare by
        shape (default).
    connectivity : {8, 4}
    **field_kw
        Passed to :func:`~landscape.topology.domain.as_field` for arrays.

    Returns
    -------
    float
    """
    if metric not in ("bottleneck", "wasserstein"):
        raise ValueError(f"metric must be 'bottleneck' or 'wasserstein', got {metric!r}")
    if dim not in (0, 1, 2):
        raise ValueError(f"dim must be 0, 1 or 2, got {dim!r}")
    connectivity = _check_connectivity(connectivity)
    da = _diagram_for_distance(a, dim, normalize, connectivity, field_kw)
    db = _diagram_for_distance(b, dim, normalize, connectivity, field_kw)
    import gudhi

    if metric == "bottleneck":
        return float(gudhi.bottleneck_distance(da, db))
    from gudhi.wasserstein import wasserstein_distance

    return float(wasserstein_distance(da, db, order=order, internal_p=np.inf))


def distance_matrix(maps: list[Any], dim: int = 0, metric: str = "bottleneck", **kw: Any) -> np.ndarray:
    """Pairwise :func:`diagram_distance` between maps.

    Returns
    -------
    (k, k) symmetric array with zeros on the diagonal
    """
    k = len(maps)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            out[i, j] = out[j, i] = diagram_distance(maps[i], maps[j], dim, metric, **kw)
    return out
