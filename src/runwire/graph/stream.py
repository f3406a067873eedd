"""Stream output: LangGraph's v1 chunks and v2 StreamPart dicts, and ``messages`` mode.

The loop emits ``(namespace, mode, payload)``; ``Formatter`` shapes each event the way
the caller asked (one mode or several, with or without namespaces, v1 or v2).
"""

from __future__ import annotations

from typing import Any

from runwire.graph.constants import INTERRUPT, TAG_HIDDEN, TAG_NOSTREAM

__all__ = ["Formatter", "MessagesHandler"]

_MISSING: Any = object()


class Formatter:
    """Shapes events for one ``stream`` call."""

    __slots__ = ("multi", "output_keys", "subgraphs", "v2")

    def __init__(self, multi: bool, subgraphs: bool, version: str, output_keys: Any) -> None:
        if version not in ("v1", "v2"):
            raise ValueError(f"version must be 'v1' or 'v2', got {version!r}")
        self.multi = multi
        self.subgraphs = subgraphs
        self.v2 = version == "v2"
        self.output_keys = output_keys

    def values(self, data: dict[str, Any]) -> Any:
        """State values narrowed to ``output_keys``."""
        keys = self.output_keys
        if keys is None:
            return data
        if isinstance(keys, str):
            return data.get(keys)
        return {k: data[k] for k in keys if k in data}

    def narrow(self, update: Any) -> Any:
        """One node's update narrowed to ``output_keys``, as LangGraph streams it: the bare
        value for a string key, the keys written for a list, ``None`` when none was."""
        if not isinstance(update, dict):
            return update
        keys = self.output_keys
        if isinstance(keys, str):
            return update.get(keys)
        return {k: update[k] for k in keys if k in update} or None

    def __call__(self, ns: tuple[str, ...], mode: str, payload: Any) -> Any:
        """The chunk to yield for one event (``_MISSING`` to drop it)."""
        if ns and not self.subgraphs:
            return _MISSING
        if mode == "values":
            data, interrupts, updated = payload
            keys = self.output_keys
            if not interrupts and updated is not None:
                wanted = data.keys() if keys is None else {keys} if isinstance(keys, str) else keys
                if not any(k in updated for k in wanted):
                    return _MISSING
            data = self.values(data)
            if self.v2:
                return {"type": "values", "ns": ns, "data": data, "interrupts": interrupts}
            if interrupts:
                data = {**data, INTERRUPT: interrupts} if isinstance(data, dict) else data
            payload = data
        elif mode == "updates" and self.output_keys is not None and isinstance(payload, dict):
            payload = {
                node: update if node == INTERRUPT else self.narrow(update)
                for node, update in payload.items()
            }
        if mode != "values" and self.v2:
            return {"type": mode, "ns": ns, "data": payload}
        if self.multi:
            return (ns, mode, payload) if self.subgraphs else (mode, payload)
        return (ns, payload) if self.subgraphs else payload


MISSING = _MISSING


class MessagesHandler:
    """A callback handler that streams chat model tokens as ``(chunk, metadata)``."""

    wants_streaming = True

    def __init__(self, emit: Any, subgraphs: bool = False) -> None:
        self.emit = emit
        self.subgraphs = subgraphs
        """Without ``subgraphs=True`` the models of subgraphs are not watched at all."""
        self.runs: dict[Any, dict[str, Any]] = {}
        self.seen: set[str] = set()

    def on_start(self, run: Any) -> None:
        if run.run_type not in ("chat_model", "llm"):
            return
        if TAG_NOSTREAM in run.tags or TAG_HIDDEN in run.tags:
            return
        metadata = dict(run.metadata)
        if "langgraph_node" not in metadata:
            return
        if not self.subgraphs and _ns(metadata):
            return
        metadata["tags"] = list(run.tags)
        self.runs[run.id] = metadata

    def on_stream(self, run: Any, chunk: Any) -> None:
        metadata = self.runs.get(run.id)
        if metadata is None:
            return
        message = getattr(chunk, "message", chunk)
        if getattr(message, "id", None):
            self.seen.add(message.id)
        self.emit(_ns(metadata), (message, metadata))

    def on_end(self, run: Any) -> None:
        self.runs.pop(run.id, None)

    def seen_input(self, value: Any) -> None:
        """Messages in a node's input are not new: they are never emitted."""
        items = value.get("messages") if isinstance(value, dict) else None
        for item in items if isinstance(items, list) else ():
            message_id = getattr(item, "id", None)
            if message_id:
                self.seen.add(message_id)

    def node_output(
        self, ns: tuple[str, ...], writes: list[tuple[str, Any]], metadata: Any
    ) -> None:
        """Messages a node returned that no model streamed (LangGraph sends them too)."""
        from runwire.schema.messages import BaseMessage

        for _, value in writes:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, BaseMessage) and item.id not in self.seen:
                    if item.id:
                        self.seen.add(item.id)
                    self.emit(ns, (item, metadata))


def _ns(metadata: dict[str, Any]) -> tuple[str, ...]:
    ns = metadata.get("langgraph_checkpoint_ns", "")
    parts = ns.split("|") if ns else []
    return tuple(parts[:-1])
