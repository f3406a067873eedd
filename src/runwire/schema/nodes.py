"""The lc v1 node shapes (constructor / secret / not_implemented) and user-dict escaping.

These are LangChain's wire shapes, byte for byte: ``{"lc": 1, "type": ..., "id": [...]}``.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "ESCAPE_KEY",
    "SerializedConstructor",
    "SerializedNotImplemented",
    "SerializedSecret",
    "escape",
    "is_escaped",
    "needs_escaping",
    "node_kind",
    "not_implemented_node",
    "secret_node",
]

ESCAPE_KEY = "__lc_escaped__"
NodeKind = Literal["constructor", "secret", "not_implemented"]
NODE_KINDS: frozenset[str] = frozenset(("constructor", "secret", "not_implemented"))


class _BaseSerialized(TypedDict):
    lc: int
    id: list[str]
    name: NotRequired[str]
    graph: NotRequired[dict[str, Any]]


class SerializedConstructor(_BaseSerialized):
    """``{"lc": 1, "type": "constructor", "id": [...], "kwargs": {...}}``."""

    type: Literal["constructor"]
    kwargs: dict[str, Any]


class SerializedSecret(_BaseSerialized):
    """``{"lc": 1, "type": "secret", "id": ["ENV_NAME"]}``."""

    type: Literal["secret"]


class SerializedNotImplemented(_BaseSerialized):
    """``{"lc": 1, "type": "not_implemented", "id": [...], "repr": "..."}``."""

    type: Literal["not_implemented"]
    repr: str | None


def secret_node(secret_id: str) -> SerializedSecret:
    """The node that stands for a secret; it never holds the value."""
    return {"lc": 1, "type": "secret", "id": [secret_id]}


def not_implemented_node(obj: object) -> SerializedNotImplemented:
    """Describe an object that cannot be serialized (LangChain's ``to_json_not_implemented``)."""
    ident: list[str] = []
    try:
        if hasattr(obj, "__name__"):
            ident = [*obj.__module__.split("."), obj.__name__]  # type: ignore[attr-defined]
        else:
            cls = type(obj)
            ident = [*cls.__module__.split("."), cls.__name__]
    except Exception:  # a broken __module__ must not stop the dump
        ident = []
    text: str | None
    try:
        text = repr(obj)
    except Exception:
        text = None
    return {"lc": 1, "type": "not_implemented", "id": ident, "repr": text}


def node_kind(value: dict[str, Any]) -> str | None:
    """``"constructor"``/``"secret"``/``"not_implemented"`` for an lc node, else ``None``."""
    if value.get("lc") == 1 and value.get("id") is not None:
        kind = value.get("type")
        if kind in NODE_KINDS:
            return kind  # type: ignore[return-value]
    return None


def needs_escaping(value: dict[Any, Any]) -> bool:
    """A user dict must be escaped if it could be read as an lc node or an escape."""
    return "lc" in value or (len(value) == 1 and ESCAPE_KEY in value)


def escape(value: dict[Any, Any]) -> dict[str, Any]:
    """Wrap a user dict so that it is read back as data, never instantiated."""
    return {ESCAPE_KEY: value}


def is_escaped(value: dict[Any, Any]) -> bool:
    """True for ``{"__lc_escaped__": ...}``."""
    return len(value) == 1 and ESCAPE_KEY in value
