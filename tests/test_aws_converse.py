"""ChatBedrockConverse: message conversion, request shapes (botocore Stubber against the real
service model), serialization, and end to end through the Bedrock emulator."""

from __future__ import annotations

import asyncio
import base64
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field, SecretStr
from typing_extensions import TypedDict

import runwire
from runwire.errors import ProviderError
from runwire.providers.aws.converse import ChatBedrockConverse, estimate_tokens
from runwire.providers.aws.converse_messages import apply_guard_last_turn, to_converse
from runwire.providers.aws.converse_responses import event_to_chunk, response_to_message
from runwire.providers.aws.converse_tools import (
    format_tool_choice,
    format_tools,
    infer_tool_choice_values,
    tool_blocks_as_text,
)
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
PNG = b"\x89PNG\r\n\x1a\nfake"
PDF = b"%PDF-1.4 fake"
FIXTURES = Path(__file__).parent / "fixtures"


class GetWeather(BaseModel):
    """Get the current weather in a city."""

    city: str = Field(description="The city")
    unit: str | None = None


class Person(BaseModel):
    """A person."""

    name: str
    age: int


class PersonDict(TypedDict):
    """A person, as a dict."""

    name: str
    age: int


PERSON_SCHEMA = {
    "title": "person_schema",
    "description": "A person.",
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


# -- conversion: runwire messages -> Converse ---------------------------------------------------
def test_roles_merge_and_system_collects() -> None:
    messages = [
        SystemMessage(content="Be brief."),
        HumanMessage(content="one"),
        HumanMessage(content="two"),
        AIMessage(content="", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "t1"}]),
        AIMessage(content="more"),
        ToolMessage(content="result", tool_call_id="t1"),
        HumanMessage(content="three"),
    ]
    turns, system = to_converse(messages, ["field prompt", {"cachePoint": {"type": "default"}}])
    assert system == [
        {"text": "field prompt"},
        {"cachePoint": {"type": "default"}},
        {"text": "Be brief."},
    ]
    assert turns == [
        {"role": "user", "content": [{"text": "one"}, {"text": "two"}]},
        {
            "role": "assistant",
            "content": [
                {"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}},
                {"text": "more"},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "t1",
                        "content": [{"text": "result"}],
                        "status": "success",
                    }
                },
                {"text": "three"},
            ],
        },
    ]


def test_content_blocks_of_every_kind() -> None:
    b64 = base64.b64encode(PNG).decode()
    human = HumanMessage(
        content=[
            "plain",
            {"type": "text", "text": "typed"},
            {"type": "text", "text": "   "},  # blank: dropped
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": b64}},
            {"type": "image", "base64": b64, "mime_type": "image/jpeg"},
            {"type": "image_url", "image_url": {"url": f"data:image/webp;base64,{b64}"}},
            {
                "type": "file",
                "base64": base64.b64encode(PDF).decode(),
                "mime_type": "application/pdf",
                "name": "report",
            },
            {
                "type": "document",
                "document": {"format": "txt", "name": "n", "source": {"text": "x"}},
            },
            {"type": "guard_content", "text": "check me"},
            {"cachePoint": {"type": "default"}},
            {"type": "non_standard", "value": {"cachePoint": {"type": "default"}}},
        ]
    )
    (turn,), _ = to_converse([human])
    assert turn["content"] == [
        {"text": "plain"},
        {"text": "typed"},
        {"image": {"format": "png", "source": {"bytes": PNG}}},
        {"image": {"format": "jpeg", "source": {"bytes": PNG}}},
        {"image": {"format": "webp", "source": {"bytes": PNG}}},
        {"document": {"format": "pdf", "source": {"bytes": PDF}, "name": "report"}},
        {"document": {"format": "txt", "name": "n", "source": {"text": "x"}}},
        {"guardContent": {"text": {"text": "check me"}}},
        {"cachePoint": {"type": "default"}},
        {"cachePoint": {"type": "default"}},
    ]


def test_reasoning_blocks_keep_signatures_and_drop_unsigned() -> None:
    ai = AIMessage(
        content=[
            {"type": "reasoning_content", "reasoning_content": {"text": "hm", "signature": "s1"}},
            {"type": "reasoning_content", "reasoning_content": {"text": "unsigned"}},
            {"type": "reasoning_content", "reasoning_content": {"redacted_content": b"\x01"}},
            {"type": "thinking", "thinking": "th", "signature": "s2"},
            {"type": "text", "text": "answer  "},
        ]
    )
    turns, _ = to_converse([HumanMessage(content="q"), ai], model_id=CLAUDE)
    assert turns[1]["content"] == [
        {"reasoningContent": {"reasoningText": {"text": "hm", "signature": "s1"}}},
        {"reasoningContent": {"redactedContent": b"\x01"}},
        {"reasoningContent": {"reasoningText": {"text": "th", "signature": "s2"}}},
        {"text": "answer"},  # a final assistant turn loses trailing whitespace
    ]
    kept, _ = to_converse([HumanMessage(content="q"), ai], model_id="openai.gpt-oss-20b-1:0")
    assert {"reasoningContent": {"reasoningText": {"text": "unsigned"}}} in kept[1]["content"]


def test_tool_message_error_status_json_and_hoisted_cache_point() -> None:
    tool = ToolMessage(
        content=[{"type": "json", "json": {"ok": False}}, {"cachePoint": {"type": "default"}}],
        tool_call_id="t9",
        status="error",
    )
    (turn,), _ = to_converse([tool])
    assert turn["content"] == [
        {
            "toolResult": {
                "toolUseId": "t9",
                "content": [{"json": {"ok": False}}],
                "status": "error",
            }
        },
        {"cachePoint": {"type": "default"}},
    ]


def test_streamed_tool_use_blocks_are_sent_back_as_objects() -> None:
    ai = AIMessage(
        content=[{"type": "tool_use", "id": "t1", "name": "f", "input": '{"a": 1}', "index": 0}],
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "t1"}],
    )
    turns, _ = to_converse([HumanMessage(content="go"), ai])
    assert turns[1]["content"] == [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}]


def test_empty_inputs_get_placeholders_and_bad_blocks_are_refused() -> None:
    assert to_converse([]) == ([{"role": "user", "content": [{"text": "."}]}], [])
    assert to_converse([HumanMessage(content="")])[0][0]["content"] == [{"text": "."}]
    with pytest.raises(ValueError, match="'audio_url' is not supported"):
        to_converse([HumanMessage(content=[{"type": "audio_url", "url": "x"}])])
    with pytest.raises(ValueError, match="base64 data"):
        to_converse([HumanMessage(content=[{"type": "image", "url": "https://x/y.png"}])])


def test_guard_last_turn_and_tool_blocks_as_text() -> None:
    turns = [
        {"role": "user", "content": [{"text": "old"}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "1", "name": "f", "input": {}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "1", "content": [{"text": "r"}]}}],
        },
    ]
    guarded = json.loads(json.dumps(turns))
    apply_guard_last_turn(guarded)
    assert guarded[0] == turns[0]
    assert guarded[2]["content"][-1] == {"guardContent": {"text": {"text": "[tool_result]"}}}
    text = tool_blocks_as_text(turns)
    assert text[1]["content"] == [{"text": "[Called f with parameters: {}]"}]
    assert text[2]["content"] == [{"text": "[Tool output: r]"}]


# -- conversion: Converse -> runwire messages ---------------------------------------------------
def test_response_to_message() -> None:
    response = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
                    {"text": "Calling."},
                    {
                        "toolUse": {
                            "toolUseId": "tu1",
                            "name": "GetWeather",
                            "input": {"city": "Oslo"},
                        }
                    },
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {
            "inputTokens": 10,
            "outputTokens": 5,
            "totalTokens": 35,
            "cacheReadInputTokens": 12,
            "cacheWriteInputTokens": 8,
        },
        "metrics": {"latencyMs": 42},
        "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": 200},
    }
    message = response_to_message(response, CLAUDE)
    assert message.content == [
        {"type": "reasoning_content", "reasoning_content": {"text": "think", "signature": "sig"}},
        {"type": "text", "text": "Calling."},
        {"type": "tool_use", "id": "tu1", "name": "GetWeather", "input": {"city": "Oslo"}},
    ]
    assert message.tool_calls == [
        {"name": "GetWeather", "args": {"city": "Oslo"}, "id": "tu1", "type": "tool_call"}
    ]
    assert message.usage_metadata == {
        "input_tokens": 30,
        "output_tokens": 5,
        "total_tokens": 35,
        "input_token_details": {"cache_read": 12, "cache_creation": 8},
    }
    assert message.response_metadata == {
        "stopReason": "tool_use",
        "metrics": {"latencyMs": [42]},
        "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": 200},
        "model_name": CLAUDE,
        "model_provider": "bedrock_converse",
    }
    single = {**response, "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}}}
    assert response_to_message(single, CLAUDE).content == "hi"
    with pytest.raises(ValueError, match="no 'output'"):
        response_to_message({"stopReason": "end_turn"}, CLAUDE)


STREAM_EVENTS: list[dict[str, Any]] = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "th"}}}},
    {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "ink"}}}},
    {
        "contentBlockDelta": {
            "contentBlockIndex": 0,
            "delta": {"reasoningContent": {"signature": "sig"}},
        }
    },
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"text": "Calling "}}},
    {"contentBlockDelta": {"contentBlockIndex": 1, "delta": {"text": "now."}}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {
        "contentBlockStart": {
            "contentBlockIndex": 2,
            "start": {"toolUse": {"toolUseId": "tu1", "name": "GetWeather"}},
        }
    },
    {"contentBlockDelta": {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '{"city": '}}}},
    {"contentBlockDelta": {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '"Oslo"}'}}}},
    {"contentBlockStop": {"contentBlockIndex": 2}},
    {"messageStop": {"stopReason": "tool_use"}},
    {
        "metadata": {
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
            "metrics": {"latencyMs": 42},
        }
    },
]


def test_stream_events_add_up() -> None:
    every = [c for c in map(event_to_chunk, STREAM_EVENTS) if c is not None]
    # the message start and each block stop are empty chunks, as langchain-aws yields them
    chunks = [c for c in every if c.content != []]
    assert len(every) > len(chunks)
    assert chunks[0].content == [
        {"type": "reasoning_content", "reasoning_content": {"text": "th"}, "index": 0}
    ]
    start = chunks[5]
    assert start.tool_call_chunks == [
        {"name": "GetWeather", "id": "tu1", "args": None, "index": 2, "type": "tool_call_chunk"}
    ]
    total = every[0]
    for chunk in every[1:]:
        total = total + chunk
    assert isinstance(total, AIMessageChunk)
    assert total.content == [
        {
            "type": "reasoning_content",
            "reasoning_content": {"text": "think", "signature": "sig"},
            "index": 0,
        },
        {"type": "text", "text": "Calling now.", "index": 1},
        {
            "type": "tool_use",
            "id": "tu1",
            "name": "GetWeather",
            "index": 2,
            "input": '{"city": "Oslo"}',
        },
    ]
    assert total.tool_calls == [
        {"name": "GetWeather", "args": {"city": "Oslo"}, "id": "tu1", "type": "tool_call"}
    ]
    assert total.usage_metadata == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 0, "cache_creation": 0},
    }
    assert total.response_metadata == {"stopReason": "tool_use", "metrics": {"latencyMs": 42}}


# -- tools ----------------------------------------------------------------------------------------
def test_format_tools() -> None:
    weather, person, typed, schema, spec, cache = format_tools(
        [
            GetWeather,
            Person,
            PersonDict,
            PERSON_SCHEMA,
            {"toolSpec": {"name": "raw", "inputSchema": {"json": {"type": "object"}}}},
            ChatBedrockConverse.create_cache_point(),
        ]
    )
    assert weather == {
        "toolSpec": {
            "name": "GetWeather",
            "description": "Get the current weather in a city.",
            "inputSchema": {
                "json": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string", "description": "The city"},
                        "unit": {"type": "string", "default": None},  # null branch stripped
                    },
                    "required": ["city"],
                }
            },
        }
    }
    assert person["toolSpec"]["name"] == "Person"
    assert typed["toolSpec"]["name"] == "PersonDict"
    assert schema["toolSpec"]["inputSchema"]["json"]["required"] == ["name", "age"]
    assert spec["toolSpec"]["description"] == "raw"  # Converse needs a description
    assert cache == {"cachePoint": {"type": "default"}}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"auto": {}}),
        ("any", {"any": {}}),
        ("required", {"any": {}}),
        ("GetWeather", {"tool": {"name": "GetWeather"}}),
        ({"tool": {"name": "x"}}, {"tool": {"name": "x"}}),
        ({"type": "function", "function": {"name": "x"}}, {"tool": {"name": "x"}}),
        ({"name": "x"}, {"tool": {"name": "x"}}),
    ],
)
def test_format_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    assert format_tool_choice(choice) == expected


@pytest.mark.parametrize(
    ("model", "values"),
    [
        ("anthropic.claude-3-haiku-20240307-v1:0", ("auto", "any", "tool")),
        ("anthropic.claude-sonnet-4-20250514-v1:0", ("auto", "any", "tool")),
        ("mistral.mistral-large-2407-v1:0", ("auto", "any")),
        ("amazon.nova-pro-v1:0", ("auto", "any", "tool")),
        ("meta.llama3-1-70b-instruct-v1:0", ("auto",)),
        ("meta.llama3-8b-instruct-v1:0", ()),
        ("deepseek.r1-v1:0", ()),
        ("cohere.command-r-plus-v1:0", ()),
    ],
)
def test_tool_choice_values_are_inferred_from_the_model(model: str, values: tuple) -> None:
    assert infer_tool_choice_values(model) == values
    assert (
        ChatBedrockConverse(model=f"us.{model}", region_name="us-east-1").tool_choice_values()
        == values
    )


def test_thinking_claude_takes_auto_only_and_the_field_wins() -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    assert infer_tool_choice_values(CLAUDE, thinking) == ("auto",)
    model = ChatBedrockConverse(
        model="meta.llama3-8b-instruct-v1:0", supports_tool_choice_values=["any"]
    )
    assert model.tool_choice_values() == ("any",)


# -- fields, ids, serialization -----------------------------------------------------------------
def test_aliases_provider_inference_and_validation() -> None:
    model = ChatBedrockConverse(
        model="us.anthropic.claude-3-5-haiku-20241022-v1:0",
        base_url="http://127.0.0.1:1",
        stop=["END"],
        guardrails={"guardrailIdentifier": "g", "guardrailVersion": "1"},
        guard_last_turn_only=True,
    )
    assert model.model == model.model_id
    assert model.endpoint_url == "http://127.0.0.1:1"
    assert model.stop_sequences == ["END"]
    assert model.guardrail_config == {"guardrailIdentifier": "g", "guardrailVersion": "1"}
    assert model._base_model() == "anthropic.claude-3-5-haiku-20241022-v1:0"
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc"
    with pytest.raises(ValueError, match="provider"):
        ChatBedrockConverse(model=arn)
    assert ChatBedrockConverse(model=arn, provider="anthropic").tool_choice_values() == ()
    based = ChatBedrockConverse(model=arn, base_model=CLAUDE)
    assert based._base_model() == CLAUDE and based.tool_choice_values() == ("auto", "any", "tool")
    with pytest.raises(ValueError, match="guardrail_config"):
        ChatBedrockConverse(model=CLAUDE, guard_last_turn_only=True)


def test_create_cache_point() -> None:
    assert ChatBedrockConverse.create_cache_point() == {"cachePoint": {"type": "default"}}
    assert ChatBedrockConverse.create_cache_point("x") == {"cachePoint": {"type": "x"}}


def test_dumps_writes_secret_nodes_and_round_trips() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    model = ChatBedrockConverse(
        model=CLAUDE,
        region_name="us-west-2",
        temperature=0.2,
        max_tokens=256,
        aws_access_key_id=SecretStr("AKIDEXAMPLE"),
        aws_secret_access_key=SecretStr(secret),
        bedrock_client=object(),
    )
    text = runwire.dumps(model)
    assert secret not in text and "AKIDEXAMPLE" not in text and secret not in repr(model)
    kwargs = json.loads(text)["kwargs"]
    assert kwargs["aws_secret_access_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AWS_SECRET_ACCESS_KEY"],
    }
    assert "bedrock_client" not in kwargs and "client" not in kwargs
    secrets = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": secret}
    back = runwire.loads(text, allowed_objects="all", secrets_map=secrets)
    model.bedrock_client = None
    assert back == model
    assert json.loads(runwire.dumps(model, dialect="langchain"))["id"] == [
        "langchain_aws",
        "chat_models",
        "ChatBedrockConverse",
    ]


def test_estimate_tokens() -> None:
    messages = [HumanMessage(content="abcd" * 5)]  # "Human: " + 20 chars = 27 chars
    assert estimate_tokens(messages) == 7
    assert estimate_tokens(messages, [GetWeather]) > 7


# -- request shapes: botocore's Stubber checks them against the service model --------------------
def _reply(*content: dict[str, Any], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": list(content) or [{"text": "ok"}]}},
        "stopReason": stop,
        "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
        "metrics": {"latencyMs": 7},
    }


@pytest.fixture(scope="module")
def runtime_client() -> Any:
    """One real bedrock-runtime client for the Stubber tests (building one is slow)."""
    import boto3

    return boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )


@pytest.fixture
def runtime(runtime_client: Any) -> Iterator[tuple[Any, Any]]:
    """The client with a Stubber active on it; every stubbed call must be made."""
    from botocore.stub import Stubber

    with Stubber(runtime_client) as stubber:
        yield runtime_client, stubber
        stubber.assert_no_pending_responses()
    runtime_client.meta.events.unregister(_AFTER_STREAM, unique_id=_AFTER_STREAM)


_AFTER_STREAM = "after-call.bedrock-runtime.ConverseStream"


def _stream_into(client: Any, events: list[dict[str, Any]]) -> None:
    """Make the stubbed ConverseStream answer ``events`` (the Stubber only takes a dict)."""

    def swap(parsed: dict[str, Any], **_: Any) -> None:
        parsed["stream"] = iter(events)

    client.meta.events.register(_AFTER_STREAM, swap, unique_id=_AFTER_STREAM)


def test_request_with_every_block_kind_and_field(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    model = ChatBedrockConverse(
        model=CLAUDE,
        client=client,
        system=["Be kind.", {"cachePoint": {"type": "default"}}],
        max_tokens=100,
        temperature=0.3,
        top_p=0.9,
        stop=["STOP"],
        guardrails={
            "guardrail_identifier": "gr-1",
            "guardrail_version": "2",
            "trace": "enabled",
            "stream_processing_mode": "async",
        },
        additional_model_request_fields={"top_k": 5},
        additional_model_response_field_paths=["/stop_sequence"],
        request_metadata={"team": "search"},
    ).bind_tools([GetWeather], tool_choice="GetWeather")
    b64 = base64.b64encode(PNG).decode()
    messages = [
        SystemMessage(
            content=[{"type": "text", "text": "sys"}, ChatBedrockConverse.create_cache_point()]
        ),
        HumanMessage(
            content=[
                {"type": "text", "text": "look"},
                {"type": "image", "base64": b64, "mime_type": "image/png"},
                {
                    "type": "file",
                    "base64": base64.b64encode(PDF).decode(),
                    "mime_type": "application/pdf",
                    "filename": "doc",
                },
                {"type": "guard_content", "text": "guarded"},
                {"cachePoint": {"type": "default"}},
            ]
        ),
        AIMessage(
            content=[
                {"type": "reasoning_content", "reasoning_content": {"text": "r", "signature": "s"}},
                {
                    "type": "reasoning_content",
                    "reasoning_content": {"redacted_content": b"\x00\x01"},
                },
            ],
            tool_calls=[{"name": "GetWeather", "args": {"city": "Oslo"}, "id": "tu1"}],
        ),
        ToolMessage(content="rain", tool_call_id="tu1", status="error"),
    ]
    expected = {
        "modelId": CLAUDE,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": "look"},
                    {"image": {"format": "png", "source": {"bytes": PNG}}},
                    {"document": {"format": "pdf", "source": {"bytes": PDF}, "name": "doc"}},
                    {"guardContent": {"text": {"text": "guarded"}}},
                    {"cachePoint": {"type": "default"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "r", "signature": "s"}}},
                    {"reasoningContent": {"redactedContent": b"\x00\x01"}},
                    {
                        "toolUse": {
                            "toolUseId": "tu1",
                            "name": "GetWeather",
                            "input": {"city": "Oslo"},
                        }
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "toolResult": {
                            "toolUseId": "tu1",
                            "content": [{"text": "rain"}],
                            "status": "error",
                        }
                    }
                ],
            },
        ],
        "system": [
            {"text": "Be kind."},
            {"cachePoint": {"type": "default"}},
            {"text": "sys"},
            {"cachePoint": {"type": "default"}},
        ],
        "inferenceConfig": {
            "maxTokens": 100,
            "temperature": 0.3,
            "topP": 0.9,
            "stopSequences": ["STOP", "\n\n"],
        },
        "toolConfig": {
            "tools": format_tools([GetWeather]),
            "toolChoice": {"tool": {"name": "GetWeather"}},
        },
        "guardrailConfig": {
            "guardrailIdentifier": "gr-1",
            "guardrailVersion": "2",
            "trace": "enabled",
        },
        "additionalModelRequestFields": {"top_k": 5, "top_p_extra": 1},
        "additionalModelResponseFieldPaths": ["/stop_sequence"],
        "requestMetadata": {"team": "search"},
    }
    stubber.add_response("converse", _reply({"text": "done"}), expected)
    out = model.invoke(
        messages, stop=["\n\n", "STOP"], additional_model_request_fields={"top_p_extra": 1}
    )
    assert out.content == "done"


def test_call_arguments_override_fields(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    model = ChatBedrockConverse(model=CLAUDE, client=client, max_tokens=10, temperature=0.1)
    expected = {
        "modelId": CLAUDE,
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "inferenceConfig": {"maxTokens": 20, "temperature": 0.0},
        "requestMetadata": {"k": "v"},
        "performanceConfig": {"latency": "optimized"},
    }
    stubber.add_response("converse", _reply(), expected)
    model.invoke(
        "hi",
        max_tokens=20,
        temperature=0.0,
        requestMetadata={"k": "v"},
        performance_config={"latency": "optimized"},
    )
    with pytest.raises(ValueError, match="unknown call arguments"):
        model.invoke("hi", colour="blue")


def test_raw_blocks_and_guard_last_turn(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    raw = [{"role": "user", "content": [{"guardContent": {"text": {"text": "raw"}}}]}]
    stubber.add_response("converse", _reply(), {"modelId": CLAUDE, "messages": raw})
    ChatBedrockConverse(model=CLAUDE, client=client, raw_blocks=raw).invoke("ignored")
    guard = {"guardrailIdentifier": "g", "guardrailVersion": "1"}
    expected = {
        "modelId": CLAUDE,
        "messages": [
            {"role": "user", "content": [{"text": "old"}]},
            {"role": "assistant", "content": [{"text": "ok"}]},
            {"role": "user", "content": [{"guardContent": {"text": {"text": "new"}}}]},
        ],
        "guardrailConfig": guard,
    }
    stubber.add_response("converse", _reply(), expected)
    model = ChatBedrockConverse(
        model=CLAUDE, client=client, guardrail_config=guard, guard_last_turn_only=True
    )
    model.invoke([("human", "old"), ("ai", "ok"), ("human", "new")])


def test_tool_history_without_tools_is_sent_as_text(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    expected = {
        "modelId": CLAUDE,
        "messages": [
            {"role": "user", "content": [{"text": "go"}]},
            {"role": "assistant", "content": [{"text": '[Called f with parameters: {"a": 1}]'}]},
            {"role": "user", "content": [{"text": "[Tool output: 2]"}]},
        ],
    }
    stubber.add_response("converse", _reply(), expected)
    history = [
        HumanMessage(content="go"),
        AIMessage(content="", tool_calls=[{"name": "f", "args": {"a": 1}, "id": "t"}]),
        ToolMessage(content="2", tool_call_id="t"),
    ]
    with pytest.warns(RuntimeWarning, match="written as text"):
        ChatBedrockConverse(model=CLAUDE, client=client).invoke(history)


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", {"auto": {}}),
        ("any", {"any": {}}),
        ({"tool": {"name": "Person"}}, {"tool": {"name": "Person"}}),
    ],
)
def test_bind_tools_tool_choice(
    runtime: tuple[Any, Any], choice: Any, sent: dict[str, Any]
) -> None:
    client, stubber = runtime
    expected = {
        "modelId": CLAUDE,
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "toolConfig": {"tools": format_tools([Person]), "toolChoice": sent},
    }
    reply = _reply(
        {"toolUse": {"toolUseId": "t1", "name": "Person", "input": {"name": "Ann", "age": 3}}},
        stop="tool_use",
    )
    stubber.add_response("converse", reply, expected)
    out = (
        ChatBedrockConverse(model=CLAUDE, client=client)
        .bind_tools([Person], tool_choice=choice)
        .invoke("hi")
    )
    assert out.tool_calls == [
        {"name": "Person", "args": {"name": "Ann", "age": 3}, "id": "t1", "type": "tool_call"}
    ]


def test_tool_choice_is_refused_when_the_model_lacks_it() -> None:
    mistral = ChatBedrockConverse(model="mistral.mistral-large-2407-v1:0")
    with pytest.raises(ValueError, match=r"kind 'tool' \(supported: \['auto', 'any'\]\)"):
        mistral.bind_tools([Person], tool_choice="Person")
    llama = ChatBedrockConverse(model="meta.llama3-8b-instruct-v1:0")
    with pytest.raises(ValueError, match="supported: none"):
        llama.bind_tools([Person], tool_choice="auto")
    with pytest.raises(ValueError, match="no 'none' tool choice"):
        mistral.bind_tools([Person], tool_choice="none")
    llama.bind_tools([Person])  # no choice: fine


def test_structured_output_forces_by_name_or_any_or_not_at_all(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    person = {"toolUse": {"toolUseId": "t1", "name": "Person", "input": {"name": "Ann", "age": 3}}}
    for model_id, choice in [
        (CLAUDE, {"tool": {"name": "Person"}}),
        ("mistral.mistral-large-2407-v1:0", {"any": {}}),
        ("meta.llama3-8b-instruct-v1:0", None),
    ]:
        config = {"tools": format_tools([Person]), **({"toolChoice": choice} if choice else {})}
        expected = {
            "modelId": model_id,
            "messages": [{"role": "user", "content": [{"text": "Ann is 3"}]}],
            "toolConfig": config,
        }
        stubber.add_response("converse", _reply(person, stop="tool_use"), expected)
        model = ChatBedrockConverse(model=model_id, client=client)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            structured = model.with_structured_output(Person)
        assert bool(caught) is (choice is None)
        assert structured.invoke("Ann is 3") == Person(name="Ann", age=3)
    with pytest.raises(NotImplementedError, match="method='json_schema'"):
        ChatBedrockConverse(model=CLAUDE).with_structured_output(Person, method="json_schema")


def test_stream_request_and_chunks(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    guard = {"guardrailIdentifier": "g", "guardrailVersion": "1", "streamProcessingMode": "sync"}
    expected = {
        "modelId": CLAUDE,
        "messages": [{"role": "user", "content": [{"text": "weather?"}]}],
        "guardrailConfig": guard,
    }
    stubber.add_response("converse_stream", {"ResponseMetadata": {"RequestId": "rid-9"}}, expected)
    _stream_into(client, STREAM_EVENTS)
    model = ChatBedrockConverse(model=CLAUDE, client=client, guardrail_config=guard)
    chunks = list(model.stream("weather?"))
    assert all(c.id == chunks[0].id and c.id.startswith("lc_run-") for c in chunks)
    assert chunks[-1].chunk_position == "last"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.tool_calls[0]["args"] == {"city": "Oslo"}
    assert total.response_metadata["ResponseMetadata"]["RequestId"] == "rid-9"
    assert total.response_metadata["model_provider"] == "bedrock_converse"
    assert total.response_metadata["stopReason"] == "tool_use"


def test_stream_without_message_stop_is_an_error(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    stubber.add_response(
        "converse_stream",
        {},
        {"modelId": CLAUDE, "messages": [{"role": "user", "content": [{"text": "x"}]}]},
    )
    _stream_into(client, STREAM_EVENTS[:3])
    with pytest.raises(ProviderError, match="IncompleteStream"):
        list(ChatBedrockConverse(model=CLAUDE, client=client).stream("x"))


def test_count_tokens_request_and_fallback(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    model = ChatBedrockConverse(
        model="us.anthropic.claude-3-5-haiku-20241022-v1:0", client=client, system=["S"]
    )
    messages = [HumanMessage(content="count these words")]
    expected = {
        "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "input": {
            "converse": {
                "messages": [{"role": "user", "content": [{"text": "count these words"}]}],
                "system": [{"text": "S"}],
                "toolConfig": {"tools": format_tools([GetWeather])},
            }
        },
    }
    stubber.add_response("count_tokens", {"inputTokens": 17}, expected)
    assert model.get_num_tokens_from_messages(messages, tools=[GetWeather]) == 17
    stubber.add_client_error("count_tokens", "ValidationException", "not supported", 400)
    assert model.get_num_tokens_from_messages(messages) == estimate_tokens(messages)


def test_errors_become_provider_errors(runtime: tuple[Any, Any]) -> None:
    client, stubber = runtime
    stubber.add_client_error(
        "converse",
        "ThrottlingException",
        "Rate exceeded",
        429,
        response_meta={"RequestId": "req-429"},
    )
    with pytest.raises(ProviderError) as info:
        ChatBedrockConverse(model=CLAUDE, client=client).invoke("hi")
    assert (info.value.code, info.value.status, info.value.request_id) == (
        "ThrottlingException",
        429,
        "req-429",
    )
    assert info.value.retryable


# -- end to end: the real boto3 client against the Bedrock emulator -------------------------------
_CLIENTS: dict[str, Any] = {}


def _model(emulator: Any, **kwargs: Any) -> ChatBedrockConverse:
    """A model pointed at the emulator; credentials and region come from the environment.

    The first model of a test builds its client from them; later ones share it (building
    a boto3 client is the slowest step of these tests).
    """
    model = ChatBedrockConverse(model=CLAUDE, endpoint_url=emulator.endpoint_url, **kwargs)
    if "config" in kwargs:
        return model
    shared = _CLIENTS.get(emulator.endpoint_url)
    if shared is None:
        _CLIENTS.clear()
        _CLIENTS[emulator.endpoint_url] = model.aws_client()
        return model
    return model.model_copy(update={"client": shared})


def _normalized(message: Any) -> dict[str, Any]:
    """What a streamed sum and an invoke result must share: blocks without their stream
    ``index``, streamed tool input parsed, a lone text block as a string, and the metadata
    but the HTTP details of each response."""
    content = message.content
    if isinstance(content, list):
        content = [
            {k: json.loads(v) if k == "input" and isinstance(v, str) else v for k, v in b.items()}
            for b in content
        ]
        content = [{k: v for k, v in b.items() if k != "index"} for b in content]
        if len(content) == 1 and content[0]["type"] == "text":
            content = content[0]["text"]
    metadata = {k: v for k, v in message.response_metadata.items() if k != "ResponseMetadata"}
    latency = metadata.get("metrics", {}).get("latencyMs")
    if isinstance(latency, list):  # invoke wraps it in a list (langchain-aws), a stream not
        metadata["metrics"] = {**metadata["metrics"], "latencyMs": latency[0]}
    return {
        "content": content,
        "tool_calls": message.tool_calls,
        "usage": message.usage_metadata,
        "metadata": metadata,
    }


def _summed(chunks: list[Any]) -> Any:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def test_invoke_signs_with_env_credentials(aws_env: Any) -> None:
    from conftest import EMULATOR_KEY_ID

    out = _model(aws_env, max_tokens=64, temperature=0.5).invoke(
        [("system", "Be brief."), ("human", "hello there")]
    )
    assert out.content == "hello there"
    assert out.usage_metadata == {
        "input_tokens": 4,
        "output_tokens": 2,
        "total_tokens": 6,
        "input_token_details": {"cache_read": 0, "cache_creation": 0},
    }
    assert out.response_metadata["stopReason"] == "end_turn"
    assert out.response_metadata["ResponseMetadata"]["RequestId"]
    (request,) = aws_env.requests
    assert (request.operation, request.model_id, request.access_key_id) == (
        "Converse",
        CLAUDE,
        EMULATOR_KEY_ID,
    )
    assert request.body["system"] == [{"text": "Be brief."}]
    assert request.body["inferenceConfig"] == {"maxTokens": 64, "temperature": 0.5}


@pytest.mark.parametrize(
    ("reply", "prompt", "tools"),
    [
        (None, "the quick brown fox", False),
        (None, 'GetWeather {"city": "Paris"}', True),
        ("reasoned", "why?", False),
    ],
    ids=["text", "tool_use", "reasoning"],
)
def test_stream_adds_up_to_invoke(
    aws_env: Any, reply: str | None, prompt: str, tools: bool
) -> None:
    from runwire.testing.bedrock import Reply

    model: Any = _model(aws_env)
    if tools:
        model = model.bind_tools([GetWeather])
    if reply:
        aws_env.script(
            Reply(text=reply, reasoning="step by step"), Reply(text=reply, reasoning="step by step")
        )
    invoked = model.invoke(prompt)
    chunks = list(model.stream(prompt))
    assert all(isinstance(c, AIMessageChunk) for c in chunks) and len(chunks) > 2
    for chunk in chunks:
        for block in chunk.content:
            assert isinstance(block["index"], int)
        for piece in chunk.tool_call_chunks:
            assert isinstance(piece["index"], int)
    assert _normalized(_summed(chunks)) == _normalized(invoked)
    assert [r.operation for r in aws_env.requests] == ["Converse", "ConverseStream"]


def test_tools_default_rule_and_the_tool_loop(aws_env: Any) -> None:
    model = _model(aws_env).bind_tools([GetWeather])
    call = model.invoke('What is GetWeather {"city": "Oslo"} like?')
    assert [(c["name"], c["args"]) for c in call.tool_calls] == [("GetWeather", {"city": "Oslo"})]
    assert call.response_metadata["stopReason"] == "tool_use"
    history = [
        HumanMessage(content='What is GetWeather {"city": "Oslo"} like?'),
        call,
        ToolMessage(content="rainy", tool_call_id=call.tool_calls[0]["id"]),
    ]
    answer = model.invoke(history)
    assert answer.tool_calls == []
    sent = aws_env.requests[-1].body["messages"]
    assert [turn["role"] for turn in sent] == ["user", "assistant", "user"]
    assert sent[2]["content"][0]["toolResult"]["content"] == [{"text": "rainy"}]
    forced = (
        _model(aws_env).bind_tools([GetWeather, Person], tool_choice="any").invoke("no tool named")
    )
    assert forced.tool_calls[0]["name"] == "GetWeather"
    assert aws_env.requests[-1].body["toolConfig"]["toolChoice"] == {"any": {}}


def test_structured_output_pydantic_typed_dict_and_json_schema(aws_env: Any) -> None:
    model = _model(aws_env)
    text = 'Ann is 31: {"name": "Ann", "age": 31}'
    assert model.with_structured_output(Person).invoke(text) == Person(name="Ann", age=31)
    assert aws_env.requests[-1].body["toolConfig"]["toolChoice"] == {"tool": {"name": "Person"}}
    assert model.with_structured_output(PersonDict).invoke(text) == {"name": "Ann", "age": 31}
    raw = model.with_structured_output(PERSON_SCHEMA, include_raw=True).invoke(text)
    assert raw["parsed"] == {"name": "Ann", "age": 31} and raw["parsing_error"] is None
    assert raw["raw"].tool_calls[0]["name"] == "person_schema"
    streamed = list(model.with_structured_output(Person).stream(text))
    assert streamed[-1] == Person(name="Ann", age=31)


def test_guardrail_intervention(aws_env: Any) -> None:
    from runwire.testing.bedrock import GUARDRAIL_TEXT

    guard = {"guardrailIdentifier": "gr-1", "guardrailVersion": "1", "trace": "enabled"}
    model = _model(aws_env, guardrails=guard)
    blocked = model.invoke("tell me something forbidden")
    assert blocked.content == GUARDRAIL_TEXT
    assert blocked.response_metadata["stopReason"] == "guardrail_intervened"
    assert "guardrail" in blocked.response_metadata["trace"]
    streamed = _summed(list(model.stream("tell me something forbidden")))
    assert streamed.text == GUARDRAIL_TEXT
    assert streamed.response_metadata["stopReason"] == "guardrail_intervened"
    assert model.invoke("a fine question").content == "a fine question"
    last_only = _model(aws_env, guardrails=guard, guard_last_turn_only=True)
    last_only.invoke([("human", "forbidden long ago"), ("ai", "ok"), ("human", "now")])
    sent = aws_env.requests[-1].body["messages"]
    assert sent[0]["content"] == [{"text": "forbidden long ago"}]
    assert sent[2]["content"] == [{"guardContent": {"text": {"text": "now"}}}]


def test_reasoning_goes_back_with_its_signature(aws_env: Any) -> None:
    from runwire.testing.bedrock import Reply

    aws_env.script(Reply(text="42", reasoning="6 times 7"))
    model = _model(
        aws_env,
        additional_model_request_fields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    first = model.invoke("6*7?")
    reasoning = first.content[0]
    assert reasoning["type"] == "reasoning_content"
    assert reasoning["reasoning_content"]["text"] == "6 times 7"
    assert reasoning["reasoning_content"]["signature"]
    model.invoke([HumanMessage(content="6*7?"), first, HumanMessage(content="and 6*8?")])
    body = aws_env.requests[-1].body
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024}
    }
    assert body["messages"][1]["content"][0] == {
        "reasoningContent": {"reasoningText": reasoning["reasoning_content"]}
    }
    assert model.tool_choice_values() == ("auto",)


def test_count_tokens_through_the_emulator_and_its_fallback(aws_env: Any) -> None:
    model = _model(aws_env)
    messages = [SystemMessage(content="one two"), HumanMessage(content="three four five")]
    assert model.get_num_tokens_from_messages(messages) == 5
    assert model.get_num_tokens("a b c") == 3
    aws_env.fail(status=400, code="ValidationException", message="no", operation="CountTokens")
    assert model.get_num_tokens_from_messages(messages) == estimate_tokens(messages)
    assert [r.operation for r in aws_env.requests] == ["CountTokens"] * 3


def test_ainvoke_astream_abatch(aws_env: Any) -> None:
    model = _model(aws_env)

    async def run() -> tuple[Any, list[Any], list[Any]]:
        one = await model.ainvoke("async hello")
        chunks = [chunk async for chunk in model.astream("async stream")]
        many = await model.abatch([f"question {i}" for i in range(6)])
        return one, chunks, many

    one, chunks, many = asyncio.run(run())
    assert one.content == "async hello"
    assert _summed(chunks).text == "async stream"
    assert [o.content for o in many] == [f"question {i}" for i in range(6)]


@pytest.mark.parametrize(
    ("status", "code"), [(429, "ThrottlingException"), (400, "ValidationException")]
)
def test_errors_keep_code_status_and_request_id(aws_env: Any, status: int, code: str) -> None:
    model = _model(aws_env, config={"retries": {"max_attempts": 1}})  # one retry at most
    aws_env.fail(status=status, code=code, message="nope", times=2)
    with pytest.raises(ProviderError) as info:
        model.invoke("hi")
    error = info.value
    assert (error.code, error.status, error.operation) == (code, status, "Converse")
    assert error.request_id and error.retryable is (status == 429)
    assert len(aws_env.requests) == (2 if error.retryable else 1)
    aws_env.reset()  # a 400 is not retried: its second failure is still queued
    aws_env.fail(
        status=status, code=code, message="nope", operation="ConverseStream", mid_stream=True
    )
    with pytest.raises(ProviderError, match=f"(?i){code}: nope"):  # event names are camelCase
        list(model.stream("one two three four five six"))


def test_langchain_manifest_runs_against_the_emulator(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChatPromptTemplate | ChatBedrockConverse | StrOutputParser as langchain-core dumps it
    (endpoint from boto3's AWS_ENDPOINT_URL_BEDROCK_RUNTIME)."""
    from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET

    text = (FIXTURES / "langchain_bedrock_converse_chain.json").read_text()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", aws_env.endpoint_url)
    question = {"role": "a pirate", "question": "Where is the treasure buried?"}
    secrets = {"AWS_ACCESS_KEY_ID": EMULATOR_KEY_ID, "AWS_SECRET_ACCESS_KEY": EMULATOR_SECRET}
    chain = runwire.loads(text, secrets_map=secrets, allowed_objects="all")
    assert chain.invoke(question) == "Where is the treasure buried?"
    from_env = runwire.loads(text, secrets_from_env=True, allowed_objects="all")
    assert "".join(from_env.stream(question)) == "Where is the treasure buried?"
    body = aws_env.requests[0].body
    assert body["system"] == [{"text": "You are a pirate."}]
    assert body["inferenceConfig"] == {"maxTokens": 256, "temperature": 0.2}
    model = chain.middle[0]
    assert isinstance(model, ChatBedrockConverse)
    assert json.loads(runwire.dumps(chain, dialect="langchain")) == json.loads(text)
