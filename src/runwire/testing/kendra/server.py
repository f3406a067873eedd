"""The HTTP side of the Kendra emulator: AWS's JSON 1.1 protocol on loopback.

Every request is ``POST /`` with ``X-Amz-Target: AWSKendraFrontendService.<Operation>``
and an ``application/x-amz-json-1.1`` body. It is authenticated (SigV4, as the Bedrock
emulator checks it), recorded, checked against the injected failures and answered;
errors are ``{"__type": code, "message": ...}`` with HTTP 400 (500 for internal ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runwire.testing.aws_loopback import AwsHandler, flat_headers
from runwire.testing.bedrock.faults import ServiceError
from runwire.testing.kendra.operations import OPERATIONS
from runwire.testing.loopback import LoopbackServer, json_object

__all__ = ["TARGET_PREFIX", "KendraServer", "RecordedCall"]

TARGET_PREFIX = "AWSKendraFrontendService."
_CONTENT_TYPE = "application/x-amz-json-1.1"
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class RecordedCall:
    """One authenticated request: the operation, its JSON body, who signed it."""

    operation: str
    body: dict[str, Any]
    access_key_id: str
    region: str
    headers: dict[str, str] = field(repr=False, default_factory=dict)


class _Handler(AwsHandler):
    server_version = "runwire-kendra-emulator"
    content_type = _CONTENT_TYPE
    server: KendraServer

    def _send_error(self, status: int, code: str, message: str) -> None:
        self._send_json(status, {"__type": code, "message": message})

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        raw = self._read_at_most(_MAX_BODY)
        if raw is None:
            return self._send_error(400, "ValidationException", "request body too large")
        target = self.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(TARGET_PREFIX)
        if self.command != "POST" or path != "/" or operation not in OPERATIONS:
            message = f"Unknown operation {target!r}"
            return self._send_error(400, "UnknownOperationException", message)
        emulator = self.server.emulator
        headers = self._headers_lists()
        auth = self._signed(path, query, headers, raw, emulator.secret_of, status=400)
        if auth is None:
            return
        body = json_object(raw)
        emulator.record(
            RecordedCall(
                operation, body or {}, auth.access_key_id, auth.region, flat_headers(headers)
            )
        )
        fault = emulator.faults.take(operation)
        if fault is not None:
            return self._send_error(fault.status, fault.code, fault.message)
        if body is None:
            message = "the body must be a JSON object"
            return self._send_error(400, "SerializationException", message)
        try:
            return self._send_json(200, OPERATIONS[operation](emulator.indexes, body))
        except ServiceError as exc:
            return self._send_error(exc.status, exc.code, exc.message)

    do_POST = do_GET = do_PUT = do_DELETE = AwsHandler._dispatch


class KendraServer(LoopbackServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    handler_class = _Handler
