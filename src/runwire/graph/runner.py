"""Driving a ``Loop``: calling nodes and routers, sync or async, and yielding events.

Sync runs call a step's nodes one after another in this thread; async runs gather
them. Either way a step's writes are applied only when all its nodes are done, so the
results are the same. Events are yielded after each node and each step.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from runwire.graph.builder import Branch
from runwire.graph.context import _SCOPE, Runtime, TaskScope
from runwire.graph.engine import Loop
from runwire.graph.errors import GraphInterrupt, ParentCommand
from runwire.graph.plan import route_writes, sleep_async, sleep_sync
from runwire.graph.tasks import ParentLink, Task
from runwire.runtime.config import var_child_runnable_config

__all__ = ["arun", "run"]

Event = tuple[tuple[str, ...], str, Any]


def _task_config(loop: Loop, task: Task, runtime: Runtime[Any]) -> dict[str, Any]:
    base = loop.config
    ns = f"{loop.ns}|{task.ns}" if loop.ns else task.ns
    metadata = {
        **base.get("metadata", {}),
        **(task.node.spec.metadata or {}),
        "langgraph_step": loop.step + 1,
        "langgraph_node": task.name,
        "langgraph_triggers": task.triggers,
        "langgraph_path": task.path,
        "langgraph_checkpoint_ns": ns,
        # an enclosing graph's namespace stays (LangGraph's metadata merge)
        "checkpoint_ns": base.get("metadata", {}).get("checkpoint_ns", ns),
    }
    link = ParentLink(
        ns, loop.checkpointer, loop.resume_map, loop.null_box, loop.forward, task.resuming
    )
    if loop.forward is not None:  # subgraphs=True: their nodes report their own messages
        link.messages = loop.messages
    configurable = {
        **base.get("configurable", {}),
        "__pregel_parent": link,
        "__pregel_runtime": runtime,
    }
    config = {**base, "metadata": metadata, "configurable": configurable}
    task.meta = metadata
    config.pop("run_name", None)
    config.pop("run_id", None)
    return config


def _start_node_run(config: dict[str, Any], task: Task, step: int) -> Any:
    from runwire.runtime.callbacks import callback_context

    ctx = callback_context(config.get("callbacks"))
    if ctx is None:
        return None
    run = ctx.start(
        name=task.name,
        run_type="chain",
        inputs=task.input,
        tags=[*config.get("tags", ()), f"graph:step:{step}"],
        metadata=config["metadata"],
    )
    config["callbacks"] = ctx.under(run)
    return ctx, run


_NO_KWARGS: dict[str, Any] = {}


def _needs_config(loop: Loop, task: Task) -> bool:
    """Whether the node's config must be built before the call (else it is built lazily)."""
    spec = task.node.spec
    if spec.is_runnable or "config" in spec.injected or loop.messages is not None:
        return True
    if loop.config.get("callbacks") is not None:
        return True
    return any(b.is_runnable or "config" in b.injected for b in task.node.branches)


def _kwargs(injected: tuple[str, ...], config: Any, runtime: Runtime[Any]) -> dict[str, Any]:
    if not injected:
        return _NO_KWARGS
    values = {
        "config": config,
        "writer": runtime.stream_writer,
        "runtime": runtime,
        "store": runtime.store,
    }
    return {name: values[name] for name in injected}


def _retry_delay(task: Task, exc: Exception, attempt: int) -> float | None:
    for policy in task.node.retry:
        if policy.should_retry(exc):
            return policy.delay(attempt) if attempt < policy.max_attempts else None
    return None


def _scope(loop: Loop, task: Task, config: Any, runtime: Runtime[Any]) -> TaskScope:
    scope = TaskScope(task, loop.ns, runtime, list(task.resume), loop.null_box, 0, config)
    if config is None:
        scope.make_config = lambda: _task_config(loop, task, runtime)
    return scope


def _inherited(scope: TaskScope) -> Any:
    """What runnables called inside the node without a config inherit: the node's config
    (``var_child_runnable_config``), built only when one of them asks for it."""
    if scope.config is not None:
        return scope.config

    def build() -> Any:
        if scope.config is None:
            scope.config = scope.make_config()  # type: ignore[misc]
        return scope.config

    return build


def _start(loop: Loop, task: Task, runtime: Runtime[Any]) -> tuple[Any, Any]:
    """The task's config (``None`` when nothing needs it yet) and its traced run."""
    if loop.messages is not None:
        loop.messages.seen_input(task.input)
    if not _needs_config(loop, task):
        return None, None
    config = _task_config(loop, task, runtime)
    return config, _start_node_run(config, task, loop.step + 1)


def run_task(loop: Loop, task: Task) -> None:
    """Run one task to its writes, interrupts or error (sync)."""
    runtime = loop.runtime
    config, traced = _start(loop, task, runtime)
    spec = task.node.spec
    attempt = 0
    while True:
        scope = _scope(loop, task, config, runtime)
        token = _SCOPE.set(scope)
        inherited = var_child_runnable_config.set(_inherited(scope))
        try:
            try:
                if spec.is_runnable:
                    result = spec.action.invoke(task.input, config)
                elif spec.is_async:
                    raise TypeError(
                        f"node {task.name!r} is async: call ainvoke/astream, not invoke/stream"
                    )
                else:
                    result = spec.action(task.input, **_kwargs(spec.injected, config, runtime))
            except ParentCommand as command:
                result = command.command
            loop.finish_task(task, result)
            for branch in task.node.branches:
                route(loop, task, branch, config)
        except ParentCommand:
            raise
        except GraphInterrupt as exc:
            _end_run(traced, None, exc)
            loop.task_interrupted(task, exc.interrupts, scope.resume)
            return
        except Exception as exc:
            attempt += 1
            delay = _retry_delay(task, exc, attempt)
            if delay is not None:
                sleep_sync(delay)
                continue
            _end_run(traced, None, exc)
            loop.task_failed(task, exc)
            return
        finally:
            var_child_runnable_config.reset(inherited)
            _SCOPE.reset(token)
        _end_run(traced, task.update, None)
        loop.complete(task)
        return


async def arun_task(loop: Loop, task: Task) -> None:
    """Run one task to its writes, interrupts or error (async)."""
    runtime = loop.runtime
    config, traced = _start(loop, task, runtime)
    spec = task.node.spec
    attempt = 0
    while True:
        scope = _scope(loop, task, config, runtime)
        token = _SCOPE.set(scope)
        inherited = var_child_runnable_config.set(_inherited(scope))
        try:
            try:
                if spec.is_runnable:
                    result = await spec.action.ainvoke(task.input, config)
                elif spec.is_async:
                    result = await spec.action(
                        task.input, **_kwargs(spec.injected, config, runtime)
                    )
                else:
                    result = spec.action(task.input, **_kwargs(spec.injected, config, runtime))
            except ParentCommand as command:
                result = command.command
            loop.finish_task(task, result)
            for branch in task.node.branches:
                await aroute(loop, task, branch, config)
        except ParentCommand:
            raise
        except GraphInterrupt as exc:
            _end_run(traced, None, exc)
            loop.task_interrupted(task, exc.interrupts, scope.resume)
            return
        except Exception as exc:
            attempt += 1
            delay = _retry_delay(task, exc, attempt)
            if delay is not None:
                await sleep_async(delay)
                continue
            _end_run(traced, None, exc)
            loop.task_failed(task, exc)
            return
        finally:
            var_child_runnable_config.reset(inherited)
            _SCOPE.reset(token)
        _end_run(traced, task.update, None)
        loop.complete(task)
        return


def _end_run(traced: Any, output: Any, error: BaseException | None) -> None:
    if traced is None:
        return
    ctx, run = traced
    if error is None:
        ctx.stream(run, output)
        ctx.end(run, output)
    elif isinstance(error, GraphInterrupt):
        ctx.end(run, output)
    else:
        ctx.error(run, error)


def route(loop: Loop, task: Task, branch: Branch, config: Any) -> None:
    """Call a router on the task's fresh state and add its choice to the task's writes."""
    state = loop.fresh_state(task)
    if branch.is_runnable:
        result = branch.router.invoke(state, config)
    elif branch.is_async:
        raise TypeError("an async router needs ainvoke/astream, not invoke/stream")
    else:
        result = branch.router(state, **_kwargs(branch.injected, config, loop.runtime))
    route_writes(branch, result, task.control)


async def aroute(loop: Loop, task: Task, branch: Branch, config: Any) -> None:
    """Async ``route``."""
    state = loop.fresh_state(task)
    if branch.is_runnable:
        result = await branch.router.ainvoke(state, config)
    elif branch.is_async:
        result = await branch.router(state, **_kwargs(branch.injected, config, loop.runtime))
    else:
        result = branch.router(state, **_kwargs(branch.injected, config, loop.runtime))
    route_writes(branch, result, task.control)


def _drain(loop: Loop) -> Iterator[Event]:
    out = loop.out
    while out:
        yield out.popleft()


def _run_live(loop: Loop, task: Task, pool: Any) -> Iterator[Event]:
    """Run one task in a worker thread, yielding its events as they are queued."""
    import contextvars
    import threading

    wake = threading.Event()
    loop.notify = wake.set
    future = pool.submit(contextvars.copy_context().run, run_task, loop, task)
    future.add_done_callback(lambda _: wake.set())
    try:
        while not future.done():
            wake.wait()
            wake.clear()
            yield from _drain(loop)
        future.result()
    finally:
        loop.notify = None


def run(loop: Loop, input: Any, live: bool = False) -> Iterator[Event]:
    """Run the loop to its end, yielding ``(namespace, mode, payload)`` events.

    ``live`` runs each node in a worker thread so that its custom writes and model tokens
    are yielded while it runs (``stream`` of those modes); nodes still run one at a time.
    """
    pool = None
    if live:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runwire-graph")
    try:
        start = loop.setup(input)
        if start is not None:
            config = loop.config
            for branch in loop.plan.start.branches if start.node is not None else ():
                route(loop, start, branch, config)
            loop.commit_input(start)
        yield from _drain(loop)
        while (tasks := loop.tick()) is not None:
            yield from _drain(loop)
            for task in tasks:
                if task.done:
                    continue
                if pool is not None:
                    yield from _run_live(loop, task, pool)
                else:
                    run_task(loop, task)
                yield from _drain(loop)
            loop.after_step(tasks)
            yield from _drain(loop)
    finally:
        if pool is not None:
            pool.shutdown(wait=False)
        loop.flush_exit()
    yield from _drain(loop)


async def _live(loop: Loop, todo: list[Task]) -> AsyncIterator[Event]:
    """Run a step's tasks, yielding events as they are queued (tokens, custom writes)."""
    wake = asyncio.Event()
    event_loop = asyncio.get_running_loop()

    def notify() -> None:
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:  # a node's worker thread
            current = None
        if current is event_loop:
            wake.set()
        else:
            event_loop.call_soon_threadsafe(wake.set)

    loop.notify = notify
    futures = [asyncio.ensure_future(arun_task(loop, t)) for t in todo]
    try:
        while pending := [f for f in futures if not f.done()]:
            waiter = asyncio.ensure_future(wake.wait())
            await asyncio.wait([*pending, waiter], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            wake.clear()
            for event in _drain(loop):
                yield event
        for future in futures:
            future.result()
    finally:
        loop.notify = None
        for future in futures:
            future.cancel()


class _Saves:
    """An async run's saves after each step. ``durability="async"`` (LangGraph's default)
    hands them to the saver in the background while the next step runs, one batch at a
    time and in order (saves queued while a batch is in flight join the next, so a busy
    database gets fewer, larger batches); ``"sync"`` waits for them. The run waits for
    all of them before it ends, and a failed save fails the run."""

    __slots__ = ("loop", "task")

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.task: asyncio.Future[None] | None = None

    async def step(self) -> None:
        loop = self.loop
        if not loop.deferred:
            return
        if loop.durability == "sync":
            await self.drain()
            return
        task = self.task
        if task is not None and task.done():
            self.task = None
            task.result()  # a failed save fails the run here
        if self.task is None:
            self.task = asyncio.ensure_future(loop.aflush())

    async def drain(self) -> None:
        task, self.task = self.task, None
        if task is not None:
            await task
        if self.loop.deferred:
            await self.loop.aflush()


async def arun(loop: Loop, input: Any, live: bool = False) -> AsyncIterator[Event]:
    """Async ``run``: a step's nodes run concurrently.

    ``live`` yields events while nodes run (``astream`` of custom or messages modes). The
    saver is used through its async methods only: the loop's saves are queued and handed
    over after each step (see :class:`_Saves`).
    """
    saves = _Saves(loop)
    if loop.checkpointer is not None:
        loop.deferred = []
        await loop.aload()
    try:
        start = loop.setup(input)
        if start is not None:
            config = loop.config
            for branch in loop.plan.start.branches if start.node is not None else ():
                await aroute(loop, start, branch, config)
            loop.commit_input(start)
        await saves.step()
        for event in _drain(loop):
            yield event
        while (tasks := loop.tick()) is not None:
            for event in _drain(loop):
                yield event
            todo = [t for t in tasks if not t.done]
            if live and todo:
                async for event in _live(loop, todo):
                    yield event
            elif len(todo) == 1:
                await arun_task(loop, todo[0])
            elif todo:
                await asyncio.gather(*(arun_task(loop, t) for t in todo))
            for event in _drain(loop):
                yield event
            loop.after_step(tasks)
            await saves.step()
            for event in _drain(loop):
                yield event
    finally:
        loop.flush_exit()
        await saves.drain()
    for event in _drain(loop):
        yield event
