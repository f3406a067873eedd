"""The base of chat messages: ``BaseMessage``, ``BaseMessageChunk`` and the typed dicts
they carry (tool calls, usage). The concrete messages live in ``runwire.schema.messages``,
which re-exports these names.

Content, ``additional_kwargs``, ``response_metadata`` and extra kwargs are user data
(``lc_data_fields``): loading never builds an object inside them.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from runwire.schema.merge import merge_content, merge_dicts
from runwire.schema.serializable import Serializable

__all__ = [
    "BaseMessage",
    "BaseMessageChunk",
    "Content",
    "InvalidToolCall",
    "ToolCall",
    "ToolCallChunk",
    "UsageMetadata",
]

Content = str | list[str | dict[str, Any]]


class ToolCall(TypedDict):
    """A request from the model to call a tool."""

    name: str
    args: dict[str, Any]
    id: str | None
    type: NotRequired[Literal["tool_call"]]


class InvalidToolCall(TypedDict):
    """A tool call whose arguments could not be parsed (keys in LangChain 1.x's order)."""

    type: NotRequired[Literal["invalid_tool_call"]]
    id: str | None
    name: str | None
    args: str | None
    error: str | None


class ToolCallChunk(TypedDict):
    """A streamed piece of a tool call; pieces with the same ``index`` merge."""

    name: str | None
    args: str | None
    id: str | None
    index: int | None
    type: NotRequired[Literal["tool_call_chunk"]]


class UsageMetadata(TypedDict):
    """Token counts of one model call."""

    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_token_details: NotRequired[dict[str, int]]
    output_token_details: NotRequired[dict[str, int]]


class BaseMessage(Serializable):
    """Base of all messages: content, kwargs and metadata, an optional name and id."""

    model_config = ConfigDict(extra="allow")

    content: Content
    additional_kwargs: dict[Any, Any] = Field(default_factory=dict)
    response_metadata: dict[Any, Any] = Field(default_factory=dict)
    type: str
    name: str | None = None
    id: str | None = Field(default=None, coerce_numbers_to_str=True)

    lc_positional = "content"
    lc_data_fields = frozenset({"content", "additional_kwargs", "response_metadata"})
    lc_data_extras = True

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "messages"]

    @property
    def text(self) -> str:
        """The text of the message: the string content, or its text blocks joined."""
        if isinstance(self.content, str):
            return self.content
        parts = []
        for block in self.content:
            if isinstance(block, str):
                parts.append(block)
            elif block.get("type") == "text" and isinstance(block.get("text"), str):
                parts.append(block["text"])
        return "".join(parts)

    def __repr_args__(self) -> Any:
        return [(k, v) for k, v in super().__repr_args__() if v or k in ("content",)]


class BaseMessageChunk(BaseMessage):
    """A message piece that adds with ``+`` to another piece of the same kind."""

    def __add__(self, other: Any) -> BaseMessageChunk:  # type: ignore[override]
        others = _chunk_operands(self, other)
        return self._concat(others, self._merged_extras(others))

    def _concat(self, others: list[BaseMessageChunk], extras: dict[str, Any]) -> BaseMessageChunk:
        """This chunk's kind with the contents, kwargs and metadata of all merged."""
        return type(self)(
            id=self.id,
            type=self.type,
            content=merge_content(self.content, *(o.content for o in others)),
            additional_kwargs=merge_dicts(
                self.additional_kwargs, *(o.additional_kwargs for o in others)
            ),
            response_metadata=merge_dicts(
                self.response_metadata, *(o.response_metadata for o in others)
            ),
            **extras,
        )

    def _merged_extras(self, others: list[BaseMessageChunk]) -> dict[str, Any]:
        """Fields that a subclass merges besides content, kwargs and metadata."""
        return {"name": self.name} if self.name is not None else {}


def _chunk_operands(left: BaseMessageChunk, other: Any) -> list[Any]:
    if isinstance(other, BaseMessageChunk):
        return [other]
    if isinstance(other, list | tuple) and all(isinstance(o, BaseMessageChunk) for o in other):
        return list(other)
    raise TypeError(
        f'unsupported operand type(s) for +: "{type(left).__name__}" and "{type(other).__name__}"'
    )
