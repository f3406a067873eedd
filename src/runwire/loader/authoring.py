"""The compact authoring form and the wire form, each to the other.

```yaml
_type: sequence                      # a helper, a registered short name, or a full id
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{question}"]]
  - _type: FakeChatModel
    api_key: {_secret: FAKE_KEY}     # a secret node (YAML: !secret FAKE_KEY)
```

:func:`expand` turns authoring data into wire data (constructor and secret nodes),
recording where each produced container came from so errors point into the file;
:func:`compact` goes back. Wire nodes are accepted anywhere in the authoring form. Both
are pure data transformations driven by the :data:`HELPERS` table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runwire.errors import ManifestError, UnknownIdError, format_path
from runwire.loader.registry import entry_by_name, lookup, nearest_names
from runwire.loader.source import INCLUDE_KEY, SECRET_KEY, brief, secret_name
from runwire.schema.ids import ClassEntry
from runwire.schema.nodes import ESCAPE_KEY

__all__ = [
    "HELPERS",
    "Helper",
    "ShapeError",
    "compact",
    "constructor",
    "expand",
    "is_parallel_shorthand",
    "resolve_type",
]

Parts = tuple[str | int, ...]
Data = dict[str, Any]
TYPE_KEY = "_type"
_RUNNABLES = ("runwire", "runnables")
_MARKERS = frozenset((TYPE_KEY, "lc", SECRET_KEY, INCLUDE_KEY))


def constructor(ident: tuple[str, ...] | list[str], kwargs: Data) -> Data:
    """A wire constructor node."""
    return {"lc": 1, "type": "constructor", "id": list(ident), "kwargs": kwargs}


def is_parallel_shorthand(value: Any) -> bool:
    """A step written as a plain mapping of runnables (LCEL's dict coercion)."""
    return isinstance(value, dict) and bool(value) and not _MARKERS & value.keys()


# -- helpers: authoring-only types for the composition classes -------------------------
@dataclass(frozen=True, slots=True)
class Helper:
    """An authoring ``_type`` for a composition class, with its key mapping.

    ``renames`` maps authoring keys to wire kwargs. ``runnable_maps``/``runnable_lists``
    name keys whose plain mappings are parallels (LCEL's dict coercion). ``to_wire`` and
    ``from_wire`` restructure kwargs beyond renames (both pure, both inverse).
    """

    name: str
    class_name: str
    renames: Mapping[str, str] = field(default_factory=dict)
    runnable_lists: tuple[str, ...] = ()
    runnable_maps: tuple[str, ...] = ()
    to_wire: Callable[[Data], Data] | None = None
    from_wire: Callable[[Data], Data | None] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Wire kwargs the class requires that authors may leave out."""

    @property
    def ident(self) -> tuple[str, ...]:
        return (*_RUNNABLES, self.class_name)


class ShapeError(Exception):
    """A helper's keys do not have the shape it needs: (message, key, hint)."""


def _sequence_to_wire(kwargs: Data) -> Data:
    steps = kwargs.get("steps")
    if not isinstance(steps, list) or len(steps) < 2:
        count = len(steps) if isinstance(steps, list) else 0
        raise ShapeError(
            f"a sequence needs a list of at least 2 steps, got {count}",
            "steps",
            "list the steps under `steps:`; a single step needs no sequence",
        )
    split = {"first": steps[0], "middle": steps[1:-1], "last": steps[-1]}
    return _replace_key(kwargs, "steps", split)


def _sequence_from_wire(kwargs: Data) -> Data | None:
    if "first" not in kwargs or "last" not in kwargs:
        return None
    steps = [kwargs["first"], *kwargs.get("middle", []), kwargs["last"]]
    rest = {k: v for k, v in kwargs.items() if k not in ("middle", "last")}
    return _replace_key(rest, "first", {"steps": steps})


def _replace_key(data: Data, key: str, replacement: Data) -> Data:
    """``data`` with ``key`` replaced by the items of ``replacement``, in its place."""
    out: Data = {}
    for name, value in data.items():
        if name == key:
            out.update(replacement)
        else:
            out[name] = value
    return out


def _assign_to_wire(kwargs: Data) -> Data:
    branches = kwargs.pop("branches", None)
    if not isinstance(branches, dict) or not branches:
        raise ShapeError(
            "an assign needs `branches`: a mapping of new keys to runnables",
            "branches",
            "write e.g. branches: {context: {_type: ...}}",
        )
    return {"mapper": constructor((*_RUNNABLES, "RunnableParallel"), {"steps__": branches})}


def _assign_from_wire(kwargs: Data) -> Data | None:
    mapper = kwargs.get("mapper")
    if not (isinstance(mapper, dict) and mapper.get("type") == "constructor"):
        return None
    entry = lookup(mapper.get("id") or ())
    inner = mapper.get("kwargs") or {}
    if entry is None or entry.name != "RunnableParallel" or set(inner) - {"steps__"}:
        return None
    rest = {k: v for k, v in kwargs.items() if k != "mapper"}
    return {"branches": inner.get("steps__", {}), **rest}


HELPERS: dict[str, Helper] = {
    helper.name: helper
    for helper in (
        Helper(
            "sequence",
            "RunnableSequence",
            runnable_lists=("steps",),
            to_wire=_sequence_to_wire,
            from_wire=_sequence_from_wire,
        ),
        Helper(
            "parallel",
            "RunnableParallel",
            renames={"branches": "steps__"},
            runnable_maps=("branches",),
        ),
        Helper("passthrough", "RunnablePassthrough"),
        Helper(
            "assign",
            "RunnableAssign",
            runnable_maps=("branches",),
            to_wire=_assign_to_wire,
            from_wire=_assign_from_wire,
        ),
        Helper("pick", "RunnablePick"),
        Helper("branch", "RunnableBranch"),
        Helper("fallbacks", "RunnableWithFallbacks"),
        Helper(
            "retry",
            "RunnableRetry",
            renames={
                "stop_after_attempt": "max_attempt_number",
                "retry_if_exception_type": "retry_exception_types",
            },
        ),
        Helper("bind", "RunnableBinding"),
        Helper("each", "RunnableEach"),
        Helper("configurable", "RunnableConfigurableFields"),
        Helper("alternatives", "RunnableConfigurableAlternatives", defaults={"prefix_keys": False}),
    )
}
"""Authoring ``_type`` names of the composition classes."""

_HELPER_BY_CLASS = {helper.class_name: helper for helper in HELPERS.values()}


def resolve_type(value: Any) -> tuple[Helper | None, ClassEntry | None]:
    """What a ``_type`` names: a helper, or a registry entry (short name or full id)."""
    if isinstance(value, str):
        helper = HELPERS.get(value)
        if helper is not None:
            return helper, None
        entry = entry_by_name(value)
        if entry is None and "." in value:
            entry = lookup(tuple(value.split(".")))
        return None, entry
    if isinstance(value, list) and value and all(isinstance(p, str) for p in value):
        return None, lookup(tuple(value))
    return None, None


# -- authoring -> wire -------------------------------------------------------------------
Locate = Callable[[Parts], tuple[str, int | None, int | None]]


class _Expander:
    def __init__(self, origins: dict[int, Parts] | None, locate: Locate | None) -> None:
        self.origins = origins
        self.locate = locate

    def fail(self, error: type[ManifestError], message: str, at: Parts, hint: str) -> Any:
        file, line, column = self.locate(at) if self.locate else (None, None, None)
        raise error(message, path=format_path(at), hint=hint, file=file, line=line, column=column)

    def mark(self, value: Any, at: Parts) -> Any:
        if self.origins is not None and isinstance(value, dict | list):
            self.origins[id(value)] = at
        return value

    def value(self, data: Any, at: Parts) -> Any:
        if isinstance(data, list):
            return self.mark([self.value(item, (*at, i)) for i, item in enumerate(data)], at)
        if not isinstance(data, dict):
            return data
        if TYPE_KEY in data:
            return self.authoring_node(data, at)
        if set(data) == {SECRET_KEY}:
            name = data[SECRET_KEY]
            if not isinstance(name, str) or not name:
                self.fail(
                    ManifestError,
                    "_secret takes the secret's name",
                    (*at, SECRET_KEY),
                    "write e.g. api_key: !secret OPENAI_API_KEY",
                )
            return self.mark({"lc": 1, "type": "secret", "id": [name]}, at)
        if ESCAPE_KEY in data and len(data) == 1:
            return self.mark(data, at)
        if data.get("lc") == 1 and data.get("type") == "constructor":
            out = {**data}
            if isinstance(data.get("kwargs"), dict):
                out["kwargs"] = self.mapping(data["kwargs"], (*at, "kwargs"))
            return self.mark(out, at)
        return self.mapping(data, at)

    def mapping(self, data: Data, at: Parts) -> Data:
        return self.mark({k: self.value(v, (*at, k)) for k, v in data.items()}, at)

    def runnable(self, data: Any, at: Parts) -> Any:
        """A step: a plain mapping (no ``_type``/``lc``) is a parallel of its values."""
        if is_parallel_shorthand(data):
            branches = self.mapping(data, at)
            kwargs = self.mark({"steps__": branches}, at)
            return self.mark(constructor((*_RUNNABLES, "RunnableParallel"), kwargs), at)
        return self.value(data, at)

    def authoring_node(self, data: Data, at: Parts) -> Data:
        kind = data[TYPE_KEY]
        helper, entry = resolve_type(kind)
        if helper is None and entry is None:
            near = nearest_names([str(kind)]) if isinstance(kind, str) else []
            near = [*_close_helpers(kind), *near][:3]
            self.fail(
                UnknownIdError,
                f"unknown _type {brief(kind)}",
                (*at, TYPE_KEY),
                f"did you mean {', '.join(near)}?"
                if near
                else "use a registered class name, a full id, or a helper such as sequence",
            )
        kwargs: Data = {}
        for key, raw in data.items():
            if key == TYPE_KEY:
                continue
            where = (*at, key)
            if helper is not None and key in helper.runnable_lists and isinstance(raw, list):
                value: Any = self.mark(
                    [self.runnable(item, (*where, i)) for i, item in enumerate(raw)], where
                )
            elif helper is not None and key in helper.runnable_maps and isinstance(raw, dict):
                value = self.mark({k: self.runnable(v, (*where, k)) for k, v in raw.items()}, where)
            else:
                value = self.value(raw, where)
            kwargs[helper.renames.get(key, key) if helper else key] = value
        if helper is not None:
            kwargs = {**helper.defaults, **kwargs}
        if helper is not None and helper.to_wire is not None:
            try:
                kwargs = helper.to_wire(kwargs)
            except ShapeError as exc:
                message, key, hint = exc.args
                self.fail(ManifestError, message, (*at, key), hint)
        ident = helper.ident if helper is not None else entry.id  # type: ignore[union-attr]
        self.mark(kwargs, at)
        for value in kwargs.values():  # restructured containers point at the node
            if isinstance(value, dict | list) and self.origins is not None:
                self.origins.setdefault(id(value), at)
        return self.mark(constructor(ident, kwargs), at)


def _close_helpers(kind: Any) -> list[str]:
    import difflib

    if not isinstance(kind, str):
        return []
    return difflib.get_close_matches(kind, list(HELPERS), n=2, cutoff=0.7)


def expand(
    data: Any, *, origins: dict[int, Parts] | None = None, locate: Locate | None = None
) -> Any:
    """Authoring data as wire data.

    ``origins`` (when given) receives ``id(container)`` -> the path in ``data`` it came
    from, for every dict and list produced; ``locate`` gives errors a file position.
    """
    return _Expander(origins, locate).value(data, ())


# -- wire -> authoring -------------------------------------------------------------------
def compact(data: Any) -> Any:
    """Wire data as the compact authoring form (unknown ids stay wire nodes)."""
    if isinstance(data, list):
        return [compact(item) for item in data]
    if not isinstance(data, dict):
        return data
    if ESCAPE_KEY in data and len(data) == 1:
        return data
    name = secret_name(data)
    if name is not None:
        return {SECRET_KEY: name}
    if data.get("lc") == 1 and data.get("type") == "constructor":
        entry = lookup(data.get("id") or ())
        kwargs = data.get("kwargs") or {}
        if entry is not None and isinstance(kwargs, dict):
            return _compact_node(entry, kwargs)
        return {**data, "kwargs": compact(kwargs)}
    return {key: compact(value) for key, value in data.items()}


def _compact_node(entry: ClassEntry, kwargs: Data) -> Data:
    helper = _HELPER_BY_CLASS.get(entry.name) if entry.namespace == _RUNNABLES else None
    if helper is not None:
        shaped = helper.from_wire(dict(kwargs)) if helper.from_wire else dict(kwargs)
        if shaped is not None:
            back = {wire: key for key, wire in helper.renames.items()}
            return {
                TYPE_KEY: helper.name,
                **{back.get(key, key): compact(value) for key, value in shaped.items()},
            }
    kind = entry.name if entry_by_name(entry.name) is entry else ".".join(entry.id)
    return {TYPE_KEY: kind, **{key: compact(value) for key, value in kwargs.items()}}
