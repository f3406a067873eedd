"""A run's stream as LangGraph Server's server-sent events.

Each stream mode the client asked for is an event of that name (``values``,
``updates``, ``custom``, ``debug``, ``tasks``, ``checkpoints``); with subgraphs, the
namespace follows after ``|`` (``updates|child:1f2e...``). ``messages-tuple`` is the
graph's ``messages`` mode as ``messages`` events holding ``[message, metadata]``;
``messages`` adds the chunks of each message up and sends ``messages/metadata`` (once
per message), ``messages/partial`` (the message so far) and ``messages/complete`` (a
whole message). A run starts with ``metadata`` (``{"run_id": ..., "attempt": 1}``) and
fails with ``error`` (``{"error": type, "message": text}``, secrets masked).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from runwire.deploy.server.protocol import encode, strip_internal
from runwire.schema.message_base import BaseMessageChunk

__all__ = ["GRAPH_MODES", "Formatter", "frame", "graph_modes"]

GRAPH_MODES: dict[str, str] = {
    "values": "values",
    "updates": "updates",
    "messages": "messages",
    "messages-tuple": "messages",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
}
"""API stream mode -> the graph's stream mode that feeds it."""


def graph_modes(modes: list[str]) -> list[str]:
    """The graph modes to run for API ``modes``, plus ``values`` and ``updates``, which
    the server reads to know the run's outcome (its last values, steps and interrupts)."""
    wanted = {GRAPH_MODES[mode] for mode in modes}
    return sorted(wanted | {"values", "updates"})


def frame(event: str, data: Any) -> bytes:
    """One SSE frame: ``event: NAME`` and ``data: JSON``."""
    return b"event: " + event.encode() + b"\ndata: " + encode(data) + b"\n\n"


class Formatter:
    """Turns ``(namespace, graph mode, chunk)`` into SSE frames for the asked API modes."""

    def __init__(self, modes: list[str]) -> None:
        self.plain = {mode for mode in modes if mode in GRAPH_MODES and mode != "messages"}
        self.plain.discard("messages-tuple")
        self.tuples = "messages-tuple" in modes
        self.messages = "messages" in modes
        self._seen: dict[str, Any] = {}

    def __call__(self, ns: tuple[str, ...], mode: str, chunk: Any) -> Iterator[bytes]:
        suffix = "|" + "|".join(ns) if ns else ""
        if mode != "messages":
            if mode in self.plain:
                yield frame(mode + suffix, chunk)
            return
        message, metadata = chunk
        metadata = strip_internal(metadata or {})
        if self.tuples:
            yield frame("messages" + suffix, [message, metadata])
        if self.messages:
            yield from self._message(suffix, message, metadata)

    def _message(self, suffix: str, message: Any, metadata: dict[str, Any]) -> Iterator[bytes]:
        key = getattr(message, "id", None) or ""
        known = self._seen.get(key)
        if known is None:
            yield frame("messages/metadata" + suffix, {key: {"metadata": metadata}})
        if isinstance(message, BaseMessageChunk):
            total = message if known is None else known + message
            self._seen[key] = total
            yield frame("messages/partial" + suffix, [total])
        else:
            self._seen[key] = message
            yield frame("messages/complete" + suffix, [message])
