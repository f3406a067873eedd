"""What a remote call raises: the server's status and detail, never the request's headers.

A server that answers 4xx/5xx (or sends an SSE ``error`` event mid-stream) raises
:class:`RemoteError`, a :class:`runwire.errors.RunwireError` that is also an
``httpx.HTTPStatusError``: code written for LangServe's client (``except
httpx.HTTPStatusError as e: e.response.status_code``) keeps working. The request it
carries is a copy whose headers, but for a few harmless ones, read ``<redacted>``,
and its URL has no user info or query string, so an API key sent as a header, a
cookie or a URL parameter never reaches a message, a repr or a log line.

A response that is no valid answer of the protocol (not JSON, no ``output``, a stream
cut before its ``end`` event) raises :class:`RemoteProtocolError`.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from runwire.errors import RunwireError
from runwire.redaction import redact

__all__ = [
    "RemoteError",
    "RemoteProtocolError",
    "error_from_event",
    "public_url",
    "raise_for_status",
]

MAX_DETAIL_CHARS = 1000
"""The server's detail is cut to this length in messages (``detail`` keeps it whole)."""

_SHOWN_HEADERS = frozenset(
    (
        "accept",
        "accept-encoding",
        "cache-control",
        "connection",
        "content-length",
        "content-type",
        "host",
        "user-agent",
    )
)
"""Request headers kept as they are in errors; every other value reads ``<redacted>``."""


class RemoteError(RunwireError, httpx.HTTPStatusError):
    """The server refused or failed a call.

    Attributes:
        status: the HTTP status (for an SSE ``error`` event, the status it names).
        detail: the server's ``detail`` as sent: a list of problems
            (``{"type", "loc", "msg"}``) for a 422, a string, or a dict (a provider
            error's code and message); the response text when the body is not JSON.
        url: the URL called, without user info or query string.
        request: a copy of the request with its headers redacted.
        response: the response (or, for an SSE ``error`` event, one standing for it).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        detail: Any,
        request: httpx.Request,
        response: httpx.Response,
    ) -> None:
        httpx.HTTPStatusError.__init__(self, redact(message), request=request, response=response)
        self.status = status
        self.detail = detail
        self.url = str(request.url)


class RemoteProtocolError(RunwireError):
    """The server's answer does not follow LangServe's protocol (see the module docstring)."""


def public_url(url: httpx.URL | str) -> httpx.URL:
    """``url`` without user info, query string or fragment: safe to print."""
    url = httpx.URL(url)
    return url.copy_with(username=None, password=None, query=None, fragment=None)


def _sanitized(request: httpx.Request) -> httpx.Request:
    headers = [
        (name, value if name.lower() in _SHOWN_HEADERS else "<redacted>")
        for name, value in request.headers.items()
    ]
    return httpx.Request(request.method, public_url(request.url), headers=headers)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "... (cut)"


def _where(loc: Any) -> str:
    parts = [str(part) for part in loc if part != "body"] if isinstance(loc, list) else []
    return ".".join(parts)


def summary(detail: Any) -> str:
    """One line for a message: a 422's problems as ``where: msg``, else the detail's text."""
    if isinstance(detail, str):
        return _cut(detail)
    if isinstance(detail, list) and all(isinstance(item, dict) for item in detail):
        lines = [
            f"{_where(item.get('loc'))}: {item.get('msg', '')}".lstrip(": ") for item in detail
        ]
        return _cut("; ".join(lines))
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        code = detail.get("code")
        return _cut(f"{code}: {detail['message']}" if code else detail["message"])
    return _cut(orjson.dumps(detail, default=str).decode())


def _detail(body: bytes) -> Any:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")
    return parsed.get("detail", parsed) if isinstance(parsed, dict) else parsed


def raise_for_status(response: httpx.Response) -> None:
    """Raise :class:`RemoteError` when ``response`` is not a success (its body is read)."""
    if response.is_success:
        return
    body = response.read()
    request = _sanitized(response.request)
    detail = _detail(body)
    phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
    message = (
        f"{request.method} {request.url} answered HTTP {response.status_code}{phrase}: "
        f"{summary(detail) or '(no detail)'}"
    )
    copy = httpx.Response(
        response.status_code, headers=response.headers, content=body, request=request
    )
    raise RemoteError(
        message, status=response.status_code, detail=detail, request=request, response=copy
    )


def error_from_event(data: str, request: httpx.Request) -> RemoteError:
    """The error an SSE ``error`` event reports (``{"status_code", "message"[, "detail"]}``)."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        payload = None
    if not isinstance(payload, dict):
        payload = {"status_code": 500, "message": f"invalid error event: {_cut(data)}"}
    status = payload.get("status_code")
    if not isinstance(status, int) or not 400 <= status <= 599:
        status = 500
    message = str(payload.get("message") or "(no message)")
    detail = payload.get("detail", message)
    request = _sanitized(request)
    response = httpx.Response(status, json=payload, request=request)
    text = f"{request.method} {request.url} failed mid-stream with HTTP {status}: {_cut(message)}"
    return RemoteError(text, status=status, detail=detail, request=request, response=response)
