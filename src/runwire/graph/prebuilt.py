"""Prebuilt nodes: ``ToolNode`` runs a model's tool calls, ``tools_condition`` routes to
it while the model asks for tools (LangGraph's), ``AskHuman`` pauses for a person.

``ToolNode`` is a registered component (a graph file's ``{_type: ToolNode, tools:
[...]}``) whose tools are runwire ``Tool``s: it reads the last AI message of the state's
``messages`` (or of a list of messages), runs each tool call (in parallel) and returns
the ``ToolMessage``s, in call order, as ``{"messages": [...]}`` (or a list).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import Field

from runwire.graph.constants import END
from runwire.runtime.base import child
from runwire.runtime.config import RunnableConfig, map_in_contexts
from runwire.runtime.serializable import RunnableSerializable
from runwire.runtime.tool import Tool, ToolArgumentsError
from runwire.schema.messages import AIMessage, ToolMessage

__all__ = ["AskHuman", "ToolNode", "tools_condition"]


def _last_ai(messages: Any) -> AIMessage | None:
    for message in reversed(list(messages or ())):
        if isinstance(message, AIMessage):
            return message
        if isinstance(message, Mapping) and message.get("type") == "ai":
            return AIMessage.model_validate(message)
    return None


def tools_condition(state: Any, messages_key: str = "messages") -> str:
    """``"tools"`` when the last AI message asks for tools, else END."""
    messages = state if isinstance(state, list) else (state or {}).get(messages_key)
    last = _last_ai(messages)
    return "tools" if last is not None and last.tool_calls else END


class ToolNode(RunnableSerializable[Any, Any]):
    """Runs the tool calls of the last AI message (see the module docstring)."""

    tools: list[Tool]
    """The tools the model may call, by name."""
    handle_tool_errors: bool | str | None = None
    """Which tool errors become an error ``ToolMessage`` for the model: ``None`` (as
    LangGraph's default) only wrong arguments, other errors raise; ``True`` every error;
    ``False`` none; a string: every error, answered with that text."""
    messages_key: str = Field(default="messages", min_length=1)
    """The state key holding the messages."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "graph"]

    def model_post_init(self, context: Any) -> None:
        names = [t.name for t in self.tools]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"tool names must be unique, repeated: {twice}")

    @property
    def tools_by_name(self) -> dict[str, Tool]:
        """The tools by the name a model calls them."""
        return {t.name: t for t in self.tools}

    def _calls(self, input: Any) -> tuple[list[dict[str, Any]], bool]:
        as_list = isinstance(input, list)
        messages = input if as_list else (input or {}).get(self.messages_key)
        last = _last_ai(messages)
        if last is None:
            raise ValueError(f"ToolNode found no AI message in {self.messages_key!r}")
        return [dict(c, type="tool_call") for c in last.tool_calls], as_list

    def _failed(self, call: Mapping[str, Any], text: str) -> ToolMessage:
        return ToolMessage(
            content=text, tool_call_id=str(call.get("id") or ""), name=call["name"], status="error"
        )

    def _unknown(self, call: Mapping[str, Any]) -> ToolMessage | None:
        if call["name"] in self.tools_by_name:
            return None
        names = ", ".join(self.tools_by_name)
        return self._failed(
            call, f"Error: {call['name']} is not a valid tool, try one of [{names}]."
        )

    def _error(self, call: Mapping[str, Any], exc: Exception) -> ToolMessage:
        handle = self.handle_tool_errors
        if handle is None and isinstance(exc, ToolArgumentsError):
            return self._failed(
                call,
                f"Error invoking tool '{exc.tool}' with kwargs {exc.arguments!r} with error:\n"
                f" {exc.error}\n Please fix the error and try again.",
            )
        if handle is None or handle is False:
            raise exc
        if isinstance(handle, str):
            return self._failed(call, handle)
        return self._failed(call, f"Error: {exc!r}\n Please fix your mistakes.")

    def _run_one(self, call: dict[str, Any], config: RunnableConfig) -> ToolMessage:
        unknown = self._unknown(call)
        if unknown is not None:
            return unknown
        try:
            return self.tools_by_name[call["name"]].invoke(call, child(config))
        except Exception as exc:  # a tool's failure is the model's to read
            return self._error(call, exc)

    async def _arun_one(self, call: dict[str, Any], config: RunnableConfig) -> ToolMessage:
        unknown = self._unknown(call)
        if unknown is not None:
            return unknown
        try:
            return await self.tools_by_name[call["name"]].ainvoke(call, child(config))
        except Exception as exc:
            return self._error(call, exc)

    def _output(self, messages: Sequence[ToolMessage], as_list: bool) -> Any:
        return list(messages) if as_list else {self.messages_key: list(messages)}

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The tool messages answering the last AI message's tool calls."""

        def run(value: Any, cfg: RunnableConfig) -> Any:
            calls, as_list = self._calls(value)
            if len(calls) <= 1:
                return self._output([self._run_one(c, cfg) for c in calls], as_list)
            workers = cfg.get("max_concurrency") or len(calls)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                done = list(map_in_contexts(pool, lambda c: self._run_one(c, cfg), calls))
            return self._output(done, as_list)

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke`` (the calls run concurrently)."""

        async def run(value: Any, cfg: RunnableConfig) -> Any:
            calls, as_list = self._calls(value)
            done = await asyncio.gather(*(self._arun_one(c, cfg) for c in calls))
            return self._output(done, as_list)

        return await self._acall_with_config(run, input, config)


class AskHuman(RunnableSerializable[Any, Any]):
    """A node that stops the graph for a person and returns their answer.

    Calls ``interrupt({"question": question, "input": <its input>})``: the run pauses
    (the thread needs a checkpointer) and ``Command(resume=answer)`` (``runwire run
    --thread ID --resume JSON``) continues it, the node returning ``answer``. Graph files
    use it where Python code would call ``interrupt()``.
    """

    question: str = Field(max_length=4000)
    """What the person is asked (shown in the interrupt's value)."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "graph"]

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The person's answer (the graph pauses until there is one)."""
        from runwire.graph.context import interrupt

        return interrupt({"question": self.question, "input": input})
