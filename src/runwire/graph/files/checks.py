"""Static checks of a graph file, each problem at its place in the file.

Run when a ``StateGraph`` component is built (so ``runwire validate`` and every load
report them with file, line and JSON path): names that are not nodes or state keys,
nodes no path reaches from START, nodes from which no path reaches END, a node whose
runnable declares an output of another JSON type than the state key it writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from runwire.graph.constants import END, START
from runwire.graph.files.nodes import state_keys
from runwire.graph.files.routes import Route, node_name
from runwire.runtime.base import Runnable

__all__ = ["Problem", "graph_problems", "raise_problems"]

Problem = tuple[tuple[str | int, ...], str]
"""Where in the file (a pydantic loc) and what is wrong."""


def _names(value: str | list[str]) -> list[str]:
    return [node_name(v) for v in ([value] if isinstance(value, str) else value)]


def _edges_out(fields: Mapping[str, Any]) -> dict[str, set[str]]:
    """Node -> the nodes (and END) it can lead to; a router runnable may lead anywhere."""
    nodes = set(fields["nodes"])
    out: dict[str, set[str]] = {n: set() for n in (START, *nodes)}
    for source, target in fields["edges"]:
        for src in _names(source):
            out.setdefault(src, set()).add(node_name(target))
    for source, routes in fields["routes"].items():
        targets = out.setdefault(node_name(source), set())
        if isinstance(routes, Runnable):
            targets.update(nodes | {END})
            continue
        for route in routes:
            targets.update(Route.model_validate(route).targets)
        targets.add(END)  # when no route matches, the run ends
    return out


def _reach(start: Iterable[str], step: Mapping[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in step.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def graph_problems(fields: Mapping[str, Any]) -> list[Problem]:
    """Every problem of a graph file's fields (empty when it is sound)."""
    nodes, state = set(fields["nodes"]), set(fields["state"])
    known, problems = nodes | {START, END}, []
    listed = ", ".join(sorted(nodes)) or "none"
    for key in ("input", "output"):
        for i, name in enumerate(fields.get(key) or ()):
            if name not in state:
                problems.append(((key, i), f"{name!r} is not a state key"))
    for name, spec in fields["nodes"].items():
        if not isinstance(spec, dict):
            continue
        for part in ("reads", "writes"):
            for key in state_keys(spec.get(part), writes=part == "writes"):
                if key not in state:
                    problems.append((("nodes", name, part), f"{key!r} is not a state key"))
    for name, spec in fields["nodes"].items():
        problem = _output_mismatch(spec, fields["state"])
        if problem:
            problems.append((("nodes", name, "writes"), problem))
    for i, (source, target) in enumerate(fields["edges"]):
        for name in (*_names(source), node_name(target)):
            if name not in known:
                problems.append((("edges", i), f"{name!r} is not a node (nodes: {listed})"))
    for source, routes in fields["routes"].items():
        if node_name(source) not in known - {END}:
            problems.append((("routes", source), f"{source!r} is not a node (nodes: {listed})"))
        for i, route in enumerate(routes if isinstance(routes, list) else ()):
            for name in Route.model_validate(route).targets:
                if name not in known - {START}:
                    problems.append(
                        (("routes", source, i), f"{name!r} is not a node (nodes: {listed})")
                    )
    for key in ("interrupt_before", "interrupt_after"):
        for i, name in enumerate(fields.get(key) or ()):
            if name != "*" and name not in nodes:
                problems.append(((key, i), f"{name!r} is not a node (nodes: {listed})"))
    if problems:
        return problems  # reachability means little over unknown names
    out = _edges_out(fields)
    for name in sorted(nodes - _reach([START], out)):
        problems.append((("nodes", name), f"node {name!r} is not reachable from START"))
    for name in nodes:
        if not out.get(name):
            out[name] = {END}  # a node with nowhere to go ends the run
    back: dict[str, set[str]] = {}
    for src, targets in out.items():
        for dst in targets:
            back.setdefault(dst, set()).add(src)
    ending = _reach([END], back)
    for name in sorted(nodes - ending):
        problems.append((("nodes", name), f"from node {name!r} no path reaches END"))
    return problems


_FITS: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "integer": frozenset({"integer"}),
    "number": frozenset({"number", "integer"}),
    "boolean": frozenset({"boolean"}),
    "object": frozenset({"object"}),
}
"""Channel type -> the output JSON types a node may write to it whole (an ``array``
channel takes anything: a value that is not a list is written as ``[value]``)."""


def _output_mismatch(spec: Any, state: Mapping[str, Any]) -> str | None:
    """Why a ``{run, writes: key}`` node's declared output cannot go to its channel."""
    if not isinstance(spec, dict) or not isinstance(spec.get("writes"), str):
        return None
    key = spec["writes"]
    wanted = (state.get(key) or {}).get("type")
    if wanted not in _FITS:
        return None
    try:
        declared = spec["run"].get_output_jsonschema().get("type")
    except Exception:  # a runnable that cannot say: nothing to check
        return None
    if isinstance(declared, str) and declared not in _FITS[wanted]:
        return f"writes {key!r} ({wanted}), but its runnable outputs {declared}"
    return None


def raise_problems(title: str, problems: list[Problem]) -> None:
    """Raise them as one pydantic ``ValidationError`` (the loader locates each)."""
    if not problems:
        return
    details = [
        InitErrorDetails(
            type=PydanticCustomError("graph_file", "{problem}", {"problem": message}),
            loc=loc,
            input=None,
        )
        for loc, message in problems
    ]
    raise ValidationError.from_exception_data(title, details)
