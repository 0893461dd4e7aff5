"""Which optimizers a sweep can name: the names of :mod:`landscape.optim`'s one registry.

:func:`register_optimizer` is :func:`landscape.optim.register` (a factory under a new name; it
travels to the workers with each task, pickled by reference, so it must be importable there:
define it in a module, not in ``__main__``).
"""

from __future__ import annotations

from typing import Any, Callable

from .. import optim

register_optimizer = optim.register
unregister_optimizer = optim.unregister
registered_factory = optim.registered


def optimizer_names() -> list[str]:
    """Every name a spec's ``algorithm`` may take."""
    return optim.names()


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
        The registered factory, passed explicitly on workers (whose registry lacks it).
    """
    if factory is not None:
        try:
            return factory(dim, seed=seed, device=device, **settings)
        except TypeError as e:
            raise ValueError(f"bad settings for optimizer {algorithm!r}: {e}") from None
    return optim.make(algorithm, dim, seed=seed, device=device, **dict(settings))
