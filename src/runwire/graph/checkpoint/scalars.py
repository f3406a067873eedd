"""The JSON side of checkpoint values: runwire's tagged envelopes for scalars Python has
and JSON lacks, the exceptions rebuilt by name, and the checks for plain JSON.

Used by :mod:`runwire.graph.checkpoint.serde`; nothing here imports a module named by data.
"""

from __future__ import annotations

import base64
import math
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from runwire.errors import ManifestError

__all__ = [
    "BUILTIN_ERRORS",
    "CONSTANTS",
    "DECODE_SCALAR",
    "ESC",
    "INT_MAX",
    "INT_MIN",
    "MAX_DEPTH",
    "SIMPLE_KINDS",
    "TAG",
    "StoredError",
    "as_is",
    "corrupt",
    "is_plain",
    "redact",
    "short_text",
]

TAG = "__rw__"
"""The key of runwire's own tagged envelopes."""
ESC = "__lc_escaped__"
INT_MIN, INT_MAX = -(2**63), 2**64 - 1
MAX_DEPTH = 200
"""The key of an escaped dict, the integers JSON holds exactly, the deepest nesting read."""


class StoredError(RuntimeError):
    """An exception read back from a checkpoint whose type is not a builtin one.

    Attributes:
        type_name: the original exception's class name.
    """

    def __init__(self, message: str, type_name: str = "Exception") -> None:
        super().__init__(message)
        self.type_name = type_name


BUILTIN_ERRORS: dict[str, type[BaseException]] = {
    cls.__name__: cls
    for cls in (Exception, ArithmeticError, AssertionError, AttributeError, ConnectionError,
                IndexError, KeyError, LookupError, NotImplementedError, OSError, RecursionError,
                RuntimeError, TimeoutError, TypeError, ValueError, ZeroDivisionError)
}  # fmt: skip
"""Exceptions rebuilt as themselves; any other type becomes a :class:`StoredError`."""


def redact(text: str) -> str:
    """``text`` with every registered secret masked (when runwire.redaction is loaded)."""
    redaction = sys.modules.get("runwire.redaction")
    return text if redaction is None else redaction.redact(text)


def corrupt(kind: str, why: str = "") -> ManifestError:
    """The error for a stored value of ``kind`` that does not read back."""
    return ManifestError(
        f"stored {kind} value is malformed{': ' + why if why else ''}",
        hint="the checkpoint was edited or damaged; restore it from a good copy",
    )


def is_plain(value: Any, depth: int = 0) -> bool:
    """True when ``value`` is JSON exactly as it stands (kept raw inside an escape)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return INT_MIN <= value <= INT_MAX
    if kind is float:
        return math.isfinite(value)
    if depth > MAX_DEPTH:
        return False
    if kind is list:
        return all(is_plain(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and is_plain(v, depth + 1) for k, v in value.items())
    return False


_SCALAR_KINDS = frozenset((str, bool, type(None)))
CONSTANTS: dict[Any, bytes] = {None: b"null", True: b"true", False: b"false"}
"""The bytes of the three JSON constants, written without a call to orjson."""


def as_is(value: Any, depth: int = 0) -> bool:
    """True when :meth:`LcJsonSerializer.encode` would return ``value`` unchanged: JSON
    with no dict that needs escaping or tagging (then orjson writes it directly)."""
    kind = type(value)
    if kind in _SCALAR_KINDS:
        return True
    if kind is int:
        return INT_MIN <= value <= INT_MAX
    if kind is float:
        return math.isfinite(value)
    if depth > MAX_DEPTH:
        return False
    if kind is list:
        items: Iterable[Any] = value
    elif kind is dict:
        if "lc" in value or TAG in value or (ESC in value and len(value) == 1):
            return False
        for key in value:
            if type(key) is not str:
                return False
        items = value.values()
    else:
        return False
    for item in items:  # scalars inline: most items are
        kind = type(item)
        if kind in _SCALAR_KINDS or (kind is int and INT_MIN <= item <= INT_MAX):
            continue
        if not as_is(item, depth + 1):
            return False
    return True


# python type -> (kind, its JSON payload); DECODE_SCALAR turns a payload back into a value
SIMPLE_KINDS: dict[type, tuple[str, Callable[[Any], Any]]] = {
    bytes: ("bytes", lambda v: base64.b64encode(v).decode("ascii")),
    bytearray: ("bytearray", lambda v: base64.b64encode(v).decode("ascii")),
    datetime: ("datetime", datetime.isoformat),
    date: ("date", date.isoformat),
    time: ("time", time.isoformat),
    timedelta: ("timedelta", lambda v: [v.days, v.seconds, v.microseconds]),
    UUID: ("uuid", str),
    Decimal: ("decimal", str),
}


def short_text(payload: Any, most: int = 1000) -> str:
    """``payload`` if it is a string of at most ``most`` characters, else a TypeError."""
    if type(payload) is not str or len(payload) > most:
        raise TypeError("not a short text")
    return payload


def _b64(payload: Any) -> bytes:
    return base64.b64decode(short_text(payload, 1 << 40).encode("ascii"), validate=True)


def _timedelta(payload: Any) -> timedelta:
    if type(payload) is not list or len(payload) != 3 or any(type(p) is not int for p in payload):
        raise TypeError("not [days, seconds, microseconds]")
    return timedelta(days=payload[0], seconds=payload[1], microseconds=payload[2])


DECODE_SCALAR: dict[str, Callable[[Any], Any]] = {
    "bytes": _b64,
    "bytearray": lambda p: bytearray(_b64(p)),
    "datetime": lambda p: datetime.fromisoformat(short_text(p)),
    "date": lambda p: date.fromisoformat(short_text(p)),
    "time": lambda p: time.fromisoformat(short_text(p)),
    "timedelta": _timedelta,
    "uuid": lambda p: UUID(short_text(p)),
    "decimal": lambda p: Decimal(short_text(p, 4300)),
    "float": {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.__getitem__,
    "int": lambda p: int(short_text(p, 4300)),
}
