"""A graph file's ``state:``: typed channels with reducers named, never imported.

``{messages: {type: array, reducer: add_messages}, attempts: {type: integer, default: 0,
reducer: add}}`` becomes a TypedDict state schema with ``Annotated`` reducers, the same
thing a LangGraph user writes in Python. ``default`` is what nodes (through ``reads``)
and routes see while a key is unset; the output leaves unset keys out.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from runwire.graph.messages import add_messages

__all__ = ["REDUCERS", "TYPES", "ChannelSpec", "state_schema", "with_defaults"]

TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}
"""JSON Schema type names a channel may declare, and the Python type of each."""


def _merge(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Dict union, the right side winning (``{**left, **right}``)."""
    return {**(left or {}), **(right or {})}


REDUCERS: dict[str, Callable[[Any, Any], Any]] = {
    "add_messages": add_messages,
    "add": operator.add,
    "merge": _merge,
}
"""Reducers a file may name: ``add_messages`` (messages by id), ``add`` (numbers add,
lists concatenate) and ``merge`` (dicts, the update's keys win)."""


class ChannelSpec(BaseModel):
    """One state key: its JSON type, its reducer and its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["string", "integer", "number", "boolean", "array", "object"] | None = None
    """The value's JSON type; any value when absent."""
    reducer: Literal["add_messages", "add", "merge"] | None = None
    """How a step's writes combine with the value; the last write wins when absent."""
    default: Any = None
    """What readers see while the key is unset (``None`` when absent)."""
    description: str | None = Field(default=None, max_length=2000)
    """Shown in the state's JSON Schema."""


def state_schema(name: str, channels: Mapping[str, ChannelSpec]) -> type:
    """The TypedDict state schema of ``channels`` (keys optional, reducers annotated)."""
    fields: dict[str, Any] = {}
    for key, spec in channels.items():
        kind: Any = TYPES[spec.type] if spec.type else Any
        if spec.reducer:
            kind = Annotated[kind, REDUCERS[spec.reducer]]
        fields[key] = kind
    return TypedDict(name, fields, total=False)  # type: ignore[operator]


def with_defaults(state: Mapping[str, Any], channels: Mapping[str, ChannelSpec]) -> dict[str, Any]:
    """``state`` with each unset key at its declared default."""
    out = {
        key: copy.deepcopy(spec.default) if isinstance(spec.default, list | dict) else spec.default
        for key, spec in channels.items()
        if key not in state
    }
    out.update(state)
    return out
