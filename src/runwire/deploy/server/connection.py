"""uvicorn's httptools connection protocol, with bounds on how requests arrive.

uvicorn bounds the body of nothing and the headers of nothing when it parses with
httptools: a client may send headers for ever, one byte at a time, or megabytes of
them (httptools keeps a partial header in memory until it ends). This subclass adds
two limits, both counted per request on the raw bytes, before the app sees anything:

- ``max_header_bytes``: a request line plus headers larger than this is answered
  431 and the connection closed;
- ``header_timeout_s``: a request's line and headers must arrive within this time from
  its first byte (or from the connection's opening, for its first request); a slower
  client is answered 408 (or, when it has sent nothing yet, simply disconnected).

Between requests uvicorn's own keep-alive timeout applies; body reads are bounded by
the guard (:mod:`.guard`), which reads bodies within ``body_timeout_s``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["LimitedHttpToolsProtocol", "limited_protocol"]

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """See the module docstring; the limits are class attributes (:func:`limited_protocol`)."""

    max_header_bytes: int = 65_536
    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Arm the header timer: a connection that never sends a request is closed too."""
        self._awaiting_headers = True
        self._header_bytes = 0
        self._headers_seen = 0
        self._header_timer: asyncio.TimerHandle | None = None
        self._request_started = False
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the header timer with the connection."""
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse ``data``; refuse the request once its headers outgrow the limit."""
        seen = self._headers_seen
        super().data_received(data)
        # Only bytes of chunks in which no headers ended are counted: a chunk that ends
        # one request's headers may carry its body, which is no header.
        if self._awaiting_headers and self._headers_seen == seen:
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes and not self.transport.is_closing():
                self._refuse(431, f"request headers larger than {self.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        """A request's first byte: its headers are due within ``header_timeout_s``."""
        super().on_message_begin()
        self._awaiting_headers = True
        self._request_started = True
        self._header_bytes = 0
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        """Headers in time and within size: hand the request to uvicorn."""
        self._awaiting_headers = False
        self._headers_seen += 1
        self._header_bytes = 0
        self._cancel_header_timer()
        super().on_headers_complete()

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._awaiting_headers:
            return
        if self._request_started:
            self._refuse(408, f"request headers not received within {self.header_timeout_s:g} s")
        else:
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` with ``message`` and close the connection."""
        self._cancel_header_timer()
        body = message.encode()
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        self.transport.write(
            head
            + b"content-type: text/plain; charset=utf-8\r\n"
            + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
            + body
        )
        self.transport.close()
        self.logger.warning("refused a request: %s", message)


def limited_protocol(max_header_bytes: int, header_timeout_s: float) -> type[Any]:
    """A :class:`LimitedHttpToolsProtocol` with these limits, for ``uvicorn.Config(http=)``."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {"max_header_bytes": max_header_bytes, "header_timeout_s": header_timeout_s},
    )
