"""The HTTP side of the SageMaker runtime emulator (rest-json, SigV4 checked).

Routes (POST): ``/endpoints/{EndpointName}/invocations`` (InvokeEndpoint: the
container's JSON body) and ``/endpoints/{EndpointName}/invocations-response-stream``
(InvokeEndpointWithResponseStream: ``PayloadPart`` events in
``application/vnd.amazon.eventstream`` frames, each line split over two events, as
real streams may split it). Errors use the rest-json shape (``x-amzn-ErrorType``).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from runwire.testing.bedrock import sigv4
from runwire.testing.bedrock.eventstream import encode_message
from runwire.testing.bedrock.faults import ServiceError
from runwire.testing.sagemaker.models import answer, container_for

if TYPE_CHECKING:
    from runwire.testing.sagemaker.emulator import SageMakerEmulator

__all__ = ["RecordedInvocation", "SageMakerServer"]

_ROUTE = re.compile(r"^/endpoints/([^/]+)/(invocations|invocations-response-stream)$")
_OPERATIONS = {
    "invocations": "InvokeEndpoint",
    "invocations-response-stream": "InvokeEndpointWithResponseStream",
}
_MAX_BODY = 6 * 1024 * 1024  # SageMaker's payload limit


@dataclass(frozen=True)
class RecordedInvocation:
    """One authenticated request: operation, endpoint, body and the SageMaker headers."""

    operation: str
    endpoint_name: str
    body: bytes
    headers: dict[str, str] = field(repr=False)
    access_key_id: str

    @property
    def json(self) -> Any:
        """The body as JSON (None when it is not)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def _payload_part(data: bytes) -> bytes:
    headers = {
        ":event-type": "PayloadPart",
        ":content-type": "application/octet-stream",
        ":message-type": "event",
    }
    return encode_message(headers, data)


def _stream_error(message: str) -> bytes:
    headers = {
        ":exception-type": "ModelStreamError",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"Message": message, "ErrorCode": "424"}).encode())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "runwire-sagemaker-emulator"
    timeout = 300
    server: SageMakerServer

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

    def _write(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        self.log_request(status)
        lines = [
            f"{self.protocol_version} {status} {HTTPStatus(status).phrase}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"x-amzn-RequestId: {uuid.uuid4()}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def _error(self, status: int, code: str, message: str) -> None:
        raw = json.dumps({"message": message}).encode()
        headers = {
            "x-amzn-ErrorType": code,
            "Content-Type": "application/json",
            "Content-Length": str(len(raw)),
        }
        self._write(status, headers, raw)

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            return self._error(413, "ValidationError", "Request payload is too large")
        raw = self.rfile.read(length)
        match = _ROUTE.match(path)
        if self.command != "POST" or match is None:
            return self._error(404, "UnknownOperationException", f"Unknown operation {path}")
        operation, name = _OPERATIONS[match.group(2)], unquote(match.group(1))
        emulator = self.server.emulator
        headers: dict[str, list[str]] = {}
        for key, value in self.headers.items():
            headers.setdefault(key.lower(), []).append(value)
        try:
            auth = sigv4.verify(self.command, path, query, headers, raw, emulator.secret_of)
        except sigv4.AuthError as exc:
            return self._error(exc.status, exc.code, exc.message)
        flat = {key: ",".join(values) for key, values in headers.items()}
        emulator.record(RecordedInvocation(operation, name, raw, flat, auth.access_key_id))
        fault = emulator.faults.take(operation)
        if fault is not None and not fault.mid_stream:
            return self._error(fault.status, fault.code, fault.message)
        try:
            if not emulator.knows(name):
                raise ServiceError(
                    400,
                    "ValidationError",
                    f"Endpoint {name} of account 123456789012 not found.",
                )
            container, data = container_for(raw)
            text, reason = answer(container, data)
            if operation == "InvokeEndpoint":
                return self._respond(flat, container.body(text, reason))
            if container.lines is None:
                raise ServiceError(
                    400, "ValidationError", f"The {container.name} model does not support streaming"
                )
            return self._stream(flat, container.lines(text, reason), fault is not None)
        except ServiceError as exc:
            return self._error(exc.status, exc.code, exc.message)

    def _common(self, sent: Mapping[str, str]) -> dict[str, str]:
        headers = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"}
        custom = sent.get("x-amzn-sagemaker-custom-attributes")
        if custom:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = custom
        return headers

    def _respond(self, sent: Mapping[str, str], body: Any) -> None:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {
            **self._common(sent),
            "Content-Type": "application/json",
            "Content-Length": str(len(raw)),
        }
        self._write(200, headers, raw)

    def _stream(self, sent: Mapping[str, str], lines: list[bytes], broken: bool) -> None:
        if broken:
            lines = lines[: max(1, len(lines) // 2)]
        messages = []
        for line in lines:
            half = max(1, len(line) // 2)
            messages += [_payload_part(line[:half]), _payload_part(line[half:])]
        if broken:
            messages.append(_stream_error("the model failed mid-stream"))
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(m), m) for m in messages) + b"0\r\n\r\n"
        headers = {
            **self._common(sent),
            "Content-Type": "application/vnd.amazon.eventstream",
            "X-Amzn-SageMaker-Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        }
        self._write(200, headers, chunks)

    def _dispatch(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500, keep serving
            self._error(500, "InternalFailure", f"emulator error: {type(exc).__name__}")

    do_POST = do_GET = do_PUT = do_DELETE = _dispatch


class SageMakerServer(ThreadingHTTPServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: SageMakerEmulator) -> None:
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
