"""What the loop reports about tasks: ``updates``, ``tasks`` and ``debug`` payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runwire.graph.persistence import interrupt_dict
from runwire.graph.tasks import now_iso

if TYPE_CHECKING:
    from runwire.graph.tasks import Task

__all__ = ["Reporting"]


class Reporting:
    """Event payloads of ``Loop`` (a mixin: it uses the loop's attributes)."""

    if TYPE_CHECKING:
        modes: frozenset[str]
        step: int

        def emit(self, mode: str, payload: Any) -> None: ...

    def _update_payload(self, writes: list[tuple[str, Any]], result: Any) -> Any:
        if not writes:
            return None
        update: dict[str, Any] = {}
        for key, value in writes:
            update[key] = value
        return update

    def _after_task(self, task: Task) -> None:
        if "updates" in self.modes and task.error is None and not task.paused:
            self.emit("updates", {task.name: task.update})
        if "tasks" in self.modes or "debug" in self.modes:
            payload = {
                "id": task.id,
                "name": task.name,
                "error": None if task.error is None else repr(task.error),
                "result": dict(task.writes),
                "interrupts": [interrupt_dict(i) for i in task.interrupts],
            }
            self.emit("tasks", payload)
            self._debug("task_result", payload, self.step + 1)

    def _debug_task(self, task: Task) -> None:
        if "tasks" in self.modes or "debug" in self.modes:
            payload = {
                "id": task.id,
                "name": task.name,
                "input": task.input,
                "triggers": task.triggers,
            }
            self.emit("tasks", payload)
            self._debug("task", payload, self.step + 1)

    def _debug(self, kind: str, payload: Any, step: int) -> None:
        if "debug" in self.modes:
            self.emit(
                "debug", {"step": step, "timestamp": now_iso(), "type": kind, "payload": payload}
            )
