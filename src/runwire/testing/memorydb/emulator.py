"""``MemoryDBEmulator``: a Redis-protocol server on a loopback port with MemoryDB's
vector search, for tests and ``runwire emulate memorydb``.

One thread accepts connections and one thread serves each (at most ``max_clients``;
the next one gets Redis's ``ERR max number of clients reached`` and is closed).
Commands run one at a time under a lock, as on a Redis server. Each connection reads
at most ``Limits`` worth of one command; an over-limit or malformed request gets the
protocol error and the connection is closed. An idle connection is closed after
``idle_timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from runwire.testing.memorydb.commands import Session, execute
from runwire.testing.memorydb.keyspace import Keyspace
from runwire.testing.memorydb.resp import Limits, ProtocolError, Reader, ReplyError, encode
from runwire.testing.memorydb.search import SearchEngine

__all__ = ["DEFAULT_PASSWORD", "MemoryDBEmulator", "Store"]

DEFAULT_PASSWORD = "runwire-memorydb-emulator"
"""The password ``runwire emulate memorydb`` asks for (a public dummy, as the Bedrock
emulator's keys)."""


@dataclass
class Store:
    """Everything the connections share: databases, indexes, credentials, counters."""

    max_bytes: int = 512 * 1024 * 1024
    databases_count: int = 16
    password: str | None = None
    username: str = "default"
    lock: threading.RLock = field(default_factory=threading.RLock)
    counts: dict[bytes, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.databases = [Keyspace(self.max_bytes) for _ in range(self.databases_count)]
        self.search = SearchEngine(self.databases[0])


def _linger(conn: socket.socket, seconds: float = 0.5, budget: int = 1024 * 1024) -> None:
    """After a refusal: stop writing and read (and drop) what the client was still
    sending, for a bounded time and size, so closing does not reset the connection
    before the client has read the error."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(seconds)
        while budget > 0:
            data = conn.recv(65536)
            if not data:
                return
            budget -= len(data)


class MemoryDBEmulator:
    """A local MemoryDB (Redis protocol, vector search) on ``host:port`` (0: a free port).

    ``password`` set: clients must AUTH (``redis://:password@host:port``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        password: str | None = None,
        max_clients: int = 64,
        limits: Limits | None = None,
        max_bytes: int = 512 * 1024 * 1024,
        idle_timeout: float = 300.0,
    ) -> None:
        self.host = host
        self.port = port
        self.store = Store(max_bytes=max_bytes, password=password)
        self.max_clients = max_clients
        self.limits = limits or Limits()
        self.idle_timeout = idle_timeout
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()
        self._stopping = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``redis://[:password@]host:port`` for redis-py (the password included)."""
        auth = f":{self.store.password}@" if self.store.password else ""
        return f"redis://{auth}{self.host}:{self.port}"

    @property
    def endpoint_url(self) -> str:
        """``redis://host:port`` without credentials (safe to print)."""
        return f"redis://{self.host}:{self.port}"

    @property
    def calls(self) -> dict[str, int]:
        """How many times each command ran (name -> count)."""
        with self.store.lock:
            return {k.decode(): v for k, v in self.store.counts.items()}

    def start(self) -> MemoryDBEmulator:
        """Listen and serve in background threads; returns self."""
        listener = socket.create_server((self.host, self.port), backlog=128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, name="memorydb-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every connection."""
        self._stopping.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            with contextlib.suppress(OSError):
                self._listener.close()
        with self._clients_lock:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MemoryDBEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- serving --------------------------------------------------------------------------
    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._clients_lock:
                full = len(self._clients) >= self.max_clients
                if not full:
                    self._clients.add(conn)
            if full:
                with contextlib.suppress(OSError):
                    conn.sendall(encode(ReplyError("ERR max number of clients reached")))
                    conn.shutdown(socket.SHUT_WR)
                    conn.close()
                continue
            threading.Thread(
                target=self._serve, args=(conn,), name="memorydb-client", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        session = Session(self.store)
        reader = Reader(self.limits)
        try:
            conn.settimeout(self.idle_timeout)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not session.closing:
                data = conn.recv(65536)
                if not data:
                    return
                try:
                    reader.feed(data)
                    commands = reader.commands()
                except ProtocolError as exc:
                    conn.sendall(encode(ReplyError(f"ERR {exc}")))
                    _linger(conn)
                    return
                replies = [self._reply(session, command) for command in commands]
                if replies:
                    conn.sendall(b"".join(replies))
        except (OSError, TimeoutError):
            return
        finally:
            with self._clients_lock:
                self._clients.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _reply(self, session: Session, command: list[bytes]) -> bytes:
        value: Any = execute(session, command)
        return encode(value, session.proto)
