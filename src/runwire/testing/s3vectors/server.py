"""The HTTP side of the S3 Vectors emulator: rest-json ``POST /{Operation}``, SigV4 checked.

Bodies are JSON both ways; errors carry ``x-amzn-ErrorType`` and ``{"message": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runwire.testing.aws_loopback import AwsHandler, flat_headers
from runwire.testing.bedrock.faults import ServiceError
from runwire.testing.loopback import LoopbackServer, json_object
from runwire.testing.s3vectors.store import OPERATIONS

__all__ = ["RecordedCall", "S3VectorsServer"]

_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class RecordedCall:
    """One authenticated request: the operation, its JSON body, who signed it."""

    operation: str
    body: dict[str, Any]
    access_key_id: str
    headers: dict[str, str] = field(repr=False, default_factory=dict)


class _Handler(AwsHandler):
    server_version = "runwire-s3vectors-emulator"
    server: S3VectorsServer

    def _send_error(self, status: int, code: str, message: str) -> None:
        self._send_json(status, {"message": message}, {"x-amzn-ErrorType": code})

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        raw = self._read_at_most(_MAX_BODY)
        if raw is None:
            return self._send_error(413, "ValidationException", "request body too large")
        operation = path.lstrip("/")
        if self.command != "POST" or operation not in OPERATIONS:
            message = f"Unknown operation {path}"
            return self._send_error(404, "UnknownOperationException", message)
        emulator = self.server.emulator
        headers = self._headers_lists()
        auth = self._signed(path, query, headers, raw, emulator.secret_of)
        if auth is None:
            return
        body = json_object(raw)
        emulator.record(
            RecordedCall(operation, body or {}, auth.access_key_id, flat_headers(headers))
        )
        fault = emulator.faults.take(operation)
        if fault is not None:
            return self._send_error(fault.status, fault.code, fault.message)
        if body is None:
            return self._send_error(400, "ValidationException", "the body must be a JSON object")
        store = emulator.store
        try:
            with store.lock:
                answer = getattr(store, OPERATIONS[operation])(body)
        except ServiceError as exc:
            return self._send_error(exc.status, exc.code, exc.message)
        return self._send_json(200, answer)

    do_POST = do_GET = do_PUT = do_DELETE = AwsHandler._dispatch


class S3VectorsServer(LoopbackServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    handler_class = _Handler
