"""``OpenAIAssistantV2Runnable``: run an OpenAI Assistant (Assistants API v2).

langchain-community's class, over the official ``openai`` SDK (the ``openai`` extra),
for OpenAI, Azure OpenAI and Assistants-compatible servers::

    assistant = OpenAIAssistantV2Runnable.create_assistant(
        name="math tutor", instructions="Answer math questions.",
        tools=[{"type": "code_interpreter"}], model="gpt-4o",
    )
    messages = assistant.invoke({"content": "What's 10 - 4 raised to the 2.7?"})

``invoke`` starts a thread and a run (``content``), adds a message and a run to a
thread (``content`` + ``thread_id``), or submits tool outputs (``tool_outputs`` +
``run_id`` + ``thread_id``); then it polls the run every ``check_every_ms`` (``ainvoke``
sleeps on the event loop) until it leaves ``queued``/``in_progress``. A completed run
returns its messages; a run that requires action returns its tool calls; with
``as_agent`` these are an :class:`OpenAIAssistantFinish` and a list of
:class:`OpenAIAssistantAction`. Any other status is a ``ProviderError`` naming the run.

The API key is ``openai_api_key`` (secret ``OPENAI_API_KEY``, the environment variable
by default); ``base_url`` (else the SDK's ``OPENAI_BASE_URL``) points at another server.
``backend: responses`` runs the same inputs and outputs on OpenAI's Responses API (after
the Assistants shutdown), the assistant's ``model``, ``instructions`` and ``tools`` taken
from the fields of the same names (see ``responses_backend``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, PrivateAttr, SecretStr, field_validator

from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.aws.client import env_secret
from runwire.providers.openai.assistant_sdk import (
    PROVIDER,
    asdk_call,
    assistant_tool,
    attachments,
    openai_sdk,
    run_response,
    sdk_call,
)
from runwire.redaction import register_secret
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.trust import TrustMark, UntrustedValueError, current_trust, endpoint_matches

__all__ = ["OpenAIAssistantV2Runnable"]

OPENAI_ENDPOINTS = ("https://api.openai.com", "https://*.openai.azure.com")
_WAITING = ("queued", "in_progress")
_RUN_PARAMS = ("instructions", "model", "tools", "tool_resources")


class _Clients(dict):  # type: ignore[type-arg]
    """The SDK clients a runnable built; not part of its value (any two compare equal,
    a deep copy starts empty)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Clients)

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict[int, Any]) -> _Clients:
        return _Clients()


class OpenAIAssistantV2Runnable(RunnableSerializable[dict[str, Any], Any]):
    """An OpenAI Assistant as a runnable: a message in, the run's messages (or tool
    calls, or agent actions and finishes with ``as_agent``) out.

    ``backend="assistants"`` uses the Assistants API v2 (threads and runs, polled every
    ``check_every_ms``); ``backend="responses"`` the Responses API with Conversations as
    threads and ``model``/``instructions``/``tools`` from the fields. See the module
    docstring for the inputs.
    """

    lc_secret_service: ClassVar[str] = "openai"
    lc_secret_ids: ClassVar[dict[str, str]] = {"openai_api_key": "OPENAI_API_KEY"}

    client: Any = Field(default=None, exclude=True)
    """An ``openai.OpenAI`` or ``openai.AzureOpenAI`` client (built when not given)."""
    async_client: Any = Field(default=None, exclude=True)
    """An ``openai.AsyncOpenAI`` or ``AsyncAzureOpenAI`` client (built when not given)."""
    assistant_id: str
    """The assistant's id."""
    check_every_ms: float = 1000.0
    """How often to check a run's progress, in milliseconds."""
    as_agent: bool = False
    """Return agent actions and finishes instead of the SDK's objects."""
    backend: Literal["assistants", "responses"] = "assistants"
    """The API behind the runnable: the Assistants API, or the Responses API with
    Conversations as threads (see :mod:`runwire.providers.openai.responses_backend`)."""
    openai_api_key: SecretStr | None = Field(
        default_factory=env_secret("OPENAI_API_KEY"), alias="api_key"
    )
    """The API key; defaults to OPENAI_API_KEY."""
    base_url: str | None = None
    """The API's base URL; None: the SDK's default (OPENAI_BASE_URL, else OpenAI's)."""
    run_timeout: float = 600.0
    """Seconds to wait for a run to leave queued/in_progress before giving up."""
    model: str | None = None
    """``backend: responses``: the assistant's model (a call's ``model`` overrides it)."""
    instructions: str | None = None
    """``backend: responses``: the assistant's instructions."""
    tools: list[dict[str, Any]] | None = None
    """``backend: responses``: the assistant's tools (Assistants format)."""
    tool_resources: dict[str, Any] | None = None
    """``backend: responses``: the assistant's tool resources (file search vector stores)."""

    _clients: _Clients = PrivateAttr(default_factory=lambda: _Clients())
    _trust: TrustMark = PrivateAttr(default_factory=TrustMark)

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "providers", "openai"]

    @property
    def InputType(self) -> Any:
        return dict[str, Any]

    @field_validator("base_url")
    @classmethod
    def _base_url_allowed(cls, value: str | None) -> str | None:
        trust = current_trust()
        if value and not trust.trusted:
            known = any(endpoint_matches(value, rule) for rule in OPENAI_ENDPOINTS)
            if not (known or trust.allows_endpoint(value)):
                raise UntrustedValueError(
                    f"base_url {value!r} is neither OpenAI's nor Azure OpenAI's endpoint nor "
                    "on allowed_endpoints; an untrusted manifest may only send requests there",
                    "if you run that server, add its origin to allowed_endpoints",
                )
        return value

    # -- clients ---------------------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else None
        if key is None and not self._trust.trust.trusted:
            raise ProviderSetupError(
                "OpenAIAssistantV2Runnable was loaded from an untrusted manifest and has no "
                "openai_api_key: pass OPENAI_API_KEY in secrets_map"
            )
        if key:
            register_secret(key)
        return {"api_key": key, "base_url": self.base_url}

    def sync_client(self) -> Any:
        """The ``openai`` client: the given one, else one built from the fields."""
        if self.client is not None:
            return self.client
        if "sync" not in self._clients:
            openai = openai_sdk()
            self._clients["sync"] = openai.OpenAI(**self._settings())
        return self._clients["sync"]

    def async_openai_client(self) -> Any:
        """The async client: the given one, else one with the sync client's settings,
        made per event loop (an async client's connections belong to the loop that
        opened them; clients of closed loops are dropped)."""
        if self.async_client is not None:
            return self.async_client
        loop = asyncio.get_running_loop()
        made: dict[int, tuple[Any, Any]] = self._clients.setdefault("async", {})
        entry = made.get(id(loop))
        if entry is not None and entry[0] is loop:
            return entry[1]
        for key, (other, _) in list(made.items()):
            if other.is_closed() or key == id(loop):
                del made[key]
        if self.client is not None:
            settings = {"api_key": self.client.api_key, "base_url": self.client.base_url}
        else:
            settings = self._settings()
        client = openai_sdk().AsyncOpenAI(**settings)
        made[id(loop)] = (loop, client)
        return client

    # -- creating assistants ---------------------------------------------------------------
    @classmethod
    def _assistant_params(
        cls,
        name: str,
        instructions: str,
        tools: Sequence[Any],
        model: str,
        model_kwargs: Mapping[str, float] | None,
        tool_resources: Any,
        extra_body: Any,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "name": name,
            "instructions": instructions,
            "tools": [assistant_tool(tool) for tool in tools],
            "model": model,
            **(model_kwargs or {}),
        }
        if tool_resources is not None:
            params["tool_resources"] = tool_resources
        if extra_body is not None:
            params["extra_body"] = extra_body
        return params

    @classmethod
    def create_assistant(
        cls,
        name: str,
        instructions: str,
        tools: Sequence[Any],
        model: str,
        *,
        model_kwargs: Mapping[str, float] | None = None,
        client: Any = None,
        tool_resources: Any = None,
        extra_body: Any = None,
        **kwargs: Any,
    ) -> OpenAIAssistantV2Runnable:
        """Create an assistant (tools: built-ins, OpenAI tool dicts, or anything
        ``convert_to_openai_tool`` takes) and a runnable running it."""
        client = client or openai_sdk().OpenAI()
        params = cls._assistant_params(
            name, instructions, tools, model, model_kwargs, tool_resources, extra_body
        )
        assistant = sdk_call("assistants.create", client.beta.assistants.create, **params)
        return cls(assistant_id=assistant.id, client=client, **kwargs)

    @classmethod
    async def acreate_assistant(
        cls,
        name: str,
        instructions: str,
        tools: Sequence[Any],
        model: str,
        *,
        model_kwargs: Mapping[str, float] | None = None,
        async_client: Any = None,
        tool_resources: Any = None,
        extra_body: Any = None,
        **kwargs: Any,
    ) -> OpenAIAssistantV2Runnable:
        """``create_assistant`` with an async client."""
        async_client = async_client or openai_sdk().AsyncOpenAI()
        params = cls._assistant_params(
            name, instructions, tools, model, model_kwargs, tool_resources, extra_body
        )
        create = async_client.beta.assistants.create
        assistant = await asdk_call("assistants.create", create, **params)
        return cls(assistant_id=assistant.id, async_client=async_client, **kwargs)

    # -- invoke ---------------------------------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if self.backend == "responses":
            from runwire.providers.openai import responses_backend

            return self._call_with_config(
                lambda i, c: responses_backend.invoke(self, i), input, config
            )
        return self._call_with_config(lambda i, c: self._invoke(i, kwargs), input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if self.backend == "responses":
            from runwire.providers.openai import responses_backend

            return await self._acall_with_config(
                lambda i, c: responses_backend.ainvoke(self, i), input, config
            )
        return await self._acall_with_config(lambda i, c: self._ainvoke(i, kwargs), input, config)

    def _invoke(self, input: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Any:
        beta = self.sync_client().beta
        if self.as_agent and input.get("intermediate_steps"):
            outputs = self._tool_outputs(input["intermediate_steps"], self._wait)
            run = sdk_call(
                "runs.submit_tool_outputs",
                beta.threads.runs.submit_tool_outputs,
                outputs.pop("run_id"),
                **outputs,
            )
        elif "thread_id" not in input:
            thread = self._new_thread(input, kwargs)
            run = sdk_call(
                "threads.create_and_run",
                beta.threads.create_and_run,
                assistant_id=self.assistant_id,
                thread=thread,
                **self._run_params(input, with_resources=False),
            )
        elif "run_id" not in input:
            sdk_call(
                "messages.create",
                beta.threads.messages.create,
                input["thread_id"],
                **self._message(input, kwargs),
            )
            run = sdk_call(
                "runs.create",
                beta.threads.runs.create,
                input["thread_id"],
                assistant_id=self.assistant_id,
                **self._run_params(input),
            )
        else:
            run = sdk_call(
                "runs.submit_tool_outputs",
                beta.threads.runs.submit_tool_outputs,
                input["run_id"],
                thread_id=input["thread_id"],
                tool_outputs=input.get("tool_outputs") or [],
            )
        run = self._wait(run.id, run.thread_id)
        return self._response(run, self._completed_messages)

    async def _ainvoke(self, input: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Any:
        beta = self.async_openai_client().beta
        if self.as_agent and input.get("intermediate_steps"):
            outputs = await self._atool_outputs(input["intermediate_steps"])
            run = await asdk_call(
                "runs.submit_tool_outputs",
                beta.threads.runs.submit_tool_outputs,
                outputs.pop("run_id"),
                **outputs,
            )
        elif "thread_id" not in input:
            thread = self._new_thread(input, kwargs)
            run = await asdk_call(
                "threads.create_and_run",
                beta.threads.create_and_run,
                assistant_id=self.assistant_id,
                thread=thread,
                **self._run_params(input, with_resources=False),
            )
        elif "run_id" not in input:
            await asdk_call(
                "messages.create",
                beta.threads.messages.create,
                input["thread_id"],
                **self._message(input, kwargs),
            )
            run = await asdk_call(
                "runs.create",
                beta.threads.runs.create,
                input["thread_id"],
                assistant_id=self.assistant_id,
                **self._run_params(input),
            )
        else:
            run = await asdk_call(
                "runs.submit_tool_outputs",
                beta.threads.runs.submit_tool_outputs,
                input["run_id"],
                thread_id=input["thread_id"],
                tool_outputs=input.get("tool_outputs") or [],
            )
        run = await self._await(run.id, run.thread_id)
        if run.status == "completed":
            listed = await asdk_call(
                "messages.list", beta.threads.messages.list, run.thread_id, order="asc"
            )
            messages = [m async for m in listed]
            return self._response(run, lambda r: [m for m in messages if m.run_id == r.id])
        return self._response(run, lambda r: [])

    # -- request pieces -------------------------------------------------------------------
    def _message(self, input: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "role": "user",
            "content": input["content"],
            "attachments": attachments(input, kwargs),
        }
        if input.get("message_metadata") is not None:
            message["metadata"] = input["message_metadata"]
        return message

    def _new_thread(self, input: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        if "content" not in input:
            raise ValueError(
                "an assistant input needs 'content' to start a thread (or thread_id to "
                "continue one, or run_id + thread_id + tool_outputs to answer tool calls)"
            )
        thread: dict[str, Any] = {"messages": [self._message(input, kwargs)]}
        if input.get("thread_metadata") is not None:
            thread["metadata"] = input["thread_metadata"]
        if input.get("tool_resources"):
            thread["tool_resources"] = input["tool_resources"]
        return thread

    @staticmethod
    def _run_params(input: Mapping[str, Any], *, with_resources: bool = True) -> dict[str, Any]:
        names = _RUN_PARAMS if with_resources else _RUN_PARAMS[:3]
        params = {name: input[name] for name in names if name in input}
        if "tools" in params:
            params["tools"] = [assistant_tool(tool) for tool in params["tools"]]
        if input.get("run_metadata") is not None:
            params["metadata"] = input["run_metadata"]
        return params

    # -- polling --------------------------------------------------------------------------
    def _wait(self, run_id: str, thread_id: str) -> Any:
        retrieve = self.sync_client().beta.threads.runs.retrieve
        deadline = time.monotonic() + self.run_timeout
        while True:
            run = sdk_call("runs.retrieve", retrieve, run_id, thread_id=thread_id)
            if run.status not in _WAITING:
                return run
            self._check_deadline(run, deadline)
            time.sleep(self.check_every_ms / 1000)

    async def _await(self, run_id: str, thread_id: str) -> Any:
        retrieve = self.async_openai_client().beta.threads.runs.retrieve
        deadline = time.monotonic() + self.run_timeout
        while True:
            run = await asdk_call("runs.retrieve", retrieve, run_id, thread_id=thread_id)
            if run.status not in _WAITING:
                return run
            self._check_deadline(run, deadline)
            await asyncio.sleep(self.check_every_ms / 1000)

    def _check_deadline(self, run: Any, deadline: float) -> None:
        if time.monotonic() > deadline:
            raise ProviderError(
                PROVIDER,
                "runs.retrieve",
                "RunTimeout",
                f"run {run.id} of thread {run.thread_id} is still {run.status} after "
                f"{self.run_timeout:g} s (run_timeout)",
            )

    # -- tool outputs and responses --------------------------------------------------------
    @staticmethod
    def _outputs_of(steps: Sequence[Any], run: Any) -> dict[str, Any]:
        last = steps[-1][0]
        required = {c.id for c in run.required_action.submit_tool_outputs.tool_calls}
        outputs = [
            {"output": str(output), "tool_call_id": action.tool_call_id}
            for action, output in steps
            if action.tool_call_id in required
        ]
        return {"tool_outputs": outputs, "run_id": last.run_id, "thread_id": last.thread_id}

    def _tool_outputs(self, steps: Sequence[Any], wait: Callable[[str, str], Any]) -> dict:
        last = steps[-1][0]
        return self._outputs_of(steps, wait(last.run_id, last.thread_id))

    async def _atool_outputs(self, steps: Sequence[Any]) -> dict[str, Any]:
        last = steps[-1][0]
        return self._outputs_of(steps, await self._await(last.run_id, last.thread_id))

    def _completed_messages(self, run: Any) -> list[Any]:
        listed = sdk_call(
            "messages.list",
            self.sync_client().beta.threads.messages.list,
            run.thread_id,
            order="asc",
        )
        return [message for message in listed if message.run_id == run.id]

    def _response(self, run: Any, messages_of: Callable[[Any], list[Any]]) -> Any:
        return run_response(run, messages_of, as_agent=self.as_agent)
