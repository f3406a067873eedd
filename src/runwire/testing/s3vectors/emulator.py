"""The public face of the S3 Vectors emulator: start it, give it buckets, break it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from runwire.testing.aws_loopback import AwsEmulator
from runwire.testing.s3vectors.server import RecordedCall, S3VectorsServer
from runwire.testing.s3vectors.store import OPERATIONS, Store

__all__ = ["S3VectorsEmulator"]


class S3VectorsEmulator(AwsEmulator[RecordedCall]):
    """A local Amazon S3 Vectors on one HTTP port.

    Point a real boto3 ``s3vectors`` client at :attr:`endpoint_url`; requests must be
    SigV4-signed with a key pair from ``credentials`` (default: the Bedrock emulator's
    public dummy pair). ``buckets`` names vector buckets that exist from the start.
    :meth:`fail` injects errors, :attr:`requests` records every authenticated call,
    :attr:`store` holds the data.
    """

    server_class = S3VectorsServer
    thread_name = "s3vectors-emulator"
    operations = OPERATIONS

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        *,
        buckets: Iterable[str] = (),
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        super().__init__(host, port, credentials, log=log, max_recorded=max_recorded)
        self.store = Store()
        for name in buckets:
            self.store.create_vector_bucket({"vectorBucketName": name})

    def fail(
        self,
        status: int = 429,
        code: str = "TooManyRequestsException",
        message: str = "Rate exceeded",
        times: int = 1,
        operation: str | None = None,
    ) -> None:
        """Make the next ``times`` calls (of ``operation``, default any) fail."""
        self._add_fault(status, code, message, times, operation)

    def reset(self) -> None:
        """Forget injected failures and recorded requests (the data stays)."""
        super().reset()
