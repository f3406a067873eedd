"""The HTTP side of the OCI vLLM emulator: a threading HTTP/1.1 server on loopback.

``POST <any path>/predict`` is an OCI Data Science model deployment's predict endpoint.
The ``route`` header picks the vLLM API behind it (only ``/v1/chat/completions`` is
served); a body with ``"stream": true`` needs the ``enable-streaming: true`` header
and is answered as server-sent events (``data: {...}`` lines, then ``data: [DONE]``) in
chunked transfer encoding. Requests are authenticated (a known bearer token or a valid
OCI signature), recorded, checked against injected faults and answered. Errors use
OCI's shape, ``{"code": ..., "message": ...}``, with an ``opc-request-id`` header.
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runwire.testing.loopback import LoopbackHandler, LoopbackServer, chunked, json_object
from runwire.testing.oci_vllm import completions
from runwire.testing.oci_vllm.signature import SignatureError, verify

__all__ = ["CHAT_ROUTE", "EmulatorServer", "RecordedRequest"]

CHAT_ROUTE = "/v1/chat/completions"
_MAX_BODY = 8 * 1024 * 1024


@dataclass(frozen=True)
class RecordedRequest:
    """One authenticated request: its path, headers (lower-case names, left out of the
    repr: they carry credentials), JSON body, and who made it (``"bearer"`` or the OCI
    signature's key id; None when authentication is off)."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(repr=False)
    caller: str | None = None


class _Handler(LoopbackHandler):
    server_version = "runwire-oci-vllm-emulator"
    tcp_nodelay = True
    internal_error_code = "InternalServerError"
    server: EmulatorServer

    # -- writing -----------------------------------------------------------------------
    def _write(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        super()._write(status, {"opc-request-id": uuid.uuid4().hex, **headers}, payload)

    def _send_error(self, status: int, code: str, message: str, **headers: str) -> None:
        self._send_json(status, {"code": code, "message": message}, headers)

    def _send_events(self, events: list[dict[str, Any]]) -> None:
        lines = [
            b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events
        ]
        lines.append(b"data: [DONE]\n\n")
        head = {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}
        self._write(200, head, chunked(lines))

    # -- the request -------------------------------------------------------------------
    def _caller(self, headers: Mapping[str, str], raw: bytes) -> tuple[str | None, str | None]:
        """(caller, None) when authenticated, else (None, why not)."""
        emulator = self.server.emulator
        if not emulator.require_auth:
            return None, None
        value = headers.get("authorization", "")
        if value.startswith("Bearer "):
            token = value[7:].encode()
            if any(hmac.compare_digest(token, t.encode()) for t in emulator.tokens):
                return "bearer", None
            return None, "the bearer token is not valid"
        if value.startswith("Signature "):
            try:
                signed = verify(self.command, self.path, headers, raw, emulator.public_key_of)
            except SignatureError as exc:
                return None, str(exc)
            return signed.key_id, None
        return None, "the request is not authenticated (no bearer token or OCI signature)"

    def _handle(self) -> None:
        raw = self._read_at_most(_MAX_BODY)
        if raw is None:
            return self._send_error(413, "PayloadTooLarge", "the request body is too large")
        path = self.path.partition("?")[0]
        if self.command != "POST" or not path.endswith("/predict"):
            return self._send_error(404, "NotFound", f"no such endpoint: {self.command} {path}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        caller, refused = self._caller(headers, raw)
        if refused is not None:
            return self._send_error(401, "NotAuthenticated", refused)
        body = json_object(raw)
        emulator = self.server.emulator
        emulator.record(RecordedRequest(path, body or {}, headers, caller))
        fault = emulator.take_fault()
        if fault is not None:
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return self._send_error(fault.status, fault.code, fault.message, **extra)
        route = headers.get("route", "")
        if route != CHAT_ROUTE:
            return self._send_error(
                404, "NotFound", f"route {route!r} is not served: use {CHAT_ROUTE}"
            )
        if body is None or not isinstance(body.get("messages"), list):
            return self._send_error(
                400, "BadRequest", "the body must be a JSON object with messages"
            )
        answer = completions.answer(body, emulator.scripted)
        if body.get("stream"):
            if headers.get("enable-streaming", "").lower() != "true":
                message = "streaming needs the header enable-streaming: true"
                return self._send_error(400, "BadRequest", message)
            return self._send_events(completions.stream_chunks(body, answer))
        return self._send_json(200, completions.completion(body, answer))

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = LoopbackHandler._dispatch


class EmulatorServer(LoopbackServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    request_queue_size = 256
    handler_class = _Handler
