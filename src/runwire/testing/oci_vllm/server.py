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

import contextlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from runwire.testing.oci_vllm import completions
from runwire.testing.oci_vllm.signature import SignatureError, verify

if TYPE_CHECKING:
    from runwire.testing.oci_vllm.emulator import OCIVllmEmulator

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "runwire-oci-vllm-emulator"
    timeout = 300
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.request, True)

    def finish(self) -> None:
        self.server.track(self.request, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.emulator.log
        if log is not None:
            log(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}".rstrip())

    # -- writing -----------------------------------------------------------------------
    def _write(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        self.log_request(status)
        lines = [
            f"{self.protocol_version} {status} {HTTPStatus(status).phrase}",
            f"Server: {self.version_string()}",
            f"opc-request-id: {uuid.uuid4().hex}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] = {}) -> None:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        head = {"Content-Type": "application/json", "Content-Length": str(len(raw)), **headers}
        self._write(status, head, raw)

    def _send_error(self, status: int, code: str, message: str, **headers: str) -> None:
        self._send_json(status, {"code": code, "message": message}, headers)

    def _send_events(self, events: list[dict[str, Any]]) -> None:
        lines = [
            b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events
        ]
        lines.append(b"data: [DONE]\n\n")
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(line), line) for line in lines) + b"0\r\n\r\n"
        head = {"Content-Type": "text/event-stream", "Transfer-Encoding": "chunked"}
        self._write(200, head, chunks)

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
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            return self._send_error(413, "PayloadTooLarge", "the request body is too large")
        raw = self.rfile.read(length)
        path = self.path.partition("?")[0]
        if self.command != "POST" or not path.endswith("/predict"):
            return self._send_error(404, "NotFound", f"no such endpoint: {self.command} {path}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        caller, refused = self._caller(headers, raw)
        if refused is not None:
            return self._send_error(401, "NotAuthenticated", refused)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        emulator = self.server.emulator
        emulator.record(
            RecordedRequest(path, body if isinstance(body, dict) else {}, headers, caller)
        )
        fault = emulator.take_fault()
        if fault is not None:
            extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return self._send_error(fault.status, fault.code, fault.message, **extra)
        route = headers.get("route", "")
        if route != CHAT_ROUTE:
            return self._send_error(
                404, "NotFound", f"route {route!r} is not served: use {CHAT_ROUTE}"
            )
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
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

    def _dispatch(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500, keep serving
            self._send_error(500, "InternalServerError", f"emulator error: {type(exc).__name__}")

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _dispatch


class EmulatorServer(ThreadingHTTPServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: OCIVllmEmulator) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
