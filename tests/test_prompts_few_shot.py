"""Few-shot prompts: FewShotPromptWithTemplates (LangChain serializes it) and, beyond
LangChain, FewShotPromptTemplate and FewShotChatMessagePromptTemplate with literal examples.

Formatting is compared with langchain-core's when it is installed.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from pydantic import ValidationError

import runwire
from runwire.errors import ManifestError
from runwire.runtime.prompts import (
    AIMessagePromptTemplate,
    ChatPromptTemplate,
    FewShotChatMessagePromptTemplate,
    FewShotPromptTemplate,
    FewShotPromptWithTemplates,
    HumanMessagePromptTemplate,
    PromptTemplate,
)
from runwire.schema.messages import AIMessage, HumanMessage, SystemMessage
from samples_prompts import few_shot_chat_prompt, few_shot_prompt, few_shot_with_templates

EXAMPLES = [{"q": "2+2", "a": "4"}, {"q": "2+3", "a": "5"}]


def lc() -> Any:
    """langchain_core.prompts, or skip."""
    prompts = pytest.importorskip("langchain_core.prompts")
    warnings.simplefilter("ignore")
    return prompts


# -- FewShotPromptTemplate -------------------------------------------------------------
def test_few_shot_prompt_formats_prefix_examples_suffix() -> None:
    prompt = few_shot_prompt()
    assert prompt.input_variables == ["input"]
    assert prompt.format(input="big") == (
        "Give the antonym of every word.\n\nWord: happy\nAntonym: sad\n\n"
        "Word: tall\nAntonym: short\n\nWord: big\nAntonym:"
    )
    assert prompt.invoke({"input": "big"}).to_string() == prompt.format(input="big")


def test_few_shot_prompt_variables_partials_and_validation() -> None:
    prompt = FewShotPromptTemplate(
        examples=EXAMPLES,
        example_prompt=PromptTemplate.from_template("{q}={a}"),
        prefix="For {user}:",
        suffix="{q}=",
        partial_variables={"user": "Ann"},
        example_separator="|",
    )
    assert prompt.input_variables == ["q"]
    assert prompt.format(q="1+1") == "For Ann:|2+2=4|2+3=5|1+1="
    with pytest.raises(ValidationError, match=r"\['q'\]"):
        FewShotPromptTemplate(
            examples=EXAMPLES,
            example_prompt=PromptTemplate.from_template("{q}={a}"),
            suffix="{q}=",
            input_variables=[],
            validate_template=True,
        )


def test_few_shot_examples_are_required_and_selectors_refused() -> None:
    example_prompt = PromptTemplate.from_template("{q}")
    with pytest.raises(ValidationError, match="One of 'examples' and 'example_selector'"):
        FewShotPromptTemplate(example_prompt=example_prompt, suffix="x")
    with pytest.raises(ValidationError, match="example selectors are not supported"):
        FewShotPromptTemplate(example_prompt=example_prompt, suffix="x", example_selector=object())
    with pytest.raises(ValidationError, match="example selectors are not supported"):
        FewShotChatMessagePromptTemplate(
            example_prompt=HumanMessagePromptTemplate.from_template("{q}"),
            example_selector={"k": 1},
        )
    with pytest.raises(KeyError, match="lacks the example prompt's variable"):
        FewShotPromptTemplate(
            examples=[{"x": 1}], example_prompt=example_prompt, suffix="s"
        ).format()


def test_few_shot_prompt_matches_langchain() -> None:
    prompts = lc()
    ours = few_shot_prompt()
    theirs = prompts.FewShotPromptTemplate(
        examples=ours.examples,
        example_prompt=prompts.PromptTemplate.from_template(ours.example_prompt.template),
        prefix=ours.prefix,
        suffix=ours.suffix,
        input_variables=["input"],
    )
    assert theirs.input_variables == ours.input_variables
    assert theirs.format(input="big") == ours.format(input="big")


# -- FewShotChatMessagePromptTemplate ---------------------------------------------------
def test_few_shot_chat_prompt_formats_every_example() -> None:
    prompt = few_shot_chat_prompt()
    assert prompt.format_messages() == [
        HumanMessage(content="What is 2+2?"),
        AIMessage(content="4"),
        HumanMessage(content="What is 2+3?"),
        AIMessage(content="5"),
    ]
    final = ChatPromptTemplate.from_messages(
        [("system", "You add."), prompt, ("human", "What is {input}?")]
    )
    assert final.input_variables == ["input"]
    messages = final.invoke({"input": "4+4"}).to_messages()
    assert [m.content for m in messages] == [
        "You add.",
        "What is 2+2?",
        "4",
        "What is 2+3?",
        "5",
        "What is 4+4?",
    ]
    assert isinstance(messages[0], SystemMessage)
    back = runwire.loads(runwire.dumps(final))
    assert back == final
    assert back.format_messages(input="4+4") == messages


def test_few_shot_chat_prompt_with_a_message_template_example_prompt() -> None:
    prompt = FewShotChatMessagePromptTemplate(
        examples=EXAMPLES,
        example_prompt=HumanMessagePromptTemplate.from_template("{q}")
        + AIMessagePromptTemplate.from_template("{a}"),
    )
    assert [m.content for m in prompt.format_messages()] == ["2+2", "4", "2+3", "5"]
    assert prompt.format() == "Human: 2+2\nAI: 4\nHuman: 2+3\nAI: 5"


def test_few_shot_chat_prompt_matches_langchain() -> None:
    prompts = lc()
    from langchain_core.load import dumpd

    theirs = prompts.FewShotChatMessagePromptTemplate(
        examples=few_shot_chat_prompt().examples,
        example_prompt=prompts.ChatPromptTemplate.from_messages(
            [("human", "What is {input}?"), ("ai", "{output}")]
        ),
    )
    ours = few_shot_chat_prompt()
    assert runwire.dumpd(ours.format_messages(), dialect="langchain") == dumpd(
        theirs.format_messages()
    )


# -- wire forms: runwire's dialect only; LangChain writes not_implemented ---------------
@pytest.mark.parametrize("make", [few_shot_prompt, few_shot_chat_prompt])
def test_few_shot_prompts_round_trip_in_runwires_dialect(make: Any) -> None:
    prompt = make()
    data = runwire.dumpd(prompt)
    assert data["id"] == ["runwire", "prompts", type(prompt).__name__]
    assert data["kwargs"]["examples"] == prompt.examples
    assert runwire.load(data) == prompt


def test_langchain_writes_few_shot_prompts_as_not_implemented() -> None:
    prompts = lc()
    from langchain_core.load import dumpd

    theirs = prompts.FewShotPromptTemplate(
        examples=EXAMPLES,
        example_prompt=prompts.PromptTemplate.from_template("{q}"),
        suffix="x",
        input_variables=[],
    )
    assert dumpd(theirs)["type"] == "not_implemented"
    with pytest.raises(ManifestError):
        runwire.load(dumpd(theirs))  # nothing to build it from


def test_loader_refuses_jinja2_few_shot_and_objects_in_examples() -> None:
    data = runwire.dumpd(few_shot_prompt())
    data["kwargs"]["template_format"] = "jinja2"
    with pytest.raises(ManifestError, match="jinja2"):
        runwire.load(data)
    data = runwire.dumpd(few_shot_prompt())
    data["kwargs"]["examples"] = [{"word": runwire.dumpd(HumanMessage(content="x"))}]
    with pytest.raises(ManifestError):
        runwire.load(data)


# -- FewShotPromptWithTemplates ---------------------------------------------------------
def test_few_shot_with_templates_formats() -> None:
    prompt = few_shot_with_templates()
    assert prompt.input_variables == ["question", "user"]
    assert prompt.format(question="3+4", user="Ann") == (
        "You add numbers for Ann.\n\nQ: 2+2\nA: 4\n\nQ: 2+3\nA: 5\n\nQ: 3+4\nA:"
    )


def test_few_shot_with_templates_fills_leftover_variables_in_the_joined_text() -> None:
    prompt = FewShotPromptWithTemplates(
        examples=[{"q": "{tone} 1"}],
        example_prompt=PromptTemplate.from_template("{q}"),
        suffix=PromptTemplate.from_template("{x}"),
        partial_variables={"tone": "calm"},
    )
    assert prompt.input_variables == ["x"]
    assert prompt.format(x="end") == "calm 1\n\nend"  # as LangChain: examples are re-rendered


def test_few_shot_with_templates_validate_template() -> None:
    args: dict[str, Any] = {
        "examples": EXAMPLES,
        "example_prompt": PromptTemplate.from_template("{q}"),
        "suffix": PromptTemplate.from_template("{x}"),
        "validate_template": True,
    }
    with pytest.raises(ValidationError, match="based on prefix/suffix expected"):
        FewShotPromptWithTemplates(input_variables=[], **args)
    prompt = FewShotPromptWithTemplates(input_variables=["x"], **args)
    assert prompt.format(x=1) == "2+2\n\n2+3\n\n1"


def test_few_shot_with_templates_matches_langchain() -> None:
    prompts = lc()
    from langchain_core.load import dumpd

    ours = few_shot_with_templates()
    theirs = prompts.FewShotPromptWithTemplates(
        input_variables=["question", "user"],
        examples=ours.examples,
        example_prompt=prompts.PromptTemplate.from_template("Q: {q}\nA: {a}"),
        prefix=prompts.PromptTemplate.from_template("You add numbers for {user}."),
        suffix=prompts.PromptTemplate.from_template("Q: {question}\nA:"),
    )
    assert theirs.format(question="3+4", user="Ann") == ours.format(question="3+4", user="Ann")
    assert runwire.dumpd(ours, dialect="langchain") == dumpd(theirs)
    assert json.loads(runwire.dumps(runwire.load(dumpd(theirs)), dialect="langchain")) == dumpd(
        theirs
    )
