"""What an assistant used as an agent returns: actions to run, or its final answer.

``OpenAIAssistantAction`` is an ``AgentAction`` that also carries the tool call, run and
thread ids needed to submit the tool's output; ``OpenAIAssistantFinish`` is an
``AgentFinish`` with the run and thread ids. As in LangChain they are not serializable
(they hold ids of server-side state).
"""

from __future__ import annotations

from runwire.schema.agents import AgentAction, AgentFinish

__all__ = ["OpenAIAssistantAction", "OpenAIAssistantFinish"]


class OpenAIAssistantFinish(AgentFinish):
    """The assistant's answer, with the ids of its run and thread."""

    run_id: str
    """The run that produced the answer."""
    thread_id: str
    """The thread it belongs to (pass it back to continue the conversation)."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return False


class OpenAIAssistantAction(AgentAction):
    """A tool call the assistant asks for, with what submitting its output needs."""

    tool_call_id: str
    """The id to submit the tool's output under."""
    run_id: str
    """The run waiting for the output."""
    thread_id: str
    """The run's thread."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return False
