"""JSON Schemas from manifests, validated without network, file access or regex blow-ups.

A schema in a manifest (``PydanticOutputParser(json_schema=...)``) is untrusted input, and
validating model output against it must not reach outside the process or take
super-linear time. :func:`schema_validator` gives a jsonschema validator that:

- resolves ``$ref`` / ``$dynamicRef`` only inside the schema itself (``#/$defs/X``,
  ``#anchor``, embedded ``$id`` resources) and the bundled JSON Schema meta-schemas: the
  registry has no retrieval, so no URL (``http://``, ``file://``, ...) is ever fetched.
  :func:`check_schema_refs` finds outside references when the parser is built;
- evaluates ``pattern`` and ``patternProperties`` (and the ``additionalProperties`` that
  depends on them) with RE2, whose matching time is linear in the text. Patterns RE2
  cannot compile (backreferences, lookaround) are refused when the parser is built.
  ``unevaluatedProperties`` together with ``patternProperties`` is refused, since
  jsonschema evaluates that combination with Python's backtracking ``re``;
  ``format: regex`` is never asserted (no format checker is used).

A schema that refers to itself without descending into the instance (``{"$ref": "#"}``)
is reported as an error when output is validated, not as a ``RecursionError``, and one
validation evaluates at most :data:`MAX_SCHEMA_STEPS` keywords, so a schema whose
``allOf``/``anyOf`` refs fan out exponentially stops with an error instead of running
for hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

__all__ = [
    "MAX_SCHEMA_STEPS",
    "SchemaStepsExceeded",
    "check_schema_refs",
    "compile_pattern",
    "counting_steps",
    "schema_problems",
    "schema_validator",
]

MAX_SCHEMA_STEPS = 100_000
"""Most keyword evaluations one validation of model output may take (a module setting;
about a second of work at worst)."""
_STEPS: ContextVar[list[int] | None] = ContextVar("runwire_schema_steps", default=None)


class SchemaStepsExceeded(ValueError):
    """Validating one output against the schema took more than ``MAX_SCHEMA_STEPS``."""


_DATA_KEYWORDS = frozenset(("enum", "const", "default", "examples", "required"))
"""Keywords whose values are data, never subschemas."""
_MAP_KEYWORDS = frozenset(
    ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
)
"""Keywords whose values map names (or patterns) to subschemas."""
_REF_KEYWORDS = ("$ref", "$dynamicRef")
_ID_KEYWORDS = ("$id", "id")

_HINT_REF = (
    "make the schema self-contained: copy the referenced schema under $defs and refer to it "
    "as '#/$defs/<name>'"
)
_HINT_PATTERN = (
    "rewrite the pattern without backreferences or lookaround (RE2 syntax), or check that "
    "part in a later step"
)


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The RE2 regex of a schema pattern; ``ValueError`` when RE2 cannot compile it."""
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(
            f"pattern {pattern[:80]!r} is not supported: the linear-time regex engine (RE2) "
            f"cannot compile it ({reason}); {_HINT_PATTERN}"
        ) from None


def _walk(schema: Any) -> Iterator[tuple[str, Any, str]]:
    """Yield ``(kind, value, base_uri)`` for ids, refs, patterns and notable keywords.

    Iterative (no recursion limit on deep schemas); data keywords are skipped.
    """
    stack: list[tuple[Any, str, bool]] = [(schema, "", True)]  # (node, base, is a schema)
    while stack:
        node, base, is_schema = stack.pop()
        if isinstance(node, list):
            stack.extend((item, base, True) for item in node if isinstance(item, dict | list))
            continue
        if not isinstance(node, dict):
            continue
        if not is_schema:  # a name -> subschema map
            stack.extend((v, base, True) for v in node.values() if isinstance(v, dict | list))
            continue
        for key in _ID_KEYWORDS:
            ident = node.get(key)
            if isinstance(ident, str) and not ident.startswith("#"):
                base = urljoin(base, ident).partition("#")[0]
                yield "id", base, base
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            if key in _REF_KEYWORDS and isinstance(value, str):
                yield "ref", value, base
            elif key == "pattern" and isinstance(value, str):
                yield "pattern", value, base
            elif key in _MAP_KEYWORDS and isinstance(value, dict):
                if key == "patternProperties":
                    yield "keyword", key, base
                    for pattern in value:
                        yield "pattern", pattern, base
                stack.append((value, base, False))
            elif isinstance(value, dict | list):
                if key == "unevaluatedProperties":
                    yield "keyword", key, base
                stack.append((value, base, True))
            elif key == "unevaluatedProperties":
                yield "keyword", key, base


def _known_remote(uri: str) -> bool:
    """Whether ``uri`` is a bundled JSON Schema meta-schema (resolved offline)."""
    from jsonschema_specifications import REGISTRY

    return uri in REGISTRY or uri.rstrip("#") in REGISTRY


def schema_problems(schema: Any) -> list[str]:
    """What makes ``schema`` unsafe to evaluate: outside refs, patterns RE2 refuses, ..."""
    ids: set[str] = {""}
    refs: list[tuple[str, str]] = []
    keywords: set[str] = set()
    problems: list[str] = []
    for kind, value, base in _walk(schema):
        if kind == "id":
            ids.add(value)
        elif kind == "ref":
            refs.append((value, base))
        elif kind == "keyword":
            keywords.add(value)
        else:
            try:
                compile_pattern(value)
            except ValueError as exc:
                problems.append(str(exc))
    for ref, base in refs:
        uri = urljoin(base, ref).partition("#")[0]
        if uri not in ids and not _known_remote(uri):
            problems.append(
                f"$ref {ref[:120]!r} points outside the schema: remote and file references "
                f"are never fetched; {_HINT_REF}"
            )
    if {"unevaluatedProperties", "patternProperties"} <= keywords:
        problems.append(
            "unevaluatedProperties together with patternProperties is not supported (it "
            "would evaluate the patterns with a backtracking regex engine); use "
            "additionalProperties instead"
        )
    return problems


def check_schema_refs(schema: Any) -> None:
    """Raise ``ValueError`` naming the first problem :func:`schema_problems` finds."""
    problems = schema_problems(schema)
    if problems:
        raise ValueError(problems[0])


# -- keywords on RE2 -------------------------------------------------------------------
def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and compile_pattern(pattern).search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        regex = compile_pattern(pattern)
        for key, value in instance.items():
            if regex.search(key) is not None:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _extra_keys(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Keys neither ``properties`` nor a ``patternProperties`` pattern covers."""
    properties = schema.get("properties", {})
    regexes = [compile_pattern(p) for p in schema.get("patternProperties", {})]
    return [
        key
        for key in instance
        if key not in properties and not any(r.search(key) is not None for r in regexes)
    ]


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    extras = _extra_keys(instance, schema)
    if validator.is_type(additional, "object"):
        for key in extras:
            yield from validator.descend(instance[key], additional, path=key)
    elif additional is False and extras:
        listed = ", ".join(repr(key) for key in sorted(extras))
        yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


_RE2_KEYWORDS = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
}


@contextmanager
def counting_steps() -> Iterator[None]:
    """Count keyword evaluations in this block; over ``MAX_SCHEMA_STEPS`` they raise."""
    token = _STEPS.set([0])
    try:
        yield
    finally:
        _STEPS.reset(token)


def _counted(keyword: Callable[..., Any]) -> Callable[..., Any]:
    def counted(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        steps = _STEPS.get()
        if steps is not None:
            steps[0] += 1
            if steps[0] > MAX_SCHEMA_STEPS:
                raise SchemaStepsExceeded(
                    f"validating the output takes more than {MAX_SCHEMA_STEPS} schema steps "
                    "(allOf/anyOf/oneOf references that fan out, or a very large output)"
                )
        return keyword(validator, value, instance, schema)

    return counted


@lru_cache(maxsize=16)
def _safe_class(base: type) -> type:
    """``base`` (a draft's validator class): regex keywords on RE2, every keyword counted."""
    from jsonschema.validators import extend

    keywords = {**base.VALIDATORS, **_RE2_KEYWORDS}  # type: ignore[attr-defined]
    return extend(base, {name: _counted(fn) for name, fn in keywords.items()})  # type: ignore[no-any-return]


def schema_validator(schema: dict[str, Any]) -> Any:
    """A jsonschema validator for ``schema``: local refs only, regexes on RE2.

    Raises ``ValueError`` when :func:`schema_problems` finds something.
    """
    from jsonschema.validators import Draft202012Validator, validator_for
    from referencing import Registry

    check_schema_refs(schema)
    base = validator_for(schema, default=Draft202012Validator)
    return _safe_class(base)(schema, registry=Registry())
