"""What every HTTP emulator shares: a threading HTTP/1.1 server on a loopback port.

:class:`LoopbackEmulator` is the public lifecycle (start a server in a daemon thread,
stop it and its open connections, ``with``, ``host``/``port``/``endpoint_url``) and the
bounded, locked record of requests. :class:`LoopbackServer` knows its emulator and
closes the connections still open when it stops; :class:`LoopbackHandler` keeps
serving when an emulator has a bug (it answers 500) and writes each response in one
call. Each emulator adds only its own operations, authentication and state.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

__all__ = [
    "LoopbackEmulator",
    "LoopbackHandler",
    "LoopbackServer",
    "chunked",
    "json_object",
    "to_json",
]

R = TypeVar("R")


def to_json(body: Any, *, ensure_ascii: bool = False) -> bytes:
    """``body`` as compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=ensure_ascii).encode("utf-8")


def json_object(raw: bytes) -> dict[str, Any] | None:
    """A request body as a JSON object (an empty body is ``{}``), else None."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def chunked(parts: Iterable[bytes]) -> bytes:
    """``parts`` in chunked transfer encoding, one chunk each, then the last chunk."""
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


class LoopbackHandler(BaseHTTPRequestHandler):
    """The request handler base: keep-alive HTTP/1.1, connection tracking, a log line
    per request through the emulator's ``log``, and :meth:`_dispatch` around the
    subclass's :meth:`_handle`. Subclasses bind their ``do_*`` methods to
    :meth:`_dispatch` and say how an error is sent (:meth:`_send_error`)."""

    protocol_version = "HTTP/1.1"
    timeout = 300  # idle keep-alive connections close after this many seconds
    tcp_nodelay: ClassVar[bool] = False
    """Send small responses at once (no Nagle delay)."""
    content_type: ClassVar[str] = "application/json"
    """The Content-Type of :meth:`_send_json`'s responses."""
    json_ascii: ClassVar[bool] = False
    """Escape non-ASCII characters in JSON responses."""
    internal_error_code: ClassVar[str] = "InternalServerException"
    """The error code of the 500 answered when the emulator has a bug."""
    server: LoopbackServer

    def setup(self) -> None:
        super().setup()
        if self.tcp_nodelay:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.request, True)

    def finish(self) -> None:
        self.server.track(self.request, False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.emulator.log
        if log is not None:
            log(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}".rstrip())

    # -- reading -------------------------------------------------------------------------
    def _read_at_most(self, max_body: int) -> bytes | None:
        """The body (by Content-Length), or None when it is over ``max_body`` bytes (the
        connection then closes after the answer: the body is left unread)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > max_body:
            self.close_connection = True
            return None
        return self.rfile.read(length)

    # -- writing -------------------------------------------------------------------------
    def _write(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        """Status line, ``Server``, ``headers`` and ``payload`` in one write (one
        syscall, no waiting for the GIL between the parts)."""
        self.log_request(status)
        lines = [
            f"{self.protocol_version} {status} {HTTPStatus(status).phrase}",
            f"Server: {self.version_string()}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def _send_json(self, status: int, body: Any, headers: Mapping[str, str] = {}) -> None:
        raw = to_json(body, ensure_ascii=self.json_ascii)
        head = {"Content-Type": self.content_type, "Content-Length": str(len(raw)), **headers}
        self._write(status, head, raw)

    def _send_error(self, status: int, code: str, message: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say how it sends errors")

    # -- the request ---------------------------------------------------------------------
    def _handle(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must handle requests")

    def _on_bug(self, exc: Exception) -> None:
        """Answer 500 for an exception the emulator did not expect."""
        self._send_error(500, self.internal_error_code, f"emulator error: {type(exc).__name__}")

    def _dispatch(self) -> None:
        try:
            self._handle()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a bug in the emulator: answer 500, keep serving
            self._on_bug(exc)


class LoopbackServer(ThreadingHTTPServer):
    """The HTTP server of one emulator (IPv4 or IPv6 by the host); it closes the open
    connections on shutdown. Subclasses name their ``handler_class``."""

    daemon_threads = True
    request_queue_size = 128
    """The listen backlog: socketserver's 5 drops the SYNs of a client opening many
    connections at once (a pool of 64), each then retried only after a second."""
    handler_class: ClassVar[type[LoopbackHandler]] = LoopbackHandler

    def __init__(self, address: tuple[str, int], emulator: Any) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, self.handler_class)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (a closed pool resets its idle
        connections) is not an emulator bug: say nothing; print anything else."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class LoopbackEmulator(Generic[R]):
    """The lifecycle of an emulator served by a :class:`LoopbackServer` subclass
    (``server_class``), and its record of requests (the last ``max_recorded``; all of
    them when None: a long-running emulator keeps a bounded history).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    server_class: ClassVar[type[LoopbackServer]] = LoopbackServer
    thread_name: ClassVar[str] = "emulator"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        self._address = (host, port)
        self.log = log
        """Called with one line per request (method, path, status) when set."""
        self._requests: deque[R] = deque(maxlen=max_recorded)
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Self:
        """Bind the port and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = self.server_class(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{self.thread_name}:{self.port}",
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def host(self) -> str:
        return self._address[0]

    @property
    def port(self) -> int:
        """The bound port (the requested one until started)."""
        if self._server is None:
            return self._address[1]
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` (an IPv6 host in brackets), e.g. for boto3's
        ``endpoint_url``."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use `with`")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    # -- records -------------------------------------------------------------------------
    def record(self, request: R) -> None:
        """Keep ``request`` (the oldest is dropped past ``max_recorded``)."""
        with self._lock:
            self._requests.append(request)

    @property
    def requests(self) -> list[R]:
        """The authenticated requests received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def _forget_requests(self) -> None:
        with self._lock:
            self._requests.clear()
