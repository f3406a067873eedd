"""Knowledge Bases ``RetrievalFilter``: checked as the API checks it, applied to metadata.

A filter is an object with exactly one operator: ``equals``, ``notEquals``,
``greaterThan``, ``greaterThanOrEquals``, ``lessThan``, ``lessThanOrEquals``, ``in``,
``notIn``, ``startsWith``, ``listContains``, ``stringContains`` (each ``{"key",
"value"}``), or ``andAll`` / ``orAll`` (lists of at least two filters).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from runwire.testing.bedrock.faults import validation_error

__all__ = ["OPERATORS", "compile_filter"]

Metadata = Mapping[str, Any]
Predicate = Callable[[Metadata], bool]
_MISSING = object()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """A numeric comparison: False when the metadata value is not a number."""
    return lambda have, want: _number(have) and test(have, want)


def _string_contains(have: Any, want: Any) -> bool:
    if isinstance(have, str):
        return want in have
    return isinstance(have, list) and any(isinstance(v, str) and want in v for v in have)


OPERATORS: dict[str, tuple[Callable[[Any, Any], bool], Callable[[Any], bool], str]] = {
    # name: (test(metadata value, filter value), check of the filter value, what it wants)
    "equals": (operator.eq, lambda v: True, "any value"),
    "notEquals": (operator.ne, lambda v: True, "any value"),
    "greaterThan": (_compare(operator.gt), _number, "a number"),
    "greaterThanOrEquals": (_compare(operator.ge), _number, "a number"),
    "lessThan": (_compare(operator.lt), _number, "a number"),
    "lessThanOrEquals": (_compare(operator.le), _number, "a number"),
    "in": (lambda have, want: have in want, lambda v: isinstance(v, list), "a list"),
    "notIn": (lambda have, want: have not in want, lambda v: isinstance(v, list), "a list"),
    "startsWith": (
        lambda have, want: isinstance(have, str) and have.startswith(want),
        lambda v: isinstance(v, str),
        "a string",
    ),
    "listContains": (
        lambda have, want: isinstance(have, list) and want in have,
        lambda v: isinstance(v, str | int | float | bool),
        "a string, number or boolean",
    ),
    "stringContains": (_string_contains, lambda v: isinstance(v, str), "a string"),
}
"""Operator -> (test, check of the filter value, what the value must be)."""
_NEGATIVE = frozenset(("notEquals", "notIn"))
"""Operators that hold for a document without the key."""


def _leaf(name: str, body: Any, path: str) -> Predicate:
    test, check, wanted = OPERATORS[name]
    if not isinstance(body, Mapping) or set(body) != {"key", "value"}:
        raise validation_error(f"{path}.{name} must be an object with 'key' and 'value'")
    key, want = body["key"], body["value"]
    if not isinstance(key, str) or not key:
        raise validation_error(f"{path}.{name}.key must be a non-empty string")
    if not check(want):
        raise validation_error(f"{path}.{name}.value must be {wanted}")
    negative = name in _NEGATIVE

    def predicate(metadata: Metadata) -> bool:
        have = metadata.get(key, _MISSING)
        if have is _MISSING:
            return negative
        return bool(test(have, want))

    return predicate


def compile_filter(spec: Any, path: str = "filter") -> Predicate:
    """A predicate over a document's metadata; a ValidationException for a bad filter."""
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise validation_error(f"{path} must be an object with exactly one operator")
    ((name, body),) = spec.items()
    if name in ("andAll", "orAll"):
        if not isinstance(body, list) or len(body) < 2:
            raise validation_error(f"{path}.{name} must be a list of at least 2 filters")
        parts = [compile_filter(item, f"{path}.{name}[{i}]") for i, item in enumerate(body)]
        combine = all if name == "andAll" else any
        return lambda metadata: combine(part(metadata) for part in parts)
    if name not in OPERATORS:
        known = ", ".join(sorted((*OPERATORS, "andAll", "orAll")))
        raise validation_error(f"{path}: unknown operator {name!r}; one of {known}")
    return _leaf(name, body, path)
