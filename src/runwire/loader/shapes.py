"""Shapes: what a JSON Schema (or a schema model's annotations) says about a value at its
top level, whether one shape is accepted where another is needed, and how to say so.

Used by :mod:`runwire.loader.checks`. Conservative on purpose: an unknown shape accepts
and gives anything, and an object lacks a key only when all its keys are known.
"""

from __future__ import annotations

import collections.abc as abc
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import NoneType, UnionType
from typing import Any

from pydantic import BaseModel, RootModel

__all__ = [
    "ObjectShape",
    "Rules",
    "Shape",
    "closest_missing",
    "compatible",
    "describe",
    "is_dict",
    "json_shape",
    "model_shape",
    "quoted_keys",
]


# -- shapes: what a schema says about a value, at the top level --------------------------
# A shape is None (unknown: anything), a _Type, an ObjectShape or a _Union of the two.
@dataclass(frozen=True, slots=True, eq=False)
class _Type:
    name: str  # a JSON type other than "object"


@dataclass(frozen=True, slots=True, eq=False)
class ObjectShape:
    model: str | None  # the model class (a $defs name); None for a plain dict
    props: dict[str, Callable[[], Shape]] | None  # key -> its shape, computed on demand
    required: frozenset[str]
    open: bool  # other keys allowed

    @property
    def closed(self) -> bool:
        """All keys known: a model instance's fields, or a dict with fixed properties."""
        return self.props is not None and (self.model is not None or not self.open)


@dataclass(frozen=True, slots=True, eq=False)
class _Union:
    members: tuple[_Type | ObjectShape, ...]


Shape = _Type | ObjectShape | _Union | None
_SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string", NoneType: "null"}


def _literal(value: Any) -> _Type:
    name = _SCALARS.get(type(value))
    if name is None:
        raise TypeError(f"no JSON type for {value!r}")
    return _Type(name)


def _union(shapes: list[Shape]) -> Shape:
    members: list[_Type | ObjectShape] = []
    for shape in shapes:
        if shape is None:
            return None
        for member in shape.members if isinstance(shape, _Union) else (shape,):
            names = {m.name for m in members if isinstance(m, _Type)}
            if not (isinstance(member, _Type) and member.name in names):
                members.append(member)
    return members[0] if len(members) == 1 else _Union(tuple(members))


def json_shape(
    schema: Any, defs: Any, model: str | None = None, refs: frozenset[str] = frozenset()
) -> Shape:
    """The shape of a JSON Schema, ``$ref`` resolved in ``defs`` (a recursive one: unknown)."""
    if not isinstance(schema, dict):
        return None
    if isinstance(ref := schema.get("$ref"), str):
        name = ref.rsplit("/", 1)[-1]
        if name in refs or not isinstance(defs, dict) or name not in defs:
            return None
        return json_shape(defs[name], defs, name, refs | {name})
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _union([json_shape(s, defs, None, refs) for s in schema[key]])
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        return json_shape(schema["allOf"][0], defs, model, refs)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind is None:
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        try:
            return _union([_literal(v) for v in values]) if isinstance(values, list) else None
        except TypeError:
            return None
    if isinstance(kind, list):
        return _union(
            [json_shape({**schema, "type": k}, defs, model, refs) for k in kind] or [None]
        )
    if kind != "object":
        return _Type(kind) if isinstance(kind, str) else None
    props = schema.get("properties")
    return ObjectShape(
        model,
        {k: partial(json_shape, v, defs) for k, v in props.items()}
        if isinstance(props, dict)
        else None,
        frozenset(schema.get("required") or ()),
        schema.get("additionalProperties") not in (None, False) or "patternProperties" in schema,
    )


def _fields_object(model: type[BaseModel], name: str | None) -> ObjectShape:
    fields = {info.alias or key: info for key, info in model.model_fields.items()}
    return ObjectShape(
        name,
        {key: partial(_annotation_or_any, info.annotation) for key, info in fields.items()},
        frozenset(key for key, info in fields.items() if info.is_required()),
        model.model_config.get("extra") == "allow",
    )


def _annotation(tp: Any) -> Shape:
    """The shape of pydantic's JSON Schema for ``tp``; ``TypeError`` when not plain."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or isinstance(tp, typing.TypeVar):
        return None
    if origin is typing.Annotated:
        return _annotation(args[0])
    if origin is typing.Union or origin is UnionType:
        return _union([_annotation(arg) for arg in args])
    if origin is typing.Literal:
        return _union([_literal(arg) for arg in args])
    if tp is None or tp in _SCALARS:
        return _Type(_SCALARS[tp or NoneType])
    base = origin or tp
    if isinstance(base, type) and not issubclass(base, str | bytes | bytearray):
        if issubclass(base, abc.Sequence | abc.Set):
            return _Type("array")
        if typing.is_typeddict(base):
            raise TypeError("a TypedDict: read its JSON Schema")
        if issubclass(base, abc.Mapping):
            return ObjectShape(None, None, frozenset(), open=True)
        if issubclass(base, BaseModel) and not issubclass(base, RootModel) and not args:
            return _fields_object(base, base.__name__)
    raise TypeError(f"no plain shape for {tp!r}")


def _annotation_or_any(tp: Any) -> Shape:
    try:
        return _annotation(tp)
    except TypeError:
        return None


def model_shape(model: type[BaseModel]) -> Shape:
    """A schema model's shape: from its annotations when plain, else its JSON Schema."""
    try:
        if issubclass(model, RootModel):
            return _annotation(model.model_fields["root"].annotation)
        return _fields_object(model, None)
    except TypeError:
        schema = model.model_json_schema()
        return json_shape(schema, schema.get("$defs"))


def _members(shape: Shape) -> tuple[_Type | ObjectShape, ...]:
    return shape.members if isinstance(shape, _Union) else (shape,)  # type: ignore[return-value]


def is_dict(shape: Shape) -> bool:
    return isinstance(shape, ObjectShape) and shape.model is None


# -- compatibility -----------------------------------------------------------------------
def _missing(have: _Type | ObjectShape, want: _Type | ObjectShape) -> frozenset[str]:
    """Required keys of ``want`` that ``have`` surely lacks."""
    if not isinstance(want, ObjectShape) or not want.required:
        return frozenset()
    if not isinstance(have, ObjectShape):
        return want.required
    return want.required - have.props.keys() if have.closed else frozenset()  # type: ignore[union-attr]


def _member_ok(have: _Type | ObjectShape, want: _Type | ObjectShape) -> bool:
    if isinstance(have, ObjectShape) and isinstance(want, ObjectShape):
        return not _missing(have, want)
    if isinstance(have, _Type) and isinstance(want, _Type):
        return have.name == want.name or (have.name, want.name) == ("integer", "number")
    return False


@dataclass(frozen=True, slots=True)
class Rules:
    """What a step accepts beyond its schema (what its ``invoke`` coerces)."""

    models: frozenset[str] = frozenset()  # model classes taken as they are
    bare_value: bool = False  # any non-dict value (a one-variable prompt, when lenient)


def compatible(produced: Shape, needed: Shape, rules: Rules) -> bool:
    """Whether some value ``produced`` describes may be one ``needed`` accepts."""
    if produced is None or needed is None:
        return True
    for have in _members(produced):
        if rules.bare_value and not is_dict(have):
            return True
        if isinstance(have, ObjectShape) and have.model in rules.models:
            return True
        if any(_member_ok(have, want) for want in _members(needed)):
            return True
    return False


def closest_missing(produced: Shape, needed: Shape) -> list[str]:
    """The fewest required keys some produced value lacks, sorted (``[]``: not a key issue)."""
    gaps = [_missing(h, w) for h in _members(produced) for w in _members(needed)]
    gaps = [gap for gap in gaps if gap]
    return sorted(min(gaps, key=len)) if gaps else []


# -- descriptions ------------------------------------------------------------------------
def _article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def quoted_keys(keys: Any) -> str:
    return ", ".join(repr(key) for key in keys)


def _describe_one(shape: _Type | ObjectShape, needed: bool) -> str:
    if isinstance(shape, _Type):
        return "null" if shape.name == "null" else _article(shape.name)
    if shape.model is not None:
        return _article(shape.model)
    keys = sorted(shape.required) if needed else list(shape.props or ()) if shape.closed else ()
    return f"an object with {quoted_keys(keys)}" if keys else "an object"


def describe(shape: Shape, *, needed: bool = False) -> str:
    if shape is None:
        return "anything"
    words = list(dict.fromkeys(_describe_one(m, needed) for m in _members(shape)))
    if len(words) > 4:
        words = [*words[:3], f"{len(words) - 3} other types"]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
