"""The public face of the Kendra emulator: start it, give it indexes, break it, read it."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from runwire.testing.bedrock.emulator import DEFAULT_CREDENTIALS
from runwire.testing.bedrock.faults import Fault, Faults
from runwire.testing.corpus.documents import Corpus, default_corpus, load_corpus
from runwire.testing.kendra.operations import DEFAULT_INDEX_ID, OPERATIONS
from runwire.testing.kendra.server import KendraServer, RecordedCall

__all__ = ["KendraEmulator"]


class KendraEmulator:
    """A local Amazon Kendra (Retrieve, Query) on one HTTP port.

    Point a real boto3 ``kendra`` client at :attr:`endpoint_url`; requests must be
    SigV4-signed with a key pair from ``credentials`` (default: the Bedrock emulator's
    public dummy pair). ``indexes`` maps index ids to corpora (default: runwire's own
    corpus as :data:`DEFAULT_INDEX_ID`); :meth:`add_index` adds more, :meth:`fail`
    injects errors, :attr:`requests` records every authenticated call.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        *,
        indexes: Mapping[str, Corpus] | None = None,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        self._address = (host, port)
        self._credentials = dict(DEFAULT_CREDENTIALS if credentials is None else credentials)
        self._indexes = None if indexes is None else dict(indexes)
        self.log = log
        self.faults = Faults()
        self._requests: deque[RecordedCall] = deque(maxlen=max_recorded)
        self._lock = threading.Lock()
        self._server: KendraServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> KendraEmulator:
        """Bind the port and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = KendraServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="kendra-emulator",
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

    def __enter__(self) -> KendraEmulator:
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

    # -- credentials and indexes -----------------------------------------------------------
    def secret_of(self, access_key_id: str) -> str | None:
        """The secret of a known access key id, else None."""
        return self._credentials.get(access_key_id)

    @property
    def indexes(self) -> dict[str, Corpus]:
        """Index id -> corpus (the default one until another is added)."""
        if self._indexes is None:
            self._indexes = {DEFAULT_INDEX_ID: default_corpus()}
        return self._indexes

    def add_index(
        self, index_id: str, corpus: Corpus | str | Path | Iterable[Mapping[str, Any]]
    ) -> None:
        """Serve ``corpus`` (a Corpus, a JSONL path, or records) as ``index_id``."""
        if len(index_id) != 36:
            raise ValueError(f"a Kendra index id has 36 characters, not {index_id!r}")
        if isinstance(corpus, str | Path):
            corpus = load_corpus(corpus)
        elif not isinstance(corpus, Corpus):
            corpus = Corpus.from_records(corpus)
        with self._lock:
            self.indexes[index_id] = corpus

    # -- failures and records --------------------------------------------------------------
    def fail(
        self,
        status: int = 400,
        code: str = "ThrottlingException",
        message: str = "Rate exceeded",
        times: int = 1,
        operation: str | None = None,
    ) -> None:
        """Make the next ``times`` calls (of ``operation``, default any) fail with this
        AWS error."""
        if operation is not None and operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}: one of {sorted(OPERATIONS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self.faults.add(Fault(status, code, message, times, operation))

    def reset(self) -> None:
        """Forget injected failures and recorded requests."""
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
        return f"KendraEmulator({where}, keys={list(self._credentials)})"
