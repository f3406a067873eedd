"""A tool-calling (ReAct) agent: LangGraph's ``create_react_agent``, and as a file.

The graph: ``agent`` (the prompt, then the model with the tools bound) and ``tools`` (a
``ToolNode``); after ``agent``, ``tools`` while the model asks for tools, else the end
(or ``generate_structured_response`` first, with ``response_format``); after ``tools``,
back to ``agent`` unless a ``return_direct`` tool ran. The state is ``messages``
(``add_messages``) plus ``structured_response``.

```yaml
_type: ReactAgent
model: {_type: ChatBedrockConverse, model: ...}
tools: [{_type: Tool, name: ..., description: ..., runnable: ...}]
prompt: You answer questions about orders.       # or a prompt template
response_format: {title: Answer, type: object, properties: {...}}   # optional
max_iterations: 5                                # optional: model calls at most
```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Annotated, Any

from pydantic import Field, PrivateAttr
from typing_extensions import TypedDict

from runwire.graph.builder import StateGraph
from runwire.graph.compiled import CompiledStateGraph
from runwire.graph.constants import END, START
from runwire.graph.messages import add_messages
from runwire.graph.prebuilt import ToolNode, tools_condition
from runwire.runtime.base import Runnable
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable
from runwire.runtime.tool import Tool
from runwire.schema.messages import AIMessage, SystemMessage
from runwire.schema.serializable import FieldsEqual

__all__ = ["AgentState", "ReactAgent", "create_react_agent"]


class AgentState(TypedDict, total=False):
    """The agent's state: the conversation, and the structured answer if asked for."""

    messages: Annotated[list[Any], add_messages]
    structured_response: Any


class _CallModel(Runnable[Any, Any]):
    """The ``agent`` node: prompt the model with the conversation, keep its answer."""

    def __init__(self, model: Any, prompt: Any) -> None:
        self.model, self.prompt, self.name = model, prompt, "agent"

    def _messages(self, state: Any, config: RunnableConfig | None) -> Any:
        messages = list(state.get("messages") or ())
        if self.prompt is None:
            return messages
        if isinstance(self.prompt, str):
            return [SystemMessage(self.prompt), *messages]
        return self.prompt.invoke(state, config)

    async def _amessages(self, state: Any, config: RunnableConfig | None) -> Any:
        if isinstance(self.prompt, Runnable):
            return await self.prompt.ainvoke(state, config)
        return self._messages(state, config)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """``{"messages": [the model's answer]}``."""
        return {"messages": [self.model.invoke(self._messages(input, config), config)]}

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        messages = await self._amessages(input, config)
        return {"messages": [await self.model.ainvoke(messages, config)]}


class _Structured(Runnable[Any, Any]):
    """``generate_structured_response``: the conversation answered in ``schema``."""

    def __init__(self, model: Any, schema: Any) -> None:
        self.name = "generate_structured_response"
        self.bound = model.with_structured_output(schema)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """``{"structured_response": ...}``."""
        return {"structured_response": self.bound.invoke(list(input["messages"]), config)}

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        answer = await self.bound.ainvoke(list(input["messages"]), config)
        return {"structured_response": answer}


def create_react_agent(
    model: Any,
    tools: Sequence[Tool] | ToolNode,
    *,
    prompt: str | Runnable[Any, Any] | None = None,
    response_format: Any = None,
    checkpointer: Any = None,
    interrupt_before: Sequence[str] | None = None,
    interrupt_after: Sequence[str] | None = None,
    name: str | None = None,
) -> CompiledStateGraph:
    """A compiled ReAct agent graph (LangGraph's ``create_react_agent`` contract)."""
    node = tools if isinstance(tools, ToolNode) else ToolNode(tools=list(tools))
    bound = model.bind_tools(node.tools) if node.tools else model
    direct = {t.name for t in node.tools if t.return_direct}
    after_agent = "generate_structured_response" if response_format is not None else END
    graph = StateGraph(AgentState)
    graph.add_node("agent", _CallModel(bound, prompt))
    graph.add_edge(START, "agent")
    if node.tools:
        graph.add_node("tools", node)

        def should_continue(state: Any) -> str:
            return "tools" if tools_condition(state) == "tools" else after_agent

        graph.add_conditional_edges("agent", should_continue, ["tools", after_agent])
        if direct:

            def after_tools(state: Any) -> str:
                ran = [m for m in reversed(state["messages"]) if not isinstance(m, AIMessage)]
                return END if any(getattr(m, "name", None) in direct for m in ran) else "agent"

            graph.add_conditional_edges("tools", after_tools, ["agent", END])
        else:
            graph.add_edge("tools", "agent")
    else:
        graph.add_edge("agent", after_agent)
    if response_format is not None:
        graph.add_node("generate_structured_response", _Structured(model, response_format))
        graph.add_edge("generate_structured_response", END)
    return graph.compile(
        checkpointer=checkpointer,
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        name=name or "LangGraph",
    )


class ReactAgent(FieldsEqual, RunnableSerializable[Any, Any]):
    """A ReAct agent written as data (see the module docstring)."""

    model: Runnable[Any, Any]
    """The chat model (it must support ``bind_tools``)."""
    tools: list[Tool] = Field(default_factory=list)
    """The tools it may call."""
    prompt: str | Runnable[Any, Any] | None = None
    """A system prompt, or a prompt runnable that turns the state into messages."""
    response_format: dict[str, Any] | None = None
    """A JSON Schema (with a ``title``) the final answer is also given in."""
    max_iterations: int | None = Field(default=None, ge=1, le=1000)
    """Model calls at most per run (``GraphRecursionError`` beyond)."""
    interrupt_before: list[str] = Field(default_factory=list)
    """Stop before these nodes (``agent``, ``tools``): a human may approve tool calls."""

    _graph: CompiledStateGraph | None = PrivateAttr(default=None)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "graph"]

    def model_post_init(self, context: Any) -> None:
        self._graph = self.compile()

    def compile(self, checkpointer: Any = None) -> CompiledStateGraph:
        """The agent graph; pass a checkpointer to run with threads."""
        return create_react_agent(
            self.model,
            self.tools,
            prompt=self.prompt,
            response_format=self.response_format,
            checkpointer=checkpointer,
            interrupt_before=self.interrupt_before or None,
            name=self.name,
        )

    @property
    def graph(self) -> CompiledStateGraph:
        """The compiled agent graph (no checkpointer)."""
        assert self._graph is not None
        return self._graph

    def _config(self, config: RunnableConfig | None) -> RunnableConfig | None:
        if self.max_iterations is None or (config or {}).get("recursion_limit"):
            return config
        # agent and tools alternate: the input step, then two steps per model call
        return {**(config or {}), "recursion_limit": 2 * self.max_iterations + 1}

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the agent on ``{"messages": [...]}``."""
        return self.graph.invoke(input, self._config(config), **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        return await self.graph.ainvoke(input, self._config(config), **kwargs)

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Stream the run (LangGraph's ``stream_mode``)."""
        yield from self.graph.stream(input, self._config(config), **kwargs)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async ``stream``."""
        async for part in self.graph.astream(input, self._config(config), **kwargs):
            yield part

    def get_input_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """JSON Schema of the input (``messages``)."""
        return self.graph.get_input_jsonschema(config)

    def get_output_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """JSON Schema of the output."""
        return self.graph.get_output_jsonschema(config)

    def get_graph(self, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """The drawable nodes and edges."""
        return self.graph.get_graph(config, **kwargs)
