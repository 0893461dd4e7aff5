"""How the components of a graph's super-level sets appear and join, in vectorised numpy.

A function on the vertices of a graph, given by its *ranks* (distinct integers, higher = higher
value; ties in the values are broken before, which is simulation of simplicity), is filtered by
super-level sets: vertex ``v`` enters at its rank and edge ``(a, b)`` when both ends are in,
at ``min(rank[a], rank[b])``. Components appear at local maxima and join at saddles.

Rather than run union-find over every vertex in Python, the graph is first cut into *basins*:
every vertex points to its highest neighbour above it, and pointer jumping follows those
pointers to a local maximum. A vertex reaches its basin's maximum through vertices higher
than itself, so at every level the components of the super-level set are the basins above
the level joined by the edges between basins whose lower end is above it. The joins are
therefore those of the small graph of basins (one node per maximum, one edge per pair of
touching basins, weighted by the highest rank at which they touch), and only its maximum
spanning tree matters: any maximum spanning tree has the same components at every level
(scipy's compiled Kruskal finds one). The remaining loop in Python runs over that tree's
edges, one per join, not over the vertices.

:func:`elder_pairs` reads the joins as H0 persistence pairs by the elder rule (at a join the
component with the lower maximum ends): ``(maximum, saddle)`` vertex pairs, and the maxima
whose component never ends (one per connected component of the graph).
:class:`~landscape.topology.morse.MorseAnalysis` reads them as a merge tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: largest packed sort key (pair of basins, level) that fits an int64 with room to spare
_PACKED_KEY_LIMIT = 2 ** 62


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` (0 = lowest), ties broken by index (the lower index ranks lower).

    Parameters
    ----------
    values : (V,) float array

    Returns
    -------
    (V,) int64 array, a permutation of ``0 .. V - 1``
    """
    values = np.asarray(values).ravel()
    order = np.argsort(values, kind="stable")
    rank = np.empty(values.size, np.int64)
    rank[order] = np.arange(values.size)
    return rank


@dataclass
class Joins:
    """The joins of a graph's super-level components (module docstring).

    Attributes
    ----------
    maxima : (k,) int array
        Vertices with no higher neighbour, one per basin.
    basin : (V,) int array
        Index into ``maxima`` of the basin of each vertex.
    first, second : (k - c,) int arrays
        Indices into ``maxima``: the basins joined by each edge of the maximum spanning tree
        (``c``: connected components of the graph).
    level : (k - c,) int array
        Rank at which each edge enters, the rank of its saddle vertex; non-increasing.
    """

    maxima: np.ndarray
    basin: np.ndarray
    first: np.ndarray
    second: np.ndarray
    level: np.ndarray


def superlevel_joins(rank: np.ndarray, a: np.ndarray, b: np.ndarray) -> Joins:
    """Basins of ``rank`` on the graph with edges ``(a[i], b[i])`` and the joins between them.

    Parameters
    ----------
    rank : (V,) int array
        Distinct ranks (:func:`ranks`).
    a, b : (E,) int arrays
        Edges, each listed once or twice in any direction; self-loops and repeats are allowed.

    Returns
    -------
    Joins
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    rank = np.asarray(rank, np.int64)
    V = rank.size
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    vertex_of = np.empty(V, np.int64)
    vertex_of[rank] = np.arange(V)
    ra, rb = rank[a], rank[b]
    highest = rank.copy()
    np.maximum.at(highest, a, rb)
    np.maximum.at(highest, b, ra)
    up = vertex_of[highest]  # the highest neighbour above, or the vertex itself at a maximum
    while True:  # pointer jumping: about log2(longest ascent) rounds
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        up = nxt
    maxima = np.flatnonzero(up == np.arange(V))
    index = np.full(V, -1, np.int64)
    index[maxima] = np.arange(maxima.size)
    basin = index[up]
    k = maxima.size
    ba, bb = basin[a], basin[b]
    cross = ba != bb
    lo = np.minimum(ba[cross], bb[cross])
    hi = np.maximum(ba[cross], bb[cross])
    w = np.minimum(ra[cross], rb[cross])
    if w.size == 0:
        empty = np.zeros(0, np.int64)
        return Joins(maxima, basin, empty, empty, empty)
    # the highest touching edge of each pair of basins: one sort of (pair, V - 1 - level)
    pair = lo * k + hi
    if k * k * V < _PACKED_KEY_LIMIT:
        order = np.argsort(pair * V + (V - 1 - w))
    else:  # the packed key would overflow int64
        order = np.lexsort((-w, pair))
    sorted_pair = pair[order]
    keep = order[np.r_[True, sorted_pair[1:] != sorted_pair[:-1]]]
    # weights V - w are >= 1: csgraph reads a zero as a missing edge
    tree = minimum_spanning_tree(coo_matrix(((V - w[keep]).astype(np.float64), (lo[keep], hi[keep])),
                                            shape=(k, k))).tocoo()
    level = V - np.rint(tree.data).astype(np.int64)
    order = np.argsort(-level, kind="stable")
    return Joins(maxima, basin, tree.row[order].astype(np.int64), tree.col[order].astype(np.int64), level[order])


def elder_pairs(joins: Joins, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H0 persistence pairs of the super-level filtration by the elder rule.

    Parameters
    ----------
    joins : Joins
    rank : (V,) int array
        The ranks ``joins`` was computed from.

    Returns
    -------
    pairs : (p, 2) int array
        ``(maximum vertex, saddle vertex)`` of each component that ends at a join.
    essential : (c,) int array
        The maximum vertex of each component that never ends.
    """
    V = rank.size
    vertex_of = np.empty(V, np.int64)
    vertex_of[rank] = np.arange(V)
    top = rank[joins.maxima].tolist()
    parent = list(range(joins.maxima.size))
    dying = []
    for u, v in zip(joins.first.tolist(), joins.second.tolist()):
        while parent[u] != u:
            parent[u] = u = parent[parent[u]]
        while parent[v] != v:
            parent[v] = v = parent[parent[v]]
        if top[u] < top[v]:
            u, v = v, u
        dying.append(v)  # the younger component (lower maximum) ends here
        parent[v] = u
    pairs = np.stack([joins.maxima[np.asarray(dying, np.int64)], vertex_of[joins.level]], axis=1)
    roots = np.flatnonzero(np.asarray(parent) == np.arange(len(parent)))
    return pairs.reshape(-1, 2), joins.maxima[roots]
