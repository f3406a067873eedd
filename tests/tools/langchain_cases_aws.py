"""The AWS Bedrock cases of ``write_langchain_fixtures.py`` (langchain-aws objects).

Each model case also runs once against a stubbed bedrock-runtime client (``bedrock``
probes): the fixture records the request LangChain sent and the message it returned.
"""

from __future__ import annotations

from typing import Any

from langchain_cases import Case, Probe, attrs

AWS_SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEFIXTURE00",
    "AWS_SECRET_ACCESS_KEY": "fixture-secret-key-not-real",
    "AWS_SESSION_TOKEN": "fixture-session-token-not-real",
}
"""Fake credentials: written by LangChain as secret nodes, given back as ``secrets_map``."""
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"


def converse_reply(*content: dict[str, Any], stop: str = "end_turn") -> Probe:
    """An ``invoke("hello")`` answered by a Converse response."""
    response = {
        "output": {"message": {"role": "assistant", "content": list(content)}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
        "metrics": {"latencyMs": 100},
    }
    return Probe("invoke", ("hello",), bedrock={"operation": "converse", "response": response})


def invoke_model_reply(body: dict[str, Any], value: Any = "hello") -> Probe:
    """An ``invoke(value)`` answered by an InvokeModel response with token-count headers."""
    headers = {"x-amzn-bedrock-input-token-count": "12", "x-amzn-bedrock-output-token-count": "3"}
    reply = {"operation": "invoke_model", "body": body, "headers": headers}
    return Probe("invoke", (value,), bedrock=reply)


def stream_reply(operation: str, key: str, items: list[Any], value: Any = "hello") -> Probe:
    """A ``stream(value)`` answered by a streaming operation (``events`` or ``chunks``)."""
    return Probe("stream", (value,), bedrock={"operation": operation, key: items})


CONVERSE_TEXT_EVENTS = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "hi"}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": " there"}, "contentBlockIndex": 0}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"messageStop": {"stopReason": "end_turn"}},
    {
        "metadata": {
            "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
            "metrics": {"latencyMs": 100},
        }
    },
]
CONVERSE_TOOL_EVENTS = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "let me look"}, "contentBlockIndex": 0}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {
        "contentBlockStart": {
            "start": {"toolUse": {"toolUseId": "tu_1", "name": "lookup"}},
            "contentBlockIndex": 1,
        }
    },
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"q": '}}, "contentBlockIndex": 1}},
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '"x"}'}}, "contentBlockIndex": 1}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {"messageStop": {"stopReason": "tool_use"}},
    {
        "metadata": {
            "usage": {"inputTokens": 12, "outputTokens": 3, "totalTokens": 15},
            "metrics": {"latencyMs": 100},
        }
    },
]
CLAUDE_STREAM = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-3-haiku-20240307",
            "stop_reason": None,
            "usage": {"input_tokens": 12, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 3},
    },
    {
        "type": "message_stop",
        "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 12,
            "outputTokenCount": 3,
            "invocationLatency": 100,
            "firstByteLatency": 50,
        },
    },
]
TITAN_STREAM = [
    {"outputText": "hi", "index": 0, "totalOutputTextTokenCount": 1, "completionReason": None},
    {
        "outputText": " there",
        "index": 0,
        "totalOutputTextTokenCount": 3,
        "completionReason": "FINISH",
        "inputTextTokenCount": 12,
        "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 12,
            "outputTokenCount": 3,
            "invocationLatency": 100,
            "firstByteLatency": 50,
        },
    },
]
LLAMA_TEXT = {
    "generation": "hi there",
    "prompt_token_count": 12,
    "generation_token_count": 3,
    "stop_reason": "stop",
}
MISTRAL_TEXT = {"outputs": [{"text": "hi there", "stop_reason": "stop"}]}
PROVIDER_MODELS = {
    "llama": ("meta.llama3-8b-instruct-v1:0", LLAMA_TEXT),
    "mistral": ("mistral.mistral-7b-instruct-v0:2", MISTRAL_TEXT),
}
"""Other providers behind InvokeModel: model id and a reply."""
CLAUDE_TEXT = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "hi there"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 12, "output_tokens": 3},
}
CLAUDE_TOOL = {
    **CLAUDE_TEXT,
    "content": [
        {"type": "text", "text": "let me look"},
        {"type": "tool_use", "id": "tu_1", "name": "lookup", "input": {"q": "x"}},
    ],
    "stop_reason": "tool_use",
}
TITAN_TEXT = {
    "inputTextTokenCount": 12,
    "results": [{"tokenCount": 3, "outputText": "hi there", "completionReason": "FINISH"}],
}


def aws_cases() -> list[Case]:
    from langchain_aws import BedrockLLM, ChatBedrock, ChatBedrockConverse
    from langchain_core import messages as m
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
    from langchain_core.runnables import ConfigurableField

    hello = PromptTemplate.from_template("Hello {name}!")
    chat = ChatPromptTemplate.from_messages(
        [("system", "You are {role}."), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    tools = [
        {
            "name": "lookup",
            "description": "Look a word up.",
            "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
        }
    ]

    def bedrock_keys() -> dict[str, Any]:
        return {
            "aws_access_key_id": AWS_SECRETS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": AWS_SECRETS["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": AWS_SECRETS["AWS_SESSION_TOKEN"],
        }

    def converse(**kw: Any) -> Any:
        return ChatBedrockConverse(model=CLAUDE, region_name="us-east-1", **kw)

    def chat_bedrock(**kw: Any) -> Any:
        return ChatBedrock(model_id=CLAUDE, region_name="us-east-1", **kw)

    def bedrock_llm(**kw: Any) -> Any:
        return BedrockLLM(model_id="amazon.titan-text-express-v1", region_name="us-east-1", **kw)

    def chat_bedrock_model(model_id: str) -> Any:
        return ChatBedrock(
            model_id=model_id, region_name="us-east-1", max_tokens=50, temperature=0.1
        )

    model_attrs = attrs("model_id", "region_name")
    return [
        Case(
            "chat_bedrock_converse",
            lambda: converse(),
            [
                *model_attrs,
                *attrs("provider"),
                converse_reply({"text": "hi there"}),
                stream_reply("converse_stream", "events", CONVERSE_TEXT_EVENTS),
            ],
        ),
        Case(
            "chat_bedrock_converse_full",
            lambda: converse(
                temperature=0.2,
                max_tokens=256,
                top_p=0.9,
                stop=["\n\nHuman:"],
                additional_model_request_fields={"top_k": 5},
                guardrail_config={"guardrailIdentifier": "g1", "guardrailVersion": "1"},
                performance_config={"latency": "optimized"},
                **bedrock_keys(),
            ),
            [
                *model_attrs,
                *attrs("temperature", "max_tokens", "top_p", "stop_sequences"),
                converse_reply({"text": "fine"}, stop="max_tokens"),
            ],
            AWS_SECRETS,
        ),
        Case(
            "chat_bedrock_converse_tools",
            lambda: converse().bind_tools(tools),
            [
                converse_reply(
                    {"text": "let me look"},
                    {"toolUse": {"toolUseId": "tu_1", "name": "lookup", "input": {"q": "x"}}},
                    stop="tool_use",
                ),
                stream_reply("converse_stream", "events", CONVERSE_TOOL_EVENTS),
            ],
        ),
        Case(
            "chat_bedrock",
            lambda: chat_bedrock(),
            [
                *model_attrs,
                *attrs("model_kwargs"),
                invoke_model_reply(CLAUDE_TEXT),
                stream_reply("invoke_model_with_response_stream", "chunks", CLAUDE_STREAM),
            ],
        ),
        Case(
            "chat_bedrock_full",
            lambda: chat_bedrock(
                temperature=0.3,
                max_tokens=100,
                model_kwargs={"top_k": 3},
                streaming=True,
                **bedrock_keys(),
            ),
            [*model_attrs, *attrs("model_kwargs", "temperature", "max_tokens", "streaming")],
            AWS_SECRETS,
        ),
        Case(
            "chat_bedrock_tools",
            lambda: chat_bedrock().bind_tools(tools),
            [invoke_model_reply(CLAUDE_TOOL)],
        ),
        Case(
            "chat_bedrock_system",
            lambda: chat_bedrock(temperature=0.1, max_tokens=50),
            [invoke_model_reply(CLAUDE_TEXT, [m.SystemMessage("be brief"), m.HumanMessage("hi")])],
        ),
        Case(
            "bedrock_llm",
            lambda: bedrock_llm(),
            [
                *model_attrs,
                *attrs("model_kwargs"),
                invoke_model_reply(TITAN_TEXT),
                stream_reply("invoke_model_with_response_stream", "chunks", TITAN_STREAM),
            ],
        ),
        Case(
            "bedrock_llm_full",
            lambda: bedrock_llm(
                temperature=0.5,
                max_tokens=64,
                model_kwargs={"topP": 0.9},
                **bedrock_keys(),
            ),
            [
                *model_attrs,
                *attrs("model_kwargs", "temperature", "max_tokens"),
                invoke_model_reply(TITAN_TEXT),
            ],
            AWS_SECRETS,
        ),
        Case(
            "bedrock_chain",
            lambda: chat | converse(temperature=0.0) | StrOutputParser(),
        ),
        Case(
            "bedrock_chain_fallbacks",
            lambda: hello | bedrock_llm().with_fallbacks([chat_bedrock()]),
        ),
        Case(
            "bedrock_configurable_model",
            lambda: converse().configurable_fields(
                temperature=ConfigurableField(id="temp", name="Temperature")
            ),
        ),
        Case(
            "chat_bedrock_converse_endpoint",
            lambda: converse(
                endpoint_url="https://bedrock-runtime.us-west-2.amazonaws.com",
                disable_streaming=True,
                request_metadata={"team": "a"},
                additional_model_response_field_paths=["/stop_sequence"],
                model_kwargs={"top_k": 2},
            ),
            [*model_attrs, *attrs("endpoint_url", "disable_streaming")],
        ),
        Case(
            "chat_bedrock_converse_arn",
            lambda: ChatBedrockConverse(
                model="arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x",
                provider="anthropic",
                base_model_id="anthropic.claude-3-haiku-20240307-v1:0",
                region_name="us-east-1",
            ),
            attrs("model_id", "provider"),
        ),
        Case(
            "chat_bedrock_guardrails",
            lambda: chat_bedrock(
                guardrails={"guardrailIdentifier": "g1", "guardrailVersion": "2", "trace": True},
            ),
            [*model_attrs, *attrs("guardrails")],
        ),
        Case(
            "chat_bedrock_beta_converse",
            lambda: chat_bedrock(beta_use_converse_api=True, temperature=0.2),
            [
                *model_attrs,
                converse_reply({"text": "hi there"}),
            ],
        ),
        Case(
            "bedrock_llm_streaming_provider",
            lambda: BedrockLLM(
                model_id="arn:aws:bedrock:us-east-1:123456789012:custom-model/x",
                provider="amazon",
                region_name="us-east-1",
                streaming=True,
            ),
            attrs("model_id", "provider", "streaming"),
        ),
        Case(
            "chat_bedrock_converse_structured_output",
            lambda: converse().with_structured_output(
                {"title": "Person", "type": "object", "properties": {"name": {"type": "string"}}}
            ),
        ),
        *(
            Case(
                f"chat_bedrock_{name}",
                lambda model_id=model_id: chat_bedrock_model(model_id),
                [invoke_model_reply(body, [m.SystemMessage("be brief"), m.HumanMessage("hi")])],
            )
            for name, (model_id, body) in PROVIDER_MODELS.items()
        ),
        *(
            Case(
                f"bedrock_llm_{name}",
                lambda model_id=model_id: BedrockLLM(
                    model_id=model_id, region_name="us-east-1", max_tokens=50
                ),
                [invoke_model_reply(body)],
            )
            for name, (model_id, body) in PROVIDER_MODELS.items()
        ),
        Case(
            "chat_bedrock_titan_chat",
            lambda: chat_bedrock_model("amazon.titan-text-express-v1"),
            [invoke_model_reply(TITAN_TEXT, [m.SystemMessage("be brief"), m.HumanMessage("hi")])],
        ),
        Case(
            "chat_bedrock_nova",
            lambda: chat_bedrock_model("amazon.nova-lite-v1:0"),
            [converse_reply({"text": "hi there"})],
        ),
    ]
