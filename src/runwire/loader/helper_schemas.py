"""JSON Schemas of the authoring helpers (``_type: sequence`` ...), for the manifest schema.

Helpers that only rename or restructure keys get a hand-written shape; the others take
their class's kwargs schema, with the helper's renamed keys accepted too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from runwire.loader.authoring import HELPERS
from runwire.loader.registry import class_for, lookup

__all__ = ["helper_schemas"]

NODE = {"$ref": "#/$defs/Node"}
NAME = {"type": "string", "description": "The runnable's name (runs, traces, events)."}
STEP = {
    "if": {
        "anyOf": [
            {"type": "string"},  # an editor's !include: the Node says what it accepts
            {
                "type": "object",
                "anyOf": [
                    {"required": ["_type"]},
                    {"required": ["lc"]},
                    {"required": ["_include"]},
                ],
            },
        ]
    },
    "then": NODE,
    "else": {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": NODE,
        "description": "A mapping of runnables: a parallel of them (LCEL's dict coercion).",
    },
}
BRANCHES = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": STEP,
    "description": "Output key -> the runnable computing it from the input.",
}

_SHAPES: dict[str, dict[str, Any]] = {
    "sequence": {
        "type": "object",
        "description": "Steps run in order, each one's output the next one's input.",
        "properties": {
            "steps": {"type": "array", "minItems": 2, "items": STEP},
            "name": NAME,
        },
        "required": ["steps"],
    },
    "parallel": {
        "type": "object",
        "description": "Every branch runs on the same input; the output maps names to results.",
        "properties": {"branches": BRANCHES, "name": NAME},
        "required": ["branches"],
    },
    "assign": {
        "type": "object",
        "description": "The input mapping plus the keys its branches compute.",
        "properties": {"branches": BRANCHES, "name": NAME},
        "required": ["branches"],
    },
}


@cache
def _from_class(name: str) -> dict[str, Any]:
    from runwire.schema.manifest_schema import kwargs_schema

    helper = HELPERS[name]
    entry = lookup(helper.ident)
    assert entry is not None, f"helper {name} names an unregistered class"
    schema = kwargs_schema(class_for(entry))
    if schema.get("$defs"):
        raise RuntimeError(f"helper {name}: its class schema needs nested $defs")
    schema.pop("$defs", None)
    properties = schema.setdefault("properties", {})
    for key, wire in helper.renames.items():
        if wire in properties:
            properties[key] = properties[wire]
    if "required" in schema:
        schema["required"] = [k for k in schema["required"] if k not in helper.defaults]
    return schema


def helper_schemas() -> dict[str, dict[str, Any]]:
    """Helper ``_type`` name -> object schema of the node's other keys."""
    return {name: _SHAPES.get(name) or _from_class(name) for name in HELPERS}
