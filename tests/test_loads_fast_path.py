"""The fast path of ``loads`` (issue 22): taken on the benchmark fixtures, handing back
to the walker for everything it cannot prove, and the pydantic-core behaviour it relies on.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_core import SchemaValidator

import runwire
from runwire.errors import LimitExceededError, ManifestError
from runwire.graph.checkpoint.serde import LcJsonSerializer
from runwire.loader import wire
from runwire.loader.fast_load import FALLBACK, load_fast, text_allows
from runwire.loader.fast_validators import fast_list_validator, fast_validator, rewrite_schema
from runwire.loader.limits import Limits, parse_json
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.prompts import ChatPromptTemplate
from runwire.schema.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage


def chat_history(n: int) -> list[Any]:
    """The benchmark's history (benchmarks/bench_serialization.py): four kinds of message."""
    out: list[Any] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            out.append(SystemMessage(content=f"You are assistant #{i}.", id=f"s{i}"))
        elif kind == 1:
            out.append(
                HumanMessage(
                    content=[{"type": "text", "text": f"What is item {i}?"}],
                    id=f"h{i}",
                    additional_kwargs={"lang": "en"},
                )
            )
        elif kind == 2:
            out.append(
                AIMessage(
                    content=f"Looking up item {i}.",
                    id=f"a{i}",
                    tool_calls=[{"name": "search", "args": {"query": f"item {i}"}, "id": f"c{i}"}],
                    usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
                    response_metadata={"stop_reason": "tool_use"},
                )
            )
        else:
            out.append(ToolMessage(content=f"item {i}: found", tool_call_id=f"c{i}", id=f"t{i}"))
    return out


def wide_parallel(branches: int) -> RunnableParallel:
    """The benchmark's parallel manifest (benchmarks/bench_runtime.py), ``branches`` wide."""
    steps = {}
    for i in range(branches):
        prompt = ChatPromptTemplate.from_messages(
            [("system", f"You are reviewer {i}. Be {{tone}}."), ("human", "Q: {question}")]
        )
        steps[f"branch_{i}"] = prompt | StrOutputParser()
    return RunnableParallel(steps)


@pytest.fixture
def no_walker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any use of the walker fails the test."""

    def walk(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the walker ran")

    monkeypatch.setattr(wire._Reviver, "walk", walk)


@pytest.mark.parametrize("fixture", [lambda: chat_history(200), lambda: wide_parallel(20)])
def test_benchmark_fixtures_take_the_fast_path(fixture: Any, no_walker: None) -> None:
    original = fixture()
    text = runwire.dumps(original)
    assert load_fast(parse_json(text), text) is not FALLBACK
    loaded = runwire.loads(text)
    assert loaded == original
    assert runwire.dumps(loaded) == text


def test_the_langchain_dialect_takes_the_fast_path_too(no_walker: None) -> None:
    history = chat_history(40)
    text = runwire.dumps(history, dialect="langchain")
    assert runwire.loads(text) == history


def test_a_checkpoint_history_loads_through_the_fast_path(no_walker: None) -> None:
    serde = LcJsonSerializer()
    history = chat_history(100)
    assert serde.loads(serde.dumps(history)) == history


def test_the_walker_gives_the_same_objects() -> None:
    for original in (chat_history(60), wide_parallel(5)):
        text = runwire.dumps(original)
        fast = load_fast(parse_json(text), text)
        slow = wire.load(parse_json(text))
        assert fast == slow == original
        assert runwire.dumps(fast) == runwire.dumps(slow)


def _hand_back(data: Any, text: str | None = None, **options: Any) -> bool:
    text = json.dumps(data) if text is None else text
    return load_fast(parse_json(text), text, **options) is FALLBACK


def _node(name: str, **kwargs: Any) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ["runwire", "messages", name], "kwargs": kwargs}


def _human(**extra: Any) -> dict[str, Any]:
    return _node("HumanMessage", content="hi", additional_kwargs=extra)


HAND_BACKS = {
    "lc-key-in-data": _human(x={"lc": 2}),
    "escaped-dict": _human(x={"__lc_escaped__": {"lc": 1}}),
    "node-in-data": _human(n=_node("HumanMessage", content="x")),
    "misplaced-secret": {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]},
    "not-implemented": {"lc": 1, "type": "not_implemented", "id": ["x", "Y"], "repr": "Y()"},
    "unknown-id": _node("NoSuchMessage", content="x"),
    "extra-kwarg-is-data": _node("HumanMessage", content="x", bogus=1),
    "coerced-content": _node("ToolMessage", content=5, tool_call_id="c"),
    "invalid": _node("HumanMessage", content=None),
}


@pytest.mark.parametrize("data", list(HAND_BACKS.values()), ids=list(HAND_BACKS))
def test_what_the_fast_path_cannot_prove_goes_to_the_walker(data: dict[str, Any]) -> None:
    text = json.dumps(data)
    fast = load_fast(parse_json(text), text)
    try:
        slow: Any = wire.load(parse_json(text))
    except ManifestError as exc:
        assert fast is FALLBACK
        with pytest.raises(type(exc)) as raised:
            runwire.loads(text)
        assert raised.value.path == exc.path
        return
    assert fast is FALLBACK or fast == slow
    assert runwire.loads(text) == slow


def test_an_escaped_key_spelling_goes_to_the_walker() -> None:
    data = [_node("HumanMessage", content="hi", additional_kwargs={"x": {"lc": 2}})]
    text = json.dumps(data).replace('{"lc": 2}', '{"\\u006cc": 2}')
    assert parse_json(text)[0]["kwargs"]["additional_kwargs"]["x"] == {"lc": 2}
    assert _hand_back(None, text)
    assert runwire.loads(text) == wire.load(parse_json(text))


def test_non_ascii_escapes_keep_the_fast_path() -> None:
    text = json.dumps([_node("HumanMessage", content="caf\u00e9 \u2603")])  # ensure_ascii
    assert "\\u00e9" in text
    assert not _hand_back(None, text)


def test_jinja2_templates_go_to_the_walker_unless_allowed() -> None:
    prompt = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "prompts", "PromptTemplate"],
        "kwargs": {"template": "{{ x }}", "input_variables": ["x"], "template_format": "jinja2"},
    }
    assert _hand_back(prompt)
    assert not _hand_back(prompt, refuse_jinja=False)
    with pytest.raises(ManifestError):
        runwire.loads(json.dumps(prompt))


def test_other_init_validators_go_to_the_walker(monkeypatch: pytest.MonkeyPatch) -> None:
    text = runwire.dumps(chat_history(4))
    calls = []
    monkeypatch.setattr(wire, "load", lambda data, **kw: calls.append(kw) or "walked")
    assert runwire.loads(text, init_validator=lambda ident, kwargs: None) == "walked"
    assert runwire.loads(text) != "walked"
    assert len(calls) == 1


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_depth_is_proved_on_the_text() -> None:
    limits = Limits(max_depth=10)
    # node, kwargs, additional_kwargs and the lists: 10 levels, then 11
    ok = _node("HumanMessage", content="x", additional_kwargs={"d": _nested(7)})
    deep = _node("HumanMessage", content="x", additional_kwargs={"d": _nested(8)})
    assert not _hand_back(ok, limits=limits)
    assert runwire.loads(json.dumps(ok), limits=limits) == wire.load(ok, limits=limits)
    assert _hand_back(deep, limits=limits)
    with pytest.raises(LimitExceededError) as raised:
        runwire.loads(json.dumps(deep), limits=limits)
    assert raised.value.path == "$.kwargs.additional_kwargs.d[0][0][0][0][0][0][0]"


def test_brackets_in_strings_do_not_hide_depth() -> None:
    limits = Limits(max_depth=5)
    value: Any = ["x"]
    for _ in range(5):
        value = ["]", value]
    hidden = json.dumps(value).encode()  # 6 levels, each string closing one on the text
    assert not text_allows(hidden, limits)
    shallow = json.dumps([["[[[[[[", {"k]]": "{{{{"}]]).encode()
    assert text_allows(shallow, limits)
    assert text_allows(b'["a\\\\", ["b\\"]"]]', limits)
    assert not text_allows(b'[[[[[["\\"]]]]]"]]]]]]', limits)


def test_size_is_proved_on_the_text() -> None:
    text = json.dumps([_node("HumanMessage", content="x" * 50)]).encode()
    assert text_allows(text, Limits(max_nodes=len(text)))
    assert not text_allows(text, Limits(max_nodes=len(text) - 1))


def test_a_string_ending_in_lc_is_a_false_alarm_only() -> None:
    data = [_node("HumanMessage", content='say "lc')]  # its text ends in \"lc"
    text = json.dumps(data)
    assert _hand_back(data)
    assert runwire.loads(text) == [HumanMessage(content='say "lc')]


# -- the pydantic-core behaviour the fast validators rely on ------------------------------


def test_pydantic_core_reuses_a_finished_model_class_validator() -> None:
    """The pitfall: a rewritten ``model`` schema of a finished class, compiled as is, is
    silently replaced by the class's own validator (which coerces content 5 to "5")."""
    schema, hits = rewrite_schema(ToolMessage)
    assert hits == ["content", "content", "additional_kwargs", "response_metadata", "tool_call_id"]
    naive = SchemaValidator(schema, schema.get("config"))
    assert naive.validate_python({"content": 5, "tool_call_id": "c"}).content == "5"


def test_fast_validators_run_their_rewritten_schema() -> None:
    validate = fast_validator(ToolMessage)
    with pytest.raises(ValidationError):
        validate({"content": 5, "tool_call_id": "c"})
    with pytest.raises(ValidationError):
        validate({"content": "x", "tool_call_id": 7})
    assert validate({"content": ["a", {"b": 1}], "tool_call_id": "c"}) == ToolMessage(
        content=["a", {"b": 1}], tool_call_id="c"
    )
    ai = fast_validator(AIMessage)
    call = {"name": "f", "args": {}, "id": None}
    bad = {"id": None, "name": None, "args": "{", "error": None}
    built = ai({"content": "", "tool_calls": [call], "invalid_tool_calls": [bad]})
    assert built == AIMessage(content="", tool_calls=[call], invalid_tool_calls=[bad])
    assert list(built.tool_calls[0]) == ["name", "args", "id", "type"]
    assert next(iter(built.invalid_tool_calls[0])) == "type"
    with pytest.raises(ValidationError):  # the Python validator would tag it after "extra"
        ai({"content": "", "tool_calls": [{**call, "extra": 1}]})


def test_fast_validators_take_parsed_objects_without_copying() -> None:
    kwargs = {"content": [{"type": "text", "text": "x"}], "additional_kwargs": {"k": [1]}}
    built = fast_validator(HumanMessage)(kwargs)
    assert built == HumanMessage(**kwargs)
    assert built.additional_kwargs is kwargs["additional_kwargs"]  # not copied
    assert built.content[0] is kwargs["content"][0]
    with pytest.raises(ValidationError):  # still an object, or the walker decides
        fast_validator(HumanMessage)({"content": "x", "additional_kwargs": [1]})


def test_fast_list_validators_run_their_rewritten_schema_too() -> None:
    many = fast_list_validator(ToolMessage)
    with pytest.raises(ValidationError):
        many([{"content": "x", "tool_call_id": "c"}, {"content": 5, "tool_call_id": "c"}])
    built = many([{"content": "x", "tool_call_id": "c"}])
    assert built == [ToolMessage(content="x", tool_call_id="c")]
    plain = fast_list_validator(HumanMessage)  # nothing rewritten: the class's own validator
    assert plain([{"content": "hi"}]) == [HumanMessage(content="hi")]
