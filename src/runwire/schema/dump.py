"""Objects to the wire form: ``dumpd`` (to JSON-ready data) and ``dumps`` (to text).

User dicts that carry an ``"lc"`` key are escaped as ``{"__lc_escaped__": ...}`` so
they come back as data; values that are not JSON become ``not_implemented`` nodes.
Same object, same bytes: output is deterministic (and sortable with ``sort_keys``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import orjson

from runwire.errors import NotSerializableError
from runwire.schema.ids import id_table
from runwire.schema.nodes import ESCAPE_KEY, escape, needs_escaping, not_implemented_node
from runwire.schema.serializable import Serializable, class_plan

__all__ = ["Dialect", "dumpd", "dumps"]

Dialect = Literal["runwire", "langchain"]
_SCALARS = (str, int, float, bool, type(None))
_KEY_TYPES = (str, int, float, bool, type(None))


def _to_langchain(ident: list[str]) -> list[str]:
    return id_table.langchain_id(ident) or ident


_RENAMERS: dict[str, Callable[[list[str]], list[str]] | None] = {
    "runwire": None,
    "langchain": _to_langchain,
}


def _serialize(obj: Any, rename: Callable[[list[str]], list[str]] | None) -> Any:
    kind = type(obj)
    if kind is str or kind is int or kind is float or kind is bool or obj is None:
        return obj
    if kind is dict:
        return _serialize_dict(obj, rename)
    if kind is list or kind is tuple:
        return [
            item if type(item) is str else _serialize(item, rename)  # strings dominate
            for item in obj
        ]
    if isinstance(obj, Serializable):
        return _serialize_object(obj, rename)
    if isinstance(obj, _SCALARS):  # subclasses of str, int, ...
        return obj
    if isinstance(obj, dict):
        return _serialize_dict(obj, rename)
    if isinstance(obj, list | tuple):
        return [_serialize(item, rename) for item in obj]
    return not_implemented_node(obj)


def _serialize_dict(obj: dict[Any, Any], rename: Callable[[list[str]], list[str]] | None) -> Any:
    if ("lc" in obj or ESCAPE_KEY in obj) and needs_escaping(obj):
        return escape(obj)
    out = {}
    for key, value in obj.items():
        if type(key) is not str and not isinstance(key, _KEY_TYPES):
            return not_implemented_node(obj)
        kind = type(value)
        out[key] = (
            value if kind is str or kind is int or kind is bool else _serialize(value, rename)
        )
    return out


def _serialize_object(obj: Serializable, rename: Callable[[list[str]], list[str]] | None) -> Any:
    node: dict[str, Any] = obj.to_json()  # type: ignore[assignment]
    if rename is not None:
        node["id"] = rename(node["id"])
    if node["type"] == "constructor":
        secrets = class_plan(type(obj)).secrets
        kwargs = node["kwargs"]
        for key, value in kwargs.items():
            kind = type(value)
            if kind is str or kind is int or kind is bool or value is None or key in secrets:
                continue
            kwargs[key] = _serialize(value, rename)
    return node


def dumpd(obj: Any, *, dialect: Dialect = "runwire") -> Any:
    """The wire form of ``obj`` as plain JSON-ready data (dicts, lists, scalars)."""
    try:
        rename = _RENAMERS[dialect]
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}: use 'runwire' or 'langchain'") from None
    return _serialize(obj, rename)


def dumps(
    obj: Any,
    *,
    pretty: bool = False,
    sort_keys: bool = False,
    dialect: Dialect = "runwire",
) -> str:
    """The wire form of ``obj`` as JSON text (2-space indent when ``pretty``)."""
    option = orjson.OPT_NON_STR_KEYS
    if pretty:
        option |= orjson.OPT_INDENT_2
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    data = dumpd(obj, dialect=dialect)
    try:
        return orjson.dumps(data, option=option).decode()
    except TypeError as exc:  # e.g. an int beyond 64 bits, a non-str dict key
        raise NotSerializableError(
            f"cannot write JSON: {exc}",
            hint="keep values to JSON types (str, int within 64 bits, float, bool, None)",
        ) from None
