"""Kendra ``AttributeFilter``: checked as the API checks it, applied to document attributes.

A filter holds one of ``AndAllFilters``, ``OrAllFilters`` (lists), ``NotFilter`` (a
filter), or a comparison (``EqualsTo``, ``ContainsAll``, ``ContainsAny``,
``GreaterThan``, ``GreaterThanOrEquals``, ``LessThan``, ``LessThanOrEquals``) of a
``DocumentAttribute`` ``{"Key", "Value": {"StringValue" | "StringListValue" |
"LongValue"}}``. ``DateValue`` is not emulated (a ValidationException says so).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from runwire.testing.bedrock.faults import validation_error

__all__ = ["COMPARISONS", "attribute_value", "compile_filter"]

Attributes = Mapping[str, Any]
Predicate = Callable[[Attributes], bool]
_VALUE_KINDS = ("StringValue", "StringListValue", "LongValue", "DateValue")


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """A comparison of two numbers, or two strings; False across kinds."""

    def compare(have: Any, want: Any) -> bool:
        if isinstance(have, bool) or isinstance(want, bool):
            return False
        numbers = isinstance(have, int | float) and isinstance(want, int | float)
        strings = isinstance(have, str) and isinstance(want, str)
        return (numbers or strings) and test(have, want)

    return compare


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "EqualsTo": operator.eq,
    "ContainsAll": lambda have, want: set(_as_list(want)) <= set(_as_list(have)),
    "ContainsAny": lambda have, want: bool(set(_as_list(want)) & set(_as_list(have))),
    "GreaterThan": _ordered(operator.gt),
    "GreaterThanOrEquals": _ordered(operator.ge),
    "LessThan": _ordered(operator.lt),
    "LessThanOrEquals": _ordered(operator.le),
}
"""Comparison -> test(document's value, filter's value)."""


def attribute_value(value: Any, path: str) -> Any:
    """The plain value of a ``DocumentAttributeValue`` (exactly one member)."""
    if not isinstance(value, Mapping) or len(value) != 1:
        raise validation_error(f"{path} must hold exactly one of {', '.join(_VALUE_KINDS)}")
    ((kind, plain),) = value.items()
    if kind == "DateValue":
        raise validation_error(f"{path}: DateValue filters are not emulated")
    if kind not in _VALUE_KINDS:
        raise validation_error(f"{path}: unknown value kind {kind!r}")
    return plain


def compile_filter(spec: Any, path: str = "AttributeFilter") -> Predicate:
    """A predicate over a document's attributes; a ValidationException for a bad filter."""
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise validation_error(f"{path} must set exactly one filter")
    ((name, body),) = spec.items()
    if name in ("AndAllFilters", "OrAllFilters"):
        if not isinstance(body, list) or not body:
            raise validation_error(f"{path}.{name} must be a non-empty list")
        parts = [compile_filter(item, f"{path}.{name}[{i}]") for i, item in enumerate(body)]
        combine = all if name == "AndAllFilters" else any
        return lambda attributes: combine(part(attributes) for part in parts)
    if name == "NotFilter":
        inner = compile_filter(body, f"{path}.NotFilter")
        return lambda attributes: not inner(attributes)
    test = COMPARISONS.get(name)
    if test is None:
        raise validation_error(f"{path}: unknown filter {name!r}")
    if not isinstance(body, Mapping) or not isinstance(body.get("Key"), str):
        raise validation_error(f"{path}.{name} must be a DocumentAttribute with Key and Value")
    key, want = body["Key"], attribute_value(body.get("Value"), f"{path}.{name}.Value")

    def predicate(attributes: Attributes) -> bool:
        return key in attributes and bool(test(attributes[key], want))

    return predicate
