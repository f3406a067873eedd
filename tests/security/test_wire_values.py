"""Wire values stay what they say: integers exact or refused, deep or huge numbers as
runwire errors, and user data fields (message kwargs, metadata, content blocks) as data."""

from __future__ import annotations

import pytest

from runwire.errors import LimitExceededError, ManifestError
from runwire.loader import loads
from runwire.loader.limits import INT_MAX, INT_MIN, int_fits, parse_json

# -- integers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "literal",
    ["18446744073709551616", "-9223372036854775809", "100000000000000000000000000000"],
)
def test_integer_outside_64_bits_is_refused_with_its_position(literal: str) -> None:
    text = '{"a": [1,\n  ' + literal + "]}"
    with pytest.raises(LimitExceededError) as caught:
        parse_json(text, source="m.json")
    error = caught.value
    assert literal in error.message and "64-bit" in error.message
    assert (error.file, error.line, error.column) == ("m.json", 2, 3)
    assert "string" in error.hint and "float" in error.hint


def test_loads_refuses_a_wide_integer_instead_of_rounding_it() -> None:
    with pytest.raises(LimitExceededError):
        loads('{"n": 18446744073709551616}')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"[{INT_MAX}, {INT_MIN}]", [INT_MAX, INT_MIN]),
        ('["18446744073709551616123"]', ["18446744073709551616123"]),
        ('{"k\\"": "x 1234567890123456789012 y"}', {'k"': "x 1234567890123456789012 y"}),
        ("[0.12345678901234567890123]", [0.12345678901234567890123]),
        ("[12345678901234567890123e-3]", [12345678901234567890123e-3]),
    ],
)
def test_values_in_range_and_long_digit_runs_elsewhere_load_exactly(
    text: str, expected: object
) -> None:
    assert parse_json(text) == expected
    assert parse_json(text.encode()) == expected


def test_int_fits_is_the_range_orjson_reads_and_writes() -> None:
    assert int_fits(INT_MAX) and int_fits(INT_MIN)
    assert not int_fits(INT_MAX + 1) and not int_fits(INT_MIN - 1)


def test_a_5000_digit_integer_is_a_limit_error_not_a_value_error() -> None:
    with pytest.raises(LimitExceededError) as caught:
        parse_json('{"n": ' + "7" * 5000 + "}")
    assert "5000 digits" in caught.value.message
    assert caught.value.column == 7
    assert len(str(caught.value)) < 400  # the literal itself is not echoed


def test_a_float_beyond_double_range_is_a_limit_error() -> None:
    with pytest.raises(LimitExceededError, match="64-bit float"):
        parse_json("[1e999]")


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_10000_deep_is_a_limit_error(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * 10_000 + "1" + closer * 10_000
    with pytest.raises(LimitExceededError) as caught:
        loads(text)
    assert "levels deep" in caught.value.message
    assert "max_depth" in caught.value.hint


def test_invalid_json_stays_a_syntax_error() -> None:
    with pytest.raises(ManifestError, match="invalid JSON"):
        parse_json('{"a": }')
