"""Gradient-free ask/tell optimizers of latent codes.

Every optimizer proposes codes with ``ask() -> (n, d)`` and learns from
``tell(codes, scores)`` (higher is better); none of them sees a generator or a neuron. All are
seeded through their own ``torch.Generator``, keep their tensors on their ``device``, save
and restore their whole state (``state_dict`` / ``load_state_dict``) so a restored optimizer
continues bit-for-bit, and list their hyper-parameters in ``config()``.

=========== ============== ===================================================================
name        class          what it is (source)
=========== ============== ===================================================================
ga          GA             XDream's GA as published: 95th-percentile score clip, 1 elite,
                           population 20 (willwx/XDream ``Optimizers.py``, ``examples/experiment.py``)
ga-actmax   ActMaxGA       ActMax-Optimizer-Dev's GA baseline: population 40, kT = 2 std,
                           10 elites (``core/Optimizers.py``, ``cma_benchmark.py``)
ga-project  ProjectGA      the project's GA: XDream's rule without the clip and the elite
cholcma     CholeskyCMAES  ActMax-Optimizer-Dev's CholeskyCMAES: lambda 40, sigma0 3, rank-one
                           factor update every 10 generations
pycma       PyCMA          pycma's CMAEvolutionStrategy as ActMax called it: sigma0 2, popsize 40
                           (``pip install cma``)
cma         CMAES          the project's full-covariance CMA-ES, fast in thousands of dimensions
spherecma   SphereCMA      Wang & Ponce's search on the sphere of fixed code norm
nes         NES            XDream's natural evolution strategy, raw scores (its published rule)
nes-auto    NESAuto        the project's NES: centred scores, "auto" score scale
fdgd        FDGD           XDream's finite-difference gradient ascent, raw scores
fdgd-auto   FDGDAuto       the project's FDGD: "auto" score scale
=========== ============== ===================================================================

The published presets (``ga``, ``ga-actmax``, ``cholcma``, ``pycma``, ``nes``, ``fdgd``) keep
their sources' numbers, which are absolute code lengths chosen for DeePSiM fc6 codes (4096-d,
norms of a few hundred); each takes ``code_scale`` to rescale its step sizes to another code
space, and says so in ``config()["reference"]`` (source, rule, code space).

:class:`Subspace` wraps any of them to search a given linear subspace. The white-box reference,
:class:`~landscape.optim.gradient.GradientAscent` (Adam on the code), is not an ask/tell
optimizer and is not built by :func:`make`.
"""

from __future__ import annotations

from typing import Any, Callable

from .base import NAN_POLICIES, Optimizer
from .checks import parse_dtype
from .cholesky_cma import CholeskyCMAES
from .cma import CMAES
from .fdgd import FDGD, FDGDAuto
from .ga import GA, ActMaxGA, ProjectGA
from .gradient import GradientAscent
from .nes import NES, NESAuto
from .peers import PyCMA
from .sphere_cma import SphereCMA
from .subspace import Subspace

#: the one registry of optimizers: name -> class or factory ``(dim, **settings) -> Optimizer``
#: (nevergrad's single registry); :func:`register` adds to it, :func:`make` builds from it
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "ga": GA, "ga-actmax": ActMaxGA, "ga-project": ProjectGA, "cholcma": CholeskyCMAES, "pycma": PyCMA,
    "cma": CMAES, "spherecma": SphereCMA, "nes": NES, "nes-auto": NESAuto, "fdgd": FDGD, "fdgd-auto": FDGDAuto}
#: the names this package defines (they cannot be replaced or removed)
BUILTIN = tuple(OPTIMIZERS)

__all__ = ["Optimizer", "GA", "ActMaxGA", "ProjectGA", "CholeskyCMAES", "PyCMA", "CMAES", "SphereCMA", "NES",
           "NESAuto", "FDGD", "FDGDAuto", "Subspace", "GradientAscent", "OPTIMIZERS",
           "BUILTIN", "NAN_POLICIES", "make", "names", "register", "unregister", "registered"]


def names() -> list[str]:
    """Short names accepted by :func:`make` (and ``landscape evolve --optimizer``, sweep specs)."""
    return list(OPTIMIZERS)


def register(name: str, factory: Callable[..., Optimizer]) -> None:
    """Make ``name`` a name of :func:`make` (a new method under study, a peer library, a test optimizer).

    Parameters
    ----------
    name : str
        Must not be one of :data:`BUILTIN`; registering a name again replaces its factory.
    factory : callable
        ``factory(dim, *, seed=..., device=..., **settings)`` returning an :class:`Optimizer`;
        usually the class itself. Sweeps send it to their workers pickled by reference, so it
        must be importable there (defined in a module, not in ``__main__``).
    """
    if not callable(factory):
        raise TypeError(f"factory for optimizer {name!r} must be callable, got {type(factory).__name__}")
    if name in BUILTIN:
        raise ValueError(f"optimizer name {name!r} is already a landscape.optim optimizer; choose another name")
    OPTIMIZERS[str(name)] = factory


def unregister(name: str) -> None:
    """Remove a name added by :func:`register` (no error if absent; built-in names stay)."""
    if name not in BUILTIN:
        OPTIMIZERS.pop(name, None)


def registered(name: str) -> Callable[..., Optimizer] | None:
    """The factory :func:`register` added under ``name``, or None (a built-in name or an unknown one)."""
    return None if name in BUILTIN else OPTIMIZERS.get(name)


def make(name: str, dim: int, **settings: Any) -> Optimizer:
    """Build an optimizer from its short name.

    Parameters
    ----------
    name : one of :func:`names` (the table of this module and any registered)
    dim : int
        Code dimension.
    **settings
        Keyword arguments of the class (e.g. ``population=40``, ``seed=0``, ``device="cuda"``,
        ``dtype="float64"``). ``make(**opt.config())`` rebuilds an equal optimizer: the
        documentation entry ``reference`` of a config is ignored.

    Returns
    -------
    Optimizer
    """
    key = str(name) if str(name) in OPTIMIZERS else str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid names: {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[key]
    settings.pop("reference", None)  # a config's documentation of its source, not a setting
    if "dtype" in settings:
        settings["dtype"] = parse_dtype(settings["dtype"])
    try:
        return cls(dim, **settings)
    except TypeError as e:
        import inspect

        valid = [p for p in inspect.signature(cls).parameters if p != "dim"]
        raise ValueError(f"bad settings for optimizer {key!r} ({e}); valid settings: {', '.join(valid)}") from None
