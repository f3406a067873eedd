"""The public face of the SageMaker runtime emulator: start it, name endpoints, break it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType

from runwire.testing.bedrock.emulator import DEFAULT_CREDENTIALS
from runwire.testing.bedrock.faults import Fault, Faults
from runwire.testing.sagemaker.server import RecordedInvocation, SageMakerServer

__all__ = ["OPERATIONS", "SageMakerEmulator"]

OPERATIONS = frozenset(("InvokeEndpoint", "InvokeEndpointWithResponseStream"))


class SageMakerEmulator:
    """A local sagemaker-runtime on one HTTP port.

    Point a real boto3 ``sagemaker-runtime`` client at :attr:`endpoint_url`; requests
    must be SigV4-signed with a key pair from ``credentials`` (default: the Bedrock
    emulator's public dummy pair). ``endpoints`` lists the endpoint names that exist
    (``None``: any name does); each answers in the format its request body is in (see
    ``runwire.testing.sagemaker.models``). :meth:`fail` injects errors,
    :attr:`requests` records every authenticated call.
    """

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
        self._address = (host, port)
        self._credentials = dict(DEFAULT_CREDENTIALS if credentials is None else credentials)
        self.endpoints = None if endpoints is None else set(endpoints)
        self.log = log
        self.faults = Faults()
        self._requests: deque[RecordedInvocation] = deque(maxlen=max_recorded)
        self._lock = threading.Lock()
        self._server: SageMakerServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SageMakerEmulator:
        """Bind the port and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = SageMakerServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="sagemaker-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and free the port (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> SageMakerEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT``, for boto3's ``endpoint_url``."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use `with`")
        host, port = self._address[0], self._server.server_address[1]
        return f"http://{host if ':' not in host else f'[{host}]'}:{port}"

    def secret_of(self, access_key_id: str) -> str | None:
        """The secret of a known access key id, else None."""
        return self._credentials.get(access_key_id)

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
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}: one of {sorted(OPERATIONS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self.faults.add(Fault(status, code, message, times, operation, mid_stream))

    def reset(self) -> None:
        """Forget injected failures and recorded requests."""
        self.faults.clear()
        with self._lock:
            self._requests.clear()

    def record(self, call: RecordedInvocation) -> None:
        with self._lock:
            self._requests.append(call)

    @property
    def requests(self) -> list[RecordedInvocation]:
        """The authenticated calls received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def __repr__(self) -> str:
        where = self.endpoint_url if self._server is not None else "stopped"
        return f"SageMakerEmulator({where}, keys={list(self._credentials)})"
