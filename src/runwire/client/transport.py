"""The HTTP side of :class:`~runwire.client.RemoteRunnable`: pooled clients, JSON calls,
and LangServe's server-sent events.

One ``httpx.Client`` serves every sync call of an instance and one ``httpx.AsyncClient``
every async call made in the same event loop (connections belong to the loop that
opened them: a call from another loop, as with a second ``asyncio.run`` or a thread
with its own loop, gets that loop's own async client). Streams are read with httpx-sse;
``metadata`` events are skipped, ``data`` events decoded, an ``error`` event raised,
and a stream that stops before its ``end`` event is an error rather than a silently
short answer.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from functools import lru_cache
from typing import Any

import httpx
import orjson
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse

from runwire.client.errors import (
    RemoteProtocolError,
    error_from_event,
    public_url,
    raise_for_status,
)

__all__ = ["Transport"]

logger = logging.getLogger("runwire.client")

JSON_HEADERS = {"content-type": "application/json"}


@lru_cache(maxsize=64)
def _warn_once(event: str) -> None:
    logger.warning("ignoring server-sent events of unknown type %r", event[:100])


class Transport:
    """The pooled clients of one remote runnable and the calls it makes."""

    def __init__(self, url: str, options: dict[str, Any]) -> None:
        self.base_url = url if url.endswith("/") else url + "/"
        self._options = {"base_url": self.base_url, **options}
        self.sync_client = httpx.Client(**self._options)
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()

    def async_client(self) -> httpx.AsyncClient:
        """The async client of the running event loop (made on first use in that loop).

        Each loop has its own, forgotten with the loop: connections cannot move between
        loops, and threads running their own loops never swap clients under each other.
        """
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None or client.is_closed:
            client = self._async_clients[loop] = httpx.AsyncClient(**self._options)
        return client

    def close(self) -> None:
        """Close the sync client's connections (the async clients' need ``aclose``)."""
        self.sync_client.close()

    async def aclose(self) -> None:
        """Close the sync client's and the running loop's async client's connections."""
        self.sync_client.close()
        client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    # -- JSON calls ---------------------------------------------------------------------
    def post(self, path: str, body: bytes) -> Any:
        """POST ``body`` (JSON bytes) to ``path``; the answer's parsed JSON."""
        response = self.sync_client.post(path, content=body, headers=JSON_HEADERS)
        return _json(response)

    async def apost(self, path: str, body: bytes) -> Any:
        """Async ``post``."""
        response = await self.async_client().post(path, content=body, headers=JSON_HEADERS)
        return _json(response)

    def get(self, path: str) -> Any:
        """GET ``path``; the answer's parsed JSON."""
        return _json(self.sync_client.get(path))

    # -- streams ------------------------------------------------------------------------
    def events(self, path: str, body: bytes, decode: Callable[[Any], Any]) -> Iterator[Any]:
        """POST to an SSE route; each ``data`` event's JSON, decoded."""
        with connect_sse(
            self.sync_client, "POST", path, content=body, headers=dict(JSON_HEADERS)
        ) as source:
            raise_for_status(source.response)
            ended = False
            for sse in source.iter_sse():
                ended = _ended(sse, source.response)
                if ended:
                    break
                if sse.event == "data":
                    yield decode(_data(sse, source.response))
            _check_ended(ended, source.response)

    async def aevents(
        self, path: str, body: bytes, decode: Callable[[Any], Any]
    ) -> AsyncIterator[Any]:
        """Async ``events``."""
        async with aconnect_sse(
            self.async_client(), "POST", path, content=body, headers=dict(JSON_HEADERS)
        ) as source:
            if not source.response.is_success:
                await source.response.aread()
                raise_for_status(source.response)
            ended = False
            async for sse in source.aiter_sse():
                ended = _ended(sse, source.response)
                if ended:
                    break
                if sse.event == "data":
                    yield decode(_data(sse, source.response))
            _check_ended(ended, source.response)


def _json(response: httpx.Response) -> Any:
    raise_for_status(response)
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise RemoteProtocolError(
            f"{response.request.method} {public_url(response.request.url)} answered "
            f"HTTP {response.status_code} with a body that is not JSON "
            f"({response.headers.get('content-type', 'no content type')})"
        ) from None


def _ended(sse: ServerSentEvent, response: httpx.Response) -> bool:
    """Whether ``sse`` ends the stream; raises for an ``error`` event."""
    if sse.event == "end":
        return True
    if sse.event == "error":
        raise error_from_event(sse.data, response.request)
    if sse.event not in ("data", "metadata"):
        _warn_once(sse.event)
    return False


def _data(sse: ServerSentEvent, response: httpx.Response) -> Any:
    try:
        return orjson.loads(sse.data)
    except orjson.JSONDecodeError:
        raise RemoteProtocolError(
            f"{response.request.method} {public_url(response.request.url)} sent a data "
            "event that is not JSON"
        ) from None


def _check_ended(ended: bool, response: httpx.Response) -> None:
    if not ended:
        raise RemoteProtocolError(
            f"{response.request.method} {public_url(response.request.url)}: the stream "
            "stopped before its end event (the server or a proxy cut it)"
        )
