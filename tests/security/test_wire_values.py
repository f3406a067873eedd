"""Wire values stay what they say: integers exact or refused, deep or huge numbers as
runwire errors, and user data fields (message kwargs, metadata, content blocks) as data."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from runwire.errors import LimitExceededError, ManifestError, NotAllowedError
from runwire.loader import load, loads
from runwire.loader.files import load_file
from runwire.loader.limits import INT_MAX, INT_MIN, int_fits, parse_json
from runwire.runtime.prompts import ChatPromptTemplate
from runwire.schema.documents import Document
from runwire.schema.dump import dumps
from runwire.schema.messages import AIMessage, HumanMessage, ToolMessage

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


@pytest.mark.parametrize(
    "text",
    [
        r'["a\" 18446744073709551616"]',  # an escaped quote: still inside the string
        r'["\\\" 18446744073709551616 "]',  # an escaped backslash, then an escaped quote
        '{"ts": "18446744073709551616",\n "n": 1}',
        "[1e-12345678901234567890]",
        "[-0.18446744073709551616]",
    ],
)
def test_digit_runs_in_strings_fractions_and_exponents_are_not_integers(text: str) -> None:
    parse_json(text)


@pytest.mark.parametrize(
    ("text", "column"),
    [(r'["\\", 18446744073709551616]', 8), ('["é", -18446744073709551616]', 7)],
)
def test_a_wide_integer_after_tricky_strings_is_found(text: str, column: int) -> None:
    with pytest.raises(LimitExceededError) as caught:
        parse_json(text.encode())
    assert caught.value.column == column


# -- user data fields -------------------------------------------------------------------

_PROMPT = {
    "lc": 1,
    "type": "constructor",
    "id": ["runwire", "prompts", "prompt", "PromptTemplate"],
    "kwargs": {"template": "{x}", "input_variables": ["x"]},
}


def _node(ident: list[str], **kwargs: Any) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ident, "kwargs": kwargs}


def _ai(**kwargs: Any) -> dict[str, Any]:
    return _node(["runwire", "messages", "AIMessage"], content="hi", **kwargs)


@pytest.mark.parametrize(
    ("node", "where"),
    [
        (_ai(additional_kwargs={"x": _PROMPT}), "AIMessage.additional_kwargs"),
        (_ai(response_metadata={"deep": [{"x": _PROMPT}]}), "AIMessage.response_metadata"),
        (_ai(some_extra={"x": _PROMPT}), "AIMessage.some_extra"),
        (
            _node(["runwire", "messages", "HumanMessage"], content=[{"type": "text"}, _PROMPT]),
            "HumanMessage.content",
        ),
        (
            _ai(tool_calls=[{"name": "t", "args": {"q": _PROMPT}, "id": "1"}]),
            "AIMessage.tool_calls",
        ),
        (
            _node(["runwire", "documents", "Document"], page_content="p", metadata={"x": _PROMPT}),
            "Document.metadata",
        ),
    ],
)
def test_a_constructor_node_in_user_data_is_refused(node: dict[str, Any], where: str) -> None:
    with pytest.raises(NotAllowedError) as caught:
        load(node)
    assert where in caught.value.message
    assert "__lc_escaped__" in caught.value.hint


def test_the_langchain_id_of_a_message_gets_the_same_rule() -> None:
    node = _node(
        ["langchain", "schema", "messages", "AIMessage"],
        content="hi",
        additional_kwargs={"x": _PROMPT},
    )
    with pytest.raises(NotAllowedError):
        load(node)


@pytest.mark.parametrize(
    "message",
    [
        AIMessage(content="hi", additional_kwargs={"x": _PROMPT}, response_metadata={"lc": 2}),
        HumanMessage(content=[{"type": "text", "text": "t", "lc": 1}]),
        AIMessage(
            content="", tool_calls=[{"name": "t", "args": {"lc": 1, "id": ["x"]}, "id": "1"}]
        ),
    ],
)
def test_lc_looking_dicts_in_user_data_round_trip_as_dicts(message: Any) -> None:
    text = dumps(message)
    assert "__lc_escaped__" in text
    assert loads(text) == message


def test_a_document_with_an_lc_dict_in_metadata_round_trips() -> None:
    document = Document(page_content="p", metadata={"source": _PROMPT})
    assert loads(dumps(document)) == document


def test_objects_still_load_in_fields_that_take_objects() -> None:
    prompt = loads(dumps(ChatPromptTemplate.from_messages([("human", "{q}")])))
    assert isinstance(prompt, ChatPromptTemplate)
    tool = ToolMessage(content="c", tool_call_id="1", artifact=[Document(page_content="p")])
    assert loads(dumps(tool)) == tool


def test_in_a_yaml_file_the_refusal_is_located_and_its_hint_works(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    path = tmp_path / "m.yaml"
    path.write_text(YAML_MESSAGE.format(inner="    _type: PromptTemplate\n    template: '{a}'"))
    with pytest.raises(NotAllowedError) as caught:
        load_file(path)
    assert (caught.value.file, caught.value.line) == (str(path), 4)
    path.write_text(
        YAML_MESSAGE.format(inner="    __lc_escaped__: {_type: PromptTemplate, template: '{a}'}")
    )
    message = load_file(path)
    assert message.additional_kwargs == {"x": {"_type": "PromptTemplate", "template": "{a}"}}


YAML_MESSAGE = """\
_type: AIMessage
content: hi
additional_kwargs:
  x:
{inner}
"""


def _random_json(rng: random.Random) -> str:
    """A JSON list mixing digit runs of every length in integers, strings and floats."""
    items = []
    for _ in range(rng.randint(1, 12)):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 26)))
        digits = digits.lstrip("0") or "0"
        sign = rng.choice(["", "-"])
        escape = rng.choice(["", "\\\\", '\\"', "x"])
        items.append(
            rng.choice(
                [
                    f"{sign}{digits}",
                    f'"{escape}{digits}"',
                    f'"a {escape} {sign}{digits}"',
                    f"{sign}{digits}.5",
                    f"1e-{digits}",
                    f'{{"{digits}": {sign}{digits}}}',
                ]
            )
        )
    return "[" + (", " if rng.random() < 0.5 else ",\n").join(items) + "]"


def _reference_refuses(text: str) -> bool:
    wide = []
    json.loads(text, parse_int=lambda s: wide.append(not int_fits(int(s))) or 0)
    return any(wide)


def test_the_wide_integer_check_agrees_with_a_full_parse_on_random_json() -> None:
    rng = random.Random(1313)
    for _ in range(2000):
        text = _random_json(rng)
        try:
            parse_json(text)
            refused = False
        except LimitExceededError:
            refused = True
        assert refused == _reference_refuses(text), text
