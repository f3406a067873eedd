"""Objects to the wire form: ``dumpd`` (to JSON-ready data) and ``dumps`` (to text).

User dicts that carry an ``"lc"`` key are escaped as ``{"__lc_escaped__": ...}`` so
they come back as data; values that are not JSON become ``not_implemented`` nodes.
Same object, same bytes: output is deterministic (and sortable with ``sort_keys``).

A secret is written as a secret node under the name it was loaded with
(:class:`~runwire.schema.named_secret.NamedSecret`: ``!secret PROD_AWS_SECRET`` stays
``PROD_AWS_SECRET``) in runwire's dialect; otherwise, and always in the ``langchain``
dialect, under the field's own secret id (``AWS_SECRET_ACCESS_KEY``), as LangChain does.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Literal
from uuid import UUID

import orjson

from runwire.errors import NotSerializableError
from runwire.schema.ids import id_table
from runwire.schema.named_secret import secret_id_of
from runwire.schema.nodes import (
    ESCAPE_KEY,
    escape,
    needs_escaping,
    not_implemented_node,
    secret_node,
)
from runwire.schema.serializable import (
    ClassPlan,
    Serializable,
    _replace_secrets,
    class_plan,
)

__all__ = ["Dialect", "dumpd", "dumps"]

Dialect = Literal["runwire", "langchain"]
_SCALARS = (str, int, float, bool, type(None))
_KEY_TYPES = (str, int, float, bool, type(None))


def _to_langchain(ident: list[str]) -> list[str]:
    return id_table.langchain_id(ident) or ident


def _langchain_not_implemented(obj: Serializable, node: dict[str, Any]) -> dict[str, Any] | None:
    """The not_implemented node LangChain writes for ``obj``'s class, if it writes one."""
    ident = id_table.langchain_not_implemented(node["id"])
    if ident is None:
        return None
    out: dict[str, Any] = {"lc": 1, "type": "not_implemented", "id": ident, "repr": repr(obj)}
    get_name = getattr(obj, "get_name", None)
    if callable(get_name):
        out["name"] = get_name()
    return out


_RENAMERS: dict[str, Callable[[list[str]], list[str]] | None] = {
    "runwire": None,
    "langchain": _to_langchain,
}


def _author_secret_names(obj: Serializable, plan: ClassPlan, kwargs: dict[str, Any]) -> None:
    """Secret nodes of ``kwargs`` renamed to the names ``obj``'s values were loaded with."""
    values = obj.__dict__
    for key in plan.secrets:
        node = kwargs.get(key)
        if type(node) is dict and node.get("type") == "secret":
            name = secret_id_of(values.get(key))
            if name is not None and node.get("id") != [name]:
                kwargs[key] = secret_node(name)


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
    if isinstance(obj, Enum):
        return _serialize(obj.value, rename)
    if isinstance(obj, UUID):
        return str(obj)
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
        stub = _langchain_not_implemented(obj, node)
        if stub is not None:
            return stub
        node["id"] = rename(node["id"])
        _drop_runwire_only(obj, node)
    if node["type"] == "constructor":
        plan = class_plan(type(obj))
        secrets = plan.secrets
        kwargs = node["kwargs"]
        if secrets and rename is None:
            _author_secret_names(obj, plan, kwargs)
        for key, value in kwargs.items():
            kind = type(value)
            if kind is str or kind is int or kind is bool or value is None or key in secrets:
                continue
            kwargs[key] = _serialize(value, rename)
        if plan.nested_secrets:  # secret nodes inside a kwarg: back after escaping user dicts
            dotted = {k: v for k, v in secrets.items() if "." in k}
            node["kwargs"] = _replace_secrets(kwargs, dotted)
    return node


def _drop_runwire_only(obj: Serializable, node: dict[str, Any]) -> None:
    """The ``langchain`` dialect leaves out the kwargs LangChain never writes."""
    kwargs = node.get("kwargs")
    if kwargs:
        for key in type(obj).lc_runwire_only_fields:
            kwargs.pop(key, None)


def dumpd(obj: Any, *, dialect: Dialect = "runwire") -> Any:
    """The wire form of ``obj`` as plain JSON-ready data (dicts, lists, scalars)."""
    try:
        rename = _RENAMERS[dialect]
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}: use 'runwire' or 'langchain'") from None
    return _serialize(obj, rename)


class _Fallback(Exception):
    """The fast path met something only the exact path handles."""


class _FastDump:
    """orjson walks the data natively; this hook turns runwire objects into nodes.

    It counts the nodes it emits. If the output holds exactly that many ``"lc":`` keys
    and no escape key, no user dict needed escaping and the bytes equal the exact
    path's; otherwise ``dumps`` redoes the work on the exact path.
    """

    __slots__ = ("nodes", "plans", "rename")

    def __init__(self, rename: Callable[[list[str]], list[str]] | None) -> None:
        self.rename = rename
        self.nodes = 0
        self.plans: dict[type, Any] = {}
        """Class -> its plan, or None for a class that is not Serializable (the
        isinstance check through pydantic's ABC metaclass, once per class and call)."""

    def __call__(self, obj: Any) -> Any:
        cls = type(obj)
        if cls in self.plans:
            plan = self.plans[cls]
        else:
            plan = self.plans[cls] = class_plan(cls) if isinstance(obj, Serializable) else None
        if plan is None:
            if isinstance(obj, _SCALARS | dict | list | tuple):  # subclasses: exact path
                raise _Fallback
            self.nodes += 1
            return not_implemented_node(obj)
        node: dict[str, Any] = obj.to_json()  # type: ignore[assignment]
        self.nodes += 1
        if self.rename is not None:
            stub = _langchain_not_implemented(obj, node)
            if stub is not None:
                return stub
            node["id"] = self.rename(node["id"])
            _drop_runwire_only(obj, node)
        if node["type"] == "constructor":
            if plan.nested_secrets:  # the exact path places nested secret nodes
                raise _Fallback
            if plan.secrets:
                kwargs = node["kwargs"]
                if self.rename is None:
                    _author_secret_names(obj, plan, kwargs)
                for key in plan.secrets:
                    value = kwargs.get(key)
                    if type(value) is dict and value.get("type") == "secret":
                        self.nodes += 1
        return node


_FAST_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _dumps_fast(
    obj: Any, option: int, rename: Callable[[list[str]], list[str]] | None
) -> bytes | None:
    hook = _FastDump(rename)
    try:
        out = orjson.dumps(obj, default=hook, option=option | _FAST_OPTIONS)
    except (_Fallback, TypeError, orjson.JSONEncodeError):
        return None
    if out.count(b'"lc":') != hook.nodes or b'"__lc_escaped__":' in out:
        return None
    return out


def dumps(
    obj: Any,
    *,
    pretty: bool = False,
    sort_keys: bool = False,
    dialect: Dialect = "runwire",
) -> str:
    """The wire form of ``obj`` as JSON text (2-space indent when ``pretty``)."""
    option = 0
    if pretty:
        option |= orjson.OPT_INDENT_2
    if sort_keys:
        option |= orjson.OPT_SORT_KEYS
    try:
        rename = _RENAMERS[dialect]
    except KeyError:
        raise ValueError(f"unknown dialect {dialect!r}: use 'runwire' or 'langchain'") from None
    fast = _dumps_fast(obj, option, rename)
    if fast is not None:
        return fast.decode()
    data = _serialize(obj, rename)
    try:
        return orjson.dumps(data, option=option | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError as exc:  # e.g. an int beyond 64 bits, a non-str dict key
        raise NotSerializableError(
            f"cannot write JSON: {exc}",
            hint="keep values to JSON types (str, int within 64 bits, float, bool, None)",
        ) from None
