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
from runwire.schema.nodes import escape, needs_escaping, not_implemented_node
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
    if isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, Serializable):
        return _serialize_object(obj, rename)
    if isinstance(obj, dict):
        if not all(isinstance(k, _KEY_TYPES) for k in obj):
            return not_implemented_node(obj)
        if needs_escaping(obj):
            return escape(obj)
        return {k: _serialize(v, rename) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_serialize(item, rename) for item in obj]
    return not_implemented_node(obj)


def _serialize_object(obj: Serializable, rename: Callable[[list[str]], list[str]] | None) -> Any:
    node: dict[str, Any] = dict(obj.to_json())
    if rename is not None:
        node["id"] = rename(node["id"])
    if node.get("type") == "constructor":
        secrets = class_plan(type(obj)).secrets
        node["kwargs"] = {
            k: v if k in secrets else _serialize(v, rename) for k, v in node["kwargs"].items()
        }
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
