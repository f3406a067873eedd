"""The public face of the Assistants emulator: start it, script runs, read requests."""

from __future__ import annotations

from collections.abc import Callable, Collection

from runwire.testing.loopback import LoopbackEmulator
from runwire.testing.openai_assistants.server import EmulatorServer, RecordedCall
from runwire.testing.openai_assistants.store import FINAL_FAILURES, Store

__all__ = ["DEFAULT_API_KEY", "AssistantsEmulator", "RecordedCall"]

DEFAULT_API_KEY = "sk-runwire-emulator"  # a public dummy, not a secret
"""The API key an emulator made with ``api_keys=None`` accepts."""


class AssistantsEmulator(LoopbackEmulator[RecordedCall]):
    """A local OpenAI Assistants v2 API (assistants, threads, messages, runs).

    Point ``openai.OpenAI(base_url=emulator.base_url, api_key=...)`` at it. Runs go
    ``queued`` -> ``in_progress`` (``polls_in_progress`` retrieves) -> their outcome
    (see :mod:`runwire.testing.openai_assistants.store`); :meth:`fail_next_run` makes
    the next run end ``failed`` (or another final status); :attr:`calls` records every
    authenticated request.
    """

    server_class = EmulatorServer
    thread_name = "openai-assistants-emulator"

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
        super().__init__(host, port, log=log, max_recorded=max_recorded)
        self.api_keys = (DEFAULT_API_KEY,) if api_keys is None else tuple(api_keys)
        self.store = Store(polls_in_progress)

    @property
    def base_url(self) -> str:
        """The API base URL (``.../v1``), what OPENAI_BASE_URL names."""
        return self.endpoint_url + "/v1"

    def fail_next_run(self, status: str = "failed", message: str = "The run failed.") -> None:
        """Make the next run created end with ``status`` and ``last_error.message``."""
        if status not in FINAL_FAILURES:
            raise ValueError(f"status must be one of {FINAL_FAILURES}")
        self.store.failures.append((status, message))

    @property
    def calls(self) -> list[RecordedCall]:
        """The authenticated requests so far, oldest first (a copy)."""
        return self.requests

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"AssistantsEmulator({where})"
