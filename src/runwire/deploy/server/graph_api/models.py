"""The request bodies of the graph API, as ``langgraph-sdk`` sends them, validated.

Bodies are untrusted: every field is typed and bounded (ids, list lengths, page sizes),
unknown fields are refused (a typo is a 422, not a silently ignored option), and
options this server does not offer (webhooks, delayed runs, other multitask strategies)
are refused with a message naming them rather than ignored. The body's byte size and
nesting depth are bounded before it gets here (the server's guard and
:func:`runwire.deploy.server.protocol.parse_body`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "STREAM_MODES",
    "AssistantSearch",
    "HistoryRequest",
    "RunRequest",
    "StateUpdateRequest",
    "ThreadCreate",
    "ThreadPatch",
    "ThreadSearch",
]

Id = Annotated[str, Field(min_length=1, max_length=256)]
Name = Annotated[str, Field(min_length=1, max_length=256)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Offset = Annotated[int, Field(ge=0, le=1_000_000)]

STREAM_MODES = (
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "custom",
    "debug",
    "tasks",
    "checkpoints",
)
"""The stream modes served (``events``, ``tools`` and ``lifecycle`` are not)."""

StreamModeName = Literal[
    "values", "updates", "messages", "messages-tuple", "custom", "debug", "tasks", "checkpoints"
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Checkpoint(_Body):
    """A checkpoint's address, as the SDK sends it."""

    thread_id: Id | None = None
    checkpoint_ns: Annotated[str, Field(max_length=1024)] = ""
    checkpoint_id: Id | None = None
    checkpoint_map: dict[str, Any] | None = None


class AssistantSearch(_Body):
    metadata: dict[str, Any] | None = None
    graph_id: Name | None = None
    name: Name | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[Name] | None = None


class ThreadCreate(_Body):
    thread_id: Id | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] = "raise"
    supersteps: None = Field(None, description="not served")
    ttl: None = Field(None, description="not served")


class ThreadPatch(_Body):
    metadata: dict[str, Any] = Field(default_factory=dict)


class ThreadSearch(_Body):
    metadata: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    ids: Annotated[list[Id], Field(max_length=1000)] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None
    select: list[Name] | None = None


class StateUpdateRequest(_Body):
    values: dict[str, Any] | list[Any] | None = None
    as_node: Name | None = None
    checkpoint_id: Id | None = None
    checkpoint: Checkpoint | None = None


class HistoryRequest(_Body):
    limit: Limit = 10
    before: Checkpoint | str | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    select: list[Name] | None = None


class CheckpointStateRequest(_Body):
    checkpoint: Checkpoint
    subgraphs: bool = False
    select: list[Name] | None = None


class CommandBody(_Body):
    """``Command`` as JSON: resume an interrupt, update the state, go to nodes."""

    resume: Any = None
    update: dict[str, Any] | None = None
    goto: Name | Annotated[list[Name], Field(max_length=64)] | None = None


class CancelQuery(_Body):
    wait: bool = False
    action: Literal["interrupt"] = "interrupt"


class RunListQuery(_Body):
    limit: Limit = 10
    offset: Offset = 0
    status: Literal["pending", "running", "error", "success", "timeout", "interrupted"] | None = (
        None
    )
    select: str | None = None


class RunRequest(_Body):
    """A run: on a thread (``/threads/{id}/runs...``) or stateless (``/runs...``)."""

    assistant_id: Id
    input: Any = None
    command: CommandBody | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    stream_mode: StreamModeName | Annotated[list[StreamModeName], Field(max_length=8)] = "values"
    stream_subgraphs: bool = False
    stream_resumable: Literal[False] = False
    interrupt_before: Literal["*"] | Annotated[list[Name], Field(max_length=256)] | None = None
    interrupt_after: Literal["*"] | Annotated[list[Name], Field(max_length=256)] | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_id: Id | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    if_not_exists: Literal["create", "reject"] = "reject"
    multitask_strategy: Literal["reject"] = "reject"
    on_disconnect: Literal["cancel"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    feedback_keys: list[Name] | None = None

    @field_validator("stream_mode")
    @classmethod
    def _modes(cls, value: Any) -> list[str]:
        modes = [value] if isinstance(value, str) else list(value)
        return list(dict.fromkeys(modes))

    def modes(self) -> list[str]:
        """The stream modes asked for, each once, in order."""
        mode = self.stream_mode
        return [mode] if isinstance(mode, str) else list(mode)
