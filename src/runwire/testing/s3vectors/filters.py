"""S3 Vectors metadata filters, as the service documents them.

A filter is an object of conditions, all of which must hold: ``{"genre": "scifi"}``
(equality), ``{"year": {"$gte": 2020}}``, ``{"$and": [...]}``, ``{"$or": [...]}``.
Operators: ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte`` (numbers), ``$in``,
``$nin`` (lists), ``$exists`` (booleans). An array metadata value matches ``$eq`` and
``$in`` when any of its items does. Non-filterable keys cannot be filtered on.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

from runwire.testing.bedrock.faults import validation_error

__all__ = ["compile_filter"]

Predicate = Callable[[Mapping[str, Any]], bool]
_MISSING = object()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda have, want: _number(have) and test(have, want)


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _list(value: Any) -> bool:
    return isinstance(value, list) and bool(value)


def _any_in(have: Any, want: list[Any]) -> bool:
    return any(v in want for v in _items(have))


_OPERATORS: dict[str, tuple[Callable[[Any, Any], bool], Callable[[Any], bool], str]] = {
    "$eq": (lambda have, want: want in _items(have), _scalar, "a scalar"),
    "$ne": (lambda have, want: want not in _items(have), _scalar, "a scalar"),
    "$gt": (_ordered(operator.gt), _number, "a number"),
    "$gte": (_ordered(operator.ge), _number, "a number"),
    "$lt": (_ordered(operator.lt), _number, "a number"),
    "$lte": (_ordered(operator.le), _number, "a number"),
    "$in": (_any_in, _list, "a non-empty list"),
    "$nin": (lambda have, want: not _any_in(have, want), _list, "a non-empty list"),
    "$exists": (lambda have, want: True, lambda v: isinstance(v, bool), "true or false"),
}
"""Operator -> (test(metadata value, operand), check of the operand, what it must be)."""


def _condition(key: str, spec: Any, unfilterable: Collection[str]) -> Predicate:
    if key in unfilterable:
        raise validation_error(f"Invalid filter: metadata key {key!r} is not filterable")
    if not isinstance(spec, dict):
        spec = {"$eq": spec}
    if len(spec) != 1:
        raise validation_error(f"Invalid filter: {key!r} must have exactly one operator")
    ((name, operand),) = spec.items()
    if name not in _OPERATORS:
        raise validation_error(f"Invalid filter: unknown operator {name!r} for {key!r}")
    test, check, wanted = _OPERATORS[name]
    if not check(operand):
        raise validation_error(f"Invalid filter: {name} on {key!r} takes {wanted}")

    def predicate(metadata: Mapping[str, Any]) -> bool:
        have = metadata.get(key, _MISSING)
        if name == "$exists":
            return (have is not _MISSING) is operand
        if have is _MISSING:
            return name in ("$ne", "$nin")
        return bool(test(have, operand))

    return predicate


def compile_filter(spec: Any, unfilterable: Collection[str] = ()) -> Predicate:
    """A predicate over one vector's metadata; a ValidationException for a bad filter."""
    if not isinstance(spec, dict) or not spec:
        raise validation_error("Invalid filter: expected a non-empty object")
    parts: list[Predicate] = []
    for key, value in spec.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise validation_error(f"Invalid filter: {key} takes a non-empty list")
            inner = [compile_filter(item, unfilterable) for item in value]
            combine = all if key == "$and" else any
            parts.append(lambda m, inner=inner, combine=combine: combine(p(m) for p in inner))
        elif key.startswith("$"):
            raise validation_error(f"Invalid filter: unknown operator {key!r}")
        else:
            parts.append(_condition(key, value, unfilterable))
    return lambda metadata: all(part(metadata) for part in parts)
