"""Names a package exports without importing them until first use, declared as plain imports.

A package that must stay light to import (``landscape.maps``: reading a map needs neither torch
nor scipy; ``landscape.exercises``: a notebook imports it before ``notebook_setup`` has chosen
torch's threads) writes its exports as ordinary imports under ``if TYPE_CHECKING:``, which is what
static tools read (type checkers, import-linter), and resolves the same names at run time::

    if TYPE_CHECKING:
        from landscape.maps.tuning_map import TuningMap

    __getattr__, __dir__, __all__ = lazy_exports(__name__, __file__, globals())

so the table of names is written once.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any, Callable


def lazy_exports(package: str, init_file: str, namespace: dict[str, Any]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for the names imported under ``TYPE_CHECKING``.

    Parameters
    ----------
    package : the package's ``__name__``
    init_file : its ``__file__``
    namespace : its ``globals()`` (for ``__dir__``)
    """
    tree = ast.parse(Path(init_file).read_text())
    blocks = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    if len(blocks) != 1:
        raise RuntimeError(f"{package} needs one `if TYPE_CHECKING:` block of imports, found {len(blocks)}")
    table = {}
    for node in blocks[0].body:
        if not isinstance(node, ast.ImportFrom) or node.level:
            raise RuntimeError(f"{package}: only absolute `from X import Y` lines belong in its TYPE_CHECKING block")
        table.update({a.asname or a.name: node.module for a in node.names})

    def __getattr__(name: str) -> Any:
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__, sorted(table)
