"""Homogeneity of the metric across positions, and the averaged Hessian.

Following Wang & Ponce (2021): with eigenpairs ``(lambda_j^m, v_j^m)`` of ``H(z_j)``, the
metric is homogeneous when the eigenvectors found at one position are eigenvectors with the
same eigenvalues at another. :class:`Homogeneity` measures, for every ordered pair (i, j),
the correlation over m of ``v_i^m' H(z_j) v_i^m`` with ``lambda_j^m``, in log and linear
scale. The log correlation is the reference's headline measure: the paper reports its mean
off-diagonal value (about 0.95 for DCGAN and 0.98 for DeePSiM fc6), computed by
``compute_hess_corr`` in ``Animadversio/GAN-Geometry``, ``core/hessian_analysis_tools.py``
(``log10`` of both, NaN masked; ``summary_["corr_log"]["mean"]`` here). Beside it come
comparisons that do not depend on how eigenvectors are picked inside near-degenerate
eigenspaces: the Pearson correlation of the matrices' entries (the same file's secondary
``compute_vector_hess_corr``), the cosine of the matrices in the Frobenius inner product, the
same cosine for their traceless parts ``H - tr(H)/d I`` (which, unlike the first two, is near 0
for unrelated near-isotropic metrics such as a weight-shuffled generator's), and the overlap of
the top-k eigenspaces. Which metric ``H`` is (pixel MSE or a perceptual distance) is the
caller's choice: say it beside every number.

:class:`AverageHessian` averages ``H(z_i)`` over positions; its eigenbasis is the global
coordinate frame handed to optimizers and to :mod:`geometry.inversion`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def _stack_arrays(eigvals: Any, eigvecs: Any = None) -> tuple[np.ndarray, np.ndarray]:
    if eigvecs is None and hasattr(eigvals, "eigvecs"):
        eigvals, eigvecs = eigvals.eigvals, eigvals.eigvecs
    w = np.asarray(eigvals, dtype=np.float64)
    V = np.asarray(eigvecs, dtype=np.float64)
    if w.ndim != 2 or V.ndim != 3 or V.shape[0] != w.shape[0] or V.shape[2] != w.shape[1]:
        raise ValueError(f"expected eigvals (n, k) and eigvecs (n, d, k); got {w.shape} and {V.shape}")
    return w, V


def _offdiag(M: np.ndarray) -> np.ndarray:
    return M[~np.eye(M.shape[0], dtype=bool)]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


class Homogeneity:
    """How alike the metric is at different codes.

    Parameters
    ----------
    top : int, optional
        Use only the top ``top`` eigenvectors of each position (default: all stored).
    subspace_k : int
        Dimension of the eigenspaces compared by ``subspace_overlap_``.

    Attributes (after :meth:`fit`)
    ------------------------------
    corr_log_, corr_lin_ : (n, n) arrays
        ``[i, j]`` = correlation over m of ``v_i^m' H_j v_i^m`` with ``lambda_j^m``, in log10
        (non-positive values dropped) and linear scale.
    entry_corr_ : (n, n) array
        Pearson correlation of the entries of ``H_i`` and ``H_j`` (rotation invariant).
    frobenius_cosine_ : (n, n) array
        ``<H_i, H_j>_F / (|H_i| |H_j|)`` (invariant to any common rotation of the codes).
    traceless_cosine_ : (n, n) array
        The same cosine for ``H - tr(H)/d I``: what the metrics share beyond a common scale.
    subspace_overlap_ : (n, n) array
        ``|U_i' U_j|_F^2 / k`` for the top-``subspace_k`` eigenspaces: 1 when they coincide,
        about ``k / d`` for random subspaces.
    summary_ : dict
        Off-diagonal mean and median of each matrix.
    """

    def __init__(self, top: int | None = None, subspace_k: int = 10) -> None:
        self.top = top
        self.subspace_k = int(subspace_k)

    def fit(self, eigvals: Any, eigvecs: Any = None) -> "Homogeneity":
        """``eigvals`` (n, k) and ``eigvecs`` (n, d, k), or a :class:`~geometry.hessian.HessianStack`."""
        w, V = _stack_arrays(eigvals, eigvecs)
        n, d, k = V.shape
        if n < 2:
            raise ValueError(f"homogeneity needs Hessians at 2 or more positions, got {n}")
        m = k if self.top is None else min(int(self.top), k)
        ks = min(self.subspace_k, k)
        self.corr_log_ = np.eye(n)
        self.corr_lin_ = np.eye(n)
        self.entry_corr_ = np.eye(n)
        self.frobenius_cosine_ = np.eye(n)
        self.traceless_cosine_ = np.eye(n)
        self.subspace_overlap_ = np.eye(n)
        sum_entries = V.sum(axis=1)  # 1.v per eigenvector, (n, k)
        total = (w * sum_entries ** 2).sum(axis=1)  # sum of all entries of H_i
        sq = (w ** 2).sum(axis=1)  # |H_i|_F^2 (columns orthonormal)
        mean = total / d ** 2
        var = sq / d ** 2 - mean ** 2
        iso = w.sum(axis=1) / d  # tr(H_i) / d
        sq_traceless = sq - d * iso ** 2
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                P = V[i].T @ V[j]  # (k, k) overlaps v_i^a . v_j^b
                P2 = P ** 2
                vhv = P2[:m] @ w[j]  # v_i^a' H_j v_i^a for a < m
                lam = w[j][:m]
                with np.errstate(divide="ignore", invalid="ignore"):
                    self.corr_log_[i, j] = _corr(np.log10(np.where(vhv > 0, vhv, np.nan)),
                                                 np.log10(np.where(lam > 0, lam, np.nan)))
                self.corr_lin_[i, j] = _corr(vhv, lam)
                inner = w[i] @ P2 @ w[j]
                self.frobenius_cosine_[i, j] = inner / np.sqrt(sq[i] * sq[j])
                self.traceless_cosine_[i, j] = ((inner - d * iso[i] * iso[j])
                                                / np.sqrt(sq_traceless[i] * sq_traceless[j]))
                cov = inner / d ** 2 - mean[i] * mean[j]
                self.entry_corr_[i, j] = cov / np.sqrt(var[i] * var[j])
                self.subspace_overlap_[i, j] = P2[:ks, :ks].sum() / ks
        self.n_positions_, self.dim_ = n, d
        self.summary_ = {name: {"mean": float(np.nanmean(_offdiag(M))), "median": float(np.nanmedian(_offdiag(M)))}
                         for name, M in [("corr_log", self.corr_log_), ("corr_lin", self.corr_lin_),
                                         ("entry_corr", self.entry_corr_),
                                         ("frobenius_cosine", self.frobenius_cosine_),
                                         ("traceless_cosine", self.traceless_cosine_),
                                         ("subspace_overlap", self.subspace_overlap_)]}
        self.summary_["subspace_k"] = ks
        self.summary_["chance_subspace_overlap"] = ks / d
        return self

    def save(self, path: str | Path) -> Path:
        """Write the six (n, n) matrices and the JSON summary to an ``.npz``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, corr_log=self.corr_log_, corr_lin=self.corr_lin_, entry_corr=self.entry_corr_,
                 frobenius_cosine=self.frobenius_cosine_, traceless_cosine=self.traceless_cosine_,
                 subspace_overlap=self.subspace_overlap_,
                 summary=np.array(json.dumps(self.summary_)))
        return path

    def plot(self, path: str | Path | None = None, title: str = "Metric homogeneity") -> Any:
        """Heatmaps of the log correlation and the entry correlation; HTML when ``path`` is given."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        fig = make_subplots(rows=1, cols=2, subplot_titles=(
            f"corr(log v_i'H_j v_i, log lambda_j), mean {self.summary_['corr_log']['mean']:.3f}",
            f"corr of entries H_i, H_j, mean {self.summary_['entry_corr']['mean']:.3f}"))
        fig.add_trace(go.Heatmap(z=self.corr_log_, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                                 showscale=False), row=1, col=1)
        fig.add_trace(go.Heatmap(z=self.entry_corr_, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                                 colorbar=dict(title="correlation")),
                      row=1, col=2)
        fig.update_xaxes(title_text="position j (code)", dtick=1)
        fig.update_yaxes(title_text="position i (code)", dtick=1, autorange="reversed")
        fig.update_layout(title=title)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            fig.write_html(str(path), include_plotlyjs=True)
        return fig

    def __repr__(self) -> str:
        return f"Homogeneity(top={self.top}, subspace_k={self.subspace_k})"


class AverageHessian:
    """The metric averaged over positions, and its eigenbasis.

    Attributes (after :meth:`fit`)
    ------------------------------
    matrix_ : (d, d) array, mean of ``H(z_i)``
    eigvals_ : (d,) array, descending
    eigvecs_ : (d, d) array, columns
    n_positions_ : int
    codes_ : (n, d) array or None

    File (``save``/``load``): ``.npz`` with ``matrix``, ``eigvals``, ``eigvecs``,
    ``n_positions`` and, when known, ``codes``.
    """

    def fit(self, eigvals: Any, eigvecs: Any = None, codes: Any = None) -> "AverageHessian":
        """From ``eigvals (n, k)``, ``eigvecs (n, d, k)`` or a HessianStack (low rank when k < d)."""
        if codes is None and hasattr(eigvals, "codes"):
            codes = eigvals.codes
        w, V = _stack_arrays(eigvals, eigvecs)
        H = np.einsum("ndk,nk,nek->de", V, w, V, optimize=True) / len(w)
        return self._finish(H, len(w), codes)

    def fit_matrices(self, matrices: Any, codes: Any = None) -> "AverageHessian":
        """From full matrices, (n, d, d)."""
        M = np.asarray(matrices, dtype=np.float64)
        if M.ndim != 3 or M.shape[1] != M.shape[2]:
            raise ValueError(f"matrices must have shape (n, d, d), got {M.shape}")
        return self._finish(M.mean(axis=0), M.shape[0], codes)

    def _finish(self, H: np.ndarray, n: int, codes: Any) -> "AverageHessian":
        H = (H + H.T) / 2
        w, V = np.linalg.eigh(H)
        self.matrix_, self.eigvals_, self.eigvecs_ = H, w[::-1].copy(), V[:, ::-1].copy()
        self.n_positions_ = int(n)
        self.codes_ = None if codes is None else np.asarray(codes, dtype=np.float64)
        return self

    def basis(self, k: int) -> np.ndarray:
        """Top-``k`` eigenvectors, (d, k) with orthonormal columns (what optimizers are handed)."""
        d = self.eigvecs_.shape[0]
        if not 1 <= int(k) <= d:
            raise ValueError(f"k must be in [1, {d}], got {k}")
        return self.eigvecs_[:, :int(k)].copy()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = {} if self.codes_ is None else {"codes": self.codes_}
        np.savez(path, matrix=self.matrix_, eigvals=self.eigvals_, eigvecs=self.eigvecs_,
                 n_positions=np.array(self.n_positions_), **extra)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "AverageHessian":
        obj = cls()
        with np.load(Path(path), allow_pickle=False) as f:
            obj.matrix_, obj.eigvals_, obj.eigvecs_ = f["matrix"], f["eigvals"], f["eigvecs"]
            obj.n_positions_ = int(f["n_positions"])
            obj.codes_ = f["codes"] if "codes" in f.files else None
        return obj

    def __repr__(self) -> str:
        fitted = f"d={self.matrix_.shape[0]}, n_positions={self.n_positions_}" if hasattr(self, "matrix_") else ""
        return f"AverageHessian({fitted})"
