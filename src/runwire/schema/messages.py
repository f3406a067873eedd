"""Chat messages and their streamed chunks (LangChain's message classes, as plain data).

Content is a string or a list of content blocks (strings or dicts). Chunks add with
``+`` the way LangChain's do, so a stream summed here equals the stream summed there.

Content, ``additional_kwargs``, ``response_metadata``, tool calls, usage and extra kwargs
are user data (``lc_data_fields``): loading never builds an object inside them, where
LangChain would. A dict with an ``"lc"`` key there is written escaped and read back as
that dict; a constructor node there is refused. ``ToolMessage.artifact`` may hold objects.

``BaseMessage``, ``BaseMessageChunk`` and the typed dicts live in
``runwire.schema.message_base`` and are re-exported here.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from runwire.schema.merge import (
    add_usage,
    merge_content,
    merge_dicts,
    merge_lists,
    merge_obj,
    parse_partial_json,
)
from runwire.schema.message_base import (
    BaseMessage,
    BaseMessageChunk,
    Content,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
    UsageMetadata,
    _chunk_operands,
)
from runwire.schema.nodes import SerializedConstructor, SerializedNotImplemented

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "AnyMessage",
    "BaseMessage",
    "BaseMessageChunk",
    "ChatMessage",
    "ChatMessageChunk",
    "FunctionMessage",
    "FunctionMessageChunk",
    "HumanMessage",
    "HumanMessageChunk",
    "InvalidToolCall",
    "RemoveMessage",
    "SystemMessage",
    "SystemMessageChunk",
    "ToolCall",
    "ToolCallChunk",
    "ToolMessage",
    "ToolMessageChunk",
    "UsageMetadata",
    "message_chunk_to_message",
]


class HumanMessage(BaseMessage):
    """A message from the user."""

    type: Literal["human"] = "human"


class HumanMessageChunk(HumanMessage, BaseMessageChunk):
    """A streamed piece of a human message."""

    type: Literal["HumanMessageChunk"] = "HumanMessageChunk"  # type: ignore[assignment]


class SystemMessage(BaseMessage):
    """Instructions for the model."""

    type: Literal["system"] = "system"


class SystemMessageChunk(SystemMessage, BaseMessageChunk):
    """A streamed piece of a system message."""

    type: Literal["SystemMessageChunk"] = "SystemMessageChunk"  # type: ignore[assignment]


class ChatMessage(BaseMessage):
    """A message from a speaker named by ``role`` (any role, not only human/ai/system)."""

    role: str
    """The speaker of the message."""
    type: Literal["chat"] = "chat"


class ChatMessageChunk(ChatMessage, BaseMessageChunk):
    """A streamed piece of a chat message; pieces that are chat chunks must share the role."""

    type: Literal["ChatMessageChunk"] = "ChatMessageChunk"  # type: ignore[assignment]

    def _merged_extras(self, others: list[BaseMessageChunk]) -> dict[str, Any]:
        for other in others:
            if isinstance(other, ChatMessageChunk) and other.role != self.role:
                raise ValueError("Cannot concatenate ChatMessageChunks with different roles.")
        return {**super()._merged_extras(others), "role": self.role}


class FunctionMessage(BaseMessage):
    """The result of a function call (the older form of ``ToolMessage``, without an id)."""

    name: str  # type: ignore[assignment]
    """The name of the function that was executed."""
    type: Literal["function"] = "function"


class FunctionMessageChunk(FunctionMessage, BaseMessageChunk):
    """A streamed piece of a function result; function chunks must share the name."""

    type: Literal["FunctionMessageChunk"] = "FunctionMessageChunk"  # type: ignore[assignment]

    def _merged_extras(self, others: list[BaseMessageChunk]) -> dict[str, Any]:
        for other in others:
            if isinstance(other, FunctionMessageChunk) and other.name != self.name:
                raise ValueError("Cannot concatenate FunctionMessageChunks with different names.")
        return {**super()._merged_extras(others), "name": self.name}


_CALL_TYPES = {"tool_calls": "tool_call", "invalid_tool_calls": "invalid_tool_call"}


def _tag(items: list[Any], tag: str) -> list[Any]:
    """Give each call dict its ``type`` tag, as LangChain's constructors do: first in an
    invalid tool call, last in the others (LangChain's key orders, kept on the wire)."""
    if tag == "invalid_tool_call":
        return [item if "type" in item else {"type": tag, **item} for item in items]
    for item in items:
        item.setdefault("type", tag)
    return items


class AIMessage(BaseMessage):
    """A reply from the model, with its tool calls and token usage."""

    tool_calls: list[ToolCall] = Field(default_factory=list)
    invalid_tool_calls: list[InvalidToolCall] = Field(default_factory=list)
    usage_metadata: UsageMetadata | None = None
    type: Literal["ai"] = "ai"

    lc_data_fields = frozenset({"tool_calls", "invalid_tool_calls", "usage_metadata"})

    @field_validator("tool_calls", "invalid_tool_calls", mode="after")
    @classmethod
    def _tag_calls(cls, calls: list[Any], info: Any) -> list[Any]:
        return _tag(calls, _CALL_TYPES[info.field_name])

    @property
    def lc_attributes(self) -> dict[str, Any]:
        return {"tool_calls": self.tool_calls, "invalid_tool_calls": self.invalid_tool_calls}


_RUN_ID_PREFIXES = ("run-", "lc_run-")
_GENERATED_ID_PREFIXES = ("run-", "lc_")


class AIMessageChunk(AIMessage, BaseMessageChunk):
    """A streamed piece of a model reply; tool_calls are parsed from tool_call_chunks."""

    type: Literal["AIMessageChunk"] = "AIMessageChunk"  # type: ignore[assignment]
    tool_call_chunks: list[ToolCallChunk] = Field(default_factory=list)
    chunk_position: Literal["last"] | None = None

    lc_data_fields = frozenset({"tool_call_chunks"})

    @field_validator("tool_call_chunks", mode="after")
    @classmethod
    def _tag_chunks(cls, chunks: list[Any]) -> list[Any]:
        return _tag(chunks, "tool_call_chunk")

    @model_validator(mode="after")
    def _init_tool_calls(self) -> Self:
        if not self.tool_call_chunks:
            chunks: list[ToolCallChunk] = [
                {
                    "name": tc["name"],
                    "args": json.dumps(tc["args"]),
                    "id": tc["id"],
                    "index": None,
                    "type": "tool_call_chunk",
                }
                for tc in self.tool_calls
            ]
            chunks += [
                {
                    "name": tc["name"],
                    "args": tc["args"],
                    "id": tc["id"],
                    "index": None,
                    "type": "tool_call_chunk",
                }
                for tc in self.invalid_tool_calls
            ]
            if chunks:
                self.__dict__["tool_call_chunks"] = chunks
            return self
        calls: list[ToolCall] = []
        invalid: list[InvalidToolCall] = []
        for chunk in self.tool_call_chunks:
            args = parse_partial_json(chunk["args"]) if chunk["args"] else {}
            if isinstance(args, dict):
                calls.append(
                    {
                        "name": chunk["name"] or "",
                        "args": args,
                        "id": chunk["id"],
                        "type": "tool_call",
                    }
                )
            else:
                invalid.append(
                    {
                        "name": chunk["name"],
                        "args": chunk["args"],
                        "id": chunk["id"],
                        "error": None,
                        "type": "invalid_tool_call",
                    }
                )
        self.__dict__["tool_calls"] = calls
        self.__dict__["invalid_tool_calls"] = invalid
        return self

    def _merged_extras(self, others: list[BaseMessageChunk]) -> dict[str, Any]:
        pieces: list[AIMessageChunk] = [self, *others]  # type: ignore[list-item]
        raw = merge_lists(self.tool_call_chunks, *(o.tool_call_chunks for o in pieces[1:]))
        usage = None
        if any(p.usage_metadata for p in pieces):
            usage = self.usage_metadata
            for piece in pieces[1:]:
                usage = add_usage(usage, piece.usage_metadata)  # type: ignore[assignment]
        extras: dict[str, Any] = {
            "tool_call_chunks": [
                {
                    "name": c.get("name"),
                    "args": c.get("args"),
                    "id": c.get("id"),
                    "index": c.get("index"),
                    "type": "tool_call_chunk",
                }
                for c in raw or []
            ],
            "usage_metadata": usage,
            "id": _best_chunk_id(p.id for p in pieces),
            "chunk_position": "last" if any(p.chunk_position for p in pieces) else None,
        }
        if self.name is not None:
            extras["name"] = self.name
        return extras

    def __add__(self, other: Any) -> BaseMessageChunk:  # type: ignore[override]
        others = _chunk_operands(self, other)
        if not all(isinstance(o, AIMessageChunk) for o in others):
            # LangChain: with another kind of chunk, tool call chunks and usage are dropped
            return self._concat(others, BaseMessageChunk._merged_extras(self, others))
        extras = self._merged_extras(others)
        return type(self)(
            content=merge_content(self.content, *(o.content for o in others)),
            additional_kwargs=merge_dicts(
                self.additional_kwargs, *(o.additional_kwargs for o in others)
            ),
            response_metadata=merge_dicts(
                self.response_metadata, *(o.response_metadata for o in others)
            ),
            **extras,
        )


def _best_chunk_id(ids: Any) -> str | None:
    """LangChain's rule: the first provider id wins; else the first ``lc_run-`` id, else
    the first other ``lc_`` id. runwire also counts the legacy ``run-`` ids (older
    LangChain's) as generated, ranked with ``lc_run-``."""
    best_rank, chosen = -1, None
    for candidate in ids:
        if not candidate:
            continue
        if not candidate.startswith(_GENERATED_ID_PREFIXES):
            return candidate
        rank = 1 if candidate.startswith(_RUN_ID_PREFIXES) else 0
        if rank > best_rank:
            best_rank, chosen = rank, candidate
    return chosen


class ToolMessage(BaseMessage):
    """The result of a tool call, sent back to the model."""

    tool_call_id: str
    type: Literal["tool"] = "tool"
    artifact: Any = None
    """The tool's full output; unlike the data fields it may hold objects (Documents)."""
    status: Literal["success", "error"] = "success"

    @field_validator("content", mode="before")
    @classmethod
    def _coerce_content(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, list):
            return [x if isinstance(x, str | dict) else str(x) for x in value]
        return value if isinstance(value, str) else str(value)

    @field_validator("tool_call_id", mode="before")
    @classmethod
    def _coerce_id(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float | UUID) else value


class ToolMessageChunk(ToolMessage, BaseMessageChunk):
    """A streamed piece of a tool result; pieces must share the tool_call_id."""

    type: Literal["ToolMessageChunk"] = "ToolMessageChunk"  # type: ignore[assignment]

    def _merged_extras(self, others: list[BaseMessageChunk]) -> dict[str, Any]:
        for other in others:
            if isinstance(other, ToolMessageChunk) and other.tool_call_id != self.tool_call_id:
                raise ValueError("cannot add ToolMessageChunks with different tool_call_id")
        statuses = [self.status, *(getattr(o, "status", "success") for o in others)]
        extras = super()._merged_extras(others)
        extras.update(
            tool_call_id=self.tool_call_id,
            artifact=functools.reduce(
                merge_obj, (getattr(o, "artifact", None) for o in others), self.artifact
            ),
            status="error" if "error" in statuses else "success",
        )
        return extras


class RemoveMessage(BaseMessage):
    """A write that deletes the message with this ``id`` from a list that ``add_messages``
    reduces (``id="__remove_all__"`` drops every message before it). It has no content.

    Takes the id positionally too: ``RemoveMessage("m1")``.
    """

    content: Content = ""
    type: Literal["remove"] = "remove"

    lc_positional = "id"

    @model_validator(mode="before")
    @classmethod
    def _id_and_no_content(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if data.get("content"):
                raise ValueError("RemoveMessage does not take content")
            if data.get("id") is None:  # checked here: the id field stays BaseMessage's
                raise ValueError("RemoveMessage needs the id of the message to remove")
        return data

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """LangChain always writes ``content`` (``""``), first; so does this."""
        node = super().to_json()
        kwargs = node.get("kwargs")
        if kwargs is not None and "content" not in kwargs:
            node["kwargs"] = {"content": self.content, **kwargs}  # type: ignore[typeddict-item]
        return node


AnyMessage = (
    AIMessage
    | HumanMessage
    | SystemMessage
    | ToolMessage
    | ChatMessage
    | FunctionMessage
    | AIMessageChunk
    | HumanMessageChunk
    | SystemMessageChunk
    | ToolMessageChunk
    | ChatMessageChunk
    | FunctionMessageChunk
)

_CHUNK_TO_MESSAGE: dict[type, type] = {
    AIMessageChunk: AIMessage,
    HumanMessageChunk: HumanMessage,
    SystemMessageChunk: SystemMessage,
    ToolMessageChunk: ToolMessage,
    ChatMessageChunk: ChatMessage,
    FunctionMessageChunk: FunctionMessage,
}

_CHUNK_ONLY_FIELDS = frozenset(("type", "tool_call_chunks", "chunk_position"))


def message_chunk_to_message(chunk: BaseMessage) -> BaseMessage:
    """The complete message a (summed) chunk stands for; other messages pass through."""
    target = _CHUNK_TO_MESSAGE.get(type(chunk))
    if target is None:
        return chunk
    data = {k: v for k, v in chunk.__dict__.items() if k not in _CHUNK_ONLY_FIELDS}
    return target.model_validate(data)
