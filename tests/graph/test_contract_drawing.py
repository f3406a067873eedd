"""Graph contract: ``get_graph()`` and its Mermaid drawing, as LangGraph draws them.

Written against LangGraph's public API through the ``lg`` fixture (see conftest.py).
"""

import operator
import os
from typing import Annotated, Any, TypedDict

import pytest

PEER = os.environ.get("RUNWIRE_GRAPH_PEER", "runwire")


class Items(TypedDict):
    items: Annotated[list, operator.add]


def _noop(state: Any) -> dict:
    return {}


def _routed(lg: Any) -> Any:
    graph = lg.StateGraph(Items)
    for name in "abcd":
        graph.add_node(name, _noop)
    graph.add_edge(lg.START, "a")
    graph.add_conditional_edges("a", lambda s: "b", {"b": "b", "end": lg.END})
    graph.add_edge("b", "c")
    graph.add_edge(["b", "c"], "d")
    graph.add_edge("d", lg.END)
    return graph


def test_mermaid_of_routes_labels_and_joins(lg):
    text = _routed(lg).compile().get_graph().draw_mermaid()
    assert text == (
        "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
        "\t__start__([<p>__start__</p>]):::first\n\ta(a)\n\tb(b)\n\tc(c)\n\td(d)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> a;\n\ta -. &nbsp;end&nbsp; .-> __end__;\n\ta -.-> b;\n"
        "\tb --> c;\n\tb --> d;\n\tc --> d;\n\td --> __end__;\n"
        "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
        "\tclassDef first fill-opacity:0\n\tclassDef last fill:#bfb6fc\n"
    )


def test_mermaid_without_styles_is_the_edges(lg):
    text = _routed(lg).compile().get_graph().draw_mermaid(with_styles=False)
    assert text.splitlines()[:3] == [
        "graph TD;",
        "\t__start__ --> a;",
        "\ta -. &nbsp;end&nbsp; .-> __end__;",
    ]


def test_edges_and_nodes_of_get_graph(lg):
    drawn = _routed(lg).compile().get_graph()
    assert list(drawn.nodes) == ["__start__", "a", "b", "c", "d", "__end__"]
    got = [(e.source, e.target, e.data, e.conditional) for e in drawn.edges]
    assert got == [
        ("__start__", "a", None, False),
        ("a", "__end__", "end", True),
        ("a", "b", None, True),
        ("b", "c", None, False),
        ("b", "d", None, False),
        ("c", "d", None, False),
        ("d", "__end__", None, False),
    ]
    assert drawn.first_node().id == "__start__"
    assert drawn.last_node().id == "__end__"


def test_mermaid_shows_metadata_interrupts_and_escapes_ids(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("a", _noop, metadata={"k": [1, 2], "skipped": {"x": 1}})
    graph.add_node("b*", _noop)
    graph.add_edge(lg.START, "a")
    graph.add_edge("a", "b*")
    graph.add_edge("b*", lg.END)
    app = graph.compile(interrupt_before=["b*"], interrupt_after=["a"])
    lines = app.get_graph().draw_mermaid().splitlines()
    assert "\ta(a<hr/><small><em>k = 1, 2" in lines
    assert "__interrupt = after</em></small>)" in lines
    assert "\tb\\2a(b*<hr/><small><em>__interrupt = before</em></small>)" in lines
    assert "\ta --> b\\2a;" in lines


@pytest.mark.skipif(PEER != "runwire", reason="runwire's choices where LangGraph draws less")
def test_a_router_without_declared_destinations_may_go_anywhere(lg):
    graph = lg.StateGraph(Items)
    graph.add_node("x", _noop)
    graph.add_conditional_edges(lg.START, lambda s: "x")
    drawn = graph.compile().get_graph()
    got = {(e.source, e.target, e.conditional) for e in drawn.edges}
    # LangGraph draws only START -> END here; runwire draws every place the router may name
    assert got == {
        ("__start__", "x", True),
        ("__start__", "__end__", True),
        ("x", "__end__", False),
    }
    with pytest.raises(NotImplementedError, match="xray"):
        graph.compile().get_graph(xray=True)
    with pytest.raises(NotImplementedError, match="draw_mermaid"):
        drawn.draw_mermaid_png()
    assert drawn.draw_ascii() == ("__start__\n  ├┄> __end__\n  └┄> x\nx\n  └─> __end__\n__end__\n")
