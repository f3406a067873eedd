"""The HTTP side of the S3 Vectors emulator: rest-json ``POST /{Operation}``, SigV4 checked.

Bodies are JSON both ways; errors carry ``x-amzn-ErrorType`` and ``{"message": ...}``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from runwire.testing.bedrock import sigv4
from runwire.testing.bedrock.faults import ServiceError
from runwire.testing.s3vectors.store import OPERATIONS

if TYPE_CHECKING:
    from runwire.testing.s3vectors.emulator import S3VectorsEmulator

__all__ = ["RecordedCall", "S3VectorsServer"]

_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class RecordedCall:
    """One authenticated request: the operation, its JSON body, who signed it."""

    operation: str
    body: dict[str, Any]
    access_key_id: str
    headers: dict[str, str] = field(repr=False, default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "runwire-s3vectors-emulator"
    timeout = 300
    server: S3VectorsServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.request, True)

    def finish(self) -> None:
        self.server.track(self.request, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.emulator.log
        if log is not None:
            log(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}".rstrip())

    def _send(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.log_request(status)
        lines = [
            f"{self.protocol_version} {status} {HTTPStatus(status).phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"x-amzn-RequestId: {uuid.uuid4()}",
            "Content-Type: application/json",
            f"Content-Length: {len(raw)}",
            *(f"{k}: {v}" for k, v in (extra or {}).items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + raw)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"message": message}, {"x-amzn-ErrorType": code})

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            return self._error(413, "ValidationException", "request body too large")
        raw = self.rfile.read(length)
        operation = path.lstrip("/")
        if self.command != "POST" or operation not in OPERATIONS:
            return self._error(404, "UnknownOperationException", f"Unknown operation {path}")
        emulator = self.server.emulator
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        try:
            auth = sigv4.verify(self.command, path, query, headers, raw, emulator.secret_of)
        except sigv4.AuthError as exc:
            return self._error(exc.status, exc.code, exc.message)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        flat = {name: ",".join(values) for name, values in headers.items()}
        recorded = body if isinstance(body, dict) else {}
        emulator.record(RecordedCall(operation, recorded, auth.access_key_id, flat))
        fault = emulator.faults.take(operation)
        if fault is not None:
            return self._error(fault.status, fault.code, fault.message)
        if not isinstance(body, dict):
            return self._error(400, "ValidationException", "the body must be a JSON object")
        store = emulator.store
        try:
            with store.lock:
                answer = getattr(store, OPERATIONS[operation])(body)
        except ServiceError as exc:
            return self._error(exc.status, exc.code, exc.message)
        return self._send(200, answer)

    def _dispatch(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500, keep serving
            self._error(500, "InternalServerException", f"emulator error: {type(exc).__name__}")

    do_POST = do_GET = do_PUT = do_DELETE = _dispatch


class S3VectorsServer(ThreadingHTTPServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: S3VectorsEmulator) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
