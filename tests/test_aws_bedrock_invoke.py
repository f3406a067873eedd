"""ChatBedrock over InvokeModel: request shapes per provider (botocore Stubber),
response parsing, and end to end through the Bedrock emulator, sync and async."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from pydantic import BaseModel, ValidationError

from conftest import EMULATOR_KEY_ID
from runwire.errors import ProviderError
from runwire.providers.aws.bedrock_chat import ChatBedrock, anthropic_tool_choice
from runwire.providers.aws.invoke_formats import format_for
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
)
from runwire.testing.bedrock import Reply

MODELS = {
    "anthropic": "anthropic.claude-3-haiku-20240307-v1:0",
    "nova": "us.amazon.nova-lite-v1:0",
    "titan": "amazon.titan-text-express-v1",
    "llama3": "meta.llama3-8b-instruct-v1:0",
    "llama2": "meta.llama2-13b-chat-v1",
    "llama4": "meta.llama4-scout-17b-instruct-v1:0",
    "mistral": "mistral.mistral-7b-instruct-v0:2",
    "cohere": "cohere.command-text-v14",
    "ai21": "ai21.j2-ultra-v1",
    "deepseek": "us.deepseek.r1-v1:0",
}
CHAT = [SystemMessage("Be brief."), HumanMessage("Hi"), AIMessage("Hello"), HumanMessage("Bye?")]
KWARGS = {"max_tokens": 50, "temperature": 0.5}
TRANSCRIPT = "Be brief.\nUser: Hi\nBot: Hello\nUser: Bye?\nBot:"
DS = ("<\uff5cbegin\u2581of\u2581sentence\uff5c>", "<\uff5cUser\uff5c>", "<\uff5cAssistant\uff5c>")
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
L3 = "<|start_header_id|>{}<|end_header_id|>\n\n"
L4 = "<|header_start|>{}<|header_end|>\n\n"

EXPECTED_BODIES: dict[str, dict[str, Any]] = {
    "anthropic": {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Bye?"},
        ],
        "system": "Be brief.",
    },
    "nova": {
        "schemaVersion": "messages-v1",
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": "Hi"}]},
            {"role": "assistant", "content": [{"text": "Hello"}]},
            {"role": "user", "content": [{"text": "Bye?"}]},
        ],
        "inferenceConfig": {"maxTokens": 50, "temperature": 0.5, "stopSequences": ["END"]},
    },
    "titan": {
        "inputText": TRANSCRIPT,
        "textGenerationConfig": {"maxTokenCount": 50, "temperature": 0.5, "stopSequences": ["END"]},
    },
    "llama3": {
        "max_gen_len": 50,
        "temperature": 0.5,
        "prompt": "<|begin_of_text|>"
        + L3.format("system")
        + "Be brief.<|eot_id|>"
        + L3.format("user")
        + "Hi<|eot_id|>"
        + L3.format("assistant")
        + "Hello<|eot_id|>"
        + L3.format("user")
        + "Bye?<|eot_id|>"
        + L3.format("assistant"),
    },
    "llama2": {
        "max_gen_len": 50,
        "temperature": 0.5,
        "prompt": "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello </s>"
        "<s>[INST] Bye? [/INST]",
    },
    "llama4": {
        "max_gen_len": 50,
        "temperature": 0.5,
        "prompt": "<|begin_of_text|>"
        + L4.format("system")
        + "Be brief.<|eot|>"
        + L4.format("user")
        + "Hi<|eot|>"
        + L4.format("assistant")
        + "Hello<|eot|>"
        + L4.format("user")
        + "Bye?<|eot|>"
        + L4.format("assistant"),
    },
    "mistral": {
        "max_tokens": 50,
        "temperature": 0.5,
        "stop": ["END"],
        "prompt": "<s>[INST] Be brief.\n\nHi [/INST]Hello</s>[INST] Bye? [/INST]",
    },
    "cohere": {
        "max_tokens": 50,
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "prompt": TRANSCRIPT,
    },
    "ai21": {"maxTokens": 50, "temperature": 0.5, "stopSequences": ["END"], "prompt": TRANSCRIPT},
    "deepseek": {
        "max_tokens": 50,
        "temperature": 0.5,
        "stop": ["END"],
        "prompt": f"{DS[0]}Be brief.{DS[1]}Hi{DS[2]}Hello{EOS}{DS[1]}Bye?{DS[2]}<think>\n",
    },
}

USAGE_3_2 = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
# family -> (response body, text, stop reason, usage read from the body)
RESPONSES: dict[str, tuple[dict[str, Any], str, str, dict[str, Any] | None]] = {
    "anthropic": (
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "See you"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 3, "output_tokens": 2},
        },
        "See you",
        "end_turn",
        USAGE_3_2,
    ),
    "nova": (
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "See you"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
        },
        "See you",
        "end_turn",
        USAGE_3_2,
    ),
    "titan": (
        {
            "inputTextTokenCount": 3,
            "results": [{"tokenCount": 2, "outputText": "See you", "completionReason": "FINISH"}],
        },
        "See you",
        "FINISH",
        USAGE_3_2,
    ),
    "llama3": (
        {
            "generation": "See you",
            "prompt_token_count": 3,
            "generation_token_count": 2,
            "stop_reason": "stop",
        },
        "See you",
        "stop",
        USAGE_3_2,
    ),
    "mistral": ({"outputs": [{"text": "See you", "stop_reason": "stop"}]}, "See you", "stop", None),
    "cohere": (
        {"id": "x", "generations": [{"id": "g", "text": "See you", "finish_reason": "COMPLETE"}]},
        "See you",
        "COMPLETE",
        None,
    ),
    "ai21": (
        {
            "id": 1,
            "completions": [{"data": {"text": "See you"}, "finishReason": {"reason": "endoftext"}}],
        },
        "See you",
        "endoftext",
        None,
    ),
    "deepseek": (
        {"choices": [{"text": "See you", "stop_reason": "stop"}]},
        "See you",
        "stop",
        None,
    ),
}
RESPONSES["llama2"] = RESPONSES["llama4"] = RESPONSES["llama3"]


# -- helpers -------------------------------------------------------------------------------
def streaming_body(payload: dict[str, Any]) -> StreamingBody:
    data = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(data), len(data))


def invoke_reply(payload: dict[str, Any], **headers: str) -> dict[str, Any]:
    reply: dict[str, Any] = {"body": streaming_body(payload), "contentType": "application/json"}
    if headers:
        reply["ResponseMetadata"] = {"HTTPHeaders": headers}
    return reply


class Stubbed:
    """A real bedrock-runtime client under a Stubber, recording request parameters."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            aws_access_key_id="AKIDSTUB",
            aws_secret_access_key="stub-secret",
        )
        self.stub = Stubber(self.client)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.client.meta.events.register("before-parameter-build.bedrock-runtime.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def body(self, n: int = -1) -> dict[str, Any]:
        return json.loads(self.calls[n][1]["body"])


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    stubbed = Stubbed()
    with stubbed.stub:
        yield stubbed
        stubbed.stub.assert_no_pending_responses()


def chat(model: str, stubbed: Stubbed | None = None, **kwargs: Any) -> ChatBedrock:
    client = stubbed.client if stubbed is not None else None
    kwargs.setdefault("beta_use_converse_api", False)  # Nova too: this module tests InvokeModel
    return ChatBedrock(model=model, client=client, **kwargs)


class GetWeather(BaseModel):
    """Get the weather of a city."""

    city: str


# -- the table -------------------------------------------------------------------------------
@pytest.mark.parametrize("family", sorted(EXPECTED_BODIES))
def test_request_body_per_family(stubbed: Stubbed, family: str) -> None:
    stubbed.stub.add_response("invoke_model", invoke_reply(RESPONSES[family][0]))
    model = chat(MODELS[family], stubbed, model_kwargs=KWARGS, stop=["END"])
    model.invoke(CHAT)
    operation, params = stubbed.calls[-1]
    assert operation == "InvokeModel"
    assert params["modelId"] == MODELS[family]
    assert params["contentType"] == params["accept"] == "application/json"
    assert "guardrailIdentifier" not in params and "trace" not in params
    assert stubbed.body() == EXPECTED_BODIES[family]


@pytest.mark.parametrize("family", sorted(RESPONSES))
def test_response_parsing_per_family(stubbed: Stubbed, family: str) -> None:
    body, text, stop_reason, usage = RESPONSES[family]
    headers = {"x-amzn-bedrock-input-token-count": "3", "x-amzn-bedrock-output-token-count": "2"}
    stubbed.stub.add_response("invoke_model", invoke_reply(body, **headers))
    message = chat(MODELS[family], stubbed).invoke("Bye?")
    assert message.content == text
    expected_usage = {  # the headers when the body has none; details always (langchain-aws)
        "input_token_details": {"cache_read": 0, "cache_creation": 0},
        **(usage or USAGE_3_2),
    }
    assert message.usage_metadata == expected_usage
    details = expected_usage["input_token_details"]
    llm_output = {  # langchain-aws's llm_output, in its key order
        "usage": {
            "prompt_tokens": expected_usage["input_tokens"]
            - details["cache_read"]
            - details["cache_creation"],
            "completion_tokens": expected_usage["output_tokens"],
            "cache_read_input_tokens": details["cache_read"],
            "cache_write_input_tokens": details["cache_creation"],
            "total_tokens": expected_usage["total_tokens"],
        },
        "stop_reason": stop_reason,
        **({} if family == "anthropic" else {"thinking": {}}),
        "model_id": MODELS[family],
    }
    assert message.additional_kwargs == llm_output
    assert message.response_metadata == {
        **llm_output,
        "model_provider": "bedrock",
        "model_name": MODELS[family],
    }
    assert list(message.response_metadata) == [*llm_output, "model_provider", "model_name"]
    assert message.id is not None and message.id.startswith("lc_run-")


def test_application_inference_profile_resolves_its_model() -> None:
    control = boto3.client(
        "bedrock", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p1"
    base = "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-8b-instruct-v1:0"
    with Stubber(control) as stub:
        stub.add_response(
            "get_inference_profile",
            {
                "inferenceProfileName": "p1",
                "inferenceProfileArn": arn,
                "inferenceProfileId": "p1",
                "status": "ACTIVE",
                "type": "APPLICATION",
                "models": [{"modelArn": base}],
            },
            {"inferenceProfileIdentifier": arn},
        )
        model = chat(arn, bedrock_client=control)
        assert model._format().name == "meta-llama3"
        assert model._format().name == "meta-llama3"  # resolved once


# -- guardrails ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("trace", "expected"),
    [(None, None), (True, "ENABLED"), ("enabled_full", "ENABLED_FULL"), (False, None)],
)
def test_guardrail_parameters(stubbed: Stubbed, trace: Any, expected: str | None) -> None:
    guardrails = {"guardrailIdentifier": "gr-1", "guardrailVersion": "3", "trace": trace}
    params = {"modelId": MODELS["mistral"], "body": ANY, "contentType": ANY, "accept": ANY}
    params |= {"guardrailIdentifier": "gr-1", "guardrailVersion": "3"}
    if expected:
        params["trace"] = expected
    stubbed.stub.add_response("invoke_model", invoke_reply(RESPONSES["mistral"][0]), params)
    chat(MODELS["mistral"], stubbed, guardrails=guardrails).invoke("hi")


def test_guardrails_need_both_keys_and_accept_guardrail_id() -> None:
    with pytest.raises(ValidationError, match="guardrailVersion"):
        ChatBedrock(model=MODELS["mistral"], guardrails={"guardrailIdentifier": "g"})
    model = ChatBedrock(
        model=MODELS["mistral"], guardrails={"guardrailId": "g", "guardrailVersion": "1"}
    )
    assert model._guardrail_params() == {"guardrailIdentifier": "g", "guardrailVersion": "1"}
    assert ChatBedrock(model=MODELS["mistral"], guardrails=None)._guardrail_params() == {}


def test_guardrail_intervention_is_reported(stubbed: Stubbed) -> None:
    body = {
        "outputs": [{"text": "Sorry.", "stop_reason": "stop"}],
        "amazon-bedrock-guardrailAction": "INTERVENED",
        "amazon-bedrock-trace": {"guardrail": {"input": {}}},
    }
    stubbed.stub.add_response("invoke_model", invoke_reply(body))
    guardrails = {"guardrailIdentifier": "g", "guardrailVersion": "1", "trace": True}
    message = chat(MODELS["mistral"], stubbed, guardrails=guardrails).invoke("forbidden")
    assert message.response_metadata["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert message.response_metadata["amazon-bedrock-trace"] == {"guardrail": {"input": {}}}


# -- streaming request shapes and errors -------------------------------------------------------
def test_stream_request_shape(stubbed: Stubbed) -> None:
    stubbed.stub.add_response(
        "invoke_model_with_response_stream", {"body": {}, "contentType": "application/json"}
    )
    model = chat(
        MODELS["cohere"], stubbed, guardrails={"guardrailIdentifier": "g", "guardrailVersion": "2"}
    )
    chunks = list(model.stream("hi", stop=["\n"]))
    operation, params = stubbed.calls[-1]
    assert operation == "InvokeModelWithResponseStream"
    assert params["guardrailIdentifier"] == "g" and params["guardrailVersion"] == "2"
    assert stubbed.body() == {"stop_sequences": ["\n"], "stream": True, "prompt": "User: hi\nBot:"}
    assert chunks[0].response_metadata == {
        "model_name": MODELS["cohere"],
        "model_provider": "bedrock",
    }


def test_service_errors_become_provider_errors(stubbed: Stubbed) -> None:
    stubbed.stub.add_client_error(
        "invoke_model",
        service_error_code="ValidationException",
        service_message="Malformed input request",
        http_status_code=400,
        response_meta={"RequestId": "req-123"},
    )
    with pytest.raises(ProviderError) as info:
        chat(MODELS["anthropic"], stubbed).invoke("hi")
    assert (info.value.code, info.value.status, info.value.request_id) == (
        "ValidationException",
        400,
        "req-123",
    )
    assert not info.value.retryable


def test_a_body_that_is_not_json_is_a_provider_error(stubbed: Stubbed) -> None:
    data = b"<html>"
    reply = {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "text/html"}
    stubbed.stub.add_response("invoke_model", reply)
    with pytest.raises(ProviderError, match="not a JSON object"):
        chat(MODELS["mistral"], stubbed).invoke("hi")


# -- tools (anthropic) ---------------------------------------------------------------------------
def test_bind_tools_request_and_tool_use_response(stubbed: Stubbed) -> None:
    body = {
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "tu_1", "name": "GetWeather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    stubbed.stub.add_response("invoke_model", invoke_reply(body))
    model = chat(MODELS["anthropic"], stubbed).bind_tools([GetWeather], tool_choice="GetWeather")
    message = model.invoke("Weather in Paris?")
    sent = stubbed.body()
    assert sent["tools"] == [
        {
            "name": "GetWeather",
            "description": "Get the weather of a city.",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    assert sent["tool_choice"] == {"type": "tool", "name": "GetWeather"}
    assert message.tool_calls == [
        {"name": "GetWeather", "args": {"city": "Paris"}, "id": "tu_1", "type": "tool_call"}
    ]
    assert message.content == "Let me check."  # langchain-aws: the text, calls apart
    assert message.response_metadata["stop_reason"] == "tool_use"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", {"type": "auto"}),
        ("any", {"type": "any"}),
        (True, {"type": "any"}),
        ("none", {"type": "none"}),
        ("GetWeather", {"type": "tool", "name": "GetWeather"}),
        ({"type": "function", "function": {"name": "f"}}, {"type": "tool", "name": "f"}),
        ({"type": "tool", "name": "f"}, {"type": "tool", "name": "f"}),
    ],
)
def test_tool_choice_in_anthropic_format(choice: Any, expected: Any) -> None:
    assert anthropic_tool_choice(choice) == expected


def test_tools_need_an_anthropic_model() -> None:
    model = chat(MODELS["llama3"])
    with pytest.raises(NotImplementedError, match=r"meta model .*beta_use_converse_api=True"):
        model.bind_tools([GetWeather])
    with pytest.raises(NotImplementedError, match=r"with_structured_output.*meta"):
        model.with_structured_output(GetWeather)
    with pytest.raises(NotImplementedError, match="strict"):
        chat(MODELS["anthropic"]).bind_tools([GetWeather], strict=True)


# -- Converse delegation ---------------------------------------------------------------------------
def test_beta_use_converse_api_delegates(stubbed: Stubbed) -> None:
    reply = {
        "output": {"message": {"role": "assistant", "content": [{"text": "Hi there"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 2, "outputTokens": 2, "totalTokens": 4},
        "metrics": {"latencyMs": 5},
    }
    stubbed.stub.add_response("converse", reply)
    model = chat(
        MODELS["llama3"],
        stubbed,
        beta_use_converse_api=True,
        model_kwargs={"temperature": 0.2, "max_gen_len": 40},
        stop=["END"],
        guardrails={"guardrailIdentifier": "g", "guardrailVersion": "1", "trace": True},
    )
    message = model.invoke([SystemMessage("Sys"), HumanMessage("Hi")])
    operation, params = stubbed.calls[-1]
    assert operation == "Converse"
    assert params["modelId"] == MODELS["llama3"]
    assert params["inferenceConfig"] == {"temperature": 0.2, "stopSequences": ["END"]}
    assert params["additionalModelRequestFields"] == {"max_gen_len": 40}
    assert params["guardrailConfig"] == {
        "guardrailIdentifier": "g",
        "guardrailVersion": "1",
        "trace": "enabled",
    }
    assert message.content == "Hi there"
    assert model.bind_tools([GetWeather]).bound.__class__.__name__ == "ChatBedrockConverse"


# -- serialization ---------------------------------------------------------------------------------
def test_serialization_writes_fields_by_name_and_round_trips() -> None:
    import runwire

    model = ChatBedrock(
        model=MODELS["anthropic"],
        region="us-east-1",
        model_kwargs={"temperature": 0.1},
        streaming=True,
        stop=["END"],
    )
    node = model.to_json()
    assert node["id"] == ["runwire", "providers", "aws", "ChatBedrock"]
    assert node["kwargs"]["region_name"] == "us-east-1"
    assert node["kwargs"]["stop_sequences"] == ["END"]
    assert node["kwargs"]["guardrails"] == {
        "trace": None,
        "guardrailIdentifier": None,
        "guardrailVersion": None,
    }
    assert runwire.loads(runwire.dumps(model), allowed_objects="all") == model
    legacy = {
        "lc": 1,
        "type": "constructor",
        "id": ["langchain", "chat_models", "bedrock", "ChatBedrock"],
        "kwargs": {
            "model_id": MODELS["mistral"],
            "region": "eu-west-1",
            "beta_use_converse_api": True,
        },
    }
    loaded = runwire.loads(json.dumps(legacy), allowed_objects="all")
    assert isinstance(loaded, ChatBedrock) and loaded.region_name == "eu-west-1"


# -- end to end through the emulator (fixtures emu, emulator_client: conftest) ----------
CHAT_FAMILIES = sorted(EXPECTED_BODIES)


def e2e(family: str, client: Any, **kwargs: Any) -> ChatBedrock:
    kwargs.setdefault("beta_use_converse_api", False)  # Nova too: this module tests InvokeModel
    return ChatBedrock(model=MODELS[family], client=client, **kwargs)


def added(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk  # type: ignore[assignment]
    return total


@pytest.mark.parametrize("family", CHAT_FAMILIES)
def test_e2e_invoke_and_stream_per_family(emu: Any, emulator_client: Any, family: str) -> None:
    model = e2e(family, emulator_client)
    prompt = [SystemMessage("Answer in kind."), HumanMessage("hello there friend")]
    message = model.invoke(prompt)
    assert message.text.strip().endswith("hello there friend")
    assert message.response_metadata["stop_reason"]
    chunks = list(model.stream(prompt))
    streamed = family != "ai21"  # Jurassic-2 does not stream: one chunk of the whole reply
    assert len(chunks) > 2 if streamed else len(chunks) == 2
    operations = [r.operation for r in emu.requests]
    assert operations[1] == ("InvokeModelWithResponseStream" if streamed else "InvokeModel")
    total = added(chunks)
    assert total.content == message.content
    for key in ("stop_reason", "model_name", "model_provider"):
        assert total.response_metadata[key] == message.response_metadata[key]
    if message.usage_metadata is not None and total.usage_metadata is not None:
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            assert total.usage_metadata[key] == message.usage_metadata[key]


def test_e2e_credentials_from_the_environment_and_streaming_field(aws_env: Any) -> None:
    model = ChatBedrock(
        model=MODELS["anthropic"], endpoint_url=aws_env.endpoint_url, streaming=True
    )
    aws_env.script("one two three")
    message = model.invoke("hi")
    assert message.content == "one two three"
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] == 3
    [request] = aws_env.requests
    assert request.operation == "InvokeModelWithResponseStream"
    assert request.access_key_id == EMULATOR_KEY_ID and request.region == "us-east-1"


def test_e2e_client_side_stop_for_llama(emu: Any, emulator_client: Any) -> None:
    model = e2e("llama3", emulator_client)
    emu.script("one two STOP three", "one two STOP three")
    assert model.invoke("hi", stop=["STOP"]).content == "one two "
    assert "".join(c.text for c in model.stream("hi", stop=["STOP"])) == "one two "
    assert "stop" not in emu.requests[-1].body


def test_e2e_anthropic_tools_and_structured_output(emu: Any, emulator_client: Any) -> None:
    model = e2e("anthropic", emulator_client).bind_tools([GetWeather])
    message = model.invoke('Call GetWeather with {"city": "Paris"}')
    assert message.tool_calls[0]["name"] == "GetWeather"
    assert message.tool_calls[0]["args"] == {"city": "Paris"}
    assert emu.requests[-1].body["tools"][0]["name"] == "GetWeather"
    chunks = list(model.stream('Call GetWeather with {"city": "Oslo"}'))
    assert any(c.tool_call_chunks for c in chunks)
    assert added(chunks).tool_calls[0]["args"] == {"city": "Oslo"}
    structured = e2e("anthropic", emulator_client).with_structured_output(GetWeather)
    assert structured.invoke('weather {"city": "Rome"}') == GetWeather(city="Rome")
    assert emu.requests[-1].body["tool_choice"] == {"type": "any"}
    raw = e2e("anthropic", emulator_client, streaming=True).with_structured_output(
        GetWeather, include_raw=True
    )
    out = raw.invoke('weather {"city": "Lima"}')
    assert out["parsed"] == GetWeather(city="Lima") and out["parsing_error"] is None
    assert emu.requests[-1].operation == "InvokeModelWithResponseStream"


@pytest.mark.parametrize("family", ["anthropic", "mistral"])
def test_e2e_guardrail_intervention(emu: Any, emulator_client: Any, family: str) -> None:
    guardrails = {"guardrailIdentifier": "gr-1", "guardrailVersion": "1", "trace": True}
    model = e2e(family, emulator_client, guardrails=guardrails)
    message = model.invoke("tell me something forbidden")
    assert message.response_metadata["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert "guardrail" in message.response_metadata["amazon-bedrock-trace"]
    assert "cannot answer" in message.text
    total = added(list(model.stream("tell me something forbidden")))
    assert total.response_metadata["amazon-bedrock-guardrailAction"] == "INTERVENED"
    headers = emu.requests[-1].headers
    assert headers["x-amzn-bedrock-guardrailidentifier"] == "gr-1"
    assert headers["x-amzn-bedrock-trace"] == "ENABLED"
    allowed = model.invoke("tell me something nice")
    assert "amazon-bedrock-guardrailAction" not in allowed.response_metadata


def test_e2e_async_ainvoke_astream_abatch(emu: Any, emulator_client: Any) -> None:
    model = e2e("anthropic", emulator_client)
    llama = e2e("llama3", emulator_client)

    async def run() -> tuple[Any, ...]:
        one = await model.ainvoke("async hello")
        chunks = [c async for c in llama.astream("async stream")]
        many = await model.abatch([f"question {i}" for i in range(5)])
        return one, chunks, many

    one, chunks, many = asyncio.run(run())
    assert one.content == "async hello"
    assert "".join(c.text for c in chunks).strip() == "async stream"
    assert [m.content for m in many] == [f"question {i}" for i in range(5)]


def test_e2e_failures_become_provider_errors(emu: Any, emulator_client: Any) -> None:
    emu.fail(status=429, code="ThrottlingException", message="Rate exceeded", times=1)
    with pytest.raises(ProviderError) as info:
        e2e("anthropic", emulator_client).invoke("hi")
    assert info.value.code == "ThrottlingException" and info.value.retryable
    emu.fail(status=400, code="ValidationException", message="bad", times=1)
    with pytest.raises(ProviderError, match="ValidationException"):
        list(e2e("mistral", emulator_client).stream("hi"))
    emu.fail(code="ThrottlingException", operation="InvokeModelWithResponseStream", mid_stream=True)
    with pytest.raises(ProviderError, match=r"(?i)ThrottlingException"):  # event: throttling...
        list(e2e("titan", emulator_client).stream("one two three four five six"))

    async def run() -> None:
        await e2e("anthropic", emulator_client).ainvoke("hi")

    emu.fail(status=503, code="ServiceUnavailableException", times=1)
    with pytest.raises(ProviderError, match="ServiceUnavailable"):
        asyncio.run(run())


def test_e2e_converse_delegation(emu: Any, emulator_client: Any) -> None:
    model = e2e("llama3", emulator_client, beta_use_converse_api=True, streaming=True)
    assert model.invoke("via converse").text == "via converse"
    assert emu.requests[-1].operation == "ConverseStream"
    assert (
        e2e("llama3", emulator_client, beta_use_converse_api=True).invoke("again").text == "again"
    )
    assert emu.requests[-1].operation == "Converse"


def test_e2e_anthropic_thinking_blocks_stream_and_invoke_alike(
    emu: Any, emulator_client: Any
) -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}}
    model = e2e("anthropic", emulator_client, model_kwargs=thinking)
    emu.script(Reply(text="ok then", reasoning="let me think"))
    emu.script(Reply(text="ok then", reasoning="let me think"))
    message = model.invoke("hi")
    streamed = added(list(model.stream("hi")))
    assert [b["type"] for b in message.content] == ["thinking", "text"]
    assert [{k: v for k, v in b.items() if k != "index"} for b in streamed.content] == (
        message.content
    )
    assert emu.requests[0].body["thinking"] == thinking["thinking"]
    history = format_for("anthropic", "claude").render_chat([HumanMessage("hi"), streamed])
    assert history["messages"][1]["content"] == message.content  # indexes dropped


def test_e2e_nova_tool_config_from_model_kwargs(emu: Any, emulator_client: Any) -> None:
    spec = {"name": "GetWeather", "inputSchema": {"json": GetWeather.model_json_schema()}}
    model = e2e(
        "nova", emulator_client, model_kwargs={"toolConfig": {"tools": [{"toolSpec": spec}]}}
    )
    message = model.invoke('use GetWeather {"city": "Kyiv"}')
    assert message.tool_calls[0]["args"] == {"city": "Kyiv"}
    assert "toolConfig" in emu.requests[-1].body
    streamed = added(list(model.stream('use GetWeather {"city": "Kyiv"}')))
    assert streamed.tool_calls[0]["name"] == "GetWeather"
    assert streamed.tool_calls[0]["args"] == {"city": "Kyiv"}
