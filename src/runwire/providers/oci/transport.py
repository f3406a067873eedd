"""HTTP for model deployments: pooled httpx clients, retries, errors and SSE streams.

One :class:`HttpClients` per model holds a sync ``httpx.Client`` and one
``httpx.AsyncClient`` per event loop (an async pool's connections belong to the loop
that opened them), created on first use with connection pooling and timeouts. The
async client sends through aiohttp's connection pool (``httpx-aiohttp``): httpcore
1.0's pool rescans every connection for each request it queues or releases, which at
``max_concurrency=64`` costs more CPU than the calls themselves (measured: 200 calls/s
on 64 warm connections against aiohttp's 1,800; see docs/benchmarks.md).

:class:`Caller` sends one request with retries (tenacity, entered only after a first
attempt fails, so a call that succeeds pays for none of it): connection failures, 429
and 5xx are tried again up to ``max_retries`` times, waiting ``Retry-After`` when the
server says (at most :data:`MAX_RETRY_AFTER` seconds) and exponential backoff with
jitter otherwise; a 401 refreshes an OCI security token once and tries again; any
other status fails at once with the server's message, as a
:class:`runwire.errors.ProviderError` (secret values masked). A stream is retried only
until its first byte arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from runwire.errors import ProviderError
from runwire.providers.oci.auth import refreshable

__all__ = [
    "MAX_RETRY_AFTER",
    "PROVIDER",
    "Caller",
    "HttpClients",
    "aiter_events",
    "http_error",
    "iter_events",
]

PROVIDER = "oci-model-deployment"
OPERATION = "predict"
MAX_RETRY_AFTER = 30.0
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
"""langchain-community's request timeout (300 s) for a whole reply; 10 s to connect."""
LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=30)
_MAX_ERROR_BYTES = 64 * 1024
_CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _async_client() -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on aiohttp's pool, with :data:`LIMITS` and the timeouts.

    Being an explicit transport, it takes no proxy from the environment (httpx's
    ``HTTPS_PROXY``); CA bundles from ``SSL_CERT_FILE`` still apply.
    """
    from httpx_aiohttp import AiohttpTransport

    return httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT, limits=LIMITS, transport=AiohttpTransport(limits=LIMITS)
    )


def _closer(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """An async generator, started, that closes ``client`` when it is closed.

    Started inside the running loop, the loop tracks it and closes it in
    ``shutdown_asyncgens``; closing it (or its collection while the loop runs) closes
    the client there, so aiohttp never finds an unclosed session after the loop ends.
    """

    async def hold() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await client.aclose()

    generator = hold()
    with contextlib.suppress(StopIteration):
        generator.asend(None).send(None)  # runs to the yield without suspending
    return generator


class HttpClients:
    """A model's httpx clients and resolved auth; not part of its value (any two compare
    equal, a copy starts afresh)."""

    __slots__ = ("_async", "_lock", "_sync", "auth", "auth_resolved")

    def __init__(self) -> None:
        self.auth: httpx.Auth | None = None
        """The model's resolved request authentication (see ``auth_resolved``)."""
        self.auth_resolved = False
        self._sync: httpx.Client | None = None
        self._async: dict[int, tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, Any]] = {}
        """id(loop) -> (loop, its client, the client's closer); closed loops' are dropped."""
        self._lock = threading.Lock()

    def sync(self) -> httpx.Client:
        """The pooled sync client."""
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    self._sync = httpx.Client(timeout=DEFAULT_TIMEOUT, limits=LIMITS)
        return self._sync

    def for_loop(self) -> httpx.AsyncClient:
        """The pooled async client of the running event loop.

        A loop's client is made on its first call there and closed when the loop shuts
        down its async generators (``asyncio.run`` does, before it closes the loop), so
        its pool is released on that loop. Clients of loops that have closed are dropped
        on the next call, so a process that runs many loops (``asyncio.run`` per
        request) keeps one client per live loop.
        """
        loop = asyncio.get_running_loop()
        entry = self._async.get(id(loop))
        if entry is not None and entry[0] is loop:
            return entry[1]
        with self._lock:
            for key, (other, _, _) in list(self._async.items()):
                if other.is_closed() or key == id(loop):
                    del self._async[key]
            client = _async_client()
            self._async[id(loop)] = (loop, client, _closer(client))
        return client

    async def aclose(self) -> None:
        """Close the running loop's async client (a later call makes a new one)."""
        entry = self._async.pop(id(asyncio.get_running_loop()), None)
        if entry is not None:
            await entry[2].aclose()

    def close(self) -> None:
        """Close the sync client (a later call makes a new one)."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HttpClients)

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict[int, Any]) -> HttpClients:
        return HttpClients()

    def __repr__(self) -> str:
        return "<HttpClients>"


class _Retry(Exception):
    """A failure worth another try; carries the error raised when tries run out."""

    def __init__(self, error: Exception, wait: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value is not None else None
    except ValueError:
        return None


def _error_text(raw: bytes) -> tuple[str | None, str]:
    """(code, message) of an error body: OCI's and vLLM's JSON, else the text."""
    text = raw[:_MAX_ERROR_BYTES].decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return None, text or "(empty body)"
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        code = inner.get("code") if isinstance(inner.get("code"), str) else inner.get("type")
        message = inner.get("message") or inner.get("detail") or text
        return (str(code) if code else None), str(message)
    return None, text


def http_error(status: int, raw: bytes, request_id: str | None = None) -> ProviderError:
    """A non-2xx answer as a ProviderError with the server's code and message."""
    code, message = _error_text(raw)
    try:
        default = httpx.codes(status).name.title().replace("_", "")
    except ValueError:
        default = f"Http{status}"
    return ProviderError(
        PROVIDER, OPERATION, code or default, message, status=status, request_id=request_id
    )


_AIOHTTP_CODES = {
    "ClientConnectorError": "ConnectError",
    "ServerDisconnectedError": "RemoteProtocolError",
    "ConnectionTimeoutError": "ConnectTimeout",
    "SocketTimeoutError": "ReadTimeout",
}
"""aiohttp failure -> the httpx name a sync call reports for it (httpx-aiohttp maps every
connection error, a refused connection too, to ``ConnectTimeout``)."""


def _code(exc: httpx.HTTPError) -> str:
    """The error code of a transport failure: the same on the sync and async paths."""
    for cls in type(exc.__cause__).__mro__ if exc.__cause__ is not None else ():
        if cls.__name__ in _AIOHTTP_CODES:
            return _AIOHTTP_CODES[cls.__name__]
    return type(exc).__name__


def _transport_error(exc: httpx.HTTPError) -> ProviderError:
    return ProviderError(PROVIDER, OPERATION, _code(exc), str(exc) or repr(exc))


@dataclass
class Caller:
    """Sends one model request (see the module docstring for the retry rules)."""

    url: str
    headers: Mapping[str, str]
    auth: httpx.Auth | None
    max_retries: int

    def _first_wait(self, failure: _Retry) -> float:
        """The wait before the first retry: ``Retry-After``, else 0.2 s plus jitter."""
        return failure.wait if failure.wait is not None else 0.2 + random.uniform(0, 0.2)

    def _retrying(self, cls: type[Any]) -> Any:
        """Tenacity's loop for the retries after a failed first attempt."""

        def wait(state: tenacity.RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            if isinstance(failure, _Retry) and failure.wait is not None:
                return failure.wait
            return backoff(state)

        backoff = tenacity.wait_exponential_jitter(multiplier=0.4, max=10.0, jitter=0.2)
        return cls(
            retry=tenacity.retry_if_exception_type(_Retry),
            stop=tenacity.stop_after_attempt(self.max_retries),
            wait=wait,
            reraise=True,
        )

    def _check(self, response: httpx.Response, raw: bytes, refreshed: list[bool]) -> None:
        """Raise for a failed answer: ``_Retry`` when another try may help."""
        status = response.status_code
        rid = response.headers.get("opc-request-id") or response.headers.get("x-request-id")
        error = http_error(status, raw, rid)
        if status == 401 and not refreshed[0] and refreshable(self.auth):
            refreshed[0] = True
            self.auth.refresh()  # type: ignore[union-attr]
            raise _Retry(error, wait=0.0)
        if status == 429 or status >= 500:
            raise _Retry(error, wait=_retry_after(response))
        raise error

    # -- sync ------------------------------------------------------------------------------
    def post(self, client: httpx.Client, body: bytes) -> Any:
        """POST ``body``; the answer's JSON."""
        refreshed = [False]

        def attempt() -> Any:
            try:
                response = client.post(self.url, content=body, headers=self.headers, auth=self._a)
            except _CONNECT_ERRORS as exc:
                raise _Retry(_transport_error(exc)) from None
            except httpx.HTTPError as exc:
                raise _transport_error(exc) from None
            if response.is_success:
                return _json(response.content)
            self._check(response, response.content, refreshed)

        return self._run(attempt)

    def open_stream(self, client: httpx.Client, body: bytes) -> httpx.Response:
        """POST ``body`` for a stream; the open 200 response (the caller closes it)."""
        refreshed = [False]

        def attempt() -> httpx.Response:
            request = client.build_request("POST", self.url, content=body, headers=self.headers)
            try:
                response = client.send(request, stream=True, auth=self._a)
            except _CONNECT_ERRORS as exc:
                raise _Retry(_transport_error(exc)) from None
            except httpx.HTTPError as exc:
                raise _transport_error(exc) from None
            if response.is_success:
                return response
            try:
                raw = response.read()
            finally:
                response.close()
            self._check(response, raw, refreshed)
            raise AssertionError("unreachable")  # _check raised

        return self._run(attempt)

    def _run(self, attempt: Any) -> Any:
        """The first attempt straight (the common case costs no retry machinery), then
        up to ``max_retries`` more under tenacity."""
        try:
            return attempt()
        except _Retry as failure:
            if self.max_retries < 1:
                raise failure.error from None
            time.sleep(self._first_wait(failure))
        try:
            return self._retrying(tenacity.Retrying)(attempt)
        except _Retry as exc:
            raise exc.error from None

    # -- async -----------------------------------------------------------------------------
    async def apost(self, client: httpx.AsyncClient, body: bytes) -> Any:
        """POST ``body`` on the event loop; the answer's JSON."""
        refreshed = [False]

        async def attempt() -> Any:
            try:
                response = await client.post(
                    self.url, content=body, headers=self.headers, auth=self._a
                )
            except _CONNECT_ERRORS as exc:
                raise _Retry(_transport_error(exc)) from None
            except httpx.HTTPError as exc:
                raise _transport_error(exc) from None
            if response.is_success:
                return _json(response.content)
            self._check(response, response.content, refreshed)

        return await self._arun(attempt)

    async def aopen_stream(self, client: httpx.AsyncClient, body: bytes) -> httpx.Response:
        """POST ``body`` for a stream on the event loop; the open 200 response."""
        refreshed = [False]

        async def attempt() -> httpx.Response:
            request = client.build_request("POST", self.url, content=body, headers=self.headers)
            try:
                response = await client.send(request, stream=True, auth=self._a)
            except _CONNECT_ERRORS as exc:
                raise _Retry(_transport_error(exc)) from None
            except httpx.HTTPError as exc:
                raise _transport_error(exc) from None
            if response.is_success:
                return response
            try:
                raw = await response.aread()
            finally:
                await response.aclose()
            self._check(response, raw, refreshed)
            raise AssertionError("unreachable")

        return await self._arun(attempt)

    async def _arun(self, attempt: Any) -> Any:
        """``_run`` on the event loop (its waits are ``asyncio.sleep``)."""
        try:
            return await attempt()
        except _Retry as failure:
            if self.max_retries < 1:
                raise failure.error from None
            await asyncio.sleep(self._first_wait(failure))
        try:
            return await self._retrying(tenacity.AsyncRetrying)(attempt)
        except _Retry as exc:
            raise exc.error from None

    @property
    def _a(self) -> Any:
        """The auth argument of a send: ours, or none at all (not the client's)."""
        return self.auth if self.auth is not None else httpx.USE_CLIENT_DEFAULT


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        message = f"the endpoint answered 200 with a body that is not JSON: {raw[:200]!r}"
        raise ProviderError(PROVIDER, OPERATION, "InvalidResponse", message) from None


def _event(line: str) -> Any:
    """The JSON of one ``data:`` line (None for other lines and ``[DONE]``)."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if not data or data == "[DONE]":
        return None
    event = _json(data.encode())
    if isinstance(event, dict) and (event.get("object") == "error" or "error" in event):
        status = event.get("code") if isinstance(event.get("code"), int) else 500
        raise http_error(status, data.encode())  # an error sent mid-stream
    return event


def iter_events(response: httpx.Response) -> Iterator[Any]:
    """The JSON events of an SSE response, up to ``data: [DONE]``; closes it."""
    try:
        for line in response.iter_lines():
            if line.startswith("data:") and line[5:].strip() == "[DONE]":
                return
            event = _event(line)
            if event is not None:
                yield event
    except httpx.HTTPError as exc:
        raise _transport_error(exc) from None
    finally:
        response.close()


async def aiter_events(response: httpx.Response) -> AsyncIterator[Any]:
    """The JSON events of an SSE response read on the event loop; closes it."""
    try:
        async for line in response.aiter_lines():
            if line.startswith("data:") and line[5:].strip() == "[DONE]":
                return
            event = _event(line)
            if event is not None:
                yield event
    except httpx.HTTPError as exc:
        raise _transport_error(exc) from None
    finally:
        await response.aclose()
