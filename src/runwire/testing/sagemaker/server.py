"""The HTTP side of the SageMaker runtime emulator (rest-json, SigV4 checked).

Routes (POST): ``/endpoints/{EndpointName}/invocations`` (InvokeEndpoint: the
container's JSON body) and ``/endpoints/{EndpointName}/invocations-response-stream``
(InvokeEndpointWithResponseStream: ``PayloadPart`` events in
``application/vnd.amazon.eventstream`` frames, each line split over two events, as
real streams may split it). Errors use the rest-json shape (``x-amzn-ErrorType``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from runwire.testing.aws_loopback import AwsHandler, flat_headers
from runwire.testing.bedrock.eventstream import encode_message
from runwire.testing.bedrock.faults import ServiceError
from runwire.testing.loopback import LoopbackServer, chunked, to_json
from runwire.testing.sagemaker.models import answer, container_for

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


class _Handler(AwsHandler):
    server_version = "runwire-sagemaker-emulator"
    internal_error_code = "InternalFailure"
    server: SageMakerServer

    def _send_error(self, status: int, code: str, message: str) -> None:
        raw = json.dumps({"message": message}).encode()
        headers = {
            "x-amzn-ErrorType": code,
            "Content-Type": "application/json",
            "Content-Length": str(len(raw)),
        }
        self._write(status, headers, raw)

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        raw = self._read_at_most(_MAX_BODY)
        if raw is None:
            return self._send_error(413, "ValidationError", "Request payload is too large")
        match = _ROUTE.match(path)
        if self.command != "POST" or match is None:
            return self._send_error(404, "UnknownOperationException", f"Unknown operation {path}")
        operation, name = _OPERATIONS[match.group(2)], unquote(match.group(1))
        emulator = self.server.emulator
        headers = self._headers_lists()
        auth = self._signed(path, query, headers, raw, emulator.secret_of)
        if auth is None:
            return
        flat = flat_headers(headers)
        emulator.record(RecordedInvocation(operation, name, raw, flat, auth.access_key_id))
        fault = emulator.faults.take(operation)
        if fault is not None and not fault.mid_stream:
            return self._send_error(fault.status, fault.code, fault.message)
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
            return self._send_error(exc.status, exc.code, exc.message)

    def _common(self, sent: Mapping[str, str]) -> dict[str, str]:
        headers = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"}
        custom = sent.get("x-amzn-sagemaker-custom-attributes")
        if custom:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = custom
        return headers

    def _respond(self, sent: Mapping[str, str], body: Any) -> None:
        raw = to_json(body)
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
        headers = {
            **self._common(sent),
            "Content-Type": "application/vnd.amazon.eventstream",
            "X-Amzn-SageMaker-Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        }
        self._write(200, headers, chunked(messages))

    do_POST = do_GET = do_PUT = do_DELETE = AwsHandler._dispatch


class SageMakerServer(LoopbackServer):
    """The HTTP server; it knows its emulator and closes open connections on shutdown."""

    handler_class = _Handler
