"""``backend: responses``: an assistant's manifest run on the Responses API.

OpenAI shut the Assistants API down on 2026-08-26. With ``backend: responses`` the same
runnable (same inputs, outputs and branches) runs on ``responses.create``, with a
Conversation standing in for a thread and the assistant's ``model``, ``instructions``
and ``tools`` taken from the runnable's fields:

- ``content`` without ``thread_id``: a new conversation (``thread_metadata`` as its
  metadata), then a response to the user message in it;
- ``content`` with ``thread_id``: a response to the message in that conversation;
- ``tool_outputs`` with ``run_id`` and ``thread_id`` (or ``intermediate_steps`` with
  ``as_agent``): a response to the ``function_call_output`` items.

The answer has the Assistants shapes: a completed response gives ``Message`` objects
(``thread_id`` the conversation, ``run_id`` the response), function calls give
``RequiredActionFunctionToolCall`` objects, and ``as_agent`` gives the same
``OpenAIAssistantFinish`` / ``OpenAIAssistantAction`` objects. A ``run_id`` is the id of
the response that asked for the tools; submitting outputs makes a new response, whose id
the finish carries. Per-call ``model``, ``instructions`` and ``tools`` override the
fields, as they override the assistant's on a run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runwire.errors import ProviderError
from runwire.providers.openai.assistant_sdk import (
    PROVIDER,
    asdk_call,
    assistant_tool,
    openai_sdk,
    run_response,
    sdk_call,
)

__all__ = ["ResponsesRun", "request_params", "responses_tool", "to_run"]


def responses_tool(tool: Any, tool_resources: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An Assistants tool in the Responses API's shape (function tools are flat there;
    code interpreter takes a container, file search its vector stores)."""
    spec = assistant_tool(tool)
    kind = spec.get("type")
    if kind == "function":
        return {"type": "function", **spec["function"]}
    if kind == "code_interpreter":
        return {"container": {"type": "auto"}, **spec}
    if kind == "file_search":
        stores = ((tool_resources or {}).get("file_search") or {}).get("vector_store_ids")
        return {"vector_store_ids": list(stores or ()), **spec}
    return spec


def request_params(runnable: Any, input: Mapping[str, Any]) -> dict[str, Any]:
    """``model``, ``instructions`` and ``tools`` of a response: the call's, else the fields'."""
    model = input.get("model") or runnable.model
    if not model:
        raise ValueError(
            "backend='responses' needs the assistant's model: set the runnable's model field "
            "(runwire migrate assistant writes it)"
        )
    params: dict[str, Any] = {"model": model}
    instructions = input.get("instructions") or runnable.instructions
    if instructions:
        params["instructions"] = instructions
    tools = input.get("tools") if "tools" in input else runnable.tools
    resources = input.get("tool_resources") or runnable.tool_resources
    if tools:
        params["tools"] = [responses_tool(tool, resources) for tool in tools]
    if input.get("run_metadata") is not None:
        params["metadata"] = input["run_metadata"]
    return params


class ResponsesRun:
    """A response seen as an Assistants run: ``id``, ``thread_id``, ``status``,
    ``required_action`` and ``last_error``, and its messages."""

    def __init__(self, response: Any, conversation_id: str) -> None:
        self.response = response
        self.id = response.id
        self.thread_id = conversation_id
        calls = [item for item in response.output if item.type == "function_call"]
        self.last_error = response.error
        if response.status != "completed":
            self.status = response.status
        else:
            self.status = "requires_action" if calls else "completed"
        self.required_action = _required_action(calls) if calls else None

    def messages(self) -> list[Any]:
        """The response's output messages as Assistants ``Message`` objects."""
        from openai.types.beta.threads import Message

        out = []
        for item in self.response.output:
            if item.type != "message":
                continue
            blocks = [
                {"type": "text", "text": {"value": part.text, "annotations": []}}
                for part in item.content
                if part.type == "output_text"
            ]
            out.append(
                Message.model_construct(
                    id=item.id,
                    object="thread.message",
                    created_at=int(self.response.created_at),
                    thread_id=self.thread_id,
                    role="assistant",
                    content=[_text_block(b) for b in blocks],
                    assistant_id=None,
                    run_id=self.id,
                    attachments=[],
                    metadata={},
                    status="completed",
                )
            )
        return out


def _text_block(block: dict[str, Any]) -> Any:
    from openai.types.beta.threads import Text, TextContentBlock

    return TextContentBlock(type="text", text=Text(**block["text"]))


def _required_action(calls: Sequence[Any]) -> Any:
    """``run.required_action`` (``submit_tool_outputs.tool_calls``) of a response's calls."""
    from openai.types.beta.threads import RequiredActionFunctionToolCall
    from openai.types.beta.threads.run import RequiredAction, RequiredActionSubmitToolOutputs

    tool_calls = [
        RequiredActionFunctionToolCall(
            id=call.call_id,
            type="function",
            function={"name": call.name, "arguments": call.arguments},
        )
        for call in calls
    ]
    return RequiredAction(
        type="submit_tool_outputs",
        submit_tool_outputs=RequiredActionSubmitToolOutputs(tool_calls=tool_calls),
    )


def to_run(response: Any, conversation_id: str) -> ResponsesRun:
    """A response as a run."""
    return ResponsesRun(response, conversation_id)


def _items(input: Mapping[str, Any], outputs: Sequence[Mapping[str, Any]] | None) -> list[Any]:
    if outputs is not None:
        return [
            {
                "type": "function_call_output",
                "call_id": o["tool_call_id"],
                "output": str(o["output"]),
            }
            for o in outputs
        ]
    if "content" not in input:
        raise ValueError("an assistant input needs 'content' (or tool_outputs with run_id)")
    message: dict[str, Any] = {"role": "user", "content": input["content"]}
    return [message]


def _outputs(runnable: Any, input: Mapping[str, Any]) -> tuple[str | None, Any]:
    """(conversation id or None, tool outputs or None) of an input."""
    if runnable.as_agent and input.get("intermediate_steps"):
        steps = input["intermediate_steps"]
        last = steps[-1][0]
        outputs = [{"tool_call_id": a.tool_call_id, "output": o} for a, o in steps]
        return last.thread_id, outputs
    if "run_id" in input:
        return input["thread_id"], input.get("tool_outputs") or []
    return input.get("thread_id"), None


def invoke(runnable: Any, input: Mapping[str, Any]) -> Any:
    """One call of the runnable on the Responses API."""
    client = runnable.sync_client()
    conversation, outputs = _outputs(runnable, input)
    if conversation is None:
        metadata = input.get("thread_metadata")
        extra = {"metadata": metadata} if metadata is not None else {}
        conversation = sdk_call("conversations.create", client.conversations.create, **extra).id
    response = sdk_call(
        "responses.create",
        client.responses.create,
        conversation=conversation,
        input=_items(input, outputs),
        **request_params(runnable, input),
    )
    run = to_run(response, conversation)
    return _answer(runnable, run)


async def ainvoke(runnable: Any, input: Mapping[str, Any]) -> Any:
    """``invoke`` with the async client."""
    client = runnable.async_openai_client()
    conversation, outputs = _outputs(runnable, input)
    if conversation is None:
        metadata = input.get("thread_metadata")
        extra = {"metadata": metadata} if metadata is not None else {}
        created = await asdk_call("conversations.create", client.conversations.create, **extra)
        conversation = created.id
    response = await asdk_call(
        "responses.create",
        client.responses.create,
        conversation=conversation,
        input=_items(input, outputs),
        **request_params(runnable, input),
    )
    return _answer(runnable, to_run(response, conversation))


def _answer(runnable: Any, run: ResponsesRun) -> Any:
    if run.status in ("completed", "requires_action"):
        return run_response(run, lambda r: r.messages(), as_agent=runnable.as_agent)
    openai_sdk()  # the SDK is there: a response came back
    error = run.last_error
    detail = f": {error.message}" if error is not None and error.message else ""
    raise ProviderError(
        PROVIDER,
        "responses.create",
        f"Response{str(run.status).title().replace('_', '')}",
        f"response {run.id} in conversation {run.thread_id} ended with status "
        f"{run.status!r}{detail}",
    )
