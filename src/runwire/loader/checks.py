"""Semantic checks on a built pipeline (``runwire validate``, step 2).

- ``step-mismatch``: in every ``RunnableSequence`` each step's input schema must accept
  what the step before it outputs; ``prompt-variables`` is that check failing on a prompt,
  naming its missing variables;
- ``configurable-id``: two objects must not declare one configurable id, unless both
  declarations are shared (``is_shared=True``) and identical.

Schemas are compared conservatively: an unknown (``Any``, empty) schema accepts and gives
anything, and an object lacks a key only when all its keys are known. What flows through
a passthrough, an assign or a pick is followed from the step before it. A schema model's
shape is read from its annotations when they are plain (the JSON Schema pydantic would
write says the same, and writing it costs milliseconds), else from its JSON Schema.
"""

from __future__ import annotations

import collections.abc as abc
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from types import NoneType, UnionType
from typing import Any, NamedTuple

from pydantic import BaseModel, RootModel

from runwire.errors import format_path
from runwire.runtime.base import Runnable
from runwire.runtime.binding import RunnableBinding
from runwire.runtime.configurable import RunnableConfigurableAlternatives as Alternatives
from runwire.runtime.configurable import RunnableConfigurableFields as ConfigurableFields
from runwire.runtime.fallbacks import RunnableWithFallbacks
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.passthrough import RunnableAssign, RunnablePassthrough, RunnablePick
from runwire.runtime.sequence import RunnableSequence

__all__ = ["Node", "Path", "Problem", "check_pipeline", "iter_nodes"]

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One semantic problem: its kind, what is wrong, where (a wire path), how to fix it."""

    kind: str
    """``"step-mismatch"``, ``"prompt-variables"`` or ``"configurable-id"``."""
    message: str
    path: Path
    hint: str = ""


class Node(NamedTuple):
    """An object of the pipeline, where it was built, and its configurable id prefix."""

    obj: Any
    path: Path
    """The path recorded for ``obj``, else that of its nearest recorded ancestor."""
    scope: str
    """What its configurable ids are prefixed with (``"which==key/"`` under ``prefix_keys``)."""


# -- traversal ---------------------------------------------------------------------------
_WALKED = (BaseModel, Runnable, Mapping, list, tuple, set, frozenset)


def _children(obj: Any, scope: str) -> Iterator[tuple[Any, str]]:
    """An object's written pydantic fields (a plain runnable's attributes), with scopes."""
    if not isinstance(obj, BaseModel):
        yield from ((value, scope) for value in getattr(obj, "__dict__", {}).values())
        return
    prefixed = isinstance(obj, Alternatives) and obj.prefix_keys
    for name, info in type(obj).model_fields.items():
        value = obj.__dict__.get(name)
        if info.exclude:
            continue
        if prefixed and name == "default":
            yield value, f"{scope}{obj.which.id}=={obj.default_key}/"
        elif prefixed and name == "alternatives":
            yield from ((v, f"{scope}{obj.which.id}=={k}/") for k, v in value.items())
        else:
            yield value, scope


def iter_nodes(root: Any, paths: Mapping[int, Path] | None = None) -> Iterator[Node]:
    """Every model and runnable reachable from ``root`` (through fields, lists, dicts),
    depth first in field order, each object once."""
    known = paths or {}
    seen: set[int] = set()
    stack: list[tuple[Any, Path, str]] = [(root, (), "")]
    while stack:
        value, path, scope = stack.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, BaseModel | Runnable):
            path = known.get(id(value), path)
            yield Node(value, path, scope)
            children: Iterator[tuple[Any, str]] = _children(value, scope)
        else:
            items = value.values() if isinstance(value, Mapping) else value
            children = ((item, scope) for item in items)
        found = [(c, path, s) for c, s in children if isinstance(c, _WALKED)]
        stack.extend(reversed(found))


# -- shapes: what a schema says about a value, at the top level --------------------------
# A shape is None (unknown: anything), a _Type, an _Object or a _Union of the two.
@dataclass(frozen=True, slots=True, eq=False)
class _Type:
    name: str  # a JSON type other than "object"


@dataclass(frozen=True, slots=True, eq=False)
class _Object:
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
    members: tuple[_Type | _Object, ...]


Shape = _Type | _Object | _Union | None
_SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string", NoneType: "null"}


def _literal(value: Any) -> _Type:
    name = _SCALARS.get(type(value))
    if name is None:
        raise TypeError(f"no JSON type for {value!r}")
    return _Type(name)


def _union(shapes: list[Shape]) -> Shape:
    members: list[_Type | _Object] = []
    for shape in shapes:
        if shape is None:
            return None
        for member in shape.members if isinstance(shape, _Union) else (shape,):
            names = {m.name for m in members if isinstance(m, _Type)}
            if not (isinstance(member, _Type) and member.name in names):
                members.append(member)
    return members[0] if len(members) == 1 else _Union(tuple(members))


def _json(
    schema: Any, defs: Any, model: str | None = None, refs: frozenset[str] = frozenset()
) -> Shape:
    """The shape of a JSON Schema, ``$ref`` resolved in ``defs`` (a recursive one: unknown)."""
    if not isinstance(schema, dict):
        return None
    if isinstance(ref := schema.get("$ref"), str):
        name = ref.rsplit("/", 1)[-1]
        if name in refs or not isinstance(defs, dict) or name not in defs:
            return None
        return _json(defs[name], defs, name, refs | {name})
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _union([_json(s, defs, None, refs) for s in schema[key]])
    if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        return _json(schema["allOf"][0], defs, model, refs)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind is None:
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        try:
            return _union([_literal(v) for v in values]) if isinstance(values, list) else None
        except TypeError:
            return None
    if isinstance(kind, list):
        return _union([_json({**schema, "type": k}, defs, model, refs) for k in kind] or [None])
    if kind != "object":
        return _Type(kind) if isinstance(kind, str) else None
    props = schema.get("properties")
    return _Object(
        model,
        {k: partial(_json, v, defs) for k, v in props.items()} if isinstance(props, dict) else None,
        frozenset(schema.get("required") or ()),
        schema.get("additionalProperties") not in (None, False) or "patternProperties" in schema,
    )


def _fields_object(model: type[BaseModel], name: str | None) -> _Object:
    fields = {info.alias or key: info for key, info in model.model_fields.items()}
    return _Object(
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
            return _Object(None, None, frozenset(), open=True)
        if issubclass(base, BaseModel) and not issubclass(base, RootModel) and not args:
            return _fields_object(base, base.__name__)
    raise TypeError(f"no plain shape for {tp!r}")


def _annotation_or_any(tp: Any) -> Shape:
    try:
        return _annotation(tp)
    except TypeError:
        return None


def _model_shape(model: type[BaseModel]) -> Shape:
    """A schema model's shape: from its annotations when plain, else its JSON Schema."""
    try:
        if issubclass(model, RootModel):
            return _annotation(model.model_fields["root"].annotation)
        return _fields_object(model, None)
    except TypeError:
        schema = model.model_json_schema()
        return _json(schema, schema.get("$defs"))


def _members(shape: Shape) -> tuple[_Type | _Object, ...]:
    return shape.members if isinstance(shape, _Union) else (shape,)  # type: ignore[return-value]


def _is_dict(shape: Shape) -> bool:
    return isinstance(shape, _Object) and shape.model is None


# -- compatibility -----------------------------------------------------------------------
def _missing(have: _Type | _Object, want: _Type | _Object) -> frozenset[str]:
    """Required keys of ``want`` that ``have`` surely lacks."""
    if not isinstance(want, _Object) or not want.required:
        return frozenset()
    if not isinstance(have, _Object):
        return want.required
    return want.required - have.props.keys() if have.closed else frozenset()  # type: ignore[union-attr]


def _member_ok(have: _Type | _Object, want: _Type | _Object) -> bool:
    if isinstance(have, _Object) and isinstance(want, _Object):
        return not _missing(have, want)
    if isinstance(have, _Type) and isinstance(want, _Type):
        return have.name == want.name or (have.name, want.name) == ("integer", "number")
    return False


@dataclass(frozen=True, slots=True)
class _Rules:
    """What a step accepts beyond its schema (what its ``invoke`` coerces)."""

    models: frozenset[str] = frozenset()  # model classes taken as they are
    bare_value: bool = False  # any non-dict value (a one-variable prompt, when lenient)


def _compatible(produced: Shape, needed: Shape, rules: _Rules) -> bool:
    """Whether some value ``produced`` describes may be one ``needed`` accepts."""
    if produced is None or needed is None:
        return True
    for have in _members(produced):
        if rules.bare_value and not _is_dict(have):
            return True
        if isinstance(have, _Object) and have.model in rules.models:
            return True
        if any(_member_ok(have, want) for want in _members(needed)):
            return True
    return False


def _closest_missing(produced: Shape, needed: Shape) -> list[str]:
    """The fewest required keys some produced value lacks, sorted (``[]``: not a key issue)."""
    gaps = [_missing(h, w) for h in _members(produced) for w in _members(needed)]
    gaps = [gap for gap in gaps if gap]
    return sorted(min(gaps, key=len)) if gaps else []


# -- descriptions ------------------------------------------------------------------------
def _article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _keys(keys: Any) -> str:
    return ", ".join(repr(key) for key in keys)


def _describe_one(shape: _Type | _Object, needed: bool) -> str:
    if isinstance(shape, _Type):
        return "null" if shape.name == "null" else _article(shape.name)
    if shape.model is not None:
        return _article(shape.model)
    keys = sorted(shape.required) if needed else list(shape.props or ()) if shape.closed else ()
    return f"an object with {_keys(keys)}" if keys else "an object"


def _describe(shape: Shape, *, needed: bool = False) -> str:
    if shape is None:
        return "anything"
    words = list(dict.fromkeys(_describe_one(m, needed) for m in _members(shape)))
    if len(words) > 4:
        words = [*words[:3], f"{len(words) - 3} other types"]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


# -- the sequence check ------------------------------------------------------------------
_UNWRAP: tuple[tuple[type, str], ...] = (
    (RunnableBinding, "bound"),
    (ConfigurableFields, "default"),
    (Alternatives, "default"),
    (RunnableWithFallbacks, "runnable"),
    (RunnableSequence, "first"),
)
"""Wrappers whose input goes to one inner runnable: (class, field holding it)."""


def _head(runnable: Any) -> Any:
    """The runnable that receives ``runnable``'s input first."""
    for _ in range(100):
        field = next((f for cls, f in _UNWRAP if isinstance(runnable, cls)), None)
        if field is None or getattr(runnable, "custom_input_type", None) is not None:
            break
        runnable = runnable.__dict__[field]
    return runnable


_FAN_OUT: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (RunnableParallel, lambda step: step.steps__.values()),
    (RunnableAssign, lambda step: [step.mapper]),
)
"""Steps that hand their whole input to several runnables: (class, those runnables)."""


def _heads(runnable: Any) -> list[Any]:
    """Every runnable that receives ``runnable``'s input as it is."""
    todo, heads, seen = [runnable], [], set()
    while todo:
        step = _head(todo.pop())
        if id(step) in seen:
            continue
        seen.add(id(step))
        fan_out = next((get for cls, get in _FAN_OUT if isinstance(step, cls)), None)
        if fan_out is None:
            heads.append(step)
        else:
            todo.extend(fan_out(step))
    return heads


def _is_prompt(runnable: Any) -> bool:
    return isinstance(getattr(_head(runnable), "input_variables", None), list)


def _subclass_names(*roots: type) -> frozenset[str]:
    names: set[str] = set()
    todo = list(roots)
    while todo:
        cls = todo.pop()
        if cls.__name__ not in names:
            names.add(cls.__name__)
            todo.extend(cls.__subclasses__())
    return frozenset(names)


class _Checker:
    """One ``check_pipeline`` call: its options and its shapes by schema model."""

    def __init__(self, lenient: bool) -> None:
        from runwire.runtime.models.chat import BaseLanguageModel
        from runwire.runtime.prompts.values import PromptValue
        from runwire.schema.messages import BaseMessage

        self.lenient = lenient
        self.shapes: dict[Any, Shape] = {}
        self.model_rules = (BaseLanguageModel, _Rules(_subclass_names(PromptValue, BaseMessage)))
        self.transfers: tuple[tuple[type, Callable[[Any, Shape], Shape]], ...] = (
            (RunnableSequence, self._through_sequence),
            (RunnablePassthrough, self._through_passthrough),
            (RunnableAssign, self._through_assign),
            (RunnablePick, _through_pick),
            (RunnableBinding, self._through_binding),
            (ConfigurableFields, lambda step, shape: self.output(step.default, shape)),
        )
        """Steps whose output depends on their input's shape: (class, output of a shape)."""

    def declared(self, runnable: Any, direction: str) -> Shape:
        """The shape of ``runnable``'s ``"input"`` or ``"output"`` schema (unknown on error)."""
        method = f"get_{direction}_jsonschema"
        try:
            if getattr(type(runnable), method) is not getattr(Runnable, method):
                schema = getattr(runnable, method)()  # overridden: use it as it is
                return _json(schema, schema.get("$defs"))
            model = getattr(runnable, f"get_{direction}_schema")()
            if model not in self.shapes:
                self.shapes[model] = _model_shape(model)
            return self.shapes[model]
        except Exception:
            return None

    def output(self, runnable: Any, incoming: Shape) -> Shape:
        """What ``runnable`` outputs when its input has the shape ``incoming``."""
        for cls, transfer in self.transfers:
            if isinstance(runnable, cls):
                return transfer(runnable, incoming)
        return self.declared(runnable, "output")

    def _through_sequence(self, seq: RunnableSequence[Any, Any], incoming: Shape) -> Shape:
        for step in seq.steps:
            incoming = self.output(step, incoming)
        return incoming

    def _through_passthrough(self, step: RunnablePassthrough[Any], incoming: Shape) -> Shape:
        return incoming if step.input_type is None else self.declared(step, "output")

    def _through_assign(self, step: RunnableAssign, incoming: Shape) -> Shape:
        own, keys = self.declared(step, "output"), step.mapper.steps__.keys()
        props = (own.props or {}) if isinstance(own, _Object) else {}
        added = {key: value for key, value in props.items() if key in keys}
        if isinstance(incoming, _Object) and incoming.closed and _is_dict(incoming):
            merged = {**incoming.props, **added}  # type: ignore[dict-item]
            return _Object(None, merged, incoming.required | keys, open=False)
        return _Object(None, added, frozenset(keys), open=True)

    def _through_binding(self, step: RunnableBinding[Any, Any], incoming: Shape) -> Shape:
        if step.custom_output_type is not None:
            return self.declared(step, "output")
        return self.output(step.bound, incoming)

    def rules(self, runnable: Any) -> _Rules:
        """What the runnables first receiving ``runnable``'s input accept together."""
        heads = _heads(runnable)
        language_model, model_rules = self.model_rules
        takes_models = any(isinstance(head, language_model) for head in heads)
        variables = [getattr(head, "input_variables", None) for head in heads]
        lone = any(isinstance(names, list) and len(names) == 1 for names in variables)
        return _Rules(model_rules.models if takes_models else frozenset(), self.lenient and lone)

    def check_sequence(self, node: Node, paths: Mapping[int, Path]) -> Iterator[Problem]:
        steps = node.obj.steps
        produced: Shape = None
        for index, step in enumerate(steps):
            if index and produced is not None:
                needed = self.declared(step, "input")
                if not _compatible(produced, needed, self.rules(step)):
                    where = paths.get(id(step), node.path)
                    yield _mismatch(index, steps[index - 1], step, produced, needed, where)
            produced = self.output(step, produced)


def _through_pick(step: RunnablePick, incoming: Shape) -> Shape:
    if not (isinstance(incoming, _Object) and incoming.closed and _is_dict(incoming)):
        return None
    props: dict[str, Callable[[], Shape]] = incoming.props  # type: ignore[assignment]
    if isinstance(step.keys, str):
        return props[step.keys]() if step.keys in props else None
    picked = {key: props[key] for key in step.keys if key in props}
    return _Object(None, picked, incoming.required & picked.keys(), open=False)


def _mismatch(
    index: int, before: Any, step: Any, produced: Shape, needed: Shape, path: Path
) -> Problem:
    got = f"step {index - 1} ({before.get_name()}) outputs {_describe(produced)}"
    missing = _closest_missing(produced, needed)
    if missing and _is_prompt(step):
        return Problem(
            "prompt-variables",
            f"step {index} ({step.get_name()}) is missing prompt "
            f"variable{'s' if len(missing) > 1 else ''} {_keys(missing)}: {got}",
            path,
            "make the step before it output a dict with these keys, e.g. a parallel step "
            "with one branch per variable, or an assign",
        )
    detail = f" (missing {_keys(missing)})" if missing and isinstance(produced, _Object) else ""
    return Problem(
        "step-mismatch",
        f"step {index} ({step.get_name()}) needs {_describe(needed, needed=True)}, "
        f"but {got}{detail}",
        path,
        "reorder the steps, or put one between them that converts the output (e.g. a "
        "StrOutputParser after a model, a parallel step to build a dict)",
    )


# -- configurable ids --------------------------------------------------------------------
class _Declaration(NamedTuple):
    owner: int
    spec: Any
    path: Path
    what: str


def _declarations(obj: Any) -> Iterator[tuple[Any, str]]:
    if isinstance(obj, ConfigurableFields):
        owner = obj.default.get_name()
        yield from ((spec, f"field {key!r} of {owner}") for key, spec in obj.fields.items())
    elif isinstance(obj, Alternatives):
        yield obj.which, f"the alternatives to {obj.default.get_name()}"


def _id_problems(node: Node, seen: dict[str, _Declaration]) -> Iterator[Problem]:
    for spec, what in _declarations(node.obj):
        key = spec.id if spec.is_shared else node.scope + spec.id
        first = seen.setdefault(key, _Declaration(id(node.obj), spec, node.path, what))
        shared = spec.is_shared and first.spec.is_shared
        if first.owner == id(node.obj) or (shared and spec == first.spec):
            continue
        yield Problem(
            "configurable-id",
            f"configurable id {key!r} is declared twice"
            f"{' (both shared, but differently)' if shared else ''}: by {first.what} at "
            f"{format_path(first.path)} and by {what} at {format_path(node.path)}",
            node.path,
            "give each configurable its own id, or declare both identically with "
            "is_shared=True to set them with one value",
        )


# -- entry point -------------------------------------------------------------------------
def check_pipeline(
    root: Any,
    paths: Mapping[int, Path] | None = None,
    *,
    lenient_single_variable: bool = False,
) -> list[Problem]:
    """The semantic problems of a built pipeline: step mismatches (tree order), then ids.

    ``paths`` maps ``id(obj)`` to the wire path of the constructor node that built ``obj``;
    a problem is reported at its object's path, else at its nearest recorded ancestor's
    (``()`` for none). ``lenient_single_variable``: a one-variable prompt accepts any
    non-dict value, as its ``invoke`` does (the value becomes the variable), instead of
    requiring a dict with that key.
    """
    known = paths or {}
    checker = _Checker(lenient_single_variable)
    steps: list[Problem] = []
    ids: list[Problem] = []
    declared: dict[str, _Declaration] = {}
    for node in iter_nodes(root, known):
        if isinstance(node.obj, RunnableSequence):
            steps.extend(checker.check_sequence(node, known))
        ids.extend(_id_problems(node, declared))
    return [*steps, *ids]
