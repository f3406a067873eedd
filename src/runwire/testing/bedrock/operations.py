"""The emulated operations, as functions from a parsed request to a response.

Each returns a :class:`Result`: a JSON body, or a list of event-stream events, plus
response headers. Errors are raised as :class:`~runwire.testing.bedrock.faults.ServiceError`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runwire.testing.bedrock import converse as conv
from runwire.testing.bedrock.embeddings import (
    embedding_response,
    embedding_texts,
    is_embedding_model,
)
from runwire.testing.bedrock.faults import validation_error
from runwire.testing.bedrock.formats import format_for, response_body, stream_chunks
from runwire.testing.bedrock.knowledge_bases import retrieve_response
from runwire.testing.bedrock.replies import Answer, Prompt, Script, answer, count_words
from runwire.testing.bedrock.rerank import rerank_response

__all__ = ["OPERATIONS", "Call", "Result"]

Event = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One request to an operation: what it names and carries."""

    model_id: str
    body: Mapping[str, Any]
    headers: Mapping[str, str]
    script: Script
    consume: bool = True
    """False for a request that fails mid-stream: it peeks at the script."""
    latency_ms: int = 100
    embedding_latency_ms: int = 20
    knowledge_bases: Mapping[str, Any] = field(default_factory=dict)
    """Knowledge base id -> its corpus (Retrieve)."""


@dataclass
class Result:
    """A response: a JSON ``body`` or stream ``events``, and extra headers."""

    body: Any = None
    events: list[Event] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _answer(call: Call, prompt: Prompt, guardrail: str | None, trace: bool) -> Answer:
    return answer(
        prompt,
        call.model_id,
        call.script,
        guardrail=guardrail,
        trace=trace,
        consume=call.consume,
        latency_ms=call.latency_ms,
    )


# -- Converse --------------------------------------------------------------------------
def _converse_answer(call: Call) -> Answer:
    guardrail, trace = conv.guardrail_of(call.body)
    return _answer(call, conv.read_prompt(call.body), guardrail, trace)


def converse(call: Call) -> Result:
    """Converse: one answer."""
    return Result(body=conv.converse_response(_converse_answer(call), call.body))


def converse_stream(call: Call) -> Result:
    """ConverseStream: the answer as events."""
    return Result(events=conv.converse_events(_converse_answer(call), call.body))


# -- InvokeModel -----------------------------------------------------------------------
def _invoke_guardrail(headers: Mapping[str, str]) -> tuple[str | None, bool]:
    guardrail = headers.get("x-amzn-bedrock-guardrailidentifier") or None
    trace = headers.get("x-amzn-bedrock-trace", "").upper() in ("ENABLED", "ENABLED_FULL")
    return guardrail, trace


def _usage_headers(input_tokens: int, output_tokens: int, latency: int) -> dict[str, str]:
    return {
        "X-Amzn-Bedrock-Input-Token-Count": str(input_tokens),
        "X-Amzn-Bedrock-Output-Token-Count": str(output_tokens),
        "X-Amzn-Bedrock-Invocation-Latency": str(latency),
    }


def invoke(call: Call) -> Result:
    """InvokeModel: an embedding, or an answer in the model's own format."""
    if is_embedding_model(call.model_id):
        body = embedding_response(call.model_id, call.body)
        tokens = count_words(*embedding_texts(call.model_id, call.body))
        headers = _usage_headers(tokens, 0, call.embedding_latency_ms)
        return Result(body=body, headers=headers)
    fmt = format_for(call.model_id, call.body)
    reply = _answer(call, fmt.read(call.body), *_invoke_guardrail(call.headers))
    headers = _usage_headers(reply.input_tokens, reply.output_tokens, call.latency_ms)
    return Result(body=response_body(fmt, reply, call.body), headers=headers)


def _chunk(chunk: dict[str, Any]) -> Event:
    raw = json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return ("chunk", {"bytes": base64.b64encode(raw).decode("ascii")})


def invoke_stream(call: Call) -> Result:
    """InvokeModelWithResponseStream: the answer as ``chunk`` events."""
    if is_embedding_model(call.model_id):
        raise validation_error("The model is unsupported for streaming.")
    fmt = format_for(call.model_id, call.body)
    reply = _answer(call, fmt.read(call.body), *_invoke_guardrail(call.headers))
    events = [_chunk(chunk) for chunk in stream_chunks(fmt, reply, call.body)]
    return Result(events=events, headers={"X-Amzn-Bedrock-Content-Type": "application/json"})


# -- CountTokens -----------------------------------------------------------------------
def _converse_texts(body: Mapping[str, Any]) -> tuple[str, ...]:
    if body.get("messages"):
        return conv.read_prompt(body).texts
    return tuple(block.get("text", "") for block in body.get("system") or ())


def count_tokens(call: Call) -> Result:
    """CountTokens: the words of a Converse or InvokeModel request."""
    source = call.body.get("input")
    if not isinstance(source, Mapping) or len(source) != 1:
        raise validation_error("input must hold exactly one of converse or invokeModel")
    if "converse" in source:
        texts = _converse_texts(source["converse"])
    elif "invokeModel" in source:
        try:
            body = json.loads(base64.b64decode(source["invokeModel"]["body"]))
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise validation_error("input.invokeModel.body must be a JSON request body") from None
        if not isinstance(body, dict):
            raise validation_error("input.invokeModel.body must be a JSON object")
        if is_embedding_model(call.model_id):
            texts = tuple(embedding_texts(call.model_id, body))
        else:
            texts = format_for(call.model_id, body).read(body).texts
    else:
        raise validation_error(f"unknown input member {next(iter(source))!r}")
    return Result(body={"inputTokens": count_words(*texts)})


# -- Rerank ----------------------------------------------------------------------------
def rerank(call: Call) -> Result:
    """Rerank (bedrock-agent-runtime)."""
    return Result(body=rerank_response(call.body))


# -- Retrieve (Knowledge Bases) --------------------------------------------------------
def retrieve(call: Call) -> Result:
    """Retrieve (bedrock-agent-runtime): the knowledge base named in the path."""
    return Result(body=retrieve_response(call.knowledge_bases, call.model_id, call.body))


OPERATIONS: dict[str, Callable[[Call], Result]] = {
    "Converse": converse,
    "ConverseStream": converse_stream,
    "InvokeModel": invoke,
    "InvokeModelWithResponseStream": invoke_stream,
    "CountTokens": count_tokens,
    "Rerank": rerank,
    "Retrieve": retrieve,
}
"""Operation name -> its implementation."""

MODEL_CALLS = frozenset(
    ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")
)
"""The operations that run a model (what ``simulate_latency`` delays)."""


def simulated_latency(operation: str, call: Call) -> float:
    """Seconds a model call takes when the emulator simulates latency (0 for others)."""
    if operation not in MODEL_CALLS:
        return 0.0
    embedding = operation == "InvokeModel" and is_embedding_model(call.model_id)
    return (call.embedding_latency_ms if embedding else call.latency_ms) / 1000
