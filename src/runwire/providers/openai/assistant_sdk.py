"""The ``openai`` SDK side of ``OpenAIAssistantV2Runnable``: calls, errors, tools, and
what a finished run returns (messages, tool calls, or agent actions and finishes)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.openai.agent_types import OpenAIAssistantAction, OpenAIAssistantFinish
from runwire.runtime.models.tools import convert_to_openai_tool

__all__ = [
    "PROVIDER",
    "asdk_call",
    "assistant_tool",
    "attachments",
    "openai_sdk",
    "run_response",
    "sdk_call",
]

PROVIDER = "openai-assistants"
_BUILTIN_TOOLS = ("code_interpreter", "file_search")
T = TypeVar("T")


def assistant_tool(tool: Any) -> dict[str, Any]:
    """A tool as the Assistants API takes it: built-ins as they are, others as OpenAI
    function tools."""
    if isinstance(tool, Mapping) and tool.get("type") in _BUILTIN_TOOLS:
        return dict(tool)
    return convert_to_openai_tool(tool)


def attachments(input: Mapping[str, Any], kwargs: Mapping[str, Any]) -> list[Any]:
    """``attachments`` (input or call argument) plus the deprecated ``file_ids``."""
    files = [
        {"file_id": fid, "tools": [{"type": "file_search"}, {"type": "code_interpreter"}]}
        for fid in [*(kwargs.get("file_ids") or ()), *(input.get("file_ids") or ())]
    ]
    return [*(input.get("attachments") or ()), *(kwargs.get("attachments") or ()), *files]


def _api_error(exc: Exception, operation: str) -> ProviderError:
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    code = (body.get("code") if isinstance(body, dict) else None) or type(exc).__name__
    message = getattr(exc, "message", None) or str(exc)
    return ProviderError(PROVIDER, operation, str(code), str(message), status=status)


def openai_sdk() -> Any:
    """The ``openai`` module, or a setup error naming the extra to install."""
    try:
        import openai
    except ImportError:
        raise ProviderSetupError(
            "OpenAIAssistantV2Runnable needs the openai SDK: pip install 'runwire[openai]'"
        ) from None
    return openai


def sdk_call(operation: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call the SDK; its API errors become ProviderErrors (secrets masked)."""
    openai = openai_sdk()
    try:
        return method(*args, **kwargs)
    except openai.APIError as exc:
        raise _api_error(exc, operation) from None


async def asdk_call(
    operation: str, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
) -> T:
    """``sdk_call`` for the async client."""
    openai = openai_sdk()
    try:
        return await method(*args, **kwargs)
    except openai.APIError as exc:
        raise _api_error(exc, operation) from None


def run_response(run: Any, messages_of: Callable[[Any], list[Any]], *, as_agent: bool) -> Any:
    """What a run that left queued/in_progress returns: its messages (completed), its
    tool calls (requires_action), as agent objects with ``as_agent``; else an error."""
    if run.status == "completed":
        messages = messages_of(run)
        if not as_agent:
            return messages
        blocks = [block for message in messages for block in message.content]
        answer: Any = blocks
        if all(getattr(block, "type", None) == "text" for block in blocks):
            answer = "\n".join(block.text.value for block in blocks)
        return OpenAIAssistantFinish(
            return_values={"output": answer, "thread_id": run.thread_id, "run_id": run.id},
            log="",
            run_id=run.id,
            thread_id=run.thread_id,
        )
    if run.status == "requires_action":
        calls = run.required_action.submit_tool_outputs.tool_calls
        if not as_agent:
            return calls
        return [_action(run, call) for call in calls]
    error = getattr(run, "last_error", None)
    detail = f": {error.message}" if error is not None and error.message else ""
    raise ProviderError(
        PROVIDER,
        "runs.retrieve",
        f"Run{run.status.title().replace('_', '')}",
        f"run {run.id} of thread {run.thread_id} ended with status {run.status!r}{detail}",
    )


def _action(run: Any, call: Any) -> OpenAIAssistantAction:
    function = call.function
    try:
        args = json.loads(function.arguments, strict=False)
    except ValueError as exc:
        raise ValueError(
            f"run {run.id}: tool {function.name!r} got arguments that are not JSON: "
            f"{function.arguments}"
        ) from exc
    if isinstance(args, dict) and len(args) == 1 and "__arg1" in args:
        args = args["__arg1"]
    return OpenAIAssistantAction(
        tool=function.name,
        tool_input=args,
        tool_call_id=call.id,
        log="",
        run_id=run.id,
        thread_id=run.thread_id,
    )
