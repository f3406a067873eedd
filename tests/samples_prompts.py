"""Samples of the issue-15 classes of one area, merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runwire.runtime.prompts import (
    ChatMessagePromptTemplate,
    ChatPromptTemplate,
    ChatPromptValueConcrete,
    DictPromptTemplate,
    FewShotChatMessagePromptTemplate,
    FewShotPromptTemplate,
    FewShotPromptWithTemplates,
    ImagePromptTemplate,
    ImagePromptValue,
    PromptTemplate,
    StructuredPrompt,
)
from runwire.schema.messages import AIMessage, HumanMessage

ANSWER_SCHEMA: dict[str, Any] = {
    "title": "Answer",
    "description": "An answer and how sure the model is.",
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer"],
}


def image_prompt() -> ImagePromptTemplate:
    return ImagePromptTemplate(
        input_variables=["image"], template={"url": "{image}", "detail": "low"}
    )


def dict_prompt() -> DictPromptTemplate:
    return DictPromptTemplate(
        template={
            "type": "image",
            "source_type": "url",
            "url": "{url}",
            "metadata": {"cache_control": {"type": "{cache}"}, "tags": ["{tag}", 3]},
        },
        template_format="f-string",
    )


def chat_message_prompt() -> ChatMessagePromptTemplate:
    return ChatMessagePromptTemplate.from_template("Review {draft}", role="critic")


def few_shot_with_templates() -> FewShotPromptWithTemplates:
    return FewShotPromptWithTemplates(
        examples=[{"q": "2+2", "a": "4"}, {"q": "2+3", "a": "5"}],
        example_prompt=PromptTemplate.from_template("Q: {q}\nA: {a}"),
        prefix=PromptTemplate.from_template("You add numbers for {user}."),
        suffix=PromptTemplate.from_template("Q: {question}\nA:"),
    )


def structured_prompt() -> StructuredPrompt:
    return StructuredPrompt(
        [("system", "Answer briefly."), ("human", "{question}")],
        ANSWER_SCHEMA,
        method="json_schema",
    )


def few_shot_prompt() -> FewShotPromptTemplate:
    return FewShotPromptTemplate(
        examples=[{"word": "happy", "antonym": "sad"}, {"word": "tall", "antonym": "short"}],
        example_prompt=PromptTemplate.from_template("Word: {word}\nAntonym: {antonym}"),
        prefix="Give the antonym of every word.",
        suffix="Word: {input}\nAntonym:",
    )


def few_shot_chat_prompt() -> FewShotChatMessagePromptTemplate:
    return FewShotChatMessagePromptTemplate(
        examples=[{"input": "2+2", "output": "4"}, {"input": "2+3", "output": "5"}],
        example_prompt=ChatPromptTemplate.from_messages(
            [("human", "What is {input}?"), ("ai", "{output}")]
        ),
    )


SAMPLES: dict[str, Callable[[], Any]] = {
    "ImagePromptTemplate": image_prompt,
    "DictPromptTemplate": dict_prompt,
    "ChatMessagePromptTemplate": chat_message_prompt,
    "FewShotPromptWithTemplates": few_shot_with_templates,
    "StructuredPrompt": structured_prompt,
    "ChatPromptValueConcrete": lambda: ChatPromptValueConcrete(
        messages=[HumanMessage(content="hi"), AIMessage(content="hello")]
    ),
    "ImagePromptValue": lambda: ImagePromptValue(
        image_url={"url": "https://example.com/cat.png", "detail": "high"}
    ),
    "FewShotPromptTemplate": few_shot_prompt,
    "FewShotChatMessagePromptTemplate": few_shot_chat_prompt,
}
