"""The Bedrock emulator, driven by the real boto3 clients on 127.0.0.1.

botocore parses every response against its service model, so a wrong shape fails
here, and streams go through botocore's event-stream parser, which checks the CRCs.
"""

from __future__ import annotations

import http.client
import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.testing.bedrock import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_SECRET_ACCESS_KEY,
    GUARDRAIL_TEXT,
    BedrockEmulator,
    RecordedRequest,
    Reply,
    sigv4,
)
from runwire.testing.bedrock.completions import last_user_turn
from runwire.testing.bedrock.eventstream import encode_error, encode_event, encode_exception

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
RERANK_ARN = "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0"
WEATHER_TOOL = {
    "toolSpec": {
        "name": "get_weather",
        "description": "Weather in a city",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
}
TIME_TOOL = {"toolSpec": {"name": "get_time", "inputSchema": {"json": {"type": "object"}}}}
# DeepSeek's template markers use full-width bars (U+FF5C)
DS_BOS, DS_USER, DS_ASSISTANT = (
    f"<\uff5c{name}\uff5c>" for name in ("begin\u2581of\u2581sentence", "User", "Assistant")
)


def client(
    emu: BedrockEmulator,
    service: str = "bedrock-runtime",
    key: str = EMULATOR_KEY_ID,
    secret: str = EMULATOR_SECRET,
    **config: Any,
) -> Any:
    return boto3.client(
        service,
        endpoint_url=emu.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(**config) if config else None,
    )


def anthropic_body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def events(response: dict[str, Any]) -> list[dict[str, Any]]:
    return list(response["stream"])


def stream_text(stream: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in stream if "contentBlockDelta" in e
    )


def invoke(bedrock_client: Any, model_id: str, body: dict[str, Any], **kwargs: Any) -> Any:
    response = bedrock_client.invoke_model(modelId=model_id, body=json.dumps(body), **kwargs)
    return json.loads(response["body"].read())


def invoke_chunks(bedrock_client: Any, model_id: str, body: dict[str, Any]) -> list[dict]:
    response = bedrock_client.invoke_model_with_response_stream(
        modelId=model_id, body=json.dumps(body)
    )
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


# -- the event-stream encoder ----------------------------------------------------------
def test_eventstream_encoder_decodes_with_botocore() -> None:
    messages = [
        encode_event("chunk", {"bytes": "aGk="}),
        encode_event("contentBlockDelta", {"delta": {"text": "héllo ✓"}, "contentBlockIndex": 0}),
        encode_exception("throttlingException", "slow down"),
        encode_error("Boom", "it broke"),
    ]
    data = b"".join(messages)
    buffer = EventStreamBuffer()
    decoded = []
    for start in range(0, len(data), 7):  # odd-sized pieces, as a socket delivers them
        buffer.add_data(data[start : start + 7])
        decoded += list(buffer)
    assert [m.headers.get(":event-type") for m in decoded] == [
        "chunk",
        "contentBlockDelta",
        None,
        None,
    ]
    assert json.loads(decoded[1].payload)["delta"]["text"] == "héllo ✓"
    assert decoded[2].headers[":message-type"] == "exception"
    assert decoded[2].headers[":exception-type"] == "throttlingException"
    assert json.loads(decoded[2].payload) == {"message": "slow down"}
    assert decoded[3].headers == {
        ":error-code": "Boom",
        ":error-message": "it broke",
        ":message-type": "error",
    }
    assert decoded[3].payload == b""


def test_eventstream_crc_is_checked() -> None:
    message = bytearray(encode_event("chunk", {"bytes": "aGk="}))
    message[-6] ^= 0xFF  # a payload byte
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(message))
    with pytest.raises(ChecksumMismatch):
        list(buffer)


# -- SigV4 against botocore's signer ---------------------------------------------------
def _signed(body: bytes, path: str = "/model/a%3A0/converse") -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:9/{path.lstrip('/')}",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(Credentials("AKID", "s3cret"), "bedrock", "eu-west-1").add_auth(request)
    return request


def _verify(request: AWSRequest, body: bytes, secrets: dict[str, str]) -> sigv4.Authorization:
    headers = {name.lower(): [value] for name, value in request.headers.items()}
    headers["host"] = ["127.0.0.1:9"]
    path = request.url.split("127.0.0.1:9", 1)[1]
    return sigv4.verify("POST", path, "", headers, body, secrets.get)


def test_sigv4_accepts_botocore_signatures() -> None:
    body = b'{"messages": []}'
    auth = _verify(_signed(body), body, {"AKID": "s3cret"})
    assert (auth.access_key_id, auth.region, auth.service) == ("AKID", "eu-west-1", "bedrock")


@pytest.mark.parametrize(
    ("secrets", "body", "code"),
    [
        ({"AKID": "other"}, b"{}", "InvalidSignatureException"),
        ({"OTHER": "s3cret"}, b"{}", "UnrecognizedClientException"),
        ({"AKID": "s3cret"}, b"{ }", "InvalidSignatureException"),  # body changed after signing
    ],
)
def test_sigv4_rejects(secrets: dict[str, str], body: bytes, code: str) -> None:
    with pytest.raises(sigv4.AuthError) as caught:
        _verify(_signed(b"{}"), body, secrets)
    assert caught.value.code == code
    assert caught.value.status == 403


def test_sigv4_malformed_header() -> None:
    with pytest.raises(sigv4.AuthError) as caught:
        sigv4.verify("POST", "/", "", {"authorization": ["AWS4-HMAC-SHA256 Foo=1"]}, b"", None)
    assert caught.value.code == "IncompleteSignatureException"


# -- Converse --------------------------------------------------------------------------
def test_converse_echoes_and_records(bedrock: BedrockEmulator) -> None:
    response = client(bedrock).converse(
        modelId=HAIKU,
        system=[{"text": "be brief"}],
        messages=[
            *user("first turn"),
            {"role": "assistant", "content": [{"text": "ok"}]},
            *user("hello big world"),
        ],
    )
    assert response["output"]["message"] == {
        "role": "assistant",
        "content": [{"text": "hello big world"}],
    }
    assert response["stopReason"] == "end_turn"
    assert response["usage"] == {"inputTokens": 8, "outputTokens": 3, "totalTokens": 11}
    assert response["metrics"]["latencyMs"] >= 0
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    (recorded,) = bedrock.requests
    assert recorded.operation == "Converse"
    assert recorded.model_id == HAIKU  # URL-decoded
    assert recorded.access_key_id == EMULATOR_KEY_ID
    assert recorded.region == "us-east-1"
    assert recorded.body["system"] == [{"text": "be brief"}]
    assert recorded.headers["content-type"] == "application/json"
    assert "authorization" in recorded.headers


def test_converse_stream_events(bedrock: BedrockEmulator) -> None:
    stream = events(client(bedrock).converse_stream(modelId=HAIKU, messages=user("one  two three")))
    names = [next(iter(event)) for event in stream]
    assert names == ["messageStart"] + ["contentBlockDelta"] * 3 + [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    pieces = [e["contentBlockDelta"]["delta"]["text"] for e in stream if "contentBlockDelta" in e]
    assert pieces == ["one  ", "two ", "three"]
    assert stream[-2]["messageStop"] == {"stopReason": "end_turn"}
    assert stream[-1]["metadata"]["usage"] == {
        "inputTokens": 3,
        "outputTokens": 3,
        "totalTokens": 6,
    }
    assert bedrock.requests[-1].operation == "ConverseStream"


@pytest.mark.parametrize(
    ("text", "tools", "choice", "expected"),
    [
        ('get_weather {"city": "Paris"}', [WEATHER_TOOL], None, ("get_weather", {"city": "Paris"})),
        ("what is the weather", [WEATHER_TOOL], None, None),
        ("get_weathers is not a name", [WEATHER_TOOL], None, None),
        ("anything", [TIME_TOOL, WEATHER_TOOL], {"any": {}}, ("get_time", {})),
        ('{"city": "Rome"}', [TIME_TOOL], {"tool": {"name": "f"}}, ("f", {"city": "Rome"})),
        ("call get_time now", [TIME_TOOL], {"auto": {}}, ("get_time", {})),
    ],
)  # fmt: skip
def test_converse_default_rule_tools(
    bedrock: BedrockEmulator,
    text: str,
    tools: list[dict],
    choice: dict | None,
    expected: tuple[str, dict] | None,
) -> None:
    tool_config: dict[str, Any] = {"tools": tools}
    if choice is not None:
        tool_config["toolChoice"] = choice
    response = client(bedrock).converse(modelId=HAIKU, messages=user(text), toolConfig=tool_config)
    content = response["output"]["message"]["content"]
    if expected is None:
        assert content == [{"text": text}]
        assert response["stopReason"] == "end_turn"
        return
    (block,) = content
    assert (block["toolUse"]["name"], block["toolUse"]["input"]) == expected
    assert block["toolUse"]["toolUseId"].startswith("tooluse_")
    assert response["stopReason"] == "tool_use"


def test_converse_tool_result_turn_is_echoed(bedrock: BedrockEmulator) -> None:
    messages = [
        *user("use get_weather"),
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}],
        },
        {
            "role": "user",
            "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}],
        },
    ]
    response = client(bedrock).converse(
        modelId=HAIKU, messages=messages, toolConfig={"tools": [WEATHER_TOOL]}
    )
    assert response["output"]["message"]["content"] == [{"text": "sunny"}]


def test_converse_stream_tool_use(bedrock: BedrockEmulator) -> None:
    stream = events(
        client(bedrock).converse_stream(
            modelId=HAIKU,
            messages=user('get_weather {"city": "Paris", "unit": "celsius"}'),
            toolConfig={"tools": [WEATHER_TOOL]},
        )
    )
    (start,) = [e["contentBlockStart"] for e in stream if "contentBlockStart" in e]
    assert start["start"]["toolUse"]["name"] == "get_weather"
    index = start["contentBlockIndex"]
    pieces = [
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in stream
        if "contentBlockDelta" in e and e["contentBlockDelta"]["contentBlockIndex"] == index
    ]
    assert len(pieces) > 1
    assert json.loads("".join(pieces)) == {"city": "Paris", "unit": "celsius"}
    assert stream[-2]["messageStop"]["stopReason"] == "tool_use"


def test_scripted_replies_in_order_then_default(bedrock: BedrockEmulator) -> None:
    bedrock.script(
        Reply(text="first"),
        "second",
        Reply(tool_use={"name": "get_weather", "input": {"city": "Oslo"}}),
    )
    runtime = client(bedrock)
    assert runtime.converse(modelId=HAIKU, messages=user("q"))["output"]["message"]["content"] == [
        {"text": "first"}
    ]
    assert invoke(runtime, HAIKU, anthropic_body("q"))["content"] == [
        {"type": "text", "text": "second"}
    ]
    stream = events(runtime.converse_stream(modelId=HAIKU, messages=user("q")))
    assert stream[1]["contentBlockStart"]["start"]["toolUse"]["name"] == "get_weather"
    assert runtime.converse(modelId=HAIKU, messages=user("echo me"))["output"]["message"][
        "content"
    ] == [{"text": "echo me"}]


def test_reply_with_reasoning(bedrock: BedrockEmulator) -> None:
    bedrock.script(
        Reply(text="42", reasoning="think hard"), Reply(text="42", reasoning="think hard")
    )
    runtime = client(bedrock)
    content = runtime.converse(modelId=HAIKU, messages=user("q"))["output"]["message"]["content"]
    reasoning = content[0]["reasoningContent"]["reasoningText"]
    assert reasoning["text"] == "think hard" and reasoning["signature"]
    assert content[1] == {"text": "42"}
    stream = events(runtime.converse_stream(modelId=HAIKU, messages=user("q")))
    deltas = [e["contentBlockDelta"] for e in stream if "contentBlockDelta" in e]
    thought = "".join(d["delta"]["reasoningContent"].get("text", "") for d in deltas[:-1])
    assert thought == "think hard"
    assert deltas[-2]["delta"]["reasoningContent"]["signature"] == reasoning["signature"]
    assert deltas[-1] == {"delta": {"text": "42"}, "contentBlockIndex": 1}


def test_reply_stop_reason_and_several_tools(bedrock: BedrockEmulator) -> None:
    calls = [{"name": "a", "input": {"x": 1}}, {"name": "b", "input": {}, "id": "mine"}]
    bedrock.script(Reply(text="partial", stop_reason="max_tokens"), Reply(tool_use=calls))
    runtime = client(bedrock)
    assert runtime.converse(modelId=HAIKU, messages=user("q"))["stopReason"] == "max_tokens"
    content = runtime.converse(modelId=HAIKU, messages=user("q"))["output"]["message"]["content"]
    assert [b["toolUse"]["name"] for b in content] == ["a", "b"]
    assert content[1]["toolUse"]["toolUseId"] == "mine"


def test_additional_model_response_fields(bedrock: BedrockEmulator) -> None:
    response = client(bedrock).converse(
        modelId=HAIKU,
        messages=user("q"),
        additionalModelResponseFieldPaths=["/stop_sequence", "/unknown/path"],
    )
    assert response["additionalModelResponseFields"] == {"stop_sequence": None}
    plain = client(bedrock).converse(modelId=HAIKU, messages=user("q"))
    assert "additionalModelResponseFields" not in plain


# -- guardrails ------------------------------------------------------------------------
GUARDRAIL = {"guardrailIdentifier": "gr-1", "guardrailVersion": "1", "trace": "enabled"}


def test_guardrail_intervenes_on_converse(bedrock: BedrockEmulator) -> None:
    bedrock.script("kept for later")
    runtime = client(bedrock)
    response = runtime.converse(
        modelId=HAIKU, messages=user("tell me the Forbidden thing"), guardrailConfig=GUARDRAIL
    )
    assert response["stopReason"] == "guardrail_intervened"
    assert response["output"]["message"]["content"] == [{"text": GUARDRAIL_TEXT}]
    assessment = response["trace"]["guardrail"]["inputAssessment"]["gr-1"]
    assert assessment["wordPolicy"]["customWords"][0]["action"] == "BLOCKED"
    stream = events(
        runtime.converse_stream(
            modelId=HAIKU, messages=user("forbidden"), guardrailConfig=GUARDRAIL
        )
    )
    assert stream_text(stream) == GUARDRAIL_TEXT
    assert stream[-2]["messageStop"]["stopReason"] == "guardrail_intervened"
    assert "guardrail" in stream[-1]["metadata"]["trace"]
    # no guardrail asked: the word is just a word; the scripted reply was not used up
    no_trace = {**GUARDRAIL, "trace": "disabled"}
    ok = runtime.converse(modelId=HAIKU, messages=user("fine"), guardrailConfig=no_trace)
    assert ok["output"]["message"]["content"] == [{"text": "kept for later"}]
    assert "trace" not in ok
    plain = runtime.converse(modelId=HAIKU, messages=user("forbidden"))
    assert plain["stopReason"] == "end_turn"


def test_guardrail_intervenes_on_invoke_model(bedrock: BedrockEmulator) -> None:
    runtime = client(bedrock)
    body = {"prompt": "[INST] say forbidden words [/INST]"}
    model = "mistral.mistral-7b-instruct-v0:2"
    blocked = invoke(
        runtime, model, body, guardrailIdentifier="gr-1", guardrailVersion="1", trace="ENABLED"
    )
    assert blocked["outputs"][0]["text"] == GUARDRAIL_TEXT
    assert blocked["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert "gr-1" in blocked["amazon-bedrock-trace"]["guardrail"]["input"]
    ok = {"prompt": "[INST] hi [/INST]"}
    passed = invoke(runtime, model, ok, guardrailIdentifier="gr-1", guardrailVersion="1")
    assert passed["amazon-bedrock-guardrailAction"] == "NONE"
    assert "amazon-bedrock-trace" not in passed
    assert "amazon-bedrock-guardrailAction" not in invoke(runtime, model, body)


# -- InvokeModel formats ---------------------------------------------------------------
def _anthropic_stream(chunks: list[dict]) -> str:
    return "".join(c["delta"].get("text", "") for c in chunks if c["type"] == "content_block_delta")


def _openai_stream(chunks: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


FORMAT_CASES: list[tuple[str, dict[str, Any], Callable, Callable]] = [
    (
        HAIKU,
        {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "system": "be nice",
         "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}]},
        lambda r: r["content"][0]["text"],
        _anthropic_stream,
    ),
    (
        "anthropic.claude-v2:1",
        {"prompt": "\n\nHuman: hello there\n\nAssistant:", "max_tokens_to_sample": 50},
        lambda r: r["completion"],
        lambda cs: "".join(c["completion"] for c in cs),
    ),
    (
        "amazon.titan-text-express-v1",
        {"inputText": "User: hello there\nBot:", "textGenerationConfig": {"maxTokenCount": 50}},
        lambda r: r["results"][0]["outputText"],
        lambda cs: "".join(c["outputText"] for c in cs),
    ),
    (
        "us.amazon.nova-lite-v1:0",
        {"schemaVersion": "messages-v1", "inferenceConfig": {"maxTokens": 50},
         "messages": [{"role": "user", "content": [{"text": "hello there"}]}]},
        lambda r: r["output"]["message"]["content"][0]["text"],
        lambda cs: stream_text([c for c in cs if "contentBlockDelta" in c]),
    ),
    (
        "meta.llama3-8b-instruct-v1:0",
        {"prompt": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>sys<|eot_id|>"
                   "<|start_header_id|>user<|end_header_id|>hello there<|eot_id|>"
                   "<|start_header_id|>assistant<|end_header_id|>\n\n", "max_gen_len": 50},
        lambda r: r["generation"],
        lambda cs: "".join(c["generation"] for c in cs),
    ),
    (
        "mistral.mistral-7b-instruct-v0:2",
        {"prompt": "<s>[INST] hello there [/INST]", "max_tokens": 50},
        lambda r: r["outputs"][0]["text"],
        lambda cs: "".join(c["outputs"][0]["text"] for c in cs),
    ),
    (
        "mistral.mistral-large-2407-v1:0",
        {"messages": [{"role": "system", "content": "sys"},
                      {"role": "user", "content": "hello there"}]},
        lambda r: r["choices"][0]["message"]["content"],
        _openai_stream,
    ),
    (
        "cohere.command-text-v14",
        {"prompt": "hello there", "max_tokens": 50},
        lambda r: r["generations"][0]["text"],
        lambda cs: "".join(c["text"] for c in cs if not c["is_finished"]),
    ),
    (
        "cohere.command-r-v1:0",
        {"message": "hello there", "chat_history": [{"role": "USER", "message": "before"}]},
        lambda r: r["text"],
        lambda cs: "".join(c["text"] for c in cs if c["event_type"] == "text-generation"),
    ),
    (
        "ai21.j2-ultra-v1",
        {"prompt": "hello there", "maxTokens": 50},
        lambda r: r["completions"][0]["data"]["text"],
        None,  # J2 models do not stream
    ),
    (
        "ai21.jamba-1-5-mini-v1:0",
        {"messages": [{"role": "user", "content": "hello there"}], "max_tokens": 50},
        lambda r: r["choices"][0]["message"]["content"],
        _openai_stream,
    ),
    (
        "us.deepseek.r1-v1:0",
        {"prompt": f"{DS_BOS}{DS_USER}hello there{DS_ASSISTANT}<think>\n", "max_tokens": 50},
        lambda r: r["choices"][0]["text"],
        lambda cs: "".join(c["choices"][0]["text"] for c in cs),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model_id", "body", "text_of", "stream_text_of"),
    FORMAT_CASES,
    ids=[case[0] for case in FORMAT_CASES],
)
def test_invoke_model_formats(
    bedrock: BedrockEmulator,
    model_id: str,
    body: dict[str, Any],
    text_of: Callable,
    stream_text_of: Callable | None,
) -> None:
    runtime = client(bedrock)
    response = runtime.invoke_model(modelId=model_id, body=json.dumps(body))
    assert response["contentType"] == "application/json"
    assert text_of(json.loads(response["body"].read())) == "hello there"
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-output-token-count"]) == 2
    assert bedrock.requests[-1].operation == "InvokeModel"
    assert bedrock.requests[-1].body == body
    if stream_text_of is None:
        with pytest.raises(botocore.exceptions.ClientError, match="ValidationException"):
            invoke_chunks(runtime, model_id, body)
        return
    chunks = invoke_chunks(runtime, model_id, body)
    assert len(chunks) > 1
    assert stream_text_of(chunks) == "hello there"
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == 2
    assert bedrock.requests[-1].operation == "InvokeModelWithResponseStream"


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("<|header_start|>user<|header_end|>hi 4<|eot|><|header_start|>assistant<|header_end|>",
         "hi 4"),
        ("<s>[INST] <<SYS>>\nbe kind\n<</SYS>>\n\nfirst [/INST] ok</s><s>[INST] second [/INST]",
         "second"),
        ("\n\nHuman: one\n\nAssistant: two\n\nHuman: three\n\nAssistant:", "three"),
        ("<|begin_of_sentence|><|User|>ascii bars<|Assistant|>", "ascii bars"),
        ("<|im_start|>user\nqwen<|im_end|>\n<|im_start|>assistant\n", "qwen"),
        ("  just a prompt  ", "just a prompt"),
    ],
)  # fmt: skip
def test_last_user_turn(prompt: str, expected: str) -> None:
    assert last_user_turn(prompt) == expected


def test_invoke_anthropic_tools_and_stream(bedrock: BedrockEmulator) -> None:
    tool = {"name": "get_weather", "description": "w", "input_schema": {"type": "object"}}
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "tools": [tool],
        "messages": [{"role": "user", "content": 'get_weather {"city": "Paris"}'}],
    }
    runtime = client(bedrock)
    response = invoke(runtime, HAIKU, body)
    assert response["stop_reason"] == "tool_use"
    (block,) = response["content"]
    assert (block["type"], block["name"], block["input"]) == (
        "tool_use",
        "get_weather",
        {"city": "Paris"},
    )
    chunks = invoke_chunks(runtime, HAIKU, body)
    start = next(c for c in chunks if c["type"] == "content_block_start")
    assert start["content_block"]["name"] == "get_weather"
    partial = "".join(
        c["delta"]["partial_json"] for c in chunks if c["type"] == "content_block_delta"
    )
    assert json.loads(partial) == {"city": "Paris"}
    forced = {
        **body,
        "tool_choice": {"type": "any"},
        "messages": [{"role": "user", "content": "x"}],
    }
    assert invoke(runtime, HAIKU, forced)["content"][0]["name"] == "get_weather"


def test_invoke_tools_nova_and_openai(bedrock: BedrockEmulator) -> None:
    runtime = client(bedrock)
    nova = {
        "messages": [{"role": "user", "content": [{"text": "get_weather please"}]}],
        "toolConfig": {"tools": [WEATHER_TOOL]},
    }
    content = invoke(runtime, "amazon.nova-pro-v1:0", nova)["output"]["message"]["content"]
    assert content[0]["toolUse"]["name"] == "get_weather"
    chat = {
        "messages": [{"role": "user", "content": 'get_weather {"city": "Lima"}'}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    }
    choice = invoke(runtime, "mistral.mistral-large-2407-v1:0", chat)["choices"][0]
    call = choice["message"]["tool_calls"][0]
    assert (call["function"]["name"], json.loads(call["function"]["arguments"])) == (
        "get_weather",
        {"city": "Lima"},
    )
    assert choice["finish_reason"] == "tool_calls"


def test_invoke_reasoning_in_anthropic_and_deepseek(bedrock: BedrockEmulator) -> None:
    bedrock.script(Reply(text="yes", reasoning="hmm"), Reply(text="yes", reasoning="hmm"))
    runtime = client(bedrock)
    thinking, text = invoke(runtime, HAIKU, anthropic_body("q"))["content"]
    assert (thinking["type"], thinking["thinking"], text["text"]) == ("thinking", "hmm", "yes")
    assert thinking["signature"]
    deepseek = invoke(runtime, "deepseek.r1-v1:0", {"prompt": f"{DS_USER}q{DS_ASSISTANT}"})
    assert deepseek["choices"][0]["text"] == "hmm\n</think>\n\nyes"


def test_invoke_model_arn_sniffs_the_format(bedrock: BedrockEmulator) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    assert (
        invoke(client(bedrock), arn, anthropic_body("via arn"))["content"][0]["text"] == "via arn"
    )
    assert bedrock.requests[-1].model_id == arn


@pytest.mark.parametrize(
    ("model_id", "body", "message"),
    [
        (HAIKU, b"not json", "Malformed input request"),
        ("meta.llama3-8b-instruct-v1:0", b'{"max_gen_len": 5}', "prompt"),
        ("unknown.model-v1", b'{"prompt": "x"}', "model identifier is invalid"),
        ("amazon.titan-embed-text-v2:0", b'{"inputText": "x", "dimensions": 7}', "dimensions"),
        ("cohere.embed-english-v3", b'{"texts": ["x"]}', "input_type"),
    ],
)
def test_invoke_model_validation_errors(
    bedrock: BedrockEmulator, model_id: str, body: bytes, message: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client(bedrock).invoke_model(modelId=model_id, body=body)
    error = caught.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert message in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RequestId"]


# -- embeddings, rerank, count tokens --------------------------------------------------
def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


@pytest.mark.parametrize(
    ("model_id", "body", "size"),
    [
        ("amazon.titan-embed-text-v2:0", {"inputText": "a cat"}, 1024),
        ("amazon.titan-embed-text-v2:0", {"inputText": "a cat", "dimensions": 256}, 256),
        ("amazon.titan-embed-text-v1", {"inputText": "a cat"}, 1536),
    ],
)
def test_titan_embeddings(
    bedrock: BedrockEmulator, model_id: str, body: dict[str, Any], size: int
) -> None:
    runtime = client(bedrock)
    response = invoke(runtime, model_id, body)
    vector = response["embedding"]
    assert len(vector) == size
    assert _norm(vector) == pytest.approx(1.0, abs=1e-6)
    assert response["inputTextTokenCount"] == 2
    assert invoke(runtime, model_id, body)["embedding"] == vector  # deterministic
    assert invoke(runtime, model_id, {**body, "inputText": "a dog"})["embedding"] != vector
    if "v2" in model_id:
        assert response["embeddingsByType"] == {"float": vector}
    else:
        assert "embeddingsByType" not in response


def test_cohere_embeddings(bedrock: BedrockEmulator) -> None:
    runtime = client(bedrock)
    body = {"texts": ["a cat", "a dog", "a cat"], "input_type": "search_document"}
    response = invoke(runtime, "cohere.embed-english-v3", body)
    assert response["response_type"] == "embeddings_floats"
    assert response["texts"] == body["texts"]
    first, second, third = response["embeddings"]
    assert len(first) == 1024 and first == third != second
    assert _norm(second) == pytest.approx(1.0, abs=1e-6)
    typed = invoke(runtime, "cohere.embed-multilingual-v3", {**body, "embedding_types": ["float"]})
    assert typed["response_type"] == "embeddings_by_type"
    assert typed["embeddings"]["float"][0] == first


def _source(text: str) -> dict[str, Any]:
    return {
        "type": "INLINE",
        "inlineDocumentSource": {"type": "TEXT", "textDocument": {"text": text}},
    }


def _rerank_config(results: int | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"modelConfiguration": {"modelArn": RERANK_ARN}}
    if results is not None:
        config["numberOfResults"] = results
    return {"type": "BEDROCK_RERANKING_MODEL", "bedrockRerankingConfiguration": config}


def test_rerank(bedrock: BedrockEmulator) -> None:
    agent = client(bedrock, "bedrock-agent-runtime")
    response = agent.rerank(
        queries=[{"type": "TEXT", "textQuery": {"text": "Paris capital France"}}],
        sources=[
            _source("Berlin is big"),
            _source("Paris is the capital of France"),
            _source("the capital city"),
        ],
        rerankingConfiguration=_rerank_config(2),
    )
    results = response["results"]
    assert [r["index"] for r in results] == [1, 2]
    assert results[0]["relevanceScore"] == pytest.approx(1.0)
    assert results[1]["relevanceScore"] == pytest.approx(1 / 3)
    assert results[0]["document"]["textDocument"]["text"] == "Paris is the capital of France"
    recorded = bedrock.requests[-1]
    assert (recorded.operation, recorded.model_id) == ("Rerank", RERANK_ARN)


def test_count_tokens(bedrock: BedrockEmulator) -> None:
    runtime = client(bedrock)
    converse = {"messages": user("one two three"), "system": [{"text": "four"}]}
    assert runtime.count_tokens(modelId=HAIKU, input={"converse": converse})["inputTokens"] == 4
    body = anthropic_body("one two")
    counted = runtime.count_tokens(
        modelId=HAIKU, input={"invokeModel": {"body": json.dumps(body).encode()}}
    )
    assert counted["inputTokens"] == 2
    assert bedrock.requests[-1].operation == "CountTokens"
    assert not len(bedrock.scripted)  # counting consumes no reply


# -- injected failures -----------------------------------------------------------------
def test_fail_then_succeed(bedrock: BedrockEmulator) -> None:
    bedrock.fail(status=429, code="ThrottlingException", message="Rate exceeded", times=2)
    runtime = client(bedrock, retries={"total_max_attempts": 1})
    for _ in range(2):
        with pytest.raises(runtime.exceptions.ThrottlingException) as caught:
            runtime.converse(modelId=HAIKU, messages=user("q"))
        error = caught.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Error"]["Message"] == "Rate exceeded"
        assert error["ResponseMetadata"]["RequestId"]
    assert runtime.converse(modelId=HAIKU, messages=user("q"))["stopReason"] == "end_turn"
    assert len(bedrock.requests) == 3


def test_botocore_retries_on_throttling(
    bedrock: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.retryhandler.random.random", lambda: 0.0)  # no backoff wait
    bedrock.script("after retry")
    bedrock.fail(times=1)
    response = client(bedrock, retries={"mode": "legacy", "total_max_attempts": 3}).converse(
        modelId=HAIKU, messages=user("q")
    )
    assert response["output"]["message"]["content"] == [{"text": "after retry"}]
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [r.operation for r in bedrock.requests] == ["Converse", "Converse"]


def test_fail_only_the_named_operation(bedrock: BedrockEmulator) -> None:
    bedrock.fail(status=400, code="ValidationException", message="bad", operation="InvokeModel")
    runtime = client(bedrock, retries={"total_max_attempts": 1})
    assert runtime.converse(modelId=HAIKU, messages=user("q"))["stopReason"] == "end_turn"
    with pytest.raises(runtime.exceptions.ValidationException, match="bad"):
        invoke(runtime, "meta.llama3-8b-instruct-v1:0", {"prompt": "x"})
    assert invoke(runtime, "meta.llama3-8b-instruct-v1:0", {"prompt": "x"})["generation"] == "x"
    with pytest.raises(ValueError, match="unknown operation"):
        bedrock.fail(operation="Chat")


def test_fail_mid_stream(bedrock: BedrockEmulator) -> None:
    bedrock.script("one two three four")
    bedrock.fail(code="ModelStreamErrorException", message="model broke", mid_stream=True)
    runtime = client(bedrock, retries={"total_max_attempts": 1})
    assert runtime.converse(modelId=HAIKU, messages=user("q"))["output"]["message"]["content"] == [
        {"text": "one two three four"}
    ]  # not a stream: not failed, the reply is used
    bedrock.script("one two three four")
    stream = runtime.converse_stream(modelId=HAIKU, messages=user("q"))["stream"]
    seen = []
    with pytest.raises(botocore.exceptions.EventStreamError) as caught:
        for event in stream:
            seen.append(event)
    assert caught.value.response["Error"] == {
        "Code": "modelStreamErrorException",
        "Message": "model broke",
    }
    assert seen[0] == {"messageStart": {"role": "assistant"}}
    bedrock.fail(code="SomethingOdd", message="odd", mid_stream=True)
    body = {"prompt": "[INST] a b c [/INST]"}
    response = runtime.invoke_model_with_response_stream(
        modelId="mistral.mistral-7b-instruct-v0:2", body=json.dumps(body)
    )
    with pytest.raises(botocore.exceptions.EventStreamError, match="odd"):
        list(response["body"])
    assert len(bedrock.scripted) == 1  # a failed stream consumed no reply


# -- authentication --------------------------------------------------------------------
def test_wrong_secret_is_rejected(bedrock: BedrockEmulator) -> None:
    runtime = client(bedrock, secret="not-the-secret", retries={"total_max_attempts": 1})
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        runtime.converse(modelId=HAIKU, messages=user("q"))
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "not-the-secret" not in str(caught.value)
    assert bedrock.requests == []


def test_unknown_key_is_rejected(bedrock: BedrockEmulator) -> None:
    agent = client(
        bedrock, "bedrock-agent-runtime", key="AKIDUNKNOWN", retries={"total_max_attempts": 1}
    )
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        agent.rerank(
            queries=[{"type": "TEXT", "textQuery": {"text": "q"}}],
            sources=[_source("d")],
            rerankingConfiguration=_rerank_config(),
        )
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_missing_authorization_is_rejected() -> None:
    with BedrockEmulator(require_auth=False) as emu:
        unsigned = boto3.client(
            "bedrock-runtime",
            endpoint_url=emu.endpoint_url,
            region_name="us-east-1",
            config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
        )
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            unsigned.converse(modelId=HAIKU, messages=user("q"))
        assert caught.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        # without require_auth any signed request passes, whatever its secret
        anyone = client(emu, key="ANY", secret="thing")
        assert anyone.converse(modelId=HAIKU, messages=user("q"))["stopReason"] == "end_turn"
        assert emu.requests[-1].access_key_id == "ANY"


def test_default_credentials_and_session_token() -> None:
    with BedrockEmulator() as emu:
        runtime = boto3.client(
            "bedrock-runtime",
            endpoint_url=emu.endpoint_url,
            region_name="eu-central-1",
            aws_access_key_id=DEFAULT_ACCESS_KEY_ID,
            aws_secret_access_key=DEFAULT_SECRET_ACCESS_KEY,
            aws_session_token="session-token-value",
        )
        runtime.converse(modelId=HAIKU, messages=user("q"))
        recorded = emu.requests[-1]
        assert recorded.region == "eu-central-1"
        assert recorded.headers["x-amz-security-token"] == "session-token-value"
        assert "session-token-value" not in repr(recorded)
        assert DEFAULT_SECRET_ACCESS_KEY not in repr(emu)
        assert emu.access_key_ids == (DEFAULT_ACCESS_KEY_ID,)


# -- the server itself -----------------------------------------------------------------
def test_start_stop_and_unknown_routes() -> None:
    emu = BedrockEmulator()
    with pytest.raises(RuntimeError, match="not running"):
        emu.endpoint_url  # noqa: B018
    emu.start()
    try:
        connection = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
        connection.request("POST", "/nowhere", body=b"{}")
        response = connection.getresponse()
        assert response.status == 404
        assert response.getheader("x-amzn-ErrorType").startswith("UnknownOperationException:")
        assert response.getheader("x-amzn-RequestId")
        assert "message" in json.loads(response.read())
        connection.close()
    finally:
        emu.stop()
    emu.stop()  # idempotent
    assert not emu.running


def test_reset_and_concurrent_keep_alive_calls(bedrock: BedrockEmulator) -> None:
    bedrock.script("x")
    bedrock.fail(times=5)
    bedrock.reset()
    assert not len(bedrock.scripted) and bedrock.faults.pending() == 0
    runtime = client(bedrock, max_pool_connections=8)

    def call(i: int) -> str:
        response = runtime.converse(modelId=HAIKU, messages=user(f"message {i}"))
        return response["output"]["message"]["content"][0]["text"]

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(call, range(40))) == [f"message {i}" for i in range(40)]
    assert len(bedrock.requests) == 40
    assert all(isinstance(r, RecordedRequest) for r in bedrock.requests)


def test_reply_of() -> None:
    assert Reply.of("hi") == Reply(text="hi")
    assert Reply.of({"text": "a", "stop_reason": "max_tokens"}).stop_reason == "max_tokens"
    with pytest.raises(TypeError):
        Reply.of(3)  # type: ignore[arg-type]


def test_a_long_running_emulator_keeps_only_the_last_requests() -> None:
    with BedrockEmulator(
        credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}, max_recorded=2
    ) as emulator:
        runtime = client(emulator)
        for text in ("one", "two", "three"):
            runtime.converse(modelId=HAIKU, messages=user(text))
        sent = [r.body["messages"][0]["content"][0]["text"] for r in emulator.requests]
    assert sent == ["two", "three"]


def test_simulated_latency_holds_each_model_answer_for_its_reported_latency() -> None:
    """``simulate_latency``: a chat answer is not sent before ``latency_ms``, an embedding
    before ``embedding_latency_ms``; both report what they took (never less than it)."""
    import time

    credentials = {EMULATOR_KEY_ID: EMULATOR_SECRET}
    with BedrockEmulator(
        credentials=credentials, simulate_latency=True, latency_ms=120, embedding_latency_ms=40
    ) as emu:
        runtime = client(emu)
        start = time.perf_counter()
        chat = runtime.converse(modelId=HAIKU, messages=user("slow model"))
        chat_took = time.perf_counter() - start
        start = time.perf_counter()
        embedded = runtime.invoke_model(
            modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "x"})
        )
        embedding_took = time.perf_counter() - start
    assert chat["metrics"]["latencyMs"] == 120 and chat_took >= 0.12
    headers = embedded["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-invocation-latency"] == "40" and embedding_took >= 0.04
