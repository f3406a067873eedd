"""The loader's bounds, and JSON text to data within them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from runwire.errors import LimitExceededError, ManifestError, ManifestSyntaxError

__all__ = ["DEFAULT_LIMITS", "INT_MAX", "INT_MIN", "Limits", "int_fits", "parse_json"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what the loader accepts, each a bound on time and memory.

    JSON is parsed natively (orjson, about 1 GB/s), so its text is bounded by
    ``max_bytes`` alone. YAML is parsed in pure Python (ruamel.yaml): about 50 µs a node,
    and runs of comment lines cost more than linear time, so a load's YAML is bounded
    separately and more tightly, in bytes and in nodes (alias uses and comment lines
    included); with the defaults no load spends more than a second or two parsing.
    Aliases are counted at their full expansion against ``max_nodes`` and ``max_bytes``,
    so no small text expands into a large manifest.
    """

    max_depth: int = 100
    """Deepest nesting of dicts and lists."""
    max_nodes: int = 1_000_000
    """Most dicts, lists and scalars visited (YAML aliases at their full expansion)."""
    max_bytes: int = 16 * 1024 * 1024
    """Largest JSON text ``loads`` will parse; for files, the most one load reads (every
    file and include together) and the most scalar text its data holds once YAML aliases
    are expanded."""
    max_yaml_bytes: int = 1024 * 1024
    """Most YAML text one load parses, every file and include together."""
    max_yaml_nodes: int = 25_000
    """Most YAML nodes (scalars, lists, mappings, alias uses) and comment lines one load
    parses (ruamel keeps comments, at a node's cost or more)."""
    max_includes: int = 200
    """Most includes one load splices in (a file included twice counts twice)."""
    max_include_depth: int = 16
    """Longest chain of files each including the next."""


DEFAULT_LIMITS = Limits()


def parse_json(
    text: str | bytes, *, limits: Limits | None = None, source: str | None = None
) -> Any:
    """Parse JSON text within the size limit, as a ``ManifestError`` on failure.

    Integers are read exactly or refused: orjson turns an integer literal outside 64 bits
    into a float, so such a literal is a :class:`LimitExceededError` at its position.
    """
    limits = limits or DEFAULT_LIMITS
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    size = len(raw)
    if size > limits.max_bytes:
        raise LimitExceededError(
            f"text is {size} bytes, more than the limit of {limits.max_bytes}",
            hint="raise Limits.max_bytes for trusted large manifests",
            file=source,
        )
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _decode_error(exc, text, limits, source) from None
    wide = _find_wide_integer(raw)
    if wide is not None:
        raise _wide_integer_error(wide[1], source, *_line_column(raw, wide[0]))
    return data


INT_MIN = -(2**63)
"""The smallest integer runwire reads and writes exactly (JSON's i64)."""
INT_MAX = 2**64 - 1
"""The largest integer runwire reads and writes exactly (JSON's u64)."""

_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19  # the shortest integer literal outside 64 bits has 19 digits
_ZEROS = re.compile(rb"0+")
_STRIDE = 9  # a run of 18 or more digits covers two consecutive multiples of it
_NOT_BEFORE = frozenset((b".", b"e", b"E", b"+", b"-"))  # a fraction or an exponent
_NOT_AFTER = frozenset((b".", b"e", b"E"))  # a float's integer part
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_ORJSON_DEPTH = 1024  # orjson's own nesting limit, below Python's recursion limit
_NUMBER = re.compile(r"(-?[0-9]+)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def int_fits(value: int) -> bool:
    """Whether an integer is within the 64-bit range runwire reads and writes exactly."""
    return INT_MIN <= value <= INT_MAX


def _literal_fits(digits: str) -> bool:
    """``int_fits`` for an integer literal, without converting one of thousands of digits."""
    if len(digits) - digits.startswith("-") > 20:
        return False
    return int_fits(int(digits))


def _in_string(raw: bytes, pos: int) -> bool:
    """Whether byte ``pos`` of valid JSON is inside a string.

    JSON strings hold no raw newline, so the line start is outside any string; from there
    an odd count of unescaped quotes means inside. Only a line with an escaped backslash
    (where ``\\"`` is no escaped quote) needs its strings matched one by one.
    """
    line = raw.rfind(b"\n", 0, pos) + 1
    if raw.find(b"\\\\", line, pos) < 0:
        return (raw.count(b'"', line, pos) - raw.count(b'\\"', line, pos)) % 2 == 1
    for match in _STRING.finditer(raw, line):
        if match.start() > pos:
            return False
        if match.end() > pos:
            return True
    return False


def _may_hold_long_run(raw: bytes) -> bool:
    """False when ``raw`` surely holds no 19 digits in a row, at a ninth of a full scan.

    Such a run covers two consecutive bytes of every 9th, so only where two sampled bytes
    in a row are digits can one be; those few places are scanned in full (digit-heavy
    text with many such places is scanned whole).
    """
    sample = raw[::_STRIDE].translate(_DIGITS_AS_ZERO)
    at = sample.find(b"00")
    if at < 0:
        return False
    if sample.count(b"00") > 64:
        return True
    while at >= 0:
        start = max(_STRIDE * at - 18, 0)
        if raw[start : _STRIDE * at + 27].translate(_DIGITS_AS_ZERO).find(_LONG_RUN) >= 0:
            return True
        at = sample.find(b"00", at + 1)
    return False


def _find_wide_integer(raw: bytes) -> tuple[int, str] | None:
    """Byte offset and text of the first integer literal outside 64 bits in valid JSON.

    Costs a ``translate`` and a ``find`` on text without a run of 19 digits; each run
    found is then checked where it stands (not a fraction, an exponent or in a string).
    """
    if not _may_hold_long_run(raw):
        return None
    zeros = raw.translate(_DIGITS_AS_ZERO)
    start = zeros.find(_LONG_RUN)
    while start >= 0:
        end = _ZEROS.match(zeros, start).end()  # type: ignore[union-attr]
        begin = start - 1 if start and raw[start - 1] == 0x2D else start  # a minus sign
        if (
            raw[begin - 1 : begin] not in _NOT_BEFORE
            and raw[end : end + 1] not in _NOT_AFTER
            and not _in_string(raw, begin)
        ):
            digits = raw[begin:end].decode("ascii")
            if not _literal_fits(digits):
                return begin, digits
        start = zeros.find(_LONG_RUN, end)
    return None


def _line_column(raw: bytes, pos: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, pos) + 1
    return raw.count(b"\n", 0, pos) + 1, len(raw[line_start:pos].decode("utf-8", "replace")) + 1


def _wide_integer_error(
    digits: str, source: str | None, line: int, column: int
) -> LimitExceededError:
    count = len(digits) - digits.startswith("-")
    shown = digits if count <= 40 else f"of {count} digits"
    return LimitExceededError(
        f"integer {shown} is outside the 64-bit range runwire reads exactly (-2**63 to 2**64-1)",
        hint="quote it as a string if it is an identifier, or write it as a float (1.8e19) "
        "if an approximation will do",
        file=source or "<string>",
        line=line,
        column=column,
    )


def _decode_error(
    exc: orjson.JSONDecodeError, text: str | bytes, limits: Limits, source: str | None
) -> ManifestError:
    """orjson's failure as a runwire error: depth and huge numbers get their own words."""
    reason = str(exc).split(":", 1)[0]
    if "depth" in reason or "recursion" in reason:
        return LimitExceededError(
            f"JSON nested more than {_ORJSON_DEPTH} levels deep",
            hint=f"flatten the manifest: the loader accepts {limits.max_depth} levels "
            "(Limits.max_depth)",
            file=source or "<string>",
            line=exc.lineno,
            column=exc.colno,
        )
    if "infinity" in reason:
        whole = text if isinstance(text, str) else bytes(text).decode("utf-8", "replace")
        number = _NUMBER.match(whole, exc.pos)
        if number is not None and not (number.group(2) or number.group(3)):
            return _wide_integer_error(number.group(1), source, exc.lineno, exc.colno)
        return LimitExceededError(
            "number is outside the range of a 64-bit float",
            hint="write a smaller number, or quote it as a string",
            file=source or "<string>",
            line=exc.lineno,
            column=exc.colno,
        )
    return ManifestSyntaxError(
        f"invalid JSON: {reason}",
        hint="check the JSON near the position shown",
        file=source or "<string>",
        line=exc.lineno,
        column=exc.colno,
    )
