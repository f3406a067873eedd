"""Deterministic stand-ins for real models, serializable so manifests and tests can name them.

``FakeChatModel`` answers from a list of canned responses (or echoes the last human
message), streams them in fixed-size pieces or word by word, counts whitespace tokens
as usage, and calls bound tools when asked to. ``FakeEmbeddings`` maps each text to a
unit vector derived from its hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from pydantic import Field, PrivateAttr

from runwire.runtime.models.chat import BaseChatModel
from runwire.runtime.models.embeddings import Embeddings
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from runwire.schema.serializable import Serializable

__all__ = ["FakeChatModel", "FakeEmbeddings"]

_WORDS = re.compile(r"\S+\s*|\s+")
_FORCED = frozenset(("any", "required"))


def _last_human_text(messages: list[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def _tool_results(messages: list[BaseMessage]) -> str | None:
    """The text of the tool results that end the conversation (one per line), or None
    when it does not end with tool results."""
    results: list[str] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        results.append(message.text)
    return "\n".join(reversed(results)) if results else None


def _json_object_in(text: str) -> dict[str, Any]:
    """The first JSON object written in ``text``, or ``{}``."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return {}


def _tool_spec(tool: Any) -> dict[str, Any]:
    if isinstance(tool, dict) and "name" in tool and "parameters" in tool:
        return tool
    from runwire.runtime.models.tools import convert_to_openai_function

    return convert_to_openai_function(tool)


def _choice_name(choice: Any) -> str | None:
    """The tool a ``tool_choice`` names (``"auto"``/``"any"``/... name none)."""
    if isinstance(choice, dict):
        return (choice.get("function") or {}).get("name") or choice.get("name")
    if isinstance(choice, str) and choice not in ("auto", "none", *_FORCED):
        return choice
    return None


class FakeChatModel(BaseChatModel):
    """A chat model that replies deterministically.

    - ``responses``: replies, cycled call after call; when empty, the model echoes the
      text of the last human message (or, when the conversation ends with tool
      results, their text).
    - ``chunk_size``: streaming splits a reply into pieces of that many characters
      (0: word by word, each word with its trailing whitespace).
    - ``usage``: add ``usage_metadata`` (whitespace-separated tokens in and out).
    - ``sleep``: seconds to wait before a reply and before each streamed chunk, to
      stand in for a slow model (async calls wait without blocking the loop).
    - ``tools``/``tool_choice`` (set by ``bind_tools``, or passed as call kwargs): when
      the last human message names a bound tool as a word, or ``tool_choice`` forces
      one, the reply is a call of that tool whose args are the first JSON object in the
      message (else ``{}``); never right after tool results (so an agent loop ends).
      Text replies only consume ``responses``.
    - ``response_format`` (a call kwarg, bound by ``with_structured_output`` with
      ``method="json_mode"``/``"json_schema"``): without ``responses``, the reply is the
      first JSON object in the last human message (else ``{}``), as JSON text.
    """

    responses: list[str] = Field(default_factory=list)
    chunk_size: int = Field(default=0, ge=0)
    usage: bool = False
    tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_choice: str | dict[str, Any] | None = None
    sleep: float = Field(default=0.0, ge=0)

    _index: int = PrivateAttr(default=0)
    _call_count: int = PrivateAttr(default=0)

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """Async calls may run the sync path directly unless it would sleep."""
        return not self.sleep

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    # -- tools ---------------------------------------------------------------------------
    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> FakeChatModel:
        """A copy of this model with ``tools`` bound (provider-only kwargs are ignored)."""
        specs = [_tool_spec(tool) for tool in tools]
        return self.model_copy(update={"tools": specs, "tool_choice": tool_choice})

    def _bind_structured_output(self, spec: Any) -> Any:
        """``json_mode``/``json_schema`` too: bound ``response_format``, the reply is JSON."""
        if spec.method == "function_calling":
            return super()._bind_structured_output(spec)
        response_format: dict[str, Any] = {"type": "json_object"}
        if spec.method == "json_schema":
            name = spec.name_of_answer
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": spec.json_schema, "strict": spec.strict},
            }
        return self.bind(response_format=response_format)

    def _tools_requested(self, kwargs: dict[str, Any]) -> bool:
        return bool(self.tools) or bool(kwargs.get("tools"))

    def _pick_tool(self, text: str, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        tools = kwargs.get("tools")
        specs = [_tool_spec(t) for t in tools] if tools else self.tools
        if not specs:
            return None
        choice = kwargs.get("tool_choice", self.tool_choice)
        if choice == "none":
            return None
        wanted = _choice_name(choice)
        if wanted is not None:
            return next((s for s in specs if s["name"] == wanted), None)
        named = next((s for s in specs if re.search(rf"\b{re.escape(s['name'])}\b", text)), None)
        if named is None and choice in _FORCED:
            return specs[0]
        return named

    # -- replies -------------------------------------------------------------------------
    def _text_reply(self, messages: list[BaseMessage], stop: list[str] | None) -> str:
        if self.responses:
            state = self.__pydantic_private__  # direct: pydantic's private access is slow
            index = state["_index"]  # type: ignore[index]
            state["_index"] = index + 1  # type: ignore[index]
            text = self.responses[index % len(self.responses)]
        else:
            results = _tool_results(messages)
            text = _last_human_text(messages) if results is None else results
        for word in stop or ():
            cut = text.find(word)
            if cut != -1:
                text = text[:cut]
        return text

    def _reply(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[str, dict[str, Any] | None, dict[str, Any]]:
        """(text, tool call or None, message extras) of the next reply."""
        state = self.__pydantic_private__
        count = state["_call_count"] = state["_call_count"] + 1  # type: ignore[index]
        # after tool results, never call a tool again on the strength of the question
        prompt = _last_human_text(messages) if _tool_results(messages) is None else ""
        spec = self._pick_tool(prompt, kwargs)
        call = None
        if spec is not None:
            args = _json_object_in(prompt)
            call = {"name": spec["name"], "args": args, "id": f"call_{count}"}
            text, out_text = "", json.dumps(args)
        elif kwargs.get("response_format") and not self.responses:
            text = out_text = json.dumps(_json_object_in(prompt))
        else:
            text = out_text = self._text_reply(messages, stop)
        extras: dict[str, Any] = {
            "response_metadata": {
                "finish_reason": "tool_calls" if call else "stop",
                "model_name": "fake-chat-model",
            }
        }
        if self.usage:
            tokens_in = sum(len(m.text.split()) for m in messages)
            tokens_out = len(out_text.split())
            extras["usage_metadata"] = {
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            }
        return text, call, extras

    def _pieces(self, text: str) -> list[str]:
        if not text:
            return [""]
        if self.chunk_size:
            return [text[i : i + self.chunk_size] for i in range(0, len(text), self.chunk_size)]
        return _WORDS.findall(text)

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        if self.sleep:
            time.sleep(self.sleep)
        return self._message(messages, stop, kwargs)

    def _message(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AIMessage:
        text, call, extras = self._reply(messages, stop, kwargs)
        return AIMessage(content=text, tool_calls=[call] if call else [], **extras)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        for chunk in self._reply_chunks(messages, stop, kwargs):
            if self.sleep:
                time.sleep(self.sleep)
            yield chunk

    def _reply_chunks(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> Iterator[AIMessageChunk]:
        text, call, extras = self._reply(messages, stop, kwargs)
        if call is not None:
            piece = {"name": call["name"], "args": json.dumps(call["args"]), "id": call["id"]}
            yield AIMessageChunk(content="", tool_call_chunks=[{**piece, "index": 0}], **extras)
            return
        pieces = self._pieces(text)
        for piece in pieces[:-1]:
            yield AIMessageChunk(content=piece)
        yield AIMessageChunk(content=pieces[-1], **extras)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        if self.sleep:
            await asyncio.sleep(self.sleep)
        return self._message(messages, stop, kwargs)

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        for chunk in self._reply_chunks(messages, stop, kwargs):
            if self.sleep:
                await asyncio.sleep(self.sleep)
            yield chunk


class FakeEmbeddings(Serializable, Embeddings):
    """Unit vectors of ``size`` floats derived from a hash of the text (same text, same vector)."""

    size: int = Field(gt=0)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "models"]

    def _vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
        rng = random.Random(seed)
        values = [rng.gauss(0.0, 1.0) for _ in range(self.size)]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return [v / norm for v in values]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self._vector(text)
