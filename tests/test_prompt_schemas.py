"""syrupy snapshots of prompt input/output JSON Schemas (what LangServe's /input_schema serves).

Regenerate after an intended change with
``.venv/bin/python -m pytest tests/test_prompt_schemas.py --snapshot-update`` and review
the diff of ``__snapshots__/test_prompt_schemas.ambr``.
"""

from __future__ import annotations

from typing import Any

import pytest

from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate

PROMPTS = {
    "prompt_template": lambda: PromptTemplate.from_template(
        "Answer {question} as {persona}", partial_variables={"persona": "a pirate"}
    ),
    "mustache_prompt_template": lambda: PromptTemplate.from_template(
        "{{greeting}} {{#user}}{{name}} ({{address.city}}){{/user}}", template_format="mustache"
    ),
    "chat_prompt_with_placeholder": lambda: ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}."),
            MessagesPlaceholder("history"),
            ("placeholder", "{scratchpad}"),
            ("human", "{question}"),
        ]
    ),
}


@pytest.mark.parametrize("name", list(PROMPTS))
def test_input_schema(name: str, snapshot: Any) -> None:
    assert PROMPTS[name]().get_input_jsonschema() == snapshot


@pytest.mark.parametrize("name", ["prompt_template", "chat_prompt_with_placeholder"])
def test_output_schema(name: str, snapshot: Any) -> None:
    assert PROMPTS[name]().get_output_jsonschema() == snapshot


@pytest.mark.parametrize("name", list(PROMPTS))
def test_schema_properties_are_the_get_methods(name: str) -> None:
    """``input_schema``/``output_schema``, LangChain's properties, are the same models."""
    prompt = PROMPTS[name]()
    schemas = (prompt.input_schema, prompt.output_schema)
    assert [s.model_json_schema() for s in schemas] == [
        prompt.get_input_jsonschema(),
        prompt.get_output_jsonschema(),
    ]
