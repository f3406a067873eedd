"""Agent steps as data: ``AgentAction`` (call a tool), ``AgentActionMessageLog`` (with the
messages that led to it), ``ToolAgentAction`` (with the tool call id), ``AgentFinish``
(the final answer) and ``AgentStep`` (an action with its observation).

As in LangChain, actions and finishes take their fields positionally too:
``AgentAction("search", {"q": "x"}, "log")``, ``AgentFinish({"output": "42"}, "log")``.
``tool_input`` is user data: loading never builds an object inside it.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from runwire.schema.message_base import BaseMessage
from runwire.schema.serializable import Serializable

__all__ = ["AgentAction", "AgentActionMessageLog", "AgentFinish", "AgentStep", "ToolAgentAction"]


class _AgentData(Serializable):
    """Serializable, in the ``runwire.agents`` namespace, with positional fields."""

    lc_positional_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "agents"]

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = cls.lc_positional_fields
        if len(args) > len(names):
            raise TypeError(
                f"{cls.__name__}() takes at most {len(names)} positional arguments "
                f"({', '.join(names)}), got {len(args)}"
            )
        for name, value in zip(names, args, strict=False):
            if name in kwargs:
                raise TypeError(f"{cls.__name__}() got {name!r} twice")
            kwargs[name] = value
        return kwargs


def _observation_text(observation: Any) -> str:
    if isinstance(observation, str):
        return observation
    try:
        return json.dumps(observation, ensure_ascii=False)
    except Exception:
        return str(observation)


class AgentAction(_AgentData):
    """A request to run ``tool`` with ``tool_input``; ``log`` is the model's reasoning."""

    tool: str
    """The name of the tool to run."""
    tool_input: str | dict[Any, Any]
    """The tool's input: a string or a dict of arguments."""
    log: str
    """What the model wrote that led to this action."""
    type: Literal["AgentAction"] = "AgentAction"

    lc_positional_fields = ("tool", "tool_input", "log")
    lc_data_fields = frozenset({"tool_input"})

    @property
    def messages(self) -> list[BaseMessage]:
        """The action as chat messages: an AI message holding the log."""
        from runwire.schema.messages import AIMessage

        return [AIMessage(content=self.log)]


class AgentActionMessageLog(AgentAction):
    """An action with the messages that produced it (its ``messages``)."""

    message_log: list[BaseMessage]
    """The model's messages behind this action (used instead of ``log`` as messages)."""
    type: Literal["AgentActionMessageLog"] = "AgentActionMessageLog"  # type: ignore[assignment]

    @property
    def messages(self) -> list[BaseMessage]:
        """The message log."""
        return list(self.message_log)


class ToolAgentAction(AgentActionMessageLog):
    """An action of a tool-calling agent: the id of the tool call it answers.

    LangChain defines it outside langchain-core (``langchain.agents``); its id loads here.
    """

    tool_call_id: str | None
    """The id of the model's tool call this action runs."""


class AgentFinish(_AgentData):
    """The agent's final answer (``return_values``) and the model's ``log``."""

    return_values: dict[Any, Any]
    """What the agent returns (usually ``{"output": ...}``)."""
    log: str
    """What the model wrote with its answer."""
    type: Literal["AgentFinish"] = "AgentFinish"

    lc_positional_fields = ("return_values", "log")

    @property
    def messages(self) -> list[BaseMessage]:
        """The finish as chat messages: an AI message holding the log."""
        from runwire.schema.messages import AIMessage

        return [AIMessage(content=self.log)]


class AgentStep(Serializable):
    """An action and what running it returned. Not serializable (as in LangChain): the
    observation can be any object."""

    action: AgentAction
    observation: Any

    @property
    def messages(self) -> list[BaseMessage]:
        """The observation as a message: a function message for a message-log action
        (named after the tool), else a human message; non-strings as JSON."""
        from runwire.schema.messages import FunctionMessage, HumanMessage

        content = _observation_text(self.observation)
        if isinstance(self.action, AgentActionMessageLog):
            return [FunctionMessage(name=self.action.tool, content=content)]
        return [HumanMessage(content=content)]
