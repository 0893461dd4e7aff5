"""scikit-learn's conventions for the analyses: parameters, ``repr`` and "is it fitted?".

Every analysis class (topology signatures, level sets, tuning analyses, trajectory PCA, ...)
takes its parameters in ``__init__``, stores each under its own name, does its work in
``fit`` and leaves results in attributes with a trailing underscore. :class:`Estimator` adds
what scikit-learn's ``BaseEstimator`` gives on top of that: :meth:`~Estimator.get_params`,
:meth:`~Estimator.set_params`, a ``repr`` that shows the parameters that differ from their
defaults, and :func:`check_is_fitted`, which raises :class:`NotFittedError` with a message
saying what to call.

Why not ``sklearn.base.BaseEstimator`` itself: importing it imports ``scipy.stats`` and
about 900 other modules (measured: 3.7 s of ``python -X importtime`` on the shared machine
under load 11, against 0.5 s for all of ``landscape.topology``), which every light analysis
import would pay. The classes here speak scikit-learn's protocol instead, so its tools work
on them: ``sklearn.base.clone(analysis)``, ``sklearn.utils.validation.check_is_fitted``
(through ``__sklearn_is_fitted__``), and :class:`NotFittedError` has the bases of
scikit-learn's (``ValueError`` and ``AttributeError``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np


class NotFittedError(ValueError, AttributeError):
    """An analysis' results were asked for before ``fit``."""


class Estimator:
    """Mixin: parameters from the ``__init__`` signature, a short ``repr``, fitted state.

    Subclasses store every ``__init__`` parameter as an attribute of the same name. A
    ``**kwargs`` parameter is stored as a dict under its own name (``**signature_params`` in
    ``self.signature_params``) and its entries count as parameters.
    """

    @classmethod
    def _param_signature(cls) -> list[inspect.Parameter]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = [p for name, p in inspect.signature(init).parameters.items() if name != "self"]
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            raise TypeError(f"{cls.__name__}.__init__ takes *args; analyses name every parameter")
        return params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their current values.

        ``type(self)(**self.get_params())`` builds an equal, unfitted analysis. ``deep`` is
        accepted for scikit-learn's ``clone``; nested analyses are returned as they are.
        """
        out: dict[str, Any] = {}
        for p in self._param_signature():
            if p.kind is p.VAR_KEYWORD:
                out.update(getattr(self, p.name, None) or {})
            else:
                out[p.name] = getattr(self, p.name)
        return out

    def set_params(self, **params: Any) -> "Estimator":
        """Set parameters by name (as scikit-learn's ``set_params``); unknown names raise."""
        sig = self._param_signature()
        named = {p.name for p in sig if p.kind is not p.VAR_KEYWORD}
        var_kw = next((p.name for p in sig if p.kind is p.VAR_KEYWORD), None)
        for key, value in params.items():
            if key in named:
                setattr(self, key, value)
            elif var_kw is not None:
                getattr(self, var_kw)[key] = value
            else:
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}; "
                                 f"valid parameters: {', '.join(sorted(named))}")
        return self

    def __repr__(self) -> str:
        shown = []
        for p in self._param_signature():
            if p.kind is p.VAR_KEYWORD:
                shown += [f"{k}={v!r}" for k, v in (getattr(self, p.name, None) or {}).items()]
                continue
            value = getattr(self, p.name)
            if p.default is inspect.Parameter.empty or not _same(value, p.default):
                shown.append(f"{p.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_clone__(self) -> "Estimator":
        # scikit-learn's clone; some analyses normalise a parameter in __init__ (a list of
        # layers, a tuple of float levels), which its default clone refuses
        return type(self)(**self.get_params())

    def __sklearn_is_fitted__(self) -> bool:
        return _has_results(self)

    def __sklearn_tags__(self) -> Any:
        # asked for only by scikit-learn's own tools (>= 1.6), so scikit-learn is loaded by then
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


def check_is_fitted(estimator: Any, attributes: str | list[str] | None = None, *, hint: str = "fit(...)") -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` holds results.

    Parameters
    ----------
    estimator : object
        An analysis.
    attributes : str or list of str, optional
        Result attributes that must all exist; by default any attribute with a trailing
        underscore counts (scikit-learn's rule).
    hint : str
        What to call, named in the message.
    """
    if attributes is None:
        fitted = _has_results(estimator)
    else:
        names = [attributes] if isinstance(attributes, str) else list(attributes)
        fitted = all(hasattr(estimator, a) for a in names)
    if not fitted:
        raise NotFittedError(f"{type(estimator).__name__} is not fitted yet; call {hint} first")


def _has_results(estimator: Any) -> bool:
    return any(k.endswith("_") and not k.startswith("__") for k in vars(estimator))


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(np.all(np.asarray(a, dtype=object) == np.asarray(b, dtype=object)))
    except Exception:  # values that refuse comparison are shown
        return False
