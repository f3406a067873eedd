"""The public face of the SageMaker runtime emulator: start it, name endpoints, break it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from runwire.testing.aws_loopback import AwsEmulator
from runwire.testing.sagemaker.server import RecordedInvocation, SageMakerServer

__all__ = ["OPERATIONS", "SageMakerEmulator"]

OPERATIONS = frozenset(("InvokeEndpoint", "InvokeEndpointWithResponseStream"))


class SageMakerEmulator(AwsEmulator[RecordedInvocation]):
    """A local sagemaker-runtime on one HTTP port.

    Point a real boto3 ``sagemaker-runtime`` client at :attr:`endpoint_url`; requests
    must be SigV4-signed with a key pair from ``credentials`` (default: the Bedrock
    emulator's public dummy pair). ``endpoints`` lists the endpoint names that exist
    (``None``: any name does); each answers in the format its request body is in (see
    ``runwire.testing.sagemaker.models``). :meth:`fail` injects errors,
    :attr:`requests` records every authenticated call.
    """

    server_class = SageMakerServer
    thread_name = "sagemaker-emulator"
    operations = OPERATIONS

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        *,
        endpoints: Iterable[str] | None = None,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        super().__init__(host, port, credentials, log=log, max_recorded=max_recorded)
        self.endpoints = None if endpoints is None else set(endpoints)

    def knows(self, endpoint_name: str) -> bool:
        """Whether the endpoint exists here."""
        return self.endpoints is None or endpoint_name in self.endpoints

    def fail(
        self,
        status: int = 400,
        code: str = "ThrottlingException",
        message: str = "Rate exceeded",
        times: int = 1,
        operation: str | None = None,
        *,
        mid_stream: bool = False,
    ) -> None:
        """Make the next ``times`` calls (of ``operation``, default any) fail with this
        error; ``mid_stream=True`` breaks streams after half their lines instead (a
        ``ModelStreamError`` event)."""
        self._add_fault(status, code, message, times, operation, mid_stream)
