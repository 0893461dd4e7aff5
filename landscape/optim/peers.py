"""Peer libraries behind the ask/tell interface of :mod:`landscape.optim`.

:class:`PyCMA` runs pycma's ``cma.CMAEvolutionStrategy`` (Hansen et al., ``pip install cma``)
as ActMax-Optimizer-Dev's benchmark did (``core/Optimizers.py`` ``pycma_optimizer``;
``cma_benchmark.py``: ``pycma_optimizer(4096, population_size=40, sigma0=2.0, inopts={},
maximize=True)``): the mean starts at the zero code, step size 2, 40 codes per generation,
every other option pycma's default, scores negated because pycma minimises.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import torch

from .base import Optimizer
from .checks import as_codes, check_float, check_int, dtype_name


def import_cma() -> Any:
    """pycma, or an ImportError that says how to install it."""
    try:
        import warnings

        with warnings.catch_warnings():  # pycma warns when matplotlib is absent; plotting is not used here
            warnings.simplefilter("ignore")
            import cma
    except ImportError as e:
        raise ImportError("the 'pycma' optimizer needs pycma: pip install cma") from e
    return cma


class PyCMA(Optimizer):
    """pycma's ``CMAEvolutionStrategy`` behind ask/tell, with ActMax-Optimizer-Dev's settings.

    Parameters
    ----------
    dim : int
    population : int >= 2 or None
        pycma's ``popsize`` (default 40, ActMax's benchmark; ``None``: pycma's ``4 + floor(3 ln d)``).
    sigma0 : float > 0
        Initial step size (default 2.0, ActMax's; before ``code_scale``). The mean starts at the
        zero code.
    code_scale : float > 0
        Multiplies ``sigma0``. ActMax's 2 was chosen for DeePSiM fc6 codes (4096-d, norms ~300);
        default 1 keeps it.
    seed : int or None
        pycma draws its samples with ``numpy``'s ``randn``; here from a private
        ``numpy.random.RandomState(seed)`` (pycma's ``randn`` option), the same stream pycma's own
        ``seed=seed`` option gives through numpy's global generator (for ``seed >= 1``; pycma
        takes 0 for "seed from the clock"), without touching that global generator, so runs in
        one process stay independent and a restored optimizer continues bit-for-bit.
    device, dtype, nan_policy
        See :class:`~landscape.optim.base.Optimizer`; pycma computes in float64 on the CPU and
        the codes are moved to ``device`` (``dtype`` default float64: codes as pycma proposes them).
    """

    name = "pycma"
    step_attr = "sigma_"
    reference = {
        "source": "pycma cma.CMAEvolutionStrategy (pip install cma), called as Animadversio/ActMax-Optimizer-Dev "
                  "core/Optimizers.py pycma_optimizer with the settings of cma_benchmark.py (popsize 40, sigma0 2, "
                  "x0 = 0, other options default)",
        "rule": "pycma's CMA-ES (rank-one and rank-mu updates, CSA); scores negated (pycma minimises)",
        "code_space": "sigma0 is absolute, chosen for DeePSiM fc6 codes (4096-d, norms ~300); code_scale multiplies "
                      "it (effective sigma0 = sigma0 * code_scale)",
    }

    def __init__(self, dim: int, population: int | None = 40, sigma0: float = 2.0, code_scale: float = 1.0, *,
                 seed: int | None = None, device: str | torch.device | None = None,
                 dtype: torch.dtype = torch.float64, nan_policy: str = "raise") -> None:
        cma = import_cma()
        super().__init__(dim, seed=seed, device=device, dtype=dtype, nan_policy=nan_policy)
        self.population = None if population is None else check_int("population", population, 2)
        self.sigma0 = check_float("sigma0", sigma0, 0.0, low_open=True)
        self.code_scale = check_float("code_scale", code_scale, 0.0, low_open=True)
        self._np_seed = int(seed) if seed is not None else int(torch.randint(2 ** 31 - 1, (1,), generator=self.rng))
        self._start(cma, np.zeros(self.dim))

    def _start(self, cma: Any, x0: np.ndarray) -> None:
        self._random = np.random.RandomState(self._np_seed)
        opts: dict[str, Any] = {"verbose": -9, "randn": self._random.randn, "seed": np.nan}
        if self.population is not None:
            opts["popsize"] = self.population
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.es = cma.CMAEvolutionStrategy(x0, self.sigma0 * self.code_scale, opts)
        self._pending: np.ndarray | None = None

    def initialize(self, codes: Any) -> None:
        """Start pycma's mean at the mean of ``codes`` (n, d) instead of the zero code (before the
        first ``tell``; the codes themselves are not scored)."""
        if self.generation > 0:
            raise RuntimeError(f"initialize() sets the start of the first generation; this optimizer has already been told "
                               f"{self.generation} generation(s)")
        codes = as_codes(codes, self.dim, torch.device("cpu"), torch.float64, "init_codes")
        self._start(import_cma(), codes.mean(0).numpy())

    @property
    def sigma_(self) -> float:
        """pycma's current overall step size."""
        return float(self.es.sigma)

    def ask(self) -> torch.Tensor:
        """pycma's next generation (the same codes until the next ``tell``).

        Returns
        -------
        codes : (population, d) tensor
        """
        if self._pending is None:
            self._pending = np.asarray(self.es.ask())
        return torch.as_tensor(self._pending, dtype=self.dtype).to(self.device)

    def _tell(self, codes: torch.Tensor, scores: torch.Tensor) -> None:
        x = codes.detach().double().cpu().numpy()
        pending = self._pending
        if pending is not None and pending.shape == x.shape and np.allclose(pending, x, rtol=1e-5, atol=1e-6):
            x = pending  # pycma learns from the float64 solutions it proposed
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.es.tell(list(x), (-scores.detach().double().cpu().numpy()).tolist())  # pycma minimises
        self._pending = None

    def _state(self) -> dict[str, Any]:
        # pycma's whole state, its private RandomState included (``randn`` is bound to it), as bytes in
        # a uint8 tensor: checkpoints are read with torch.load(weights_only=True)
        blob = pickle.dumps((self.es, self._random, self._pending))
        return {"pycma": torch.frombuffer(bytearray(blob), dtype=torch.uint8).clone()}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.es, self._random, self._pending = pickle.loads(state["pycma"].numpy().tobytes())

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dtype": dtype_name(self.dtype), "population": self.population,
                "sigma0": self.sigma0, "code_scale": self.code_scale}
