"""State schemas: what keys a state has and how each key combines writes.

A schema is a TypedDict, a pydantic model or a dataclass. ``Annotated[type, reducer]``
gives a key a reducer (``reducer(current, update) -> new``); other keys keep the last
value written. A reducer key starts as ``type()`` when that works (``[]`` for lists).
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from functools import lru_cache
from typing import Any, get_args, get_origin, get_type_hints

from runwire.graph.channels import MISSING, BaseChannel, BinaryOperatorAggregate, LastValue

__all__ = ["SchemaInfo", "object_updates", "schema_info"]


def _is_pydantic(schema: Any) -> bool:
    return isinstance(schema, type) and hasattr(schema, "model_fields")


@lru_cache(maxsize=256)
def _attribute_keys(cls: type) -> tuple[str, ...]:
    """The state keys an object of ``cls`` may carry: a pydantic model's fields, a
    dataclass's fields, else the annotations along the class's MRO."""
    if _is_pydantic(cls):
        return tuple(cls.model_fields)  # type: ignore[attr-defined]
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    keys: list[str] = []
    for base in reversed(cls.__mro__):
        keys.extend(k for k in inspect.get_annotations(base) if k not in keys)
    return tuple(keys)


def object_updates(value: Any) -> dict[str, Any] | None:
    """A state-like object (pydantic model, dataclass, annotated class) as updates, by
    LangGraph's rule: each key whose value is not ``None``, or whose default is not
    ``None``, or (a pydantic model) that was set explicitly. ``None`` for other objects
    (and for classes)."""
    if isinstance(value, type):
        return None
    keys = _attribute_keys(type(value))
    if not keys:
        return None
    fields = getattr(type(value), "model_fields", None)
    explicit = value.model_fields_set if fields is not None else ()
    out = {}
    for key in keys:
        item = getattr(value, key, MISSING)
        if item is MISSING:
            continue
        if item is None and fields is not None:
            default = fields[key].default if key in fields else MISSING
            if default is None and key not in explicit:
                continue
        out[key] = item
    return out


def _hints(schema: Any) -> dict[str, Any]:
    if _is_pydantic(schema):
        out = {}
        for name, info in schema.model_fields.items():
            ann = info.annotation
            if info.metadata:
                ann = typing.Annotated[(ann, *info.metadata)]
            out[name] = ann
        return out
    if schema is None or schema is Any:
        return {}
    try:
        return get_type_hints(schema, include_extras=True)
    except TypeError:
        return {}


def _reducer(annotation: Any) -> Callable[[Any, Any], Any] | None:
    if get_origin(annotation) is not typing.Annotated:
        return None
    for meta in reversed(annotation.__metadata__):
        if callable(meta) and not isinstance(meta, type):
            try:
                params = list(inspect.signature(meta).parameters.values())
            except (TypeError, ValueError):
                return meta
            positional = [
                p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            if len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params):
                return meta
    return None


def _default(annotation: Any) -> Any:
    base = get_args(annotation)[0] if get_origin(annotation) is typing.Annotated else annotation
    origin = get_origin(base) or base
    if isinstance(origin, type) and origin in (list, dict, set, tuple, str, int, float):
        return origin
    return MISSING


def _channel(key: str, annotation: Any) -> BaseChannel:
    reducer = _reducer(annotation)
    if reducer is None:
        return LastValue(key)
    return BinaryOperatorAggregate(reducer, key, _default(annotation))


class SchemaInfo:
    """One schema's keys, channels and how to hand state to a node in its form."""

    __slots__ = ("channels", "keys", "kind", "schema")

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        hints = _hints(schema)
        self.keys: tuple[str, ...] = tuple(hints)
        self.channels: dict[str, BaseChannel] = {k: _channel(k, a) for k, a in hints.items()}
        if _is_pydantic(schema):
            self.kind = "pydantic"
        elif dataclasses.is_dataclass(schema):
            self.kind = "dataclass"
        else:
            self.kind = "dict"

    def coerce(self, values: dict[str, Any]) -> Any:
        """State values (a dict of this schema's keys) in the schema's own form."""
        if self.kind == "dict":
            return values
        return self.schema(**values)

    def to_updates(self, value: Any) -> dict[str, Any] | None:
        """A node's return value as a dict of updates (``None`` when it is not state-like)."""
        if isinstance(value, dict):
            return value
        return object_updates(value)

    def json_schema(self, title: str) -> dict[str, Any]:
        """JSON Schema of this schema, as pydantic writes it (LangGraph's shape)."""
        from pydantic import TypeAdapter

        if self.kind == "pydantic":
            return self.schema.model_json_schema()
        try:
            return TypeAdapter(self.schema).json_schema()
        except Exception:  # typing.TypedDict on Python < 3.12: rebuild it for pydantic
            import typing_extensions

            hints = _hints(self.schema)
            required = getattr(self.schema, "__required_keys__", frozenset(hints))
            fields = {
                k: v if k in required else typing_extensions.NotRequired[v]
                for k, v in hints.items()
            }
            name = getattr(self.schema, "__name__", title)
            return TypeAdapter(typing_extensions.TypedDict(name, fields)).json_schema()  # type: ignore[operator]


@lru_cache(maxsize=256)
def schema_info(schema: Any) -> SchemaInfo:
    """The (cached) ``SchemaInfo`` of a schema."""
    return SchemaInfo(schema)
