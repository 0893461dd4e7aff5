"""Slow reference copies of the topology code as it was before issue #17 (item 3).

The library now computes sphere persistence and the Morse merge tree with vectorised
union-find (``landscape.topology.merging``). These are the earlier implementations, kept
verbatim so the tests can check the new ones give IDENTICAL diagrams and trees on many maps:

* :func:`reference_diagrams`: super-level persistence through gudhi's ``SimplexTree`` of the
  glued domain (seam joined, pole rows collapsed) when the seam is joined, gudhi's
  ``CubicalComplex`` otherwise.
* :func:`reference_morse`: critical points, their counts and the pure-Python union-find
  merge tree on the Freudenthal triangulation (mesh, ranks, link classification and loop as
  they were in ``landscape/topology/morse.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from landscape.topology.domain import Domain, Field
from landscape.topology.morse import MergeTree


def _from_gudhi(intervals: np.ndarray) -> np.ndarray:
    return -np.asarray(intervals, dtype=np.float64).reshape(-1, 2)


def _cubical(field: Field, connectivity: int) -> Any:
    import gudhi

    neg = -field.values
    if connectivity == 8:
        return gudhi.CubicalComplex(top_dimensional_cells=neg)
    return gudhi.CubicalComplex(vertices=neg)


def _simplicial(field: Field, connectivity: int) -> Any:
    """Simplex tree of the domain (seam glued, poles collapsed), lower-star filtration of -f."""
    import gudhi

    n, m = field.shape
    dom = field.domain
    vid = np.arange(n * m).reshape(n, m)
    for r in dom.pole_rows():
        vid[r] = vid[r, 0]
    neg = -field.values.ravel()
    ncol = m if dom.wrap else m - 1
    j = np.arange(ncol)
    a, b = vid[:-1, j], vid[:-1, (j + 1) % m]
    c, d = vid[1:, j], vid[1:, (j + 1) % m]
    a, b, c, d = a.ravel(), b.ravel(), c.ravel(), d.ravel()
    st = gudhi.SimplexTree()
    used = np.unique(vid)
    st.insert_batch(used[None, :], neg[used])

    def insert(simplices: list[np.ndarray], values: np.ndarray | None = None) -> None:
        """Insert simplices (one row of vertex ids per corner) at ``values`` (default: lower star)."""
        s = np.sort(np.stack(simplices), axis=0)
        ok = np.all(s[1:] != s[:-1], axis=0)  # drop simplices collapsed at a pole
        s = s[:, ok]
        if s.shape[1]:
            st.insert_batch(s, neg[s].max(axis=0) if values is None else values[ok])

    if connectivity == 8:
        # nerve of the closed pixel squares: each 2 x 2 block is a tetrahedron
        for e in ((a, b), (c, d), (a, c), (b, d), (a, d), (b, c)):
            insert(list(e))
        for t in ((a, b, c), (a, b, d), (a, c, d), (b, c, d)):
            insert(list(t))
        insert([a, b, c, d])
    else:
        for e in ((a, b), (c, d), (a, c), (b, d)):
            insert(list(e))
        # a square fills only when its 4 corners are in: its diagonal and two triangles enter
        # together at the square's value (a pole collapses it to the one triangle left)
        sq = neg[np.stack([a, b, c, d])].max(axis=0)
        for simplex in ([a, d], [a, b, d], [a, c, d]):
            insert(simplex, sq)
    return st


def reference_diagrams(field: Field, connectivity: int) -> dict[int, np.ndarray]:
    """Super-level diagrams as ``superlevel_diagrams`` computed them before issue #17."""
    cx = _simplicial(field, connectivity) if field.domain.wrap else _cubical(field, connectivity)
    if field.domain.wrap:
        cx.compute_persistence(min_persistence=0.0, persistence_dim_max=True)
    else:
        cx.compute_persistence(min_persistence=0.0)
    out = {}
    for dim in (0, 1, 2):
        d = _from_gudhi(cx.persistence_intervals_in_dimension(dim))
        order = np.argsort(-(d[:, 0] - d[:, 1]), kind="stable")
        out[dim] = d[order]
    return out


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


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.lexsort((np.arange(values.size), values))
    rank = np.empty(values.size, np.int64)
    rank[order] = np.arange(values.size)
    return rank


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


def _merge_tree(mesh: _Mesh, rank: np.ndarray) -> MergeTree:
    V = rank.size
    order = np.argsort(-rank).tolist()
    nbr = mesh.nbr
    present = nbr >= 0
    upper = present & (rank[np.where(present, nbr, 0)] > rank[:, None])
    # plain lists: this loop is pure Python, and list indexing is several times faster than numpy's
    ups = [row[m].tolist() for row, m in zip(nbr, upper)]
    for p, link in mesh.poles.items():
        ring = link[link >= 0]
        ups[p] = ring[rank[ring] > rank[p]].tolist()
    parent_uf = list(range(V))
    top_node = [-1] * V  # per union-find root: newest tree node of that component
    kinds: list[str] = []
    verts: list[int] = []
    parents: list[int] = []

    def find(x: int) -> int:
        root = x
        while parent_uf[root] != root:
            root = parent_uf[root]
        while parent_uf[x] != root:  # path compression
            parent_uf[x], x = root, parent_uf[x]
        return root

    for v in order:
        u = ups[v]
        if not u:
            top_node[v] = len(kinds)
            kinds.append("max"), verts.append(v), parents.append(-1)
            continue
        roots = {find(w) for w in u}
        if len(roots) == 1:
            parent_uf[v] = roots.pop()
            continue
        node = len(kinds)
        kinds.append("saddle"), verts.append(v), parents.append(-1)
        for r in roots:
            parents[top_node[r]] = node
            parent_uf[r] = v
        top_node[v] = node
    # the last component ends at the global minimum
    last = find(order[-1])
    node = len(kinds)
    kinds.append("root"), verts.append(order[-1]), parents.append(-1)
    parents[top_node[last]] = node
    vv = np.array(verts, int)
    return MergeTree(np.array(kinds), mesh.rows[vv], mesh.cols[vv], mesh.values[vv], np.array(parents, int))



def reference_morse(field: Field) -> dict[str, Any]:
    """Critical points, counts and merge tree of ``field`` (already smoothed) as
    ``MorseAnalysis.fit`` computed them before issue #17."""
    mesh = _mesh(field)
    rank = _ranks(mesh.values)
    code, contrib, border = _classify(mesh, rank)
    crit = np.flatnonzero(code >= 0)
    crit = crit[np.argsort(-mesh.values[crit], kind="stable")]
    k = np.array(["min", "saddle", "max"])[code[crit]]
    cp = {"row": mesh.rows[crit], "col": mesh.cols[crit], "value": mesh.values[crit], "kind": k,
          "index": code[crit], "multiplicity": np.where(k == "saddle", -contrib[crit], 1), "border": border[crit]}
    mult = cp["multiplicity"]
    return {"critical_points": cp, "n_maxima": int((k == "max").sum()),
            "n_saddles": int(mult[k == "saddle"].sum()), "n_minima": int((k == "min").sum()),
            "merge_tree": _merge_tree(mesh, rank)}
