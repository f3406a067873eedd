"""Prompt files LangChain wrote load, run with LangChain's outputs and dump back as written.

``fixtures/langchain_prompts/<name>.json`` holds ``{"file": <what langchain_core.load.dumpd
wrote>, "input": <invoke input>, "output": <dumpd of LangChain's output>}``. The
``BUILDERS`` below made them with langchain-core 1.8; with the peer installed,
``test_fixtures_are_what_langchain_writes`` checks they still are, and ``python
tests/test_prompts_interop.py`` rewrites them. Every other test runs without the peer.
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import runwire

FIXTURES = Path(__file__).parent / "fixtures" / "langchain_prompts"


# -- what LangChain writes (run only with langchain-core installed) -------------------
def _image_prompt() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts.image import ImagePromptTemplate

    prompt = ImagePromptTemplate(
        input_variables=["image"], template={"url": "{image}", "detail": "low"}
    )
    return prompt, {"image": "https://example.com/cat.png"}


def _chat_content_blocks() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You describe images."),
            (
                "human",
                [
                    "Describe {subject}.",
                    {"type": "image_url", "image_url": "{image}"},
                    {"type": "image_url", "image_url": {"url": "{thumb}", "detail": "low"}},
                    {"type": "image", "source_type": "url", "url": "{raw}", "note": "{subject}"},
                ],
            ),
        ]
    )
    inputs = {
        "subject": "the cat",
        "image": "https://example.com/cat.png",
        "thumb": "https://example.com/cat-small.png",
        "raw": "https://example.com/cat.raw",
    }
    return prompt, inputs


def _chat_content_blocks_mustache() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [
            (
                "human",
                [
                    {"type": "text", "text": "Hello {{name}}"},
                    {"type": "image_url", "image_url": {"url": "{{img}}"}},
                    {
                        "type": "image",
                        "source_type": "base64",
                        "data": "{{data}}",
                        "metadata": {"cache_control": {"type": "{{cache}}"}},
                    },
                ],
            )
        ],
        template_format="mustache",
    )
    inputs = {"name": "Ann", "img": "https://e.com/a.png", "data": "aGk=", "cache": "ephemeral"}
    return prompt, inputs


def _dict_prompt() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts.dict import DictPromptTemplate

    prompt = DictPromptTemplate(
        template={"type": "text", "text": "Hi {name}", "extra": {"tags": ["{tag}", 1]}},
        template_format="f-string",
    )
    return prompt, {"name": "Ann", "tag": "t1"}


def _chat_message_prompt() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts import ChatMessagePromptTemplate, ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Be kind."),
            ChatMessagePromptTemplate.from_template("Review: {draft}", role="critic"),
        ]
    )
    return prompt, {"draft": "my essay"}


def _few_shot_with_templates() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts import FewShotPromptWithTemplates, PromptTemplate

    prompt = FewShotPromptWithTemplates(
        input_variables=["question", "user"],
        examples=[{"q": "2+2", "a": "4"}, {"q": "2+3", "a": "5"}],
        example_prompt=PromptTemplate.from_template("Q: {q}\nA: {a}"),
        prefix=PromptTemplate.from_template("You add numbers for {user}."),
        suffix=PromptTemplate.from_template("Q: {question}\nA:"),
        example_separator="\n--\n",
    )
    return prompt, {"question": "3+4", "user": "Ann"}


def _structured_prompt() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts.structured import StructuredPrompt

    schema = {
        "title": "Answer",
        "description": "An answer.",
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    prompt = StructuredPrompt(
        [("system", "Answer briefly."), ("human", "{question}")], schema, method="json_mode"
    )
    return prompt, {"question": "Why is the sky blue?"}


def _partial_image() -> tuple[Any, dict[str, Any]]:
    from langchain_core.prompts import HumanMessagePromptTemplate

    prompt = HumanMessagePromptTemplate.from_template(
        [{"type": "text", "text": "See {what}"}, {"type": "image_url", "image_url": "{link}"}]
    )
    return prompt, {}


BUILDERS: dict[str, Callable[[], tuple[Any, dict[str, Any]]]] = {
    "image_prompt": _image_prompt,
    "chat_content_blocks": _chat_content_blocks,
    "chat_content_blocks_mustache": _chat_content_blocks_mustache,
    "dict_prompt": _dict_prompt,
    "chat_message_prompt": _chat_message_prompt,
    "few_shot_with_templates": _few_shot_with_templates,
    "structured_prompt": _structured_prompt,
    "message_template_blocks": _partial_image,
}
"""Fixture name -> (LangChain object, invoke input); an empty input: not run."""


def langchain_fixture(name: str) -> dict[str, Any]:
    """The fixture as langchain-core writes it today."""
    from langchain_core.load import dumpd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj, inputs = BUILDERS[name]()
        out = dumpd(obj.invoke(inputs)) if inputs else None
    return {"file": dumpd(obj), "input": inputs, "output": out}


def read(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


LITERAL = [
    "langchain_js_mustache_conditionals",
    "langchain_image_prompt_old",
    "dict_prompt_legacy_id",
    "chat_prompt_value",
]
"""Fixtures written by hand from LangChain's own tests (not by ``BUILDERS``)."""
ALL = [*BUILDERS, *LITERAL]


# -- tests that run without the peer ---------------------------------------------------
def test_every_fixture_file_is_listed() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.json")) == sorted(ALL)


@pytest.mark.parametrize("name", ALL)
def test_fixture_loads_and_dumps_back_as_langchain_wrote_it(name: str) -> None:
    fixture = read(name)
    obj = runwire.load(fixture["file"])
    want = fixture.get("dumped_by_langchain", fixture["file"])
    assert runwire.dumpd(obj, dialect="langchain") == want


def key_orders(value: Any, out: list[Any]) -> list[Any]:
    """(class, node keys, kwargs keys) of every constructor node, depth first."""
    if isinstance(value, dict):
        if value.get("type") == "constructor":
            out.append((value["id"][-1], list(value), list(value.get("kwargs", {}))))
        for item in value.values():
            key_orders(item, out)
    elif isinstance(value, list):
        for item in value:
            key_orders(item, out)
    return out


@pytest.mark.parametrize("name", ALL)
def test_fixture_dumps_back_in_langchains_key_order(name: str) -> None:
    fixture = read(name)
    obj = runwire.load(fixture["file"])
    want = fixture.get("dumped_by_langchain", fixture["file"])
    got = json.loads(runwire.dumps(obj, dialect="langchain"))
    assert key_orders(got, []) == key_orders(want, [])
    if fixture.get("input"):
        out = json.loads(runwire.dumps(obj.invoke(fixture["input"]), dialect="langchain"))
        assert key_orders(out, []) == key_orders(fixture["output"], [])


@pytest.mark.parametrize("name", ALL)
def test_fixture_round_trips_in_runwire_dialect(name: str) -> None:
    obj = runwire.load(read(name)["file"])
    text = runwire.dumps(obj)
    assert runwire.loads(text) == obj
    assert runwire.dumps(runwire.loads(text)) == text


@pytest.mark.parametrize("name", [n for n in ALL if n != "chat_prompt_value"])
def test_fixture_runs_with_langchains_output(name: str) -> None:
    fixture = read(name)
    if not fixture["input"]:
        pytest.skip("a message template: formatted inside chat prompts only")
    obj = runwire.load(fixture["file"])
    assert runwire.dumpd(obj.invoke(fixture["input"]), dialect="langchain") == fixture["output"]
    out = asyncio.run(obj.ainvoke(fixture["input"]))
    assert runwire.dumpd(out, dialect="langchain") == fixture["output"]


def test_message_template_blocks_format_as_langchain() -> None:
    obj = runwire.load(read("message_template_blocks")["file"])
    assert obj.input_variables == ["what", "link"]
    (message,) = obj.format_messages(what="this", link="https://e.com/x.png")
    assert message.content == [
        {"type": "text", "text": "See this"},
        {"type": "image_url", "image_url": {"url": "https://e.com/x.png"}},
    ]


# -- tests against the peer ------------------------------------------------------------
@pytest.mark.parametrize("name", list(BUILDERS))
def test_fixtures_are_what_langchain_writes(name: str) -> None:
    pytest.importorskip("langchain_core")
    assert langchain_fixture(name) == {k: v for k, v in read(name).items() if k != "note"}


@pytest.mark.parametrize("name", ALL)
def test_langchain_loads_runwires_langchain_dialect(name: str) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.load import dumpd, load

    fixture = read(name)
    ours = runwire.dumpd(runwire.load(fixture["file"]), dialect="langchain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = load(ours, allowed_objects="all")
        assert dumpd(theirs) == fixture.get("dumped_by_langchain", fixture["file"])
        if fixture.get("input"):
            assert dumpd(theirs.invoke(fixture["input"])) == fixture["output"]


LANGCHAIN_LOADS = [
    "ImagePromptTemplate",
    "DictPromptTemplate",
    "ChatMessagePromptTemplate",
    "FewShotPromptWithTemplates",
    "StructuredPrompt",
    "ChatPromptValueConcrete",
]
"""Samples (tests/samples_prompts.py) LangChain loads from runwire's ``langchain`` dialect.
Not listed: ImagePromptValue (LangChain writes it but refuses to load it) and the two
runwire-only few-shot prompts."""


@pytest.mark.parametrize("name", LANGCHAIN_LOADS)
def test_langchain_loads_runwire_samples_and_writes_them_back_the_same(name: str) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.load import dumpd, load

    from samples_prompts import SAMPLES

    ours = runwire.dumpd(SAMPLES[name](), dialect="langchain")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = load(ours, allowed_objects="core")
        assert dumpd(theirs) == ours
    assert runwire.load(dumpd(theirs)) == SAMPLES[name]()


NOT_LOADABLE: dict[str, str] = {
    "BasePromptTemplate": "abstract base class: LangChain cannot build one either",
    "StringPromptTemplate": "abstract base class: LangChain cannot build one either",
    "BaseChatPromptTemplate": "abstract base class: LangChain cannot build one either",
    "BaseMessagePromptTemplate": "abstract base class: LangChain cannot build one either",
    "BaseStringMessagePromptTemplate": "abstract base class: LangChain cannot build one either",
    "PromptValue": "abstract base class: LangChain cannot build one either",
    "pipeline": "a module, not a class (PipelinePromptTemplate was removed in langchain-core 1.x)",
}
"""Prompt entries of langchain_core.load.mapping that runwire does not load, and why."""


def _mapping_prompt_entries() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    from langchain_core.load import mapping

    found = []
    for table in vars(mapping).values():
        if isinstance(table, dict) and all(isinstance(k, tuple) for k in table):
            for key, target in table.items():
                if target[:2] in (
                    ("langchain_core", "prompts"),
                    ("langchain_core", "prompt_values"),
                ):
                    found.append((key, target))
    return found


def test_every_prompt_id_of_langchains_mapping_loads_or_is_listed() -> None:
    pytest.importorskip("langchain_core")
    import importlib
    import inspect

    from runwire.schema.ids import id_table

    entries = _mapping_prompt_entries()
    assert len(entries) > 40
    for key, target in entries:
        if target[-1] in NOT_LOADABLE:
            try:
                cls = getattr(importlib.import_module(".".join(target[:-1])), target[-1])
            except (ImportError, AttributeError):  # gone from langchain-core
                continue
            assert inspect.isabstract(cls), target
            continue
        entry = id_table.by_id.get(key)
        assert entry is not None, f"{key} is neither loaded nor listed in NOT_LOADABLE"
        assert entry.name == target[-1] or key[-1] == "_DictMessagePromptTemplate"


def write_fixtures() -> None:
    """Rewrite the ``BUILDERS`` fixtures from the installed langchain-core."""
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in BUILDERS:
        text = json.dumps(langchain_fixture(name), indent=2, ensure_ascii=False)
        (FIXTURES / f"{name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_fixtures()
    sys.exit(0)
