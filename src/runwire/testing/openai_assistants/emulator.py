"""The public face of the Assistants emulator: start it, script runs, read requests."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from runwire.testing.openai_assistants.server import EmulatorServer
from runwire.testing.openai_assistants.store import FINAL_FAILURES, Store

__all__ = ["DEFAULT_API_KEY", "AssistantsEmulator", "RecordedCall"]

DEFAULT_API_KEY = "sk-runwire-emulator"  # a public dummy, not a secret
"""The API key an emulator made with ``api_keys=None`` accepts."""


@dataclass(frozen=True)
class RecordedCall:
    """One authenticated request: method, path and JSON body."""

    method: str
    path: str
    body: dict[str, Any]


class AssistantsEmulator:
    """A local OpenAI Assistants v2 API (assistants, threads, messages, runs).

    Point ``openai.OpenAI(base_url=emulator.base_url, api_key=...)`` at it. Runs go
    ``queued`` -> ``in_progress`` (``polls_in_progress`` retrieves) -> their outcome
    (see :mod:`runwire.testing.openai_assistants.store`); :meth:`fail_next_run` makes
    the next run end ``failed`` (or another final status); :attr:`calls` records every
    authenticated request.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Collection[str] | None = None,
        *,
        polls_in_progress: int = 2,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        self._address = (host, port)
        self.api_keys = (DEFAULT_API_KEY,) if api_keys is None else tuple(api_keys)
        self.store = Store(polls_in_progress)
        self.log = log
        self._calls: deque[RecordedCall] = deque(maxlen=max_recorded)
        self._lock = threading.Lock()
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> AssistantsEmulator:
        """Bind the port and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = EmulatorServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"openai-assistants-emulator:{self.port}",
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

    def __enter__(self) -> AssistantsEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._address[1] if self._server is None else int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT``."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use `with`")
        host = self._address[0]
        return f"http://{host if ':' not in host else f'[{host}]'}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL (``.../v1``), what OPENAI_BASE_URL names."""
        return self.endpoint_url + "/v1"

    def fail_next_run(self, status: str = "failed", message: str = "The run failed.") -> None:
        """Make the next run created end with ``status`` and ``last_error.message``."""
        if status not in FINAL_FAILURES:
            raise ValueError(f"status must be one of {FINAL_FAILURES}")
        self.store.failures.append((status, message))

    def record(self, method: str, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._calls.append(RecordedCall(method, path, body))

    @property
    def calls(self) -> list[RecordedCall]:
        """The authenticated requests so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"AssistantsEmulator({where})"
