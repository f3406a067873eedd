"""The manifest JSON Schema (draft 2020-12) of the authoring form, generated from the registry.

:func:`kwargs_schema` turns one class's pydantic fields into the schema of its
constructor kwargs; :func:`manifest_schema` assembles one document from every class in
``id_table`` plus the composition helpers the caller describes.

Shape of the document (``$defs``):

- ``Node``: an object; with ``_type`` it is an authoring node (``AuthoringNode``), with
  ``lc`` a wire node (``WireNode``). Each dispatches on ``_type`` / ``id`` with
  ``if``/``then``, so a validator reports errors inside the matching class.
- ``Secret``: ``{"_secret": NAME}`` or ``{"lc": 1, "type": "secret", "id": [NAME]}``.
- ``<dotted runwire id>`` (``runwire.prompts.PromptTemplate``): a class's kwargs.
- ``<dotted runwire id>:<Name>``: nested non-Serializable models of that class.
- ``helper:<name>``: a helper node (``_type: sequence`` ...).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from pydantic import PydanticUndefinedAnnotation, PydanticUserError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from runwire.schema.ids import id_table
from runwire.schema.serializable import Serializable, class_plan

__all__ = ["NODE_REF", "SECRET_REF", "kwargs_schema", "manifest_schema"]

NODE_REF = "#/$defs/Node"
SECRET_REF = "#/$defs/Secret"
_MARKER = "__runwire_node__"
"""Stands for a Node ref during generation (pydantic insists that refs resolve)."""
_DEFS = "#/$defs/"


class _KwargsGenerator(GenerateJsonSchema):
    """Pydantic's generator, with nodes, callables and unsupported types mapped, never raising.

    - a nested ``Serializable`` model or an is-instance type that is a ``Runnable`` or a
      ``Serializable`` becomes a Node (marked here, turned into ``$ref`` afterwards);
    - callables, other arbitrary types and anything invalid become ``{}``;
    - a NamedTuple also accepts its object form (``{id: ...}``), as pydantic does.
    """

    root: type | None = None

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        cls = schema["cls"]
        if cls is not self.root and isinstance(cls, type) and issubclass(cls, Serializable):
            return {_MARKER: True}
        return super().model_schema(schema)

    def is_instance_schema(self, schema: core_schema.IsInstanceSchema) -> JsonSchemaValue:
        from runwire.runtime.base import Runnable

        cls = schema["cls"]
        if isinstance(cls, type) and issubclass(cls, Runnable | Serializable):
            return {_MARKER: True}
        return {}

    def callable_schema(self, schema: core_schema.CallableSchema) -> JsonSchemaValue:
        return {}

    def handle_invalid_for_json_schema(self, schema: Any, error_info: str) -> JsonSchemaValue:
        return {}

    def emit_warning(self, kind: Any, detail: str) -> None:
        """Defaults that cannot be written as JSON are left out silently."""

    def named_tuple_schema(self, schema: core_schema.NamedTupleSchema) -> JsonSchemaValue:
        as_array = super().named_tuple_schema(schema)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in schema["fields"]:
            properties[field["name"]] = self.generate_inner(field["schema"])
            if field["schema"]["type"] != "default":
                required.append(field["name"])
        as_object: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if required:
            as_object["required"] = required
        return {"anyOf": [as_array, as_object]}


def _walk(value: Any, visit: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """Rebuild a JSON value bottom-up, passing every object through ``visit``."""
    if isinstance(value, dict):
        return visit({k: _walk(v, visit) for k, v in value.items()})
    if isinstance(value, list):
        return [_walk(v, visit) for v in value]
    return value


def _secret_schema(base: Mapping[str, Any], optional: bool) -> dict[str, Any]:
    """The schema of a secret field: a secret node (or null), keeping title and description."""
    kept = {k: base[k] for k in ("title", "description") if k in base}
    if optional:
        return {**kept, "anyOf": [{"$ref": SECRET_REF}, {"type": "null"}]}
    return {**kept, "$ref": SECRET_REF}


def _schema_allows_null(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_schema_allows_null(b) for b in schema.get("anyOf", ()) if isinstance(b, dict))


def _local_refs(value: Any) -> set[str]:
    """The names of the ``#/$defs/...`` refs in a JSON value."""
    found: set[str] = set()

    def visit(obj: dict[str, Any]) -> dict[str, Any]:
        ref = obj.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS):
            found.add(ref[len(_DEFS) :])
        return obj

    _walk(value, visit)
    return found


def _used_defs(top: Any, defs: Mapping[str, Any]) -> dict[str, Any]:
    """The defs reachable from ``top`` (nested models inlined by a patch are dropped)."""
    seen: set[str] = set()
    todo = _local_refs(top)
    while todo:
        name = todo.pop()
        if name not in seen and name in defs:
            seen.add(name)
            todo |= _local_refs(defs[name])
    return {name: body for name, body in defs.items() if name in seen}


def _patch_nested_secret(
    schema: dict[str, Any], parts: list[str], defs: Mapping[str, Any]
) -> dict[str, Any]:
    """Make ``parts`` (a dotted secret below a kwarg) accept a secret node where it is typed."""
    if "$ref" in schema and schema["$ref"].startswith(_DEFS):
        target = defs.get(schema["$ref"][len(_DEFS) :])
        if isinstance(target, dict):
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**copy.deepcopy(target), **rest}
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            branches = [_patch_nested_secret(b, parts, defs) for b in schema[keyword]]
            schema = {**schema, keyword: branches}
    properties = schema.get("properties")
    if isinstance(properties, dict) and parts[0] in properties:
        head, *rest = parts
        if rest:
            patched = _patch_nested_secret(properties[head], rest, defs)
        else:
            patched = _secret_schema(properties[head], _schema_allows_null(properties[head]))
        schema = {**schema, "properties": {**properties, head: patched}}
    return schema


_KWARGS_CACHE: dict[type, dict[str, Any]] = {}


def kwargs_schema(cls: type[Serializable]) -> dict[str, Any]:
    """JSON Schema (draft 2020-12 fragment) of the constructor kwargs of one class.

    An object schema with ``properties`` for every non-excluded field, under its name
    and its alias, and ``required`` for required fields (``allOf``/``anyOf`` of name or
    alias when the field has one). It sets ``additionalProperties`` only for classes with
    ``extra="allow"`` (to ``true``): callers close the others with
    ``unevaluatedProperties: false``. Field values that are nodes are
    ``{"$ref": "#/$defs/Node"}``, secret fields ``{"$ref": "#/$defs/Secret"}`` (or null
    when optional); callables and unsupported types are ``{}``.

    Nested models the class uses are returned under a ``$defs`` key, named
    ``<dotted class id>:<Name>``; the ``$ref``s to them (and to ``Node``/``Secret``)
    point at the document root, so the caller hoists ``$defs`` into its root ``$defs``.
    """
    cached = _KWARGS_CACHE.get(cls)
    if cached is None:
        cached = _KWARGS_CACHE[cls] = _generate(cls)
    return copy.deepcopy(cached)


def _pydantic_schema(cls: type[Serializable]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pydantic's schema of ``cls`` with Node refs in place, and its nested defs renamed."""
    if not cls.__pydantic_complete__:
        cls.model_rebuild()
    generator = _KwargsGenerator(by_alias=False)
    generator.root = cls
    raw = generator.generate(cls.__pydantic_core_schema__, mode="validation")
    prefix = ".".join(class_plan(cls).lc_id)
    defs: dict[str, Any] = raw.pop("$defs", {})
    if "$ref" in raw:  # a self-referencing class: the body sits in $defs
        root_name = raw.pop("$ref")[len(_DEFS) :]
        raw = {**defs.pop(root_name), **raw}
        defs[root_name] = {_MARKER: True}  # its self-references are Nodes
    nodes = {name for name, value in defs.items() if value == {_MARKER: True}}
    renamed = {name: f"{prefix}:{name}" for name in defs if name not in nodes}

    def visit(obj: dict[str, Any]) -> dict[str, Any]:
        ref = obj.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS):
            name = ref[len(_DEFS) :]
            if name in nodes:
                obj = {k: v for k, v in obj.items() if k != "$ref"}
                obj[_MARKER] = True
            elif name in renamed:
                obj = {**obj, "$ref": _DEFS + renamed[name]}
        if _MARKER in obj:
            obj = {k: v for k, v in obj.items() if k != _MARKER}
            obj["$ref"] = NODE_REF
        return obj

    hoisted = {renamed[name]: _walk(body, visit) for name, body in defs.items() if name in renamed}
    return _walk(raw, visit), hoisted


def _generate(cls: type[Serializable]) -> dict[str, Any]:
    plan = class_plan(cls)
    try:
        raw, hoisted = _pydantic_schema(cls)
    except (PydanticUserError, PydanticUndefinedAnnotation) as exc:  # the class cannot build
        return {
            "type": "object",
            "title": cls.__name__,
            "description": f"no kwargs schema: {type(exc).__name__}: {exc}",
            "properties": {},
            "additionalProperties": True,
        }
    generated: dict[str, Any] = raw.get("properties", {})
    required = set(raw.get("required", ()))
    properties: dict[str, Any] = {}
    required_names: list[str] = []
    either: list[dict[str, Any]] = []
    for field in plan.fields:
        if field.exclude or field.name not in generated:
            continue
        prop = generated[field.name]
        if field.secret_id is not None:
            prop = _secret_schema(prop, _schema_allows_null(prop))
        properties[field.name] = prop
        if field.alias is not None:
            properties[field.alias] = copy.deepcopy(prop)
        if field.name in required:
            if field.alias is None:
                required_names.append(field.name)
            else:
                either.append({"anyOf": [{"required": [field.name]}, {"required": [field.alias]}]})
    for top, nested in plan.nested_secrets.items():
        for dotted in nested:
            for key in (top, plan.by_name[top].alias) if top in plan.by_name else (top,):
                if key is not None and key in properties:
                    parts = dotted.split(".")
                    properties[key] = _patch_nested_secret(properties[key], parts, hoisted)
    result: dict[str, Any] = {"type": "object", "title": raw.get("title", cls.__name__)}
    if "description" in raw:
        result["description"] = raw["description"]
    result["properties"] = properties
    if required_names:
        result["required"] = required_names
    if either:
        result["allOf"] = either
    if plan.extra_allowed:
        result["additionalProperties"] = True
    hoisted = _used_defs(properties, hoisted)
    if hoisted:
        result["$defs"] = hoisted
    return result


# -- the manifest schema -----------------------------------------------------------------

_WIRE_KEYS = {
    "lc": {"const": 1},
    "type": {"enum": ["constructor", "not_implemented"]},
    "id": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "kwargs": {"type": "object"},
    "name": {"type": "string"},
    "repr": {"type": ["string", "null"]},
    "graph": {"type": "object"},
}

_SECRET = {
    "description": 'A secret: {"_secret": NAME} (YAML: !secret NAME) or a wire secret node.',
    "type": "object",
    "if": {"required": ["_secret"]},
    "then": {
        "properties": {"_secret": {"type": "string", "minLength": 1}},
        "additionalProperties": False,
    },
    "else": {
        "properties": {
            "lc": {"const": 1},
            "type": {"const": "secret"},
            "id": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "maxItems": 1,
            },
        },
        "required": ["lc", "type", "id"],
        "additionalProperties": False,
    },
}

_NODE = {
    "description": "A component: an authoring node (_type) or a wire node (lc).",
    "type": "object",
    "if": {"required": ["_type"]},
    "then": {"$ref": "#/$defs/AuthoringNode"},
    "else": {
        "if": {"required": ["lc"]},
        "then": {"$ref": "#/$defs/WireNode"},
        "else": {"required": ["_type"]},
    },
}

_MANIFEST_CACHE: dict[tuple[int, bytes], bytes] = {}


def manifest_schema(helpers: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The one JSON Schema of the authoring form, generated from the registry (id_table).

    ``helpers`` maps a helper's ``_type`` name (``sequence`` ...) to the object schema of
    the node's other keys (using ``#/$defs/Node`` refs); ``_type`` is added to it and
    the node is closed with ``unevaluatedProperties: false`` unless the helper schema
    says otherwise. A helper name that is also a class's short name wins over it (the
    class stays reachable by its dotted ids). The result is cached per table version and
    helpers; each call returns a fresh copy.
    """
    from runwire.loader.registry import _load_entry_points

    _load_entry_points()  # classes from the runwire.components entry points, once
    helpers_key = orjson.dumps(helpers or {}, option=orjson.OPT_SORT_KEYS)
    key = (id_table.version, helpers_key)
    cached = _MANIFEST_CACHE.get(key)
    if cached is None:
        schema = _build(helpers or {})
        cached = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
        if len(_MANIFEST_CACHE) >= 8:
            _MANIFEST_CACHE.clear()
        _MANIFEST_CACHE[key] = cached
    return orjson.loads(cached)  # type: ignore[no-any-return]


def _helper_node(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    node = copy.deepcopy(dict(given))
    node.setdefault("type", "object")
    node["properties"] = {**node.get("properties", {}), "_type": {"const": name}}
    node["required"] = sorted({*node.get("required", ()), "_type"})
    if "additionalProperties" not in node and "unevaluatedProperties" not in node:
        node["unevaluatedProperties"] = False
    return node


def _build(helpers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    from runwire.loader.registry import class_for

    defs: dict[str, Any] = {"Node": _NODE, "Secret": _SECRET}
    names: set[str] = set(helpers)
    authoring: list[tuple[list[Any], dict[str, Any]]] = []
    wire: list[tuple[list[Any], dict[str, Any]]] = []
    for helper in sorted(helpers):
        def_name = f"helper:{helper}"
        defs[def_name] = _helper_node(helper, helpers[helper])
        authoring.append(([helper], {"$ref": _DEFS + def_name}))
    for entry in sorted(id_table.entries, key=lambda e: e.id):
        cls = class_for(entry)
        kwargs = kwargs_schema(cls)
        defs.update(kwargs.pop("$defs", {}))
        def_name = ".".join(entry.id)
        defs[def_name] = kwargs
        ref = _DEFS + def_name
        accepted = [def_name, *(".".join(ident) for ident in entry.langchain)]
        taken = id_table.by_name.get(entry.name)
        if entry.name not in helpers and taken is not None and taken.id == entry.id:
            accepted.append(entry.name)
        accepted = sorted(set(accepted) - set(helpers))
        names.update(accepted)
        extras: dict[str, Any] = {"_type": {"enum": accepted}}
        if "name" not in kwargs["properties"]:
            extras["name"] = {"type": "string"}
        node = {"$ref": ref, "properties": extras, "unevaluatedProperties": False}
        authoring.append((accepted, node))
        ids = sorted([list(entry.id), *(list(ident) for ident in entry.langchain)])
        kwargs_node = {"$ref": ref, "unevaluatedProperties": False}
        wire.append((ids, {"properties": {"kwargs": kwargs_node}}))
    defs["AuthoringNode"] = {
        "description": "A node in the compact form: _type names a helper or a class.",
        "type": "object",
        "required": ["_type"],
        "properties": {"_type": {"type": "string", "enum": sorted(names)}},
        "allOf": _dispatch_all("_type", authoring),
    }
    defs["WireNode"] = {
        "description": "A node in LangChain's wire form (constructor or not_implemented).",
        "type": "object",
        "required": ["lc", "type", "id"],
        "properties": _WIRE_KEYS,
        "additionalProperties": False,
        "allOf": _dispatch_all("id", wire, type={"const": "constructor"}),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "runwire manifest",
        "description": (
            "A runwire pipeline in the authoring form (_type nodes, secrets, helpers) or "
            "the lc wire form, mixed freely: one node, or a list of nodes."
        ),
        "if": {"type": "array"},
        "then": {"type": "array", "items": {"$ref": NODE_REF}},
        "else": {"$ref": NODE_REF},
        "$defs": defs,
    }


def _dispatch(key: str, values: list[Any], then: dict[str, Any], **more: Any) -> dict[str, Any]:
    """``if key is one of values (and the ``more`` properties hold) then ...``."""
    condition = {"enum": values} if len(values) > 1 else {"const": values[0]}
    return {
        "if": {"properties": {key: condition, **more}, "required": [key, *more]},
        "then": then,
    }


def _dispatch_all(
    key: str, cases: list[tuple[list[Any], dict[str, Any]]], **more: Any
) -> list[dict[str, Any]]:
    """One ``if``/``then`` per case, in groups of about sqrt(n) behind one ``if`` per group.

    A validator then tries ~2*sqrt(n) conditions per node instead of n (each costs a
    few microseconds in jsonschema); errors still come from inside the matching case.
    """
    size = max(4, math.isqrt(len(cases)) + 1)
    if len(cases) <= size:
        return [_dispatch(key, values, then, **more) for values, then in cases]
    groups = []
    for start in range(0, len(cases), size):
        chunk = cases[start : start + size]
        inner = [_dispatch(key, values, then, **more) for values, then in chunk]
        values = sorted(value for case_values, _ in chunk for value in case_values)
        groups.append(_dispatch(key, values, {"allOf": inner}, **more))
    return groups
