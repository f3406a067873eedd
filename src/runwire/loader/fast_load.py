"""The fast path of ``loads``: the walker's objects at a fraction of its cost, or a hand-back.

:func:`load_fast` builds what :func:`runwire.loader.wire.load` would build from the same
data, with the same class checks, the same pydantic validation and the same trust, and
returns :data:`FALLBACK` for anything it cannot prove the walker would accept the same
way. The caller then runs the walker, which builds the objects or raises its exact
``ManifestError`` (same path, same hint): the fast path never raises a load error of
its own. It needs the JSON text the data was parsed from, and proves on the text, at C
speed, what the walker checks node by node in Python:

- no dict anywhere has an ``"lc"`` key besides the constructor nodes it builds (the
  text holds no other ``"lc"`` string and no ``\\u`` escape that could spell one), so
  user data fields hold no node, escape, secret or ``not_implemented`` node, and are
  handed to pydantic without being walked;
- no escaped dict (``__lc_escaped__``) is anywhere;
- the nesting is within ``Limits.max_depth`` (the height of the text's brackets, string
  contents left out) and the node count within ``Limits.max_nodes`` (the walker counts
  at most one node per byte).

Then one tight pass over the nodes checks what the walker checks of each (``lc``, type,
id in the registry, namespace and ``allowed_objects``, kwargs an object with known keys,
no jinja2 template while the default ``init_validator`` is on, no non-scalar value in a
secret field) and validates each node's kwargs with the class's fast validator
(:mod:`runwire.loader.fast_validators`); a long list's nodes (a chat history) are
validated class by class, one pydantic-core call per class. Fields typed with JSON
scalars only are not looked into. Anything pydantic refuses goes to the walker. The
cyclic garbage collector is paused over a large parse and load: objects built in bulk
trigger collections that find nothing to free.
"""

from __future__ import annotations

import gc
import re
import types
import typing
from collections.abc import Iterable
from typing import Any

from runwire.loader.fast_validators import fast_list_validator, fast_validator
from runwire.loader.limits import DEFAULT_LIMITS, Limits, parse_json
from runwire.loader.registry import (
    DEFAULT_NAMESPACES,
    AllowedObjects,
    allowed_ids,
    class_for,
    lookup,
)
from runwire.schema.serializable import class_plan
from runwire.schema.trust import make_trust, trust_scope

__all__ = ["FALLBACK", "load_fast", "parse_and_load", "text_allows"]


class _Fallback:
    """The type of :data:`FALLBACK`."""

    def __repr__(self) -> str:
        return "FALLBACK"


FALLBACK: Any = _Fallback()
"""What :func:`load_fast` returns when the walker must do the load."""


class _HandBack(Exception):
    """Something the fast path cannot prove the walker does the same way."""


_SCALARS = frozenset((str, int, float, bool, type(None)))
_NO_KWARGS: dict[str, Any] = {}
_ASCII_ESCAPE = re.compile(rb"\\u00[2-7]")  # a \u escape of a printable ASCII character
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_SHAPE = bytes(b for b in range(256) if b not in b'[]{}"')
_LC_KEY = b'"lc"'
_BATCH = 16
"""Lists this long have their nodes validated class by class in one call each."""
_GC_PAUSE_BYTES = 64 * 1024
"""Texts this long build enough objects in one go for the collector to run mid-load."""


def text_allows(raw: bytes, limits: Limits) -> bool:
    """Whether the text's shape lets the fast path skip the walker's per-value checks:
    no escaped dict, no ``\\u`` escape of an ASCII character (which could spell a key),
    nesting within ``max_depth`` and size within ``max_nodes``."""
    if len(raw) > limits.max_nodes or b"__lc_escaped__" in raw:
        return False
    if b"\\" in raw:
        if _ASCII_ESCAPE.search(raw) is not None:
            return False
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # left: real string quotes
    shape = raw.translate(_BRACKETS, _NOT_SHAPE)  # brackets and string quotes
    quotes = shape.count(b'"')
    if quotes:
        if quotes == 2 * shape.count(b'""'):  # every string is "" here: none holds a bracket
            shape = shape.translate(None, b'"')
        else:  # keep what is between strings: first drop empty strings and merge
            # neighbouring ones (an adjacent quote pair has no structural bracket between)
            shape = b"".join(shape.replace(b'""', b"").split(b'"')[::2])
    return _height_within(shape, limits.max_depth)


def _height_within(shape: bytes, limit: int) -> bool:
    """Whether balanced ``()`` text nests at most ``limit`` deep: each pass removes the
    innermost pairs, so the number of passes that empty it is its height."""
    for _ in range(limit):
        if not shape:
            return True
        shorter = shape.replace(b"()", b"")
        if len(shorter) == len(shape):
            return False
        shape = shorter
    return not shape


class _Plan:
    """What the fast pass needs of one class, computed once per class."""

    __slots__ = (
        "accepted",
        "cls",
        "jinja",
        "refused",
        "skip",
        "validate",
        "validate_many",
        "walk_extras",
        "walk_set",
        "walked",
    )

    def __init__(self, cls: type) -> None:
        plan = class_plan(cls)  # type: ignore[arg-type]
        self.accepted = None if plan.extra_allowed else plan.accepted_keys
        self.skip = plan.data_fields | plan.raw_fields
        """Kwargs handed to pydantic as written (user data; fields read raw)."""
        walk_extras = plan.extra_allowed and not plan.data_extras
        walked = plan.accepted_keys - self.skip - _scalar_fields(cls)
        self.walked = tuple(walked) if len(walked) <= 4 and not walk_extras else None
        """The few kwargs that may hold nodes, looked up one by one (``None``: look at
        each kwarg instead)."""
        self.walk_extras = walk_extras
        self.walk_set = frozenset(walked)
        self.refused = frozenset(plan.secrets) | frozenset(plan.nested_secrets)
        """Kwargs where a non-scalar value goes to the walker (secret nodes)."""
        self.jinja = plan.extra_allowed or "template_format" in plan.accepted_keys
        """Whether the default init validator's jinja2 refusal can apply."""
        self.validate = fast_validator(cls)
        self.validate_many: Any = None  # compiled when a long list first needs it
        self.cls = cls


_PLANS: dict[type, _Plan] = {}
_SCALAR_TYPES = (str, int, float, bool, type(None))


def _scalar_only(annotation: Any) -> bool:
    """Whether a field typed ``annotation`` takes only JSON scalars, or lists or dicts of
    them (``str | None``, ``Literal[...]``, ``list[str]``): no object is ever built for it,
    so the fast pass need not look in it (a node there is an ``"lc"`` key it did not
    build, so the walker gets the data)."""
    if annotation in _SCALAR_TYPES:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return all(type(arg) in _SCALAR_TYPES for arg in typing.get_args(annotation))
    if origin is typing.Union or origin is types.UnionType or origin in (list, tuple, set):
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        return bool(args) and all(_scalar_only(arg) for arg in args)
    if origin is dict:
        args = typing.get_args(annotation)
        return len(args) == 2 and _scalar_only(args[1])
    return False


def _scalar_fields(cls: type) -> frozenset[str]:
    """Names and aliases of ``cls``'s fields that take only JSON scalars."""
    found = set()
    for name, info in cls.model_fields.items():  # type: ignore[attr-defined]
        if _scalar_only(info.annotation):
            found.add(name)
            if info.alias:
                found.add(info.alias)
    return frozenset(found)


class _Pass:
    """One fast load: the options and the node count."""

    __slots__ = ("allowed", "jinja", "namespaces", "nodes", "ready")

    def __init__(self, allowed: frozenset[tuple[str, ...]], namespaces: Any, jinja: bool) -> None:
        self.allowed = allowed
        self.namespaces = namespaces
        self.jinja = jinja
        self.nodes = 0
        self.ready: dict[tuple[Any, ...], _Plan] = {}

    def resolve(self, key: tuple[Any, ...]) -> _Plan:
        if not key or not all(type(part) is str for part in key):
            raise _HandBack
        entry = lookup(key)
        if entry is None or key[0] not in self.namespaces or entry.id not in self.allowed:
            raise _HandBack
        cls = class_for(entry)
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _PLANS[cls] = _Plan(cls)
        self.ready[key] = plan
        return plan

    def prepare(self, node: dict[str, Any]) -> tuple[_Plan, dict[str, Any]]:
        """A node's class plan and the kwargs to validate (its nested nodes built)."""
        if node["lc"] != 1 or node.get("type") != "constructor":
            raise _HandBack
        ident = node.get("id")
        if type(ident) is not list:
            raise _HandBack
        key = tuple(ident)
        plan = self.ready.get(key) or self.resolve(key)
        kwargs = node.get("kwargs", _NO_KWARGS)
        if type(kwargs) is not dict:
            raise _HandBack
        self.nodes += 1
        if plan.jinja and self.jinja and kwargs.get("template_format") == "jinja2":
            raise _HandBack
        accepted = plan.accepted
        if accepted is not None and not accepted.issuperset(kwargs):
            raise _HandBack
        values = kwargs
        walked = plan.walked
        for key in kwargs if walked is None else walked:
            raw = kwargs.get(key)
            if type(raw) in _SCALARS:
                continue
            if walked is None and (
                key in plan.skip if plan.walk_extras else key not in plan.walk_set
            ):
                continue
            if key in plan.refused:
                raise _HandBack
            loaded = self.value(raw)
            if loaded is not raw:
                if values is kwargs:
                    values = dict(kwargs)
                values[key] = loaded
        return plan, values

    def node(self, node: dict[str, Any]) -> Any:
        plan, values = self.prepare(node)
        try:
            return plan.validate(values)
        except Exception:
            raise _HandBack from None

    def many(self, items: list[Any]) -> list[Any]:
        """A long list: its nodes validated class by class, one pydantic-core call each."""
        out = list(items)
        groups: dict[_Plan, tuple[list[int], list[dict[str, Any]]]] = {}
        for i, item in enumerate(items):
            if type(item) is dict and "lc" in item:
                plan, values = self.prepare(item)
                group = groups.get(plan)
                if group is None:
                    group = groups[plan] = ([], [])
                group[0].append(i)
                group[1].append(values)
            elif type(item) not in _SCALARS:
                out[i] = self.value(item)
        for plan, (where, values) in groups.items():
            if plan.validate_many is None:
                plan.validate_many = fast_list_validator(plan.cls)
            try:
                built = plan.validate_many(values)
            except Exception:
                raise _HandBack from None
            for i, obj in zip(where, built, strict=True):
                out[i] = obj
        return out

    def value(self, value: Any) -> Any:
        """A kwarg that is not user data: nodes in it become objects, as the walker does."""
        kind = type(value)
        if kind is dict:
            if "lc" in value:
                return self.node(value)
            changed = None
            for key, item in value.items():
                if type(item) in _SCALARS:
                    continue
                loaded = self.value(item)
                if loaded is not item:
                    if changed is None:
                        changed = {}
                    changed[key] = loaded
            return value if changed is None else {**value, **changed}
        if kind is list:
            if len(value) >= _BATCH:
                return self.many(value)
            out = None
            for i, item in enumerate(value):
                if type(item) in _SCALARS:
                    continue
                loaded = (
                    self.node(item) if type(item) is dict and "lc" in item else self.value(item)
                )
                if loaded is not item:
                    if out is None:
                        out = list(value)
                    out[i] = loaded
            return value if out is None else out
        return value


def load_fast(
    data: Any,
    raw: str | bytes,
    *,
    allowed_objects: AllowedObjects = "core",
    valid_namespaces: Iterable[str] | None = None,
    refuse_jinja: bool = True,
    limits: Limits | None = None,
    trusted: bool = False,
    allowed_endpoints: Iterable[str] = (),
) -> Any:
    """What ``load(data, ...)`` returns, or :data:`FALLBACK` for the walker to decide.

    ``raw`` is the JSON text ``data`` was parsed from; ``refuse_jinja`` stands for the
    default ``init_validator`` (any other init validator needs the walker). The other
    options are :func:`~runwire.loader.wire.load`'s; secrets are never resolved here (a
    secret node goes to the walker).
    """
    if type(data) is not list and type(data) is not dict:
        return FALLBACK
    if type(raw) is str:
        raw = raw.encode("utf-8", "surrogatepass")
    elif type(raw) is not bytes:
        raw = bytes(raw)
    if not text_allows(raw, limits or DEFAULT_LIMITS):  # type: ignore[arg-type]
        return FALLBACK
    try:
        allowed = allowed_ids(allowed_objects)
        trust = make_trust(trusted, allowed_endpoints)
    except Exception:  # the walker words the error
        return FALLBACK
    namespaces = (
        DEFAULT_NAMESPACES.union(valid_namespaces) if valid_namespaces else DEFAULT_NAMESPACES
    )
    walk = _Pass(allowed, namespaces, refuse_jinja)
    pause = len(raw) >= _GC_PAUSE_BYTES and gc.isenabled()
    if pause:
        gc.disable()
    try:
        with trust_scope(trust):
            built = walk.value(data)
    except Exception:  # _HandBack, or anything unexpected: the walker decides
        return FALLBACK
    finally:
        if pause:
            gc.enable()
    if raw.count(_LC_KEY) != walk.nodes:  # type: ignore[arg-type]  # an "lc" key it did not build
        return FALLBACK
    return built


def parse_and_load(
    text: str | bytes,
    *,
    limits: Limits | None = None,
    source: str | None = None,
    **options: Any,
) -> tuple[Any, Any]:
    """``(data, objects)``: ``parse_json(text)`` and :func:`load_fast` of it (objects is
    :data:`FALLBACK` when the walker must load the data), the collector paused over both
    for a long text. ``parse_json``'s errors are raised as they are."""
    pause = len(text) >= _GC_PAUSE_BYTES and gc.isenabled()
    if pause:
        gc.disable()
    try:
        data = parse_json(text, limits=limits, source=source)
        return data, load_fast(data, text, limits=limits, **options)
    finally:
        if pause:
            gc.enable()
