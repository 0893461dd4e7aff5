"""Critical points and the merge tree of a smoothed map.

The map is smoothed (Gaussian, ``sigma`` pixels, seam-aware) and made piecewise linear on the
Freudenthal triangulation of its grid: every square is split along its down-right diagonal,
so each interior pixel has six neighbours; a pole row is one vertex joined to the whole
adjacent row. Ties are broken by pixel index (simulation of simplicity), so every value is
distinct.

A vertex is classified by its *upper link*: the neighbours higher than it, read around the
vertex (a cycle inside the map, a path on the border):

=====================  ===============  =====  ===============================================
upper link             kind             index  contribution to the Euler characteristic
=====================  ===============  =====  ===============================================
empty                  maximum          2      +1
k >= 2 arcs            saddle           1      1 - k (a monkey saddle counts k - 1 times)
the whole cycle        minimum          0      +1
the whole border path  (regular)        -      0: a border minimum is no event for
                                               super-level sets
one arc                regular          -      0
=====================  ===============  =====  ===============================================

This is the Euler characteristic change when the vertex joins the super-level set, so
``#max - #saddle + #min`` equals the Euler characteristic of the surface (1 for a disk, 2 for
a sphere, 0 for an annulus) for every map: :attr:`MorseAnalysis.morse_relation_holds_` checks
it. Maxima and saddles on the border count (a peak at the edge of the sampled region is a
peak of what was measured).

The merge tree records how the super-level set's components appear (at maxima) and join (at
saddles) as the threshold descends, on the same triangulation (vectorised: joins of the
basins of the maxima, :mod:`~landscape.topology.merging`); the elder rule (the branch with
the lower maximum ends at the join) gives its H0 persistence pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from landscape.estimator import Estimator
from landscape.topology.domain import Domain, Field, as_field, smooth_field
from landscape.topology.merging import ranks, superlevel_joins

# neighbours of (i, j) in the Freudenthal triangulation, in cyclic order around the pixel
_OFFSETS = ((0, 1), (1, 1), (1, 0), (0, -1), (-1, -1), (-1, 0))


@dataclass
class _Mesh:
    """Triangulated grid: vertex ids and each vertex's link as a cyclic row of slots.

    ``nbr[v]`` lists the link in cyclic order. A slot holds a vertex id, ``GAP`` (the link is
    broken there: ``v`` is on the border) or ``REPEAT`` (no new neighbour: a pole seen twice
    in a row, or padding after a short link); a ``REPEAT`` slot never comes first.
    """

    vid: np.ndarray          # (n, m) vertex id of each pixel (pole rows share one id)
    nbr: np.ndarray          # (V, 6) link slots (a pole's row is unused: see poles)
    poles: dict              # pole vertex -> (k,) link slots: the adjacent row, GAP-ended if open
    rows: np.ndarray         # (V,) row of each vertex
    cols: np.ndarray         # (V,) column (pole: -1)
    values: np.ndarray       # (V,)


GAP, REPEAT = -1, -2


def _mesh(field: Field) -> _Mesh:
    dom: Domain = field.domain
    n, m = dom.shape
    pole_rows = dom.pole_rows()
    vid = np.arange(n * m).reshape(n, m)
    for r in pole_rows:
        vid[r] = vid[r, 0]
    _, vid = np.unique(vid, return_inverse=True)
    vid = vid.reshape(n, m)
    V = int(vid.max()) + 1
    I, J = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    nbr = np.full((V, 6), REPEAT, dtype=np.int64)
    for k, (di, dj) in enumerate(_OFFSETS):
        ii, jj = I + di, J + dj
        if dom.wrap:
            jj = jj % m
        ok = (ii >= 0) & (ii < n) & (jj >= 0) & (jj < m)
        tgt = np.full((n, m), GAP)
        tgt[ok] = vid[ii[ok], jj[ok]]
        nbr[vid.ravel(), k] = tgt.ravel()  # pole rows are overwritten below
    for k in range(1, 6):
        # beside a pole two consecutive offsets land on the same pole vertex
        dup = (nbr[:, k] == nbr[:, k - 1]) & (nbr[:, k] >= 0)
        nbr[dup, k] = REPEAT
    rows = np.zeros(V, int)
    cols = np.zeros(V, int)
    rows[vid.ravel()] = I.ravel()
    cols[vid.ravel()] = J.ravel()
    poles = {}
    for r in pole_rows:
        p = int(vid[r, 0])
        ring = vid[1 if r == 0 else n - 2].astype(np.int64)
        # with the seam open the ring is a path from one border meridian to the other
        poles[p] = ring if dom.wrap else np.r_[ring, GAP]
        nbr[p] = REPEAT
        nbr[p, 0] = GAP
        cols[p] = -1
    values = np.zeros(V)
    values[vid.ravel()] = field.values.ravel()
    return _Mesh(vid, nbr, poles, rows, cols, values)


def _classify(mesh: _Mesh, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per vertex: kind code (2 max, 1 saddle, 0 min, -1 regular), Euler contribution, border flag."""
    kind, contrib, border = _classify_links(mesh.nbr, rank, rank)
    for p, link in mesh.poles.items():
        k, c, b = _classify_links(link[None], rank[p:p + 1], rank)
        kind[p], contrib[p], border[p] = k[0], c[0], b[0]
    return kind, contrib, border


def _classify_links(nbr: np.ndarray, own_rank: np.ndarray, rank: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    state = np.zeros(nbr.shape, np.int8)  # 1 higher, 0 lower, -1 gap
    present = nbr >= 0
    state[present] = rank[nbr[present]] > np.broadcast_to(own_rank[:, None], nbr.shape)[present]
    state[nbr == GAP] = -1
    for k in range(1, nbr.shape[1]):
        rep = nbr[:, k] == REPEAT
        state[rep, k] = state[rep, k - 1]
    up = state == 1
    arcs = (up & ~np.roll(up, 1, axis=1)).sum(axis=1)
    contrib = 1 - arcs
    border = (state == -1).any(axis=1)
    n_up = up.sum(axis=1)
    all_up = ~(state == 0).any(axis=1) & ~border
    kind = np.full(nbr.shape[0], -1)
    kind[contrib < 0] = 1
    kind[all_up] = 0
    kind[n_up == 0] = 2
    return kind, contrib, border


@dataclass
class MergeTree:
    """Merge tree of super-level sets.

    Attributes
    ----------
    kind : (k,) array of str
        ``"max"`` (leaf: a component appears), ``"saddle"`` (components join) or ``"root"``
        (the global minimum, where the last component ends).
    row, col : (k,) int arrays
        Pixel of each node (``col = -1`` for a pole).
    value : (k,) float array
    parent : (k,) int array
        Index of the node below; -1 for the root.
    """

    kind: np.ndarray
    row: np.ndarray
    col: np.ndarray
    value: np.ndarray
    parent: np.ndarray

    def persistence_pairs(self) -> np.ndarray:
        """H0 pairs by the elder rule: ``(max value, value where its branch ends)``.

        Returns
        -------
        (p, 2) array of (birth, death), the global maximum's death ``-inf``; sorted by
        decreasing persistence
        """
        k = self.kind.size
        children: list[list[int]] = [[] for _ in range(k)]
        for i, p in enumerate(self.parent):
            if p >= 0:
                children[p].append(i)
        top = np.full(k, -np.inf)  # highest max in each subtree
        order = np.argsort(-self.value, kind="stable")
        pairs = []
        for i in order:  # children before parents: parents are lower
            if self.kind[i] == "max":
                top[i] = self.value[i]
                continue
            kids = sorted(children[i], key=lambda c: -top[c])
            if not kids:
                continue
            top[i] = top[kids[0]]
            pairs += [(top[c], self.value[i]) for c in kids[1:]]
        root = int(np.flatnonzero(self.parent < 0)[0])
        pairs.append((top[root], -np.inf))
        d = np.array(pairs, float).reshape(-1, 2)
        return d[np.argsort(-(d[:, 0] - d[:, 1]), kind="stable")]

    def to_dict(self) -> dict[str, list]:
        return {"kind": self.kind.tolist(), "row": self.row.tolist(), "col": self.col.tolist(),
                "value": self.value.tolist(), "parent": self.parent.tolist()}


def _edges(mesh: _Mesh) -> tuple[np.ndarray, np.ndarray]:
    """Edges of the triangulation, pole links included.

    The first three link slots (right, down-right, down) hold every edge once: the other
    three are their reverses, and a pole's edges are its link.
    """
    V = mesh.nbr.shape[0]
    a = [np.repeat(np.arange(V), 3)]
    b = [mesh.nbr[:, :3].ravel()]
    for p, link in mesh.poles.items():
        ring = link[link >= 0]
        a.append(np.full(ring.size, p))
        b.append(ring)
    a, b = np.concatenate(a), np.concatenate(b)
    keep = b >= 0
    return a[keep], b[keep]


def _merge_tree(mesh: _Mesh, rank: np.ndarray) -> MergeTree:
    """Merge tree of the super-level sets of ``rank`` on the mesh.

    Nodes are the maxima, the saddles (vertices where two or more components join, listed
    once however many join there) and the root (the global minimum), in order of decreasing
    rank with the root last; each node's parent is the node below it where its branch joins.
    The joins come from :func:`~landscape.topology.merging.superlevel_joins`, so the loop
    below runs once per join, not once per vertex.
    """
    joins = superlevel_joins(rank, *_edges(mesh))
    V = rank.size
    vertex_of = np.empty(V, np.int64)
    vertex_of[rank] = np.arange(V)
    saddle_levels = np.unique(joins.level)
    levels = np.concatenate([rank[joins.maxima], saddle_levels])
    is_saddle = np.r_[np.zeros(joins.maxima.size, bool), np.ones(saddle_levels.size, bool)]
    by_rank = np.argsort(-levels, kind="stable")
    node_of = np.empty(levels.size, np.int64)
    node_of[by_rank] = np.arange(levels.size)
    n_nodes = levels.size + 1  # and the root
    # node of each maximum, and of each join's saddle (saddle_levels is sorted, so search it)
    top = node_of[:joins.maxima.size].tolist()  # per union-find root: newest node of its component
    join_node = node_of[joins.maxima.size + np.searchsorted(saddle_levels, joins.level)].tolist()
    uf = list(range(joins.maxima.size))
    parents = [-1] * n_nodes
    for u, v, node in zip(joins.first.tolist(), joins.second.tolist(), join_node):
        while uf[u] != u:
            uf[u] = u = uf[uf[u]]
        while uf[v] != v:
            uf[v] = v = uf[uf[v]]
        # several components joining at one saddle: those already joined have it as their top
        if top[u] != node:
            parents[top[u]] = node
        if top[v] != node:
            parents[top[v]] = node
        uf[v] = u
        top[u] = node
    last = 0
    while uf[last] != last:
        last = uf[last]
    parents[top[last]] = n_nodes - 1
    verts = np.r_[vertex_of[levels[by_rank]], vertex_of[0]]
    kinds = np.where(is_saddle[by_rank], "saddle", "max").tolist() + ["root"]
    return MergeTree(np.array(kinds), mesh.rows[verts], mesh.cols[verts], mesh.values[verts],
                     np.array(parents, int))


class MorseAnalysis(Estimator):
    """Critical points, the Morse relation and the merge tree of a smoothed map.

    Parameters
    ----------
    sigma : float
        Gaussian smoothing width in pixels (0 = no smoothing).
    domain, nan_policy, theta_deg, phi_deg
        How to read an array (see :func:`~landscape.topology.domain.as_field`).

    Attributes
    ----------
    smoothed_ : (n, m) array
    critical_points_ : dict of (c,) arrays
        ``row``, ``col`` (-1 for a pole), ``value``, ``kind`` ("max"/"saddle"/"min"), ``index``
        (2/1/0), ``multiplicity`` (k - 1 for a k-arc saddle, else 1), ``border`` (bool).
    n_maxima_, n_saddles_, n_minima_ : int
        Saddles counted with multiplicity.
    morse_sum_ : int
        ``n_maxima_ - n_saddles_ + n_minima_``.
    euler_characteristic_ : int
        Of the surface (1 disk, 0 annulus, 2 sphere).
    morse_relation_holds_ : bool
    merge_tree_ : MergeTree
    """

    def __init__(self, sigma: float = 1.0, *, domain: str | None = None, nan_policy: str = "raise",
                 theta_deg: Any = None, phi_deg: Any = None) -> None:
        self.sigma = sigma
        self.domain = domain
        self.nan_policy = nan_policy
        self.theta_deg = theta_deg
        self.phi_deg = phi_deg

    def fit(self, data: Any) -> "MorseAnalysis":
        """Find the critical points and merge tree of ``data`` ((n, m) array, TuningMap or Field)."""
        field = as_field(data, self.domain, theta_deg=self.theta_deg, phi_deg=self.phi_deg,
                         nan_policy=self.nan_policy)
        field = smooth_field(field, self.sigma)
        self.smoothed_ = field.values
        mesh = _mesh(field)
        rank = ranks(mesh.values)
        code, contrib, border = _classify(mesh, rank)
        crit = np.flatnonzero(code >= 0)
        crit = crit[np.argsort(-mesh.values[crit], kind="stable")]
        k = np.array(["min", "saddle", "max"])[code[crit]]
        self.critical_points_ = {
            "row": mesh.rows[crit], "col": mesh.cols[crit], "value": mesh.values[crit], "kind": k,
            "index": code[crit], "multiplicity": np.where(k == "saddle", -contrib[crit], 1),
            "border": border[crit]}
        mult = self.critical_points_["multiplicity"]
        self.n_maxima_ = int((k == "max").sum())
        self.n_saddles_ = int(mult[k == "saddle"].sum())
        self.n_minima_ = int((k == "min").sum())
        self.morse_sum_ = self.n_maxima_ - self.n_saddles_ + self.n_minima_
        self.euler_characteristic_ = field.domain.euler_characteristic
        self.morse_relation_holds_ = self.morse_sum_ == self.euler_characteristic_
        self.merge_tree_ = _merge_tree(mesh, rank)
        return self
