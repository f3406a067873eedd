"""ChatBedrock, BedrockLLM and ChatBedrockConverse against the real langchain-aws (the
``bench`` extra; skipped without it): files it writes load in runwire and dump back
byte-identical, runwire's files load in langchain-aws, and the literal fixtures of
``test_aws_langchain_files`` are still what langchain-aws writes and answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import runwire
from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.testing.bedrock import BedrockEmulator
from test_aws_langchain_files import (
    ENDPOINT,
    INPUTS,
    OUTPUTS,
    REQUESTS,
    SECRETS,
    TEXTS,
    load,
    normalized,
    request_of,
)

pytestmark = pytest.mark.filterwarnings("ignore:The function `loads` is in beta")
langchain_aws = pytest.importorskip("langchain_aws")
lc_load = pytest.importorskip("langchain_core.load")

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
BASE = {"region_name": "us-east-1", "endpoint_url": ENDPOINT}
CHAT_FIELDS = {
    "temperature": 0.2,
    "max_tokens": 300,
    "model_kwargs": {"top_p": 0.9, "top_k": 5},
    "stop": ["\n\nHuman:"],
    "system_prompt_with_tools": "You may use tools.",
    "service_tier": "priority",
    "request_metadata": {"team": "search"},
    "timeout": 30,
    "max_retries": 2,
}
FIXTURE_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "chat_anthropic": ("ChatBedrock", {"model_id": CLAUDE}),
    "chat_anthropic_fields": ("ChatBedrock", {"model_id": CLAUDE, **CHAT_FIELDS}),
    "chat_api_key": ("ChatBedrock", {"model_id": CLAUDE, "api_key": "bedrock-api-key-example"}),
    "chat_llama3": (
        "ChatBedrock",
        {"model_id": "meta.llama3-8b-instruct-v1:0", "temperature": 0.5, "max_tokens": 64},
    ),
    "chat_mistral_kwargs": (
        "ChatBedrock",
        {
            "model_id": "mistral.mistral-7b-instruct-v0:2",
            "model_kwargs": {"temperature": 0.1, "max_tokens": 99},
        },
    ),
    "chat_nova": (
        "ChatBedrock",
        {"model_id": "us.amazon.nova-lite-v1:0", "temperature": 0.3, "max_tokens": 100},
    ),
    "chat_openai": (
        "ChatBedrock",
        {"model_id": "openai.gpt-oss-120b-1:0", "temperature": 0.2, "max_tokens": 50},
    ),
    "llm_writer": (
        "BedrockLLM",
        {"model_id": "writer.palmyra-x5-v1:0", "temperature": 0.2, "max_tokens": 50},
    ),
    "converse": ("ChatBedrockConverse", {"model": CLAUDE}),
    "converse_fields": (
        "ChatBedrockConverse",
        {
            "model": CLAUDE,
            "temperature": 0.1,
            "max_tokens": 256,
            "top_p": 0.8,
            "stop": ["END"],
            "performance_config": {"latency": "optimized"},
            "service_tier": "flex",
            "request_metadata": {"team": "search"},
            "additional_model_request_fields": {"top_k": 10},
            "timeout": 20,
            "max_retries": 1,
            "system": ["Be brief."],
        },
    ),
    "llm_cohere_stop_map": (
        "BedrockLLM",
        {
            "model_id": "cohere.command-text-v14",
            "provider_stop_sequence_key_name_map": {
                "anthropic": "stop_sequences",
                "amazon": "stopSequences",
                "ai21": "stop_sequences",
                "cohere": "stop_sequences",
                "mistral": "stop",
            },
        },
    ),
    "llm_llama3": (
        "BedrockLLM",
        {
            "model_id": "meta.llama3-8b-instruct-v1:0",
            "streaming": True,
            "guardrails": {"guardrailIdentifier": "g1", "guardrailVersion": "1", "trace": None},
        },
    ),
    "llm_titan": (
        "BedrockLLM",
        {"model_id": "amazon.titan-text-express-v1", "temperature": 0.3, "max_tokens": 40},
    ),
}
"""How each fixture of ``test_aws_langchain_files`` was built (plus ``BASE``)."""

MORE_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "chat_guardrails_trace": (
        "ChatBedrock",
        {
            "model_id": CLAUDE,
            "guardrails": {"guardrailIdentifier": "g", "guardrailVersion": "2", "trace": True},
            "streaming": True,
            "beta_use_converse_api": False,
        },
    ),
    "chat_arn": (
        "ChatBedrock",
        {
            "model_id": "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
            "provider": "anthropic",
            "base_model_id": CLAUDE,
            "disable_streaming": "tool_calling",
        },
    ),
    "chat_converse_flag": (
        "ChatBedrock",
        {"model_id": CLAUDE, "beta_use_converse_api": True, "stop": ["x"]},
    ),
    "llm_all": (
        "BedrockLLM",
        {
            "model_id": "mistral.mistral-7b-instruct-v0:2",
            "model_kwargs": {"top_p": 0.5},
            "provider_stop_reason_key_map": {"mistral": "finish"},
            "service_tier": "flex",
            "request_metadata": {"a": "b"},
            "timeout": 5,
            "max_retries": 0,
            "base_model_id": "mistral.mistral-7b-instruct-v0:2",
        },
    ),
    "converse_more": (
        "ChatBedrockConverse",
        {
            "model": "us.amazon.nova-lite-v1:0",
            "guardrails": {"guardrailIdentifier": "g", "guardrailVersion": "1"},
            "guard_last_turn_only": True,
            "additional_model_response_field_paths": ["/stop_sequence"],
            "supports_tool_choice_values": ["auto"],
            "raw_blocks": [{"role": "user", "content": [{"text": "hi"}]}],
            "default_headers": {"x-team": "search"},
            "output_config": {"textFormat": {"type": "text"}},
            "streaming": True,
            "api_key": "bedrock-api-key-example",
        },
    ),
    "converse_reasoning": (
        "ChatBedrockConverse",
        {"model": "us.anthropic.claude-opus-4-6-v1", "reasoning_effort": "high"},
    ),
}
"""More files, for load and byte-identical dump back."""


@pytest.fixture(autouse=True)
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys the fixtures were written with (langchain-aws reads them from the env)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", SECRETS["AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRETS["AWS_SECRET_ACCESS_KEY"])
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK", raising=False)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    with BedrockEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emu:
        yield emu


def langchain_model(cls: str, kwargs: dict[str, Any], endpoint: str = ENDPOINT) -> Any:
    return getattr(langchain_aws, cls)(**{**BASE, **kwargs, "endpoint_url": endpoint})


def test_fixture_cases_cover_the_fixtures() -> None:
    assert set(FIXTURE_CASES) == set(TEXTS)


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixtures_are_what_langchain_aws_writes(name: str) -> None:
    assert lc_load.dumps(langchain_model(*FIXTURE_CASES[name]), pretty=True) == TEXTS[name]


@pytest.mark.parametrize("name", sorted(MORE_CASES))
def test_more_files_load_and_dump_back_byte_identical(name: str) -> None:
    text = lc_load.dumps(langchain_model(*MORE_CASES[name]), pretty=True)
    model = load(text)
    assert type(model).__name__ == json.loads(text)["id"][-1]
    assert runwire.dumps(model, dialect="langchain", pretty=True) == text


@pytest.mark.parametrize("name", sorted({**FIXTURE_CASES, **MORE_CASES}))
def test_langchain_aws_loads_runwire_files(name: str) -> None:
    """runwire's langchain-dialect file loads in langchain-aws as the same model."""
    cls, kwargs = {**FIXTURE_CASES, **MORE_CASES}[name]
    ours = runwire.dumps(load(lc_load.dumps(langchain_model(cls, kwargs))), dialect="langchain")
    theirs = lc_load.loads(ours, allowed_objects="all", secrets_map=SECRETS)
    assert lc_load.dumps(theirs) == lc_load.dumps(langchain_model(cls, kwargs))


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_langchain_aws_still_answers_as_recorded(name: str, emulator: Any) -> None:
    emulator.reset()
    model = langchain_model(*FIXTURE_CASES[name], endpoint=emulator.endpoint_url)
    source = INPUTS[name]
    output = model.invoke([tuple(m) for m in source] if isinstance(source, list) else source)
    assert normalized(output) == OUTPUTS[name]
    assert request_of(emulator) == REQUESTS[name]
    assert isinstance(output, str) or output.id.startswith("lc_run--")


def test_nova_without_converse_does_not_survive_a_round_trip_in_either() -> None:
    """``beta_use_converse_api=False`` is the default, so langchain-aws does not write it,
    and loading turns Converse back on for Nova: runwire writes what langchain-aws writes
    after loading its own file."""
    model = langchain_model("ChatBedrock", {"model_id": "amazon.nova-pro-v1:0"})
    model = model.model_copy(update={"beta_use_converse_api": False})
    text = lc_load.dumps(model, pretty=True)
    assert "beta_use_converse_api" not in text
    theirs = lc_load.dumps(lc_load.loads(text, allowed_objects="all", secrets_map=SECRETS))
    ours = runwire.dumps(load(text), dialect="langchain")
    assert '"beta_use_converse_api": true' in theirs
    assert json.loads(ours) == json.loads(theirs)
