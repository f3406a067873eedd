"""Whole chains written by hand in LangChain's wire format load, run and dump back unchanged.

The manifests use LangChain's ids and kwargs (what ``langchain_core.load.dumps`` writes
for the same chains); the model is runwire's ``FakeChatModel`` because LangChain has no
serializable fake. ``FakeChatModel`` with no ``responses`` echoes the last human message,
which shows the prompt was formatted.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import runwire
from runwire.runtime.configurable import (
    RunnableConfigurableAlternatives,
    RunnableConfigurableFields,
)
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.passthrough import RunnablePassthrough
from runwire.runtime.prompts import ChatPromptTemplate, PromptTemplate
from runwire.runtime.sequence import RunnableSequence

CHAT_PROMPT = """{
  "lc": 1, "type": "constructor",
  "id": ["langchain", "prompts", "chat", "ChatPromptTemplate"],
  "kwargs": {
    "input_variables": ["question", "role"],
    "messages": [
      {
        "lc": 1, "type": "constructor",
        "id": ["langchain", "prompts", "chat", "SystemMessagePromptTemplate"],
        "kwargs": {
          "prompt": {
            "lc": 1, "type": "constructor",
            "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
            "kwargs": {
              "input_variables": ["role"],
              "template": "You are {role}.",
              "template_format": "f-string"
            },
            "name": "PromptTemplate"
          }
        }
      },
      {
        "lc": 1, "type": "constructor",
        "id": ["langchain", "prompts", "chat", "HumanMessagePromptTemplate"],
        "kwargs": {
          "prompt": {
            "lc": 1, "type": "constructor",
            "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
            "kwargs": {
              "input_variables": ["question"],
              "template": "{question}",
              "template_format": "f-string"
            },
            "name": "PromptTemplate"
          }
        }
      }
    ]
  },
  "name": "ChatPromptTemplate"
}"""

STR_PARSER = """{
  "lc": 1, "type": "constructor",
  "id": ["langchain", "schema", "output_parser", "StrOutputParser"],
  "kwargs": {},
  "name": "StrOutputParser"
}"""


def fake_model(**kwargs: Any) -> str:
    node = {
        "lc": 1,
        "type": "constructor",
        "id": ["runwire", "models", "FakeChatModel"],
        "kwargs": kwargs,
        "name": "FakeChatModel",
    }
    return json.dumps(node)


def chat_chain(model: str) -> str:
    """ChatPromptTemplate | model | StrOutputParser, as LangChain writes it."""
    return f"""{{
  "lc": 1, "type": "constructor",
  "id": ["langchain", "schema", "runnable", "RunnableSequence"],
  "kwargs": {{
    "first": {CHAT_PROMPT},
    "middle": [{model}],
    "last": {STR_PARSER}
  }},
  "name": "RunnableSequence"
}}"""


def prompt_branch(template: str, variables: list[str]) -> str:
    return f"""{{
  "lc": 1, "type": "constructor",
  "id": ["langchain", "schema", "runnable", "RunnableSequence"],
  "kwargs": {{
    "first": {{
      "lc": 1, "type": "constructor",
      "id": ["langchain", "prompts", "prompt", "PromptTemplate"],
      "kwargs": {{
        "input_variables": {json.dumps(variables)},
        "template": {json.dumps(template)},
        "template_format": "f-string"
      }},
      "name": "PromptTemplate"
    }},
    "middle": [{fake_model()}],
    "last": {STR_PARSER}
  }},
  "name": "RunnableSequence"
}}"""


SEQUENCE = chat_chain(fake_model())

PARALLEL = f"""{{
  "lc": 1, "type": "constructor",
  "id": ["langchain", "schema", "runnable", "RunnableParallel"],
  "kwargs": {{
    "steps__": {{
      "joke": {prompt_branch("Tell a joke about {topic}", ["topic"])},
      "poem": {prompt_branch("Write a {style} poem about {topic}", ["style", "topic"])}
    }}
  }},
  "name": "RunnableParallel<joke,poem>"
}}"""

CONFIGURABLE_FIELDS = chat_chain(
    f"""{{
  "lc": 1, "type": "constructor",
  "id": ["langchain", "schema", "runnable", "RunnableConfigurableFields"],
  "kwargs": {{
    "default": {fake_model(responses=["default reply"])},
    "fields": {{
      "responses": ["replies", "Replies", "Canned replies of the model", null, false]
    }}
  }},
  "name": "RunnableConfigurableFields"
}}"""
)

CONFIGURABLE_ALTERNATIVES = chat_chain(
    f"""{{
  "lc": 1, "type": "constructor",
  "id": ["langchain", "schema", "runnable", "RunnableConfigurableAlternatives"],
  "kwargs": {{
    "which": ["model", "Model", null, null, false],
    "default": {fake_model(responses=["from the primary model"])},
    "alternatives": {{
      "backup": {fake_model(responses=["from the backup model"], chunk_size=4)}
    }},
    "default_key": "primary",
    "prefix_keys": false
  }},
  "name": "RunnableConfigurableAlternatives"
}}"""
)

MANIFESTS = {
    "sequence": SEQUENCE,
    "parallel": PARALLEL,
    "configurable_fields": CONFIGURABLE_FIELDS,
    "configurable_alternatives": CONFIGURABLE_ALTERNATIVES,
}

QUESTION = {"role": "a pirate", "question": "Where is the treasure buried?"}


def load(name: str) -> Any:
    return runwire.loads(MANIFESTS[name], allowed_objects="all")


async def acollect(chain: Any, value: Any, config: Any = None) -> list[Any]:
    return [chunk async for chunk in chain.astream(value, config)]


@pytest.mark.parametrize("name", list(MANIFESTS))
def test_manifest_dumps_back_to_the_same_json(name: str) -> None:
    obj = load(name)
    assert json.loads(runwire.dumps(obj, dialect="langchain")) == json.loads(MANIFESTS[name])


@pytest.mark.parametrize("name", list(MANIFESTS))
def test_manifest_dump_after_running_is_unchanged(name: str) -> None:
    obj = load(name)
    value = {"topic": "owls", "style": "haiku"} if name == "parallel" else QUESTION
    obj.invoke(value)
    list(obj.stream(value))
    assert json.loads(runwire.dumps(obj, dialect="langchain")) == json.loads(MANIFESTS[name])
    again = runwire.loads(runwire.dumps(obj), allowed_objects="all")  # runwire dialect too
    assert json.loads(runwire.dumps(again, dialect="langchain")) == json.loads(MANIFESTS[name])


def test_sequence_loads_as_runwire_objects_and_runs() -> None:
    chain = load("sequence")
    assert isinstance(chain, RunnableSequence)
    assert isinstance(chain.first, ChatPromptTemplate)
    assert isinstance(chain.middle[0], FakeChatModel)
    assert isinstance(chain.last, StrOutputParser)
    assert chain.invoke(QUESTION) == "Where is the treasure buried?"
    assert asyncio.run(chain.ainvoke(QUESTION)) == "Where is the treasure buried?"
    chunks = list(chain.stream(QUESTION))
    # word by word, then the closing empty chunk chat models end a stream with
    assert chunks == ["Where ", "is ", "the ", "treasure ", "buried?", ""]
    assert asyncio.run(acollect(chain, QUESTION)) == chunks
    messages = chain.first.invoke(QUESTION).to_messages()
    assert [m.type for m in messages] == ["system", "human"]
    assert messages[0].content == "You are a pirate."


def test_parallel_loads_and_runs_every_branch() -> None:
    par = load("parallel")
    assert isinstance(par, RunnableParallel)
    assert isinstance(par.steps__["poem"].first, PromptTemplate)
    value = {"topic": "owls", "style": "haiku"}
    expected = {"joke": "Tell a joke about owls", "poem": "Write a haiku poem about owls"}
    assert par.invoke(value) == expected
    assert asyncio.run(par.ainvoke(value)) == expected
    merged: dict[str, str] = {}
    for chunk in par.stream(value):
        ((key, text),) = chunk.items()
        merged[key] = merged.get(key, "") + text
    assert merged == expected


def test_configurable_fields_take_values_from_the_config() -> None:
    chain = load("configurable_fields")
    model = chain.middle[0]
    assert isinstance(model, RunnableConfigurableFields)
    assert chain.invoke(QUESTION) == "default reply"
    config = {"configurable": {"replies": ["set at run time"]}}
    assert chain.invoke(QUESTION, config) == "set at run time"
    assert asyncio.run(chain.ainvoke(QUESTION, config)) == "set at run time"
    assert "".join(chain.stream(QUESTION, config)) == "set at run time"
    assert "".join(asyncio.run(acollect(chain, QUESTION, config))) == "set at run time"
    assert [spec.id for spec in chain.config_specs] == ["replies"]


def test_configurable_alternatives_pick_a_model_from_the_config() -> None:
    chain = load("configurable_alternatives")
    assert isinstance(chain.middle[0], RunnableConfigurableAlternatives)
    assert chain.invoke(QUESTION) == "from the primary model"
    assert chain.invoke(QUESTION, {"configurable": {"model": "primary"}}) == (
        "from the primary model"
    )
    backup = {"configurable": {"model": "backup"}}
    assert chain.invoke(QUESTION, backup) == "from the backup model"
    assert asyncio.run(chain.ainvoke(QUESTION, backup)) == "from the backup model"
    chunks = list(chain.stream(QUESTION, backup))
    assert chunks[:2] == ["from", " the"]  # chunk_size=4
    assert "".join(chunks) == "from the backup model"
    assert "".join(asyncio.run(acollect(chain, QUESTION, backup))) == "from the backup model"
    with pytest.raises(ValueError, match="missing"):
        chain.invoke(QUESTION, {"configurable": {"model": "missing"}})


LC_FALLBACKS = """
{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "runnable", "RunnableWithFallbacks"],
 "kwargs": {"runnable": {"lc": 1, "type": "constructor",
                         "id": ["langchain", "schema", "runnable", "RunnablePick"],
                         "kwargs": {"keys": "a"}, "name": "RunnablePick<a>"},
            "fallbacks": [{"lc": 1, "type": "constructor",
                           "id": ["langchain", "schema", "runnable", "RunnablePassthrough"],
                           "kwargs": {}, "name": "RunnablePassthrough"}],
            "exceptions_to_handle": [{"lc": 1, "type": "not_implemented",
                                      "id": ["builtins", "KeyError"],
                                      "repr": "<class 'KeyError'>"}]},
 "name": "RunnableWithFallbacks"}
"""

LC_RETRY = """
{"lc": 1, "type": "constructor", "id": ["langchain", "schema", "runnable", "RunnableRetry"],
 "kwargs": {"bound": {"lc": 1, "type": "constructor",
                      "id": ["langchain", "schema", "runnable", "RunnablePassthrough"],
                      "kwargs": {}, "name": "RunnablePassthrough"},
            "config": {},
            "retry_exception_types": [{"lc": 1, "type": "not_implemented",
                                       "id": ["builtins", "Exception"],
                                       "repr": "<class 'Exception'>"}],
            "wait_exponential_jitter": true, "max_attempt_number": 2},
 "name": "RunnablePassthrough"}
"""


def test_langchain_fallbacks_with_not_implemented_exception_types_load() -> None:
    runnable = runwire.loads(LC_FALLBACKS)
    assert runnable.exceptions_to_handle == (KeyError,)
    assert runnable.invoke({"a": 1}) == 1
    assert runnable.fallbacks == [RunnablePassthrough()]


def test_langchain_retry_with_not_implemented_exception_types_loads() -> None:
    runnable = runwire.loads(LC_RETRY)
    assert runnable.retry_exception_types == (Exception,)
    assert runnable.max_attempt_number == 2
    assert runnable.invoke("x") == "x"


def test_raw_fields_never_instantiate_nodes_inside_them() -> None:
    text = LC_FALLBACKS.replace('"id": ["builtins", "KeyError"]', '"id": ["os", "system"]')
    with pytest.raises(runwire.ManifestError, match="exceptions_to_handle"):
        runwire.loads(text)
