"""Prompt templates: formatting, variables, chat prompts, placeholders, running, wire form."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from typing import Any

import pytest
from pydantic import ValidationError

import runwire
from runwire.errors import FieldValidationError, ValidatorRejectedError
from runwire.runtime.prompts import (
    AIMessagePromptTemplate,
    ChatPromptTemplate,
    ChatPromptValue,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    StringPromptValue,
    SystemMessagePromptTemplate,
    convert_to_messages,
    format_template,
    get_buffer_string,
    template_variables,
)
from runwire.schema.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

HAS_JINJA2 = importlib.util.find_spec("jinja2") is not None


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def parsed(obj: Any, **kwargs: Any) -> Any:
    return json.loads(runwire.dumps(obj, **kwargs))


class Recorder:
    """A callback handler that records run starts and ends."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_start(self, run: Any) -> None:
        self.events.append(("start", run.name, run.run_type, sorted(run.tags), run.metadata))

    def on_end(self, run: Any) -> None:
        self.events.append(("end", run.name, type(run.outputs).__name__))

    def on_error(self, run: Any) -> None:
        self.events.append(("error", run.name, type(run.error).__name__))


# -- f-strings -------------------------------------------------------------------------
def test_f_string_variables_are_sorted_unique_and_skip_escaped_braces() -> None:
    assert template_variables("{b} {a} {b} {{c}}", "f-string") == ["a", "b"]
    assert format_template("{{x}} is {x!r} {n:>3}", "f-string", {"x": "v", "n": 7}) == (
        "{x} is 'v'   7"
    )


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("{a.b}", "attribute access"),
        ("{a[0]}", "indexing"),
        ("{0}", "positional"),
        ("{}", "positional"),
        ("{x:{y}}", "nested replacement"),
        ("{x", "literal braces"),
        ("x}", "literal braces"),
    ],
)
def test_f_string_rejects_unsafe_or_broken_fields(template: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PromptTemplate.from_template(template)


def test_unknown_template_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported template format 'handlebars'"):
        template_variables("x", "handlebars")


# -- mustache --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("Hi {{name}}!", {"name": "Bo"}, "Hi Bo!"),
        (
            "{{h}}|{{{h}}}|{{&h}}",
            {"h": '<a href="x">&'},
            '&lt;a href=&quot;x&quot;&gt;&amp;|<a href="x">&|<a href="x">&',
        ),
        (
            "{{#items}}- {{name}}\n{{/items}}",
            {"items": [{"name": "a"}, {"name": "b"}]},
            "- a\n- b\n",
        ),
        ("{{#items}}{{.}},{{/items}}", {"items": [1, 0, "", 2]}, "1,2,"),
        ("{{#p}}{{name}} is {{age}}{{/p}}", {"p": {"name": "Al", "age": 3}}, "Al is 3"),
        ("{{#flag}}on{{/flag}}{{^flag}}off{{/flag}}", {"flag": False}, "off"),
        ("{{^items}}none{{/items}}", {"items": []}, "none"),
        ("{{a.b.c}}/{{a.l.1}}", {"a": {"b": {"c": "deep"}, "l": ["x", "y"]}}, "deep/y"),
        ("[{{missing}}]{{#missing}}x{{/missing}}", {}, "[]"),
        ("{{zero}} {{no}} {{none}}", {"zero": 0, "no": False, "none": None}, "0 False "),
        ("{{#o}}{{name}}{{/o}}", {"o": {"x": 1}, "name": "outer"}, "outer"),
        ("a\n  {{#f}}  \nb\n  {{/f}}\nc", {"f": True}, "a\nb\nc"),
        ("{{! note }}x", {}, "x"),
        ("{{=<% %>=}}<% v %> {{v}}", {"v": 1}, "1 {{v}}"),
    ],
)
def test_mustache_rendering(template: str, values: dict[str, Any], expected: str) -> None:
    assert format_template(template, "mustache", values) == expected


def test_mustache_does_not_reach_attributes() -> None:
    class Obj:
        secret = "s3cr3t"

    assert format_template("[{{o.secret}}]", "mustache", {"o": Obj()}) == "[]"


def test_mustache_variables_are_top_level_names() -> None:
    template = "{{a.b}} {{#c}}{{d}}{{/c}} {{^e}}{{f}}{{/e}} {{{g}}} {{.}}"
    assert template_variables(template, "mustache") == ["a", "c", "e", "g"]


@pytest.mark.parametrize(
    ("template", "match"),
    [
        ("{{> part}}", "partials"),
        ("{{#a}}x", "never closed"),
        ("{{/a}}", "closes nothing"),
        ("{{#a}}{{/b}}", "still open"),
        ("{{x", "unclosed tag"),
        ("{{ }}", "empty tag"),
    ],
)
def test_mustache_syntax_errors(template: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PromptTemplate.from_template(template, template_format="mustache")


def test_mustache_prompt_template() -> None:
    prompt = PromptTemplate.from_template(
        "{{greeting}} {{#user}}{{name}}{{/user}}", template_format="mustache"
    )
    assert prompt.input_variables == ["greeting", "user"]
    assert prompt.format(greeting="Hi", user={"name": "Ann"}) == "Hi Ann"


# -- jinja2 ----------------------------------------------------------------------------
@pytest.mark.skipif(not HAS_JINJA2, reason="jinja2 is not installed")
def test_jinja2_renders_in_a_sandbox_when_opted_in() -> None:
    prompt = PromptTemplate.from_template(
        "{% for x in items %}{{ x }};{% endfor %}{{ name|upper }}", template_format="jinja2"
    )
    assert prompt.input_variables == ["items", "name"]
    assert prompt.format(items=[1, 2], name="ann") == "1;2;ANN"
    with pytest.raises(Exception, match=r"unsafe|not safely"):
        PromptTemplate.from_template("{{ x.__class__.__mro__ }}", template_format="jinja2").format(
            x=1
        )


@pytest.mark.skipif(HAS_JINJA2, reason="jinja2 is installed")
def test_jinja2_without_the_package_is_an_import_error() -> None:
    with pytest.raises(ImportError, match="needs the jinja2 package"):
        PromptTemplate.from_template("{{ x }}", template_format="jinja2")


def test_loader_refuses_jinja2_by_default() -> None:
    text = json.dumps(
        {
            "lc": 1,
            "type": "constructor",
            "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
            "kwargs": {"template": "{{ x }}", "template_format": "jinja2"},
        }
    )
    with pytest.raises(ValidatorRejectedError, match="jinja2 templates are refused"):
        runwire.loads(text)
    nested = json.dumps(
        {
            "lc": 1,
            "type": "constructor",
            "id": ["runwire", "prompts", "ChatPromptTemplate"],
            "kwargs": {"messages": [json.loads(text)]},
        }
    )
    with pytest.raises(ValidatorRejectedError, match=r"\$\.kwargs\.messages\[0\]"):
        runwire.loads(nested)
    if not HAS_JINJA2:  # with the validator off, the missing package is the failure
        with pytest.raises(FieldValidationError, match="jinja2 package"):
            runwire.loads(text, init_validator=None)


def test_a_plain_dict_cannot_smuggle_a_jinja2_prompt() -> None:
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "prompts", "HumanMessagePromptTemplate"],
        "kwargs": {"prompt": {"template": "{{ x }}", "template_format": "jinja2"}},
    }
    with pytest.raises(FieldValidationError, match="must be a PromptTemplate"):
        runwire.load(node)


# -- PromptTemplate --------------------------------------------------------------------
def test_prompt_template_infers_variables_and_formats() -> None:
    prompt = PromptTemplate.from_template("Tell me about {topic} in {n} words")
    assert prompt.input_variables == ["n", "topic"]
    assert prompt.format(topic="owls", n=5) == "Tell me about owls in 5 words"
    assert PromptTemplate("Say {x}").input_variables == ["x"]  # positional template
    # given input_variables are recomputed from the template, as in LangChain
    assert PromptTemplate(template="A {a}", input_variables=["zz"]).input_variables == ["a"]


def test_partial_variables_values_and_callables() -> None:
    calls: list[int] = []

    def today() -> str:
        calls.append(1)
        return "Monday"

    prompt = PromptTemplate.from_template(
        "{day}: {task} for {who}", partial_variables={"day": today}
    )
    assert prompt.input_variables == ["task", "who"]
    filled = prompt.partial(who="Ann")
    assert filled.input_variables == ["task"]
    assert filled.partial_variables == {"day": today, "who": "Ann"}
    assert filled.format(task="write") == "Monday: write for Ann"
    assert filled.invoke("read").text == "Monday: read for Ann"
    assert len(calls) == 2  # called on each format
    assert prompt.input_variables == ["task", "who"]  # the original is unchanged


def test_missing_variables_raise_key_error_naming_them() -> None:
    prompt = PromptTemplate.from_template("{a} {b} {c}")
    with pytest.raises(KeyError) as info:
        prompt.invoke({"a": 1})
    message = str(info.value)
    assert "missing variables ['b', 'c']" in message
    assert "Received: ['a']" in message
    assert "{{b}}" in message  # the escape hint


def test_single_variable_prompt_takes_a_bare_value_others_need_a_dict() -> None:
    assert PromptTemplate.from_template("Q: {q}").invoke("why?").to_string() == "Q: why?"
    with pytest.raises(TypeError, match=r"takes a dict of variables \['a', 'b'\]"):
        PromptTemplate.from_template("{a}{b}").invoke("x")


def test_reserved_and_overlapping_variable_names() -> None:
    with pytest.raises(ValidationError, match="'stop'"):
        PromptTemplate.from_template("{stop}")
    with pytest.raises(ValidationError, match="'stop'"):
        PromptTemplate.from_template("{x}", partial_variables={"stop": "."})


def test_validate_template() -> None:
    ok = PromptTemplate(template="{a}", input_variables=["a"], validate_template=True)
    assert ok.validate_template is True
    with pytest.raises(ValidationError, match=r"variables \['b'\]"):
        PromptTemplate(template="{a} {b}", input_variables=["a"], validate_template=True)
    with pytest.raises(ValidationError, match="needs input_variables"):
        PromptTemplate(template="{a}", validate_template=True)
    with pytest.raises(ValidationError, match="mustache templates cannot be validated"):
        PromptTemplate(
            template="{{a}}",
            input_variables=["a"],
            template_format="mustache",
            validate_template=True,
        )


def test_adding_prompt_templates() -> None:
    joined = PromptTemplate.from_template("A {a}. ", partial_variables={"p": 1}) + "B {b}"
    assert joined.template == "A {a}. B {b}"
    assert joined.input_variables == ["a", "b"]
    assert joined.partial_variables == {"p": 1}
    with pytest.raises(ValueError, match="cannot add a f-string template to a mustache"):
        PromptTemplate.from_template("x") + PromptTemplate.from_template(
            "y", template_format="mustache"
        )
    with pytest.raises(ValueError, match="partial variable 'p'"):
        PromptTemplate.from_template("{p}", partial_variables={"p": 1}) + (
            PromptTemplate.from_template("{p}", partial_variables={"p": 2})
        )
    with pytest.raises(TypeError):
        PromptTemplate.from_template("x") + 3


def test_prompt_runs_report_prompt_runs_with_own_tags_and_metadata() -> None:
    recorder = Recorder()
    prompt = PromptTemplate.from_template("x {a}", tags=["mine"], metadata={"m": 1})
    out = prompt.invoke({"a": 1}, {"callbacks": [recorder], "tags": ["outer"]})
    assert out == StringPromptValue(text="x 1")
    assert recorder.events == [
        ("start", "PromptTemplate", "prompt", ["mine", "outer"], {"m": 1}),
        ("end", "PromptTemplate", "StringPromptValue"),
    ]
    with pytest.raises(KeyError):
        prompt.invoke({}, {"callbacks": [recorder]})
    assert recorder.events[-1] == ("error", "PromptTemplate", "KeyError")


def test_prompt_template_invoke_paths() -> None:
    prompt = PromptTemplate.from_template("hi {name}")
    expected = StringPromptValue(text="hi a")
    assert prompt.invoke({"name": "a"}) == expected
    assert run(prompt.ainvoke({"name": "a"})) == expected
    assert prompt.batch([{"name": "a"}, {"name": "b"}]) == [
        expected,
        StringPromptValue(text="hi b"),
    ]
    assert run(prompt.abatch([{"name": "a"}, "b"])) == [expected, StringPromptValue(text="hi b")]
    assert list(prompt.stream({"name": "a"})) == [expected]

    async def collect() -> list[Any]:
        return [chunk async for chunk in prompt.astream({"name": "a"})]

    assert run(collect()) == [expected]
    results = prompt.batch([{"name": "a"}, {}], return_exceptions=True)
    assert results[0] == expected and isinstance(results[1], KeyError)


def test_prompt_pipes_into_a_sequence() -> None:
    chain = PromptTemplate.from_template("{x}!") | (lambda value: value.to_string().upper())
    assert chain.invoke({"x": "hey"}) == "HEY!"
    assert run(chain.ainvoke({"x": "hey"})) == "HEY!"


# -- prompt values ---------------------------------------------------------------------
def test_string_prompt_value() -> None:
    value = StringPromptValue(text="hello")
    assert value.text == value.to_string() == "hello"
    assert value.to_messages() == [HumanMessage(content="hello")]


def test_chat_prompt_value_renders_a_transcript() -> None:
    call = {"name": "search", "args": {"q": "x"}, "id": "1"}
    value = ChatPromptValue(
        messages=[
            SystemMessage(content="be brief"),
            HumanMessage(content=[{"type": "text", "text": "hi"}, {"type": "image_url"}]),
            AIMessage(content="ok", tool_calls=[call]),
            ToolMessage(content="found", tool_call_id="1"),
        ]
    )
    assert value.to_string() == (
        "System: be brief\nHuman: hi\nAI: ok"
        "[{'name': 'search', 'args': {'q': 'x'}, 'id': '1', 'type': 'tool_call'}]\nTool: found"
    )
    messages = value.to_messages()
    assert messages == value.messages and messages is not value.messages
    assert get_buffer_string(messages[:2], human_prefix="User") == "System: be brief\nUser: hi"


# -- chat prompts ----------------------------------------------------------------------
def test_from_messages_coerces_every_representation() -> None:
    fixed = SystemMessage(content="fixed {not_a_var}")
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}."),
            ("user", "u {a}"),
            ("assistant", "a {a}"),
            ("ai", "ai"),
            ("human", "h"),
            "{q}",
            {"role": "system", "content": "d {z}"},
            fixed,
            (HumanMessage, "cls {c}"),
            (AIMessagePromptTemplate, "tmpl"),
            ("placeholder", "{history}"),
            ("placeholder", ["{needed}", False]),
            MessagesPlaceholder("more", optional=True),
        ]
    )
    kinds = [type(m).__name__ for m in prompt.messages]
    assert kinds == [
        "SystemMessagePromptTemplate",
        "HumanMessagePromptTemplate",
        "AIMessagePromptTemplate",
        "AIMessagePromptTemplate",
        "HumanMessagePromptTemplate",
        "HumanMessagePromptTemplate",
        "SystemMessagePromptTemplate",
        "SystemMessage",
        "HumanMessagePromptTemplate",
        "AIMessagePromptTemplate",
        "MessagesPlaceholder",
        "MessagesPlaceholder",
        "MessagesPlaceholder",
    ]
    assert prompt.messages[7] is fixed
    assert prompt.input_variables == ["a", "c", "needed", "q", "role", "z"]
    assert prompt.optional_variables == ["history", "more"]
    assert prompt.partial_variables == {"history": [], "more": []}
    assert set(prompt.input_types) == {"history", "needed", "more"}
    out = prompt.format_messages(role="r", a=1, c=2, q="?", z=3, needed=[("ai", "n")])
    assert [type(m).__name__ for m in out] == [
        "SystemMessage", "HumanMessage", "AIMessage", "AIMessage", "HumanMessage",
        "HumanMessage", "SystemMessage", "SystemMessage", "HumanMessage", "AIMessage",
        "AIMessage",
    ]  # fmt: skip
    assert out[0].content == "You are r." and out[7].content == "fixed {not_a_var}"


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (("robot", "x"), "unexpected message role 'robot'"),
        (("placeholder", "history"), "variable name in braces"),
        (("placeholder", ["{h}", "yes"]), "must be a bool"),
        (("a", "b", "c"), "pair"),
        ({"role": "human"}, "exactly the keys"),
        (42, "cannot use a int"),
    ],
)
def test_from_messages_errors(message: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ChatPromptTemplate.from_messages([message])


def test_placeholder_required_optional_and_n_messages() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history", n_messages=2), ("human", "{q}")]
    )
    assert prompt.input_variables == ["history", "q"]
    history = [
        ("system", "s"),
        "plain string",
        {"role": "assistant", "content": "dict", "name": "bot"},
        {"lc": 1, "type": "constructor", "id": ["x", "AIMessage"], "kwargs": {"content": "lc"}},
    ]
    messages = prompt.invoke({"history": history, "q": "?"}).to_messages()
    assert messages == [AIMessage(content="dict", name="bot"), AIMessage(content="lc"),
                        HumanMessage(content="?")]  # fmt: skip
    with pytest.raises(KeyError, match="missing variables \\['history'\\]"):
        prompt.invoke({"q": "?"})
    with pytest.raises(ValueError, match="should be a list of messages"):
        prompt.invoke({"history": "not a list", "q": "?"})
    optional = ChatPromptTemplate.from_messages([("placeholder", "{history}"), ("human", "{q}")])
    assert optional.invoke("?").to_messages() == [HumanMessage(content="?")]
    assert MessagesPlaceholder("h", optional=True).format_messages() == []
    with pytest.raises(KeyError, match="'h'"):
        MessagesPlaceholder("h").format_messages()


def test_convert_to_messages_roles_and_tool_calls() -> None:
    tool_call = {"id": "c1", "function": {"name": "f", "arguments": '{"a": 1}'}}
    out = convert_to_messages(
        [
            ("developer", "dev"),
            {"role": "assistant", "content": None, "tool_calls": [tool_call]},
            {"type": "tool", "content": "r", "tool_call_id": "c1", "status": "error"},
        ]
    )
    assert out[0] == SystemMessage(
        content="dev", additional_kwargs={"__openai_role__": "developer"}
    )
    assert out[1].tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert out[2] == ToolMessage(content="r", tool_call_id="c1", status="error")
    assert convert_to_messages(StringPromptValue(text="v")) == [HumanMessage(content="v")]
    with pytest.raises(ValueError, match="unexpected message role 'wizard'"):
        convert_to_messages([("wizard", "x")])
    with pytest.raises(TypeError, match="cannot make a message from int"):
        convert_to_messages([3])


def test_chat_prompt_format_invoke_and_async() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are {role}."), ("human", "{q}")])
    value = prompt.invoke({"role": "terse", "q": "hi"})
    assert isinstance(value, ChatPromptValue)
    assert value.to_messages() == [
        SystemMessage(content="You are terse."),
        HumanMessage(content="hi"),
    ]
    assert prompt.format(role="terse", q="hi") == "System: You are terse.\nHuman: hi"
    assert run(prompt.ainvoke({"role": "terse", "q": "hi"})) == value
    assert run(prompt.aformat_messages(role="terse", q="hi")) == value.messages
    assert run(prompt.abatch([{"role": "terse", "q": "hi"}])) == [value]
    assert list(prompt.stream({"role": "terse", "q": "hi"})) == [value]
    with pytest.raises(TypeError, match="takes a dict"):
        prompt.invoke("hi")
    recorder = Recorder()
    prompt.invoke({"role": "a", "q": "b"}, {"callbacks": [recorder]})
    assert recorder.events[0][:3] == ("start", "ChatPromptTemplate", "prompt")


def test_chat_partial_add_len_and_slices() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are {name}."), ("human", "Hi, I'm {user}"), ("human", "{input}")]
    )
    filled = prompt.partial(name="R2", user=lambda: "Lucy")
    assert filled.input_variables == ["input"]
    assert [m.content for m in filled.format_messages(input="yo")] == [
        "You are R2.",
        "Hi, I'm Lucy",
        "yo",
    ]
    # as in LangChain, a tuple is a sequence of messages: here two human templates
    pair = filled + ("ai", "{reply}")  # noqa: RUF005
    assert [m.prompt.template for m in pair.messages[3:]] == ["ai", "{reply}"]
    more = filled + [("ai", "{reply}")] + "{last}" + SystemMessage(content="end")
    assert more.input_variables == ["input", "last", "reply"]
    assert more.partial_variables["name"] == "R2"
    assert len(more) == 6
    assert isinstance(more[0], SystemMessagePromptTemplate)
    tail = more[4:]
    assert isinstance(tail, ChatPromptTemplate) and tail.input_variables == ["last"]
    both = prompt + ChatPromptTemplate.from_messages([("ai", "{x}")])
    assert both.input_variables == ["input", "name", "user", "x"]
    via_message = HumanMessagePromptTemplate.from_template("{a}") + ("ai", "{b}")  # noqa: RUF005
    assert via_message.input_variables == ["a", "b"]
    with pytest.raises(TypeError):
        prompt + 3


def test_content_block_templates() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("human", ["Look at {thing}", {"type": "text", "text": "{extra}"}])]
    )
    assert prompt.input_variables == ["extra", "thing"]
    (message,) = prompt.format_messages(thing="this", extra="")
    assert message.content == [{"type": "text", "text": "Look at this"}]  # empty blocks dropped
    with pytest.raises(ValueError, match="not supported for a list"):
        HumanMessagePromptTemplate.from_template(["{a}"], partial_variables={"a": 1})


def test_chat_prompt_template_formats_and_nesting() -> None:
    mustache = ChatPromptTemplate.from_messages(
        [("system", "{{#bold}}**{{/bold}}{{name}}"), ("human", "{{q}}")],
        template_format="mustache",
    )
    assert mustache.input_variables == ["bold", "name", "q"]
    assert mustache.format(bold=True, name="n", q="?") == "System: **n\nHuman: ?"
    inner = ChatPromptTemplate.from_messages([("system", "s {a}")]).partial(a="A")
    outer = ChatPromptTemplate.from_messages([inner, ("human", "{b}")])
    assert outer.input_variables == ["b"]
    assert outer.format(b="B") == "System: s A\nHuman: B"
    single = ChatPromptTemplate.from_template("Q: {q}")
    assert single.invoke("why").to_messages() == [HumanMessage(content="Q: why")]


def test_validate_template_on_chat_prompts() -> None:
    messages = [("human", "{a}")]
    ok = ChatPromptTemplate(messages, input_variables=["a"], validate_template=True)
    assert ok.input_variables == ["a"]
    with pytest.raises(ValidationError, match="do not match"):
        ChatPromptTemplate(messages, input_variables=["b"], validate_template=True)


def test_input_and_output_schemas() -> None:
    prompt = PromptTemplate.from_template("{x} {y}", partial_variables={"y": "1"})
    schema = prompt.get_input_jsonschema()
    assert schema["title"] == "PromptInput"
    assert schema["required"] == ["x"] and list(schema["properties"]) == ["x"]
    chat = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("placeholder", "{extra}"), ("human", "{q}")]
    )
    schema = chat.get_input_jsonschema()
    assert schema["required"] == ["history", "q"]
    assert schema["properties"]["history"]["type"] == "array"
    assert schema["properties"]["extra"]["default"] is None
    output = chat.get_output_jsonschema()
    assert output["title"] == "ChatPromptTemplateOutput"
    refs = {item["$ref"].rsplit("/", 1)[-1] for item in output["anyOf"]}
    assert refs == {"StringPromptValue", "ChatPromptValueConcrete"}
    nested = PromptTemplate.from_template("{{a.b}} {{#c}}{{d}}{{/c}}", template_format="mustache")
    props = nested.get_input_jsonschema()["properties"]
    assert set(props) == {"a", "c"}


def test_manifest_schema_does_not_require_inferred_input_variables() -> None:
    assert ChatPromptTemplate.model_json_schema()["required"] == ["messages"]
    assert PromptTemplate.model_json_schema()["required"] == ["template"]


# -- wire form -------------------------------------------------------------------------
def _lc_prompt(template: str, variables: list[str]) -> dict[str, Any]:
    return {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
        "kwargs": {
            "input_variables": variables,
            "template": template,
            "template_format": "f-string",
        },
        "name": "PromptTemplate",
    }


def _lc_message_template(kind: str, template: str, variables: list[str]) -> dict[str, Any]:
    return {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "prompts", "chat", kind],
        "kwargs": {"prompt": _lc_prompt(template, variables)},
    }


def test_langchain_dialect_matches_langchain_dumps() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are {role}."), ("human", "{q}")])
    expected = {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "prompts", "chat", "ChatPromptTemplate"],
        "kwargs": {
            "input_variables": ["q", "role"],
            "messages": [
                _lc_message_template("SystemMessagePromptTemplate", "You are {role}.", ["role"]),
                _lc_message_template("HumanMessagePromptTemplate", "{q}", ["q"]),
            ],
        },
        "name": "ChatPromptTemplate",
    }
    text = runwire.dumps(prompt, dialect="langchain")
    assert json.loads(text) == expected
    assert list(json.loads(text)) == ["lc", "type", "id", "kwargs", "name"]
    native = parsed(prompt)
    assert native["id"] == ["runwire", "prompts", "ChatPromptTemplate"]
    assert native["kwargs"]["messages"][0]["id"] == [
        "runwire",
        "prompts",
        "SystemMessagePromptTemplate",
    ]


def test_optional_fields_appear_only_when_set() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "S {a}"), MessagesPlaceholder("history", optional=True)]
    )
    kwargs = parsed(prompt, dialect="langchain")["kwargs"]
    assert list(kwargs) == [
        "input_variables",
        "optional_variables",
        "partial_variables",
        "messages",
    ]
    assert kwargs["partial_variables"] == {"history": []}
    assert kwargs["messages"][1]["kwargs"] == {"variable_name": "history", "optional": True}
    plain = parsed(PromptTemplate.from_template("x", metadata={"k": 1}, tags=["t"], name="n"))
    assert plain["kwargs"] == {
        "name": "n",
        "input_variables": [],
        "metadata": {"k": 1},
        "tags": ["t"],
        "template": "x",
        "template_format": "f-string",
    }
    assert plain["name"] == "n"
    value = parsed(StringPromptValue(text="t"), dialect="langchain")
    assert value == {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "prompts", "base", "StringPromptValue"],
        "kwargs": {"text": "t", "type": "StringPromptValue"},
    }


ROUND_TRIP = {
    "prompt": lambda: PromptTemplate.from_template("Hi {x} {y}", partial_variables={"y": "z"}),
    "mustache": lambda: PromptTemplate.from_template(
        "{{#a}}{{b}}{{/a}}", template_format="mustache", tags=["t"], metadata={"m": [1]}
    ),
    "chat": lambda: ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}."),
            MessagesPlaceholder("history", optional=True, n_messages=4),
            SystemMessage(content="fixed"),
            HumanMessagePromptTemplate.from_template("{q}", additional_kwargs={"k": "v"}),
            ("ai", ["block {b}", "two"]),
        ]
    ).partial(role="helper"),
    "placeholder": lambda: MessagesPlaceholder("h"),
    "chat_value": lambda: ChatPromptValue(messages=[HumanMessage(content="x"), AIMessage("y")]),
    "string_value": lambda: StringPromptValue(text="x"),
}


@pytest.mark.parametrize("dialect", ["runwire", "langchain"])
@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_round_trip(name: str, dialect: str) -> None:
    obj = ROUND_TRIP[name]()
    text = runwire.dumps(obj, dialect=dialect)  # type: ignore[arg-type]
    back = runwire.loads(text, allowed_objects="all")
    assert type(back) is type(obj)
    assert back == obj
    assert runwire.dumps(back, dialect=dialect) == text  # type: ignore[arg-type]


def test_loaded_chat_prompt_behaves_like_the_original() -> None:
    original = ROUND_TRIP["chat"]()
    back = runwire.loads(runwire.dumps(original), allowed_objects="all")
    inputs = {"q": "?", "b": 1, "history": [("human", "earlier")]}
    assert back.invoke(inputs) == original.invoke(inputs)
    assert back.input_variables == ["b", "q"]


LANGCHAIN_CHAT = """
{"lc": 1, "type": "constructor",
 "id": ["langchain", "prompts", "chat", "ChatPromptTemplate"],
 "kwargs": {
   "input_variables": ["question"],
   "optional_variables": ["history"],
   "partial_variables": {"history": []},
   "messages": [
     {"lc": 1, "type": "constructor",
      "id": ["langchain", "prompts", "chat", "SystemMessagePromptTemplate"],
      "kwargs": {"prompt": {"lc": 1, "type": "constructor",
        "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
        "kwargs": {"input_variables": [], "template": "Be {{brief}}.",
                   "template_format": "f-string"},
        "name": "PromptTemplate"}}},
     {"lc": 1, "type": "constructor",
      "id": ["langchain", "prompts", "chat", "MessagesPlaceholder"],
      "kwargs": {"variable_name": "history", "optional": true}},
     {"lc": 1, "type": "constructor",
      "id": ["langchain", "schema", "messages", "AIMessage"],
      "kwargs": {"content": "Ask away.", "type": "ai", "tool_calls": [],
                 "invalid_tool_calls": []}},
     {"lc": 1, "type": "constructor",
      "id": ["langchain", "prompts", "chat", "HumanMessagePromptTemplate"],
      "kwargs": {"prompt": {"lc": 1, "type": "constructor",
        "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
        "kwargs": {"input_variables": ["question"], "template": "{question}",
                   "template_format": "f-string"},
        "name": "PromptTemplate"}}}
   ]},
 "name": "ChatPromptTemplate"}
"""

LANGCHAIN_CORE_PROMPT = """
{"lc": 1, "type": "constructor",
 "id": ["langchain_core", "prompts", "prompt", "PromptTemplate"],
 "kwargs": {"input_variables": ["topic"], "template": "{{#topic}}About {{topic}}{{/topic}}",
            "template_format": "mustache", "metadata": {"source": "hub"}},
 "name": "PromptTemplate"}
"""


def test_langchain_fixtures_load_into_the_right_classes() -> None:
    chat = runwire.loads(LANGCHAIN_CHAT)
    assert type(chat) is ChatPromptTemplate
    assert [type(m) for m in chat.messages] == [
        SystemMessagePromptTemplate,
        MessagesPlaceholder,
        AIMessage,
        HumanMessagePromptTemplate,
    ]
    assert type(chat.messages[0].prompt) is PromptTemplate
    assert chat.input_variables == ["question"]
    assert chat.invoke("why?").to_string() == "System: Be {brief}.\nAI: Ask away.\nHuman: why?"
    assert json.loads(runwire.dumps(chat, dialect="langchain")) == json.loads(LANGCHAIN_CHAT)

    prompt = runwire.loads(LANGCHAIN_CORE_PROMPT)
    assert type(prompt) is PromptTemplate
    assert prompt.metadata == {"source": "hub"}
    assert prompt.invoke("owls").text == "About owls"
    written = parsed(prompt, dialect="langchain")
    assert written["id"] == ["langchain", "prompts", "prompt", "PromptTemplate"]
    assert written["kwargs"] == json.loads(LANGCHAIN_CORE_PROMPT)["kwargs"]


def test_authoring_form_messages_load() -> None:
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "prompts", "ChatPromptTemplate"],
        "kwargs": {
            "messages": [
                ["system", "You are {role}."],
                ["placeholder", "{history}"],
                ["human", "{question}"],
            ]
        },
    }
    prompt = runwire.load(node)
    assert prompt.input_variables == ["question", "role"]
    assert prompt.optional_variables == ["history"]
    assert prompt.format(role="r", question="q") == "System: You are r.\nHuman: q"


def test_prompt_values_load_from_langchain_ids() -> None:
    text = json.dumps(
        {
            "lc": 1,
            "type": "constructor",
            "id": ["langchain_core", "prompt_values", "ChatPromptValue"],
            "kwargs": {
                "messages": [
                    {
                        "lc": 1,
                        "type": "constructor",
                        "id": ["langchain_core", "messages", "HumanMessage"],
                        "kwargs": {"content": "hi", "type": "human"},
                    }
                ]
            },
        }
    )
    value = runwire.loads(text)
    assert type(value) is ChatPromptValue
    assert value.to_string() == "Human: hi"
