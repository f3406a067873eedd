"""State graphs: LangGraph's builder, executor and public names, written lean.

``from runwire.graph import StateGraph, START, END`` and the rest work like their
LangGraph counterparts (see docs/graph.md). Names load on first use, so importing the
package costs almost nothing.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

TYPE_CHECKING = False

_EXPORTS: dict[str, str] = {
    "START": ".constants",
    "END": ".constants",
    "StateGraph": ".builder",
    "CompiledStateGraph": ".compiled",
    "Command": ".types",
    "Send": ".types",
    "Interrupt": ".types",
    "StateSnapshot": ".types",
    "PregelTask": ".types",
    "RetryPolicy": ".types",
    "GraphOutput": ".types",
    "Overwrite": ".types",
    "StateUpdate": ".types",
    "StreamMode": ".types",
    "Durability": ".types",
    "interrupt": ".context",
    "get_stream_writer": ".context",
    "get_runtime": ".context",
    "get_config": ".context",
    "Runtime": ".context",
    "add_messages": ".messages",
    "RemoveMessage": ".messages",
    "MessagesState": ".messages",
    "REMOVE_ALL_MESSAGES": ".messages",
    "GraphRecursionError": ".errors",
    "InvalidUpdateError": ".errors",
    "EmptyInputError": ".errors",
    "GraphInterrupt": ".errors",
    "NodeInterrupt": ".errors",
}

__all__ = [
    "END",
    "REMOVE_ALL_MESSAGES",
    "START",
    "Command",
    "CompiledStateGraph",
    "Durability",
    "EmptyInputError",
    "GraphInterrupt",
    "GraphOutput",
    "GraphRecursionError",
    "Interrupt",
    "InvalidUpdateError",
    "MessagesState",
    "NodeInterrupt",
    "Overwrite",
    "PregelTask",
    "RemoveMessage",
    "RetryPolicy",
    "Runtime",
    "Send",
    "StateGraph",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "add_messages",
    "get_config",
    "get_runtime",
    "get_stream_writer",
    "interrupt",
]

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:
    from runwire.graph.builder import StateGraph
    from runwire.graph.compiled import CompiledStateGraph
    from runwire.graph.constants import END, START
    from runwire.graph.context import Runtime, get_config, get_runtime, get_stream_writer, interrupt
    from runwire.graph.errors import (
        EmptyInputError,
        GraphInterrupt,
        GraphRecursionError,
        InvalidUpdateError,
        NodeInterrupt,
    )
    from runwire.graph.messages import (
        REMOVE_ALL_MESSAGES,
        MessagesState,
        RemoveMessage,
        add_messages,
    )
    from runwire.graph.types import (
        Command,
        Durability,
        GraphOutput,
        Interrupt,
        Overwrite,
        PregelTask,
        RetryPolicy,
        Send,
        StateSnapshot,
        StateUpdate,
        StreamMode,
    )
