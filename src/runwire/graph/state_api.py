"""Reading and editing a thread's saved state: ``get_state``, history, ``update_state``
and ``bulk_update_state``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from runwire.graph.channels import MISSING
from runwire.graph.constants import END, ERROR, INTERRUPT, RESUME, START
from runwire.graph.errors import InvalidUpdateError
from runwire.graph.types import Interrupt, PregelTask, StateSnapshot, StateUpdate

__all__ = ["StateAPI"]

_SKIP = (INTERRUPT, RESUME, ERROR, "__done__")
_NOT_IMPLEMENTED = {
    "__copy__": "a copy of the checkpoint, as a fork",
    "__input__": "the values as a new input, next to the pending nodes",
}
"""``as_node`` values LangGraph gives a meaning of their own that runwire lacks."""


def _configured(config: dict[str, Any] | None) -> dict[str, Any]:
    configurable = dict((config or {}).get("configurable") or {})
    if "thread_id" not in configurable:
        raise ValueError("get_state/update_state need config['configurable']['thread_id']")
    configurable.setdefault("checkpoint_ns", "")
    return {"configurable": configurable}


def _live(config: dict[str, Any]) -> bool:
    """Whether ``get_state`` shows the thread as it is now (finished tasks' writes applied,
    only what is left to run next) rather than a past checkpoint as the record of its
    step (values as the step started, every task of the step next): LangGraph's rule, a
    config without a ``checkpoint_id`` is the thread now."""
    return not config["configurable"].get("checkpoint_id")


class StateAPI:
    """State inspection and editing for ``CompiledStateGraph`` (needs a checkpointer)."""

    checkpointer: Any
    plan: Any

    def _saver(self) -> Any:
        if not self.checkpointer:
            raise ValueError("No checkpointer set: compile(checkpointer=...) to keep state")
        return self.checkpointer

    def _loop_at(self, saved: Any) -> Any:
        from runwire.graph.engine import Loop

        loop = Loop(
            self,  # type: ignore[arg-type]
            {"configurable": dict(saved.config["configurable"])},
            modes=frozenset(),
            interrupt_before=(),
            interrupt_after=(),
            durability="sync",
            parent=None,
        )
        loop.restore(saved.checkpoint, saved.metadata)
        loop.checkpoint_config = saved.config
        return loop

    def _snapshot(
        self, saved: Any, *, pending: bool = False, subgraphs: bool = False, saver: Any = None
    ) -> StateSnapshot:
        """A checkpoint as a snapshot; ``pending`` applies finished tasks' saved writes."""
        loop = self._loop_at(saved)
        tasks = loop._prepare()
        if loop.start_input is not MISSING:
            from runwire.graph.constants import PULL
            from runwire.graph.tasks import Task, task_id

            path = (PULL, START)
            cid = saved.checkpoint.get("id", "")
            tasks = [Task(task_id(cid, loop.ns, path), START, path, None, loop.start_input)]
        by_task: dict[str, list[tuple[str, Any]]] = {}
        for tid, channel, value in saved.pending_writes or ():
            by_task.setdefault(tid, []).append((channel, value))
        shown: list[PregelTask] = []
        found: list[Interrupt] = []
        done: list[Any] = []
        for task in tasks:
            writes = by_task.get(task.id, [])
            interrupts = tuple(
                Interrupt(value=i["value"], id=i["id"]) if isinstance(i, dict) else i
                for c, v in writes
                if c == INTERRUPT
                for i in v
            )
            found.extend(interrupts)
            error = next((v for c, v in writes if c == ERROR), None)
            result = {c: v for c, v in writes if c in loop.channels} or None
            finished = any(c not in _SKIP for c, _ in writes) or ("__done__", None) in writes
            if finished and pending:
                done.append(task)
                task.writes = [(c, v) for c, v in writes if c in loop.channels]
            state = None
            if task.node is not None and task.node.spec.is_graph and not subgraphs:
                state = loop.subgraph_config(task.name, task.id)
            if subgraphs and task.node is not None and task.node.spec.is_graph:
                ns = f"{loop.ns}|{task.ns}" if loop.ns else task.ns
                sub_config = {"configurable": {**saved.config["configurable"], "checkpoint_ns": ns}}
                sub_config["configurable"].pop("checkpoint_id", None)
                state = task.node.spec.action._state_with(saver or self._saver(), sub_config)
            shown.append(
                PregelTask(task.id, task.name, task.path, error, interrupts, state, result)
            )
        if done:
            for task in done:
                task.control = []
            keep = (set(loop.triggers), list(loop.sends))
            loop.apply(done, ran=False)
            loop.triggers, loop.sends = keep
        return StateSnapshot(
            values=loop.state_values(self.plan.state.keys),
            next=tuple(t.name for t in tasks if t not in done),
            config=saved.config,
            metadata=saved.metadata,
            created_at=saved.checkpoint.get("ts"),
            parent_config=saved.parent_config,
            tasks=tuple(shown),
            interrupts=tuple(found),
        )

    def get_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state at its latest (or the given) checkpoint."""
        config = _configured(config)
        return self._state_with(self._saver(), config, subgraphs)

    def _state_with(self, saver: Any, config: dict[str, Any], subgraphs: bool = True) -> Any:
        saved = saver.get_tuple(config)
        if saved is None:
            return StateSnapshot({}, (), config, None, None, None, (), ())
        return self._snapshot(saved, pending=_live(config), subgraphs=subgraphs, saver=saver)

    async def aget_state(self, config: dict[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """Async ``get_state`` (reads with the saver's ``aget_tuple``)."""
        return await self._astate_with(self._saver(), _configured(config), subgraphs)

    async def _astate_with(self, saver: Any, config: dict[str, Any], subgraphs: bool = True) -> Any:
        saved = await saver.aget_tuple(config)
        if saved is None:
            return StateSnapshot({}, (), config, None, None, None, (), ())
        snapshot = self._snapshot(saved, pending=_live(config))
        if not subgraphs:
            return snapshot
        tasks = list(snapshot.tasks)
        for index, task in enumerate(tasks):
            node = self.plan.nodes.get(task.name)
            if node is None or not node.spec.is_graph:
                continue
            configurable = {**saved.config["configurable"], **task.state["configurable"]}
            configurable.pop("checkpoint_id", None)
            sub_config = {"configurable": configurable}
            state = await node.spec.action._astate_with(saver, sub_config)
            tasks[index] = task._replace(state=state)
        return snapshot._replace(tasks=tuple(tasks))

    def get_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first."""
        config = _configured(config)
        for saved in self._saver().list(config, filter=filter, before=before, limit=limit):
            yield self._snapshot(saved)

    async def aget_state_history(
        self,
        config: dict[str, Any],
        *,
        filter: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[StateSnapshot]:
        """Async ``get_state_history`` (reads with the saver's ``alist``)."""
        config = _configured(config)
        async for saved in self._saver().alist(config, filter=filter, before=before, limit=limit):
            yield self._snapshot(saved)

    def update_state(
        self,
        config: dict[str, Any],
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Write ``values`` as if ``as_node`` had returned them; returns the new config.

        The next step follows that node's edges. Without ``as_node`` it is the node that
        ran last (``START`` on a thread where none has), as in LangGraph.
        """
        return self.bulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    async def aupdate_state(
        self,
        config: dict[str, Any],
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Async ``update_state`` (reads and saves with the saver's async methods)."""
        return await self.abulk_update_state(config, [[StateUpdate(values, as_node, task_id)]])

    def bulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate]]
    ) -> dict[str, Any]:
        """Apply each superstep's updates together, as the nodes of one step would write
        them: one ``update`` checkpoint per superstep, each after the one before.
        Returns the config of the last."""
        from runwire.graph.runner import route

        config = _configured(config)
        for updates in _checked(supersteps):
            loop, tasks = self._update_tasks(self._saver().get_tuple(config), config, updates)
            for task in tasks:
                for branch in task.node.branches if task.node is not None else ():
                    route(loop, task, branch, {"configurable": config["configurable"]})
            self._update_apply(loop, tasks)._save_checkpoint("update")
            config = loop.checkpoint_config
        return config

    async def abulk_update_state(
        self, config: dict[str, Any], supersteps: Sequence[Sequence[StateUpdate]]
    ) -> dict[str, Any]:
        """Async ``bulk_update_state`` (reads and saves with the saver's async methods)."""
        from runwire.graph.runner import aroute

        config = _configured(config)
        for updates in _checked(supersteps):
            saved = await self._saver().aget_tuple(config)
            loop, tasks = self._update_tasks(saved, config, updates)
            for task in tasks:
                for branch in task.node.branches if task.node is not None else ():
                    await aroute(loop, task, branch, {"configurable": config["configurable"]})
            loop.deferred = []
            self._update_apply(loop, tasks)._save_checkpoint("update")
            await loop.aflush()
            config = loop.checkpoint_config
        return config

    def _update_tasks(
        self, saved: Any, config: dict[str, Any], updates: Sequence[Any]
    ) -> tuple[Any, list[Any]]:
        """A loop at ``saved`` and one task per update, each writing its values as its
        ``as_node`` (not routed yet)."""
        from runwire.graph.constants import PULL
        from runwire.graph.context import Runtime
        from runwire.graph.plan import result_writes
        from runwire.graph.tasks import Task

        if saved is None:
            from runwire.graph.engine import Loop

            loop = Loop(
                self,
                config,
                modes=frozenset(),
                interrupt_before=(),
                interrupt_after=(),  # type: ignore[arg-type]
                durability="sync",
                parent=None,
            )
        else:
            loop = self._loop_at(saved)
        loop.runtime = None
        tasks = []
        for update in updates:
            values, as_node = update[0], update[1] if len(update) > 1 else None
            if len(updates) > 1 and as_node is None:
                raise InvalidUpdateError("as_node is required when applying multiple updates")
            if as_node in _NOT_IMPLEMENTED:
                raise NotImplementedError(
                    f"update_state(as_node={as_node!r}) ({_NOT_IMPLEMENTED[as_node]}) is not "
                    "implemented in runwire.graph"
                )
            if as_node == END and len(updates) > 1:
                raise InvalidUpdateError("Cannot apply multiple updates when clearing state")
            if as_node == END and values is not None:  # END only clears what is pending
                raise InvalidUpdateError(f"Node {as_node} does not exist")
            if as_node not in (None, END, START) and as_node not in self.plan.nodes:
                raise InvalidUpdateError(f"Node {as_node} does not exist")
            if as_node is None:
                as_node = _inferred_node(loop.seen if saved is not None else {}, self.plan.nodes)
            node = self.plan.start if as_node == START else self.plan.nodes.get(as_node)
            writes, control = result_writes(node, self.plan.state, values, loop.channels)
            task = Task("update", as_node, (PULL, as_node), node, values)
            task.writes = writes
            task.control = [*control, *(node.after if node else ())]
            if node is not None:
                loop.runtime = Runtime()
            tasks.append(task)
        return loop, tasks

    @staticmethod
    def _update_apply(loop: Any, tasks: list[Any]) -> Any:
        """Apply the routed update tasks: the loop is then one step on, ready to save
        (what runs next is what the tasks' nodes route to; nothing after ``END``)."""
        loop.apply(tasks, ran=False)
        loop.step += 1
        loop.pending = []
        return loop


def _checked(supersteps: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """``supersteps`` for ``bulk_update_state``, refused as LangGraph refuses them."""
    if len(supersteps) == 0:
        raise ValueError("No supersteps provided")
    if any(len(updates) == 0 for updates in supersteps):
        raise ValueError("No updates provided")
    return supersteps


def _inferred_node(seen: dict[str, dict[str, Any]], nodes: Any) -> str:
    """LangGraph's ``as_node`` for ``update_state`` without one: the node that saw the
    newest channel version (its edges then pick what runs next); ``START`` on a thread
    where no node has run; ambiguous when two saw the same newest version (nodes that ran
    in one step)."""
    last = sorted(
        (version, node)
        for node, versions in seen.items()
        if node in nodes or node == START
        for version in versions.values()
    )
    if not last:
        return START
    if len(last) > 1 and last[-1][0] == last[-2][0]:
        raise InvalidUpdateError("Ambiguous update, specify as_node")
    return last[-1][1]  # type: ignore[no-any-return]
