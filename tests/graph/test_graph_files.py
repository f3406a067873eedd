"""Graphs as files: the ``StateGraph`` component loaded from YAML, run, dumped, loaded again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import runwire
from runwire.errors import ManifestError
from runwire.graph.checkpoint import InMemorySaver
from runwire.graph.files import StateGraph

AGENT = """\
_type: StateGraph
name: counter
state:
  messages: {type: array, reducer: add_messages}
  question: {type: string}
  attempts: {type: integer, default: 0, reducer: add}
input: [question]
output: [messages, attempts]
nodes:
  agent:
    reads: {question: question}
    writes: messages
    run:
      _type: sequence
      steps:
        - _type: ChatPromptTemplate
          messages: [[human, "{question}"]]
        - _type: FakeChatModel
          responses: [first, second, third]
  count:
    reads: attempts
    writes: attempts
    run: {_type: RunnablePassthrough}
edges:
  - [START, agent]
  - [agent, count]
routes:
  count:
    - when: "length(messages) < `2`"
      to: agent
    - to: END
"""


def _load(tmp_path: Path, text: str, name: str = "graph.yaml") -> Any:
    (tmp_path / "runwire.yaml").write_text("")
    path = tmp_path / name
    path.write_text(text)
    return runwire.load_file(path, root=tmp_path)


def _contents(messages: list[Any]) -> list[str]:
    return [m.content for m in messages]


def test_a_graph_file_loads_and_runs_its_routes(tmp_path: Path) -> None:
    graph = _load(tmp_path, AGENT)
    assert isinstance(graph, StateGraph)
    out = graph.invoke({"question": "hi?"})
    # agent runs, count routes back once (one message), then ends with two
    assert _contents(out["messages"]) == ["first", "second"]
    # count read the unset key as its default (0) and added it: still 0
    assert out["attempts"] == 0


def test_the_wire_form_round_trips(tmp_path: Path) -> None:
    graph = _load(tmp_path, AGENT)
    text = runwire.dumps(graph)
    again = runwire.loads(text, allowed_objects="all")
    assert runwire.dumps(again) == text
    assert _contents(again.invoke({"question": "x"})["messages"]) == ["first", "second"]


FAN_OUT = """\
_type: StateGraph
state:
  topics: {type: array}
  notes: {type: array, reducer: add}
nodes:
  write:
    writes: notes
    run: {_type: RunnablePick, keys: topic}
  done:
    writes: notes
    run: {_type: RunnablePick, keys: missing_key}
edges:
  - [write, done]
routes:
  START:
    - send: {to: write, each: "topics[].{topic: @}"}
"""


def test_send_fans_out_one_task_per_item(tmp_path: Path) -> None:
    graph = _load(tmp_path, FAN_OUT)
    out = graph.invoke({"topics": ["a", "b", "c"]})
    # each Send writes its topic; "done" runs once after all of them and writes [None]
    assert out == {"topics": ["a", "b", "c"], "notes": ["a", "b", "c", None]}


NESTED = """\
_type: StateGraph
state:
  notes: {type: array, reducer: add}
nodes:
  inner:
    _type: StateGraph
    state:
      notes: {type: array, reducer: add}
    nodes:
      echo: {reads: notes, writes: notes, run: {_type: RunnablePassthrough}}
    edges: [[START, echo]]
edges: [[START, inner]]
interrupt_before: [inner]
"""


def test_a_subgraph_node_and_an_interrupt_with_a_checkpointer(tmp_path: Path) -> None:
    component = _load(tmp_path, NESTED)
    app = component.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    assert app.invoke({"notes": ["x"]}, config) == {"notes": ["x"]}
    assert app.get_state(config).next == ("inner",)
    # echo adds the subgraph's notes to themselves (['x', 'x']), and the subgraph's whole
    # state is its update to the parent's notes: ['x'] + ['x', 'x']
    assert app.invoke(None, config) == {"notes": ["x", "x", "x"]}


def test_streams_and_async_run_the_compiled_graph(tmp_path: Path) -> None:
    graph = _load(tmp_path, AGENT)
    updates = list(graph.stream({"question": "q"}, stream_mode="updates"))
    assert [next(iter(u)) for u in updates] == ["agent", "count", "agent", "count"]

    fresh = _load(tmp_path, AGENT, "again.yaml")  # the fake model's replies go on cycling

    async def run() -> Any:
        return await fresh.ainvoke({"question": "q"})

    assert _contents(asyncio.run(run())["messages"]) == ["first", "second"]
    schema = graph.get_input_jsonschema()
    assert list(schema["properties"]) == ["question"]
    assert "count -. &nbsp;agent" not in graph.get_graph().draw_mermaid()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"state": {"n": {"type": "integer", "reducer": "multiply"}}}, "'add_messages', 'add'"),
        ({"routes": {"a": [{"when": "messages[", "to": "END"}]}}, "JMESPath"),
        ({"routes": {"a": [{"to": "END", "send": {"to": "a", "each": "x"}}]}}, "exactly one"),
        ({"edges": [["START", "a"], ["a", "nowhere"]]}, r"\$\.edges\[1\].*'nowhere' is not a node"),
        ({"input": ["missing"]}, r"\$\.input\[0\].*'missing' is not a state key"),
        (
            {"nodes": {"a": {"run": {"_type": "RunnablePassthrough"}, "writes": "zz"}}},
            r"\$\.nodes\.a\.writes.*'zz' is not a state key",
        ),
        ({"routes": {"a": [{"to": "ghost"}]}}, r"\$\.routes\.a\[0\].*'ghost' is not a node"),
        ({"routes": {"ghost": [{"to": "END"}]}}, r"\$\.routes\.ghost.*'ghost' is not a node"),
        ({"interrupt_before": ["b"]}, r"\$\.interrupt_before\[0\]"),
        (
            {"nodes": {"a": {"run": {"_type": "StrOutputParser"}, "writes": "n"}}},
            r"\$\.nodes\.a\.writes.*writes 'n' \(integer\), but its runnable outputs string",
        ),
        (
            {
                "nodes": {
                    "a": {"_type": "RunnablePassthrough"},
                    "b": {"_type": "RunnablePassthrough"},
                }
            },
            r"\$\.nodes\.b.*not reachable from START",
        ),
        (
            {
                "nodes": {
                    "a": {"_type": "RunnablePassthrough"},
                    "b": {"_type": "RunnablePassthrough"},
                },
                "edges": [["START", "a"], ["a", "b"], ["b", "a"]],
            },
            r"\$\.nodes\.a.*no path reaches END",
        ),
        ({"nodes": {"a": {"run": {"_type": "RunnablePassthrough"}, "x": 1}}}, "Extra inputs"),
    ],
)
def test_bad_graph_files_are_clear_errors(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    doc: dict[str, Any] = {
        "_type": "StateGraph",
        "state": {"n": {"type": "integer"}},
        "nodes": {"a": {"run": {"_type": "RunnablePassthrough"}}},
        "edges": [["START", "a"]],
    }
    doc.update(change)
    with pytest.raises(ManifestError, match=message):
        _load(tmp_path, json.dumps(doc))  # JSON is YAML too


def test_the_docs_graph_file_example_loads_and_runs(tmp_path: Path) -> None:
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "graph.md").read_text()
    (block,) = re.findall(r"```yaml\n(# graph-file example.*?)```", doc, flags=re.S)
    graph = _load(tmp_path, block)
    out = graph.invoke({"topic": "owls"})
    assert _contents(out["messages"]) == ["first draft", "second draft"]
    assert set(out) == {"messages"}


def test_yaml_to_wire_to_compact_yaml_and_back_is_the_same_graph(tmp_path: Path) -> None:
    from runwire.loader.rewrite import format_text

    graph = _load(tmp_path, AGENT)
    wire = runwire.dumps(graph, pretty=True, sort_keys=True)
    compact = format_text(wire, yaml=True, mode="compact")
    assert compact.startswith("_type: StateGraph\n")
    again = _load(tmp_path, compact, "compact.yaml")
    assert runwire.dumps(again, pretty=True, sort_keys=True) == wire
