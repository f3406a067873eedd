"""syrupy snapshots of the input, output and config JSON Schemas of composed chains.

Every schema must also be a valid JSON Schema (Draft 2020-12). Regenerate after an
intended change with ``.venv/bin/python -m pytest tests/test_runtime_schemas.py
--snapshot-update`` and review the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from runwire.runtime.configurable import ConfigurableField
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.passthrough import RunnablePassthrough
from runwire.runtime.prompts import ChatPromptTemplate, PromptTemplate


def chat_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages(
        [("system", "You are {role}."), ("human", "{question}")]
    )


def prompt_model_parser() -> Any:
    return chat_prompt() | FakeChatModel(responses=["hi"]) | StrOutputParser()


def parallel_of_branches() -> Any:
    def branch(template: str) -> Any:
        return PromptTemplate.from_template(template) | FakeChatModel() | StrOutputParser()

    return RunnableParallel(
        joke=branch("Tell a joke about {topic}"),
        poem=branch("Write a {style} poem about {topic}"),
    )


def answer_assign() -> Any:
    answer = PromptTemplate.from_template("Q: {question}") | FakeChatModel() | StrOutputParser()
    return RunnablePassthrough.assign(answer=answer)


def assign_after_dict_step() -> Any:
    return {
        "question": RunnablePassthrough(),
        "length": RunnableLambda(len),
    } | answer_assign()


def configurable_fields_chain() -> Any:
    model = FakeChatModel(responses=["default reply"]).configurable_fields(
        responses=ConfigurableField(
            id="responses", name="Responses", description="Canned replies of the model"
        )
    )
    return chat_prompt() | model | StrOutputParser()


def configurable_alternatives_chain() -> Any:
    model = FakeChatModel(responses=["from a"]).configurable_alternatives(
        ConfigurableField(id="model", name="Model", description="Which model answers"),
        default_key="model_a",
        model_b=FakeChatModel(responses=["from b"]),
    )
    return chat_prompt() | model | StrOutputParser()


CHAINS: dict[str, Callable[[], Any]] = {
    "prompt_model_parser": prompt_model_parser,
    "parallel_of_branches": parallel_of_branches,
    "answer_assign": answer_assign,
    "assign_after_dict_step": assign_after_dict_step,
    "configurable_fields": configurable_fields_chain,
    "configurable_alternatives": configurable_alternatives_chain,
}

KINDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "input": lambda r: r.get_input_jsonschema(),
    "output": lambda r: r.get_output_jsonschema(),
    "config": lambda r: r.get_config_jsonschema(include=["tags", "run_name"]),
}


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("chain", list(CHAINS))
def test_schema_snapshot(chain: str, kind: str, snapshot: Any) -> None:
    schema = KINDS[kind](CHAINS[chain]())
    Draft202012Validator.check_schema(schema)
    assert schema == snapshot


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_prompt_chain_schemas_accept_what_the_chain_accepts() -> None:
    chain = prompt_model_parser()
    inputs = validator(chain.get_input_jsonschema())
    good = {"role": "a pirate", "question": "Where?"}
    assert inputs.is_valid(good)
    assert not inputs.is_valid({"role": "a pirate"})
    assert validator(chain.get_output_jsonschema()).is_valid(chain.invoke(good))
    assert not validator(chain.get_output_jsonschema()).is_valid(3)


def test_parallel_input_merges_branch_variables() -> None:
    par = parallel_of_branches()
    schema = par.get_input_jsonschema()
    assert set(schema["properties"]) == {"topic", "style"}
    assert set(schema["required"]) == {"topic", "style"}
    out = par.invoke({"topic": "owls", "style": "haiku"})
    assert validator(par.get_output_jsonschema()).is_valid(out)
    assert set(par.get_output_jsonschema()["properties"]) == {"joke", "poem"}


def test_assign_output_has_input_and_computed_keys() -> None:
    assign = answer_assign()
    assert set(assign.get_input_jsonschema()["properties"]) == {"question"}
    assert set(assign.get_output_jsonschema()["properties"]) == {"question", "answer"}
    chain = assign_after_dict_step()
    out = chain.invoke("Why?")
    assert out == {"question": "Why?", "length": 4, "answer": "Q: Why?"}
    assert validator(chain.get_output_jsonschema()).is_valid(out)


def test_config_schemas_describe_the_configurable_values() -> None:
    fields = configurable_fields_chain()
    config = validator(fields.get_config_jsonschema(include=["tags", "run_name"]))
    good = {"configurable": {"responses": ["custom"]}, "tags": ["x"], "run_name": "r"}
    assert config.is_valid(good)
    assert not config.is_valid({"configurable": {"responses": "not a list"}})
    question = {"role": "r", "question": "q"}
    assert fields.invoke(question, good) == "custom"  # type: ignore[arg-type]
    assert fields.invoke(question) == "default reply"

    alts = configurable_alternatives_chain()
    alt_config = validator(alts.get_config_jsonschema(include=["tags", "run_name"]))
    assert alt_config.is_valid({"configurable": {"model": "model_b"}})
    assert not alt_config.is_valid({"configurable": {"model": "model_c"}})
    assert alts.invoke(question, {"configurable": {"model": "model_b"}}) == "from b"
    assert alts.invoke(question) == "from a"
    assert "configurable" not in prompt_model_parser().get_config_jsonschema()["properties"]
