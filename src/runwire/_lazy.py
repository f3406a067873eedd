"""Lazy package attributes: public names imported from their modules on first use."""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # keep collections.abc and typing off the import path
if TYPE_CHECKING:
    from collections.abc import Callable


def lazy_exports(
    package: str, namespace: dict[str, object], exports: dict[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``.

    ``exports`` maps a public name to the module defining it, absolute (``runwire.x``)
    or relative to the package (``.sequence``). A resolved name is cached in the
    package's ``namespace`` so later lookups are plain attribute reads.
    """

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*exports, *namespace.get("__all__", ())})  # type: ignore[arg-type]

    return __getattr__, __dir__
