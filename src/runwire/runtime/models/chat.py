"""Chat models: ``BaseChatModel`` turns messages into an ``AIMessage``, or streams its chunks.

A subclass implements ``_generate(messages, stop=None, **kwargs) -> AIMessage`` and,
when the provider streams, ``_stream(...) -> Iterator[AIMessageChunk]`` (``_agenerate``
and ``_astream`` default to the sync ones in a thread). The base does the rest the way
LangChain does: input coercion, one ``chat_model`` run per call for the callbacks (run
inputs ``{"messages": [messages]}``, one ``on_stream`` per chunk), ``lc_run-`` message
ids, a closing empty chunk marked ``chunk_position="last"``, ``disable_streaming``, and
``with_structured_output`` on top of ``bind_tools``.
"""

from __future__ import annotations

import uuid
import warnings
from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from runwire.runtime.base import Runnable, run_in_executor
from runwire.runtime.cache_calls import CachedCall, chat_hit, mark_hit
from runwire.runtime.callbacks import CallbackContext, Run, callback_context
from runwire.runtime.config import RunnableConfig, ensure_config, new_run_id
from runwire.runtime.models.inputs import to_messages
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.messages import AIMessage, AIMessageChunk, BaseMessage, message_chunk_to_message
from runwire.schema.outputs import ChatGeneration

if TYPE_CHECKING:
    from runwire.runtime.models.structured import RunnableWithStructuredOutput

__all__ = ["BaseChatModel", "BaseLanguageModel", "ModelCall"]

_ID_PREFIX = "lc_run--"  # LangChain joins "lc_run-" and the run id with "-"
_TRACING_KWARGS = ("ls_structured_output_format", "structured_output_format")


class ModelCall:
    """One model call's run: tells the handlers, or does nothing when there are none."""

    __slots__ = ("ctx", "run", "run_id")

    def __init__(
        self, ctx: CallbackContext | None, run: Run | None, run_id: uuid.UUID | str
    ) -> None:
        self.ctx = ctx
        self.run = run
        self.run_id = run_id

    @property
    def wants_streaming(self) -> bool:
        """A handler asked for tokens (``wants_streaming = True``): stream even on invoke."""
        return self.ctx is not None and any(
            getattr(h, "wants_streaming", False) for h in self.ctx.handlers
        )

    def stream(self, chunk: Any) -> None:
        """Report one streamed chunk."""
        if self.run is not None:
            self.ctx.stream(self.run, chunk)  # type: ignore[union-attr]

    def end(self, output: Any) -> None:
        """Close the run with its output."""
        if self.run is not None:
            self.ctx.end(self.run, output)  # type: ignore[union-attr]

    def error(self, exc: BaseException) -> None:
        """Close the run with an error."""
        if self.run is not None:
            self.ctx.error(self.run, exc)  # type: ignore[union-attr]


class BaseLanguageModel(RunnableSerializable[Any, Any]):
    """What chat models and LLMs share: per-model callbacks, tags and metadata."""

    callbacks: Any = Field(default=None, exclude=True)
    """Handlers told about every call of this model (besides the config's)."""
    tags: list[str] | None = Field(default=None, exclude=True)
    """Tags added to this model's runs."""
    metadata: dict[str, Any] | None = Field(default=None, exclude=True)
    """Metadata added to this model's runs."""
    lc_runwire_only_fields: ClassVar[frozenset[str]] = frozenset({"cache"})  # excluded there

    cache: Any = None
    """Answers stored by prompt (see ``runwire.runtime.cache``): a cache object (written
    in the file), ``None`` (the process-wide cache if set), ``True`` (it must be set) or
    ``False`` (none). ``invoke``/``batch`` use it, and ``stream`` when the model does not
    stream, as in LangChain; a failing cache is logged and the model called."""

    @field_validator("cache")
    @classmethod
    def _cache_kind(cls, value: Any) -> Any:
        from runwire.runtime.cache import BaseCache

        if value is None or isinstance(value, bool | BaseCache):
            return value
        raise ValueError("cache must be a cache object (InMemoryCache, ...), true, false or null")

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "models"]

    @property
    def InputType(self) -> Any:
        return str | list[Any]

    def _begin(self, inputs: Any, config: RunnableConfig | None) -> ModelCall:
        """Open the run of one call (only when there are handlers)."""
        config = ensure_config(config)
        if self.tags:
            config["tags"] = [*config["tags"], *(t for t in self.tags if t not in config["tags"])]
        if self.metadata:
            config["metadata"] = {**config["metadata"], **self.metadata}
        ctx = callback_context(config["callbacks"])
        if self.callbacks:
            extra = self.callbacks if isinstance(self.callbacks, list | tuple) else [self.callbacks]
            ctx = ctx.with_handlers(extra) if ctx is not None else CallbackContext(tuple(extra))
        if ctx is None:
            return ModelCall(None, None, config.get("run_id") or new_run_id())
        run = self._start_run(ctx, inputs, config, None)
        return ModelCall(ctx, run, run.id)


def _call_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Drop the tracing-only kwargs that ``with_structured_output`` binds."""
    if kwargs:
        for key in _TRACING_KWARGS:
            kwargs.pop(key, None)
    return kwargs


def _last_chunk(last: AIMessageChunk | None, msg_id: str) -> AIMessageChunk | None:
    """The empty closing chunk LangChain appends when the provider did not mark one."""
    if last is None:
        raise ValueError("No generation chunks were returned")
    if last.chunk_position:
        return None
    empty: Any = "" if isinstance(last.content, str) else []
    return AIMessageChunk(content=empty, chunk_position="last", id=msg_id)


class BaseChatModel(BaseLanguageModel):
    """Base of chat models: messages in, an ``AIMessage`` out."""

    run_type = "chat_model"

    disable_streaming: bool | Literal["tool_calling"] = False
    """``True``: ``stream`` falls back to ``invoke``; ``"tool_calling"``: only when tools
    are passed to the call."""
    output_version: str | None = None
    """LangChain's content format switch; runwire keeps provider content (``None``/``"v0"``)."""

    structured_output_repairs_args: ClassVar[bool] = False
    """``with_structured_output`` unwraps object/array arguments the model sent as JSON
    strings (langchain-aws does this for its Bedrock models)."""

    @property
    def OutputType(self) -> Any:
        return AIMessage

    # -- what subclasses implement -------------------------------------------------------
    @abstractmethod
    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        """Call the model once; return a fresh ``AIMessage``."""

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        """Stream the reply as fresh ``AIMessageChunk``s (optional)."""
        raise NotImplementedError(f"{type(self).__name__} does not stream")

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AIMessage:
        """Async ``_generate``; by default ``_generate`` in a thread."""
        return await run_in_executor(None, partial(self._generate, messages, stop, **kwargs))

    async def _astream(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Async ``_stream``; by default ``_stream`` stepped in a thread."""
        iterator = self._stream(messages, stop, **kwargs)
        done: Any = object()
        while True:
            chunk = await run_in_executor(None, next, iterator, done)
            if chunk is done:
                return
            yield chunk

    # -- streaming decisions (LangChain's rules) -----------------------------------------
    def _streaming_flag(self) -> bool | None:
        """A provider's ``streaming`` field, when the user set it."""
        if "streaming" in self.__pydantic_fields_set__:
            return getattr(self, "streaming", None)
        return None

    def _tools_requested(self, kwargs: dict[str, Any]) -> bool:
        """Whether this call carries tools (for ``disable_streaming="tool_calling"``)."""
        return bool(kwargs.get("tools"))

    def _can_stream(self, async_api: bool) -> bool:
        cls = type(self)
        if cls._stream is not BaseChatModel._stream:
            return True
        return async_api and cls._astream is not BaseChatModel._astream

    def _streaming_disabled(self, kwargs: dict[str, Any]) -> bool:
        if self.disable_streaming is True:
            return True
        if self.disable_streaming == "tool_calling" and self._tools_requested(kwargs):
            return True
        if "stream" in kwargs and not kwargs["stream"]:
            return True
        return self._streaming_flag() is False

    def _streams_on_invoke(self, call: ModelCall, kwargs: dict[str, Any], async_api: bool) -> bool:
        asked = call.wants_streaming or kwargs.get("stream") or self._streaming_flag() is True
        return bool(asked) and self._can_stream(async_api) and not self._streaming_disabled(kwargs)

    def _check_output_version(self) -> None:
        if self.output_version not in (None, "v0"):
            raise NotImplementedError(
                f"output_version={self.output_version!r} (standard content blocks) is not "
                "implemented in runwire: leave it unset (or 'v0') to keep provider content"
            )

    # -- chunk bookkeeping ---------------------------------------------------------------
    def _chunks(
        self, source: Iterator[AIMessageChunk], call: ModelCall
    ) -> Iterator[AIMessageChunk]:
        msg_id = f"{_ID_PREFIX}{call.run_id}"
        last = None
        for chunk in source:
            if chunk.id is None:
                chunk.__dict__["id"] = msg_id
            call.stream(chunk)
            last = chunk
            yield chunk
        final = _last_chunk(last, msg_id)
        if final is not None:
            call.stream(final)
            yield final

    async def _achunks(
        self, source: AsyncIterator[AIMessageChunk], call: ModelCall
    ) -> AsyncIterator[AIMessageChunk]:
        msg_id = f"{_ID_PREFIX}{call.run_id}"
        last = None
        async for chunk in source:
            if chunk.id is None:
                chunk.__dict__["id"] = msg_id
            call.stream(chunk)
            last = chunk
            yield chunk
        final = _last_chunk(last, msg_id)
        if final is not None:
            call.stream(final)
            yield final

    def _finish(self, message: AIMessage, call: ModelCall) -> AIMessage:
        if message.id is None:
            message.__dict__["id"] = f"{_ID_PREFIX}{call.run_id}-0"
        return message

    # -- calls ---------------------------------------------------------------------------
    def invoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        messages = to_messages(input)
        kwargs = _call_kwargs(kwargs)
        self._check_output_version()
        call = self._begin({"messages": [messages]}, config)
        try:
            cached = CachedCall.for_chat(self, messages, stop, kwargs)
            hit = cached.lookup() if cached is not None else None
            if hit:
                mark_hit(call)
                message: AIMessage = chat_hit(hit)
            elif self._streams_on_invoke(call, kwargs, async_api=False):
                total: Any = None
                for chunk in self._chunks(self._stream(messages, stop, **kwargs), call):
                    total = chunk if total is None else total + chunk
                message = message_chunk_to_message(total)  # type: ignore[assignment]
            else:
                message = self._finish(self._generate(messages, stop, **kwargs), call)
            if cached is not None and not hit:
                cached.update([ChatGeneration(message=message)])
        except BaseException as exc:
            call.error(exc)
            raise
        call.end(message)
        return message

    async def ainvoke(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        messages = to_messages(input)
        kwargs = _call_kwargs(kwargs)
        self._check_output_version()
        call = self._begin({"messages": [messages]}, config)
        try:
            cached = CachedCall.for_chat(self, messages, stop, kwargs)
            hit = await cached.alookup() if cached is not None else None
            if hit:
                mark_hit(call)
                message: AIMessage = chat_hit(hit)
            elif self._streams_on_invoke(call, kwargs, async_api=True):
                total: Any = None
                async for chunk in self._achunks(self._astream(messages, stop, **kwargs), call):
                    total = chunk if total is None else total + chunk
                message = message_chunk_to_message(total)  # type: ignore[assignment]
            else:
                message = self._finish(await self._agenerate(messages, stop, **kwargs), call)
            if cached is not None and not hit:
                await cached.aupdate([ChatGeneration(message=message)])
        except BaseException as exc:
            call.error(exc)
            raise
        call.end(message)
        return message

    def stream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        if not self._can_stream(async_api=False) or self._streaming_disabled(kwargs):
            yield self.invoke(input, config, stop=stop, **kwargs)  # type: ignore[misc]
            return
        messages = to_messages(input)
        kwargs = _call_kwargs(kwargs)
        self._check_output_version()
        call = self._begin({"messages": [messages]}, config)
        total: Any = None
        try:
            for chunk in self._chunks(self._stream(messages, stop, **kwargs), call):
                if call.run is not None:
                    total = chunk if total is None else total + chunk
                yield chunk
        except BaseException as exc:
            call.error(exc)
            raise
        call.end(total)

    async def astream(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        if not self._can_stream(async_api=True) or self._streaming_disabled(kwargs):
            yield await self.ainvoke(input, config, stop=stop, **kwargs)  # type: ignore[misc]
            return
        messages = to_messages(input)
        kwargs = _call_kwargs(kwargs)
        self._check_output_version()
        call = self._begin({"messages": [messages]}, config)
        total: Any = None
        try:
            async for chunk in self._achunks(self._astream(messages, stop, **kwargs), call):
                if call.run is not None:
                    total = chunk if total is None else total + chunk
                yield chunk
        except BaseException as exc:
            call.error(exc)
            raise
        call.end(total)

    # -- tools and structured output -----------------------------------------------------
    def bind_tools(
        self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any
    ) -> Runnable[Any, AIMessage]:
        """This model with tools it may call (OpenAI-style specs, see ``models.tools``)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not support tool calling: its class must implement "
            "bind_tools(tools, *, tool_choice=None, **kwargs)"
        )

    def with_structured_output(
        self,
        schema: Any = None,
        *,
        include_raw: bool = False,
        method: Literal["function_calling", "json_mode", "json_schema"] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> RunnableWithStructuredOutput:
        """This model answering with ``schema``: a pydantic instance, or a dict.

        ``schema`` is a pydantic class (output: an instance), a TypedDict, a JSON
        Schema with a ``title`` or an OpenAI tool dict (output: a dict). By default
        (``method="function_calling"``) the schema is bound as the one tool the model
        must call; ``"json_mode"``/``"json_schema"`` work on models that implement them
        (``_bind_structured_output``). With ``include_raw`` the output is ``{"raw":
        AIMessage, "parsed": ..., "parsing_error": exception or None}``. The result is
        serializable: see :mod:`runwire.runtime.models.structured`.
        """
        from runwire.runtime.models.structured import structured_output

        return structured_output(
            self, schema, method=method, include_raw=include_raw, strict=strict, **kwargs
        )

    def _structured_tool_choice(self, name: str) -> Any:
        """The ``tool_choice`` that makes the model call the structured-output tool.

        ``"any"``; a model that lists the choices it supports (``tool_choice_values()``,
        as Bedrock Converse does) gets the tool by name when it can, else ``"any"``,
        else no forced choice (with a warning: the output is ``None`` when the model
        answers without calling the tool).
        """
        values = getattr(self, "tool_choice_values", None)
        if values is None:
            return "any"
        supported = values()
        if "tool" in supported:
            return name
        if "any" in supported:
            return "any"
        warnings.warn(
            f"{type(self).__name__} model does not support forced tool use: structured "
            "output relies on the model choosing to call the tool, and is None when it "
            "does not",
            stacklevel=4,
        )
        return None

    def _bind_structured_output(self, spec: RunnableWithStructuredOutput) -> Runnable[Any, Any]:
        """This model set up to answer as ``spec`` asks (its parser is added by ``spec``).

        The base does ``function_calling`` through ``bind_tools``; a model that can do
        ``json_mode`` or ``json_schema`` overrides this for those methods.
        """
        if spec.method != "function_calling":
            raise NotImplementedError(
                f"with_structured_output(method={spec.method!r}) is not implemented for "
                f"{type(self).__name__} in runwire: use method='function_calling' (the default)"
            )
        if type(self).bind_tools is BaseChatModel.bind_tools:
            raise NotImplementedError(
                f"with_structured_output is not available for {type(self).__name__}: "
                "it needs tool calling (bind_tools)"
            )
        kwargs: dict[str, Any] = {
            "tool_choice": self._structured_tool_choice(str(spec.name_of_answer)),
            "ls_structured_output_format": {
                "kwargs": {"method": "function_calling"},
                "schema": spec.tool,
            },
        }
        if spec.strict is not None:
            kwargs["strict"] = spec.strict
        return self.bind_tools([spec.tool], **kwargs)
