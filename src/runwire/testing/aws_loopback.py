"""What the AWS emulators (Bedrock, Kendra, SageMaker, S3 Vectors) share on top of
:mod:`runwire.testing.loopback`: the key pairs they accept, injected AWS errors, and a
handler that checks SigV4 and sends AWS's response headers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from typing import ClassVar, TypeVar

from runwire.testing.bedrock import sigv4
from runwire.testing.bedrock.faults import Fault, Faults
from runwire.testing.loopback import LoopbackEmulator, LoopbackHandler

__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_SECRET_ACCESS_KEY",
    "AwsEmulator",
    "AwsHandler",
    "flat_headers",
]

DEFAULT_ACCESS_KEY_ID = "AKIDRUNWIREEMULATOR"
DEFAULT_SECRET_ACCESS_KEY = "runwire-emulator-secret"  # a public dummy, not a secret
DEFAULT_CREDENTIALS: Mapping[str, str] = {DEFAULT_ACCESS_KEY_ID: DEFAULT_SECRET_ACCESS_KEY}
"""The key pair an emulator made with ``credentials=None`` knows."""

R = TypeVar("R")


class AwsHandler(LoopbackHandler):
    """A handler that answers with AWS's ``Date`` and ``x-amzn-RequestId`` headers and
    checks SigV4 signatures."""

    def _write(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        aws = {"Date": self.date_time_string(), "x-amzn-RequestId": str(uuid.uuid4())}
        super()._write(status, {**aws, **headers}, payload)

    def _headers_lists(self) -> dict[str, list[str]]:
        """Lower-case header name -> every value received (what SigV4 signs)."""
        received: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            received.setdefault(name.lower(), []).append(value)
        return received

    def _signed(
        self,
        path: str,
        query: str,
        headers: Mapping[str, list[str]],
        raw: bytes,
        secret_of: Callable[[str], str | None] | None,
        *,
        status: int | None = None,
        code: str | None = None,
    ) -> sigv4.Authorization | None:
        """The request's verified SigV4 authorization; else the error is sent (with
        ``status`` / ``code`` when given, the check's own otherwise) and None returned."""
        try:
            return sigv4.verify(self.command, path, query, headers, raw, secret_of)
        except sigv4.AuthError as exc:
            self._send_error(status or exc.status, code or exc.code, exc.message)
            return None


def flat_headers(headers: Mapping[str, list[str]]) -> dict[str, str]:
    """One comma-joined value per header name (what the records keep)."""
    return {name: ",".join(values) for name, values in headers.items()}


class AwsEmulator(LoopbackEmulator[R]):
    """An emulator of an AWS service: SigV4 key pairs (``credentials``; default
    :data:`DEFAULT_CREDENTIALS`) and a queue of injected errors (``faults``) for its
    ``operations``."""

    operations: ClassVar[Collection[str]] = ()

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        *,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        super().__init__(host, port, log=log, max_recorded=max_recorded)
        self._credentials = dict(DEFAULT_CREDENTIALS if credentials is None else credentials)
        self.faults = Faults()

    def secret_of(self, access_key_id: str) -> str | None:
        """The secret of a known access key id, else None."""
        return self._credentials.get(access_key_id)

    def _add_fault(
        self,
        status: int,
        code: str,
        message: str,
        times: int,
        operation: str | None,
        mid_stream: bool = False,
    ) -> None:
        if operation is not None and operation not in self.operations:
            raise ValueError(f"unknown operation {operation!r}: one of {sorted(self.operations)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self.faults.add(Fault(status, code, message, times, operation, mid_stream))

    def reset(self) -> None:
        """Forget injected failures and recorded requests."""
        self.faults.clear()
        self._forget_requests()

    def __repr__(self) -> str:
        where = self.endpoint_url if self.running else "stopped"
        return f"{type(self).__name__}({where}, keys={list(self._credentials)})"
