"""``RemoteRunnable``: a pipeline served over LangServe's protocol, called as a runnable.

It talks to ``runwire serve`` and to LangServe servers alike, with httpx only (no
langserve, no langchain-core), and composes with local runnables (``remote | parser``).
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from runwire.client import codec
from runwire.client.errors import RemoteProtocolError, public_url
from runwire.client.transport import Transport
from runwire.runtime.base import Runnable
from runwire.runtime.callbacks import callback_context
from runwire.runtime.config import RunnableConfig, ensure_config, get_config_list
from runwire.runtime.tracing import NOTHING, add_chunks

if TYPE_CHECKING:
    import ssl

    from pydantic import BaseModel, SecretStr

__all__ = ["RemoteRunnable"]

_SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie", "session", "password")
"""Header names containing one of these have their values masked in runwire's errors."""


def _no_kwargs(method: str, kwargs: Mapping[str, Any]) -> None:
    if kwargs:
        raise NotImplementedError(
            f"RemoteRunnable.{method}() takes no extra keyword arguments "
            f"(got {', '.join(sorted(kwargs))}): the servers ignore them; bind values "
            "on the server, or send them as configurable fields with with_config()"
        )


def _register_secrets(api_key: Any, headers: Any, cookies: Any) -> None:
    """Mask credential values in runwire's error texts and logs (runwire.redaction)."""
    from runwire.redaction import register_secret

    if api_key is not None:
        register_secret(_plain(api_key))
    for name, value in httpx.Headers(headers or {}).items():
        if any(word in name.lower() for word in _SECRET_HEADER_WORDS):
            register_secret(value)
            register_secret(value.rpartition(" ")[2])  # the token of "Bearer TOKEN"
    if isinstance(cookies, Mapping):
        for value in cookies.values():
            register_secret(str(value))


def _plain(value: Any) -> str:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else str(value)


def _schema_model(name: str, schema: dict[str, Any]) -> type[BaseModel]:
    """A model accepting any value whose JSON Schema is the server's ``schema``."""
    from runwire.runtime.schemas import root_model

    base = root_model(name, Any)
    frozen = copy.deepcopy(schema)

    def model_json_schema(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        return copy.deepcopy(frozen)

    return type(base)(
        name, (base,), {"model_json_schema": classmethod(model_json_schema), "__module__": __name__}
    )


class RemoteRunnable(Runnable[Any, Any]):
    """A runnable served at ``url`` (``http://host:8000/chat``) by runwire or LangServe.

    The constructor takes LangServe's ``RemoteRunnable`` arguments: ``timeout``,
    ``auth``, ``headers``, ``cookies``, ``verify``, ``cert`` and ``client_kwargs`` go to
    both httpx clients. ``api_key`` (runwire's own) is sent as ``Authorization: Bearer``,
    which ``runwire serve`` with ``RUNWIRE_API_KEYS`` set accepts.
    ``use_server_callback_events=True`` and a custom ``serializer`` are not supported
    (``NotImplementedError``).

    ``timeout=None`` means no timeout, as in LangServe: pass seconds (or an
    ``httpx.Timeout``) to bound calls. Close the connections with :meth:`close` /
    :meth:`aclose` or use the instance as a (async) context manager.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float | httpx.Timeout | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | httpx.Cookies | None = None,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        client_kwargs: dict[str, Any] | None = None,
        use_server_callback_events: bool = False,
        serializer: Any = None,
        api_key: str | SecretStr | None = None,
        name: str | None = None,
    ) -> None:
        if use_server_callback_events:
            raise NotImplementedError(
                "use_server_callback_events=True is not supported: runwire's client does "
                "not replay a server's callback events into local callbacks (runwire "
                "servers send none; a LangServe server's are ignored)"
            )
        if serializer is not None:
            raise NotImplementedError(
                "a custom serializer is not supported: runwire's client always uses "
                "LangServe's well-known encoding (messages and documents by type)"
            )
        all_headers = dict(headers or {})
        if api_key is not None:
            all_headers["authorization"] = f"Bearer {_plain(api_key)}"
        _register_secrets(api_key, headers, cookies)
        options: dict[str, Any] = {
            "timeout": timeout,
            "auth": auth,
            "headers": all_headers,
            "cookies": cookies,
            "verify": verify,
            "cert": cert,
            **(client_kwargs or {}),
        }
        self.url = url
        self.name = name
        self._transport = Transport(url, options)
        # connections of an instance nobody closed are closed when it is collected
        weakref.finalize(self, self._transport.sync_client.close)

    def __repr__(self) -> str:
        return f"RemoteRunnable(url={str(public_url(self.url))!r})"

    # -- connections --------------------------------------------------------------------
    @property
    def sync_client(self) -> httpx.Client:
        """The ``httpx.Client`` of sync calls (LangServe's attribute)."""
        return self._transport.sync_client

    @property
    def async_client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` of the running event loop (LangServe's attribute)."""
        return self._transport.async_client()

    def close(self) -> None:
        """Close the sync client's connections."""
        self._transport.close()

    async def aclose(self) -> None:
        """Close the connections of both clients (call it in the loop that used them)."""
        await self._transport.aclose()

    def __enter__(self) -> RemoteRunnable:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> RemoteRunnable:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- schemas ------------------------------------------------------------------------
    def get_input_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """The server's ``/input_schema``."""
        return self._transport.get("input_schema")

    def get_output_jsonschema(self, config: RunnableConfig | None = None) -> dict[str, Any]:
        """The server's ``/output_schema``."""
        return self._transport.get("output_schema")

    def get_config_jsonschema(self, *, include: Sequence[str] | None = None) -> dict[str, Any]:
        """The server's ``/config_schema`` (the config keys the server accepts)."""
        if include:
            raise NotImplementedError(
                "get_config_jsonschema(include=...) is not supported for a remote runnable: "
                "the server decides which config keys it accepts and lists them"
            )
        return self._transport.get("config_schema")

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """A model of any input whose JSON Schema is the server's (the server validates)."""
        return _schema_model(self.get_name("Input"), self.get_input_jsonschema(config))

    def get_output_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """A model of any output whose JSON Schema is the server's."""
        return _schema_model(self.get_name("Output"), self.get_output_jsonschema(config))

    def config_schema(self, *, include: Sequence[str] | None = None) -> type[BaseModel]:
        """A model whose JSON Schema is the server's config schema."""
        return _schema_model(self.get_name("Config"), self.get_config_jsonschema(include=include))

    # -- invoke -------------------------------------------------------------------------
    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """POST ``/invoke``; the output with messages and documents as runwire objects."""
        _no_kwargs("invoke", kwargs)
        config = ensure_config(config)
        sent = codec.server_config(config)

        def call(value: Any, _: RunnableConfig) -> Any:
            answer = self._transport.post("invoke", codec.request_body("input", value, sent))
            return codec.decode(_output(answer, "invoke"))

        return self._call_with_config(call, input, config)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        _no_kwargs("ainvoke", kwargs)
        config = ensure_config(config)
        sent = codec.server_config(config)

        async def call(value: Any, _: RunnableConfig) -> Any:
            body = codec.request_body("input", value, sent)
            answer = await self._transport.apost("invoke", body)
            return codec.decode(_output(answer, "invoke"))

        return await self._acall_with_config(call, input, config)

    # -- batch --------------------------------------------------------------------------
    def batch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """POST ``/batch`` once for all inputs.

        With ``return_exceptions=True`` each input is sent to ``/invoke`` on its own
        (in threads, at most ``max_concurrency`` at once), so one failing input gives
        its exception in its place and the others their outputs: a server's ``/batch``
        fails whole.
        """
        _no_kwargs("batch", kwargs)
        if not inputs:
            return []
        if return_exceptions:
            return super().batch(inputs, config, return_exceptions=True)
        configs = get_config_list(config, len(inputs))
        body = _batch_body(inputs, configs)
        runs = self._start_runs(inputs, configs)
        try:
            outputs = _outputs(self._transport.post("batch", body), len(inputs))
        except BaseException as exc:
            _end_runs(runs, exc, None)
            raise
        _end_runs(runs, None, outputs)
        return outputs

    async def abatch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async ``batch`` (``return_exceptions=True``: concurrent ``/invoke`` calls)."""
        _no_kwargs("abatch", kwargs)
        if not inputs:
            return []
        if return_exceptions:
            return await super().abatch(inputs, config, return_exceptions=True)
        configs = get_config_list(config, len(inputs))
        body = _batch_body(inputs, configs)
        runs = self._start_runs(inputs, configs)
        try:
            outputs = _outputs(await self._transport.apost("batch", body), len(inputs))
        except BaseException as exc:
            _end_runs(runs, exc, None)
            raise
        _end_runs(runs, None, outputs)
        return outputs

    def _start_runs(self, inputs: list[Any], configs: list[RunnableConfig]) -> list[Any]:
        """One run per input for the callbacks of its config (none without callbacks)."""
        runs = []
        for value, config in zip(inputs, configs, strict=True):
            ctx = callback_context(config.get("callbacks"))
            if ctx is not None:
                runs.append((ctx, self._start_run(ctx, value, config, None)))
            else:
                runs.append(None)
        return runs

    # -- streams ------------------------------------------------------------------------
    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """POST ``/stream``; each chunk as it comes (message chunks as runwire chunks)."""
        yield from self.transform(iter([input]), config, **kwargs)

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Stream the output of the input's chunks, summed first (one request)."""
        _no_kwargs("stream", kwargs)
        config = ensure_config(config)
        sent = codec.server_config(config)

        def run(chunks: Iterator[Any], _: RunnableConfig) -> Iterator[Any]:
            value = _gather(chunks)
            if value is NOTHING:
                return
            body = codec.request_body("input", value, sent)
            yield from self._transport.events("stream", body, codec.decode_chunk)

        yield from self._transform_with_config(input, run, config)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async ``stream``."""

        async def one() -> AsyncIterator[Any]:
            yield input

        async for chunk in self.atransform(one(), config, **kwargs):
            yield chunk

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async ``transform``."""
        _no_kwargs("astream", kwargs)
        config = ensure_config(config)
        sent = codec.server_config(config)

        async def run(chunks: AsyncIterator[Any], _: RunnableConfig) -> AsyncIterator[Any]:
            value: Any = NOTHING
            async for chunk in chunks:
                value = chunk if value is NOTHING else add_chunks(value, chunk)
            if value is NOTHING:
                return
            body = codec.request_body("input", value, sent)
            async for chunk in self._transport.aevents("stream", body, codec.decode_chunk):
                yield chunk

        async for chunk in self._atransform_with_config(input, run, config):
            yield chunk

    async def astream_events(  # type: ignore[override]
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: str | None = "v2",
        include_names: Sequence[str] | None = None,
        include_types: Sequence[str] | None = None,
        include_tags: Sequence[str] | None = None,
        exclude_names: Sequence[str] | None = None,
        exclude_types: Sequence[str] | None = None,
        exclude_tags: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """POST ``/stream_events``: the server's v2 events, filtered by the server."""
        _no_kwargs("astream_events", kwargs)
        if version not in (None, "v2"):
            raise NotImplementedError(
                f"astream_events(version={version!r}) is not supported: servers stream v2"
            )
        filters = {
            "include_names": include_names,
            "include_types": include_types,
            "include_tags": include_tags,
            "exclude_names": exclude_names,
            "exclude_types": exclude_types,
            "exclude_tags": exclude_tags,
        }
        body = codec.request_body(
            "input",
            input,
            codec.server_config(ensure_config(config)),
            **{key: list(value) for key, value in filters.items() if value is not None},
        )
        async for event in self._transport.aevents("stream_events", body, codec.decode):
            yield event

    def astream_log(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Not supported: runwire servers have no ``/stream_log``; use ``astream_events``."""
        raise NotImplementedError(
            "RemoteRunnable.astream_log is not supported (runwire servers have no "
            "/stream_log route): use astream_events"
        )


def _gather(chunks: Iterator[Any]) -> Any:
    value: Any = NOTHING
    for chunk in chunks:
        value = chunk if value is NOTHING else add_chunks(value, chunk)
    return value


def _batch_body(inputs: list[Any], configs: list[RunnableConfig]) -> bytes:
    sent = [codec.server_config(config) for config in configs]
    shared = all(item == sent[0] for item in sent)
    return codec.request_body("inputs", inputs, sent[0] if shared else sent)


def _output(answer: Any, route: str) -> Any:
    if not isinstance(answer, dict) or "output" not in answer:
        raise RemoteProtocolError(f"the server's /{route} answer has no 'output' key")
    return answer["output"]


def _outputs(answer: Any, count: int) -> list[Any]:
    outputs = _output(answer, "batch")
    if not isinstance(outputs, list) or len(outputs) != count:
        got = len(outputs) if isinstance(outputs, list) else type(outputs).__name__
        raise RemoteProtocolError(
            f"the server's /batch answer has {got} outputs for {count} inputs"
        )
    return [codec.decode(output) for output in outputs]


def _end_runs(runs: list[Any], error: BaseException | None, outputs: list[Any] | None) -> None:
    for index, entry in enumerate(runs):
        if entry is None:
            continue
        ctx, run = entry
        if error is not None:
            ctx.error(run, error)
        else:
            ctx.end(run, outputs[index] if outputs is not None else None)
