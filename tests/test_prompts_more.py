"""Image, dict, chat-message and structured prompts; content blocks; LangChain.js kwargs."""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

import pytest
from pydantic import ValidationError

import runwire
from runwire.errors import ManifestError, TemplateError
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import (
    ChatMessagePromptTemplate,
    ChatPromptTemplate,
    DictPromptTemplate,
    HumanMessagePromptTemplate,
    ImagePromptTemplate,
    ImagePromptValue,
    PromptTemplate,
    StringPromptTemplate,
    StructuredPrompt,
    limits,
)
from runwire.runtime.sequence import RunnableSequence
from runwire.schema.messages import HumanMessage
from samples_prompts import ANSWER_SCHEMA

PT = ["langchain", "prompts", "prompt", "PromptTemplate"]


def ctor(ident: list[str], **kwargs: Any) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ident, "kwargs": kwargs}


def image_node(**kwargs: Any) -> dict[str, Any]:
    return ctor(["langchain", "prompts", "image", "ImagePromptTemplate"], **kwargs)


# -- ImagePromptTemplate ---------------------------------------------------------------
def test_image_prompt_formats_url_and_detail() -> None:
    prompt = ImagePromptTemplate(template={"url": "https://e.com/{name}.png", "detail": "{d}"})
    assert prompt.input_variables == ["d", "name"]  # inferred when not given
    assert prompt.format(name="cat", d="high") == {"url": "https://e.com/cat.png", "detail": "high"}
    assert prompt.format(name="cat", d="") == {"url": "https://e.com/cat.png"}  # empty: omitted
    value = prompt.invoke({"name": "cat", "d": "low"})
    assert value == ImagePromptValue(image_url={"url": "https://e.com/cat.png", "detail": "low"})
    assert value.to_string() == "https://e.com/cat.png"
    assert value.to_messages() == [HumanMessage(content=[value.image_url])]
    assert (
        asyncio.run(prompt.ainvoke({"name": "dog", "d": "low"}))
        .image_url["url"]
        .endswith("dog.png")
    )


def test_image_prompt_keeps_given_input_variables_as_langchain_does() -> None:
    prompt = ImagePromptTemplate(input_variables=[], template={"url": "{img}"})
    assert prompt.input_variables == []
    with pytest.raises(KeyError):
        HumanMessagePromptTemplate(prompt=[prompt]).format(img="https://e.com/x.png")


@pytest.mark.parametrize(
    ("template", "kwargs"),
    [({"url": "https://e.com/a.png", "path": "/etc/passwd"}, {}), ({"url": "{u}"}, {"path": "x"})],
)
def test_image_prompt_refuses_local_paths(template: dict[str, Any], kwargs: dict[str, Any]) -> None:
    prompt = ImagePromptTemplate(input_variables=["u"], template=template)
    with pytest.raises(ValueError, match="Loading images from 'path' has been removed"):
        prompt.format(u="https://e.com/a.png", **kwargs)


def test_image_prompt_errors() -> None:
    with pytest.raises(ValidationError, match="cannot contain any of 'url', 'path', or 'detail'"):
        ImagePromptTemplate(input_variables=["url"], template={"url": "{url}"})
    with pytest.raises(ValueError, match="Must provide url"):
        ImagePromptTemplate(template={"detail": "low"}).format()
    with pytest.raises(ValueError, match="url must be a string"):
        ImagePromptTemplate(template={"url": 5}).format()
    with pytest.raises((ValidationError, TemplateError), match="attribute access"):
        ImagePromptTemplate(template={"url": "{img.__class__}"})


def test_image_prompt_output_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TEMPLATE_OUTPUT", 100)
    prompt = ImagePromptTemplate(template={"url": "{u}{u}"})
    with pytest.raises(TemplateError, match="larger than the limit"):
        prompt.format(u="x" * 60)


def test_loader_refuses_a_jinja2_image_template() -> None:
    node = image_node(input_variables=[], template={"url": "{{ x }}"}, template_format="jinja2")
    with pytest.raises(ManifestError, match="jinja2"):
        runwire.load(node)


# -- DictPromptTemplate ----------------------------------------------------------------
def test_dict_prompt_fills_string_values_at_any_depth() -> None:
    prompt = DictPromptTemplate(
        template={"t": "Hi {a}", "{k}": {"inner": ["{b}", 7, {"deep": "{a}!"}]}, "n": 3},
        template_format="f-string",
    )
    assert prompt.input_variables == ["a", "b"]
    want = {"t": "Hi x", "{k}": {"inner": ["y", 7, {"deep": "x!"}]}, "n": 3}
    assert prompt.format(a="x", b="y") == want
    assert prompt.invoke({"a": "x", "b": "y"}) == want
    assert asyncio.run(prompt.ainvoke({"a": "x", "b": "y"})) == want


def test_dict_prompt_mustache_and_refusals() -> None:
    prompt = DictPromptTemplate(template={"t": "{{a.b}}"}, template_format="mustache")
    assert prompt.format(a={"b": "ok"}) == {"t": "ok"}
    assert prompt.format(a=HumanMessage(content="x")) == {"t": ""}  # no attribute access
    with pytest.raises(ValidationError):
        DictPromptTemplate(template={"t": "{{ a }}"}, template_format="jinja2")  # type: ignore[arg-type]
    with pytest.raises((ValidationError, TemplateError), match="attribute access"):
        DictPromptTemplate(template={"x": ["{a.__class__}"]}, template_format="f-string")
    with pytest.raises(ValueError, match="given by 'path' is refused"):
        DictPromptTemplate(
            template={"image_url": {"path": "/etc/passwd"}}, template_format="f-string"
        ).format()


def test_dict_prompt_output_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TEMPLATE_OUTPUT", 100)
    prompt = DictPromptTemplate(template={"a": "{x}", "b": ["{x}"]}, template_format="f-string")
    with pytest.raises(TemplateError, match="larger than the limit"):
        prompt.format(x="y" * 60)


def test_loader_refuses_nodes_inside_template_data() -> None:
    node = ctor(
        ["langchain_core", "prompts", "dict", "DictPromptTemplate"],
        template={"x": ctor(PT, template="{a}")},
        template_format="f-string",
    )
    with pytest.raises(ManifestError):
        runwire.load(node, allowed_objects="all")
    secret = {"lc": 1, "type": "secret", "id": ["AWS_SECRET_ACCESS_KEY"]}
    node["kwargs"]["template"] = {"x": secret}
    with pytest.raises(ManifestError):
        runwire.load(node, secrets_map={"AWS_SECRET_ACCESS_KEY": "s3cr3t"})


# -- content blocks in message templates ----------------------------------------------
def test_message_template_content_blocks() -> None:
    template = HumanMessagePromptTemplate.from_template(
        [
            "{thing}",
            {"type": "image_url", "image_url": "{img}"},
            {"image_url": {"url": "{big}", "detail": "high"}},
            {"type": "audio", "url": "{audio}"},
        ]
    )
    kinds = [type(p).__name__ for p in template.prompt]  # type: ignore[union-attr]
    assert kinds == [
        "PromptTemplate",
        "ImagePromptTemplate",
        "ImagePromptTemplate",
        "DictPromptTemplate",
    ]
    assert template.input_variables == ["thing", "img", "big", "audio"]
    message = template.format(thing="", img="i", big="b", audio="a")
    assert message.content == [  # the empty text block is dropped
        {"type": "image_url", "image_url": {"url": "i"}},
        {"type": "image_url", "image_url": {"url": "b", "detail": "high"}},
        {"type": "audio", "url": "a"},
    ]


def test_content_block_refusals() -> None:
    with pytest.raises(ValueError, match="Only one format variable allowed"):
        HumanMessagePromptTemplate.from_template([{"image_url": "{a}{b}"}])
    with pytest.raises(ValueError, match="jinja2 is unsafe"):
        HumanMessagePromptTemplate.from_template([{"type": "x", "y": "{z}"}], "jinja2")
    with pytest.raises((ValueError, TemplateError)):
        ChatPromptTemplate.from_messages(
            [("human", [{"type": "image_url", "image_url": {"url": "{img:{img.__class__}}"}}])]
        )


def test_chat_prompt_budget_counts_image_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TEMPLATE_OUTPUT", 100)
    prompt = ChatPromptTemplate.from_messages(
        [("human", [{"image_url": "{a}"}]), ("human", [{"image_url": "{b}"}])]
    )
    with pytest.raises(TemplateError, match="larger than the limit"):
        prompt.format_messages(a="x" * 60, b="y" * 60)


# -- ChatMessagePromptTemplate ---------------------------------------------------------
def test_chat_message_prompt_template() -> None:
    template = ChatMessagePromptTemplate.from_template("Review {draft}", role="critic")
    message = template.format(draft="it")
    assert (type(message).__name__, message.role, message.content) == (
        "ChatMessage",
        "critic",
        "Review it",
    )
    prompt = ChatPromptTemplate.from_messages([("system", "Be kind."), template])
    assert prompt.input_variables == ["draft"]
    assert [m.type for m in prompt.format_messages(draft="x")] == ["system", "chat"]
    with pytest.raises(ValidationError):
        ChatMessagePromptTemplate(prompt=["a", "b"], role="r")
    with pytest.raises(ValidationError):
        ChatMessagePromptTemplate(prompt="a")  # the role is required


# -- LangChain.js kwargs and ChatPromptTemplate.template_format -------------------------
def test_langchain_js_kwargs_are_read_and_dropped() -> None:
    node = ctor(
        ["langchain_core", "prompts", "chat", "HumanMessagePromptTemplate"],
        prompt=[
            ctor(PT, template="{a}", additional_content_fields={"cache_control": {"t": 1}}),
            image_node(template={"url": "{b}"}, additional_content_fields={"x": 1}),
        ],
        additional_options={"name": "n"},
    )
    template = runwire.load(node)
    assert template.additional_options is None
    assert [p.additional_content_fields for p in template.prompt] == [None, None]
    text = runwire.dumps(template, dialect="langchain")
    assert "additional_" not in text
    node["kwargs"]["additional_options"] = {"x": ctor(PT, template="{a}")}
    with pytest.raises(ManifestError):
        runwire.load(node)  # data, never objects


def test_chat_prompt_template_format_reads_raw_messages() -> None:
    prompt = ChatPromptTemplate(messages=[("human", "Hi {{name}}")], template_format="mustache")
    assert prompt.input_variables == ["name"]
    assert prompt.template_format is None  # used while constructing, not stored
    assert prompt.format_messages(name="Ann")[0].content == "Hi Ann"
    loaded = runwire.load(
        ctor(
            ["langchain", "prompts", "chat", "ChatPromptTemplate"],
            messages=[["human", "Hi {{name}}"]],
            template_format="mustache",
        )
    )
    assert loaded == prompt
    assert "template_format" not in runwire.dumpd(loaded)["kwargs"]
    with pytest.raises(ValidationError, match="template_format must be one of"):
        ChatPromptTemplate(messages=[], template_format="t-string")  # type: ignore[arg-type]


def test_string_prompt_template_base() -> None:
    assert issubclass(PromptTemplate, StringPromptTemplate)
    assert PromptTemplate.from_template("{a}").format_prompt(a=1).to_string() == "1"


# -- StructuredPrompt ------------------------------------------------------------------
class RecordingModel(FakeChatModel):
    """Records the arguments of with_structured_output."""

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:
        self.__dict__.setdefault("calls", []).append((schema, kwargs))
        return super().with_structured_output(schema)


def test_structured_prompt_pipes_to_with_structured_output() -> None:
    prompt = StructuredPrompt([("human", "{q}")], schema=ANSWER_SCHEMA, method="json_schema")
    assert prompt.structured_output_kwargs == {"method": "json_schema"}
    model = RecordingModel()
    chain = prompt | model
    assert isinstance(chain, RunnableSequence)
    assert model.__dict__["calls"] == [(ANSWER_SCHEMA, {"method": "json_schema"})]
    assert chain.steps[0] is prompt
    out = chain.invoke({"q": 'Answer {"answer": "blue"}'})
    assert out == {"answer": "blue"}
    named = prompt.pipe(FakeChatModel(), lambda d: d["answer"], name="ask")
    assert named.name == "ask"
    assert named.invoke({"q": 'Answer {"answer": "red"}'}) == "red"


def test_structured_prompt_needs_a_model_with_structured_output() -> None:
    prompt = StructuredPrompt([("human", "{q}")], ANSWER_SCHEMA)
    with pytest.raises(NotImplementedError, match="need to be piped to a language model"):
        prompt | (lambda x: x)
    with pytest.raises(ValidationError, match="non-empty structured output schema"):
        StructuredPrompt([("human", "{q}")], {})


def test_structured_prompt_wire_form() -> None:
    prompt = StructuredPrompt.from_messages_and_schema(
        [("human", "{q}")], ANSWER_SCHEMA, include_raw=True
    )
    data = runwire.dumpd(prompt, dialect="langchain")
    assert data["id"] == ["langchain_core", "prompts", "structured", "StructuredPrompt"]
    assert data["kwargs"]["schema_"] == ANSWER_SCHEMA
    assert data["kwargs"]["structured_output_kwargs"] == {"include_raw": True}
    assert runwire.load(data) == prompt
    assert json.loads(runwire.dumps(runwire.load(data), dialect="langchain")) == data


def test_structured_prompt_with_a_pydantic_schema_runs_but_is_not_a_file() -> None:
    pytest.importorskip("langchain_core")
    from pydantic import BaseModel

    class Answer(BaseModel):
        answer: str

    prompt = StructuredPrompt([("human", "{q}")], Answer)
    node = runwire.dumpd(prompt)["kwargs"]["schema_"]
    assert node["type"] == "not_implemented"  # as LangChain writes a class
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_core.load import dumpd
        from langchain_core.prompts.structured import StructuredPrompt as LCStructuredPrompt

        theirs = dumpd(LCStructuredPrompt([("human", "{q}")], Answer))
    assert theirs["kwargs"]["schema_"]["type"] == "not_implemented"


# -- cases from langchain-core's own tests (prompts/test_image.py, test_dict.py, ...) ---
@pytest.mark.parametrize(
    "node",
    [
        image_node(
            template={"url": "https://example.com/{image.__class__.__name__}.png"},
            input_variables=["image"],
            template_format="f-string",
        ),
        ctor(
            ["langchain_core", "prompts", "dict", "DictPromptTemplate"],
            template={"output": "{message.additional_kwargs[secret]}"},
            template_format="f-string",
        ),
        ctor(
            ["langchain_core", "prompts", "message", "_DictMessagePromptTemplate"],
            template={"output": "{name.__class__.__name__}"},
            template_format="f-string",
        ),
    ],
)
def test_loading_refuses_attribute_access_in_templates(node: dict[str, Any]) -> None:
    with pytest.raises(ManifestError, match="attribute access"):
        runwire.load(node)


def test_image_block_with_type_image_is_an_image_template() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", [{"type": "image", "image_url": "{img}"}])]
    )
    back = runwire.loads(runwire.dumps(prompt, dialect="langchain"))
    assert back == prompt
    assert back.format_messages(img="https://e.com/i.png")[0].content == [
        {"type": "image_url", "image_url": {"url": "https://e.com/i.png"}}
    ]


def test_structured_prompt_kwargs_and_template_format_as_langchains_tests() -> None:
    schema = {
        "name": "yo",
        "description": "a structured output",
        "parameters": {"name": {"type": "string"}, "value": {"type": "integer"}},
    }
    prompt = StructuredPrompt([("human", "I'm very structured, how about you?")], schema, value=7)
    assert prompt.structured_output_kwargs == {"value": 7}
    model = RecordingModel()
    assert isinstance(prompt | model, RunnableSequence)
    assert model.__dict__["calls"] == [(schema, {"value": 7})]
    back = runwire.loads(runwire.dumps(prompt))
    assert back.model_dump() == prompt.model_dump()
    mustache = StructuredPrompt(
        [("human", "hi {{person.name}}")],
        schema={"type": "object", "properties": {}, "title": "foo"},
        template_format="mustache",
    )
    assert mustache.messages[0].prompt.template_format == "mustache"
    assert mustache.input_variables == ["person"]
