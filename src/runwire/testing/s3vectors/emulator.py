"""The public face of the S3 Vectors emulator: start it, give it buckets, break it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType

from runwire.testing.bedrock.emulator import DEFAULT_CREDENTIALS
from runwire.testing.bedrock.faults import Fault, Faults
from runwire.testing.s3vectors.server import RecordedCall, S3VectorsServer
from runwire.testing.s3vectors.store import OPERATIONS, Store

__all__ = ["S3VectorsEmulator"]


class S3VectorsEmulator:
    """A local Amazon S3 Vectors on one HTTP port.

    Point a real boto3 ``s3vectors`` client at :attr:`endpoint_url`; requests must be
    SigV4-signed with a key pair from ``credentials`` (default: the Bedrock emulator's
    public dummy pair). ``buckets`` names vector buckets that exist from the start.
    :meth:`fail` injects errors, :attr:`requests` records every authenticated call,
    :attr:`store` holds the data.
    """

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
        self._address = (host, port)
        self._credentials = dict(DEFAULT_CREDENTIALS if credentials is None else credentials)
        self.store = Store()
        for name in buckets:
            self.store.create_vector_bucket({"vectorBucketName": name})
        self.log = log
        self.faults = Faults()
        self._requests: deque[RecordedCall] = deque(maxlen=max_recorded)
        self._lock = threading.Lock()
        self._server: S3VectorsServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> S3VectorsEmulator:
        """Bind the port and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = S3VectorsServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="s3vectors-emulator",
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

    def __enter__(self) -> S3VectorsEmulator:
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

    def fail(
        self,
        status: int = 429,
        code: str = "TooManyRequestsException",
        message: str = "Rate exceeded",
        times: int = 1,
        operation: str | None = None,
    ) -> None:
        """Make the next ``times`` calls (of ``operation``, default any) fail."""
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}: one of {sorted(OPERATIONS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self.faults.add(Fault(status, code, message, times, operation))

    def reset(self) -> None:
        """Forget injected failures and recorded requests (the data stays)."""
        self.faults.clear()
        with self._lock:
            self._requests.clear()

    def record(self, call: RecordedCall) -> None:
        with self._lock:
            self._requests.append(call)

    @property
    def requests(self) -> list[RecordedCall]:
        """The authenticated calls received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def __repr__(self) -> str:
        where = self.endpoint_url if self._server is not None else "stopped"
        return f"S3VectorsEmulator({where}, keys={list(self._credentials)})"
