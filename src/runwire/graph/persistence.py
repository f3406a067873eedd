"""The loop's checkpoints: building, saving and restoring them, and pending writes.

A checkpoint has langgraph-checkpoint 4.x's shape: ``{"v", "id", "ts",
"channel_values", "channel_versions", "versions_seen", "updated_channels"}``. Channel
values hold the state keys plus the loop's own: ``branch:to:<node>`` for each node
triggered next, ``join:<a>+<b>:<node>`` for joins (a met one until its node runs),
``__pregel_tasks`` for pending ``Send``s (as ``[node, arg]`` pairs) and ``__start__`` for
an input not yet applied.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from runwire.graph.channels import MISSING
from runwire.graph.checkpoint.base import BaseCheckpointSaver, new_checkpoint_id
from runwire.graph.constants import BRANCH_PREFIX, ERROR, INTERRUPT, PULL, RESUME, START, TASKS
from runwire.graph.tasks import Task, now_iso, task_id
from runwire.graph.types import Send

if TYPE_CHECKING:
    from runwire.graph.channels import BaseChannel, NamedBarrierValue
    from runwire.graph.types import Interrupt

__all__ = ["Persistence", "interrupt_dict"]


def interrupt_dict(item: Interrupt) -> dict[str, Any]:
    """An interrupt as stored and shown in task payloads."""
    return {"value": item.value, "id": item.id, "response_schema": item.response_schema}


class Persistence:
    """Checkpoint handling of ``Loop`` (a mixin: it uses the loop's attributes)."""

    if TYPE_CHECKING:
        channels: dict[str, BaseChannel]
        joins: dict[str, NamedBarrierValue]
        triggers: set[str]
        sends: list[Send]
        versions: dict[str, int]
        seen: dict[str, dict[str, int]]
        updated: set[str]
        checkpoint_id: str | None
        checkpoint_config: dict[str, Any] | None
        parent_config: dict[str, Any] | None
        checkpointer: Any
        durability: str
        thread_id: Any
        ns: str
        step: int
        modes: frozenset[str]
        start_input: Any
        pending: list[tuple[str, str, Any]]
        plan: Any
        deferred: list[tuple[str, tuple[Any, ...]]] | None

        def emit(self, mode: str, payload: Any) -> None: ...
        def state_values(self, keys: Any = None) -> dict[str, Any]: ...
        def _debug(self, kind: str, payload: Any, step: int) -> None: ...

    # -- checkpoints -------------------------------------------------------------------
    def restore(self, checkpoint: dict[str, Any], metadata: dict[str, Any] | None) -> None:
        """Take a saved checkpoint as the current state."""
        values = checkpoint.get("channel_values") or {}
        self.triggers = set()
        self.sends = []
        for key, value in values.items():
            if key in self.channels:
                self.channels[key].restore(value)
            elif key in self.joins:
                self.joins[key].restore(value)
            elif key.startswith(BRANCH_PREFIX):
                self.triggers.add(key[len(BRANCH_PREFIX) :])
            elif key == TASKS:
                self.sends = [Send(node, arg) for node, arg in value]
            elif key == START:
                self.start_input = value
        for key, barrier in self.joins.items():
            if barrier.ready():  # a met join keeps its node triggered until it runs
                self.triggers.add(self.plan.joins[key][1])
        self.versions = dict(checkpoint.get("channel_versions") or {})
        self.seen = {k: dict(v) for k, v in (checkpoint.get("versions_seen") or {}).items()}
        self.checkpoint_id = checkpoint.get("id")
        self.step = int((metadata or {}).get("step", -1))

    def checkpoint(self) -> dict[str, Any]:
        """The current state as a checkpoint dict (langgraph-checkpoint 4.x's shape)."""
        values: dict[str, Any] = {}
        for key, channel in self.channels.items():
            value = channel.checkpoint()
            if value is not MISSING:
                values[key] = value
        for key, barrier in self.joins.items():
            if barrier.value:
                values[key] = barrier.checkpoint()
        for name in sorted(self.triggers):
            values[BRANCH_PREFIX + name] = None
        if self.sends:
            values[TASKS] = [[s.node, s.arg] for s in self.sends]
        if self.start_input is not MISSING:
            values[START] = self.start_input
        now = time.time_ns()
        return {
            "v": 4,
            "id": new_checkpoint_id(self.step, now),
            "ts": now_iso(now),
            "channel_values": values,
            "channel_versions": dict(self.versions),
            "versions_seen": dict(self.seen),
            "updated_channels": sorted(self.updated),
        }

    def _base_config(self) -> dict[str, Any]:
        if self.checkpoint_config is not None:
            return self.checkpoint_config
        return {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": self.ns}}

    def _save_checkpoint(self, source: str) -> None:
        if (
            self.checkpointer is None
            and "checkpoints" not in self.modes
            and "debug" not in self.modes
        ):
            return  # nothing keeps or shows it: skip building it
        checkpoint = self.checkpoint()
        metadata = {"source": source, "step": self.step, "parents": {}}
        previous = self.checkpoint_config
        self.checkpoint_id = checkpoint["id"]
        if self.checkpointer is not None and self.durability != "exit":
            new_versions = {k: self.versions[k] for k in self.updated if k in self.versions}
            self.checkpoint_config = self._put(
                self._base_config(), checkpoint, metadata, new_versions
            )
            self.parent_config = previous
        else:
            self.checkpoint_config = {
                "configurable": {
                    "thread_id": self.thread_id,
                    "checkpoint_ns": self.ns,
                    "checkpoint_id": checkpoint["id"],
                }
            }
            self.parent_config = previous
        self._last = (checkpoint, metadata)
        if self.checkpointer is not None and ("checkpoints" in self.modes or "debug" in self.modes):
            payload = self._checkpoint_payload(checkpoint, metadata)
            self.emit("checkpoints", payload)
            self._debug("checkpoint", payload, self.step)

    def _checkpoint_payload(self, checkpoint: dict[str, Any], metadata: dict[str, Any]) -> Any:
        next_names = sorted(self.triggers) + [s.node for s in self.sends]
        if self.start_input is not MISSING:
            next_names = [START]
        return {
            "config": self.checkpoint_config,
            "parent_config": self.parent_config,
            "values": self.state_values(self.plan.state.keys),
            "metadata": metadata,
            "next": next_names,
            "tasks": [self._task_payload(checkpoint["id"], n) for n in next_names],
        }

    def _task_payload(self, cid: str, name: str) -> dict[str, Any]:
        tid = task_id(cid, self.ns, (PULL, name))
        node = self.plan.nodes.get(name)
        state = None
        if node is not None and node.spec.is_graph:
            state = self.subgraph_config(name, tid)
        return {"id": tid, "name": name, "interrupts": (), "state": state}

    def subgraph_config(self, name: str, tid: str) -> dict[str, Any]:
        """The config addressing the checkpoints of the subgraph run by task ``tid``."""
        ns = f"{self.ns}|{name}:{tid}" if self.ns else f"{name}:{tid}"
        return {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": ns}}

    def _put_task_writes(self, tasks: list[Task]) -> None:
        """Save each finished task's writes against the checkpoint it started from."""
        if self.checkpointer is None or self.durability == "exit":
            return
        put = self._put_writes
        for task in tasks:
            writes = [
                (c, [v.node, v.arg] if c == TASKS else v) for c, v in (*task.writes, *task.control)
            ]
            put(self.checkpoint_config, writes or [("__done__", None)], task.id)

    def _save_pending(self, tasks: list[Task]) -> None:
        """Keep finished tasks' writes, interrupts and resumes for the resumed step."""
        pending: list[tuple[str, str, Any]] = []
        for task in tasks:
            writes: list[tuple[str, Any]] = []
            if task.error is None and not task.paused and task.done:
                writes = [*task.writes, *task.control] or [("__done__", None)]
            if task.paused:
                writes.append((INTERRUPT, [interrupt_dict(i) for i in task.interrupts]))
                if task.resume:
                    writes.append((RESUME, list(task.resume)))
            if task.error is not None:
                writes.append((ERROR, repr(task.error)[:500]))
            writes = [(c, [v.node, v.arg] if c == TASKS else v) for c, v in writes]
            for channel, value in writes:
                pending.append((task.id, channel, value))
            if writes and self.checkpointer is not None and self.durability != "exit":
                self._put_writes(self.checkpoint_config, writes, task.id)
        self.pending = pending
        if self.checkpointer is not None and self.durability == "exit":
            self.flush_exit(pending)

    def flush_exit(self, pending: list[tuple[str, str, Any]] | None = None) -> None:
        """With ``durability="exit"``: save the last checkpoint (and its pending writes)."""
        if self.checkpointer is None or self.durability != "exit" or not hasattr(self, "_last"):
            return
        checkpoint, metadata = self._last
        config = self._put(
            {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": self.ns}},
            checkpoint,
            metadata,
            dict(self.versions),
        )
        self.checkpoint_config = config
        by_task: dict[str, list[tuple[str, Any]]] = {}
        for tid, channel, value in pending or ():
            by_task.setdefault(tid, []).append((channel, value))
        for tid, writes in by_task.items():
            self._put_writes(config, writes, tid)
        del self._last

    # -- the saver, sync or deferred to its async methods ----------------------------------
    def _put(
        self,
        config: dict[str, Any],
        checkpoint: dict[str, Any],
        metadata: dict[str, Any],
        versions: dict[str, Any],
    ) -> dict[str, Any]:
        """Save a checkpoint; in async runs queue ``aput`` and return the config it will."""
        if self.deferred is None:
            return self.checkpointer.put(config, checkpoint, metadata, versions)
        self.deferred.append(("put", (config, checkpoint, metadata, versions)))
        configurable = config["configurable"]
        return {
            "configurable": {
                "thread_id": configurable["thread_id"],
                "checkpoint_ns": configurable.get("checkpoint_ns", ""),
                "checkpoint_id": checkpoint["id"],
            }
        }

    def _put_writes(self, config: Any, writes: list[tuple[str, Any]], task_id: str) -> None:
        """Save a task's writes; in async runs queue ``aput_writes``."""
        if self.deferred is None:
            self.checkpointer.put_writes(config, writes, task_id, "")
        else:
            self.deferred.append(("put_writes", (config, writes, task_id, "")))

    async def aflush(self) -> None:
        """Hand the queued saver calls over, in the order the loop made them: to the
        saver's ``aput_batch`` (one round trip for a SQL saver; a saver without one, such
        as LangGraph's, gets the base class's, one call at a time)."""
        queue = self.deferred
        saver = self.checkpointer
        batch = getattr(saver, "aput_batch", None)
        if batch is None:
            batch = partial(BaseCheckpointSaver.aput_batch, saver)
        while queue:
            ops = queue[:]
            del queue[:]
            await batch(ops)
