"""List, XML and tool-call parsers: parsing, streaming, safety, wire forms, and parity with
LangChain's parsers on the same inputs (those tests skip without langchain-core)."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import runwire
from runwire.errors import ManifestError
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.parsers import OutputParserException
from runwire.runtime.parsers_lists import MarkdownListOutputParser, NumberedListOutputParser
from runwire.runtime.parsers_tools import (
    JsonOutputKeyToolsParser,
    JsonOutputToolsParser,
    PydanticToolsParser,
    parse_tool_calls,
    tool_schema,
)
from runwire.runtime.parsers_xml import MAX_XML_CHARS, MAX_XML_DEPTH, XMLOutputParser
from runwire.schema.messages import AIMessage, AIMessageChunk, HumanMessage


class Person(BaseModel):
    name: str
    age: int


PERSON_SCHEMA: dict[str, Any] = {
    "title": "Person",
    "type": "object",
    "properties": {"name": {"type": "string", "pattern": "^[A-Z]"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def streamed(parser: Any, chunks: list[Any]) -> list[Any]:
    return list(parser.transform(iter(chunks)))


def astreamed(parser: Any, chunks: list[Any]) -> list[Any]:
    async def source() -> AsyncIterator[Any]:
        for chunk in chunks:
            yield chunk

    async def main() -> list[Any]:
        return [out async for out in parser.atransform(source())]

    return asyncio.run(main())


def wire(obj: Any) -> dict[str, Any]:
    return runwire.dumpd(obj)


def round_trip(obj: Any) -> Any:
    return runwire.loads(runwire.dumps(obj), allowed_objects="all")


# -- lists -------------------------------------------------------------------------------
NUMBERED = "Here:\n1. apples\n2. pears and plums\n10. figs\nthat's all"
MARKDOWN = "Sure!\n- apples\n  * pears and plums\n-not an item\n- figs"


def test_numbered_list_parses_and_streams_items() -> None:
    parser = NumberedListOutputParser()
    assert parser.parse(NUMBERED) == ["apples", "pears and plums", "figs that's all"[:4]]
    for size in (1, 3, 7, 100):
        assert streamed(parser, pieces(NUMBERED, size)) == [
            ["apples"],
            ["pears and plums"],
            ["figs"],
        ]
    assert astreamed(parser, pieces(NUMBERED, 5)) == [["apples"], ["pears and plums"], ["figs"]]
    assert parser.invoke(AIMessage(NUMBERED)) == ["apples", "pears and plums", "figs"]
    assert parser.invoke("no list") == []
    assert "numbered list" in parser.get_format_instructions()


def test_markdown_list_parses_and_streams_items() -> None:
    parser = MarkdownListOutputParser()
    assert parser.parse(MARKDOWN) == ["apples", "pears and plums", "figs"]
    for size in (1, 4, 100):
        assert streamed(parser, pieces(MARKDOWN, size)) == [
            ["apples"],
            ["pears and plums"],
            ["figs"],
        ]
    chunks = [AIMessageChunk(content=p) for p in pieces(MARKDOWN, 3)]
    assert streamed(parser, chunks) == [["apples"], ["pears and plums"], ["figs"]]
    assert parser.get_format_instructions().startswith("Your response should be a markdown list")


def test_list_items_stream_before_the_input_ends() -> None:
    parser = NumberedListOutputParser()

    def source() -> Iterator[str]:
        yield "1. a\n2. b"
        yield "\n3. c"
        raise AssertionError("the first items must be out before the stream is read on")

    out = parser.transform(source())
    assert next(out) == ["a"]
    assert next(out) == ["b"]


def test_custom_pattern_runs_on_re2_and_round_trips() -> None:
    parser = NumberedListOutputParser(pattern=r"\d+\)\s([^\n]+)")
    assert parser.parse("1) é\n2) b") == ["é", "b"]
    assert streamed(parser, ["1) éé\n2", ") b\n3) c"]) == [["éé"], ["b"], ["c"]]
    assert wire(parser)["kwargs"] == {"pattern": r"\d+\)\s([^\n]+)"}
    assert round_trip(parser) == parser
    # LangChain's rule: a truthy value is written even when it is the default
    assert wire(MarkdownListOutputParser())["kwargs"] == {"pattern": r"^\s*[-*]\s([^\n]+)$"}
    custom_md = MarkdownListOutputParser(pattern=r"^\+ (.+)$")  # RE2 gets the multiline flag
    assert custom_md.parse("+ a\n+ b") == ["a", "b"]


def test_patterns_re2_cannot_run_are_refused_when_built_and_loaded() -> None:
    with pytest.raises(ValueError, match="RE2"):
        NumberedListOutputParser(pattern=r"(\w)\1")
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "output_parsers", "MarkdownListOutputParser"],
        "kwargs": {"pattern": r"^(?=x)(.*)$"},
    }
    with pytest.raises(ManifestError, match="RE2"):
        runwire.load(node, allowed_objects="all")


def test_parse_follows_findall_rules_for_groups() -> None:
    # as LangChain's ``re.findall``: no group gives whole matches, two give tuples
    assert NumberedListOutputParser(pattern=r"\d+\.").parse("1. a 2. b") == ["1.", "2."]
    pairs = NumberedListOutputParser(pattern=r"(\d+)\.(\w)").parse("1.a 2.b")
    assert pairs == [("1", "a"), ("2", "b")]


LIST_ALPHABET = "-*. \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000a1\u0663\U0001d7ce9\ud800"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=LIST_ALPHABET, max_size=40))
def test_default_patterns_match_what_python_re_matches(text: str) -> None:
    """The defaults run on RE2, translated to match exactly what LangChain's ``re`` does."""
    numbered, markdown = NumberedListOutputParser(), MarkdownListOutputParser()
    assert numbered.parse(text) == re.findall(numbered.pattern, text)
    assert markdown.parse(text) == re.findall(markdown.pattern, text, re.MULTILINE)


def test_default_patterns_take_linear_time() -> None:
    # on Python's re, LangChain's defaults take minutes on these
    started = time.perf_counter()
    assert MarkdownListOutputParser().parse("\n" * 400_000 + "- a") == ["a"]
    assert NumberedListOutputParser().parse("1" * 400_000) == []
    assert streamed(MarkdownListOutputParser(), ["\n" * 100_000] * 4) == []
    assert time.perf_counter() - started < 5


def test_streaming_a_long_text_without_items_is_linear() -> None:
    prose = "word " * 100_000
    items = "".join(f"{i}. item {i}\n" for i in range(300))
    text = prose + items
    started = time.perf_counter()
    out = streamed(NumberedListOutputParser(), pieces(text, 4))
    assert time.perf_counter() - started < 5  # rescanning every chunk: about a minute
    assert out == [[item] for item in NumberedListOutputParser().parse(text)]
    assert len(out) == 300


def test_pathological_custom_pattern_is_linear() -> None:
    parser = NumberedListOutputParser(pattern=r"(a|a)*b()")
    assert parser.parse("a" * 50_000) == []  # backtracking engines take forever here


# -- XML ---------------------------------------------------------------------------------
XML = (
    "Here you go:\n```xml\n<people>\n <person><name>Ann</name><age>31</age></person>\n"
    "</people>\n```"
)


def test_xml_parses_to_nested_dicts() -> None:
    parser = XMLOutputParser()
    assert parser.parse(XML) == {"people": [{"person": [{"name": "Ann"}, {"age": "31"}]}]}
    assert parser.parse("<a>text<b>1</b></a>") == {"a": "text"}
    assert parser.parse("<a> <b/></a>") == {"a": [{"b": None}]}
    assert parser.parse('<?xml version="1.0" encoding="UTF-8"?>\n<r><x>1</x></r>') == {
        "r": [{"x": "1"}]
    }
    assert parser.parse("<a>&amp;&#65;<![CDATA[<x>]]></a>") == {"a": "&A<x>"}
    assert parser.parse("<p:a xmlns:p='urn:x'><c>1</c></p:a>") == {"{urn:x}a": [{"c": "1"}]}
    assert parser.invoke(AIMessage("<a>1</a>")) == {"a": "1"}


def test_xml_errors_are_output_parser_exceptions() -> None:
    parser = XMLOutputParser()
    for text, reason in (
        ("<a><b>1</b>", "no element found: line 1, column 11"),
        ("junk", "syntax error: line 1, column 0"),
        ("<a>1</a> trailing", "junk after document element"),
        ("<a>&foo;</a>", "undefined entity"),
    ):
        with pytest.raises(OutputParserException, match=reason) as caught:
            parser.parse(text)
        assert str(caught.value).startswith(f"Failed to parse XML format from completion {text}")
        assert caught.value.llm_output == text


def test_xml_streams_each_leaf_in_its_path() -> None:
    parser = XMLOutputParser()
    expected = [
        {"people": [{"person": [{"name": "Ann"}]}]},
        {"people": [{"person": [{"age": "31"}]}]},
    ]
    for size in (1, 5, 1000):
        assert streamed(parser, pieces(XML, size)) == expected
    assert astreamed(parser, pieces(XML, 4)) == expected
    chunks = streamed(parser, pieces(XML, 3))
    total = chunks[0] + chunks[1]  # the chunks add up like LangChain's AddableDicts
    assert total == {"people": [{"person": [{"name": "Ann"}]}, {"person": [{"age": "31"}]}]}
    # only the first root element; what follows it is ignored
    assert streamed(parser, ["<a>1</a> then <b>2</b>", "<c>3</c>"]) == [{"a": "1"}]
    assert streamed(parser, ["no xml at all"]) == []
    with pytest.raises(OutputParserException, match="mismatched tag"):
        streamed(parser, ["<a><b>1</c>"])


def test_xml_in_a_pipeline_streams() -> None:
    chain = FakeChatModel(responses=["<list><item>a</item><item>b</item></list>"], chunk_size=4)
    out = list((chain | XMLOutputParser()).stream("hi"))
    assert out == [{"list": [{"item": "a"}]}, {"list": [{"item": "b"}]}]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>"""


@pytest.mark.parametrize(
    "text",
    [
        BILLION_LAUGHS,
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        '<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><a>1</a>',
        '<!DOCTYPE a [<!ENTITY u SYSTEM "http://x/y" NDATA png>]><a>1</a>',
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity", "unparsed-entity"],
)
def test_xml_entity_declarations_are_refused(text: str) -> None:
    parser = XMLOutputParser(parser="xml")  # "xml" is as hardened as "defusedxml"
    with pytest.raises(OutputParserException, match="entity declarations are not allowed"):
        parser.parse(text)
    # streaming starts at the first element, as LangChain's does: the DTD is never parsed,
    # so a reference to its entities is an undefined entity
    try:
        out = streamed(parser, pieces(text, 16))
    except OutputParserException as exc:
        assert "undefined entity" in str(exc)
    else:
        assert out == [{"a": "1"}]


def test_xml_external_dtd_is_never_read(tmp_path: Any) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY secret "from the file">')
    text = f'<!DOCTYPE a SYSTEM "{dtd.as_uri()}"><a>&secret;</a>'
    with pytest.raises(OutputParserException, match="undefined entity &secret;") as caught:
        XMLOutputParser().parse(text)
    assert "from the file" not in str(caught.value)
    with pytest.raises(OutputParserException, match="undefined entity"):
        streamed(XMLOutputParser(), pieces(text, 7))
    # a plain DOCTYPE is fine, as with defusedxml
    assert XMLOutputParser().parse("<!DOCTYPE a><a>1</a>") == {"a": "1"}


def test_xml_depth_and_size_are_bounded() -> None:
    deep = "<a>" * (MAX_XML_DEPTH + 1) + "</a>" * (MAX_XML_DEPTH + 1)
    with pytest.raises(OutputParserException, match="nested more than"):
        XMLOutputParser().parse(deep)
    with pytest.raises(OutputParserException, match="nested more than"):
        streamed(XMLOutputParser(), pieces(deep, 50))
    ok = "<a>" * MAX_XML_DEPTH + "x" + "</a>" * MAX_XML_DEPTH
    assert XMLOutputParser().parse(ok)
    big = "<a>" + "x" * MAX_XML_CHARS + "</a>"
    with pytest.raises(OutputParserException, match="longer than"):
        XMLOutputParser().parse(big)
    with pytest.raises(OutputParserException, match="longer than"):
        streamed(XMLOutputParser(), pieces(big, 1_000_000))


def test_xml_stream_with_a_long_preamble_is_linear() -> None:
    text = "x" * 1_000_000 + "<a>1</a>"
    started = time.perf_counter()
    assert streamed(XMLOutputParser(), pieces(text, 4)) == [{"a": "1"}]
    assert time.perf_counter() - started < 5


def test_xml_encoding_declaration_search_is_linear() -> None:
    text = "<" * 200_000 + "encoding>\n<a>1</a>"
    assert XMLOutputParser().parse(text) == {"a": "1"}
    with pytest.raises(OutputParserException):
        XMLOutputParser().parse("<" * 200_000)


def test_xml_format_instructions_and_wire_form() -> None:
    parser = XMLOutputParser(tags=["a", "b"])
    assert "['a', 'b']" in parser.get_format_instructions()
    assert wire(parser) == {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "output_parsers", "XMLOutputParser"],
        "kwargs": {"tags": ["a", "b"], "parser": "defusedxml"},
        "name": "XMLOutputParser",
    }
    assert round_trip(parser) == parser


# -- tool calls --------------------------------------------------------------------------
CALLS = [
    {"name": "Person", "args": {"name": "Ann", "age": 31}, "id": "1"},
    {"name": "other", "args": {"x": 1}, "id": "2"},
]
LEGACY = {
    "tool_calls": [
        {"id": "9", "function": {"name": "Person", "arguments": '{"name": "Bo", "age": 2}'}},
        {"id": "10", "type": "web_search"},  # not a function call: skipped
    ]
}


def test_json_tools_parser() -> None:
    message = AIMessage("", tool_calls=CALLS)
    assert JsonOutputToolsParser().invoke(message) == [
        {"args": {"name": "Ann", "age": 31}, "type": "Person"},
        {"args": {"x": 1}, "type": "other"},
    ]
    assert JsonOutputToolsParser(return_id=True, first_tool_only=True).invoke(message) == {
        "args": {"name": "Ann", "age": 31},
        "id": "1",
        "type": "Person",
    }
    assert JsonOutputToolsParser().invoke(AIMessage("no calls")) == []
    assert JsonOutputToolsParser(first_tool_only=True).invoke(AIMessage("no calls")) == []
    legacy = AIMessage("", additional_kwargs=LEGACY)
    assert JsonOutputToolsParser().invoke(legacy) == [
        {"args": {"name": "Bo", "age": 2}, "type": "Person"}
    ]
    with pytest.raises(OutputParserException, match="chat generation"):
        JsonOutputToolsParser().invoke("text")


def test_key_tools_parser() -> None:
    message = AIMessage("", tool_calls=[CALLS[1], CALLS[0]])
    assert JsonOutputKeyToolsParser(key_name="Person").invoke(message) == [
        {"name": "Ann", "age": 31}
    ]
    first = JsonOutputKeyToolsParser(key_name="Person", first_tool_only=True)
    assert first.invoke(message) == {"name": "Ann", "age": 31}
    assert first.invoke(AIMessage("none")) is None
    with_id = JsonOutputKeyToolsParser(key_name="other", return_id=True)
    assert with_id.invoke(message) == [{"args": {"x": 1}, "id": "2", "type": "other"}]


def test_legacy_arguments_that_are_not_json() -> None:
    bad = [{"id": "1", "function": {"name": "f", "arguments": "{oops"}}]
    with pytest.raises(OutputParserException, match="are not valid JSON"):
        JsonOutputToolsParser().invoke(AIMessage("", additional_kwargs={"tool_calls": bad}))
    # partial: closed as far as it goes (LangChain gives the same)
    assert parse_tool_calls(bad, partial=True) == [
        {"name": "f", "args": {}, "id": "1", "type": "tool_call"}
    ]
    assert parse_tool_calls([{"function": {"name": "f", "arguments": None}}], partial=True) == []
    empty = [{"id": "1", "function": {"name": "f", "arguments": ""}}]
    assert parse_tool_calls(empty) == [{"name": "f", "args": {}, "id": "1", "type": "tool_call"}]


def test_tools_parsers_stream_partial_arguments() -> None:
    model = FakeChatModel(chunk_size=0).bind_tools([Person], tool_choice="Person")
    text = 'Person {"name": "Ann", "age": 31}'
    assert list((model | JsonOutputKeyToolsParser(key_name="Person")).stream(text)) == [
        [{"name": "Ann", "age": 31}]
    ]
    parts = ['{"na', 'me": "An', 'n", "ag', 'e": 3', "1}"]
    chunks = [
        AIMessageChunk(
            "",
            tool_call_chunks=[
                {"name": None if i else "Person", "args": p, "id": None if i else "1", "index": 0}
            ],
        )
        for i, p in enumerate(parts)
    ]
    key = JsonOutputKeyToolsParser(key_name="Person", first_tool_only=True)
    assert streamed(key, chunks) == [
        {},
        {"name": "An"},
        {"name": "Ann"},
        {"name": "Ann", "age": 3},
        {"name": "Ann", "age": 31},
    ]
    assert astreamed(key, chunks) == streamed(key, chunks)
    assert streamed(PydanticToolsParser(tools=[Person]), chunks) == [
        [],
        [Person(name="Ann", age=3)],
        [Person(name="Ann", age=31)],
    ]
    assert streamed(PydanticToolsParser(tools=[PERSON_SCHEMA], first_tool_only=True), chunks) == [
        {"name": "Ann", "age": 3},
        {"name": "Ann", "age": 31},
    ]
    with pytest.raises(OutputParserException, match="chat generation"):
        streamed(key, ["text"])


def test_pydantic_tools_parser_with_classes() -> None:
    parser = PydanticToolsParser(tools=[Person])
    assert parser.invoke(AIMessage("", tool_calls=CALLS[:1])) == [Person(name="Ann", age=31)]
    with pytest.raises(OutputParserException, match="Unknown tool type: 'other'"):
        parser.invoke(AIMessage("", tool_calls=CALLS))
    bad = [{"name": "Person", "args": {"name": "Ann"}, "id": "1"}]
    with pytest.raises(ValidationError):
        parser.invoke(AIMessage("", tool_calls=bad))
    assert parser.invoke(AIMessage("none")) == []
    assert PydanticToolsParser(tools=[Person], first_tool_only=True).invoke(AIMessage("")) is None
    # the wire form holds the schema, never the class; loaded back, it checks dicts
    assert wire(parser)["kwargs"] == {"tools": [Person.model_json_schema()]}
    loaded = round_trip(parser)
    assert loaded.pydantic_tools == []
    assert loaded.invoke(AIMessage("", tool_calls=CALLS[:1])) == [{"name": "Ann", "age": 31}]
    with pytest.raises(OutputParserException, match="'age' is a required property"):
        loaded.invoke(AIMessage("", tool_calls=bad))


def test_pydantic_tools_parser_with_json_schemas() -> None:
    weather = {"type": "function", "function": {"name": "weather", "parameters": {}}}
    parser = PydanticToolsParser(tools=[PERSON_SCHEMA, weather])
    assert [t["title"] for t in parser.tools] == ["Person", "weather"]
    calls = [CALLS[0], {"name": "weather", "args": {}, "id": "3"}]
    assert parser.invoke(AIMessage("", tool_calls=calls)) == [{"name": "Ann", "age": 31}, {}]
    lower = [{"name": "Person", "args": {"name": "ann", "age": 1}, "id": "1"}]
    with pytest.raises(OutputParserException, match="does not match"):
        parser.invoke(AIMessage("", tool_calls=lower))
    with pytest.raises(ValueError, match="must be specified as a dict"):
        parser.invoke(
            AIMessage(
                "",
                additional_kwargs={
                    "tool_calls": [{"id": "1", "function": {"name": "Person", "arguments": "[1]"}}]
                },
            )
        )
    assert round_trip(parser) == parser


def test_pydantic_tools_parser_schema_safety() -> None:
    with pytest.raises(ValueError, match="title"):
        PydanticToolsParser(tools=[{"type": "object"}])
    lookaround = {**PERSON_SCHEMA, "properties": {"name": {"type": "string", "pattern": "(?=a)"}}}
    with pytest.raises(ValueError, match="RE2"):
        PydanticToolsParser(tools=[lookaround])
    remote = {**PERSON_SCHEMA, "properties": {"name": {"$ref": "http://127.0.0.1:9/s.json"}}}
    with pytest.raises(ValueError, match="ref"):
        PydanticToolsParser(tools=[remote])


def test_tool_schemas_are_data_never_objects() -> None:
    from runwire.errors import NotAllowedError

    node = runwire.dumpd(PydanticToolsParser(tools=[PERSON_SCHEMA]))
    node["kwargs"]["tools"][0]["properties"]["name"] = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "output_parsers", "XMLOutputParser"],
        "kwargs": {},
    }
    with pytest.raises(NotAllowedError, match="holds user data"):
        runwire.load(node, allowed_objects="all")


def test_tool_schema_forms() -> None:
    assert tool_schema(PERSON_SCHEMA) is PERSON_SCHEMA
    assert tool_schema(Person)["title"] == "Person"
    anthropic = {"name": "f", "description": "d", "input_schema": {"type": "object"}}
    assert tool_schema(anthropic) == {"title": "f", "description": "d", "type": "object"}


def test_tools_parser_wire_forms() -> None:
    parser = JsonOutputKeyToolsParser(key_name="Person", first_tool_only=True)
    assert wire(parser)["kwargs"] == {"key_name": "Person", "first_tool_only": True}
    assert round_trip(parser) == parser
    assert round_trip(JsonOutputToolsParser(strict=True)).strict is True


def test_parsers_after_a_model_in_a_file() -> None:
    chain = FakeChatModel(responses=["1. a\n2. b"]) | NumberedListOutputParser()
    loaded = round_trip(chain)
    assert loaded.invoke([HumanMessage("x")]) == ["a", "b"]


# -- parity with LangChain ---------------------------------------------------------------
LIST_TEXTS = [NUMBERED, MARKDOWN, "1. one\n\n2. two\n", "- a\n- b\n", "", "x\n-\n- y", "3.x 4. y"]
XML_TEXTS = [
    XML,
    "<foo><bar>1</bar><baz>2</baz></foo>",
    '<?xml version="1.0" encoding="UTF-8"?>\n<r><x>1</x><y><z>2</z></y></r>',
    "<a>text<b>1</b></a>",
    "<a>  <b/></a>",
    "<p:a xmlns:p='urn:x'><c>1</c></p:a>",
    "<a><!-- c --><b>x<!-- d -->y</b></a>",
    "<a><b>1</b>",
    "junk",
    "",
    "<a>1</a> trailing",
    "<!DOCTYPE a><a>1</a>",
    "<a>&foo;</a>",
    "prefix <a><b>1</b></a> suffix <c>2</c>",
]


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except Exception as exc:  # compared by kind and message start
        return ("error", str(exc).split("\nFor troubleshooting")[0])


@pytest.mark.parametrize("text", LIST_TEXTS)
@pytest.mark.parametrize("kind", ["NumberedListOutputParser", "MarkdownListOutputParser"])
def test_list_parsers_match_langchain(kind: str, text: str) -> None:
    lc_list = pytest.importorskip("langchain_core.output_parsers.list")
    ours, theirs = globals()[kind](), getattr(lc_list, kind)()
    assert ours.parse(text) == theirs.parse(text)
    for size in (1, 2, 5):
        chunks = pieces(text, size)
        assert streamed(ours, chunks) == list(theirs.transform(iter(chunks)))


@pytest.mark.parametrize("text", XML_TEXTS)
def test_xml_parser_matches_langchain(text: str) -> None:
    lc_xml = pytest.importorskip("langchain_core.output_parsers.xml")
    ours, theirs = XMLOutputParser(), lc_xml.XMLOutputParser(parser="xml")
    assert _outcome(lambda: ours.parse(text)) == _outcome(lambda: theirs.parse(text))
    for size in (1, 3, 8):
        chunks = pieces(text, size)
        ours_out = _outcome(lambda chunks=chunks: streamed(ours, chunks))
        theirs_out = _outcome(lambda chunks=chunks: list(theirs.transform(iter(chunks))))
        if theirs_out[0] == "error":  # LangChain raises expat's ParseError; runwire wraps it
            assert ours_out[0] == "error"
        else:
            assert ours_out == theirs_out


TOOL_MESSAGES = [
    {"content": "", "tool_calls": CALLS},
    {"content": "hi"},
    {"content": "", "additional_kwargs": LEGACY},
    {"content": "", "additional_kwargs": {"tool_calls": []}},
]
TOOL_OPTIONS = [
    dict(zip(("first_tool_only", "return_id"), flags, strict=True))
    for flags in itertools.product((False, True), repeat=2)
]


@pytest.mark.parametrize("options", TOOL_OPTIONS, ids=str)
@pytest.mark.parametrize("message", TOOL_MESSAGES, ids=range(len(TOOL_MESSAGES)))
def test_tools_parsers_match_langchain(message: dict[str, Any], options: dict[str, Any]) -> None:
    lc_tools = pytest.importorskip("langchain_core.output_parsers.openai_tools")
    from langchain_core.messages import AIMessage as LcAIMessage

    pairs = [
        (JsonOutputToolsParser(**options), lc_tools.JsonOutputToolsParser(**options)),
        (
            JsonOutputKeyToolsParser(key_name="Person", **options),
            lc_tools.JsonOutputKeyToolsParser(key_name="Person", **options),
        ),
        (
            PydanticToolsParser(tools=[Person], **options),
            lc_tools.PydanticToolsParser(tools=[Person], **options),
        ),
    ]
    for ours, theirs in pairs:
        assert _outcome(lambda ours=ours: ours.invoke(AIMessage(**message))) == _outcome(
            lambda theirs=theirs: theirs.invoke(LcAIMessage(**message))
        )


def test_tools_parsers_stream_like_langchain() -> None:
    lc_tools = pytest.importorskip("langchain_core.output_parsers.openai_tools")
    from langchain_core.messages import AIMessageChunk as LcChunk

    text = '{"name": "Ann", "age": 31}'
    for size in (1, 4, 9):

        def chunks(cls: Any, size: int = size) -> list[Any]:
            return [
                cls(
                    content="",
                    tool_call_chunks=[
                        {
                            "name": "Person" if i == 0 else None,
                            "args": p,
                            "index": 0,
                            "id": "1" if i == 0 else None,
                        }
                    ],
                )
                for i, p in enumerate(pieces(text, size))
            ]

        for ours, theirs in (
            (JsonOutputToolsParser(), lc_tools.JsonOutputToolsParser()),
            (
                JsonOutputKeyToolsParser(key_name="Person", first_tool_only=True),
                lc_tools.JsonOutputKeyToolsParser(key_name="Person", first_tool_only=True),
            ),
            (PydanticToolsParser(tools=[Person]), lc_tools.PydanticToolsParser(tools=[Person])),
        ):
            assert streamed(ours, chunks(AIMessageChunk)) == list(
                theirs.transform(iter(chunks(LcChunk)))
            )


@pytest.mark.parametrize(
    "factory",
    [
        lambda m: m.list.NumberedListOutputParser(),
        lambda m: m.list.MarkdownListOutputParser(),
        lambda m: m.xml.XMLOutputParser(),
        lambda m: m.openai_tools.JsonOutputToolsParser(),
        lambda m: m.openai_tools.JsonOutputKeyToolsParser(key_name="x"),
        lambda m: m.openai_tools.PydanticToolsParser(tools=[Person]),
    ],
    ids=["numbered", "markdown", "xml", "tools", "key_tools", "pydantic_tools"],
)
def test_langchain_writes_these_parsers_as_not_implemented(factory: Any) -> None:
    """Why runwire writes them with its own ids: LangChain cannot keep them in files."""
    pytest.importorskip("langchain_core")
    import langchain_core.output_parsers as lc_parsers
    from langchain_core.load import dumpd

    assert dumpd(factory(lc_parsers))["type"] == "not_implemented"


# -- refusals ----------------------------------------------------------------------------
REFUSAL_MESSAGES: dict[str, dict[str, Any]] = {
    "block": {"content": [{"type": "refusal", "refusal": "no way"}]},
    "block_with_text": {
        "content": [
            {"type": "text", "text": "{}"},
            {"type": "refusal", "refusal": "nope", "extras": {"category": "c"}},
        ]
    },
    "stop_reason": {
        "content": "{}",
        "response_metadata": {
            "stop_reason": "refusal",
            "stop_details": {"explanation": "bad", "category": "cyber"},
        },
    },
    "stop_reason_bare": {"content": "{}", "response_metadata": {"stop_reason": "refusal"}},
    "additional_kwargs": {"content": "{}", "additional_kwargs": {"refusal": "I can't"}},
    "plain": {"content": "{}"},
}
PROVIDERS = [None, "anthropic", "bedrock", "bedrock_converse", "openai", "groq", "somebody"]


def _with_provider(message: dict[str, Any], provider: str | None) -> dict[str, Any]:
    metadata = dict(message.get("response_metadata", {}))
    if provider is not None:
        metadata["model_provider"] = provider
    return {**message, "response_metadata": metadata}


def test_refusals_raise_model_refusal_error() -> None:
    from runwire.runtime.parsers import JsonOutputParser
    from runwire.runtime.parsers_refusal import ModelRefusalError

    refused = AIMessage(
        "",
        tool_calls=CALLS,
        response_metadata={
            "stop_reason": "refusal",
            "model_provider": "anthropic",
            "stop_details": {"explanation": "bad", "category": "cyber"},
        },
    )
    for parser in (
        JsonOutputToolsParser(),
        JsonOutputKeyToolsParser(key_name="Person"),
        PydanticToolsParser(tools=[Person]),
        JsonOutputParser(),
    ):
        with pytest.raises(ModelRefusalError, match=r"\(category='cyber'\): bad") as caught:
            parser.invoke(refused)
        assert caught.value.raw_message is refused
    chunks = [AIMessageChunk("{"), AIMessageChunk([{"type": "refusal", "refusal": "no"}])]
    with pytest.raises(ModelRefusalError, match=r"output: no$"):
        streamed(JsonOutputParser(), chunks)
    assert JsonOutputParser().invoke("{}") == {}  # text has no refusal to look for


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", list(REFUSAL_MESSAGES))
def test_refusals_are_found_as_langchain_finds_them(kind: str, provider: str | None) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.messages import AIMessage as LcAIMessage
    from langchain_core.output_parsers import JsonOutputParser as LcJson
    from langchain_core.output_parsers.openai_tools import JsonOutputToolsParser as LcTools

    from runwire.runtime.parsers import JsonOutputParser

    message = _with_provider(REFUSAL_MESSAGES[kind], provider)
    for ours, theirs in ((JsonOutputParser(), LcJson()), (JsonOutputToolsParser(), LcTools())):
        mine = _outcome(lambda ours=ours: ours.invoke(AIMessage(**message)))
        lc = _outcome(lambda theirs=theirs: theirs.invoke(LcAIMessage(**message)))
        assert mine == lc
