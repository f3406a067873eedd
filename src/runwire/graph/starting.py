"""How a run starts: loading the thread, taking the input, a resume or a Command.

The input becomes a ``__start__`` task applied as its own step (two checkpoints, as
LangGraph writes them); ``None`` or ``Command(resume=...)`` continue the saved thread; a
Command's update on a saved thread is applied before the pending step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runwire.graph.channels import MISSING
from runwire.graph.constants import BRANCH_PREFIX, INTERRUPT, NULL_TASK_ID, PULL, START, TASKS
from runwire.graph.errors import EmptyInputError, InvalidUpdateError
from runwire.graph.plan import result_writes
from runwire.graph.state import object_updates
from runwire.graph.tasks import Task, task_id
from runwire.graph.types import Command, Interrupt, Send

if TYPE_CHECKING:
    from runwire.graph.channels import BaseChannel

__all__ = ["Starting"]


def _as_interrupt(item: Any) -> Interrupt:
    if isinstance(item, Interrupt):
        return item
    return Interrupt(value=item.get("value"), id=item.get("id", "placeholder-id"))


def _address(config: dict[str, Any]) -> tuple[Any, ...]:
    c = config["configurable"]
    return c["thread_id"], c["checkpoint_ns"], c.get("checkpoint_id")


class Starting:
    """The start of ``Loop``'s run (a mixin: it uses the loop's attributes)."""

    if TYPE_CHECKING:
        plan: Any
        config: dict[str, Any]
        parent: Any
        checkpointer: Any
        checkpoint_id: str | None
        checkpoint_config: dict[str, Any] | None
        parent_config: dict[str, Any] | None
        thread_id: Any
        ns: str
        step: int
        stop: int
        recursion_limit: int
        channels: dict[str, BaseChannel]
        triggers: set[str]
        sends: list[Send]
        pending: list[tuple[str, str, Any]]
        resume_map: dict[str, Any]
        null_box: list[Any]
        null_updated: set[str]
        updated: set[str]
        start_input: Any
        start_saved: bool
        skip_before: bool
        tracking: bool
        loaded: dict[tuple[Any, ...], Any] | None

        def _put_writes(self, config: Any, writes: list[tuple[str, Any]], task_id: str) -> None: ...
        def restore(self, checkpoint: dict[str, Any], metadata: Any) -> None: ...
        def apply(self, tasks: list[Task]) -> None: ...
        def _bump(self, keys: set[str]) -> None: ...
        def _save_checkpoint(self, source: str) -> None: ...
        def _put_task_writes(self, tasks: list[Task]) -> None: ...
        def _emit_values(
            self, interrupts: tuple[Interrupt, ...] = (), always: bool = False
        ) -> None: ...

    # -- loading the thread ---------------------------------------------------------------
    def _reads(self) -> list[dict[str, Any]]:
        """The checkpoints a start may read: the one asked for, then the thread's head."""
        head = {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": self.ns}}
        wanted = self._wanted_checkpoint()
        if not wanted:
            return [head]
        return [{"configurable": {**head["configurable"], "checkpoint_id": wanted}}, head]

    def _get_tuple(self, config: dict[str, Any]) -> Any:
        """A saved checkpoint: read by ``aload`` in async runs, else from the saver now."""
        if self.loaded is None:
            return self.checkpointer.get_tuple(config)
        return self.loaded[_address(config)]

    async def aload(self) -> None:
        """Async runs: read what ``setup`` needs with the saver's ``aget_tuple`` first."""
        self.loaded = {}
        if self.checkpointer is not None:
            for config in self._reads():
                self.loaded[_address(config)] = await self.checkpointer.aget_tuple(config)

    # -- start -------------------------------------------------------------------------
    def setup(self, input: Any) -> Task | None:
        """Load the thread's checkpoint, then take the input (values, None or a Command).

        Returns the ``__start__`` task when the input is applied as a step: the runner
        routes it (its conditional edges may be async) and calls ``commit_input``.
        """
        saved = None
        if self.checkpointer is not None:
            saved = self._get_tuple(self._reads()[0])
        if saved is not None:
            self.restore(saved.checkpoint, saved.metadata)
            self.checkpoint_config = saved.config
            self.parent_config = saved.parent_config
            self.pending = list(saved.pending_writes or ())
            self._restore_null_writes()
        self.stop = self.step + self.recursion_limit + 1
        resuming_parent = self.parent is not None and self.parent.resuming and saved is not None
        if resuming_parent:  # the parent re-runs the task that ran this graph: continue
            input = None
        if isinstance(input, Command):
            if input.resume is None and input.update is None and not input.goto:
                raise EmptyInputError("Received empty Command input")
            if input.resume is not None and self.checkpointer is None:
                raise RuntimeError("Cannot use Command(resume=...) without checkpointer")
            if input.resume is not None:
                self._take_resume(input.resume)
            if saved is None:
                # a new thread, as LangGraph runs it: the update and goto apply as writes
                # of no task, then the Command is the graph's input, so __start__ applies
                # its update a second time and takes its own edges too
                if input.update is not None or input.goto:
                    self._null_writes(input)
                return self._input_task(input, command=True)
            self.skip_before = True
            if input.update is not None or input.goto:
                self._null_writes(input)
            self._emit_values(always=True)
            return None
        if input is None:
            if saved is None:
                raise EmptyInputError("Received no input for __start__")
            if self._wanted_checkpoint():
                self._fork()
            if self.start_input is not MISSING:
                input, self.start_input = self.start_input, MISSING
                self.step -= 1
                return self._input_task(input, command=False)
            self.skip_before = True
            self._emit_values(always=True)
            return None
        self.pending = []
        self.triggers.clear()
        self.sends.clear()
        return self._input_task(input, command=False)

    def _null_writes(self, command: Command) -> None:
        """A Command's update and goto on a saved thread: applied before the pending step
        (whose nodes then read the updated state) and saved as writes of no task."""
        writes, control = result_writes(None, self.plan.state, command, self.channels)
        grouped: dict[str, list[Any]] = {}
        for key, value in writes:
            grouped.setdefault(key, []).append(value)
        for key, values in grouped.items():
            if self.channels[key].update(values):
                self.null_updated.add(key)
        for key, value in control:
            if key == TASKS:
                self.sends.append(value)
            else:
                self.triggers.add(key[len(BRANCH_PREFIX) :])
        saved = [*writes, *((c, [v.node, v.arg] if c == TASKS else v) for c, v in control)]
        if saved and self.checkpointer is not None and self.checkpoint_config is not None:
            self._put_writes(self.checkpoint_config, saved, NULL_TASK_ID)

    def _restore_null_writes(self) -> None:
        """Re-apply a saved Command update that its step has not committed yet."""
        writes = [(c, v) for tid, c, v in self.pending if tid == NULL_TASK_ID]
        grouped: dict[str, list[Any]] = {}
        for key, value in writes:
            if key in self.channels:
                grouped.setdefault(key, []).append(value)
            elif key == TASKS:
                self.sends.append(Send(*value))
            elif key.startswith(BRANCH_PREFIX):
                self.triggers.add(key[len(BRANCH_PREFIX) :])
        for key, values in grouped.items():
            if self.channels[key].update(values):
                self.null_updated.add(key)

    def _wanted_checkpoint(self) -> Any:
        """The checkpoint id the caller asked to continue from (time travel), if any."""
        if self.parent is not None:
            return None
        return (self.config.get("configurable") or {}).get("checkpoint_id")

    def _fork(self) -> None:
        """Continue from a past checkpoint: save a copy of it as the thread's head."""
        if self.start_input is not MISSING:
            return
        head = self._get_tuple(self._reads()[-1])
        if head is not None and head.checkpoint.get("id") == self.checkpoint_id:
            return  # the thread's latest checkpoint: nothing to fork
        self.pending = []
        self.step += 1
        self.updated = set()
        self._save_checkpoint("fork")
        self.stop = self.step + self.recursion_limit + 1

    def _has_pending_interrupts(self) -> bool:
        return any(ch == INTERRUPT for _, ch, _ in self.pending)

    def _take_resume(self, resume: Any) -> None:
        known = {_as_interrupt(i).id for _, ch, v in self.pending if ch == INTERRUPT for i in v}
        if isinstance(resume, dict) and resume and set(resume) <= known | set(self.resume_map):
            self.resume_map.update(resume)
            return
        if len(known) > 1:
            raise RuntimeError(
                "When there are multiple pending interrupts, you must specify the interrupt id "
                "when resuming: Command(resume={interrupt.id: value, ...})"
            )
        self.null_box.append(resume)

    def _input_task(self, input: Any, *, command: bool) -> Task:
        """The input as the writes of a ``__start__`` task (routed by the runner)."""
        start = self.plan.start
        if command:
            writes, control = result_writes(start, self.plan.state, input, self.channels)
            control = [*control, *start.after]
        else:
            updates = self.plan.input.to_updates(input)
            if updates is None:
                raise InvalidUpdateError(f"Expected dict as graph input, got {input!r}"[:300])
            writes = [(k, v) for k, v in updates.items() if k in self.plan.input.channels]
            control = list(start.after)
        path = (PULL, START)
        task = Task(task_id(self.checkpoint_id or "", self.ns, path), START, path, start, input)
        task.writes = writes
        task.control = control
        return task

    def commit_input(self, task: Task) -> None:
        """Save the input checkpoint (``__start__`` pending), then apply it as step 0.

        Two checkpoints, as LangGraph writes them: the input one (source ``input``) and
        the one after ``__start__`` ran (source ``loop``).
        """
        self.step = self.step + 1 if self.checkpoint_id is not None else -1
        self.start_input = _saved_input(task.input)
        self.updated = {START}
        self.start_saved = True
        if self.tracking:
            self._bump(self.updated)
        self._save_checkpoint("input")
        self.start_input = MISSING
        task.id = task_id(self.checkpoint_id or "", self.ns, task.path)
        self._put_task_writes([task])
        self.step += 1
        self.apply([task])
        self._save_checkpoint("loop")
        self._emit_values()
        self.stop = self.step + self.recursion_limit + 1


def _saved_input(value: Any) -> Any:
    """The input as the input checkpoint keeps it: a state object (a pydantic model or a
    dataclass of the graph's schema) as the updates it makes, so a checkpoint holds
    plain data and a resume from it writes the same values."""
    if value is None or isinstance(value, dict | Command):
        return value
    updates = object_updates(value)
    return value if updates is None else updates
