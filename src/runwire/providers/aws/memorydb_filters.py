"""Metadata filters of ``InMemoryVectorStore``: langchain-aws's filter expressions.

Build them with comparison operators and combine with ``&`` and ``|``; ``str()`` is the
query syntax the search engine reads::

    (InMemoryDBTag("brand") == "nike") & (InMemoryDBNum("price") < 100)
    # '(@brand:{nike} @price:[-inf (100])'
    InMemoryDBText("job") % "engine*"     # '@job:(engine*)'

A filter passed as a string is used as written (a manifest's ``search_kwargs.filter``).
Field names and LIKE values that could break out of the field are refused; tag values
are escaped.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "InMemoryDBFilter",
    "InMemoryDBFilterExpression",
    "InMemoryDBNum",
    "InMemoryDBTag",
    "InMemoryDBText",
    "escape_token",
]

_ESCAPED = re.compile(r"[,.<>{}\[\]\\\"':;!@#$%^&*()\-+=~/| ]")
_UNSAFE_FIELD = frozenset(':@(){}[]|"\\')
_UNSAFE_LIKE = frozenset('"()@{}[]\\')


def escape_token(value: str) -> str:
    """``value`` with the query language's punctuation escaped by backslashes."""
    return _ESCAPED.sub(lambda m: "\\" + m.group(0), value)


class InMemoryDBFilterExpression:
    """A filter: a query fragment, or two filters joined by AND (``&``) or OR (``|``)."""

    def __init__(
        self,
        _filter: str | None = None,
        operator: str | None = None,
        left: InMemoryDBFilterExpression | None = None,
        right: InMemoryDBFilterExpression | None = None,
    ) -> None:
        self._filter = _filter
        self._operator = operator
        self._left = left
        self._right = right

    def __and__(self, other: InMemoryDBFilterExpression) -> InMemoryDBFilterExpression:
        return InMemoryDBFilterExpression(operator="AND", left=self, right=other)

    def __or__(self, other: InMemoryDBFilterExpression) -> InMemoryDBFilterExpression:
        return InMemoryDBFilterExpression(operator="OR", left=self, right=other)

    def __str__(self) -> str:
        if self._operator:
            if not isinstance(self._left, InMemoryDBFilterExpression) or not isinstance(
                self._right, InMemoryDBFilterExpression
            ):
                raise TypeError("Both sides of & and | must be filter expressions")
            left, right = str(self._left), str(self._right)
            if left == "*" or right == "*":
                return right if left == "*" else left
            joint = " | " if self._operator == "OR" else " "
            return f"({left}{joint}{right})"
        if not self._filter:
            raise ValueError("Improperly initialized InMemoryDBFilterExpression")
        return self._filter

    def __repr__(self) -> str:
        return f"InMemoryDBFilterExpression({str(self)!r})"


class _FilterField:
    OPERATORS: tuple[str, ...] = ()

    def __init__(self, field: str) -> None:
        if not field or any(c.isspace() for c in field) or _UNSAFE_FIELD.intersection(field):
            raise ValueError(f"Invalid filter field name: {field!r}")
        self._field = field

    def _expression(self, operator: str, text: str) -> InMemoryDBFilterExpression:
        if operator not in self.OPERATORS:
            raise ValueError(
                f"Operator {operator} not supported by {type(self).__name__}. "
                f"Supported operators are {self.OPERATORS}."
            )
        return InMemoryDBFilterExpression(text)

    def _check(self, other: Any, types: tuple[type, ...], operator: str) -> None:
        if isinstance(other, _FilterField):
            raise ValueError(
                "Equality operators are overridden for FilterExpression creation. "
                "Use .equals() for equality checks"
            )
        if not isinstance(other, types) or isinstance(other, bool):
            raise TypeError(
                f"Right side argument passed to operator {operator} with left side argument "
                f"{type(self).__name__} must be of type {types}, received value {other}"
            )

    def equals(self, other: object) -> bool:
        """Whether ``other`` is a filter on the same field (``==`` builds a filter)."""
        return type(other) is type(self) and other._field == self._field  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


class InMemoryDBTag(_FilterField):
    """A TAG field: ``==`` / ``!=`` a tag or any of a list of tags."""

    OPERATORS = ("==", "!=")

    def _tags(self, other: Any, operator: str) -> str:
        self._check(other, (list, set, tuple, str, type(None)), operator)
        if isinstance(other, list | set | tuple):
            values = [str(v) for v in other if v]
        else:
            values = [other] if other else []
        return "|".join(escape_token(v) for v in values)

    def __eq__(self, other: Any) -> InMemoryDBFilterExpression:  # type: ignore[override]
        tags = self._tags(other, "==")
        return self._expression("==", f"@{self._field}:{{{tags}}}" if tags else "*")

    def __ne__(self, other: Any) -> InMemoryDBFilterExpression:  # type: ignore[override]
        tags = self._tags(other, "!=")
        return self._expression("!=", f"(-@{self._field}:{{{tags}}})" if tags else "*")


class InMemoryDBNum(_FilterField):
    """A NUMERIC field: ``==``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` a number."""

    OPERATORS = ("==", "!=", "<", ">", "<=", ">=")
    _FORMATS = {
        "==": "@{f}:[{v} {v}]",
        "!=": "(-@{f}:[{v} {v}])",
        ">": "@{f}:[({v} +inf]",
        "<": "@{f}:[-inf ({v}]",
        ">=": "@{f}:[{v} +inf]",
        "<=": "@{f}:[-inf {v}]",
    }

    def _num(self, other: Any, operator: str) -> InMemoryDBFilterExpression:
        self._check(other, (int, float, type(None)), operator)
        if other is None:
            return self._expression(operator, "*")
        return self._expression(operator, self._FORMATS[operator].format(f=self._field, v=other))

    def __eq__(self, other: Any) -> InMemoryDBFilterExpression:  # type: ignore[override]
        return self._num(other, "==")

    def __ne__(self, other: Any) -> InMemoryDBFilterExpression:  # type: ignore[override]
        return self._num(other, "!=")

    def __lt__(self, other: Any) -> InMemoryDBFilterExpression:
        return self._num(other, "<")

    def __gt__(self, other: Any) -> InMemoryDBFilterExpression:
        return self._num(other, ">")

    def __le__(self, other: Any) -> InMemoryDBFilterExpression:
        return self._num(other, "<=")

    def __ge__(self, other: Any) -> InMemoryDBFilterExpression:
        return self._num(other, ">=")


class InMemoryDBText(_FilterField):
    """A TEXT field: ``==`` / ``!=`` a phrase, ``%`` a pattern (``engine*``, ``%%engine%%``,
    ``a|b``, ``a b``)."""

    OPERATORS = ("==", "!=", "%")

    def _phrase(self, other: Any, operator: str) -> str | None:
        self._check(other, (str, type(None)), operator)
        if not other:
            return None
        return other.replace("\\", "\\\\").replace('"', '\\"')

    def __eq__(self, other: Any) -> InMemoryDBFilterExpression:  # type: ignore[override]
        value = self._phrase(other, "==")
        return self._expression("==", f'@{self._field}:("{value}")' if value else "*")

    def __ne__(self, other: Any) -> InMemoryDBFilterExpression:  # type: ignore[override]
        value = self._phrase(other, "!=")
        return self._expression("!=", f'(-@{self._field}:"{value}")' if value else "*")

    def __mod__(self, other: Any) -> InMemoryDBFilterExpression:
        self._check(other, (str, type(None)), "%")
        if not other:
            return self._expression("%", "*")
        unsafe = _UNSAFE_LIKE.intersection(other)
        if unsafe:
            chars = "".join(sorted(unsafe))
            raise ValueError(f"LIKE filter value contains unsupported query syntax: {chars!r}")
        return self._expression("%", f"@{self._field}:({other})")


class InMemoryDBFilter:
    """Shortcuts: ``InMemoryDBFilter.tag("brand") == "nike"``."""

    @staticmethod
    def text(field: str) -> InMemoryDBText:
        return InMemoryDBText(field)

    @staticmethod
    def num(field: str) -> InMemoryDBNum:
        return InMemoryDBNum(field)

    @staticmethod
    def tag(field: str) -> InMemoryDBTag:
        return InMemoryDBTag(field)
