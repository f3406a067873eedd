"""Output parsers built from untrusted manifests: no fetched ``$ref``, no regex blow-ups.

Regression corpus for issue 13: ``PydanticOutputParser`` fetched ``$ref`` URLs (``http://``
and ``file://``) on invoke, and ``"pattern": "^(a+)+$"`` hung for more than 20 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from conftest import loopback_http
from runwire.errors import FieldValidationError, ManifestError
from runwire.loader import loads
from runwire.runtime.parsers import OutputParserException, PydanticOutputParser

EVIL = "^(a+)+$"
"""Exponential for a backtracking engine on ``"a" * n + "b"``."""
SLOW_TEXT = "a" * 5000 + "b"


def _manifest(schema: dict[str, Any]) -> str:
    return json.dumps(
        {
            "lc": 1,
            "type": "constructor",
            "id": ["runwire", "output_parsers", "PydanticOutputParser"],
            "kwargs": {"json_schema": schema},
        }
    )


@pytest.fixture
def counting_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server answering a JSON Schema; the list records every request."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b'{"type": "string"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/schema+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    with loopback_http(Handler) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits


# -- no remote or file $ref ------------------------------------------------------------
@pytest.mark.parametrize(
    "shape",
    ["root", "property", "id-base", "dynamic"],
)
def test_remote_ref_is_refused_at_load_and_never_fetched(
    counting_server: tuple[str, list[str]], shape: str
) -> None:
    url, hits = counting_server
    schema = {
        "root": {"$ref": f"{url}/schema.json"},
        "property": {"type": "object", "properties": {"a": {"$ref": f"{url}/a.json"}}},
        "id-base": {"$id": f"{url}/base/", "$ref": "other.json"},
        "dynamic": {"$dynamicRef": f"{url}/d.json#meta"},
    }[shape]
    with pytest.raises(FieldValidationError) as info:
        loads(_manifest(schema))
    assert "points outside the schema" in str(info.value)
    assert "$defs" in str(info.value)  # the hint leads to a self-contained schema
    assert hits == []


def test_file_ref_is_refused_and_the_file_is_not_read(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text('{"type": "string"}')
    with pytest.raises(FieldValidationError, match="points outside the schema"):
        loads(_manifest({"$ref": target.as_uri()}))


def test_a_ref_slipped_in_after_loading_fails_without_any_access(
    counting_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    """The validator's registry has no retrieval: an outside ref that escaped the
    load-time check is an error at parse time, never a request or a file read."""
    url, hits = counting_server
    target = tmp_path / "schema.json"
    target.write_text('{"type": "integer"}')  # would make the value below valid
    for ref in (f"{url}/late.json", target.as_uri()):
        parser = PydanticOutputParser(json_schema={"type": "object", "properties": {}})
        parser.json_schema["properties"]["a"] = {"$ref": ref}
        with pytest.raises(ManifestError, match="cannot be resolved"):
            parser.parse('{"a": 1}')
    assert hits == []


class Inner(BaseModel):
    n: int


class Outer(BaseModel):
    inner: Inner
    tags: list[str]


def test_local_refs_and_defs_keep_working() -> None:
    parser = loads(_manifest(Outer.model_json_schema()))
    assert "$defs" in parser.json_schema
    assert parser.parse('{"inner": {"n": 1}, "tags": ["x"]}') == {
        "inner": {"n": 1},
        "tags": ["x"],
    }
    with pytest.raises(OutputParserException):
        parser.parse('{"inner": {"n": "one"}, "tags": []}')
    anchored = {"$defs": {"n": {"$anchor": "num", "type": "integer"}}, "$ref": "#num"}
    assert loads(_manifest(anchored)).parse("3") == 3


def test_embedded_id_resource_is_local() -> None:
    schema = {
        "$id": "https://example.invalid/root.json",
        "$defs": {"leaf": {"$id": "leaf.json", "type": "string"}},
        "properties": {"a": {"$ref": "leaf.json"}},
    }
    parser = loads(_manifest(schema))
    assert parser.parse('{"a": "x"}') == {"a": "x"}


def test_self_reference_is_an_error_not_a_recursion_error() -> None:
    parser = loads(_manifest({"$ref": "#"}))
    with pytest.raises(ManifestError, match="refers to itself"):
        parser.parse("1")


# -- patterns on a linear-time engine ------------------------------------------------
@pytest.mark.parametrize(
    ("schema", "output"),
    [
        ({"type": "string", "pattern": EVIL}, json.dumps(SLOW_TEXT)),
        (
            {"type": "object", "patternProperties": {EVIL: {"type": "integer"}}},
            json.dumps({SLOW_TEXT: "not an int"}),
        ),
        (
            {"type": "object", "patternProperties": {EVIL: {}}, "additionalProperties": False},
            json.dumps({SLOW_TEXT: 1}),
        ),
        ({"type": "object", "propertyNames": {"pattern": EVIL}}, json.dumps({SLOW_TEXT: 1})),
    ],
    ids=["pattern", "patternProperties", "additionalProperties", "propertyNames"],
)
def test_catastrophic_patterns_finish_quickly(schema: dict[str, Any], output: str) -> None:
    parser = loads(_manifest(schema))
    start = time.monotonic()
    if "patternProperties" in schema and "additionalProperties" not in schema:
        assert parser.parse(output) == json.loads(output)
    else:
        with pytest.raises(OutputParserException):
            parser.parse(output)
    assert time.monotonic() - start < 10  # hung for minutes with Python's re


def test_patterns_still_match() -> None:
    parser = loads(
        _manifest(
            {
                "type": "object",
                "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"}},
                "patternProperties": {"^x-": {"type": "integer"}},
                "additionalProperties": False,
            }
        )
    )
    assert parser.parse('{"code": "ABC-12", "x-n": 1}') == {"code": "ABC-12", "x-n": 1}
    with pytest.raises(OutputParserException, match="does not match"):
        parser.parse('{"code": "abc"}')
    with pytest.raises(OutputParserException, match="not allowed"):
        parser.parse('{"code": "ABC-1", "other": 1}')


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": "(a)\\1"},
        {"type": "string", "pattern": "foo(?=bar)"},
        {"type": "object", "patternProperties": {"(?<!x)y": {}}},
    ],
    ids=["backreference", "lookahead", "lookbehind-key"],
)
def test_patterns_re2_cannot_run_are_refused_at_load(schema: dict[str, Any]) -> None:
    with pytest.raises(FieldValidationError) as info:
        loads(_manifest(schema))
    message = str(info.value)
    assert "RE2" in message and "without backreferences or lookaround" in message


def test_unevaluated_properties_with_pattern_properties_is_refused() -> None:
    schema = {"patternProperties": {"^a": {}}, "unevaluatedProperties": False}
    with pytest.raises(FieldValidationError, match="use additionalProperties"):
        loads(_manifest(schema))


def test_data_keywords_are_not_taken_for_refs() -> None:
    """``const``/``enum``/``default`` hold data: a ``$ref`` key there is just data."""
    schema = {"const": {"$ref": "http://127.0.0.1:9/x"}, "default": {"pattern": "(a)\\1"}}
    parser = loads(_manifest(schema))
    assert parser.parse('{"$ref": "http://127.0.0.1:9/x"}') == {"$ref": "http://127.0.0.1:9/x"}


def test_deeply_nested_output_is_a_parse_error() -> None:
    parser = PydanticOutputParser(json_schema={"type": "array"})
    with pytest.raises(OutputParserException):
        parser.parse("[" * 100_000)


def test_refs_that_fan_out_are_bounded_in_work() -> None:
    """Each level refers to the next twice: 2**40 evaluations without a step bound."""
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(40)
    }
    defs["d40"] = {"type": "integer"}
    parser = loads(_manifest({"$defs": defs, "$ref": "#/$defs/d0"}))
    start = time.monotonic()
    with pytest.raises(OutputParserException, match="schema steps"):
        parser.parse("1")
    assert time.monotonic() - start < 10
    small = loads(_manifest({"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"}))
    assert small.parse("1") == 1
