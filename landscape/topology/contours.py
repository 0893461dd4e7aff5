"""The paper's contour signature: how many level-set curves a map has at each level.

After Wang & Ponce, "On the level sets and invariance of neural tuning landscapes" (NeurReps
2022). At each level ``c`` the level set ``{f = c}`` is a union of curves (*branches*); a
curve is a *loop* if it closes on itself and a *line* if it ends on the map's border.

Conventions
-----------
* The super-level set ``S = {f >= c}`` is 8-connected and its complement ``T = {f < c}``
  4-connected, the same convention as the persistence diagrams (gudhi's top-dimensional
  cubical cells). In a 2 x 2 block whose diagonal corners alternate, the two high corners
  are joined and the curves pass around the two low ones (marching squares with
  ``fully_connected="high"`` in scikit-image terms).
* Levels are ``L`` values evenly from the minimum to the maximum. At the two extreme levels
  the level set is a point or a plateau, not a curve, so all counts there are 0.
* Sphere maps follow :mod:`landscape.topology.domain`: a pole row is one point (no border),
  a joined seam is no border.

How the counts are computed
---------------------------
Lines: each curve ending on the border ends there twice, so ``lines = k = crossings / 2``
where ``crossings`` counts consecutive border pixels on opposite sides of ``c``. Branches: on
a disk or a sphere the components of ``S`` and ``T`` form a tree whose edges are the curves
(these surfaces are unicoherent), so ``branches = b0(S) + b0(T) - 1``. On a disk,
``b0(T) = b1(S) + t``, where ``t``, the number of ``T`` components on the border, is
``k + 1 - s`` (``s``: ``S`` components on the border; the two groupings of the border runs
are complementary non-crossing partitions), and ``b1(S) = b0(S) - chi(S)`` with the Euler
characteristic counted cell by cell: one labelling of ``S`` suffices. With a joined seam
``T`` is labelled too; on an annulus the tree gains one edge unless ``S`` or ``T`` winds
around it, which happens exactly when one of them fails to connect the two border circles.
``loops = branches - lines``. All levels are labelled in one call. :func:`trace_level_set`
traces the curves themselves (marching squares) for pictures and as an independent check.

Two conventions (``ContourSignature(convention=...)``)
-----------------------------------------------------
``"project"`` (the default) is the above. ``"reference"`` is the published recipe exactly, as
the paper's code runs it (``Animadversio/Tuning-Manifold-Level-Sets``,
``invivo_analysis/level_set_lib.py``: ``analyze_levelsets_topology``, ``is_close_loop``;
``invivo_analysis/level_set_topology_analysis.py``: the AUCs and ``get_lowest_single_level``):
levels ``linspace(min, max, 21)``; at each level ``skimage.measure.find_contours(values,
level)`` with its defaults (``fully_connected="low"``: the *low* diagonal corners of a saddle
cell are joined, i.e. 8-connected sub-level and 4-connected super-level sets); a curve is a
loop when ``np.allclose(first point, last point)``, else a line; counts are kept at the
extreme levels whatever ``find_contours`` returns there (a point or a plateau may give short
curves); AUC = ``np.trapz(count, level / max)`` (over level / max, from min / max to 1, not
over the level fraction); the isolation level is the reference's ``loop_lowest_lvl``: level /
max of the lowest level from which every level below the top one has exactly one loop
(lines are not looked at; the top level is skipped; when every level qualifies the reference
returns the top level, and so does this). The map is the array as stored, with no seam or pole
rule (on a sphere map, a curve crossing the seam is two lines).

Why they differ, and when to use which. The project's convention counts curves on the
surface the map lives on (a seam joined, a pole a point), uses the same 8-connected
super-level sets as the persistence diagrams (so contour counts and Betti numbers agree), and
drops the degenerate extreme levels; its AUC over the level fraction in [0, 1] does not depend
on where the map's minimum is relative to 0. Use it to relate contours to persistence, on
sphere maps, and on maps whose responses can be negative. The reference convention is the one
the published V1/V4/IT and CNN-layer curves were computed with: use it to put a number beside
them. On saddle cells the two differ by which diagonal is joined, which changes loop and
line counts wherever two high regions touch at a corner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from landscape.estimator import Estimator, check_is_fitted
from landscape.topology.domain import Field, as_field

_S_STRUCTURE = np.zeros((3, 3, 3), bool)
_S_STRUCTURE[1] = True  # 8-connected within a level, never across levels
_T_STRUCTURE = np.zeros((3, 3, 3), bool)
_T_STRUCTURE[1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]


def level_values(field: Field, levels: int | Any = 21) -> np.ndarray:
    """Levels evenly from the field's minimum to its maximum, or the given values.

    Parameters
    ----------
    levels : int (>= 2) or (L,) array of values

    Returns
    -------
    levels : (L,) float array
    """
    lo, hi = field.range
    if np.ndim(levels) == 0:
        if not isinstance(levels, (int, np.integer)) or levels < 2:
            raise ValueError(f"levels must be an integer >= 2 or an array of level values, got {levels!r}")
        return np.linspace(lo, hi, int(levels))
    lv = np.asarray(levels, dtype=np.float64).ravel()
    if lv.size == 0 or not np.all(np.isfinite(lv)):
        raise ValueError("levels must be a non-empty array of finite values")
    return lv


def _count_components(mask: np.ndarray, structure: np.ndarray, field: Field, diagonal: bool
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per-level component counts of ``mask`` (L, n, m), seam joined; also the labels."""
    from scipy import ndimage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    L = mask.shape[0]
    labels, total = ndimage.label(mask, structure=structure)
    # labels are issued in raster order with the level axis outermost: contiguous per level
    top = np.maximum.accumulate(labels.reshape(L, -1).max(axis=1))
    starts = np.r_[0, top[:-1]]
    counts = top - starts
    if not field.domain.wrap or total == 0:
        return counts, labels
    m = field.shape[1]
    left, right = labels[:, :, 0], labels[:, :, m - 1]
    pairs = [(right, left)]
    if diagonal:
        pairs += [(right[:, :-1], left[:, 1:]), (right[:, 1:], left[:, :-1])]
    a = np.concatenate([p[0].ravel() for p in pairs])
    b = np.concatenate([p[1].ravel() for p in pairs])
    ok = (a > 0) & (b > 0)
    g = coo_matrix((np.ones(ok.sum()), (a[ok], b[ok])), shape=(total + 1, total + 1))
    _, comp = connected_components(g, directed=False)
    comp = comp[1:]
    # components are numbered in order of first node; a node opens one iff its id is new
    first = np.r_[True, comp[1:] > np.maximum.accumulate(comp)[:-1]]
    counts = np.array([first[s:t].sum() for s, t in zip(starts, top)])
    merged = np.r_[0, comp + 1][labels]
    return counts, merged


def _crossings(mask: np.ndarray, field: Field) -> np.ndarray:
    L = mask.shape[0]
    flat = mask.reshape(L, -1)
    total = np.zeros(L, dtype=np.int64)
    for cyc in field.domain.border_cycles():
        b = flat[:, cyc]
        total += (b != np.roll(b, -1, axis=1)).sum(axis=1)
    return total


def _holes(S: np.ndarray, b0: np.ndarray) -> np.ndarray:
    """First Betti number of each level's union of closed pixel squares, from its Euler characteristic.

    ``chi = corners - edges + squares`` of the union, and ``b1 = b0 - chi`` (a subset of a disk
    has no H2). A pole row is constant, so collapsing it to a point changes no count here.
    """
    L, n, m = S.shape
    P = np.zeros((L, n + 2, m + 2), bool)
    P[:, 1:-1, 1:-1] = S
    corners = (P[:, :-1, :-1] | P[:, :-1, 1:] | P[:, 1:, :-1] | P[:, 1:, 1:]).sum(axis=(1, 2))
    h_edges = (P[:, :-1, 1:-1] | P[:, 1:, 1:-1]).sum(axis=(1, 2))
    v_edges = (P[:, 1:-1, :-1] | P[:, 1:-1, 1:]).sum(axis=(1, 2))
    chi = corners - h_edges - v_edges + S.sum(axis=(1, 2))
    return b0 - chi


def _touching_border(labels: np.ndarray, field: Field) -> np.ndarray:
    """Per level, the number of distinct components (labels > 0) on the border."""
    L = labels.shape[0]
    flat = labels.reshape(L, -1)
    cyc = np.concatenate(field.domain.border_cycles())
    on = flat[:, cyc]
    return np.array([np.unique(row[row > 0]).size for row in on])


def count_level_sets(data: Any, levels: int | Any = 21, **field_kw: Any) -> dict[str, np.ndarray]:
    """Number of loops, lines and branches of the level set at each level.

    Parameters
    ----------
    data : (n, m) array, TuningMap or Field
    levels : int or (L,) array
        Number of levels evenly from min to max, or the level values.
    **field_kw
        Passed to :func:`~landscape.topology.domain.as_field` (``domain``, ``nan_policy``, ...).

    Returns
    -------
    dict with ``levels (L,)``, ``loops (L,)``, ``lines (L,)``, ``branches (L,)`` (ints)
    """
    field = as_field(data, **field_kw)
    lv = level_values(field, levels)
    lo, hi = field.range
    inner = (lv > lo) & (lv < hi)
    loops = np.zeros(lv.size, np.int64)
    lines = np.zeros(lv.size, np.int64)
    if inner.any():
        c = lv[inner][:, None, None]
        S = field.values[None] >= c
        ln = _crossings(S, field) // 2
        nS, labS = _count_components(S, _S_STRUCTURE, field, diagonal=True)
        if not field.domain.wrap:
            branches = nS + _holes(S, nS) + ln - _touching_border(labS, field)
            lines[inner] = ln
            loops[inner] = branches - ln
            return {"levels": lv, "loops": loops, "lines": lines, "branches": loops + lines}
        T = ~S
        nT, labT = _count_components(T, _T_STRUCTURE, field, diagonal=False)
        branches = nS + nT - 1
        if field.domain.topology == "annulus":
            n = field.shape[0]
            for k in range(branches.size):
                s_cross = np.intersect1d(labS[k, 0][labS[k, 0] > 0], labS[k, n - 1]).size > 0
                t_cross = np.intersect1d(labT[k, 0][labT[k, 0] > 0], labT[k, n - 1]).size > 0
                branches[k] += int(s_cross and t_cross)
        lines[inner] = ln
        loops[inner] = branches - ln
    return {"levels": lv, "loops": loops, "lines": lines, "branches": loops + lines}


def _auc(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


CONVENTIONS = ("project", "reference")


def reference_level_set_counts(values: Any, levels: int | Any = 21) -> dict[str, np.ndarray]:
    """Loops, lines and branches per level by the published recipe (module docstring).

    Parameters
    ----------
    values : (n, m) array
        The map, read as stored (no domain rules).
    levels : int or (L,) array
        ``linspace(min, max, levels)``, or the level values.

    Returns
    -------
    dict with ``levels (L,)``, ``loops (L,)``, ``lines (L,)``, ``branches (L,)`` (ints)
    """
    from skimage.measure import find_contours

    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or not np.all(np.isfinite(v)):
        raise ValueError(f"the reference recipe needs a finite 2-D map, got shape {v.shape}"
                         + ("" if v.ndim != 2 else " with NaN or inf (fill them first: nan_policy='harmonic')"))
    if np.ndim(levels) == 0:
        if not isinstance(levels, (int, np.integer)) or levels < 2:
            raise ValueError(f"levels must be an integer >= 2 or an array of level values, got {levels!r}")
        lv = np.linspace(v.min(), v.max(), int(levels))
    else:
        lv = np.asarray(levels, dtype=np.float64).ravel()
    loops = np.zeros(lv.size, np.int64)
    branches = np.zeros(lv.size, np.int64)
    for i, level in enumerate(lv):
        curves = find_contours(v, level)
        branches[i] = len(curves)
        loops[i] = sum(bool(np.allclose(c[0, :], c[-1, :])) for c in curves)
    return {"levels": lv, "loops": loops, "lines": branches - loops, "branches": branches}


def _reference_lowest_single(counts: np.ndarray) -> int:
    """The reference's ``get_lowest_single_level`` index for one count column (quirks included)."""
    n = counts.size
    idx = n - 1
    for i in range(n - 1, -1, -1):
        if i == n - 1:
            continue
        if counts[i] == 1:
            continue
        idx = i + 1
        break
    return idx


class ContourSignature(Estimator):
    """Level-set curve counts over the level fraction and their summaries.

    Parameters
    ----------
    levels : int or (L,) array
        Number of levels evenly from min to max (default 21, as in the paper), or values.
    convention : {"project", "reference"}
        ``"project"``: this module's counting (8-connected super-level sets, domain rules, zero
        counts at the extreme levels, AUC over the level fraction). ``"reference"``: the
        published recipe exactly (scikit-image ``find_contours``, AUC over level / max); see the
        module docstring for both and when each is right.
    domain, nan_policy, theta_deg, phi_deg
        How to read an array (see :func:`~landscape.topology.domain.as_field`).

    Attributes
    ----------
    levels_ : (L,) array
        Level values.
    level_fraction_ : (L,) array
        ``(level - min) / (max - min)``; NaN for a constant map.
    level_of_max_ : (L,) array
        ``level / max`` (the paper's axis); NaN where ``max <= 0``.
    loops_, lines_, branches_ : (L,) int arrays
    loops_auc_, lines_auc_, branches_auc_ : float
        Trapezoid area under each count curve: over the level fraction in [0, 1] (project), or
        over level / max (reference).
    isolation_level_ : float
        Project: lowest level fraction from which every higher level (below the maximum) has
        exactly one branch and it is a loop: the map is a single isolated peak above it. 1.0
        when even the highest level below the maximum fails; NaN for a constant map.
        Reference: the reference's ``loop_lowest_lvl`` (a level / max; module docstring).
    isolation_level_of_max_ : float
        The same level as a fraction of the maximum.
    branch_lowest_level_ : float
        Reference only: the reference's ``branch_lowest_lvl`` (NaN in the project convention).
    """

    def __init__(self, levels: int | Any = 21, *, convention: str = "project", domain: str | None = None,
                 nan_policy: str = "raise", theta_deg: Any = None, phi_deg: Any = None) -> None:
        self.levels = levels
        self.convention = convention
        self.domain = domain
        self.nan_policy = nan_policy
        self.theta_deg = theta_deg
        self.phi_deg = phi_deg

    def fit(self, data: Any) -> "ContourSignature":
        """Count the level-set curves of ``data`` ((n, m) array, TuningMap or Field)."""
        field = self._field(data)
        if self.convention == "reference":
            self._set_reference(field, reference_level_set_counts(field.values, self.levels))
        else:
            self._set(field, count_level_sets(field, self.levels))
        return self

    def _field(self, data: Any) -> Field:
        if self.convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, got {self.convention!r}")
        return as_field(data, self.domain, theta_deg=self.theta_deg, phi_deg=self.phi_deg,
                        nan_policy=self.nan_policy)

    def _set_reference(self, field: Field, counts: dict[str, np.ndarray]) -> None:
        lo, hi = field.range
        lv = counts["levels"]
        self.levels_ = lv
        self.level_fraction_ = np.full(lv.size, np.nan) if not hi > lo else (lv - lo) / (hi - lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = lv / hi  # the reference divides by the maximum whatever its sign
        self.level_of_max_ = x
        self.loops_, self.lines_, self.branches_ = counts["loops"], counts["lines"], counts["branches"]
        self.loops_auc_ = _auc(self.loops_, x)
        self.lines_auc_ = _auc(self.lines_, x)
        self.branches_auc_ = _auc(self.branches_, x)
        self.isolation_level_ = float(x[_reference_lowest_single(self.loops_)])
        self.isolation_level_of_max_ = self.isolation_level_
        self.branch_lowest_level_ = float(x[_reference_lowest_single(self.branches_)])

    def _set(self, field: Field, counts: dict[str, np.ndarray]) -> None:
        self.branch_lowest_level_ = float("nan")
        lo, hi = field.range
        lv = counts["levels"]
        self.levels_ = lv
        const = not hi > lo
        self.level_fraction_ = np.full(lv.size, np.nan) if const else (lv - lo) / (hi - lo)
        self.level_of_max_ = lv / hi if hi > 0 else np.full(lv.size, np.nan)
        self.loops_, self.lines_, self.branches_ = counts["loops"], counts["lines"], counts["branches"]
        x = self.level_fraction_
        if const:
            self.loops_auc_ = self.lines_auc_ = self.branches_auc_ = 0.0
            self.isolation_level_ = self.isolation_level_of_max_ = float("nan")
            return
        self.loops_auc_ = _auc(self.loops_, x)
        self.lines_auc_ = _auc(self.lines_, x)
        self.branches_auc_ = _auc(self.branches_, x)
        inner = np.flatnonzero((lv > lo) & (lv < hi))
        single = (self.branches_ == 1) & (self.loops_ == 1)
        k = None
        for i in inner[::-1]:
            if not single[i]:
                break
            k = i
        self.isolation_level_ = 1.0 if k is None else float(x[k])
        lvl = hi if k is None else lv[k]
        self.isolation_level_of_max_ = float(lvl / hi) if hi > 0 else float("nan")

    def summary(self) -> dict[str, float]:
        """The scalar components: AUCs and the isolation level."""
        check_is_fitted(self, hint="fit(data)")
        return {"loops_auc": self.loops_auc_, "lines_auc": self.lines_auc_,
                "branches_auc": self.branches_auc_, "isolation_level": self.isolation_level_}


@dataclass
class LevelSet:
    """The traced curves of one level set.

    Attributes
    ----------
    level : float
    segments : (k, 2, 2) array
        Marching-squares segments as ``[[row0, col0], [row1, col1]]`` in pixel coordinates;
        across a joined seam the column runs past ``m - 1`` (up to ``m``).
    component : (k,) int array
        Which curve each segment belongs to.
    closed : (c,) bool array
        Per curve: True for a loop, False for a line ending on the border.
    """

    level: float
    segments: np.ndarray
    component: np.ndarray
    closed: np.ndarray

    @property
    def n_loops(self) -> int:
        return int(self.closed.sum())

    @property
    def n_lines(self) -> int:
        return int((~self.closed).sum())

    @property
    def n_branches(self) -> int:
        return int(self.closed.size)


def trace_level_set(data: Any, level: float, **field_kw: Any) -> LevelSet:
    """Trace the curves of ``{f = level}`` by marching squares (module conventions).

    Parameters
    ----------
    data : (n, m) array, TuningMap or Field
    level : float

    Returns
    -------
    LevelSet
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    field = as_field(data, **field_kw)
    v = field.values
    n, m = field.shape
    lo, hi = field.range
    empty = LevelSet(float(level), np.zeros((0, 2, 2)), np.zeros(0, int), np.zeros(0, bool))
    if not lo < level < hi:
        return empty
    wrap = field.domain.wrap
    mc = m if wrap else m - 1          # cells per row, and horizontal edges per row
    S = v >= level
    col = np.arange(mc)
    col1 = (col + 1) % m
    # cell (i, j): corners a=(i, j), b=(i, j+1), c=(i+1, j), d=(i+1, j+1)
    sa, sb, sc, sd = S[:-1, col], S[:-1, col1], S[1:, col], S[1:, col1]
    # edge ids: horizontal (i, j)-(i, j+1) -> i*mc + j ; vertical (i, j)-(i+1, j) -> n*mc + i*m + j
    I, J = np.meshgrid(np.arange(n - 1), col, indexing="ij")
    e_top = I * mc + J
    e_bot = (I + 1) * mc + J
    e_left = n * mc + I * m + J
    e_right = n * mc + I * m + (J + 1) % m
    x_top, x_bot, x_left, x_right = sa != sb, sc != sd, sa != sc, sb != sd
    ncross = x_top.astype(int) + x_bot + x_left + x_right
    pa, pb = [], []
    two = ncross == 2
    edges = np.stack([e_top, e_right, e_bot, e_left], -1)
    cross = np.stack([x_top, x_right, x_bot, x_left], -1)
    e2 = edges[two][cross[two]].reshape(-1, 2)
    pa.append(e2[:, 0]), pb.append(e2[:, 1])
    four = ncross == 4
    ad = four & sa  # high corners a, d: curves pass around low b (top, right) and c (left, bottom)
    bc = four & ~sa  # high corners b, c: around low a (top, left) and d (right, bottom)
    pa += [e_top[ad], e_left[ad], e_top[bc], e_right[bc]]
    pb += [e_right[ad], e_bot[ad], e_left[bc], e_bot[bc]]
    pa, pb = np.concatenate(pa), np.concatenate(pb)
    if pa.size == 0:
        return empty
    nodes, inv = np.unique(np.r_[pa, pb], return_inverse=True)
    k = pa.size
    g = coo_matrix((np.ones(k), (inv[:k], inv[k:])), shape=(nodes.size, nodes.size))
    ncomp, comp = connected_components(g, directed=False)
    # border edges: top/bottom rows' horizontal edges, and the outer columns' vertical edges
    nh = n * mc
    is_h = nodes < nh
    hrow = nodes // mc
    vcol = (nodes - nh) % m
    on_border = (is_h & ((hrow == 0) | (hrow == n - 1)))
    if not wrap:
        on_border |= ~is_h & ((vcol == 0) | (vcol == m - 1))
    closed = np.ones(ncomp, bool)
    closed[comp[on_border]] = False
    # segment geometry: interpolated crossing point on each edge
    pts = np.zeros((nodes.size, 2))
    hi_, hj = hrow[is_h], nodes[is_h] % mc
    fa, fb = v[hi_, hj], v[hi_, (hj + 1) % m]
    pts[is_h] = np.c_[hi_, hj + (level - fa) / (fb - fa)]
    vi, vj = (nodes[~is_h] - nh) // m, (nodes[~is_h] - nh) % m
    fa, fb = v[vi, vj], v[vi + 1, vj]
    pts[~is_h] = np.c_[vi + (level - fa) / (fb - fa), vj]
    seg = np.stack([pts[inv[:k]], pts[inv[k:]]], axis=1)
    if wrap:
        # a seam cell's vertical edge at column 0 sits at column m on the cell's right
        far = np.abs(seg[:, 0, 1] - seg[:, 1, 1]) > 1.5
        for end in (0, 1):
            fix = far & (seg[:, end, 1] < 1.0)
            seg[fix, end, 1] += m
    return LevelSet(float(level), seg, comp[inv[:k]], closed)
