"""One algebra for everything that scores images: units and feature-visualisation objectives.

As in lucent, objectives compose like the maths: ``channel("layer3", 5) - 0.1 * diversity("layer3")``.
Units compose the same way: ``unit_a - 0.5 * unit_b`` is a unit that an evolution maximises
(:class:`landscape.units.UnitCombination`) and that feature visualisation renders (as the
objective of its clean response). Mixing the two families gives an objective:
``featviz.channel("layer3", 5) - 0.5 * unit_b``.

:class:`Combinable` supplies ``+``, ``-``, unary ``-``, ``*`` and ``/`` by a real number, and
``sum()`` (which starts from 0). Every result is a flat weighted sum ``sum_k w_k * term_k``,
so ``repr`` reads back as the expression. A family (units, objectives) says how to build its
weighted sum (:meth:`Combinable._combine`) and which other values join it
(:meth:`Combinable._coerce`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

Terms = tuple[tuple[float, Any], ...]


class Combinable:
    """Mixin: the linear algebra of scoring things, as flat weighted sums of terms."""

    def _terms(self) -> Terms:
        """``((weight, term), ...)`` of this value: itself with weight 1 unless it is a sum."""
        return ((1.0, self),)

    def _combine(self, terms: Terms) -> Combinable:
        """The family's weighted sum of ``terms``."""
        raise NotImplementedError

    def _coerce(self, other: Any) -> Combinable | None:
        """``other`` as a member of this family, or None when it does not join it."""
        return None

    def __add__(self, other: Any) -> Any:
        if _is_zero(other):
            return self  # lets the builtin sum() start from 0
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._combine(self._terms() + o._terms())

    def __radd__(self, other: Any) -> Any:
        if _is_zero(other):
            return self
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._combine(o._terms() + self._terms())

    def __mul__(self, other: Any) -> Any:
        if not _is_number(other):
            return NotImplemented
        if not math.isfinite(float(other)):
            raise ValueError(f"weights must be finite numbers, got {other!r}")
        return self._combine(tuple((float(other) * w, t) for w, t in self._terms()))

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        if not _is_number(other):
            return NotImplemented
        if other == 0:
            raise ZeroDivisionError(f"cannot divide {type(self).__name__} by zero")
        return self * (1.0 / float(other))

    def __neg__(self) -> Any:
        return self * -1.0

    def __sub__(self, other: Any) -> Any:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self + (-o)

    def __rsub__(self, other: Any) -> Any:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return o + (-self)


def format_terms(terms: Terms, show: Callable[[Any], str] = repr) -> str:
    """``2*a - b``: a weighted sum written as the expression (weight 1 is not written)."""
    parts = []
    for i, (w, t) in enumerate(terms):
        mag = abs(w)
        text = show(t) if mag == 1 else f"{mag:g}*{show(t)}"
        if i == 0:
            parts.append("-" + text if w < 0 else text)
        else:
            parts.append(f" {'-' if w < 0 else '+'} {text}")
    return "".join(parts)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_zero(x: Any) -> bool:
    return _is_number(x) and x == 0
