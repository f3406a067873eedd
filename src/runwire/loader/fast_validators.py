"""pydantic-core validators for the loader's fast path (:mod:`runwire.loader.fast_load`).

A class's fast validator is its own core schema with the Python field validators that
have a schema-level equivalent replaced by it, so that validating a message calls no
Python. Each replacement accepts a subset of what the class's own validator accepts and
gives the same value there; anything else fails and the loader hands the node to the
walker, which uses the class's own validator. The rewrites are one table, keyed by the
validator function:

- ``AIMessage._tag_calls`` (after, on ``tool_calls`` / ``invalid_tool_calls``) sets each
  call's ``type`` tag: the call's typed dict gets that tag as the default of its ``type``
  key. pydantic-core writes a typed dict's keys in field order, which is where the Python
  validator puts the tag (last in a tool call, first in an invalid one); calls with keys
  of their own (where the Python validator would put the tag after them) are refused.
- ``ToolMessage._coerce_content`` and ``ToolMessage._coerce_id`` (before) turn numbers
  and other non-text values into text: dropped, so only text (and content blocks) pass.

Besides the table, a ``dict[str, Any]`` field takes the parsed JSON object itself rather
than a copy (an ``is-instance`` check): the fast path only ever validates data orjson
has just parsed, whose objects are plain dicts with text keys that nothing else holds.

Watch for: pydantic-core reuses a *finished* model class's own validator wherever a
schema names that class (a ``model`` schema whose ``cls`` has ``__pydantic_complete__``
in its ``__dict__``), so a rewritten schema handed to ``SchemaValidator`` as is would be
silently ignored. :func:`_compile` marks the class unfinished while it builds (under a
lock, restored at once); ``tests/test_loads_fast_path.py`` locks both facts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pydantic_core import SchemaValidator

__all__ = ["fast_list_validator", "fast_validator", "rewrite_schema"]

Schema = dict[str, Any]
Rewrite = Callable[[Schema, str], Schema]

_LOCK = threading.Lock()
_CACHE: dict[type, Callable[[Any], Any]] = {}
_LIST_CACHE: dict[type, Callable[[Any], Any]] = {}
_CALL_TAGS = {"tool_calls": "tool_call", "invalid_tool_calls": "invalid_tool_call"}


def _tag_default(node: Schema, field: str) -> Schema:
    """``function-after(_tag_calls, list[TypedDict])`` -> ``list[TypedDict]`` whose
    ``type`` key defaults to the field's tag, extra keys forbidden."""
    inner = dict(node["schema"])
    if inner.get("type") != "list":
        raise LookupError("tool calls are not a list schema")
    items = dict(inner["items_schema"])
    fields = dict(items["fields"])
    tag_field = dict(fields["type"])
    tag_field["schema"] = {
        "type": "default",
        "schema": tag_field["schema"],
        "default": _CALL_TAGS[field],
    }
    tag_field["required"] = False
    fields["type"] = tag_field
    items["fields"] = fields
    items["extra_behavior"] = "forbid"
    items.pop("ref", None)  # a private copy: never the shared definition
    inner["items_schema"] = items
    return inner


def _drop(node: Schema, field: str) -> Schema:
    """``function-before(f, inner)`` -> ``inner``: for a coercion that leaves every value
    ``inner`` accepts as it is."""
    return node["schema"]  # type: ignore[no-any-return]


def _rewrites() -> dict[Any, Rewrite]:
    """The table: validator function -> its schema-level replacement."""
    from runwire.schema.messages import AIMessage, ToolMessage

    return {
        AIMessage._tag_calls.__func__: _tag_default,  # type: ignore[attr-defined]
        ToolMessage._coerce_content.__func__: _drop,  # type: ignore[attr-defined]
        ToolMessage._coerce_id.__func__: _drop,  # type: ignore[attr-defined]
    }


_ANY_KEY = frozenset(("any", "str"))


def _json_object(node: Schema) -> bool:
    """Whether ``node`` is ``dict[str, Any]`` (or ``dict``) with nothing else to it."""
    keys = node.get("keys_schema", {"type": "any"})
    values = node.get("values_schema", {"type": "any"})
    return (
        set(node) <= {"type", "keys_schema", "values_schema"}
        and set(keys) == {"type"}
        and keys["type"] in _ANY_KEY
        and values == {"type": "any"}
    )


def _rewrite(node: Any, field: str, table: dict[Any, Rewrite], hits: list[str]) -> Any:
    if type(node) is list:
        return [_rewrite(item, field, table, hits) for item in node]
    if type(node) is not dict:
        return node
    kind = node.get("type")
    if kind == "dict" and _json_object(node):
        hits.append(field)  # a parsed JSON object is one already: taken as it is, not copied
        return {"type": "is-instance", "cls": dict}
    if kind in ("function-after", "function-before"):
        fn = node["function"]["function"]
        rewrite = table.get(getattr(fn, "__func__", fn))
        if rewrite is not None:
            hits.append(field)
            return _rewrite(rewrite(node, field), field, table, hits)
    if kind == "model-fields":
        out = dict(node)
        out["fields"] = {
            name: _rewrite(spec, name, table, hits) for name, spec in node["fields"].items()
        }
        return out
    return {key: _rewrite(value, field, table, hits) for key, value in node.items()}


def rewrite_schema(cls: type) -> tuple[Schema, list[str]]:
    """``cls``'s core schema with the table's validators replaced, and the fields where."""
    schema = cls.__pydantic_core_schema__  # type: ignore[attr-defined]
    if schema.get("type") != "model":
        return schema, []
    hits: list[str] = []
    out = dict(schema)
    out["schema"] = _rewrite(schema["schema"], "", _rewrites(), hits)
    return out, hits


def _compile(cls: type, schema: Schema, config: Any = None) -> SchemaValidator:
    """A validator of ``schema`` itself, even though it names the finished class ``cls``."""
    with _LOCK:
        complete = cls.__dict__.get("__pydantic_complete__", False)
        cls.__pydantic_complete__ = False  # type: ignore[attr-defined]
        try:
            return SchemaValidator(schema, config or schema.get("config"))  # type: ignore[arg-type]
        finally:
            cls.__pydantic_complete__ = complete  # type: ignore[attr-defined]


def fast_validator(cls: type) -> Callable[[Any], Any]:
    """``validate_python`` of ``cls``'s fast validator (its own when nothing is rewritten)."""
    found = _CACHE.get(cls)
    if found is not None:
        return found
    own = cls.__pydantic_validator__  # type: ignore[attr-defined]
    if not cls.__dict__.get("__pydantic_complete__", False):
        cls.model_rebuild()  # type: ignore[attr-defined]  # defer_build: build it now
        own = cls.__pydantic_validator__  # type: ignore[attr-defined]
    validate = own.validate_python
    try:
        schema, hits = rewrite_schema(cls)
        if hits:
            validate = _compile(cls, schema).validate_python
    except Exception:  # a schema shape the table does not know: the class's own validator
        validate = own.validate_python
    _CACHE[cls] = validate
    return validate


def fast_list_validator(cls: type) -> Callable[[Any], Any]:
    """``validate_python`` of a list of ``cls``'s kwargs dicts: one pydantic-core call for
    many objects, each validated as by :func:`fast_validator`."""
    found = _LIST_CACHE.get(cls)
    if found is not None:
        return found
    fast_validator(cls)  # builds the class
    schema, hits = rewrite_schema(cls)
    if not hits:
        schema = cls.__pydantic_core_schema__  # type: ignore[attr-defined]
    listed = {"type": "list", "items_schema": schema}
    if hits:
        validate = _compile(cls, listed, schema.get("config")).validate_python
    else:  # the class's own validator, reused by pydantic-core
        validate = SchemaValidator(listed, schema.get("config")).validate_python  # type: ignore[arg-type]
    _LIST_CACHE[cls] = validate
    return validate
