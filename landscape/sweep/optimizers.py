"""Which optimizers a sweep can name: :func:`landscape.optim.make`'s, plus any registered here.

:func:`register_optimizer` adds a factory under a name (a new method under study, or a
small test optimizer). The factory travels to the workers with each task, pickled by
reference, so it must be importable there: define it in a module, not in ``__main__``.
"""

from __future__ import annotations

from typing import Any, Callable

#: name -> factory(dim, *, seed, device, **settings) -> Optimizer
_REGISTRY: dict[str, Callable[..., Any]] = {}


def register_optimizer(name: str, factory: Callable[..., Any]) -> None:
    """Make ``name`` usable as an ``algorithm`` in sweep specs.

    Parameters
    ----------
    name : str
        Must not shadow a name of :func:`landscape.optim.names`.
    factory : callable
        ``factory(dim, *, seed=..., device=..., **settings)`` returning a
        :class:`landscape.optim.base.Optimizer`; usually the class itself.
    """
    if not callable(factory):
        raise TypeError(f"factory for optimizer {name!r} must be callable, got {type(factory).__name__}")
    if name in _builtin_names():
        raise ValueError(f"optimizer name {name!r} is already a landscape.optim optimizer; choose another name")
    _REGISTRY[str(name)] = factory


def unregister_optimizer(name: str) -> None:
    """Remove a name added by :func:`register_optimizer` (no error if absent)."""
    _REGISTRY.pop(name, None)


def _builtin_names() -> list[str]:
    from .. import optim

    return list(optim.names())


def optimizer_names() -> list[str]:
    """Every name a spec's ``algorithm`` may take."""
    return _builtin_names() + [n for n in _REGISTRY if n not in _builtin_names()]


def registered_factory(name: str) -> Callable[..., Any] | None:
    """The registered factory for ``name``, or None for :mod:`landscape.optim`'s own."""
    return _REGISTRY.get(name)


def make_optimizer(algorithm: str, dim: int, *, seed: int, device: Any, settings: dict,
                   factory: Callable[..., Any] | None = None) -> Any:
    """Build the optimizer a task names.

    Parameters
    ----------
    algorithm : str
        A name of :func:`optimizer_names`.
    dim : int
        Code dimension of the generator.
    seed : int
    device : str or torch.device
    settings : dict
        Keyword arguments of the optimizer.
    factory : callable or None
        The registered factory (passed explicitly on workers, where the registry is empty).
    """
    factory = factory or _REGISTRY.get(algorithm)
    if factory is not None:
        try:
            return factory(dim, seed=seed, device=device, **settings)
        except TypeError as e:
            raise ValueError(f"bad settings for optimizer {algorithm!r}: {e}") from None
    from .. import optim

    return optim.make(algorithm, dim, seed=seed, device=device, **dict(settings))
