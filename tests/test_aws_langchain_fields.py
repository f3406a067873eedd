"""The langchain-aws 1.9 fields of ChatBedrock, BedrockLLM and ChatBedrockConverse do what
they do there: top-level temperature/max_tokens in each family's body, the stop-key maps,
service tier and request metadata, timeouts and retries, Bedrock API keys (bearer auth),
system_prompt_with_tools, Nova through Converse, and Converse's performance_config,
service_tier, output_config, default_headers and reasoning_effort. Real boto3 clients
against the Bedrock emulator."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from runwire.providers.aws.bedrock_base import STOP_REASON_KEYS, STOP_SEQUENCE_KEYS
from runwire.providers.aws.bedrock_chat import ChatBedrock
from runwire.providers.aws.bedrock_llm import BedrockLLM
from runwire.providers.aws.client import build_client
from runwire.providers.aws.converse import ChatBedrockConverse, effort_fields
from runwire.schema.messages import HumanMessage, SystemMessage
from runwire.testing.bedrock import BedrockEmulator, Reply

CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"

FIELD_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "anthropic": (CLAUDE, {"max_tokens": 77, "temperature": 0.25}),
    "titan": (
        "amazon.titan-text-express-v1",
        {"textGenerationConfig": {"maxTokenCount": 77, "temperature": 0.25}},
    ),
    "llama3": ("meta.llama3-8b-instruct-v1:0", {"max_gen_len": 77, "temperature": 0.25}),
    "mistral": ("mistral.mistral-7b-instruct-v0:2", {"max_tokens": 77, "temperature": 0.25}),
    "cohere": ("cohere.command-text-v14", {"max_tokens": 77, "temperature": 0.25}),
    "deepseek": ("us.deepseek.r1-v1:0", {"max_tokens": 77, "temperature": 0.25}),
    "nova": (
        "us.amazon.nova-lite-v1:0",
        {"inferenceConfig": {"maxTokens": 77, "temperature": 0.25}},
    ),
}
"""Family -> (model id, what temperature=0.25, max_tokens=77 become in its body)."""


def chat(client: Any, model: str = CLAUDE, **kwargs: Any) -> ChatBedrock:
    kwargs.setdefault("beta_use_converse_api", False)
    return ChatBedrock(model_id=model, client=client, **kwargs)


def sent(emu: Any) -> dict[str, Any]:
    return emu.requests[-1].body


# -- temperature and max_tokens ---------------------------------------------------------
@pytest.mark.parametrize("family", sorted(FIELD_BODIES))
def test_top_level_fields_go_into_each_family_body(
    family: str, emu: Any, emulator_client: Any
) -> None:
    model_id, expected = FIELD_BODIES[family]
    chat(emulator_client, model_id, temperature=0.25, max_tokens=77).invoke("hello")
    body = sent(emu)
    assert {key: body[key] for key in expected} == expected
    BedrockLLM(model_id=model_id, client=emulator_client, temperature=0.25, max_tokens=77).invoke(
        "hello"
    )
    body = sent(emu)
    assert {key: body[key] for key in expected} == expected


def test_model_kwargs_temperature_and_max_tokens_become_the_fields() -> None:
    model = BedrockLLM(
        model_id=CLAUDE.replace("3-haiku", "v2"),
        model_kwargs={"temperature": 0.4, "max_tokens": 9, "top_p": 0.5},
    )
    assert (model.temperature, model.max_tokens, model.model_kwargs) == (0.4, 9, {"top_p": 0.5})
    kept = ChatBedrock(
        model_id=CLAUDE,
        temperature=0.1,
        max_tokens=5,
        model_kwargs={"temperature": 0.9, "max_tokens": 50},
    )
    assert (kept.temperature, kept.max_tokens, kept.model_kwargs) == (0.1, 5, {})


def test_call_arguments_win_over_the_fields(emu: Any, emulator_client: Any) -> None:
    model = chat(emulator_client, temperature=0.25, max_tokens=77)
    model.invoke("hello", temperature=0.75, max_tokens=11)
    assert (sent(emu)["temperature"], sent(emu)["max_tokens"]) == (0.75, 11)
    model.invoke("hello")
    assert sent(emu)["max_tokens"] == 77
    chat(emulator_client).invoke("hello")
    assert sent(emu)["max_tokens"] == 1024 and "temperature" not in sent(emu)


# -- stop-sequence and stop-reason key maps ----------------------------------------------
def test_default_stop_map_keeps_each_family_documented_key(emu: Any, emulator_client: Any) -> None:
    assert ChatBedrock(model_id=CLAUDE).provider_stop_sequence_key_name_map == STOP_SEQUENCE_KEYS
    chat(emulator_client, "mistral.mistral-7b-instruct-v0:2").invoke("hello", stop=["END"])
    assert sent(emu)["stop"] == ["END"] and "stop_sequences" not in sent(emu)
    chat(emulator_client).invoke("hello", stop=["END"])
    assert sent(emu)["stop_sequences"] == ["END"]


def test_a_changed_stop_map_entry_names_the_body_key(emu: Any, emulator_client: Any) -> None:
    keys = {**STOP_SEQUENCE_KEYS, "mistral": "stop_sequences_v2"}
    model = BedrockLLM(
        model_id="mistral.mistral-7b-instruct-v0:2",
        client=emulator_client,
        provider_stop_sequence_key_name_map=keys,
    )
    model.invoke("hello", stop=["END"])
    assert sent(emu)["stop_sequences_v2"] == ["END"] and "stop" not in sent(emu)
    list(model.stream("hello", stop=["END"]))
    assert sent(emu)["stop_sequences_v2"] == ["END"]


def test_a_changed_stop_reason_entry_is_read_from_the_body() -> None:
    model = BedrockLLM(
        model_id="amazon.titan-text-express-v1",
        provider_stop_reason_key_map={**STOP_REASON_KEYS, "amazon": "why"},
    )
    assert model._stop_reason_key() == "why"
    assert BedrockLLM(model_id="amazon.titan-text-express-v1")._stop_reason_key() is None
    body = {"results": [{"outputText": "x", "completionReason": "FINISH"}], "why": "custom"}
    client = _canned_client({"body": body})
    reply = BedrockLLM(
        model_id="amazon.titan-text-express-v1",
        client=client,
        provider_stop_reason_key_map={**STOP_REASON_KEYS, "amazon": "why"},
    ).complete("hi")
    assert reply.stop_reason == "custom"


# -- request options ------------------------------------------------------------------------
def test_service_tier_and_request_metadata_are_sent(emu: Any, emulator_client: Any) -> None:
    model = chat(emulator_client, service_tier="flex", request_metadata={"team": "a"})
    model.invoke("hello")
    headers = emu.requests[-1].headers
    assert headers["x-amzn-bedrock-service-tier"] == "flex"
    assert json.loads(headers["x-amzn-bedrock-request-metadata"]) == {"team": "a"}
    list(model.stream("hello"))
    assert emu.requests[-1].headers["x-amzn-bedrock-service-tier"] == "flex"
    with pytest.raises(ValueError):
        ChatBedrock(model_id=CLAUDE, service_tier="fastest")


@pytest.mark.parametrize("config", [None, {"read_timeout": 99, "connect_timeout": 99}])
def test_timeout_and_max_retries_merge_over_config(config: Any) -> None:
    model = ChatBedrock(
        model_id=CLAUDE,
        region_name="us-east-1",
        aws_access_key_id="AKIDX",
        aws_secret_access_key="secret",
        timeout=7,
        max_retries=3,
        config=config,
    )
    settings = model.aws_client().meta.config
    assert (settings.connect_timeout, settings.read_timeout) == (7, 7)  # over config's 99
    assert settings.retries["total_max_attempts"] == 4  # 3 retries after the first try
    converse = ChatBedrockConverse(
        model=CLAUDE,
        region_name="us-east-1",
        aws_access_key_id="AKIDX",
        aws_secret_access_key="secret",
        timeout=4,
    )
    assert converse.aws_client().meta.config.read_timeout == 4


class _Raw(io.BytesIO):
    """A urllib3-like raw body for an in-process botocore response."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.data = data

    def stream(self, amt: int = 1024, **_: Any) -> Iterator[bytes]:
        yield self.data


def _canned_client(payload: dict[str, Any], seen: list[Any] | None = None, **kwargs: Any) -> Any:
    """A real client whose requests are answered in-process (kept in ``seen``)."""
    client = kwargs.pop("client", None) or boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKIDX",
        aws_secret_access_key="secret",
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        if seen is not None:
            seen.append(request)
        raw = _Raw(json.dumps(payload["body"]).encode())
        headers = {"content-type": "application/json", "content-length": str(len(raw.data))}
        return AWSResponse(request.url, 200, headers, raw)

    client.meta.events.register("before-send.bedrock-runtime.*", answer)
    return client


def test_api_key_signs_with_a_bearer_token_and_no_aws_keys() -> None:
    client = build_client(
        "bedrock-runtime", region_name="us-east-1", bedrock_api_key="bedrock-api-key-example"
    )
    seen: list[Any] = []
    _canned_client({"body": {"content": [{"type": "text", "text": "ok"}]}}, seen, client=client)
    reply = ChatBedrock(model_id=CLAUDE, client=client).invoke("hi")
    assert reply.content == "ok"
    authorization = seen[0].headers["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    assert authorization == "Bearer bedrock-api-key-example"
    assert "X-Amz-Date" not in seen[0].headers  # no SigV4


def test_api_key_field_builds_a_bearer_client_and_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "from-the-environment")
    assert ChatBedrock(model_id=CLAUDE).bedrock_api_key.get_secret_value() == "from-the-environment"
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK")
    model = ChatBedrockConverse(
        model=CLAUDE, region_name="us-east-1", api_key="bedrock-api-key-example"
    )
    assert "bedrock-api-key-example" not in repr(model)
    client = model.aws_client()
    assert client.meta.config.auth_scheme_preference == "httpBearerAuth"
    assert model.to_json()["kwargs"]["bedrock_api_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AWS_BEARER_TOKEN_BEDROCK"],
    }


def test_emulator_takes_known_api_keys_only() -> None:
    import http.client

    with BedrockEmulator(credentials={}, api_keys=["good-key"]) as emu:
        for token, status in (("good-key", 200), ("bad-key", 403)):
            connection = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
            body = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]})
            connection.request(
                "POST",
                f"/model/{CLAUDE}/converse",
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            assert response.status == status
        assert [r.access_key_id for r in emu.requests] == [None]


# -- ChatBedrock specifics ----------------------------------------------------------------
def test_system_prompt_with_tools_goes_first(emu: Any, emulator_client: Any) -> None:
    model = chat(emulator_client, system_prompt_with_tools="Tools first.")
    model.invoke("hello")
    assert sent(emu)["system"] == "Tools first."
    model.invoke([SystemMessage("Be brief."), HumanMessage("hello")])
    assert sent(emu)["system"] == "Tools first.\nBe brief."
    cached = SystemMessage(
        [{"type": "text", "text": "Cached.", "cache_control": {"type": "ephemeral"}}]
    )
    model.invoke([cached, HumanMessage("hello")])
    assert sent(emu)["system"][0] == {"type": "text", "text": "Tools first."}
    chat(
        emulator_client, "meta.llama3-8b-instruct-v1:0", system_prompt_with_tools="TOOLS-FIRST"
    ).invoke("hello")
    assert "TOOLS-FIRST" not in sent(emu)["prompt"]  # Anthropic only, as in langchain-aws


def test_nova_goes_through_converse_unless_told(emu: Any, emulator_client: Any) -> None:
    assert ChatBedrock(model_id="us.amazon.nova-lite-v1:0").beta_use_converse_api is True
    assert ChatBedrock(model="amazon.nova-pro-v1:0").beta_use_converse_api is True
    assert ChatBedrock(
        model_id="arn:x", provider="amazon", base_model_id="amazon.nova-pro-v1:0"
    ).beta_use_converse_api
    assert ChatBedrock(model_id=CLAUDE).beta_use_converse_api is False
    model = ChatBedrock(
        model_id="us.amazon.nova-lite-v1:0",
        client=emulator_client,
        temperature=0.5,
        service_tier="flex",
    )
    model.invoke("hello")
    assert emu.requests[-1].operation == "Converse"
    assert sent(emu)["inferenceConfig"] == {"temperature": 0.5}
    assert sent(emu)["serviceTier"] == {"type": "flex"}
    chat(emulator_client, "us.amazon.nova-lite-v1:0").invoke("hello")
    assert emu.requests[-1].operation == "InvokeModel"


def test_tool_call_content_is_the_text(emu: Any, emulator_client: Any) -> None:
    emu.script(Reply(text="Checking.", tool_use={"name": "lookup", "input": {"q": "x"}}))
    tool = {
        "name": "lookup",
        "description": "Look up.",
        "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
    }
    message = chat(emulator_client).bind_tools([tool]).invoke("use lookup")
    assert message.content == "Checking."
    assert message.tool_calls[0]["name"] == "lookup"


# -- ChatBedrockConverse fields ---------------------------------------------------------------
def converse(client: Any, **kwargs: Any) -> ChatBedrockConverse:
    return ChatBedrockConverse(model=CLAUDE, client=client, **kwargs)


OUTPUT_CONFIG = {
    "textFormat": {
        "type": "json_schema",
        "structure": {"jsonSchema": {"schema": '{"type": "object"}', "name": "answer"}},
    }
}


def test_converse_request_options_from_fields_and_calls(emu: Any, emulator_client: Any) -> None:
    model = converse(
        emulator_client,
        performance_config={"latency": "optimized"},
        service_tier="priority",
        output_config=OUTPUT_CONFIG,
    )
    model.invoke("hello")
    body = sent(emu)
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["serviceTier"] == {"type": "priority"}
    assert body["outputConfig"] == OUTPUT_CONFIG
    model.invoke("hello", service_tier="flex", performance_config={"latency": "standard"})
    assert sent(emu)["serviceTier"] == {"type": "flex"}
    assert sent(emu)["performanceConfig"] == {"latency": "standard"}
    list(model.stream("hello"))
    assert emu.requests[-1].operation == "ConverseStream"
    assert sent(emu)["serviceTier"] == {"type": "priority"}


def test_converse_default_headers_reach_the_service(emu: Any, emulator_client: Any) -> None:
    model = converse(emulator_client, default_headers={"x-team": "search"})
    model.invoke("hello")
    list(model.stream("hello"))
    assert [r.headers.get("x-team") for r in emu.requests] == ["search", "search"]
    model.invoke("again")
    assert emu.requests[-1].headers.get("x-team") == "search"


def test_converse_streaming_field_streams_on_invoke(emu: Any, emulator_client: Any) -> None:
    message = converse(emulator_client, streaming=True).invoke("hello there")
    assert emu.requests[-1].operation == "ConverseStream"
    assert message.text == "hello there"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            "amazon.nova-2-lite-v1:0",
            {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}},
        ),
        (
            "anthropic.claude-opus-4-6-v1",
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}},
        ),
        ("openai.gpt-oss-120b-1:0", {"reasoning_effort": "high"}),
        ("openai.gpt-5", {"reasoning": {"effort": "high"}}),
        ("moonshot.kimi-k2", {"reasoning_effort": "high"}),
        ("meta.llama3-8b-instruct-v1:0", {}),
    ],
)
def test_reasoning_effort_in_each_family_terms(model: str, expected: dict[str, Any]) -> None:
    assert effort_fields(model, "high") == expected


def test_reasoning_effort_is_sent_and_explicit_fields_win(emu: Any, emulator_client: Any) -> None:
    model = ChatBedrockConverse(
        model="us.anthropic.claude-opus-4-6-v1",
        client=emulator_client,
        reasoning_effort="low",
        additional_model_request_fields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    model.invoke("hello")
    assert sent(emu)["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "output_config": {"effort": "low"},
    }
    with pytest.warns(UserWarning, match="reasoning_effort is not supported"):
        ChatBedrockConverse(
            model="meta.llama3-8b-instruct-v1:0", client=emulator_client, reasoning_effort="high"
        ).invoke("hello")
    assert "additionalModelRequestFields" not in sent(emu)


def test_chat_stream_metadata_as_langchain_aws_streams_it(emu: Any, emulator_client: Any) -> None:
    """Anthropic: the stop sequence (None) with the stop reason; other families: Bedrock's
    invocation metrics; both: input_token_details with the usage."""
    chunks = list(chat(emulator_client).stream("hello there friend"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.response_metadata["stop_reason"] == "end_turn"
    assert "stop_sequence" in total.response_metadata
    assert total.response_metadata["stop_sequence"] is None
    assert total.usage_metadata["input_token_details"] == {"cache_read": 0, "cache_creation": 0}
    chunks = list(chat(emulator_client, "meta.llama3-8b-instruct-v1:0").stream("hello there"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    metrics = total.response_metadata["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == total.usage_metadata["output_tokens"] == 2
    assert "stop_sequence" not in total.response_metadata


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("amazon.titan-embed-text-v2:0", {"dimensions": 256}),
        ("cohere.embed-v4:0", {"output_dimension": 256}),
        ("cohere.embed-english-v3", {}),
    ],
)
def test_embeddings_dimensions_under_each_model_key(
    model_id: str, expected: dict[str, Any], emu: Any, emulator_client: Any
) -> None:
    from runwire.providers.aws.embeddings import BedrockEmbeddings

    model = BedrockEmbeddings(model_id=model_id, client=emulator_client, dimensions=256)
    model.embed_query("hello")
    body = sent(emu)
    assert {k: body[k] for k in ("dimensions", "output_dimension") if k in body} == expected


# -- chat-completions and Writer families over InvokeModel ----------------------------------
CHAT_COMPLETIONS = {
    "openai.gpt-oss-120b-1:0": "max_completion_tokens",
    "qwen.qwen3-32b-v1:0": "max_tokens",
    "ai21.jamba-1-5-large-v1:0": "max_tokens",
    "mistral.mistral-large-2407-v1:0": "max_tokens",
    "us.mistral.pixtral-large-2502-v1:0": "max_tokens",
}


@pytest.mark.parametrize("model_id", sorted(CHAT_COMPLETIONS))
def test_chat_completions_families(model_id: str, emu: Any, emulator_client: Any) -> None:
    model = chat(emulator_client, model_id, temperature=0.2, max_tokens=50)
    prompt = [SystemMessage("Be brief."), HumanMessage("hello there friend")]
    message = model.invoke(prompt, stop=["END"])
    assert sent(emu) == {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hello there friend"},
        ],
        "temperature": 0.2,
        CHAT_COMPLETIONS[model_id]: 50,
        "stop": ["END"],
    }
    assert message.content == "hello there friend"
    assert message.response_metadata["stop_reason"] == "stop"
    assert message.usage_metadata["output_tokens"] == 3
    chunks = list(model.stream(prompt))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.content == "hello there friend"
    assert total.response_metadata["stop_reason"] == "stop"
    assert total.usage_metadata["output_tokens"] == 3
    assert BedrockLLM(model_id=model_id, client=emulator_client).invoke("hi there") == "hi there"
    assert sent(emu)["messages"] == [{"role": "user", "content": "hi there"}]


def test_chat_completions_tool_history_and_tool_calls(emu: Any, emulator_client: Any) -> None:
    from runwire.schema.messages import AIMessage, ToolMessage

    call = {"name": "lookup", "args": {"q": "x"}, "id": "call_1", "type": "tool_call"}
    history = [
        HumanMessage("find x"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("found", tool_call_id="call_1"),
    ]
    emu.script(Reply(text="", tool_use={"name": "lookup", "input": {"q": "y"}, "id": "call_2"}))
    message = chat(emulator_client, "openai.gpt-oss-120b-1:0").invoke(history)
    assert sent(emu)["messages"][1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"q": "x"}'},
                }
            ],
        },
        {"role": "tool", "content": "found", "tool_call_id": "call_1"},
    ]
    assert message.tool_calls == [
        {"name": "lookup", "args": {"q": "y"}, "id": "call_2", "type": "tool_call"}
    ]


def test_writer_prompt_and_done_chunk(emu: Any, emulator_client: Any) -> None:
    model = chat(emulator_client, "writer.palmyra-x5-v1:0")
    message = model.invoke([SystemMessage("Be brief."), HumanMessage("hello there friend")])
    assert sent(emu)["prompt"] == "<<SYS>> Be brief. <</SYS>>\n[INST] hello there friend [/INST]"
    assert message.content == "hello there friend"
    llm = BedrockLLM(model_id="writer.palmyra-x5-v1:0", client=_WriterStream())
    assert list(llm.stream("hi")) == ["one ", "two"]  # what follows "[DONE]" is not read


class _WriterStream:
    """A client whose stream is Writer's: text chunks, then a ``"[DONE]"`` chunk."""

    def invoke_model_with_response_stream(self, **params: Any) -> dict[str, Any]:
        texts = [b'{"choices": [{"text": "one "}]}', b'{"choices": [{"text": "two"}]}']
        chunks = [*texts, b'"[DONE]"', b'{"choices": [{"text": "never"}]}']
        return {"body": [{"chunk": {"bytes": chunk}} for chunk in chunks]}
