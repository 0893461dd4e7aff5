"""Axes of a tuning map: orthonormal directions in latent space, as ``(k, d)`` arrays.

Four sources, all returning plain arrays so that any of them can feed any grid:

- :class:`TrajectoryPCA` / :func:`pc_axes`: principal components of an evolution's codes
  (scikit-learn PCA on every code of every generation). PC1's sign is flipped so the mean
  code of the last generation projects positively onto it, which puts the evolved images
  at theta = phi = 0 of a sphere map.
- :func:`hessian_axes`: eigenvectors of a Hessian (for example from
  ``geometry.hessian.hessian``), given as ``(k, d)`` rows or ``(d, k)`` columns, any pair
  or triple picked by index (0 = the eigenvalue listed first, the largest for a
  descending spectrum).
- :func:`random_axes`: seeded random orthonormal directions orthogonal to given axes
  (the control spheres of the in vivo experiments use random axes orthogonal to the PCs).
- user arrays, validated by :func:`check_axes`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from landscape.estimator import Estimator, check_is_fitted
#: tolerance on ``axes @ axes.T - I`` when axes must be orthonormal
ORTHONORMAL_ATOL = 1e-4


def _as_array(x: Any, name: str) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf values")
    return arr


def check_axes(axes: Any, dim: int, *, k: int | None = None, orthonormal: bool = True,
               atol: float = ORTHONORMAL_ATOL, name: str = "axes") -> np.ndarray:
    """Validate map axes and return them as a float64 array.

    Parameters
    ----------
    axes : (k, d) array-like or tensor
        One direction per row.
    dim : int
        Code dimension ``d`` the axes must have.
    k : int or None
        Required number of axes (3 for a sphere, 2 for a plane); ``None`` accepts any.
    orthonormal : bool
        Require ``axes @ axes.T`` to equal the identity within ``atol``. When False the
        axes must still be linearly independent.

    Returns
    -------
    axes : (k, d) float64 array
    """
    arr = _as_array(axes, name)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a (k, d) array with one direction per row, got shape {arr.shape}")
    if arr.shape[1] != dim:
        hint = (f"; it looks transposed, pass {name}.T" if arr.shape[0] == dim else "")
        raise ValueError(f"{name} have dimension {arr.shape[1]} but the generator's codes have "
                         f"dimension {dim}: expected shape (k, {dim}), got {arr.shape}{hint}")
    if k is not None and arr.shape[0] != k:
        raise ValueError(f"{name} must hold exactly {k} directions (shape ({k}, {dim})), got {arr.shape[0]}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: give at least one direction")
    gram = arr @ arr.T
    if orthonormal:
        err = np.abs(gram - np.eye(arr.shape[0]))
        if err.max() > atol:
            i, j = np.unravel_index(np.argmax(err), err.shape)
            what = (f"row {i} has norm {np.sqrt(gram[i, i]):.6g}" if i == j
                    else f"rows {i} and {j} have inner product {gram[i, j]:.6g}")
            raise ValueError(f"{name} must be orthonormal (axes @ axes.T = I within {atol:g}) but {what}; "
                             "orthonormalise them first, e.g. with landscape.maps.orthonormalize")
    else:
        if np.linalg.matrix_rank(arr) < arr.shape[0]:
            raise ValueError(f"{name} are linearly dependent: a map needs independent directions")
    return arr


def orthonormalize(vectors: Any) -> np.ndarray:
    """Gram-Schmidt (via QR) the rows of ``vectors``, keeping each row's direction and sign.

    Parameters
    ----------
    vectors : (k, d) array-like, linearly independent rows

    Returns
    -------
    axes : (k, d) float64 array with orthonormal rows spanning the same nested subspaces
    """
    arr = _as_array(vectors, "vectors")
    if arr.ndim != 2:
        raise ValueError(f"vectors must be a (k, d) array, got shape {arr.shape}")
    q, r = np.linalg.qr(arr.T)
    diag = np.diag(r)
    if np.any(np.abs(diag) < 1e-10 * max(1.0, np.abs(r).max())):
        raise ValueError("vectors are linearly dependent; cannot orthonormalise them")
    return (q * np.sign(diag)).T.copy()


def trajectory_codes(codes: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every code of a trajectory and those of its last generation.

    Parameters
    ----------
    codes : (n_gen, pop, d) array, list of (pop_g, d) arrays, or a Run (its ``gen_codes``,
        else its ``codes``)

    Returns
    -------
    flat : (N, d) array
    last : (pop_last, d) array
    """
    gens = getattr(codes, "gen_codes", None)
    if gens is None:
        codes = getattr(codes, "codes", codes)
        gens = codes if isinstance(codes, (list, tuple)) else _as_array(codes, "codes")
    if isinstance(gens, np.ndarray) and gens.ndim != 3:
        raise ValueError(f"codes must be a (n_gen, pop, d) trajectory, got shape {gens.shape}")
    gens = [_as_array(g, "codes") for g in gens]
    if not gens or any(g.ndim != 2 or g.shape[0] == 0 for g in gens) or len({g.shape[1] for g in gens}) != 1:
        raise ValueError("codes must be a non-empty trajectory of (pop, d) generations with one code dimension")
    return np.concatenate(gens), gens[-1]


class TrajectoryPCA(Estimator):
    """Principal components of an evolution trajectory.

    Parameters
    ----------
    n_components : int
        Number of components to keep; clipped to what the data supports only when
        ``None`` (then ``min(n_codes, d)``). Asking for more than the data supports raises.

    Attributes
    ----------
    components_ : (n_components, d) array
        Orthonormal PCs, PC1 first. PC1's sign makes the last generation's mean code
        project positively.
    explained_variance_ratio_ : (n_components,) array
    mean_ : (d,) array
        Mean code of the trajectory (PCA centres on it).
    last_mean_ : (d,) array
        Mean code of the last generation.
    last_norm_ : float
        Mean norm of the last generation's codes: the sphere radius of the experiments.
    """

    def __init__(self, n_components: int | None = 50) -> None:
        self.n_components = n_components

    def fit(self, codes: Any) -> "TrajectoryPCA":
        """Fit on a trajectory.

        Parameters
        ----------
        codes : (n_gen, pop, d) array, a list of (pop_g, d) arrays (one per generation), or a
            :class:`landscape.runs.Run` (its generations; populations may differ in size)
        """
        from sklearn.decomposition import PCA

        flat, last = trajectory_codes(codes)
        limit = min(flat.shape)
        n = limit if self.n_components is None else int(self.n_components)
        if not 1 <= n <= limit:
            raise ValueError(f"n_components={self.n_components} is not possible for a trajectory of "
                             f"{flat.shape[0]} codes of dimension {flat.shape[1]}: use 1..{limit}")
        pca = PCA(n_components=n, svd_solver="full").fit(flat)
        comps = pca.components_.astype(np.float64)
        self.last_mean_ = last.mean(axis=0)
        if comps[0] @ self.last_mean_ < 0:
            comps[0] = -comps[0]
        self.components_ = comps
        self.explained_variance_ratio_ = pca.explained_variance_ratio_.astype(np.float64)
        self.mean_ = pca.mean_.astype(np.float64)
        self.last_norm_ = float(np.linalg.norm(last, axis=1).mean())
        return self

    def axes(self, pcs: Sequence[int]) -> np.ndarray:
        """The PCs numbered ``pcs`` (1-based, as in the papers: ``(1, 49, 50)``).

        Returns
        -------
        axes : (len(pcs), d) array
        """
        check_is_fitted(self, "components_", hint="fit(codes)")
        n = self.components_.shape[0]
        bad = [p for p in pcs if not 1 <= int(p) <= n]
        if bad:
            raise ValueError(f"PC numbers {bad} are out of range: this PCA kept PCs 1..{n} "
                             "(raise n_components, which needs at least that many codes and dimensions)")
        return self.components_[[int(p) - 1 for p in pcs]].copy()


def pc_axes(codes: Any, pcs: Sequence[int] = (1, 2, 3)) -> np.ndarray:
    """PCs ``pcs`` (1-based) of a trajectory ``codes (n_gen, pop, d)`` or a Run.

    Returns
    -------
    axes : (len(pcs), d) array, PC1 signed so the last generation projects positively
    """
    return TrajectoryPCA(n_components=max(int(p) for p in pcs)).fit(codes).axes(pcs)


def hessian_axes(eigvecs: Any, index: Sequence[int] = (0, 1), *, dim: int | None = None,
                 layout: str = "auto") -> np.ndarray:
    """Eigen-directions of a Hessian picked by index.

    Parameters
    ----------
    eigvecs : (k, d) or (d, k) array-like or tensor
        Eigenvectors as rows or as columns (the ``numpy/torch.linalg.eigh`` layout).
    index : sequence of int
        Which eigenvectors, 0-based in the order given (``(0, 1)`` = the top pair of a
        descending spectrum such as ``geometry.hessian.hessian`` returns).
    dim : int or None
        Code dimension ``d``; needed to tell rows from columns unless ``layout`` says.
    layout : {"auto", "rows", "columns"}
        ``auto`` reads a non-square array by its shape against ``dim`` (or, without
        ``dim``, takes the longer side as ``d``) and a square one as columns, the ``eigh``
        convention.

    Returns
    -------
    axes : (len(index), d) orthonormal array
    """
    if layout not in ("auto", "rows", "columns"):
        raise ValueError(f"layout must be 'auto', 'rows' or 'columns', got {layout!r}")
    arr = _as_array(eigvecs, "eigvecs")
    if arr.ndim != 2:
        raise ValueError(f"eigvecs must be 2-D, (k, d) or (d, k), got shape {arr.shape}")
    if layout == "auto":
        if arr.shape[0] == arr.shape[1]:
            layout = "columns"
        elif dim is not None:
            if arr.shape[1] == dim:
                layout = "rows"
            elif arr.shape[0] == dim:
                layout = "columns"
            else:
                raise ValueError(f"eigvecs of shape {arr.shape} have no side of length dim={dim}")
        else:
            layout = "rows" if arr.shape[1] > arr.shape[0] else "columns"
    rows = arr if layout == "rows" else arr.T
    k = rows.shape[0]
    bad = [i for i in index if not -k <= int(i) < k]
    if bad:
        raise ValueError(f"eigenvector indices {bad} out of range for {k} eigenvectors (valid: 0..{k - 1})")
    picked = rows[[int(i) for i in index]]
    return check_axes(picked, rows.shape[1] if dim is None else dim, name="Hessian eigen-axes")


def random_axes(dim: int, k: int, *, exclude: Any = None, seed: int | None = 0) -> np.ndarray:
    """Seeded random orthonormal directions orthogonal to ``exclude``.

    Parameters
    ----------
    dim : int
        Code dimension ``d``.
    k : int
        Number of directions.
    exclude : (m, d) array-like or None
        Directions to stay orthogonal to (e.g. the trajectory's PCs); need not be orthonormal.
    seed : int or None
        Seeds this call's own ``numpy.random.Generator``.

    Returns
    -------
    axes : (k, d) orthonormal array
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    basis = np.zeros((0, dim))
    if exclude is not None:
        ex = _as_array(exclude, "exclude")
        ex = ex[None] if ex.ndim == 1 else ex
        if ex.ndim != 2 or ex.shape[1] != dim:
            raise ValueError(f"exclude must have shape (m, {dim}), got {ex.shape}")
        u, s, _ = np.linalg.svd(ex.T, full_matrices=False)
        basis = u[:, s > 1e-10 * max(1.0, s.max(initial=0.0))].T
    if basis.shape[0] + k > dim:
        raise ValueError(f"cannot draw {k} random directions orthogonal to {basis.shape[0]} others in "
                         f"{dim} dimensions; exclude fewer directions")
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((k, dim))
    # project twice: one pass leaves round-off along the excluded span at the 1e-16 level
    for _ in range(2):
        g = g - (g @ basis.T) @ basis
    return orthonormalize(g)
