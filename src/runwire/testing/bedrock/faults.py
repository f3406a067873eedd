"""Service errors the emulator answers with, and the injected-failure queue."""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["STREAM_OPERATIONS", "Fault", "Faults", "ServiceError", "validation_error"]

STREAM_OPERATIONS = frozenset(
    ("ConverseStream", "InvokeModelWithResponseStream", "InvokeEndpointWithResponseStream")
)


class ServiceError(Exception):
    """An AWS error response: HTTP status, error code (``x-amzn-ErrorType``), message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def validation_error(message: str) -> ServiceError:
    """A 400 ``ValidationException``."""
    return ServiceError(400, "ValidationException", message)


@dataclass
class Fault:
    """An injected failure for the next ``remaining`` requests of ``operation`` (None:
    any operation). ``mid_stream`` faults hit stream operations only, after the first
    events were sent, as an event-stream exception message."""

    status: int
    code: str
    message: str
    remaining: int
    operation: str | None = None
    mid_stream: bool = False

    def matches(self, operation: str) -> bool:
        if self.operation is not None and self.operation != operation:
            return False
        return not self.mid_stream or operation in STREAM_OPERATIONS


class Faults:
    """The queue of injected failures (thread-safe); the oldest matching one is used."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, operation: str) -> Fault | None:
        """The fault for this request of ``operation`` (one use of it), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(operation):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        """How many injected failures are left."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)
