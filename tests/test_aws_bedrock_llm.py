"""The InvokeModel format table (rendering, parameters, chunk readers, stop sequences) and
BedrockLLM: request bodies (botocore Stubber), completions with their stop reason, usage
and guardrail signals, and end to end through the Bedrock emulator."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import runwire
from conftest import EMULATOR_KEY_ID
from runwire.errors import ProviderError
from runwire.providers.aws.bedrock_base import StopCutter, cut_at_stop
from runwire.providers.aws.bedrock_llm import BedrockLLM
from runwire.providers.aws.invoke_formats import FORMATS, build_body, format_for
from runwire.schema.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

MODELS = {
    "anthropic": "anthropic.claude-v2:1",
    "nova": "amazon.nova-micro-v1:0",
    "titan": "amazon.titan-text-lite-v1",
    "llama3": "meta.llama3-8b-instruct-v1:0",
    "mistral": "mistral.mixtral-8x7b-instruct-v0:1",
    "cohere": "cohere.command-light-text-v14",
    "ai21": "ai21.j2-mid-v1",
    "deepseek": "deepseek.r1-v1:0",
}
PROMPT = "Q: 2+2?\nA:"
EXPECTED_BODIES: dict[str, dict[str, Any]] = {
    "anthropic": {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 1024,
        "top_k": 5,
        "messages": [{"role": "user", "content": PROMPT}],
    },
    "nova": {
        "schemaVersion": "messages-v1",
        "messages": [{"role": "user", "content": [{"text": PROMPT}]}],
        "inferenceConfig": {"topK": 5},
    },
    "titan": {"inputText": PROMPT, "textGenerationConfig": {"top_k": 5}},
    "llama3": {"top_k": 5, "prompt": PROMPT},
    "mistral": {"top_k": 5, "prompt": PROMPT},
    "cohere": {"k": 5, "prompt": PROMPT},
    "ai21": {"top_k": 5, "prompt": PROMPT},
    "deepseek": {"top_k": 5, "prompt": PROMPT},
}
REPLIES: dict[str, dict[str, Any]] = {
    "anthropic": {
        "content": [{"type": "text", "text": " 4"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 4, "output_tokens": 1},
    },
    "nova": {
        "output": {"message": {"role": "assistant", "content": [{"text": " 4"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 4, "outputTokens": 1, "totalTokens": 5},
    },
    "titan": {
        "inputTextTokenCount": 4,
        "results": [{"tokenCount": 1, "outputText": " 4", "completionReason": "FINISH"}],
    },
    "llama3": {
        "generation": " 4",
        "prompt_token_count": 4,
        "generation_token_count": 1,
        "stop_reason": "stop",
    },
    "mistral": {"outputs": [{"text": " 4", "stop_reason": "stop"}]},
    "cohere": {"generations": [{"text": " 4", "finish_reason": "COMPLETE"}]},
    "ai21": {"completions": [{"data": {"text": " 4"}, "finishReason": {"reason": "endoftext"}}]},
    "deepseek": {"choices": [{"text": " 4", "stop_reason": "stop"}]},
}
STOP_REASONS = {
    "anthropic": "end_turn",
    "nova": "end_turn",
    "titan": "FINISH",
    "llama3": "stop",
    "mistral": "stop",
    "cohere": "COMPLETE",
    "ai21": "endoftext",
    "deepseek": "stop",
}
HEADERS = {"x-amzn-bedrock-input-token-count": "4", "x-amzn-bedrock-output-token-count": "1"}
USAGE = {"input_tokens": 4, "output_tokens": 1, "total_tokens": 5}


def invoke_reply(payload: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(payload).encode()
    return {
        "body": StreamingBody(io.BytesIO(data), len(data)),
        "contentType": "application/json",
        "ResponseMetadata": {"HTTPHeaders": HEADERS},
    }


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber, list[dict[str, Any]]]]:
    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDSTUB",
        aws_secret_access_key="stub-secret",
    )
    calls: list[dict[str, Any]] = []
    client.meta.events.register(
        "before-parameter-build.bedrock-runtime.*", lambda params, **_: calls.append(params)
    )
    with Stubber(client) as stub:
        yield client, stub, calls
        stub.assert_no_pending_responses()


# -- the format table ------------------------------------------------------------------------
def test_family_selection_and_unsupported_models() -> None:
    assert format_for("meta", "llama3-1-70b-instruct-v1:0").name == "meta-llama3"
    assert format_for("meta", "my-custom-model").name == "meta-llama3"  # the default row
    assert format_for("amazon", "nova-pro-v1:0").name == "amazon-nova"
    names = [row.name for row in FORMATS]
    assert len(names) == len(set(names))
    assert format_for("ai21", "jamba-1-5-large-v1:0").name == "ai21-jamba"
    assert format_for("ai21", "j2-ultra-v1").name == "ai21-j2"
    assert format_for("mistral", "mistral-large-2407-v1:0").name == "mistral-large-2"
    assert format_for("writer", "palmyra-x5-v1:0").name == "writer-palmyra"
    with pytest.raises(NotImplementedError, match=r"Command R.*beta_use_converse_api=True"):
        format_for("cohere", "command-r-plus-v1:0")
    with pytest.raises(NotImplementedError, match=r"'stability' is not supported.*anthropic"):
        format_for("stability", "sd3-large-v1:0")
    arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc"
    with pytest.raises(ValueError, match="provider"):
        BedrockLLM(model=arn)._format()
    assert BedrockLLM(model=arn, provider="mistral")._format().name == "mistral"
    assert BedrockLLM(
        model=arn, provider="meta", base_model="meta.llama2-70b-chat-v1"
    )._format().name == ("meta-llama2")


def test_model_kwargs_native_names_and_stop_precedence() -> None:
    fmt = format_for("amazon", "titan-text-express-v1")
    body, client_stops = build_body(
        fmt,
        {"inputText": "x"},
        {"textGenerationConfig": {"topP": 0.9}, "stop": ["A"], "temperature": 0.1},
        ["B"],
    )
    assert body == {
        "inputText": "x",
        "textGenerationConfig": {"topP": 0.9, "temperature": 0.1, "stopSequences": ["B"]},
    }
    assert client_stops == []
    meta = format_for("meta", "llama3-8b-instruct-v1:0")
    body, client_stops = build_body(meta, {"prompt": "x"}, {"stop_sequences": "###"}, None)
    assert body == {"prompt": "x"} and client_stops == ["###"]
    cohere = format_for("cohere", "command-text-v14")
    assert build_body(cohere, {"prompt": "x"}, {"top_p": 0.5}, None, stream=True)[0] == {
        "p": 0.5,
        "stream": True,
        "prompt": "x",
    }
    with pytest.raises(NotImplementedError, match="no tools"):
        build_body(meta, {"prompt": "x"}, {"tools": [{"name": "t"}]}, None)


def test_prompt_formats_refuse_tools_and_images() -> None:
    calls = [AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "1"}])]
    with pytest.raises(NotImplementedError, match="beta_use_converse_api"):
        format_for("mistral", "mistral-large").render_chat([HumanMessage("a"), *calls])
    with pytest.raises(NotImplementedError, match="beta_use_converse_api"):
        format_for("meta", "llama3").render_chat([ToolMessage("r", tool_call_id="1")])
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    with pytest.raises(ValueError, match="text prompt"):
        format_for("meta", "llama3").render_chat([HumanMessage(["look", image])])


def test_anthropic_messages_rendering() -> None:
    render = format_for("anthropic", "claude-3").render_chat
    call = {"name": "GetWeather", "args": {"city": "Paris"}, "id": "tu_1"}
    streamed = {"type": "tool_use", "id": "tu_1", "name": "GetWeather", "input": {}, "index": 1}
    streamed["partial_json"] = '{"city": "Par'
    messages = [
        SystemMessage([{"type": "text", "text": "Sys", "cache_control": {"type": "ephemeral"}}]),
        HumanMessage(
            ["Look:", {"type": "image_url", "image_url": {"url": "data:image/png;base64,QQ=="}}]
        ),
        AIMessage([{"type": "text", "text": "Checking", "index": 0}, streamed], tool_calls=[call]),
        ToolMessage("Sunny", tool_call_id="tu_1", status="error"),
        HumanMessage("And tomorrow?"),
    ]
    assert render(messages) == {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look:"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "QQ=="},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking"},
                    {
                        "type": "tool_use",
                        "id": "tu_1",
                        "name": "GetWeather",
                        "input": {"city": "Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "tu_1",
                        "content": "Sunny",
                        "is_error": True,
                    },
                    {"type": "text", "text": "And tomorrow?"},
                ],
            },
        ],
        "system": [{"type": "text", "text": "Sys", "cache_control": {"type": "ephemeral"}}],
    }
    with pytest.raises(ValueError, match="base64 data URLs"):
        render([HumanMessage([{"type": "image_url", "image_url": "https://x/y.png"}])])


def test_anthropic_stream_chunks_read() -> None:
    read = format_for("anthropic", "claude-3").read_chunk
    assert read is not None
    start = read(
        {"type": "message_start", "message": {"usage": {"input_tokens": 7, "output_tokens": 1}}}
    )
    assert start.usage == {"input_tokens": 7, "output_tokens": 0, "total_tokens": 7}
    tool = read(
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        }
    )
    assert tool.tool_call_chunk == {"name": "f", "id": "t", "args": "", "index": 1}
    delta = read(
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"a"'},
        }
    )
    assert delta.block == {"type": "tool_use", "partial_json": '{"a"', "index": 1}
    assert delta.tool_call_chunk == {"name": None, "id": None, "args": '{"a"', "index": 1}
    think = read(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "hm"},
        }
    )
    assert think.block == {"type": "thinking", "thinking": "hm", "index": 0} and think.text == ""
    end = read(
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9},
        }
    )
    assert end.stop_reason == "tool_use" and end.usage == {
        "input_tokens": 0,
        "output_tokens": 9,
        "total_tokens": 9,
    }
    assert read({"type": "content_block_stop", "index": 0}).text == ""


@settings(max_examples=60)
@given(
    st.text(alphabet="ab#", max_size=30),
    st.lists(st.text(alphabet="ab#", min_size=1, max_size=3), min_size=1, max_size=3),
    st.lists(st.integers(min_value=0, max_value=30), max_size=6),
)
def test_stop_cutter_matches_cutting_the_whole_text(
    text: str, stops: list[str], cuts: list[int]
) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    cutter = StopCutter(stops)
    out = "".join(cutter.feed(text[a:b]) for a, b in itertools.pairwise(bounds))
    assert out + cutter.flush() == cut_at_stop(text, stops)


# -- request shapes and replies ----------------------------------------------------------------
@pytest.mark.parametrize("family", sorted(MODELS))
def test_prompt_body_and_completion_per_family(stubbed: Any, family: str) -> None:
    client, stub, calls = stubbed
    stub.add_response("invoke_model", invoke_reply(REPLIES[family]))
    llm = BedrockLLM(model=MODELS[family], client=client, model_kwargs={"top_k": 5})
    reply = llm.complete(PROMPT)
    assert calls[-1]["modelId"] == MODELS[family]
    assert json.loads(calls[-1]["body"]) == EXPECTED_BODIES[family]
    assert (reply.text, reply.stop_reason, reply.usage) == (" 4", STOP_REASONS[family], USAGE)
    assert reply.extras == {}


def test_invoke_returns_the_text_and_call_kwargs_win(stubbed: Any) -> None:
    client, stub, calls = stubbed
    stub.add_response("invoke_model", invoke_reply(REPLIES["llama3"]))
    llm = BedrockLLM(model=MODELS["llama3"], client=client, model_kwargs={"max_gen_len": 64})
    assert llm.invoke(PROMPT, max_tokens=8, temperature=0.0) == " 4"
    assert json.loads(calls[-1]["body"]) == {"max_gen_len": 8, "temperature": 0.0, "prompt": PROMPT}


def test_stop_sequences_go_where_the_provider_wants_them(stubbed: Any) -> None:
    client, stub, calls = stubbed
    for family in ("titan", "ai21", "llama3"):
        stub.add_response("invoke_model", invoke_reply(REPLIES[family]))
        BedrockLLM(model=MODELS[family], client=client).invoke(PROMPT, stop=["\n"])
    titan, ai21, llama = (json.loads(c["body"]) for c in calls)
    assert titan["textGenerationConfig"] == {"stopSequences": ["\n"]}
    assert ai21["stopSequences"] == ["\n"]
    assert llama == {"prompt": PROMPT}  # Llama has no stop parameter: cut here


def test_guardrail_signal_is_returned_and_logged(stubbed: Any, caplog: Any) -> None:
    client, stub, calls = stubbed
    body = {**REPLIES["titan"], "amazon-bedrock-guardrailAction": "INTERVENED"}
    stub.add_response("invoke_model", invoke_reply(body))
    guardrails = {"guardrailIdentifier": "gr", "guardrailVersion": "DRAFT", "trace": "ENABLED_FULL"}
    llm = BedrockLLM(model=MODELS["titan"], client=client, guardrails=guardrails)
    with caplog.at_level(logging.WARNING, logger="runwire.providers.aws"):
        reply = llm.complete("forbidden")
    assert reply.extras == {"amazon-bedrock-guardrailAction": "INTERVENED"}
    assert "GUARDRAIL_INTERVENED" in caplog.text and "stub-secret" not in caplog.text
    assert calls[-1]["guardrailIdentifier"] == "gr" and calls[-1]["trace"] == "ENABLED_FULL"


def test_fields_aliases_and_serialization() -> None:
    llm = BedrockLLM(model=MODELS["llama3"], region="us-east-1", model_kwargs={"max_gen_len": 64})
    assert llm.model_id == MODELS["llama3"] and llm.region_name == "us-east-1"
    assert llm.streaming is False and llm.provider is None and llm.base_model_id is None
    assert llm.guardrails == {"trace": None, "guardrailIdentifier": None, "guardrailVersion": None}
    assert llm.lc_attributes == {"region_name": "us-east-1"}
    node = llm.to_json()
    assert node["id"] == ["runwire", "providers", "aws", "BedrockLLM"]
    assert "client" not in node["kwargs"] and "bedrock_client" not in node["kwargs"]
    assert runwire.loads(runwire.dumps(llm), allowed_objects="all") == llm
    legacy = {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "llms", "bedrock", "BedrockLLM"],
        "kwargs": {"model_id": MODELS["mistral"], "region_name": "us-west-2", "streaming": True},
    }
    loaded = runwire.loads(json.dumps(legacy), allowed_objects="all")
    assert isinstance(loaded, BedrockLLM) and loaded.streaming
    with pytest.raises(ValidationError):
        BedrockLLM(model=MODELS["llama3"], stop=["x"])  # ChatBedrock's field, not this one's


def test_secrets_are_written_as_secret_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value")
    llm = BedrockLLM(model=MODELS["llama3"])
    text = runwire.dumps(llm)
    assert "env-secret-value" not in text and "env-secret-value" not in repr(llm)
    assert json.loads(text)["kwargs"]["aws_secret_access_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AWS_SECRET_ACCESS_KEY"],
    }


# -- end to end through the emulator (fixtures emu, emulator_client: conftest) ----------
@pytest.mark.parametrize("family", sorted(MODELS))
def test_e2e_invoke_and_stream_per_family(emu: Any, emulator_client: Any, family: str) -> None:
    llm = BedrockLLM(model=MODELS[family], client=emulator_client)
    emu.script("four is the answer", "four is the answer")
    assert llm.invoke("2+2?") == "four is the answer"
    pieces = list(llm.stream("2+2?"))
    assert "".join(pieces) == "four is the answer"
    streams = family != "ai21"
    assert len(pieces) == (4 if streams else 1)
    assert [r.operation for r in emu.requests][1] == (
        "InvokeModelWithResponseStream" if streams else "InvokeModel"
    )


@pytest.mark.parametrize("family", ["titan", "llama3", "anthropic"])
def test_e2e_complete_reports_usage_and_guardrails(
    emu: Any, emulator_client: Any, family: str
) -> None:
    guardrails = {"guardrailIdentifier": "gr", "guardrailVersion": "1", "trace": True}
    llm = BedrockLLM(model=MODELS[family], client=emulator_client, guardrails=guardrails)
    reply = llm.complete("one forbidden word")
    assert reply.extras["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert "guardrail" in reply.extras["amazon-bedrock-trace"]
    assert reply.usage is not None and reply.usage["input_tokens"] == 3
    allowed = llm.complete("a fine question").extras
    assert "amazon-bedrock-guardrailAction" not in allowed  # the trace is there when asked for


def test_e2e_streaming_field_and_client_side_stop(emu: Any, emulator_client: Any) -> None:
    llm = BedrockLLM(model=MODELS["llama3"], client=emulator_client, streaming=True)
    emu.script("alpha beta ## gamma")
    assert llm.invoke("go", stop=["##"]) == "alpha beta "
    assert emu.requests[-1].operation == "InvokeModelWithResponseStream"


def test_e2e_credentials_from_the_environment(aws_env: Any) -> None:
    llm = BedrockLLM(model=MODELS["mistral"], endpoint_url=aws_env.endpoint_url)
    assert llm.invoke("echo me") == "echo me"
    assert aws_env.requests[-1].access_key_id == EMULATOR_KEY_ID


def test_e2e_async(emu: Any, emulator_client: Any) -> None:
    llm = BedrockLLM(model=MODELS["deepseek"], client=emulator_client)
    titan = BedrockLLM(model=MODELS["titan"], client=emulator_client)

    async def run() -> tuple[Any, ...]:
        one = await llm.ainvoke("async one")
        pieces = [p async for p in titan.astream("async two")]
        many = await titan.abatch(["a b", "c d", "e f"])
        return one, pieces, many

    one, pieces, many = asyncio.run(run())
    assert one == "async one"
    assert "".join(pieces) == "async two" and len(pieces) == 2
    assert many == ["a b", "c d", "e f"]


def test_e2e_errors(emu: Any, emulator_client: Any) -> None:
    llm = BedrockLLM(model=MODELS["cohere"], client=emulator_client)
    emu.fail(status=429, code="ThrottlingException", times=1)
    with pytest.raises(ProviderError) as info:
        llm.invoke("hi")
    assert info.value.status == 429 and info.value.request_id
    emu.fail(status=400, code="ValidationException", message="Malformed input", times=1)
    with pytest.raises(ProviderError, match="Malformed input"):
        asyncio.run(llm.ainvoke("hi"))
