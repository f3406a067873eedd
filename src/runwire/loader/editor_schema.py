"""The manifest JSON Schema as an editor needs it: the authoring text, before runwire reads it.

``runwire validate`` checks a manifest after reading it: includes spliced in, ``!secret``
turned into a secret node, ``${VAR}`` left for the load. An editor validating the file
as typed (yaml-language-server with ``customTags: ["!secret scalar", "!include
scalar"]``) sees something else, and the published schema (``runwire schema manifest``,
``docs/manifest.schema.json``) accepts what it sees:

- ``!secret NAME`` reads as the string ``NAME``: a secret field also takes a non-empty
  string (:data:`SECRET_TAG`);
- ``!include path.yaml`` reads as the string ``path.yaml``, and ``{_include: path,
  other keys}`` as a mapping: wherever a component goes, and in any field, an include
  path (ending ``.yaml``, ``.yml`` or ``.json``) or an ``_include`` mapping is accepted;
  the fragment itself is checked in its own file;
- ``"${VAR}"`` / ``"${VAR:-default}"`` as a field's whole value is accepted in any field
  (a number field fed by ``"${TEMPERATURE:-0.2}"``): its value is known at load time.

Everything else is the strict schema runwire validates with
(:func:`runwire.schema.manifest_schema.manifest_schema`).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["EDITOR_DEFS", "INCLUDE_PATH_PATTERN", "PLACEHOLDER_PATTERN", "editor_schema"]

PLACEHOLDER_PATTERN = r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$"
"""A string that is one ``${VAR}`` or ``${VAR:-default}`` (the whole value)."""

INCLUDE_PATH_PATTERN = r"\.([Yy][Aa]?[Mm][Ll]|[Jj][Ss][Oo][Nn])$"
"""What ``!include PATH`` reads as in an editor: a path to a YAML or JSON fragment."""

_DEFS = "#/$defs/"
SECRET_TAG = {
    "type": "string",
    "minLength": 1,
    "description": "!secret NAME, as an editor reads it (customTags: '!secret scalar').",
}

EDITOR_DEFS: dict[str, dict[str, Any]] = {
    "Placeholder": {
        "type": "string",
        "pattern": PLACEHOLDER_PATTERN,
        "description": "${VAR} or ${VAR:-default}: the value is read from the environment "
        "when the file is loaded.",
    },
    "IncludePath": {
        "type": "string",
        "pattern": INCLUDE_PATH_PATTERN,
        "description": "!include PATH, as an editor reads it (customTags: '!include scalar'): "
        "a YAML or JSON fragment, relative to this file.",
    },
    "IncludeMerge": {
        "type": "object",
        "required": ["_include"],
        "properties": {"_include": {"type": "string", "minLength": 1}},
        "description": "{_include: PATH, ...}: a fragment with the other keys merged over it.",
    },
    "Indirect": {
        "description": "A value given indirectly: ${VAR}, !include PATH or _include.",
        "anyOf": [
            {"$ref": _DEFS + "Placeholder"},
            {"$ref": _DEFS + "IncludePath"},
            {"$ref": _DEFS + "IncludeMerge"},
        ],
    },
}
"""The definitions the editor schema adds."""

_SHOWN = ("title", "description", "default")
"""Keys an editor shows on hover: kept outside the ``anyOf`` a field is wrapped in."""

_FRAME = frozenset(("Node", "Secret", "AuthoringNode", "WireNode"))
"""Definitions that are not a class's or a helper's fields."""


def _wrapped(prop: Any) -> Any:
    """A field's schema that also takes an indirect value (``{}`` takes anything already).

    ``if`` indirect ``else`` the field's own schema, rather than an ``anyOf``: a wrong
    direct value gets the field's own error (``'big' is not of type 'integer'``).
    """
    if not isinstance(prop, dict) or not prop:
        return prop
    shown = {key: prop[key] for key in _SHOWN if key in prop}
    rest = {key: value for key, value in prop.items() if key not in _SHOWN}
    if not rest:
        return prop
    return {**shown, "if": {"$ref": _DEFS + "Indirect"}, "else": rest}


def _node(strict: dict[str, Any]) -> dict[str, Any]:
    """A component: an include (path or ``_include`` mapping), else the strict Node."""
    return {
        "description": strict.get("description", ""),
        "if": {"type": "string"},
        "then": {"$ref": _DEFS + "IncludePath"},
        "else": {
            "if": {"type": "object", "required": ["_include"]},
            "then": {"$ref": _DEFS + "IncludeMerge"},
            "else": {key: value for key, value in strict.items() if key != "description"},
        },
    }


def editor_schema(strict: dict[str, Any]) -> dict[str, Any]:
    """The editor's version of a strict manifest schema (see the module doc); ``strict``
    is left unchanged."""
    schema = copy.deepcopy(strict)
    defs: dict[str, Any] = schema["$defs"]
    for name, body in defs.items():
        if name in _FRAME or not isinstance(body.get("properties"), dict):
            continue
        body["properties"] = {
            key: value if key == "_type" else _wrapped(value)
            for key, value in body["properties"].items()
        }
    secret = defs["Secret"]
    defs["Secret"] = {
        "description": secret.get("description", ""),
        "if": {"type": "string"},
        "then": SECRET_TAG,
        "else": {k: v for k, v in secret.items() if k != "description"},
    }
    defs["Node"] = _node(defs["Node"])
    defs.update(copy.deepcopy(EDITOR_DEFS))
    schema["description"] = (
        f"{schema.get('description', '')} Read as an editor reads the file, with "
        "customTags ['!secret scalar', '!include scalar']: a tag is its string, "
        "${VAR} values and includes are accepted (runwire validate checks them once read)."
    ).strip()
    return schema
