"""What ``compile`` precomputes: channels, per-node calls and outgoing writes, branches.

The executor reads these tables every step; nothing here is rebuilt per call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runwire.graph.builder import Branch, NodeSpec, StateGraph
from runwire.graph.channels import BaseChannel, NamedBarrierValue
from runwire.graph.constants import BRANCH_PREFIX, END, JOIN_PREFIX, START, TASKS
from runwire.graph.errors import InvalidUpdateError
from runwire.graph.state import SchemaInfo, schema_info
from runwire.graph.types import Command, RetryPolicy, Send

__all__ = ["NodePlan", "Plan", "build_plan"]


@dataclass(slots=True)
class NodePlan:
    """A node ready to run: how to call it and what it writes besides its update."""

    spec: NodeSpec
    input_info: SchemaInfo
    after: tuple[tuple[str, Any], ...]
    branches: tuple[Branch, ...]
    retry: tuple[RetryPolicy, ...]
    triggers: tuple[str, ...] = ()
    """The channels that can start this node (what ``tasks`` events list)."""

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(slots=True)
class Plan:
    """Everything the executor needs about one compiled graph."""

    state: SchemaInfo
    input: SchemaInfo
    output: SchemaInfo
    channels: dict[str, BaseChannel]
    joins: dict[str, tuple[NamedBarrierValue, str]]
    nodes: dict[str, NodePlan]
    start: NodePlan

    def new_channels(self) -> dict[str, BaseChannel]:
        """Empty channels for a fresh run."""
        return {k: c.empty() for k, c in self.channels.items()}


def _retries(policy: RetryPolicy | Sequence[RetryPolicy] | None) -> tuple[RetryPolicy, ...]:
    if policy is None:
        return ()
    return (policy,) if isinstance(policy, RetryPolicy) else tuple(policy)


def build_plan(graph: StateGraph) -> Plan:
    """The tables of a validated builder."""
    state = schema_info(graph.state_schema)
    channels: dict[str, BaseChannel] = {}
    infos = [state, schema_info(graph.input_schema), schema_info(graph.output_schema)]
    infos += [schema_info(n.input_schema) for n in graph.nodes.values() if n.input_schema]
    for info in infos:
        for key, channel in info.channels.items():
            channels.setdefault(key, channel)
    after: dict[str, list[tuple[str, Any]]] = {}
    for src, dst in sorted(graph.edges):
        if dst != END:
            after.setdefault(src, []).append((BRANCH_PREFIX + dst, None))
    joins: dict[str, tuple[NamedBarrierValue, str]] = {}
    for starts, dst in sorted(graph.waiting_edges):
        key = f"{JOIN_PREFIX}{'+'.join(starts)}:{dst}"
        joins[key] = (NamedBarrierValue(starts, key), dst)
        for src in starts:
            after.setdefault(src, []).append((key, src))
    nodes: dict[str, NodePlan] = {}
    for name, spec in graph.nodes.items():
        info = schema_info(spec.input_schema) if spec.input_schema else state
        nodes[name] = NodePlan(
            spec,
            info,
            tuple(after.get(name, ())),
            tuple(graph.branches.get(name, {}).values()),
            _retries(spec.retry_policy),
            tuple(
                sorted([BRANCH_PREFIX + name, *(k for k, (_, dst) in joins.items() if dst == name)])
            ),
        )
    start_spec = NodeSpec(name=START, action=None, input_schema=graph.input_schema)
    start = NodePlan(
        start_spec,
        schema_info(graph.input_schema),
        tuple(after.get(START, ())),
        tuple(graph.branches.get(START, {}).values()),
        (),
    )
    return Plan(
        state,
        schema_info(graph.input_schema),
        schema_info(graph.output_schema),
        channels,
        joins,
        nodes,
        start,
    )


# -- turning a node's result into writes ------------------------------------------------


def goto_writes(goto: Sequence[Send | str], out: list[tuple[str, Any]]) -> None:
    """Writes that send control to ``goto``'s nodes or Sends."""
    for item in goto:
        if isinstance(item, Send):
            out.append((TASKS, item))
        elif item != END:
            out.append((BRANCH_PREFIX + item, None))


def result_writes(
    node: NodePlan | None, state: SchemaInfo, result: Any, keys: Any
) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """A node result as (state writes, control writes); unknown keys are dropped."""
    control: list[tuple[str, Any]] = []
    if result is None:
        return [], control
    if isinstance(result, Command):
        return _command_writes(result, state, keys, control), control
    if isinstance(result, Send):
        control.append((TASKS, result))
        return [], control
    if (
        isinstance(result, list | tuple)
        and result
        and all(isinstance(r, Send | Command) for r in result)
    ):
        writes: list[tuple[str, Any]] = []
        for item in result:
            if isinstance(item, Send):
                control.append((TASKS, item))
            else:
                writes.extend(_command_writes(item, state, keys, control))
        return writes, control
    updates = state.to_updates(result)
    if updates is None:
        raise InvalidUpdateError(f"Expected dict, got {result!r}"[:300])
    return [(k, v) for k, v in updates.items() if k in keys], control


def _command_writes(
    command: Command, state: SchemaInfo, keys: Any, control: list[tuple[str, Any]]
) -> list[tuple[str, Any]]:
    pairs = command.update_pairs()
    if pairs and pairs[0][0] == "__root__":
        updates = state.to_updates(pairs[0][1])
        if updates is None:
            raise InvalidUpdateError(f"Expected dict in Command.update, got {pairs[0][1]!r}"[:300])
        pairs = list(updates.items())
    goto_writes(command.goto_list(), control)
    return [(k, v) for k, v in pairs if k in keys]


def route_writes(branch: Branch, result: Any, out: list[tuple[str, Any]]) -> None:
    """Writes for what a router returned (names, Sends, or lists of them)."""
    items = result if isinstance(result, list | tuple) else [result]
    for item in items:
        if isinstance(item, Send):
            out.append((TASKS, item))
            continue
        if item is None:
            continue
        if branch.ends is not None and item not in branch.ends:
            raise InvalidUpdateError(f"router returned {item!r}, which its path_map does not name")
        target = branch.ends[item] if branch.ends is not None else item
        if target != END:
            out.append((BRANCH_PREFIX + target, None))


def sleep_sync(seconds: float) -> None:
    """Wait between retries (sync)."""
    time.sleep(seconds)


async def sleep_async(seconds: float) -> None:
    """Wait between retries (async)."""
    await asyncio.sleep(seconds)
