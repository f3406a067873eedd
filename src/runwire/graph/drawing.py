"""A compiled graph as a picture: its nodes and edges, drawn as Mermaid.

``CompiledStateGraph.get_graph()`` returns a :class:`Graph` read from the declared
graph (no run, no simulation): static edges, each source of a join, every destination a
conditional edge can name (all nodes and END when the router declares none), and the
``destinations`` of nodes that return ``Command``. ``draw_mermaid`` writes what
LangChain's ``Graph.draw_mermaid`` writes for the same nodes and edges.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runwire.graph.constants import END, START

__all__ = ["Edge", "Graph", "Node", "chain_graph", "graph_of"]

_SAFE_ID = frozenset(string.ascii_letters + string.digits + "_-")
_MARKDOWN = tuple("*_`")
_LABEL_ESCAPES = (
    ("#", "#35;"),  # first: the escapes below contain '#'
    *zip("[](){}\"<>|", ("#91;", "#93;", "#40;", "#41;", "#123;", "#125;", "#quot;",
                          "#60;", "#62;", "#124;"), strict=True),
)  # fmt: skip
_STYLES = (
    ("default", "fill:#f2f0ff,line-height:1.2"),
    ("first", "fill-opacity:0"),
    ("last", "fill:#bfb6fc"),
)


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the picture: its id, its name and what it shows under the name."""

    id: str
    name: str
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, order=True)
class Edge:
    """An edge; ``conditional`` ones are drawn dotted, ``data`` is their label."""

    source: str
    target: str
    data: str | None = None
    conditional: bool = False


@dataclass(slots=True)
class Graph:
    """Nodes by id, in drawing order, and edges sorted by source and target."""

    nodes: dict[str, Node]
    edges: list[Edge]

    def first_node(self) -> Node | None:
        """The one node no edge leads to, if there is exactly one."""
        targets = {e.target for e in self.edges}
        found = [n for n in self.nodes.values() if n.id not in targets]
        return found[0] if len(found) == 1 else None

    def last_node(self) -> Node | None:
        """The one node no edge leaves, if there is exactly one."""
        sources = {e.source for e in self.edges}
        found = [n for n in self.nodes.values() if n.id not in sources]
        return found[0] if len(found) == 1 else None

    def to_json(self) -> dict[str, Any]:
        """``{"nodes": [...], "edges": [...]}`` as plain data."""
        nodes = [
            {"id": n.id, "name": n.name, **({"metadata": n.metadata} if n.metadata else {})}
            for n in self.nodes.values()
        ]
        edges = [
            {
                "source": e.source,
                "target": e.target,
                **({"data": e.data} if e.data is not None else {}),
                **({"conditional": True} if e.conditional else {}),
            }
            for e in self.edges
        ]
        return {"nodes": nodes, "edges": edges}

    def draw_mermaid(
        self,
        *,
        with_styles: bool = True,
        curve_style: str = "linear",
        wrap_label_n_words: int = 9,
    ) -> str:
        """Mermaid flowchart text (paste into any Mermaid renderer)."""
        first, last = self.first_node(), self.last_node()
        shapes = {first.id: "{0}([{1}]):::first"} if first else {}
        if last:
            shapes[last.id] = "{0}([{1}]):::last"
        lines = ["graph TD;"]
        if with_styles:
            lines[:0] = ["---", "config:", "  flowchart:", f"    curve: {curve_style}", "---"]
            lines += [
                "\t" + shapes.get(n.id, "{0}({1})").format(_safe_id(n.id), _label(n))
                for n in self.nodes.values()
            ]
        lines += [f"\t{_edge(e, wrap_label_n_words)};" for e in self.edges]
        if with_styles:
            lines += [f"\tclassDef {name} {style}" for name, style in _STYLES]
        return "\n".join(lines) + "\n"

    def draw_mermaid_png(self, *args: Any, **kwargs: Any) -> bytes:
        """Rendering needs a Mermaid service or a browser: not done by runwire."""
        raise NotImplementedError(
            "draw_mermaid_png is not implemented in runwire: render draw_mermaid()'s text "
            "with any Mermaid tool"
        )

    def draw_ascii(self) -> str:
        """A terminal outline: each node (from the first, breadth first; END last) and
        where it leads, ``─>`` always, ``┄>`` when conditional, with the edge's label."""
        out: dict[str, list[Edge]] = {}
        for edge in self.edges:
            out.setdefault(edge.source, []).append(edge)
        first = self.first_node()
        order = [first.id] if first else []
        for name in [*order, *self.nodes]:
            if name not in order:
                order.append(name)
            for edge in out.get(name, ()):
                if edge.target not in order:
                    order.append(edge.target)
        order.sort(key=lambda name: name == END)  # stable: only END moves, to the end
        lines = []
        for name in order:
            lines.append(name)
            leaving = out.get(name, [])
            for i, edge in enumerate(leaving):
                branch = "└" if i == len(leaving) - 1 else "├"
                arrow = "┄>" if edge.conditional else "─>"
                label = f"  ({edge.data})" if edge.data is not None else ""
                lines.append(f"  {branch}{arrow} {edge.target}{label}")
        return "\n".join(lines) + "\n"


def _safe_id(text: str) -> str:
    return "".join(c if c in _SAFE_ID else f"\\{ord(c):x}" for c in text)


def _label(node: Node) -> str:
    name = node.name
    label = f"<p>{name}</p>" if name.startswith(_MARKDOWN) and name.endswith(_MARKDOWN) else name
    lines = [_escaped(f"{k} = {_shown(v)}") for k, v in (node.metadata or {}).items() if _shown(v)]
    return f"{label}<hr/><small><em>" + "\n".join(lines) + "</em></small>" if lines else label


def _shown(value: Any) -> str | None:
    """A metadata value as text: scalars and flat lists of scalars; else not shown."""
    scalars = (str, int, float, bool)
    if isinstance(value, scalars):
        return str(value)
    if isinstance(value, list | tuple | set) and all(isinstance(v, scalars) for v in value):
        items = [str(v) for v in value]
        return ", ".join(sorted(items) if isinstance(value, set) else items)
    return None


def _escaped(text: str) -> str:
    for char, entity in _LABEL_ESCAPES:
        text = text.replace(char, entity)
    return text


def _edge(edge: Edge, wrap: int) -> str:
    source, target = _safe_id(edge.source), _safe_id(edge.target)
    if edge.data is None:
        return f"{source} {'-.->' if edge.conditional else '-->'} {target}"
    label, words = str(edge.data), str(edge.data).split()
    if len(words) > wrap:
        label = "&nbsp<br>&nbsp".join(
            " ".join(words[i : i + wrap]) for i in range(0, len(words), wrap)
        )
    if edge.conditional:
        return f"{source} -. &nbsp;{label}&nbsp; .-> {target}"
    return f"{source} -- &nbsp;{label}&nbsp; --> {target}"


def graph_of(
    builder: Any, interrupt_before: Iterable[str] = (), interrupt_after: Iterable[str] = ()
) -> Graph:
    """The picture of a ``StateGraph`` (declared nodes, edges and routes)."""
    names = list(builder.nodes)
    edges: set[Edge] = {Edge(src, dst) for src, dst in builder.edges}
    edges.update(Edge(src, dst) for starts, dst in builder.waiting_edges for src in starts)
    for src, branches in builder.branches.items():
        for branch in branches.values():
            ends = branch.ends if branch.ends else {n: n for n in (*names, END)}
            edges.update(
                Edge(src, dst, None if key == dst else str(key), True) for key, dst in ends.items()
            )
    for name, spec in builder.nodes.items():
        edges.update(Edge(name, dst, None, True) for dst in spec.destinations)
    leaving = {e.source for e in edges}
    edges.update(Edge(name, END) for name in names if name not in leaving)  # they end the run
    before, after = set(interrupt_before), set(interrupt_after)
    nodes = {START: Node(START, START)}
    for name, spec in builder.nodes.items():
        metadata = dict(spec.metadata or {})
        stops = [w for w, s in (("before", before), ("after", after)) if name in s or "*" in s]
        if stops:
            metadata["__interrupt"] = ",".join(stops)
        nodes[name] = Node(name, name, metadata or None)
    if any(e.target == END for e in edges):
        nodes[END] = Node(END, END)
    ordered = sorted(edges, key=lambda e: (e.source, e.target, e.conditional, e.data or ""))
    return Graph(nodes, ordered)


def chain_graph(runnable: Any) -> Graph:
    """The picture of a chain, as LangChain draws one: ``<Name>Input``, each step,
    ``<Name>Output``; a sequence in a row, a parallel step fanned out and joined. A name
    used twice gets ``_1``, ``_2``... in drawing order (a graph has its own ``get_graph``)."""
    from runwire.runtime.parallel import RunnableParallel
    from runwire.runtime.sequence import RunnableSequence

    names: list[str] = []  # node k is names[k]
    edges: list[tuple[int, int]] = []

    def add(name: str) -> int:
        names.append(name)
        return len(names) - 1

    def draw(step: Any) -> tuple[list[int], list[int]]:
        """(entry nodes, exit nodes) of ``step``'s part of the picture."""
        if isinstance(step, RunnableSequence):
            parts = [draw(s) for s in step.steps]
            for (_, exits), (entries, _) in itertools.pairwise(parts):
                edges.extend((a, b) for a in exits for b in entries)
            return parts[0][0], parts[-1][1]
        if isinstance(step, RunnableParallel):
            label = "Parallel<" + ",".join(step.steps__) + ">"
            start, end = add(f"{label}Input"), add(f"{label}Output")
            for branch in step.steps__.values():
                entries, exits = draw(branch)
                edges.extend((start, b) for b in entries)
                edges.extend((a, end) for a in exits)
            return [start], [end]
        node = add(step.get_name())
        return [node], [node]

    head, tail = _end_step(runnable, first=True), _end_step(runnable, first=False)
    first = -1 if isinstance(head, RunnableParallel) else add(f"{_end_name(head, True)}Input")
    entries, exits = draw(runnable)
    if first == -1:  # a parallel step's own input node is the chain's
        first = entries[0]
    else:
        edges[:0] = [(first, b) for b in entries]
    if isinstance(tail, RunnableParallel):
        last = exits[0]
    else:
        last = add(f"{_end_name(tail, False)}Output")
        edges.extend((a, last) for a in exits)
    ids, seen = [], {}
    for name in names:
        if names.count(name) == 1:
            ids.append(name)
        else:
            seen[name] = seen.get(name, 0) + 1
            ids.append(f"{name}_{seen[name]}")
    nodes = {ids[k]: Node(ids[k], names[k]) for k in (first, *range(len(names)))}
    nodes[ids[last]] = nodes.pop(ids[last])  # the output node is drawn last
    return Graph(nodes, [Edge(ids[a], ids[b]) for a, b in edges])


def _end_step(runnable: Any, *, first: bool) -> Any:
    """The first (or last) step of a chain, through nested sequences."""
    from runwire.runtime.sequence import RunnableSequence

    step = runnable
    while isinstance(step, RunnableSequence):
        step = step.steps[0 if first else -1]
    return step


def _end_name(step: Any, first: bool) -> str:
    """LangChain's name of a chain's input or output node: the first step's name (a
    prompt's is ``Prompt``) or the last step's."""
    name = str(step.get_name())
    return "Prompt" if first and name.endswith("PromptTemplate") else name
