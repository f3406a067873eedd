"""``add_messages``: the reducer of a list of chat messages, and ``MessagesState``.

Messages are runwire's own (``runwire.schema.messages``, where ``RemoveMessage`` lives
too; it is re-exported here and from ``runwire.graph``). Writes may be messages,
chunks, ``(role, content)`` pairs, dicts or strings, alone or in lists. A message whose
id is already in the list replaces it; ``RemoveMessage(id=...)`` deletes one, and
``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` drops everything before it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypedDict

from runwire.schema.messages import AnyMessage, BaseMessage, RemoveMessage

__all__ = ["REMOVE_ALL_MESSAGES", "MessagesState", "RemoveMessage", "add_messages"]

REMOVE_ALL_MESSAGES = "__remove_all__"


def _as_list(value: Any) -> list[BaseMessage]:
    from runwire.schema.coerce import convert_to_messages
    from runwire.schema.messages import message_chunk_to_message

    if value is None:
        return []
    if not isinstance(value, list):
        value = [value]
    out: list[BaseMessage] = []
    plain: list[Any] = []
    for item in value:
        if isinstance(item, BaseMessage):
            out.append(message_chunk_to_message(item))
        elif isinstance(item, dict) and item.get("type") == "remove":
            out.append(RemoveMessage(id=item["id"]))
        else:
            plain.append(item)
            out.append(None)  # type: ignore[arg-type]
    if plain:
        converted = iter(convert_to_messages(plain))
        out = [m if m is not None else next(converted) for m in out]
    return out


def _with_ids(messages: list[BaseMessage]) -> list[BaseMessage]:
    for message in messages:
        if message.id is None:
            message.id = str(uuid.uuid4())
    return messages


def add_messages(left: Any = None, right: Any = None, *, format: str | None = None) -> Any:
    """Merge ``right`` into ``left``: append new messages, replace or delete by id.

    Called with no lists (``add_messages(format=...)``) it returns the reducer itself.
    """
    if format is not None:
        raise NotImplementedError("add_messages(format=...) is not implemented in runwire")
    if left is None and right is None:
        return add_messages
    merged = _with_ids(_as_list(left))
    updates = _with_ids(_as_list(right))
    cut = None
    for index, message in enumerate(updates):
        if isinstance(message, RemoveMessage) and message.id == REMOVE_ALL_MESSAGES:
            cut = index
    if cut is not None:
        return updates[cut + 1 :]
    merged = list(merged)
    position = {m.id: i for i, m in enumerate(merged)}
    removed: set[str] = set()
    for message in updates:
        index = position.get(message.id)
        if index is not None:
            if isinstance(message, RemoveMessage):
                removed.add(message.id)  # type: ignore[arg-type]
            else:
                removed.discard(message.id)  # type: ignore[arg-type]
                merged[index] = message
        elif isinstance(message, RemoveMessage):
            raise ValueError(
                f"Attempting to delete a message with an ID that doesn't exist ('{message.id}')"
            )
        else:
            position[message.id] = len(merged)
            merged.append(message)
    return [m for m in merged if m.id not in removed]


class MessagesState(TypedDict):
    """A state with one key, ``messages``, reduced by ``add_messages``."""

    messages: Annotated[list[AnyMessage], add_messages]
