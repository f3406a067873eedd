"""``RunnableWithMessageHistory``: another runnable, given a session's chat history.

LangChain's contract (``langchain_core.runnables.history``): each call names its session
in ``config["configurable"]`` (``session_id`` by default; ``history_factory_config``
changes the keys), the session's messages are loaded and put into the input, the
wrapped runnable runs, and the call's input messages then its output messages are
appended to the session. The difference: the history lives in a serializable store
(``history``, see :mod:`runwire.runtime.history_stores`) instead of a Python factory,
so the whole pipeline is a file. A Python ``get_session_history`` callable still works
for code moved from LangChain; such an object dumps as ``not_implemented``, as there.

What the wrapped runnable receives:

- no keys: the history plus the input's messages, as one list;
- ``input_messages_key`` only: the input dict with that key's messages after the history;
- ``history_messages_key``: the input dict plus that key holding the history.

Message coercion follows LangChain: a string is a ``HumanMessage`` (an ``AIMessage``
on output), a message is itself, a list or tuple is its items, and a dict is read at
``input_messages_key`` / ``output_messages_key`` (else its only key, else ``"input"`` /
``"output"``). List items are also coerced here (``("human", "hi")``, message dicts), as
a store keeps only messages. A stream appends its chunks' sum after the last chunk; a
call that fails, or a stream not read to the end, appends nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, Field, WithJsonSchema, field_validator, model_validator

from runwire.runtime.base import Runnable, child
from runwire.runtime.config import RunnableConfig
from runwire.runtime.configurable_spec import ConfigurableFieldSpec, unique_specs
from runwire.runtime.history_stores import BaseChatHistoryStore
from runwire.runtime.serializable import RunnableSerializable
from runwire.runtime.tracing import NOTHING, add_chunks
from runwire.schema.coerce import convert_to_message
from runwire.schema.messages import BaseMessage
from runwire.schema.nodes import SerializedConstructor, SerializedNotImplemented

__all__ = ["SESSION_ID_SPEC", "RunnableWithMessageHistory"]

SESSION_ID_SPEC = ConfigurableFieldSpec(
    id="session_id",
    annotation=str,
    name="Session ID",
    description="Unique identifier for a session.",
    default="",
    is_shared=True,
)
"""The default ``history_factory_config``: one ``session_id`` string (LangChain's)."""

_ANNOTATIONS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
"""Annotations a file may give a history config field (LangChain writes them as
``not_implemented`` nodes of ``builtins``)."""

_LANGCHAIN_FILE = (
    "this is LangChain's form of RunnableWithMessageHistory: LangChain writes the "
    "session factory (get_session_history) as not_implemented and the wrapped runnable "
    "only inside lambdas, so neither is in the file (LangChain cannot load it either)"
)
_LANGCHAIN_HINT = (
    "write runnable: <the wrapped chain> and history: {_type: InMemoryChatHistoryStore} "
    "(or SqliteChatHistoryStore with a path) instead of bound and get_session_history"
)


_SPEC_ITEMS: list[dict[str, Any]] = [
    {"type": "string", "title": "Id", "minLength": 1},
    {"title": "Annotation", "description": "str, int, float or bool (null: str)"},
    {"type": ["string", "null"], "title": "Name"},
    {"type": ["string", "null"], "title": "Description"},
    {"title": "Default"},
    {"type": "boolean", "title": "Is Shared"},
    {"type": ["array", "null"], "items": {"type": "string"}, "title": "Dependencies"},
]
_SPECS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {
        "anyOf": [
            {"type": "array", "prefixItems": _SPEC_ITEMS, "minItems": 1, "maxItems": 7},
            {
                "type": "object",
                "properties": {
                    key: item
                    for key, item in zip(ConfigurableFieldSpec._fields, _SPEC_ITEMS, strict=True)
                },
                "required": ["id"],
                "additionalProperties": False,
            },
        ]
    },
}
"""What a file may write as ``history_factory_config``: LangChain's lists, or objects."""


class _Refused(ValueError):
    """A refused value with a fix hint (the loader shows both)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _annotation(value: Any) -> Any:
    if value is None or isinstance(value, type):
        return str if value is None else value
    ident = value.get("id") if isinstance(value, dict) else None
    if (
        isinstance(ident, list)
        and len(ident) == 2
        and ident[0] == "builtins"
        and ident[1] in _ANNOTATIONS
    ):
        return _ANNOTATIONS[ident[1]]
    raise _Refused(
        f"a history config field's annotation must be str, int, float or bool, got {value!r:.80}",
        "write the annotation as null (a string) or leave it out",
    )


def _spec(item: Any) -> ConfigurableFieldSpec:
    if isinstance(item, ConfigurableFieldSpec):
        return item
    if isinstance(item, dict) and "lc" not in item:
        fields = dict(item)
    elif isinstance(item, list | tuple) and 1 <= len(item) <= 7:
        fields = dict(zip(ConfigurableFieldSpec._fields, item, strict=False))
    else:
        raise _Refused(
            f"a history config field must be a spec list or dict, got {item!r:.80}",
            'write [id, null, name, description, default, is_shared] or {"id": "user_id"}',
        )
    if not isinstance(fields.get("id"), str) or not fields["id"]:
        raise _Refused("a history config field needs a string id", 'e.g. {"id": "user_id"}')
    unknown = set(fields) - set(ConfigurableFieldSpec._fields)
    if unknown:
        raise _Refused(
            f"unknown history config key(s) {sorted(unknown)}",
            f"keys are {', '.join(ConfigurableFieldSpec._fields)}",
        )
    fields["annotation"] = _annotation(fields.get("annotation"))
    return ConfigurableFieldSpec(**fields)


class RunnableWithMessageHistory(RunnableSerializable[Any, Any]):
    """Runs ``runnable`` with the history of the session named in the call's config."""

    runnable: Runnable[Any, Any]
    """The wrapped runnable (LangChain's first constructor argument)."""
    history: BaseChatHistoryStore | None = None
    """The store of every session's messages."""
    input_messages_key: str | None = None
    """The input dict's key of the new messages (when the input is a dict)."""
    output_messages_key: str | None = None
    """The output dict's key of the reply messages (when the output is a dict)."""
    history_messages_key: str | None = None
    """The input dict's key the history goes in (else it goes before the new messages)."""
    history_factory_config: Annotated[
        list[ConfigurableFieldSpec], WithJsonSchema(_SPECS_SCHEMA)
    ] = Field(default_factory=lambda: [SESSION_ID_SPEC])
    """The ``config["configurable"]`` keys that name a session (``session_id``)."""
    get_session_history: Any = Field(default=None, exclude=True)
    """Python only: LangChain's factory (session keys -> a chat message history), used
    instead of ``history``; an object holding one is not serializable."""
    bound: Any = Field(default=None, exclude=True)
    """LangChain's key, read only to explain that its file cannot be rebuilt."""
    config: Any = Field(default=None, exclude=True)
    """LangChain's key, read only to explain that its file cannot be rebuilt."""

    lc_raw_fields = frozenset({"history_factory_config", "get_session_history", "bound", "config"})

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def _init_kwargs(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """LangChain's call shape: ``(runnable, store_or_factory, **keys)``."""
        if len(args) > 2:
            raise TypeError("RunnableWithMessageHistory() takes at most 2 positional arguments")
        names = ["runnable"]
        if len(args) == 2:
            store = isinstance(args[1], BaseChatHistoryStore)
            names.append("history" if store else "get_session_history")
        for name, value in zip(names, args, strict=False):
            if name in kwargs:
                raise TypeError(f"RunnableWithMessageHistory() got {name!r} twice")
            kwargs[name] = value
        return kwargs

    @model_validator(mode="before")
    @classmethod
    def _not_langchain_form(cls, data: Any) -> Any:
        if isinstance(data, dict):
            factory = data.get("get_session_history")
            if data.get("bound") is not None or isinstance(factory, dict):
                raise _Refused(_LANGCHAIN_FILE, _LANGCHAIN_HINT)
            if data.get("config") is not None:
                raise _Refused(
                    "RunnableWithMessageHistory takes no config",
                    "bind config on the wrapped runnable (runnable.with_config(...))",
                )
        return data

    @field_validator("history_factory_config", mode="before")
    @classmethod
    def _specs(cls, value: Any) -> list[ConfigurableFieldSpec]:
        if value is None:
            return [SESSION_ID_SPEC]
        if not isinstance(value, list | tuple) or not value:
            raise _Refused(
                "history_factory_config must be a non-empty list of config fields",
                "leave it out for the default session_id",
            )
        specs = [_spec(item) for item in value]
        if len({s.id for s in specs}) != len(specs):
            raise _Refused("history_factory_config names a key twice", "give each id once")
        return specs

    @model_validator(mode="after")
    def _one_source(self) -> RunnableWithMessageHistory:
        if (self.history is None) == (self.get_session_history is None):
            raise _Refused(
                "give exactly one of history (a store) and get_session_history (Python only)",
                "history: {_type: InMemoryChatHistoryStore}",
            )
        if self.get_session_history is not None and not callable(self.get_session_history):
            raise _Refused("get_session_history must be callable", "pass a function")
        return self

    def to_json(self) -> SerializedConstructor | SerializedNotImplemented:
        """Not serializable while it holds a Python ``get_session_history`` (as in LangChain)."""
        if self.history is None:
            return self.to_json_not_implemented()
        return super().to_json()

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        return super().get_name(suffix, name=name or self.name or "RunnableWithMessageHistory")

    # -- schemas -----------------------------------------------------------------------
    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """LangChain's: the messages key's value, or the whole input, as messages."""
        from runwire.runtime.schemas import object_model, root_model
        from runwire.schema.messages import AnyMessage

        name = "RunnableWithChatHistoryInput"
        key = self.input_messages_key
        if key and self.history_messages_key:
            return object_model(name, {key: (str | AnyMessage | list[AnyMessage], ...)})
        if key:
            return object_model(name, {key: (list[AnyMessage], ...)})
        return root_model(name, list[AnyMessage])

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        from runwire.runtime.schemas import root_model

        return root_model("RunnableWithChatHistoryOutput", self.runnable.OutputType)

    @property
    def OutputType(self) -> Any:
        return self.runnable.OutputType

    @property
    def config_specs(self) -> list[Any]:
        return unique_specs([*self.runnable.config_specs, *self.history_factory_config])

    # -- the session -------------------------------------------------------------------
    def _session(self, config: RunnableConfig) -> Any:
        """The history object of the session the config names (LangChain's checks)."""
        configurable = config.get("configurable") or {}
        expected = [spec.id for spec in self.history_factory_config]
        factory = self.get_session_history
        params = _parameter_names(factory) if factory is not None else expected
        missing = set(expected) - set(configurable)
        if missing and params:
            example = {"configurable": dict.fromkeys(sorted(missing), "[your-value-here]")}
            raise ValueError(
                f"Missing keys {sorted(missing)} in config['configurable'] "
                f"Expected keys are {sorted(expected)}."
                "When using via .invoke() or .stream(), pass in a config; "
                f"e.g., chain.invoke({ {self.input_messages_key: 'foo'} }, {example})"
            )
        if factory is None:
            return self.history.session(  # type: ignore[union-attr]
                _session_key([configurable[key] for key in expected])
            )
        if len(expected) == 1:
            return factory(configurable[expected[0]]) if params else factory()
        if set(expected) != set(params):
            raise ValueError(
                f"Expected keys {sorted(expected)} do not match parameter "
                f"names {sorted(params)} of get_session_history."
            )
        return factory(**{key: configurable[key] for key in expected})

    # -- messages in and out (LangChain's rules) ---------------------------------------
    def _input_messages(self, value: Any) -> list[BaseMessage]:
        if isinstance(value, dict):
            key = self.input_messages_key or (next(iter(value)) if len(value) == 1 else "input")
            value = value[key]
        if isinstance(value, str):
            return [convert_to_message(value)]
        if isinstance(value, BaseMessage):
            return [value]
        if isinstance(value, list | tuple):
            if value and isinstance(value[0], list):
                if len(value) != 1:
                    raise ValueError(f"Expected a single list of messages. Got {value!r:.200}.")
                value = value[0]
            return [convert_to_message(m) for m in value]
        raise ValueError(
            "Expected str, BaseMessage, list[BaseMessage], or tuple[BaseMessage]. "
            f"Got {value!r:.200}."
        )

    def _output_messages(self, value: Any) -> list[BaseMessage]:
        from runwire.schema.messages import AIMessage

        if isinstance(value, dict):
            key = self.output_messages_key or (next(iter(value)) if len(value) == 1 else "output")
            if key not in value and "generations" in value:
                value = value["generations"][0][0]["message"]
            else:
                value = value[key]
        if isinstance(value, str):
            return [AIMessage(content=value)]
        if isinstance(value, BaseMessage):
            return [value]
        if isinstance(value, list | tuple):
            return [convert_to_message(m) for m in value]
        raise ValueError(
            "Expected str, BaseMessage, list[BaseMessage], or tuple[BaseMessage]. "
            f"Got {value!r:.200}."
        )

    def _prepare(self, value: Any, history: list[BaseMessage]) -> Any:
        """The wrapped runnable's input: ``value`` with the history put in."""
        key = self.history_messages_key or self.input_messages_key
        if key is None:
            return [*history, *self._input_messages(value)]
        if not isinstance(value, dict):
            raise ValueError(
                f"RunnableWithMessageHistory with a messages key expects a dict input, "
                f"got {type(value).__name__}"
            )
        if self.history_messages_key:
            return {**value, key: history}
        return {**value, key: [*history, *self._input_messages(value[key])]}

    def _new_messages(self, prepared: Any, output: Any, known: int) -> list[BaseMessage]:
        """What a call appends: its input messages (those not from the history), then
        its output messages."""
        inputs = self._input_messages(prepared)
        if not self.history_messages_key:
            inputs = inputs[known:]
        return [*inputs, *self._output_messages(output)]

    # -- calls -------------------------------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        def run(value: Any, cfg: RunnableConfig) -> Any:
            session = self._session(cfg)
            history = list(session.messages)
            prepared = self._prepare(value, history)
            output = self.runnable.invoke(prepared, _inner(cfg, session), **kwargs)
            session.add_messages(self._new_messages(prepared, output, len(history)))
            return output

        return self._call_with_config(run, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        async def run(value: Any, cfg: RunnableConfig) -> Any:
            session = self._session(cfg)
            history = list(await _aget(session))
            prepared = self._prepare(value, history)
            output = await self.runnable.ainvoke(prepared, _inner(cfg, session), **kwargs)
            await _aadd(session, self._new_messages(prepared, output, len(history)))
            return output

        return await self._acall_with_config(run, input, config)

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        def run(chunks: Iterator[Any], cfg: RunnableConfig) -> Iterator[Any]:
            value = _one(chunks)
            session = self._session(cfg)
            history = list(session.messages)
            prepared = self._prepare(value, history)
            total: Any = NOTHING
            for chunk in self.runnable.stream(prepared, _inner(cfg, session), **kwargs):
                total = chunk if total is NOTHING else add_chunks(total, chunk)
                yield chunk
            if total is not NOTHING:
                session.add_messages(self._new_messages(prepared, total, len(history)))

        yield from self._transform_with_config(iter((input,)), run, config)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async def run(chunks: AsyncIterator[Any], cfg: RunnableConfig) -> AsyncIterator[Any]:
            value = await _afirst(chunks)
            session = self._session(cfg)
            history = list(await _aget(session))
            prepared = self._prepare(value, history)
            total: Any = NOTHING
            async for chunk in self.runnable.astream(prepared, _inner(cfg, session), **kwargs):
                total = chunk if total is NOTHING else add_chunks(total, chunk)
                yield chunk
            if total is not NOTHING:
                await _aadd(session, self._new_messages(prepared, total, len(history)))

        async for chunk in self._atransform_with_config(_aiter_one(input), run, config):
            yield chunk


def _session_key(values: list[Any]) -> str:
    """A store's session id: the one string value, else the values as a JSON array."""
    if len(values) == 1 and isinstance(values[0], str):
        return values[0]
    try:
        return orjson.dumps(values).decode()
    except TypeError:
        raise ValueError("session keys in config['configurable'] must be JSON values") from None


def _inner(config: RunnableConfig, session: Any) -> RunnableConfig:
    """The wrapped runnable's config: ``configurable["message_history"]`` is the session's
    history, as LangChain sets it."""
    inner = child(config)
    inner["configurable"] = {**(config.get("configurable") or {}), "message_history": session}
    return inner


def _parameter_names(factory: Any) -> list[str]:
    """The parameter names of a Python session factory (LangChain's rule)."""
    import inspect

    return list(inspect.signature(factory).parameters)


def _one(chunks: Iterator[Any]) -> Any:
    return next(iter(chunks))


async def _afirst(chunks: AsyncIterator[Any]) -> Any:
    async for chunk in chunks:
        return chunk
    raise ValueError("no input")


async def _aiter_one(value: Any) -> AsyncIterator[Any]:
    yield value


async def _aget(session: Any) -> list[BaseMessage]:
    getter = getattr(session, "aget_messages", None)
    return list(await getter()) if getter is not None else list(session.messages)


async def _aadd(session: Any, messages: list[BaseMessage]) -> None:
    adder = getattr(session, "aadd_messages", None)
    if adder is not None:
        await adder(messages)
    else:
        session.add_messages(messages)
