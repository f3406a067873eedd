"""The Pregel loop: supersteps over channels, with interrupts and checkpoints.

A step runs every triggered node on the same state; their writes are applied together
at the end of the step, in task order (pulled nodes by name, then ``Send`` pushes),
through the channels' reducers. The loop knows nothing of sync or async: ``runner``
drives it and calls the nodes.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from runwire.graph.channels import MISSING, BaseChannel
from runwire.graph.constants import (
    BRANCH_PREFIX,
    END,
    ERROR,
    INTERRUPT,
    PULL,
    PUSH,
    RESUME,
    START,
    TASKS,
)
from runwire.graph.errors import GraphRecursionError, InvalidUpdateError
from runwire.graph.persistence import Persistence
from runwire.graph.plan import NodePlan, Plan, result_writes
from runwire.graph.reporting import Reporting
from runwire.graph.starting import Starting
from runwire.graph.tasks import ParentLink, Task
from runwire.graph.types import Command, Interrupt, Send

if TYPE_CHECKING:
    from runwire.graph.compiled import CompiledStateGraph

__all__ = ["Loop", "ParentLink"]


def _state_only(task: Task) -> Task:
    """A copy of ``task`` with its state writes only (no edges)."""
    copy = Task(task.id, task.name, task.path, task.node, None)
    copy.writes = task.writes
    return copy


def _next_int(current: Any, channel: Any = None) -> int:
    return (current or 0) + 1 if isinstance(current, int) else 1


def _as_interrupt(item: Any) -> Interrupt:
    if isinstance(item, Interrupt):
        return item
    return Interrupt(value=item.get("value"), id=item.get("id", "placeholder-id"))


class Loop(Starting, Reporting, Persistence):
    """The state of one run of a graph, step by step."""

    def __init__(
        self,
        graph: CompiledStateGraph,
        config: dict[str, Any],
        *,
        modes: frozenset[str],
        interrupt_before: tuple[str, ...],
        interrupt_after: tuple[str, ...],
        durability: str,
        parent: ParentLink | None,
    ) -> None:
        self.graph = graph
        self.plan: Plan = graph.plan
        self.config = config
        self.modes = modes
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.durability = durability
        self.parent = parent
        self.channels: dict[str, BaseChannel] = self.plan.new_channels()
        self.joins = {k: b.empty() for k, (b, _) in self.plan.joins.items()}
        self.triggers: set[str] = set()
        self.sends: list[Send] = []
        self.step = -1
        self.stop = 0
        self.out: deque[tuple[tuple[str, ...], str, Any]] = deque()
        self.interrupts: list[Interrupt] = []
        self.versions: dict[str, int] = {}
        self.seen: dict[str, dict[str, int]] = {}
        self.updated: set[str] = set()
        self.pending: list[tuple[str, str, Any]] = []
        self.resume_map: dict[str, Any] = parent.resume_map if parent else {}
        self.null_box: list[Any] = parent.null_box if parent else []
        self.skip_before = False
        self.done = False
        configurable = config.get("configurable") or {}
        self.checkpointer = graph.checkpointer
        if self.checkpointer is None and parent is not None:
            self.checkpointer = parent.checkpointer
        if self.checkpointer is False:
            self.checkpointer = None
        self.next_version: Any = getattr(self.checkpointer, "get_next_version", _next_int)
        self.tracking = self.checkpointer is not None or bool(modes & {"debug", "checkpoints"})
        """Whether channel versions are kept (only checkpoints show them)."""
        self.thread_id = configurable.get("thread_id")
        self.ns = parent.ns if parent else configurable.get("checkpoint_ns", "")
        self.ns_tuple: tuple[str, ...] = tuple(self.ns.split("|")) if self.ns else ()
        if self.checkpointer is not None and self.thread_id is None:
            raise ValueError(
                "Checkpointer requires one or more of the following 'configurable' keys: "
                "thread_id, checkpoint_ns, checkpoint_id"
            )
        self.checkpoint_id: str | None = None
        self.checkpoint_config: dict[str, Any] | None = None
        self.parent_config: dict[str, Any] | None = None
        self.tasks: list[Task] = []
        self.recursion_limit = int(config.get("recursion_limit") or 25)
        self.sink: Any = parent.sink if parent else None
        """Where a parent graph streaming with ``subgraphs=True`` takes this run's events."""
        self.forward: Any = self.sink
        """What this run's subgraphs send their events to (the root's collector or None)."""
        self.runtime: Any = None
        self.messages: Any = parent.messages if parent else None
        self.notify: Any = None
        """Called when an event is queued while nodes run (``astream`` yields it at once)."""
        self.start_input: Any = MISSING
        self.start_saved = False
        self.static_stop = False
        self.paused_values: dict[str, Any] | None = None
        """The run stopped at an interrupt_before/after node."""
        self.null_updated: set[str] = set()
        """Channels a Command's update changed before the step (saved with the step)."""
        self.deferred: list[tuple[str, tuple[Any, ...]]] | None = None
        """Async runs: the saver's async calls, queued in order until ``aflush`` awaits them."""
        self.loaded: dict[tuple[Any, ...], Any] | None = None
        """Async runs: the checkpoints ``aload`` read before ``setup`` (by address)."""
        """The input while it waits in the input checkpoint."""

    # -- output ------------------------------------------------------------------------
    def emit(self, mode: str, payload: Any) -> None:
        """Queue one stream event when its mode was asked for."""
        if mode in self.modes:
            self.out.append((self.ns_tuple, mode, payload))
            if self.notify is not None:
                self.notify()
        if self.sink is not None:
            self.sink(self.ns_tuple, mode, payload)

    def state_values(self, keys: Any = None) -> dict[str, Any]:
        """The current values of ``keys`` (default: the output schema's)."""
        channels = self.channels
        out = {}
        for key in self.plan.output.keys if keys is None else keys:
            channel = channels.get(key)
            if channel is not None:
                value = channel.get()
                if value is not MISSING:
                    out[key] = value
        return out

    def _emit_values(self, interrupts: tuple[Interrupt, ...] = (), always: bool = False) -> None:
        if "values" in self.modes or self.sink is not None:
            updated = None if always else self.updated
            # every channel of the graph's schemas, as LangGraph streams them (what
            # invoke returns is the output schema's keys: ``output``)
            values = self.state_values(self.plan.channels)
            self.emit("values", (values, interrupts, updated))

    def fresh_state(self, task: Task) -> Any:
        """The state as this task's own writes leave it (what its routers read)."""
        return self._fresh_state(task.node, task.writes)

    # -- steps -------------------------------------------------------------------------
    def tick(self) -> list[Task] | None:
        """The tasks of the next step, or ``None`` when the run is over."""
        if self.done:
            return None
        step = self.step + 1
        if step > self.stop - 1:
            # checked before looking for tasks, as LangGraph does: a run that ends on its
            # last allowed step still raises
            raise GraphRecursionError(
                f"Recursion limit of {self.recursion_limit} reached without hitting a stop "
                "condition. You can increase the limit by setting the `recursion_limit` config key."
            )
        if not self.triggers and not self.sends:
            self.done = True
            return None
        tasks = self._prepare()
        if not self.skip_before and self._hits(self.interrupt_before, tasks):
            self.emit("updates", {INTERRUPT: ()})
            self.static_stop = True
            self.done = True
            return None
        self.skip_before = False
        self._take_pending(tasks)
        self.tasks = tasks
        if "updates" in self.modes:
            for task in tasks:
                if task.done:
                    update = self._update_payload(task.writes, None)
                    self.emit("updates", {task.name: update, "__metadata__": {"cached": True}})
        for task in tasks:
            if not task.done:
                self._debug_task(task)
        return tasks

    def _hits(self, names: tuple[str, ...], tasks: list[Task]) -> bool:
        if not names:
            return False
        return any(t.name != START and ("*" in names or t.name in names) for t in tasks)

    def _prepare(self) -> list[Task]:
        """The next step's tasks in run order: ``Send`` pushes first, then triggered nodes
        by name (LangGraph's order; writes are applied pulls first, see ``Task.sort_key``)."""
        cid = self.checkpoint_id or str(self.step)
        nodes = self.plan.nodes
        tasks: list[Task] = []
        for index, send in enumerate(self.sends):
            node = nodes.get(send.node)
            if node is None:
                raise InvalidUpdateError(f"Send to unknown node {send.node!r}")
            path = (PUSH, index)
            tasks.append(Task((cid, self.ns), send.node, path, node, send.arg))
        cache: dict[int, Any] = {}
        for name in sorted(self.triggers):
            node = nodes.get(name)
            if node is None:
                continue
            info = node.input_info
            state = cache.get(id(info))
            if state is None:
                state = cache[id(info)] = info.coerce(self.state_values(info.keys))
            path = (PULL, name)
            tasks.append(Task((cid, self.ns), name, path, node, state))
        return tasks

    def _take_pending(self, tasks: list[Task]) -> None:
        """Reuse the saved writes of tasks that already finished; hand out resume values."""
        if not self.pending:
            for task in tasks:
                task.resume = []
            return
        by_task: dict[str, list[tuple[str, Any]]] = {}
        for tid, channel, value in self.pending:
            by_task.setdefault(tid, []).append((channel, value))
        for task in tasks:
            saved = by_task.get(task.id, ())
            writes = [(c, v) for c, v in saved if c not in (INTERRUPT, RESUME, ERROR)]
            resume = [v for c, v in saved if c == RESUME]
            task.resume = list(resume[-1]) if resume else []
            for channel, value in saved:
                if channel == INTERRUPT:
                    task.resuming = True
                    for item in value:
                        item = _as_interrupt(item)
                        if item.id in self.resume_map:
                            task.resume.append(self.resume_map[item.id])
            if writes or any(c == "__done__" for c, _ in saved):
                task.done = True
                keys = self.channels
                task.writes = [(c, v) for c, v in writes if c in keys]
                task.control = [
                    (c, Send(*v) if c == TASKS else v)
                    for c, v in writes
                    if c not in keys and c != "__done__"
                ]

    def finish_task(self, task: Task, result: Any) -> None:
        """Turn a node's result into the task's writes (update and edges, before routing)."""
        if isinstance(result, Command) and result.graph == Command.PARENT:
            from runwire.graph.errors import ParentCommand

            if self.parent is None:
                raise InvalidUpdateError("There is no parent graph to send Command.PARENT to")
            raise ParentCommand(
                Command(update=result.update, goto=result.goto, resume=result.resume)
            )
        node: NodePlan = task.node
        writes, control = result_writes(node, self.plan.state, result, self.channels)
        task.writes = writes
        task.control = [*control, *node.after]
        task.update = self._update_payload(writes, result)

    def complete(self, task: Task) -> None:
        """The task is routed and done: report it."""
        task.done = True
        self._after_task(task)
        if self.messages is not None and task.writes:
            self.messages.node_output(self.ns_tuple, task.writes, task.meta)

    def _fresh_state(self, node: NodePlan, writes: list[tuple[str, Any]]) -> Any:
        """The state as this task's own writes leave it (what its routers read)."""
        info = self.plan.state
        values = self.state_values(info.keys)
        grouped: dict[str, list[Any]] = {}
        for key, value in writes:
            grouped.setdefault(key, []).append(value)
        for key, vals in grouped.items():
            channel = self.channels[key].copy()
            channel.update(vals)
            value = channel.get()
            if value is not MISSING:
                values[key] = value
        return info.coerce(values)

    def task_failed(self, task: Task, error: BaseException) -> None:
        """Record a node's error (raised once the step has saved what it can)."""
        task.error = error
        self._after_task(task)

    def task_interrupted(
        self, task: Task, interrupts: tuple[Interrupt, ...], resume: list[Any]
    ) -> None:
        """Record a node's interrupts and the resume values it already used."""
        task.interrupts = interrupts
        task.paused = True
        task.resume = resume
        self._after_task(task)
        self.emit("updates", {INTERRUPT: interrupts})
        self._emit_values(interrupts)

    # -- end of a step -----------------------------------------------------------------
    def after_step(self, tasks: list[Task]) -> None:
        """Apply the step's writes, or save them as pending when a task failed or paused."""
        failed = next((t for t in tasks if t.error is not None), None)
        paused = [t for t in tasks if t.paused]
        if failed is not None or paused:
            self._save_pending(tasks)
            if failed is not None:
                raise failed.error  # type: ignore[misc]
            self.interrupts.extend(i for t in paused for i in t.interrupts)
            finished = [t for t in tasks if t.done and t.writes]
            if finished:
                # the finished tasks' writes, as get_state shows them: LangGraph's last
                # values chunk and what invoke returns
                saved = {k: c.copy() for k, c in self.channels.items()}
                keep = (self.triggers, self.sends, self.updated, self.versions)
                self.versions = dict(self.versions)
                self.apply([_state_only(t) for t in finished], ran=False)
                self._emit_values()
                self.paused_values = self.state_values()
                self.channels = saved
                self.triggers, self.sends, self.updated, self.versions = keep
            self.done = True
            return
        self._put_task_writes(tasks)
        self.step += 1
        self.pending = []
        self.apply(tasks)
        self._save_checkpoint("loop")
        self._emit_values()
        if self._hits(self.interrupt_after, tasks):
            self.emit("updates", {INTERRUPT: ()})
            self.static_stop = True
            self.done = True

    def apply(self, tasks: list[Task], *, ran: bool = True) -> None:
        """Apply the tasks' writes through the channels; set the next step's triggers.

        ``ran``: the tasks are nodes that ran (not ``update_state``'s updates), so the
        joins they waited on are spent: a met join stays met, and keeps its node
        triggered, until that node runs (as LangGraph's barrier channels do).
        """
        updated = self.updated = self.null_updated
        self.null_updated = set()
        if ran and self.joins:
            names = {t.name for t in tasks}
            for key, (_, dst) in self.plan.joins.items():
                if dst in names and self.joins[key].consume():
                    updated.add(key)
        grouped: dict[str, list[Any]] = {}
        triggers: set[str] = set()
        sends: list[Send] = []
        for task in sorted(tasks, key=Task.sort_key):
            for key, value in task.writes:
                grouped.setdefault(key, []).append(value)
            for key, value in task.control:
                if key == TASKS:
                    sends.append(value)
                elif key.startswith(BRANCH_PREFIX):
                    triggers.add(key[len(BRANCH_PREFIX) :])
                else:
                    grouped.setdefault(key, []).append(value)
        channels = self.channels
        for key, values in grouped.items():
            channel = channels.get(key)
            if channel is None:
                channel = self.joins.get(key)
                if channel is None:
                    continue
            if channel.update(values):
                updated.add(key)
        for key, barrier in self.joins.items():
            if barrier.ready():
                triggers.add(self.plan.joins[key][1])
        triggers.discard(END)
        for key in triggers:
            updated.add(BRANCH_PREFIX + key)
        # channels emptied by this step change version too (a saver keeps values by version)
        for key in self.triggers:
            updated.add(BRANCH_PREFIX + key)
        if sends or self.sends:
            updated.add(TASKS)
        if self.start_input is not MISSING or self.start_saved:
            updated.add(START)
            self.start_input = MISSING
            self.start_saved = False
        if not self.tracking:
            self.triggers = triggers
            self.sends = sends
            return
        self._bump(updated)
        versions = self.versions
        for task in tasks:
            if task.name != START:
                # a new dict per write: checkpoints share these without copying
                seen = dict(self.seen.get(task.name, ()))
                for trig in task.triggers:
                    seen[trig] = versions.get(trig, 0)
                self.seen[task.name] = seen
        self.triggers = triggers
        self.sends = sends

    def _bump(self, keys: set[str]) -> None:
        """One new version, after the newest of any channel, for the channels in ``keys``
        (as LangGraph does: channels written in one step share their version)."""
        if not keys:
            return
        versions = self.versions
        version = self.next_version(max(versions.values()) if versions else None, None)
        for key in keys:
            versions[key] = version

    def output(self) -> Any:
        """The run's output: the output schema's keys (with a paused step's finished
        writes, as LangGraph returns them)."""
        if self.paused_values is not None:
            return self.paused_values
        return self.state_values()
