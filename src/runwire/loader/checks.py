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

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import BaseModel

from runwire.errors import format_path
from runwire.loader.shapes import (
    ObjectShape,
    Rules,
    Shape,
    closest_missing,
    compatible,
    describe,
    is_dict,
    json_shape,
    model_shape,
    quoted_keys,
)
from runwire.runtime.base import Runnable
from runwire.runtime.binding import RunnableBindingBase
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


# -- the sequence check ------------------------------------------------------------------
_UNWRAP: tuple[tuple[type, str], ...] = (
    (RunnableBindingBase, "bound"),  # RunnableBinding too
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
        self.model_rules = (BaseLanguageModel, Rules(_subclass_names(PromptValue, BaseMessage)))
        self.transfers: tuple[tuple[type, Callable[[Any, Shape], Shape]], ...] = (
            (RunnableSequence, self._through_sequence),
            (RunnablePassthrough, self._through_passthrough),
            (RunnableAssign, self._through_assign),
            (RunnablePick, _through_pick),
            (RunnableBindingBase, self._through_binding),
            (ConfigurableFields, lambda step, shape: self.output(step.default, shape)),
        )
        """Steps whose output depends on their input's shape: (class, output of a shape)."""

    def declared(self, runnable: Any, direction: str) -> Shape:
        """The shape of ``runnable``'s ``"input"`` or ``"output"`` schema (unknown on error)."""
        method = f"get_{direction}_jsonschema"
        try:
            if getattr(type(runnable), method) is not getattr(Runnable, method):
                schema = getattr(runnable, method)()  # overridden: use it as it is
                return json_shape(schema, schema.get("$defs"))
            model = getattr(runnable, f"get_{direction}_schema")()
            if model not in self.shapes:
                self.shapes[model] = model_shape(model)
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
        props = (own.props or {}) if isinstance(own, ObjectShape) else {}
        added = {key: value for key, value in props.items() if key in keys}
        if isinstance(incoming, ObjectShape) and incoming.closed and is_dict(incoming):
            merged = {**incoming.props, **added}  # type: ignore[dict-item]
            return ObjectShape(None, merged, incoming.required | keys, open=False)
        return ObjectShape(None, added, frozenset(keys), open=True)

    def _through_binding(self, step: RunnableBindingBase[Any, Any], incoming: Shape) -> Shape:
        if step.custom_output_type is not None:
            return self.declared(step, "output")
        return self.output(step.bound, incoming)

    def rules(self, runnable: Any) -> Rules:
        """What the runnables first receiving ``runnable``'s input accept together."""
        heads = _heads(runnable)
        language_model, model_rules = self.model_rules
        takes_models = any(isinstance(head, language_model) for head in heads)
        variables = [getattr(head, "input_variables", None) for head in heads]
        lone = any(isinstance(names, list) and len(names) == 1 for names in variables)
        return Rules(model_rules.models if takes_models else frozenset(), self.lenient and lone)

    def check_sequence(self, node: Node, paths: Mapping[int, Path]) -> Iterator[Problem]:
        steps = node.obj.steps
        produced: Shape = None
        for index, step in enumerate(steps):
            if index and produced is not None:
                needed = self.declared(step, "input")
                if not compatible(produced, needed, self.rules(step)):
                    where = paths.get(id(step), node.path)
                    yield _mismatch(index, steps[index - 1], step, produced, needed, where)
            produced = self.output(step, produced)


def _through_pick(step: RunnablePick, incoming: Shape) -> Shape:
    if not (isinstance(incoming, ObjectShape) and incoming.closed and is_dict(incoming)):
        return None
    props: dict[str, Callable[[], Shape]] = incoming.props  # type: ignore[assignment]
    if isinstance(step.keys, str):
        return props[step.keys]() if step.keys in props else None
    picked = {key: props[key] for key in step.keys if key in props}
    return ObjectShape(None, picked, incoming.required & picked.keys(), open=False)


def _mismatch(
    index: int, before: Any, step: Any, produced: Shape, needed: Shape, path: Path
) -> Problem:
    got = f"step {index - 1} ({before.get_name()}) outputs {describe(produced)}"
    missing = closest_missing(produced, needed)
    if missing and _is_prompt(step):
        return Problem(
            "prompt-variables",
            f"step {index} ({step.get_name()}) is missing prompt "
            f"variable{'s' if len(missing) > 1 else ''} {quoted_keys(missing)}: {got}",
            path,
            _nearest_keys(missing, produced)
            or "make the step before it output a dict with these keys, e.g. a parallel step "
            "with one branch per variable, or an assign",
        )
    detail = (
        f" (missing {quoted_keys(missing)})"
        if missing and isinstance(produced, ObjectShape)
        else ""
    )
    return Problem(
        "step-mismatch",
        f"step {index} ({step.get_name()}) needs {describe(needed, needed=True)}, "
        f"but {got}{detail}",
        path,
        "reorder the steps, or put one between them that converts the output (e.g. a "
        "StrOutputParser after a model, a parallel step to build a dict)",
    )


def _nearest_keys(missing: list[str], produced: Shape) -> str:
    """``did you mean 'contxt' for 'context'?`` when the keys produced hold a close
    spelling of a missing variable (one side or the other is misspelt), else ``""``."""
    import difflib

    if not (isinstance(produced, ObjectShape) and produced.props):
        return ""
    keys = sorted(set(produced.props) - set(missing))
    pairs = []
    for name in missing:
        near = difflib.get_close_matches(name, keys, n=1, cutoff=0.7)
        if near:
            pairs.append(f"{near[0]!r} for {name!r}")
    if not pairs:
        return ""
    return f"did you mean {', '.join(pairs)}? (rename the key or the prompt variable)"


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
